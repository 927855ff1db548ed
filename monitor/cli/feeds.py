"""`monitor feeds`: check a feeds file, poll one feed for debugging, show each feed's health, bring
feeds in (OPML import, discovery) and take them out (OPML export)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import structlog

from monitor.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    config_option,
    exit_invalid,
    load_config_or_exit,
    load_deployment,
    store_option,
    warn,
)
from monitor.config import load_config, with_feeds
from monitor.errors import FeedsFileError, ValidationError
from monitor.ingest.discover import Discovery, DiscoveryError, discover
from monitor.ingest.feedsfile import FeedConfig, http_host, load_feeds
from monitor.ingest.http import Allowed, HttpClient, HttpSettings
from monitor.ingest.kinds import DEFAULT as DEFAULT_KIND
from monitor.ingest.kinds import KINDS
from monitor.ingest.opml import OpmlError, OpmlFeed, read_opml, write_opml
from monitor.ingest.poll import FeedState
from monitor.ingest.scheduler import FeedOutcome, Ingestor, IngestSettings
from monitor.ingest.subscribe import add_feeds
from monitor.store import SQLiteStore, redact_url
from monitor.yamlfile import replace_file

DEFAULT_FEEDS = os.environ.get("MONITOR_FEEDS", "feeds.yaml")


@click.group()
def feeds() -> None:
    """Check the feeds file, bring feeds in and out, see how every feed is doing.

    \b
    Example:
      monitor feeds check deploy/feeds.example.yaml
      monitor feeds poll https://feeds.bbci.co.uk/news/world/rss.xml
      monitor feeds status --config /etc/monitor/monitor.yaml
      monitor feeds import subscriptions.opml --feeds feeds.yaml
      monitor feeds export -o subscriptions.opml
      monitor feeds discover https://www.theguardian.com/world
    """


@feeds.command()
@click.argument("file", default=DEFAULT_FEEDS, type=click.Path(path_type=Path))
def check(file: Path) -> None:
    """Validate a feeds file (default: $MONITOR_FEEDS or feeds.yaml); every problem as FILE:LINE: message.

    \b
    Example:
      monitor feeds check deploy/feeds.example.yaml
    """
    try:
        loaded = load_feeds(file)
    except FeedsFileError as exc:
        exit_invalid(exc, str(file))
    auto = sum(f.auto for f in loaded.feeds)
    click.echo(f"ok: {len(loaded.feeds)} feed(s) in {file} ({auto} with an adaptive interval)")


@feeds.command()
@click.argument("url")
@click.option("--full-text/--no-full-text", default=True, show_default=True, help="Fetch and extract article pages.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per request.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow the feed's own host and port although private (a feed on your own machine), and no other.",
)
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    default=DEFAULT_KIND,
    show_default=True,
    help="How the feed is read, as its `kind:` in the feeds file.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def poll(url: str, full_text: bool, timeout: float, allow_private: bool, kind: str, fmt: str) -> None:
    """Poll one feed once and show what would be ingested (nothing is kept: the store is thrown away).

    \b
    Example:
      monitor feeds poll https://www.theguardian.com/world/rss
      monitor feeds poll --no-full-text --format json https://rss.dw.com/rdf/rss-en-world
      monitor feeds poll --kind news-sitemap https://www.example.com/news-sitemap.xml
    """
    host = http_host(url)
    if host is None:
        click.echo(f"error: {url!r} is not an http or https URL", err=True)
        sys.exit(EXIT_USAGE)
    allow = _own_host(url) if allow_private else ()
    feed = FeedConfig(url=url, name=host, full_text=full_text, kind=kind, allow_networks=allow)
    http = HttpSettings(timeout=timeout)
    # Everything a recorded Document would hold, the page's byline and date included.
    settings = IngestSettings(http=http, page_time_limit=max(timeout, 5.0), search_page_body=True)
    # The poll's own failure or warning is printed below as the result: not logged as well.
    structlog.configure(processors=[_not_the_result, *structlog.get_config()["processors"]])
    outcome = asyncio.run(_poll_once(feed, settings))
    result = outcome.poll
    if result.error:
        click.echo(f"error: {url}: {result.error}", err=True)
        sys.exit(EXIT_FAILED)
    if result.problem:
        click.echo(f"warning: {url}: {result.problem}", err=True)
    pages = {d.id: d for d in outcome.documents}
    for entry in result.entries:
        doc = pages.get(entry.doc.id, entry.doc)
        if fmt == "json":
            record = {"new": entry.new, "chars": len(doc.text), **doc.to_record()}
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            published = doc.published.strftime("%Y-%m-%d %H:%M") if doc.published else "-"
            state = "new " if entry.new else "seen"
            length = f"{len(doc.text):>6} chars"
            click.echo(f"{state}  {length}  {doc.content_from:<7}  {published}  {doc.title[:60]}  {doc.url or ''}")
    if fmt == "text":
        new = sum(e.new for e in result.entries)
        click.echo(f"{len(result.entries)} entries, {new} new, HTTP {result.status}")


def _own_host(url: str) -> tuple[str, ...]:
    """The addresses the feed's host resolves to, on the feed's port: what --allow-private opens."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        click.echo(f"error: {url}: cannot resolve {parts.hostname}: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    addresses = dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos)
    return tuple(f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in addresses)


def _not_the_result(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if event.get("event") in ("feed.failed", "feed.malformed"):
        raise structlog.DropEvent
    return event


async def _poll_once(feed: FeedConfig, settings: IngestSettings) -> FeedOutcome:
    async with Ingestor([feed], SQLiteStore(":memory:"), settings, lambda doc, attempt: None) as ingestor:
        (outcome,) = await ingestor.poll_all()
        return outcome


@feeds.command()
@config_option
@store_option
@click.option(
    "--feeds",
    "feeds_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Also list this file's feeds that were never polled (default: the config's feeds, with --config).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(config_path: Path | None, store_url: str | None, feeds_file: Path | None, fmt: str) -> None:
    """Each feed's last success, last error, backoff and entries per day, from the service's store.

    The store is found as `monitor run` finds it: --store, else REDIS_URL, else the config's
    'store' (--config or MONITOR_CONFIG), else sqlite:monitor.db.

    \b
    Example:
      monitor feeds status --config /etc/monitor/monitor.yaml
      monitor feeds status --store redis://localhost:6379/0 --format json
    """
    deployment = load_deployment(config_path, store_url)
    states = deployment.read(lambda store: store.all_feed_states())
    listed: tuple[FeedConfig, ...] = ()
    if feeds_file is not None:
        try:
            listed = load_feeds(feeds_file).feeds
        except FeedsFileError as exc:
            exit_invalid(exc, str(feeds_file))
    elif deployment.config.path is not None:
        try:
            listed = with_feeds(deployment.config).feeds
        except ValidationError as exc:
            # The store's own states are what was asked for; the config's feeds only add those never polled.
            for error in exc.errors:
                warn(f"{error} (feeds never polled are not listed)")
    now = time.time()
    # A feed of the file without state has never been polled: it shows as such.
    for feed in listed:
        states.setdefault(feed.url, FeedState(name=feed.name).to_dict())
    rows = sorted((url, FeedState.from_dict(data)) for url, data in states.items())
    if fmt == "json":
        for url, state in rows:
            click.echo(
                json.dumps({"url": url, "entries_per_day": round(state.entries_per_day(now), 1), **state.to_dict()})
            )
        return
    if not rows:
        click.echo(f"no feed has been polled yet ({redact_url(deployment.store)})")
        return
    click.echo(f"{'feed':<28} {'last success':<17} {'failures':>8} {'backoff':>8} {'per day':>7}  last error")
    for url, state in rows:
        name = (state.name or url)[:28]
        backoff = _duration(state.backoff) if state.failures else "-"
        error = state.last_error or "-"
        if state.last_error_at:
            error = f"{error} ({_when(state.last_error_at)})"
        stale = "  STALE" if state.stale else ""
        click.echo(
            f"{name:<28} {_when(state.last_success):<17} {state.failures:>8} {backoff:>8} "
            f"{state.entries_per_day(now):>7.1f}  {error}{stale}"
        )


def _when(moment: float | None) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M") if moment else "never"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"


# Bringing feeds in and out: OPML import and export ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FeedsTarget:
    """The YAML file whose `feeds:` list is edited or read, its feeds, and the loader that checks it."""

    path: Path
    feeds: tuple[FeedConfig, ...]
    check: Callable[[Path], object]


def _feeds_file_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--feeds",
        "feeds_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Feeds file (default: the config's, with --config / $MONITOR_CONFIG; else $MONITOR_FEEDS or feeds.yaml).",
    )(command)


def _feeds_target(feeds_file: Path | None, config_path: Path | None, must_exist: bool) -> _FeedsTarget:
    """The feeds file named by --feeds, else the config's (its own file when it lists feeds inline),
    else $MONITOR_FEEDS or feeds.yaml; exits 2 with every problem when it does not load."""
    if feeds_file is None and config_path is not None:
        config = load_config_or_exit(config_path)
        if config.feeds_path is None:  # the config lists its feeds inline: they are edited there
            return _FeedsTarget(config_path, config.feeds, lambda p: load_config(p, feeds=False))
        feeds_file = config.feeds_path
    path = feeds_file if feeds_file is not None else Path(DEFAULT_FEEDS)
    if not path.exists():
        if must_exist:
            click.echo(f"error: no feeds file at {path}: name it with --feeds FILE or --config FILE", err=True)
            sys.exit(EXIT_USAGE)
        if not path.parent.is_dir():
            click.echo(f"error: {path}: directory {path.parent} does not exist", err=True)
            sys.exit(EXIT_USAGE)
        return _FeedsTarget(path, (), load_feeds)
    try:
        loaded = load_feeds(path)
    except FeedsFileError as exc:
        exit_invalid(exc, str(path))
    return _FeedsTarget(path, loaded.feeds, load_feeds)


@feeds.command("import")
@click.argument("opml_file", metavar="FILE.opml", type=click.Path(path_type=Path, dir_okay=False))
@_feeds_file_option
@config_option
@click.option("--dry-run", is_flag=True, help="Show the change to the feeds file as a diff; write nothing.")
def import_(opml_file: Path, feeds_file: Path | None, config_path: Path | None, dry_run: bool) -> None:
    """Add the feeds of an OPML file (a feed reader's export) to the feeds file.

    Each feed goes at the end of the feeds list with its name, site (htmlUrl), language and tags
    (the folders it sits in, then its categories); the file's comments and order stay. A feed the
    file has already (the same URL, http or https, any case of host) is skipped and reported.
    An outline that is no feed (no xmlUrl, a URL that is not http or https) is reported as
    FILE:LINE: message and left out; the others are added. A file that is not well-formed OPML
    changes nothing.

    \b
    Exit status: 0 every feed added or there already; 1 added, but some outlines were reported;
    2 nothing written (the OPML or the feeds file is broken, or no such file).

    \b
    Example:
      monitor feeds import subscriptions.opml
      monitor feeds import --dry-run subscriptions.opml --feeds deploy/feeds.yaml
    """
    try:
        listed = read_opml(opml_file, KINDS)
    except OpmlError as exc:
        click.echo(f"error: {exc} (nothing written)", err=True)
        sys.exit(EXIT_USAGE)
    target = _feeds_target(feeds_file, config_path, must_exist=False)
    for problem in listed.problems:
        click.echo(problem, err=True)
    _apply(target, listed.feeds, str(opml_file), dry_run, len(listed.problems))


def _apply(target: _FeedsTarget, found: Sequence[OpmlFeed], source: str, dry_run: bool, reported: int) -> None:
    """Add `found` to the target file (or show the diff), print what was done, and exit."""
    edit = add_feeds(target.path, target.feeds, found, source)
    for added in edit.added:
        renamed = f" (renamed: {added.feed.name!r} is taken)" if added.renamed else ""
        click.echo(f"add   {added.name or http_host(added.feed.url)}  {added.feed.url}{renamed}")
    for skipped in edit.skipped:
        click.echo(f"skip  {skipped.feed.url}  (already in {skipped.where})")
    if dry_run:
        click.echo(edit.diff(), nl=False)
    elif edit.added:
        try:
            edit.write(target.check)
        except ValidationError as exc:
            exit_invalid(exc, f"{target.path} as edited (nothing written)")
        except OSError as exc:
            click.echo(f"error: cannot write {target.path}: {exc.strerror or exc} (nothing written)", err=True)
            sys.exit(EXIT_USAGE)
    outcome = "would add" if dry_run else "added"
    summary = f"{target.path}: {outcome} {len(edit.added)} feed(s), {len(edit.skipped)} already there"
    if reported:
        summary += f", {reported} outline(s) reported"
    click.echo(summary + (" (dry run: nothing written)" if dry_run else ""))
    sys.exit(EXIT_FAILED if reported else EXIT_OK)


@feeds.command()
@_feeds_file_option
@config_option
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write here (default: stdout).")
def export(feeds_file: Path | None, config_path: Path | None, output: Path | None) -> None:
    """Write the feeds file's feeds as OPML 2.0, for a feed reader or another deployment.

    Each feed is an outline with its name, URL (xmlUrl), site (htmlUrl) and language, in a folder
    of its first tag, its other tags as its category, and its kind when it is not RSS/Atom:
    `monitor feeds import` reads all of it back. Polling settings (interval, headers,
    allow_networks, full_text) are not part of OPML and stay in the feeds file.

    \b
    Example:
      monitor feeds export -o subscriptions.opml
      monitor feeds export --config /etc/monitor/monitor.yaml > subscriptions.opml
    """
    target = _feeds_target(feeds_file, config_path, must_exist=True)
    document = write_opml(target.feeds, f"monitor feeds ({target.path.name})")
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    try:
        replace_file(output, document.decode("utf-8"))
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{output}: {len(target.feeds)} feed(s) from {target.path}", err=True)


@feeds.command("discover")
@click.argument("url")
@click.option(
    "--add", is_flag=True, help="Add the feeds found to the feeds file, as `feeds import` adds an OPML file's."
)
@_feeds_file_option
@config_option
@click.option("--dry-run", is_flag=True, help="With --add: show the change to the feeds file as a diff; write nothing.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per request.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow the site's own host and port although private (a site on your own machine), and no other.",
)
def discover_(
    url: str,
    add: bool,
    feeds_file: Path | None,
    config_path: Path | None,
    dry_run: bool,
    timeout: float,
    allow_private: bool,
) -> None:
    """The feeds a site declares or links, each with its title and kind; --add puts them in the feeds file.

    The page's <link rel="alternate"> feeds (RSS, Atom, JSON Feed) are taken, else its links that
    look like feeds, else the paths sites commonly serve feeds at (/feed, /rss.xml, /atom.xml,
    /feed.json ...); each is fetched and read before it is listed. At most 25 candidates of a page
    are checked. Fetching follows the service's rules: private addresses are refused (but for
    --allow-private), 10 MB and 20s at most per request.

    \b
    Exit status: 0 feeds found (and, with --add, added or already there); 1 none found, or the
    page could not be fetched; 2 a usage error (not an http URL, a broken feeds file).

    \b
    Example:
      monitor feeds discover https://www.theguardian.com/world
      monitor feeds discover --add https://www.france24.com/en/ --feeds deploy/feeds.yaml
    """
    if http_host(url) is None:
        click.echo(f"error: {url!r} is not an http or https URL", err=True)
        sys.exit(EXIT_USAGE)
    target = _feeds_target(feeds_file, config_path, must_exist=False) if add else None
    settings = HttpSettings(timeout=timeout)
    allow = tuple(Allowed.parse(a) for a in _own_host(url)) if allow_private else ()
    try:
        found = asyncio.run(_discover(url, settings, allow))
    except DiscoveryError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    for problem in found.problems:
        warn(problem)
    if not found.feeds:
        where = "declares, links or serves at a common path" if found.probed else "links that can be read"
        click.echo(f"no feed found: {found.page} has no feed it {where}", err=True)
        sys.exit(EXIT_FAILED)
    if target is None:
        for feed in found.feeds:
            click.echo(f"{feed.format:<12}  {feed.title or '-'}  {feed.url}")
        return
    site = f"{urlsplit(found.page).scheme}://{urlsplit(found.page).netloc}/"
    additions = [
        OpmlFeed(url=f.url, name=f.title, site=site, kind=None if f.kind == DEFAULT_KIND else f.kind)
        for f in found.feeds
    ]
    _apply(target, additions, found.page, dry_run, 0)


async def _discover(url: str, settings: HttpSettings, allow: tuple[Allowed, ...]) -> Discovery:
    async with HttpClient(settings) as client:
        return await discover(url, client, allow)
