"""The embedded store: one SQLite file (WAL), the default when no Redis is configured."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.store.base import (
    DEFAULT_SEEN_TTL,
    EVENT_LEASE,
    DeadLetter,
    EntryClaim,
    EventRecord,
    EventReports,
    OutboxEntry,
    PendingEntry,
    StoreError,
)
from monitor.store.keys import digest
from monitor.store.sqlite_feedback import FEEDBACK_EXPIRING, FEEDBACK_SCHEMA, SQLiteFeedback

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, owner TEXT, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS entry (
    key TEXT PRIMARY KEY, state TEXT NOT NULL, holder TEXT, until REAL, takeovers INTEGER NOT NULL DEFAULT 0,
    keys TEXT, record TEXT, expires REAL NOT NULL, since REAL
);
CREATE INDEX IF NOT EXISTS entry_pending ON entry (until) WHERE state = 'lease';
CREATE TABLE IF NOT EXISTS feed_state (feed TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS story_band (
    band TEXT NOT NULL, story TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (band, story)
);
CREATE TABLE IF NOT EXISTS story_signature (story TEXT PRIMARY KEY, signature BLOB NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS event_report (
    report TEXT PRIMARY KEY, at REAL NOT NULL, record BLOB NOT NULL, expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS event_report_at ON event_report (at);
CREATE TABLE IF NOT EXISTS event_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, report TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paragraph_mark (key TEXT PRIMARY KEY, item TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS item_paragraphs (key TEXT PRIMARY KEY, paragraphs TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS alerted (key TEXT PRIMARY KEY, alert_id TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, created REAL NOT NULL,
    consumer TEXT, taken REAL, deliveries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS receipt (key TEXT PRIMARY KEY, receipt TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS digest (
    bucket TEXT NOT NULL, member TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (bucket, member)
);
CREATE TABLE IF NOT EXISTS dead (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL
);
"""

# Expired rows are purged every this many writes (reads ignore them anyway).
PURGE_EVERY = 1000


class SQLiteStore(SQLiteFeedback):
    """A Store in one SQLite file; safe for several threads and processes on one machine.

    Args:
        path: the database file (created with its directory if missing), or ":memory:"
            for a throwaway store.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.description = f"sqlite store {self.path}"
        self.shared = False
        self._lock = threading.Lock()
        self._writes = 0
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA + FEEDBACK_SCHEMA)
            self._add_columns()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.description}: cannot open: {exc}") from None

    def _add_columns(self) -> None:
        """Columns added since a file's tables were made (CREATE TABLE IF NOT EXISTS keeps old tables)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(entry)")}
        if "since" not in columns:
            try:
                self._db.execute("ALTER TABLE entry ADD COLUMN since REAL")
            except sqlite3.OperationalError as exc:  # another process opening the file added it meanwhile
                if "duplicate column" not in str(exc):
                    raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: taken before any read, so check-and-set is atomic across processes."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._writes += 1
                if self._writes % PURGE_EVERY == 0:
                    self._purge()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.description}: {exc}") from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.description}: {exc}") from None

    def _purge(self) -> None:
        now = time.time()
        for table in (
            "seen",
            "entry",
            "story_band",
            "story_signature",
            "event_report",
            "paragraph_mark",
            "item_paragraphs",
            "alerted",
            "receipt",
            *FEEDBACK_EXPIRING,
        ):
            self._db.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))

    def ping(self) -> None:
        self._read("SELECT 1")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def claim(
        self,
        items: Sequence[Sequence[str]],
        ttl: timedelta = DEFAULT_SEEN_TTL,
        owners: Sequence[str] | None = None,
    ) -> list[bool]:
        now = time.time()
        expires = now + ttl.total_seconds()
        results = []
        with self._write() as db:
            for index, keys in enumerate(items):
                owner = owners[index] if owners is not None else None
                hashed = [digest(k) for k in keys]
                marks = ",".join("?" * len(hashed))
                # A key marked by this same owner (a retry of the same item) does not count as seen.
                live = db.execute(
                    f"SELECT COUNT(*) FROM seen WHERE key IN ({marks}) AND expires > ? "
                    "AND (owner IS NULL OR ? IS NULL OR owner != ?)",
                    (*hashed, now, owner, owner),
                ).fetchone()[0]
                db.executemany(
                    "INSERT INTO seen (key, owner, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET expires = excluded.expires",
                    [(k, owner, expires) for k in hashed],
                )
                results.append(live == 0)
        return results

    def feed_state(self, feed: str) -> dict[str, Any] | None:
        rows = self._read("SELECT state FROM feed_state WHERE feed = ?", (feed,))
        return json.loads(rows[0][0]) if rows else None

    def save_feed_state(self, feed: str, state: Mapping[str, Any]) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO feed_state (feed, state) VALUES (?, ?) "
                "ON CONFLICT(feed) DO UPDATE SET state = excluded.state",
                (feed, json.dumps(dict(state))),
            )

    def all_feed_states(self) -> dict[str, dict[str, Any]]:
        return {feed: json.loads(state) for feed, state in self._read("SELECT feed, state FROM feed_state")}

    def story_candidates(self, bands: Sequence[str]) -> dict[str, int]:
        if not bands:
            return {}
        marks = ",".join("?" * len(bands))
        rows = self._read(
            f"SELECT story, COUNT(*) FROM story_band WHERE band IN ({marks}) AND expires > ? GROUP BY story",
            (*bands, time.time()),
        )
        return {story: count for story, count in rows}

    def story_signatures(self, story_ids: Sequence[str]) -> dict[str, bytes]:
        if not story_ids:
            return {}
        marks = ",".join("?" * len(story_ids))
        rows = self._read(
            f"SELECT story, signature FROM story_signature WHERE story IN ({marks}) AND expires > ?",
            (*story_ids, time.time()),
        )
        return {story: bytes(signature) for story, signature in rows}

    def add_to_story(
        self, story_id: str, bands: Sequence[str], signature: bytes | None, ttl: timedelta = DEFAULT_SEEN_TTL
    ) -> None:
        expires = time.time() + ttl.total_seconds()
        with self._write() as db:
            db.executemany(
                "INSERT INTO story_band (band, story, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(band, story) DO UPDATE SET expires = excluded.expires",
                [(band, story_id, expires) for band in bands],
            )
            if signature is not None:
                db.execute(
                    "INSERT INTO story_signature (story, signature, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT(story) DO NOTHING",
                    (story_id, signature, expires),
                )

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
        # No round trips to save in a file: the write, then the lease.
        self.add_to_story(story_id, bands, signature, ttl)
        return self.event_lease(holder, lease_ttl, position)

    def event_report_ids(self, since: float, until: float, limit: int) -> list[str]:
        rows = self._read(
            "SELECT report FROM event_report WHERE at >= ? AND at <= ? AND expires > ? ORDER BY at DESC LIMIT ?",
            (since, until, time.time(), limit),
        )
        return [report for (report,) in rows]

    def event_reports_since(self, position: str | None) -> EventReports:
        if position is not None:
            after = int(position)
            ((first, last),) = self._read("SELECT MIN(seq), MAX(seq) FROM event_log")
            # The log is trimmed from its oldest end: it still holds all that came after `position`?
            if last is None or last <= after or first <= after + 1:
                rows = self._read(
                    "SELECT l.seq, r.report, r.at, r.record, r.expires FROM event_log l "
                    "JOIN event_report r ON r.report = l.report WHERE l.seq > ? AND r.expires > ? ORDER BY l.seq",
                    (after, time.time()),
                )
                added = [EventRecord(report, at, bytes(record), expires) for _, report, at, record, expires in rows]
                # Past the rows dropped since they were logged too (and those logged meanwhile, if any).
                read_to = max([after, last or after, *(seq for seq, *_ in rows)])
                return EventReports(added, str(read_to), everything=False)
        ((last,),) = self._read("SELECT MAX(seq) FROM event_log")  # first: what is added later is read next
        rows = self._read(
            "SELECT report, at, record, expires FROM event_report WHERE expires > ? ORDER BY at", (time.time(),)
        )
        records = [EventRecord(report, at, bytes(record), expires) for report, at, record, expires in rows]
        return EventReports(records, str(last or 0), everything=True)

    def event_lease(self, holder: str, ttl: timedelta, position: str | None) -> EventReports | None:
        # No round trips to save in a file: the lease, then the read.
        return self.event_reports_since(position) if self.acquire_lease(EVENT_LEASE, holder, ttl) else None

    def event_report(self, report_id: str) -> bytes | None:
        rows = self._read("SELECT record FROM event_report WHERE report = ? AND expires > ?", (report_id, time.time()))
        return bytes(rows[0][0]) if rows else None

    def add_event_report(
        self, report_id: str, at: float, record: bytes, ttl: timedelta, cap: int, release: str | None = None
    ) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO event_report (report, at, record, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(report) DO UPDATE SET at = excluded.at, record = excluded.record, "
                "expires = excluded.expires",
                (report_id, at, record, time.time() + ttl.total_seconds()),
            )
            # The log holds the last `cap` additions: a replica further behind reads everything.
            logged = db.execute("INSERT INTO event_log (report) VALUES (?)", (report_id,)).lastrowid
            db.execute("DELETE FROM event_log WHERE seq <= ?", ((logged or 0) - cap,))
            # Bounded as the Redis index is: older than the TTL by report time, then all but the latest `cap`.
            db.execute("DELETE FROM event_report WHERE at < ?", (at - ttl.total_seconds(),))
            db.execute(
                "DELETE FROM event_report WHERE report IN "
                "(SELECT report FROM event_report ORDER BY at DESC LIMIT -1 OFFSET ?)",
                (cap,),
            )
            if release is not None:
                db.execute("DELETE FROM lease WHERE name = ? AND holder = ?", (EVENT_LEASE, release))

    def mark_paragraphs(self, source: str, item: str, paragraphs: Sequence[str], ttl: timedelta) -> list[str]:
        now = time.time()
        expires = now + ttl.total_seconds()
        firsts = []
        with self._write() as db:
            for paragraph in paragraphs:
                key = f"{source}\x1f{paragraph}"
                row = db.execute("SELECT item FROM paragraph_mark WHERE key = ? AND expires > ?", (key, now)).fetchone()
                first = item if row is None else str(row[0])
                db.execute(
                    "INSERT INTO paragraph_mark (key, item, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET item = ?, expires = excluded.expires",
                    (key, first, expires, first),
                )
                firsts.append(first)
            db.execute(
                "INSERT INTO item_paragraphs (key, paragraphs, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET paragraphs = excluded.paragraphs, expires = excluded.expires",
                (f"{source}\x1f{item}", "\n".join(paragraphs), expires),
            )
        return firsts

    def item_paragraphs(self, source: str, items: Sequence[str]) -> dict[str, list[str]]:
        found = {}
        for item in items:
            rows = self._read(
                "SELECT paragraphs FROM item_paragraphs WHERE key = ? AND expires > ?",
                (f"{source}\x1f{item}", time.time()),
            )
            if rows:
                found[item] = str(rows[0][0]).split("\n")
        return found

    def mark_alert(self, rule: str, story: str, alert_id: str, window: timedelta) -> str | None:
        now = time.time()
        key = f"{rule}\x1f{story}"
        with self._write() as db:
            row = db.execute("SELECT alert_id FROM alerted WHERE key = ? AND expires > ?", (key, now)).fetchone()
            if row is not None:
                return str(row[0])
            db.execute(
                "INSERT INTO alerted (key, alert_id, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET alert_id = excluded.alert_id, expires = excluded.expires",
                (key, alert_id, now + window.total_seconds()),
            )
        return None

    # Leases ------------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT holder FROM lease WHERE name = ? AND expires > ?", (name, now)).fetchone()
            if row is not None:
                return bool(row[0] == holder)
            db.execute(
                "INSERT INTO lease (name, holder, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires",
                (name, holder, now + ttl.total_seconds()),
            )
        return True

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM lease WHERE name = ? AND holder = ?", (name, holder))

    # Entry leases ------------------------------------------------------------------------------

    def claim_entries(
        self,
        entries: Sequence[tuple[Sequence[str], Mapping[str, Any]]],
        holder: str,
        lease: timedelta,
        ttl: timedelta = DEFAULT_SEEN_TTL,
    ) -> list[EntryClaim]:
        now = time.time()
        claims = []
        with self._write() as db:
            for keys, record in entries:
                claims.append(self._claim_entry(db, list(keys), record, holder, now, lease, ttl))
        return claims

    def _claim_entry(
        self,
        db: sqlite3.Connection,
        keys: list[str],
        record: Mapping[str, Any],
        holder: str,
        now: float,
        lease: timedelta,
        ttl: timedelta,
    ) -> EntryClaim:
        hashed = [digest(k) for k in keys]
        expires = now + ttl.total_seconds()
        until = now + lease.total_seconds()
        marks = ",".join("?" * len(hashed))
        # Finished under another of its keys, or marked seen by a version before entry leases.
        finished = db.execute(
            f"SELECT 1 FROM entry WHERE key IN ({marks}) AND state = 'done' AND expires > ? "
            f"UNION ALL SELECT 1 FROM seen WHERE key IN ({marks}) AND expires > ? LIMIT 1",
            (*hashed, now, *hashed, now),
        ).fetchone()
        row = db.execute(
            "SELECT state, holder, until, takeovers, since FROM entry WHERE key = ? AND expires > ?", (hashed[0], now)
        ).fetchone()
        if finished is not None or (row is not None and row[0] == "done"):
            if row is not None and row[0] == "done":
                db.execute("UPDATE entry SET expires = ? WHERE key = ?", (expires, hashed[0]))
            return EntryClaim("seen")
        if row is not None:
            _, previous, held_until, takeovers, since = row
            if held_until > now:
                return EntryClaim("busy", int(takeovers), previous)
            # An entry leased before `since` was kept counts from its first takeover.
            since = now if since is None else since
            db.execute(
                "UPDATE entry SET holder = ?, until = ?, takeovers = takeovers + 1, record = ?, expires = ?, "
                "since = ? WHERE key = ?",
                (holder, until, json.dumps(dict(record)), expires, since, hashed[0]),
            )
            return EntryClaim("retaken", int(takeovers) + 1, previous, max(0.0, now - since))
        db.execute(
            "INSERT INTO entry (key, state, holder, until, takeovers, keys, record, expires, since) "
            "VALUES (?, 'lease', ?, ?, 0, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = 'lease', "
            "holder = excluded.holder, until = excluded.until, takeovers = 0, keys = excluded.keys, "
            "record = excluded.record, expires = excluded.expires, since = excluded.since",
            (hashed[0], holder, until, json.dumps(keys), json.dumps(dict(record)), expires, now),
        )
        return EntryClaim("new")

    def renew_entries(self, firsts: Sequence[str], holder: str, lease: timedelta) -> list[bool]:
        return self._set_leases(firsts, holder, time.time() + lease.total_seconds())

    def release_entries(self, firsts: Sequence[str], holder: str) -> None:
        self._set_leases(firsts, holder, 0.0)

    def _set_leases(self, firsts: Sequence[str], holder: str, until: float) -> list[bool]:
        results = []
        with self._write() as db:
            for first in firsts:
                cursor = db.execute(
                    "UPDATE entry SET until = ? WHERE key = ? AND state = 'lease' AND holder = ?",
                    (until, digest(first), holder),
                )
                results.append(cursor.rowcount > 0)
        return results

    def finish_entries(self, entries: Sequence[Sequence[str]], ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        expires = time.time() + ttl.total_seconds()
        with self._write() as db:
            db.executemany(
                "INSERT INTO entry (key, state, takeovers, expires) VALUES (?, 'done', 0, ?) "
                "ON CONFLICT(key) DO UPDATE SET state = 'done', holder = NULL, until = NULL, keys = NULL, "
                "record = NULL, since = NULL, expires = excluded.expires",
                [(digest(key), expires) for keys in entries for key in keys],
            )

    def take_expired_entries(self, holder: str, lease: timedelta, count: int) -> list[PendingEntry]:
        now = time.time()
        with self._write() as db:
            rows = db.execute(
                "SELECT key, holder, takeovers, keys, record, COALESCE(since, ?) FROM entry "
                "WHERE state = 'lease' AND until <= ? AND expires > ? ORDER BY until LIMIT ?",
                (now, now, now, count),
            ).fetchall()
            db.executemany(
                "UPDATE entry SET holder = ?, until = ?, takeovers = takeovers + 1, since = ? WHERE key = ?",
                [(holder, now + lease.total_seconds(), row[5], row[0]) for row in rows],
            )
        return [
            PendingEntry(tuple(json.loads(k)), json.loads(record), int(takeovers) + 1, previous, max(0.0, now - since))
            for _, previous, takeovers, k, record, since in rows
        ]

    # Outbox ------------------------------------------------------------------------------------

    def outbox_add(self, payloads: Sequence[Mapping[str, Any]]) -> list[str]:
        now = time.time()
        ids = []
        with self._write() as db:
            for payload in payloads:
                cursor = db.execute(
                    "INSERT INTO outbox (payload, created) VALUES (?, ?)", (json.dumps(dict(payload)), now)
                )
                ids.append(str(cursor.lastrowid))
        return ids

    def outbox_take(self, consumer: str, count: int, idle: timedelta) -> list[OutboxEntry]:
        now = time.time()
        stale = now - idle.total_seconds()
        with self._write() as db:
            rows = db.execute(
                "SELECT id, payload, deliveries FROM outbox WHERE consumer = ? "
                "UNION ALL SELECT id, payload, deliveries FROM outbox WHERE consumer != ? AND taken <= ? "
                "UNION ALL SELECT id, payload, deliveries FROM outbox WHERE consumer IS NULL "
                "ORDER BY id LIMIT ?",
                (consumer, consumer, stale, count),
            ).fetchall()
            db.executemany(
                "UPDATE outbox SET consumer = ?, taken = ?, deliveries = deliveries + 1 WHERE id = ?",
                [(consumer, now, row[0]) for row in rows],
            )
        return [OutboxEntry(str(i), json.loads(payload), deliveries + 1) for i, payload, deliveries in rows]

    def outbox_ack(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._write() as db:
            db.executemany("DELETE FROM outbox WHERE id = ?", [(int(i),) for i in ids])

    def outbox_depth(self) -> tuple[int, float | None]:
        count, oldest = self._read("SELECT COUNT(*), MIN(created) FROM outbox")[0]
        return int(count), (max(0.0, time.time() - oldest) if oldest is not None else None)

    def receipt(self, key: str) -> str | None:
        rows = self._read("SELECT receipt FROM receipt WHERE key = ? AND expires > ?", (digest(key), time.time()))
        return str(rows[0][0]) if rows else None

    def save_receipt(self, key: str, receipt: str, ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO receipt (key, receipt, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET receipt = excluded.receipt, expires = excluded.expires",
                (digest(key), receipt, time.time() + ttl.total_seconds()),
            )

    def digest_add(self, bucket: str, member: str, payload: Mapping[str, Any]) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO digest (bucket, member, payload) VALUES (?, ?, ?) "
                "ON CONFLICT(bucket, member) DO UPDATE SET payload = excluded.payload",
                (bucket, member, json.dumps(dict(payload))),
            )

    def digest_buckets(self) -> list[str]:
        return [row[0] for row in self._read("SELECT DISTINCT bucket FROM digest ORDER BY bucket")]

    def digest_items(self, bucket: str) -> dict[str, dict[str, Any]]:
        rows = self._read("SELECT member, payload FROM digest WHERE bucket = ?", (bucket,))
        return {member: json.loads(payload) for member, payload in rows}

    def digest_remove(self, bucket: str, members: Sequence[str]) -> None:
        with self._write() as db:
            db.executemany("DELETE FROM digest WHERE bucket = ? AND member = ?", [(bucket, m) for m in members])

    def dead_add(self, payload: Mapping[str, Any], reason: str) -> str:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO dead (payload, reason, at) VALUES (?, ?, ?)",
                (json.dumps(dict(payload)), reason, time.time()),
            )
        return str(cursor.lastrowid)

    def dead_list(self) -> list[DeadLetter]:
        rows = self._read("SELECT id, payload, reason, at FROM dead ORDER BY id")
        return [DeadLetter(str(i), json.loads(payload), reason, at) for i, payload, reason, at in rows]

    def dead_count(self) -> int:
        ((count,),) = self._read("SELECT COUNT(*) FROM dead")
        return int(count)

    def dead_remove(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._write() as db:
            db.executemany("DELETE FROM dead WHERE id = ?", [(int(i),) for i in ids])
