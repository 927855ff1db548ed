"""The feedback role on SQLite: a table per kind of record, each row with its expiry."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from monitor.store.feedback import MARK_KEEP, Held, Mark, Mute, Snooze, dump, load

FEEDBACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS fb_alert (alert_id TEXT PRIMARY KEY, record TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS fb_raised (
    rule TEXT NOT NULL, alert_id TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (rule, alert_id)
);
CREATE TABLE IF NOT EXISTS fb_mute (
    story TEXT NOT NULL, channel TEXT NOT NULL, record TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (story, channel)
);
CREATE TABLE IF NOT EXISTS fb_snooze (
    rule TEXT NOT NULL, channel TEXT NOT NULL, record TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (rule, channel)
);
CREATE TABLE IF NOT EXISTS fb_held (
    kind TEXT NOT NULL, subject TEXT NOT NULL, channel TEXT NOT NULL, alert_id TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (kind, subject, channel, alert_id)
);
CREATE TABLE IF NOT EXISTS fb_mark (
    rule TEXT NOT NULL, doc TEXT NOT NULL, record TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (rule, doc)
);
CREATE TABLE IF NOT EXISTS fb_mark_by (
    rule TEXT NOT NULL, doc TEXT NOT NULL, user TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL,
    expires REAL NOT NULL, PRIMARY KEY (rule, doc, user)
);
"""
# The tables whose expired rows the store purges now and then.
FEEDBACK_EXPIRING = ("fb_alert", "fb_raised", "fb_mute", "fb_snooze", "fb_held", "fb_mark", "fb_mark_by")

# The table holding each kind of hold, and the column naming what is held (a story or a rule).
_HOLDS = {"muted": ("fb_mute", "story"), "snoozed": ("fb_snooze", "rule")}


class SQLiteFeedback:
    """The FeedbackStore methods of SQLiteStore."""

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    # What a click needs ----------------------------------------------------------------------

    def remember_alert(self, alert_id: str, rule: str, record: Mapping[str, Any], at: float, ttl: timedelta) -> None:
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO fb_alert (alert_id, record, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(alert_id) DO UPDATE SET record = excluded.record, expires = excluded.expires",
                (alert_id, json.dumps(dict(record), ensure_ascii=False), now + ttl.total_seconds()),
            )
            db.execute(
                "INSERT INTO fb_raised (rule, alert_id, at, expires) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (rule, alert_id, at, now + MARK_KEEP.total_seconds()),
            )

    def remembered_alert(self, alert_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT record FROM fb_alert WHERE alert_id = ? AND expires > ?", (alert_id, time.time()))
        if not rows:
            return None
        try:
            record = json.loads(rows[0][0])
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def alerts_raised(self, since: float) -> dict[str, int]:
        rows = self._read(
            "SELECT rule, COUNT(*) FROM fb_raised WHERE at >= ? AND expires > ? GROUP BY rule", (since, time.time())
        )
        return {rule: int(count) for rule, count in rows}

    # Mutes and snoozes -----------------------------------------------------------------------

    def _set_until(self, table: str, subject: str, channel: str, record: str, until: float) -> bool:
        column = _column(table)
        with self._write() as db:
            live = db.execute(
                f"SELECT 1 FROM {table} WHERE {column} = ? AND channel = ? AND expires > ?",
                (subject, channel, time.time()),
            ).fetchone()
            if live is None:  # an earlier, lapsed one held nothing of this one
                db.execute(
                    "DELETE FROM fb_held WHERE kind = ? AND subject = ? AND channel = ?",
                    (_kind(table), subject, channel),
                )
            db.execute(
                f"INSERT INTO {table} ({column}, channel, record, expires) VALUES (?, ?, ?, ?) "
                f"ON CONFLICT({column}, channel) DO UPDATE SET record = excluded.record, expires = excluded.expires",
                (subject, channel, record, until),
            )
        return live is None

    def _lift(self, table: str, subject: str, channel: str) -> bool:
        column = _column(table)
        now = time.time()
        with self._write() as db:
            cursor = db.execute(
                f"DELETE FROM {table} WHERE {column} = ? AND channel = ? AND expires > ?", (subject, channel, now)
            )
            db.execute(
                "DELETE FROM fb_held WHERE kind = ? AND subject = ? AND channel = ?", (_kind(table), subject, channel)
            )
        return cursor.rowcount > 0

    def _in_force(self, table: str) -> list[tuple[str, int]]:
        column = _column(table)
        return [
            (record, int(held))
            for record, held in self._read(
                f"SELECT t.record, (SELECT COUNT(*) FROM fb_held h WHERE h.kind = ? AND h.subject = t.{column} "
                f"AND h.channel = t.channel) FROM {table} t WHERE t.expires > ?",
                (_kind(table), time.time()),
            )
        ]

    def set_mute(self, mute: Mute) -> bool:
        return self._set_until("fb_mute", mute.story, mute.channel, dump(mute, "held"), mute.until)

    def lift_mute(self, story: str, channel: str) -> bool:
        return self._lift("fb_mute", story, channel)

    def mutes(self) -> list[Mute]:
        found = (load(Mute, record, held=held) for record, held in self._in_force("fb_mute"))
        return sorted((m for m in found if m is not None), key=lambda m: m.at)

    def set_snooze(self, snooze: Snooze) -> bool:
        return self._set_until("fb_snooze", snooze.rule, snooze.channel, dump(snooze, "held"), snooze.until)

    def lift_snooze(self, rule: str, channel: str) -> bool:
        return self._lift("fb_snooze", rule, channel)

    def snoozes(self) -> list[Snooze]:
        found = (load(Snooze, record, held=held) for record, held in self._in_force("fb_snooze"))
        return sorted((s for s in found if s is not None), key=lambda s: s.until)

    def hold(self, alert_id: str, rule: str, story: str, channel: str) -> Held | None:
        now = time.time()
        with self._write() as db:
            reason: Held
            for reason, subject in (("muted", story), ("snoozed", rule)):
                table, column = _HOLDS[reason]
                row = db.execute(
                    f"SELECT expires FROM {table} WHERE {column} = ? AND channel = ? AND expires > ?",
                    (subject, channel, now),
                ).fetchone()
                if row is not None:
                    db.execute(
                        "INSERT INTO fb_held (kind, subject, channel, alert_id, expires) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
                        (reason, subject, channel, alert_id, row[0]),
                    )
                    return reason
        return None

    # Marks -----------------------------------------------------------------------------------

    def add_mark(self, mark: Mark, ttl: timedelta = MARK_KEEP) -> bool:
        ((user, name),) = mark.by.items()
        now = time.time()
        expires = now + ttl.total_seconds()
        with self._write() as db:
            db.execute(
                "INSERT INTO fb_mark (rule, doc, record, at, expires) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(rule, doc) DO UPDATE SET expires = excluded.expires",
                (mark.rule, mark.doc_id, dump(mark, "by"), mark.at, expires),
            )
            cursor = db.execute(
                "INSERT INTO fb_mark_by (rule, doc, user, name, at, expires) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (mark.rule, mark.doc_id, user, name, mark.at, expires),
            )
            db.execute(
                "UPDATE fb_mark_by SET expires = ? WHERE rule = ? AND doc = ?", (expires, mark.rule, mark.doc_id)
            )
        return cursor.rowcount > 0

    def remove_mark(self, rule: str, doc_id: str, user: str) -> bool:
        with self._write() as db:
            cursor = db.execute("DELETE FROM fb_mark_by WHERE rule = ? AND doc = ? AND user = ?", (rule, doc_id, user))
            left = db.execute("SELECT COUNT(*) FROM fb_mark_by WHERE rule = ? AND doc = ?", (rule, doc_id)).fetchone()
            if not left[0]:
                db.execute("DELETE FROM fb_mark WHERE rule = ? AND doc = ?", (rule, doc_id))
        return cursor.rowcount > 0

    def marks(self, since: float = 0.0) -> list[Mark]:
        now = time.time()
        markers: dict[tuple[str, str], dict[str, str]] = {}
        for rule, doc, user, name in self._read(
            "SELECT rule, doc, user, name FROM fb_mark_by WHERE expires > ? ORDER BY at", (now,)
        ):
            markers.setdefault((rule, doc), {})[user] = name
        rows = self._read(
            "SELECT rule, doc, record FROM fb_mark WHERE at >= ? AND expires > ? ORDER BY at", (since, now)
        )
        found = (load(Mark, record, by=markers[(rule, doc)]) for rule, doc, record in rows if (rule, doc) in markers)
        return [mark for mark in found if mark is not None]


def _kind(table: str) -> Held:
    return "muted" if table == "fb_mute" else "snoozed"


def _column(table: str) -> str:
    return _HOLDS[_kind(table)][1]
