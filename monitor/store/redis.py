"""The Redis store: the service's store, shared by every replica."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis
import redis.exceptions
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

from monitor.redact import add_secret, redact
from monitor.store.base import (
    DEFAULT_SEEN_TTL,
    EVENT_LEASE,
    ClaimStatus,
    DeadLetter,
    EntryClaim,
    EventRecord,
    EventReports,
    OutboxEntry,
    PendingEntry,
    StoreError,
    StoreURLError,
)
from monitor.store.keys import DEFAULT_PREFIX, OUTBOX_GROUP, Keys, digest
from monitor.store.redis_feedback import RedisFeedback

REDIS_ERRORS = (redis.exceptions.RedisError, redis.exceptions.RedisClusterException)

# A Redis Cluster is named by any one of its nodes: redis+cluster://HOST:PORT.
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
# Redis with Sentinel failover is named by its sentinels and the master's name:
# redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB]
SENTINEL_SCHEMES = ("redis+sentinel://",)
SENTINEL_PORT = 26379


def _split_password(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, user, password, rest after '@') of a URL with a password, else None.

    The user information runs to the last '@', so a password holding characters that should have
    been percent-encoded (/ # ?) is taken whole rather than cut where a URL parser would cut it.
    """
    scheme, separator, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return (scheme, user, password, host) if separator and at and colon and password else None


def redact_url(url: str) -> str:
    """The URL with any password replaced by '***' (safe for logs and errors)."""
    found = _split_password(url)
    if found is None:
        return url
    scheme, user, _, host = found
    return f"{scheme}://{user}:***@{host}"


def register_password(url: str) -> None:
    """Mask the URL's password (as written and percent-decoded), and the pieces a URL parser may cut it
    into, in every later log and error."""
    found = _split_password(url)
    if found is not None:
        password = found[2]
        add_secret(password)
        add_secret(unquote(password))
        for piece in re.split(r"[/#?]", password):
            add_secret(piece)


# Characters that end the user information of a URL, or split it, unless percent-encoded.
_RESERVED_IN_USERINFO = {"@": "%40", "/": "%2F", "?": "%3F", "#": "%23"}


def url_problem(url: str) -> str | None:
    """Why redis-py would read the user information of this store URL otherwise than as written, if it would.

    The service reads the user information up to the last '@'; a URL parser stops at the first '/', '?'
    or '#' and then takes what follows for the host: a password holding one connects elsewhere. A user
    information with two ':' is ambiguous (is the ':' in the user or the password?). Never quotes the password.
    """
    scheme, separator, rest = url.partition("://")
    userinfo, at, _ = rest.rpartition("@")
    if not scheme.startswith(("redis", "unix")) or not separator or not at:
        return None
    password = userinfo.partition(":")[2]
    for char, encoded in _RESERVED_IN_USERINFO.items():
        if char in userinfo:
            where = "password" if char in password else "user name"
            return f"the {where} in the store URL holds an unencoded {char!r}: percent-encode it ({char} as {encoded})"
    if password.count(":"):
        return "the store URL's user information holds two ':': percent-encode a ':' in the user or password as %3A"
    return None


_ITEM_MARK = "\x1f"


def _unseen(previous: object, owner: str | None, item: str | None) -> bool:
    """Whether a seen-key's previous value leaves the claiming item new: unset, set by the same owner (a
    retry), or, for a key after the first, set for the same item (a claim of it racing this one, which the
    first key decides). A value of an older version (no item part) counts as another item's."""
    if previous is None:
        return True
    marked_owner, _, marked_item = _text(previous).partition(_ITEM_MARK)
    return (owner is not None and marked_owner == owner) or (item is not None and marked_item == item)


def _logged(fields: Mapping[bytes, bytes]) -> EventRecord:
    """A report as the event log holds it."""
    return EventRecord(_text(fields[b"r"]), float(fields[b"a"]), fields[b"d"], float(fields[b"e"]))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _sentinel_master(url: str, options: dict[str, Any]) -> Any:
    """A client of the master the sentinels name; it follows the master through failovers."""
    parts = urlsplit(url)
    hosts = []
    for node in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = node.rpartition(":") if ":" in node else (node, "", "")
        hosts.append((host or node, int(port) if port else SENTINEL_PORT))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("name the master: redis+sentinel://HOST:PORT/SERVICE[/DB]")
    db = int(path[1]) if len(path) > 1 else 0
    # redis-py types Sentinel only from 8.x on; read through Any so that mypy passes with 5.x to 8.x alike.
    sentinels: Any = Sentinel
    return sentinels(hosts, socket_timeout=options["socket_timeout"]).master_for(
        path[0], db=db, username=parts.username, password=parts.password, **options
    )


def _connected_to(url: str, kwargs: Mapping[str, Any]) -> str:
    """The URL of the server a client built from `url` connects to, its password masked."""
    scheme = url.partition("://")[0]
    user = kwargs.get("username") or ""
    login = f"{user}:***@" if kwargs.get("password") else (f"{user}@" if user else "")
    if "path" in kwargs:  # a Unix socket
        return f"{scheme}://{login}{kwargs['path']}?db={kwargs.get('db', 0)}"
    host = str(kwargs.get("host", "localhost"))
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{login}{host}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


# An outbox consumer idle this long, holding no alert, belongs to a run that ended: it is removed.
IDLE_CONSUMER = timedelta(hours=1)


def _ms(ttl: timedelta) -> int:
    return max(1, int(ttl.total_seconds() * 1000))


class RedisStore(RedisFeedback):
    """A Store on Redis (>= 7) or Redis Cluster: atomic SET NX / SET NX GET, pipelines to batch round trips.

    Args:
        url: a redis:// or rediss:// URL, redis+cluster://HOST:PORT for a cluster, or
            redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE[/DB] for a master watched by Sentinel
            (a password in it is never logged).
        prefix: prepended to every key, so several deployments can share one Redis.
    """

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        register_password(url)
        self.description = f"redis store {redact_url(url)}"
        problem = url_problem(url)
        if problem is not None:
            raise StoreURLError(f"{self.description}: {problem}")
        self.shared = True
        self.keys = Keys(prefix)
        self._group_ready = False
        # Records of reports the event index dropped, deleted with the next report added (not in a round
        # trip of their own); until then `event_report` does not return them.
        self._dropped_records: list[str] = []
        self.idle_consumer = IDLE_CONSUMER
        # Retries with backoff ride out a Redis restart or failover without losing the call.
        retry = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=5)
        options: dict[str, Any] = {"retry": retry, "socket_timeout": 10, "socket_connect_timeout": 5}
        try:
            if url.startswith(CLUSTER_SCHEMES):
                scheme, rest = url.split("://", 1)
                plain = f"{scheme.removesuffix('+cluster')}://{rest}"
                self.client: Any = RedisCluster.from_url(plain, **options)
            elif url.startswith(SENTINEL_SCHEMES):
                self.client = _sentinel_master(url, options)
            else:
                self.client = redis.Redis.from_url(
                    url,
                    retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
                    health_check_interval=30,
                    **options,
                )
                # Named by what the client will connect to, not by the text it was read from.
                self.description = f"redis store {_connected_to(url, self.client.connection_pool.connection_kwargs)}"
        except ValueError as exc:  # from parsing the URL: nothing was contacted yet
            raise StoreURLError(self._fail(exc).args[0]) from None
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def _fail(self, exc: Exception) -> StoreError:
        if "NOGROUP" in str(exc):
            self._group_ready = False  # Redis restarted empty: the outbox's group is made again on the next call
        # redact: the client's message may quote pieces of the URL, the password's included.
        return StoreError(redact(f"{self.description}: {type(exc).__name__}: {exc}"))

    def ping(self) -> None:
        try:
            self.client.ping()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        self.client.close()

    def claim(
        self,
        items: Sequence[Sequence[str]],
        ttl: timedelta = DEFAULT_SEEN_TTL,
        owners: Sequence[str] | None = None,
    ) -> list[bool]:
        ms = _ms(ttl)
        marks = owners or ["1"] * len(items)
        try:
            pipe = self.client.pipeline(transaction=False)
            command = pipe.execute_command  # not pipe.set: its argument checks cost more than the round trip
            for keys, owner in zip(items, marks, strict=True):
                first, *others = [self.keys.seen(k) for k in keys]
                # Each key's value names its owner and the item (by its first key), so that a later key set
                # by a concurrent claim of the same item is not taken for another item's: else two claims
                # of one item that interleave (A sets the first key, B the second) would both lose it.
                value = f"{owner}{_ITEM_MARK}{first}"
                # SET ... GET answers with the value it replaced: one command per key, none spanning
                # two keys (Redis Cluster keeps a multi-key command to one slot).
                command("SET", first, value, "NX", "PX", ms, "GET", get=True)
                for key in others:
                    command("SET", key, value, "PX", ms, "GET", get=True)
            replies = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        results: list[bool] = []
        position = 0
        mine = owners is not None
        for keys, owner in zip(items, marks, strict=True):
            previous = replies[position : position + len(keys)]
            first = self.keys.seen(keys[0])
            results.append(
                all(_unseen(p, owner if mine else None, first if i else None) for i, p in enumerate(previous))
            )
            position += len(keys)
        return results

    def feed_state(self, feed: str) -> dict[str, Any] | None:
        try:
            raw = self.client.get(self.keys.feed(feed))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return json.loads(raw) if raw else None

    def save_feed_state(self, feed: str, state: Mapping[str, Any]) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(self.keys.feed(feed), json.dumps(dict(state)))
            pipe.hset(self.keys.feeds, feed, self.keys.feed(feed))
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def all_feed_states(self) -> dict[str, dict[str, Any]]:
        try:
            index = self.client.hgetall(self.keys.feeds)
            feeds = [_text(f) for f in index]
            pipe = self.client.pipeline(transaction=False)
            for feed in feeds:
                pipe.get(self.keys.feed(feed))
            values = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return {feed: json.loads(raw) for feed, raw in zip(feeds, values, strict=True) if raw}

    def story_candidates(self, bands: Sequence[str]) -> dict[str, int]:
        try:
            pipe = self.client.pipeline(transaction=False)
            for band in bands:
                pipe.smembers(self.keys.band(band))
            replies = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        counts: dict[str, int] = {}
        for members in replies:
            for member in members:
                story = _text(member)
                counts[story] = counts.get(story, 0) + 1
        return counts

    def story_signatures(self, story_ids: Sequence[str]) -> dict[str, bytes]:
        if not story_ids:
            return {}
        try:
            pipe = self.client.pipeline(transaction=False)
            for story_id in story_ids:
                pipe.get(self.keys.signature(story_id))
            values = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return {s: v for s, v in zip(story_ids, values, strict=True) if isinstance(v, bytes)}

    def add_to_story(
        self, story_id: str, bands: Sequence[str], signature: bytes | None, ttl: timedelta = DEFAULT_SEEN_TTL
    ) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            self._queue_add_to_story(pipe, story_id, bands, signature, ttl)
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def _queue_add_to_story(
        self, pipe: Any, story_id: str, bands: Sequence[str], signature: bytes | None, ttl: timedelta
    ) -> None:
        ms = _ms(ttl)
        for band in bands:
            key = self.keys.band(band)
            pipe.sadd(key, story_id)
            pipe.pexpire(key, ms)
        if signature is not None:
            pipe.set(self.keys.signature(story_id), signature, nx=True, px=ms)

    def add_to_story_and_lease(
        self,
        story_id: str,
        bands: Sequence[str],
        signature: bytes | None,
        ttl: timedelta,
        holder: str,
        lease_ttl: timedelta,
        position: str | None,
    ) -> EventReports | None:
        try:
            pipe = self.client.pipeline(transaction=False)
            self._queue_add_to_story(pipe, story_id, bands, signature, ttl)
            written = len(pipe)
            self._queue_event_lease(pipe, holder, lease_ttl, position)
            replies = pipe.execute()[written:]
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return self._leased(replies, holder, position)

    def event_report_ids(self, since: float, until: float, limit: int) -> list[str]:
        try:
            return [_text(i) for i in self.client.zrevrangebyscore(self.keys.event_index, until, since, 0, limit)]
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    # No log position yet: "0-0" is below every stream id, so the next read reads everything again.
    _LOG_START = "0-0"

    def event_reports_since(self, position: str | None) -> EventReports:
        if position is None:
            return self._every_event_report()
        try:
            # From `position` itself: it is still there only if nothing after it was trimmed.
            entries = self.client.xrange(self.keys.event_log, min=position, max="+")
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return self._logged_since(position, entries)

    def event_lease(self, holder: str, ttl: timedelta, position: str | None) -> EventReports | None:
        try:
            pipe = self.client.pipeline(transaction=False)
            self._queue_event_lease(pipe, holder, ttl, position)
            replies = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return self._leased(replies, holder, position)

    def _queue_event_lease(self, pipe: Any, holder: str, ttl: timedelta, position: str | None) -> None:
        key = self.keys.lease(EVENT_LEASE)
        pipe.set(key, holder, nx=True, px=_ms(ttl))
        pipe.get(key)
        if position is not None:  # read whether or not the lease is taken: one round trip when it is
            pipe.xrange(self.keys.event_log, min=position, max="+")

    def _leased(self, replies: Sequence[Any], holder: str, position: str | None) -> EventReports | None:
        """What `_queue_event_lease`'s commands replied: None when another holder has the lease."""
        if replies[1] is None or _text(replies[1]) != holder:
            return None
        return self._every_event_report() if position is None else self._logged_since(position, replies[2])

    def _logged_since(self, position: str, entries: Sequence[Any]) -> EventReports:
        """The reports added after `position`, from the log's entries from `position` on."""
        if not entries:  # the log expired with every record in it
            return EventReports([], position, everything=False)
        if _text(entries[0][0]) != position:  # trimmed past it: what came after may be gone too
            return self._every_event_report()
        added = [_logged(fields) for _, fields in entries[1:]]
        return EventReports(added, _text(entries[-1][0]), everything=False)

    def _every_event_report(self) -> EventReports:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.xrevrange(self.keys.event_log, max="+", min="-", count=1)  # first: what is added later is read next
            pipe.zrange(self.keys.event_index, 0, -1, withscores=True)
            last, indexed = pipe.execute()
            pipe = self.client.pipeline(transaction=False)
            for report_id, _ in indexed:
                key = self.keys.event_report(_text(report_id))
                pipe.get(key)
                pipe.pttl(key)
            values = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        now = time.time()
        records = [
            EventRecord(_text(report_id), float(at), record, now + ttl / 1000 if ttl >= 0 else float("inf"))
            for (report_id, at), record, ttl in zip(indexed, values[::2], values[1::2], strict=True)
            if isinstance(record, bytes)
        ]
        return EventReports(records, _text(last[0][0]) if last else self._LOG_START, everything=True)

    def event_report(self, report_id: str) -> bytes | None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.zscore(self.keys.event_index, report_id)  # a record the index dropped is not kept
            pipe.get(self.keys.event_report(report_id))
            indexed, value = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return value if indexed is not None and isinstance(value, bytes) else None

    def add_event_report(
        self, report_id: str, at: float, record: bytes, ttl: timedelta, cap: int, release: str | None = None
    ) -> None:
        index = self.keys.event_index
        try:
            pipe = self.client.pipeline(transaction=False)
            # What the last addition dropped goes now (one key per command: Cluster-safe, a record's key
            # sits in its own slot), before this record is written: a report added again is kept.
            for dropped_id in self._dropped_records:
                if dropped_id != report_id:
                    pipe.delete(self.keys.event_report(dropped_id))
            dropped_before = len(pipe)
            pipe.set(self.keys.event_report(report_id), record, px=_ms(ttl))
            pipe.zadd(index, {report_id: at})
            # The log holds (at least) the last `cap` additions: a replica further behind reads everything.
            logged = {"r": report_id, "a": repr(at), "e": repr(time.time() + ttl.total_seconds()), "d": record}
            pipe.xadd(self.keys.event_log, logged, maxlen=cap, approximate=True)
            pipe.pexpire(self.keys.event_log, _ms(ttl))
            # Bounded: reports older than the TTL (by report time) go, then all but the latest `cap`, and
            # their records with the next report added (else they would outlive the index by up to the TTL).
            too_old = f"({at - ttl.total_seconds()}"
            pipe.zrangebyscore(index, "-inf", too_old)
            pipe.zremrangebyscore(index, "-inf", too_old)
            pipe.zrange(index, 0, -cap - 1)
            pipe.zremrangebyrank(index, 0, -cap - 1)
            pipe.pexpire(index, _ms(ttl))
            if release is not None:
                pipe.execute_command("EVAL", self._RELEASE, 1, self.keys.lease(EVENT_LEASE), release)
            replies = pipe.execute()[dropped_before:]
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        self._dropped_records = [_text(i) for i in [*replies[4], *replies[6]]]

    def mark_paragraphs(self, source: str, item: str, paragraphs: Sequence[str], ttl: timedelta) -> list[str]:
        ms = _ms(ttl)
        try:
            pipe = self.client.pipeline(transaction=False)
            command = pipe.execute_command
            for paragraph in paragraphs:
                key = self.keys.paragraph(source, paragraph)
                command("SET", key, item, "NX", "PX", ms, "GET", get=True)
                command("PEXPIRE", key, ms)
            command("SET", self.keys.item_paragraphs(source, item), "\n".join(paragraphs), "PX", ms)
            replies = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return [item if first is None else _text(first) for first in replies[0 : 2 * len(paragraphs) : 2]]

    def item_paragraphs(self, source: str, items: Sequence[str]) -> dict[str, list[str]]:
        if not items:
            return {}
        try:
            pipe = self.client.pipeline(transaction=False)
            for item in items:
                pipe.get(self.keys.item_paragraphs(source, item))
            values = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return {item: _text(v).split("\n") for item, v in zip(items, values, strict=True) if v is not None}

    def mark_alert(self, rule: str, story: str, alert_id: str, window: timedelta) -> str | None:
        try:
            previous = self.client.set(self.keys.alerted(rule, story), alert_id, nx=True, px=_ms(window), get=True)
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return _text(previous) if previous is not None else None

    # Leases ------------------------------------------------------------------------------------

    # Compare-and-delete: only the holder may release (one key, so Cluster-safe).
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        key = self.keys.lease(name)
        try:
            if self.client.set(key, holder, nx=True, px=_ms(ttl)):
                return True
            return _text(self.client.get(key)) == holder
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def release_lease(self, name: str, holder: str) -> None:
        try:
            self.client.eval(self._RELEASE, 1, self.keys.lease(name), holder)
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    # Entry leases ------------------------------------------------------------------------------

    # (EVAL through execute_command: a cluster pipeline has no eval(), but routes EVAL by its key.)
    # Each script reads and writes one entry's hash (one key: Cluster-safe) and takes the time from
    # Redis, so that the replicas' clocks need not agree. An entry hash: state (lease | done), holder,
    # until (ms), takeovers, since (ms: the first claim; kept by takeovers), keys (JSON), record (JSON).
    _NOW = "local t = redis.call('time') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    # The first claim's time; an entry leased before it was kept counts from its first takeover.
    _SINCE = (
        "local since = tonumber(redis.call('hget', KEYS[1], 'since')) "
        "if not since then since = now redis.call('hset', KEYS[1], 'since', now) end "
    )
    _CLAIM_ENTRY = _NOW + (
        "local state = redis.call('hget', KEYS[1], 'state') "
        # A finished entry seen again stays seen as long as its feed lists it.
        "if state == 'done' then redis.call('pexpire', KEYS[1], ARGV[3]) return {'seen'} end "
        "if state == 'lease' then "
        "  local f = redis.call('hmget', KEYS[1], 'holder', 'until') "
        "  if tonumber(f[2]) > now then return {'busy', f[1]} end "
        "  local takeovers = redis.call('hincrby', KEYS[1], 'takeovers', 1) "
        + _SINCE
        + "  redis.call('hset', KEYS[1], 'holder', ARGV[1], 'until', now + tonumber(ARGV[2]), 'record', ARGV[5]) "
        "  redis.call('pexpire', KEYS[1], ARGV[3]) "
        "  return {'retaken', f[1], takeovers, now - since} "
        "end "
        "redis.call('hset', KEYS[1], 'state', 'lease', 'holder', ARGV[1], 'until', now + tonumber(ARGV[2]), "
        "  'takeovers', 0, 'since', now, 'keys', ARGV[4], 'record', ARGV[5]) "
        "redis.call('pexpire', KEYS[1], ARGV[3]) "
        "return {'new'}"
    )
    # ARGV[3]: the new expiry relative to now (0: give the lease back).
    _RENEW_ENTRY = _NOW + (
        "local f = redis.call('hmget', KEYS[1], 'state', 'holder') "
        "if f[1] == 'lease' and f[2] == ARGV[1] then "
        "  redis.call('hset', KEYS[1], 'until', now + tonumber(ARGV[2])) return 1 end "
        "return 0"
    )
    _TAKE_EXPIRED_ENTRY = _NOW + (
        "local f = redis.call('hmget', KEYS[1], 'state', 'holder', 'until', 'keys', 'record') "
        "if f[1] ~= 'lease' then return {'gone'} end "
        "if tonumber(f[3]) > now then return {'live', f[3]} end "
        "local takeovers = redis.call('hincrby', KEYS[1], 'takeovers', 1) "
        + _SINCE
        + "redis.call('hset', KEYS[1], 'holder', ARGV[1], 'until', now + tonumber(ARGV[2])) "
        "return {'taken', f[2], takeovers, f[4], f[5], now - since}"
    )

    def claim_entries(
        self,
        entries: Sequence[tuple[Sequence[str], Mapping[str, Any]]],
        holder: str,
        lease: timedelta,
        ttl: timedelta = DEFAULT_SEEN_TTL,
    ) -> list[EntryClaim]:
        if not entries:
            return []
        try:
            # Most entries of a poll were finished long ago: found by a read, without sending their records.
            finished = self._finished([keys for keys, _ in entries])
            pipe = self.client.pipeline(transaction=False)
            until = int(time.time() * 1000) + _ms(lease)
            todo = [i for i, done in enumerate(finished) if not done]
            for index, done in enumerate(finished):
                if done:  # seen again: it stays seen as long as its feed lists it
                    pipe.pexpire(self.keys.entry(entries[index][0][0]), _ms(ttl))
            for index in todo:
                keys, record = entries[index]
                first = self.keys.entry(keys[0])
                # Indexed before it is leased: a crash in between leaves an index entry pointing at
                # nothing (dropped by the next sweep), never a lease that no sweep would find.
                pipe.zadd(self.keys.pending_entries, {digest(keys[0]): until})
                pipe.pexpire(self.keys.pending_entries, _ms(ttl))
                script = self._CLAIM_ENTRY
                pipe.execute_command(
                    "EVAL",
                    script,
                    1,
                    first,
                    holder,
                    _ms(lease),
                    _ms(ttl),
                    json.dumps(list(keys)),
                    json.dumps(dict(record)),
                )
            replies = pipe.execute()[len(entries) - len(todo) :][2::3]
            seen = [digest(entries[i][0][0]) for i, r in zip(todo, replies, strict=True) if _text(r[0]) == "seen"]
            if seen:
                self.client.zrem(self.keys.pending_entries, *seen)
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        claims = [EntryClaim("seen") for _ in entries]
        for index, reply in zip(todo, replies, strict=True):
            status = _text(reply[0])
            previous = _text(reply[1]) if len(reply) > 1 else None
            takeovers = int(reply[2]) if len(reply) > 2 else 0
            pending = max(0, int(reply[3])) / 1000 if len(reply) > 3 else 0.0
            claims[index] = EntryClaim(cast(ClaimStatus, status), takeovers, previous, pending)
        return claims

    def _finished(self, entries: Sequence[Sequence[str]]) -> list[bool]:
        """Entries finished under one of their keys, or marked seen by a version before entry leases."""
        pipe = self.client.pipeline(transaction=False)
        for keys in entries:
            for key in keys:
                pipe.exists(self.keys.seen(key))  # how versions before entry leases marked entries
                pipe.hget(self.keys.entry(key), "state")
        replies = pipe.execute()
        found = []
        position = 0
        for keys in entries:
            answers = replies[position : position + 2 * len(keys)]
            position += 2 * len(keys)
            legacy, states = answers[::2], answers[1::2]
            found.append(any(legacy) or any(state is not None and _text(state) == "done" for state in states))
        return found

    def renew_entries(self, firsts: Sequence[str], holder: str, lease: timedelta) -> list[bool]:
        return self._set_leases(firsts, holder, _ms(lease))

    def release_entries(self, firsts: Sequence[str], holder: str) -> None:
        self._set_leases(firsts, holder, 0)

    def _set_leases(self, firsts: Sequence[str], holder: str, ms: int) -> list[bool]:
        if not firsts:
            return []
        until = int(time.time() * 1000) + ms
        try:
            pipe = self.client.pipeline(transaction=False)
            for first in firsts:
                pipe.execute_command("EVAL", self._RENEW_ENTRY, 1, self.keys.entry(first), holder, ms)
                pipe.zadd(self.keys.pending_entries, {digest(first): until}, xx=True)
            replies = pipe.execute()[::2]
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return [bool(r) for r in replies]

    def finish_entries(self, entries: Sequence[Sequence[str]], ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        if not entries:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for keys in entries:
                for key in keys:
                    name = self.keys.entry(key)
                    pipe.hset(name, "state", "done")
                    pipe.hdel(name, "holder", "until", "takeovers", "since", "keys", "record")
                    pipe.pexpire(name, _ms(ttl))
            pipe.zrem(self.keys.pending_entries, *[digest(keys[0]) for keys in entries])
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def take_expired_entries(self, holder: str, lease: timedelta, count: int) -> list[PendingEntry]:
        now = int(time.time() * 1000)
        try:
            due = self.client.zrangebyscore(self.keys.pending_entries, "-inf", now, start=0, num=count)
            if not due:
                return []
            names = [_text(d) for d in due]
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                entry = self.keys.entry_by_digest(name)
                pipe.execute_command("EVAL", self._TAKE_EXPIRED_ENTRY, 1, entry, holder, _ms(lease))
            replies = pipe.execute()
            pipe = self.client.pipeline(transaction=False)
            taken = []
            for name, reply in zip(names, replies, strict=True):
                match _text(reply[0]):
                    case "gone":
                        pipe.zrem(self.keys.pending_entries, name)
                    case "live":
                        pipe.zadd(self.keys.pending_entries, {name: int(reply[1])})
                    case _:
                        pipe.zadd(self.keys.pending_entries, {name: now + _ms(lease)})
                        keys = tuple(json.loads(reply[3]))
                        pending = max(0, int(reply[5])) / 1000
                        taken.append(PendingEntry(keys, json.loads(reply[4]), int(reply[2]), _text(reply[1]), pending))
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return taken

    # Outbox ------------------------------------------------------------------------------------

    # Deletes a consumer only if it holds no alert: deleting one that does would drop its alerts
    # from the group's pending list, and nobody would ever deliver them.
    _FORGET_CONSUMER = (
        "if #redis.call('xpending', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then"
        " return redis.call('xgroup', 'delconsumer', KEYS[1], ARGV[1], ARGV[2]) end return -1"
    )

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.client.xgroup_create(self.keys.outbox, OUTBOX_GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
            self._forget_idle_consumers()
        self._group_ready = True

    def _forget_idle_consumers(self) -> None:
        """Remove consumers that hold no alert and were idle for a while (earlier runs' names).

        The default consumer name holds the process id, so each restart adds one to the group; a
        live one that is removed is made again by its next read.
        """
        for consumer in self.client.xinfo_consumers(self.keys.outbox, OUTBOX_GROUP):
            if int(consumer["pending"]) == 0 and int(consumer["idle"]) >= _ms(self.idle_consumer):
                name = _text(consumer["name"])
                self.client.eval(self._FORGET_CONSUMER, 1, self.keys.outbox, OUTBOX_GROUP, name)

    def outbox_add(self, payloads: Sequence[Mapping[str, Any]]) -> list[str]:
        try:
            self._ensure_group()
            pipe = self.client.pipeline(transaction=False)
            for payload in payloads:
                pipe.xadd(self.keys.outbox, {"payload": json.dumps(dict(payload))})
            return [_text(i) for i in pipe.execute()]
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def outbox_take(self, consumer: str, count: int, idle: timedelta) -> list[OutboxEntry]:
        try:
            self._ensure_group()
            stream = self.keys.outbox
            # Own pending first (a restart, or an attempt that failed), then a dead replica's, then new.
            entries = self._read_group(consumer, count, "0")
            if len(entries) < count:
                # Not _ms: an idle time of 0 must be 0 (taken over at once), not the 1 ms a TTL needs.
                idle_ms = int(idle.total_seconds() * 1000)
                claimed = self.client.xautoclaim(
                    stream, OUTBOX_GROUP, consumer, idle_ms, "0-0", count=count - len(entries)
                )
                entries += [(_text(i), f) for i, f in claimed[1] if f]
            if len(entries) < count:
                entries += self._read_group(consumer, count - len(entries), ">")
            deliveries: dict[str, int] = {}
            if entries:
                pending = self.client.xpending_range(stream, OUTBOX_GROUP, "-", "+", 10_000, consumername=consumer)
                deliveries = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        seen: set[str] = set()
        out = []
        for entry_id, fields in sorted(entries, key=lambda e: _stream_order(e[0])):
            if entry_id in seen:
                continue
            seen.add(entry_id)
            payload = json.loads(fields[b"payload"])
            out.append(OutboxEntry(entry_id, payload, deliveries.get(entry_id, 1)))
        return out

    def _read_group(self, consumer: str, count: int, start: str) -> list[tuple[str, dict[bytes, bytes]]]:
        reply: Any = self.client.xreadgroup(OUTBOX_GROUP, consumer, {self.keys.outbox: start}, count=count)
        if not reply:
            return []
        _, messages = reply[0]
        return [(_text(i), f) for i, f in messages if f]

    def outbox_ack(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.xack(self.keys.outbox, OUTBOX_GROUP, *ids)
            pipe.xdel(self.keys.outbox, *ids)
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def outbox_depth(self) -> tuple[int, float | None]:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.xlen(self.keys.outbox)
            pipe.xrange(self.keys.outbox, count=1)
            length, oldest = pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        if not oldest:
            return int(length), None
        millis = int(_text(oldest[0][0]).split("-")[0])
        return int(length), max(0.0, time.time() - millis / 1000)

    def receipt(self, key: str) -> str | None:
        try:
            value = self.client.get(self.keys.receipt(key))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return _text(value) if value is not None else None

    def save_receipt(self, key: str, receipt: str, ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        try:
            self.client.set(self.keys.receipt(key), receipt, px=_ms(ttl))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def digest_add(self, bucket: str, member: str, payload: Mapping[str, Any]) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(self.keys.digest(bucket), member, json.dumps(dict(payload)))
            pipe.hset(self.keys.digests, bucket, self.keys.digest(bucket))
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def digest_buckets(self) -> list[str]:
        try:
            return sorted(_text(b) for b in self.client.hkeys(self.keys.digests))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def digest_items(self, bucket: str) -> dict[str, dict[str, Any]]:
        try:
            items = self.client.hgetall(self.keys.digest(bucket))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return {_text(member): json.loads(value) for member, value in items.items()}

    def digest_remove(self, bucket: str, members: Sequence[str]) -> None:
        if not members:
            return
        try:
            key = self.keys.digest(bucket)
            self.client.hdel(key, *members)
            if not self.client.exists(key):
                self.client.hdel(self.keys.digests, bucket)
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def dead_add(self, payload: Mapping[str, Any], reason: str) -> str:
        fields = {"payload": json.dumps(dict(payload)), "reason": reason, "at": str(time.time())}
        try:
            return _text(self.client.xadd(self.keys.dead, fields))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def dead_list(self) -> list[DeadLetter]:
        try:
            entries: Any = self.client.xrange(self.keys.dead) or []
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None
        return [
            DeadLetter(_text(i), json.loads(f[b"payload"]), _text(f[b"reason"]), float(f[b"at"])) for i, f in entries
        ]

    def dead_count(self) -> int:
        try:
            return int(self.client.xlen(self.keys.dead))
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    def dead_remove(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            self.client.xdel(self.keys.dead, *ids)
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None


def _stream_order(entry_id: str) -> tuple[int, int]:
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)
