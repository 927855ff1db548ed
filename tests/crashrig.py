"""A rig for crash tests: `monitor run` processes SIGKILLed at chosen moments, against a feed server, the
fake Slack and a real store, counting each article's alerts (tests/integration/test_crash.py, bench/crash.py).

with CrashRig(tmp, store="redis", redis_url=url) as rig:
    rig.add_article("a1", hold=True)    # its page is held until released: the process waits on it
    run = rig.start()
    run.wait_for_event("feed.polled")   # ... and SIGKILL it at that moment
    run.kill()
    rig.release("a1")
    final = rig.start()
    rig.wait_for_alerts()               # every article alerted; rig.alerts() counts them

The moments: `crash_after_parse`, `crash_during_fetch`, `crash_during_extraction` (the extraction workers
are frozen with SIGSTOP, so the service is certainly waiting for them) and `crash_at_decision` (the
service's test hook MONITOR_CRASH_POINT=decided stops it between the decisions and the enqueue); and
`crash_loop`, process after process killed while one entry is in flight.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from monitor.crashpoint import ENV as CRASH_POINT_ENV
from tests.fakeslack import FakeSlack, fake_slack
from tests.httpserver import HttpServer, Item, Reply, Seen, rss

TOKEN = "xoxb-crash-test-token"
CHANNEL = "#crash"
RULE = "id: crash-test\ntitle: Crash test\nwhen:\n  any: [crashword]\nalert:\n  channels: ['#crash']\n"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
# Words for the articles' text: each article draws its own, so that no two are copies of one story.
VOCABULARY = """
harbour council budget railway minister election river treaty farmers festival bridge inquiry court summit
drought museum strike vaccine airport border energy factory school ferry tariff orchestra glacier mayor
satellite harvest parliament protest reactor stadium tunnel union volcano wildfire archive ballot canal census
charter coalition convoy delegate embassy envoy famine fishery garrison governor hospital island journal kingdom
ledger library lighthouse market monastery navy observatory
""".split()  # noqa: SIM905 (a paragraph reads better than a list of strings)


def article_text(slug: str, words: int = 160) -> str:
    rng = random.Random(slug)
    body = " ".join(rng.choice(VOCABULARY) for _ in range(words))
    return f"The crashword report {slug} says: {body}."


class Running:
    """One `monitor run` process, its log in a file."""

    def __init__(self, rig: CrashRig, name: str, env: dict[str, str]) -> None:
        self.log_path = rig.tmp / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", str(rig.config)],
                cwd=rig.tmp,
                env={**rig.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines so far; a line the SIGKILL cut short, or that is still being written, is left out."""
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        found = []
        for line in lines:
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    found.append(json.loads(line))
        return found

    def wait_for_event(self, test: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if test(e)]
            if found:
                return found[0]
            if self.process.poll() is not None:
                raise AssertionError(f"the service exited:\n{self.log_path.read_text()}")
            time.sleep(0.02)
        raise AssertionError(f"no such event in {timeout} s:\n{self.log_path.read_text()}")

    def descendants(self) -> list[int]:
        """The service's child processes and theirs (the extraction workers and their fork server)."""
        parents: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
        found: list[int] = []
        todo = [self.process.pid]
        while todo:
            children = parents.get(todo.pop(), [])
            found += children
            todo += children
        return found

    def freeze_children(self) -> None:
        for pid in self.descendants():
            _signal(pid, signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL the service and every process it started (as an OOM kill or a node loss would)."""
        children = self.descendants()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pid in children:
            _signal(pid, signal.SIGKILL)

    def stop(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
        os.kill(pid, signum)


class CrashRig:
    """A feed of articles (pages that can be held), the fake Slack, a store, and `monitor run` processes.

    Args:
        tmp: a fresh directory for the config, rules, feeds file, logs and the SQLite file.
        store: "sqlite" or "redis" (then `redis_url` names the server; a key prefix of its own is used).
        lease: the entry lease (short: a killed process's entries are taken up soon).
        grouper: the story grouper (`events` loads the embedding model at each start, `copies` does not).
    """

    def __init__(
        self, tmp: Path, store: str, redis_url: str | None = None, lease: str = "1s", grouper: str = "events"
    ) -> None:
        self.tmp = tmp
        self.grouper = grouper
        self.store_url = f"sqlite:{tmp / 'state.db'}" if store == "sqlite" else str(redis_url)
        self.lease = lease
        self.items: list[Item] = []
        self.gates: dict[str, threading.Event] = {}
        self.served: dict[str, threading.Event] = {}
        self._server: HttpServer | None = None
        self._slack_context: Any = None
        self.slack: FakeSlack | None = None
        self.runs = 0
        self.started: list[Running] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL", "MONITOR_"))}
        self.env.update({"SLACK_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"})
        self.config = tmp / "monitor.yaml"

    def __enter__(self) -> CrashRig:
        self._server = HttpServer().__enter__()
        self._slack_context = fake_slack(TOKEN)
        self.slack = self._slack_context.__enter__()
        self.env["SLACK_API_URL"] = self.slack.url
        rules = self.tmp / "rules"
        rules.mkdir(parents=True, exist_ok=True)
        (rules / "crash.yaml").write_text(RULE, encoding="utf-8")
        feeds = f"feeds:\n  - url: {self.server.url('/feed.xml')}\n    name: Crash feed\n    interval: 1s\n"
        (self.tmp / "feeds.yaml").write_text(feeds, encoding="utf-8")
        # One replica restarting: the same name, so that its outbox consumer takes up its own pending alerts.
        self.config.write_text(
            f"rules: rules\nfeeds: feeds.yaml\nstore: {self.store_url}\n"
            f"store_prefix: 'crash-{uuid.uuid4().hex[:8]}:'\nreplica: crash-test\nentry_lease: {self.lease}\n"
            "slack:\n  default_channel: '#crash'\n  pace: 0.02\nmetrics:\n  listen: null\n"
            "http:\n  allow_networks: ['127.0.0.0/8']\nextract:\n  workers: 1\nshutdown_grace: 10s\n"
            f"stories:\n  grouper: {self.grouper}\n",
            encoding="utf-8",
        )
        self._publish()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for gate in self.gates.values():
            gate.set()
        # A failed wait leaves its process running: it would go on loading the machine for the next tests.
        for run in self.started:
            if run.process.poll() is None:  # not reaped yet: its pid and its children's are still its own
                run.kill()
        if self._slack_context is not None:
            self._slack_context.__exit__(exc_type, exc, tb)
        if self._server is not None:
            self._server.__exit__(exc_type, exc, tb)

    @property
    def server(self) -> HttpServer:
        assert self._server is not None
        return self._server

    def _publish(self) -> None:
        self.server.route("/feed.xml", Reply(body=rss(self.items, "Crash feed").encode(), headers=RSS))

    def add_article(self, slug: str, hold: bool = False, delay: float = 0.0) -> None:
        """A new entry in the feed; with `hold`, its page is answered only once `release(slug)`, and
        then after `delay` seconds."""
        gate = self.gates[slug] = threading.Event()
        served = self.served[slug] = threading.Event()
        if not hold:
            gate.set()
        text = article_text(slug)
        page = (
            f"<html><head><title>Crashword {slug}</title></head><body><article><h1>Crashword {slug}</h1>"
            f"<p>{text}</p><p>{article_text(slug + '-more')}</p></article></body></html>"
        ).encode()

        def answer(seen: Seen) -> Reply:
            gate.wait(60)
            threading.Timer(delay + 0.05, served.set).start()  # the reply is written right after this returns
            return Reply(body=page, headers=HTML, delay=delay)

        self.server.route(f"/articles/{slug}.html", answer)
        self.items.append(Item(f"Crashword {slug}", self.server.url(f"/articles/{slug}.html"), text[:300], guid=slug))
        self._publish()

    def release(self, slug: str) -> None:
        self.gates[slug].set()

    def requested(self, slug: str) -> bool:
        return bool(self.server.seen(f"/articles/{slug}.html"))

    def start(self, **env: str) -> Running:
        self.runs += 1
        run = Running(self, f"run-{self.runs}", env)
        self.started.append(run)
        return run

    def alerts(self) -> dict[str, int]:
        """For each article, how many messages mention it (top-level and replies)."""
        assert self.slack is not None
        counts = {item.guid or "": 0 for item in self.items}
        for message in self.slack.posted():
            text = message.text + json.dumps(message.blocks)
            for slug in counts:
                if f"Crashword {slug}" in text:
                    counts[slug] += 1
        return counts

    def wait_for_alerts(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while min(self.alerts().values(), default=1) == 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"not every article alerted in {timeout} s: {self.alerts()}")
            time.sleep(0.1)

    # The moments ---------------------------------------------------------------------------------

    def _held_page(self, slug: str) -> Running:
        """A run started with a new article whose page is held: the process polls, then waits on it."""
        self.add_article(slug, hold=True)
        return self.start()

    def crash_after_parse(self, slug: str) -> Running:
        """Killed once the poll that found `slug` has claimed it and saved the feed's state."""
        run = self._held_page(slug)
        run.wait_for_event(lambda e: e.get("event") == "feed.polled" and int(e.get("new") or 0) >= 1)
        run.kill()
        self.release(slug)
        return run

    def crash_during_fetch(self, slug: str) -> Running:
        """Killed while the page of `slug` is being fetched (the server holds its answer)."""
        run = self._held_page(slug)
        _wait(lambda: self.requested(slug), run)
        run.kill()
        self.release(slug)
        return run

    def crash_during_extraction(self, slug: str) -> Running:
        """Killed while the page of `slug` is being extracted (its worker frozen before it got the page)."""
        run = self._held_page(slug)
        _wait(lambda: self.requested(slug), run)
        run.freeze_children()
        self.release(slug)
        _wait(self.served[slug].is_set, run)
        time.sleep(0.3)  # the body is read and sent to the frozen worker
        run.kill()
        return run

    def crash_loop(self, slug: str, kills: int) -> list[Running]:
        """A crash loop (a broken deploy, a flapping node): `kills` processes in a row, each killed while
        it fetches the page of `slug`, which is held all along, so that each takes the entry over from
        the last. A process that gives the entry up instead (`entry.abandoned`) is the last one killed."""
        self.add_article(slug, hold=True)
        page = f"/articles/{slug}.html"
        runs = []
        for _ in range(kills):
            asked = len(self.server.seen(page))
            run = self.start()
            _wait(functools.partial(self._asked_again, page, asked, run), run, 60)
            run.kill()
            runs.append(run)
            if len(self.server.seen(page)) == asked:  # given up: no process will work on it again
                break
        self.release(slug)
        return runs

    def _asked_again(self, page: str, asked: int, run: Running) -> bool:
        """`page` was requested once more than `asked` times, or `run` gave its entry up."""
        given_up = any(e.get("event") == "entry.abandoned" for e in run.events())
        return len(self.server.seen(page)) > asked or given_up

    def crash_at_decision(self, slug: str) -> Running:
        """Killed between the alert decisions of a Document and the enqueue of its alerts."""
        self.add_article(slug)
        run = self.start(**{CRASH_POINT_ENV: "decided"})
        run.wait_for_event(lambda e: e.get("event") == "crashpoint.reached")
        run.kill()
        return run


def _wait(condition: Callable[[], bool], run: Running, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out:\n{run.log_path.read_text()}")
        if run.process.poll() is not None:
            raise AssertionError(f"the service exited:\n{run.log_path.read_text()}")
        time.sleep(0.01)
