"""The feedback role on Redis: one key per mute, snooze and mark (each with its expiry), small indexes to list them.

No command spans two keys, so it works unchanged on Redis Cluster; the indexes are pruned as they are read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from monitor.store.feedback import MARK_KEEP, Held, Mark, Mute, Snooze, dump, load, pair, unpair
from monitor.store.keys import Keys

if TYPE_CHECKING:
    from monitor.store.base import StoreError


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisFeedback:
    """The FeedbackStore methods of RedisStore."""

    if TYPE_CHECKING:
        client: Any
        keys: Keys

        def _fail(self, exc: Exception) -> StoreError: ...

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        from monitor.store.redis import REDIS_ERRORS

        try:
            yield
        except REDIS_ERRORS as exc:
            raise self._fail(exc) from None

    # What a click needs ----------------------------------------------------------------------

    def remember_alert(self, alert_id: str, rule: str, record: Mapping[str, Any], at: float, ttl: timedelta) -> None:
        raised = self.keys.fb_raised(rule)
        keep = MARK_KEEP.total_seconds()
        with self._mapped():
            pipe = self.client.pipeline(transaction=False)
            pipe.set(
                self.keys.fb_alert(alert_id), json.dumps(dict(record), ensure_ascii=False), px=_ms(ttl.total_seconds())
            )
            pipe.zadd(raised, {alert_id: at}, nx=True)
            pipe.zremrangebyscore(raised, "-inf", time.time() - keep)
            pipe.pexpire(raised, _ms(keep))
            pipe.hset(self.keys.fb_raised_rules, rule, str(at))
            pipe.pexpire(self.keys.fb_raised_rules, _ms(keep))
            pipe.execute()

    def remembered_alert(self, alert_id: str) -> dict[str, Any] | None:
        with self._mapped():
            raw = self.client.get(self.keys.fb_alert(alert_id))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def alerts_raised(self, since: float) -> dict[str, int]:
        with self._mapped():
            rules = [_text(r) for r in self.client.hkeys(self.keys.fb_raised_rules)]
            pipe = self.client.pipeline(transaction=False)
            for rule in rules:
                pipe.zcount(self.keys.fb_raised(rule), since, "+inf")
            counts = pipe.execute()
        return {rule: int(count) for rule, count in zip(rules, counts, strict=True) if count}

    # Mutes and snoozes -----------------------------------------------------------------------

    def _set_until(self, key: str, index: str, field: str, value: str, until: float) -> bool:
        with self._mapped():
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, value, pxat=_ms(until), get=True)
            pipe.hset(index, field, str(until))
            previous, _ = pipe.execute()
            self._extend(index, until)
        return previous is None

    def _extend(self, key: str, until: float) -> None:
        """Let an index live at least until `until` (an index holds no entry older than its longest)."""
        if self.client.pexpiretime(key) < _ms(until):
            self.client.pexpireat(key, _ms(until))

    def _lift(self, key: str, index: str, field: str) -> bool:
        with self._mapped():
            pipe = self.client.pipeline(transaction=False)
            pipe.delete(key)
            pipe.delete(self.keys.fb_held(key))
            pipe.hdel(index, field)
            removed, _, _ = pipe.execute()
        return bool(removed)

    def _in_force(self, index: str, key_of: Any) -> list[tuple[str, bytes, int]]:
        """(index field, record, held count) of every entry of an index still in force; the rest are pruned."""
        with self._mapped():
            names = [_text(f) for f in self.client.hkeys(index)]
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                key = key_of(*unpair(name))
                pipe.get(key)
                pipe.scard(self.keys.fb_held(key))
            replies = pipe.execute()
            found, gone = [], []
            for n, name in enumerate(names):
                raw, held = replies[2 * n], replies[2 * n + 1]
                if raw is None:
                    gone.append(name)
                else:
                    found.append((name, raw, int(held)))
            if gone:
                self.client.hdel(index, *gone)
        return found

    def set_mute(self, mute: Mute) -> bool:
        key = self.keys.fb_mute(mute.story, mute.channel)
        return self._set_until(key, self.keys.fb_mutes, pair(mute.story, mute.channel), dump(mute, "held"), mute.until)

    def lift_mute(self, story: str, channel: str) -> bool:
        return self._lift(self.keys.fb_mute(story, channel), self.keys.fb_mutes, pair(story, channel))

    def mutes(self) -> list[Mute]:
        found = (load(Mute, raw, held=held) for _, raw, held in self._in_force(self.keys.fb_mutes, self.keys.fb_mute))
        return sorted((m for m in found if m is not None), key=lambda m: m.at)

    def set_snooze(self, snooze: Snooze) -> bool:
        key = self.keys.fb_snooze(snooze.rule, snooze.channel)
        field = pair(snooze.rule, snooze.channel)
        return self._set_until(key, self.keys.fb_snoozes, field, dump(snooze, "held"), snooze.until)

    def lift_snooze(self, rule: str, channel: str) -> bool:
        return self._lift(self.keys.fb_snooze(rule, channel), self.keys.fb_snoozes, pair(rule, channel))

    def snoozes(self) -> list[Snooze]:
        entries = self._in_force(self.keys.fb_snoozes, self.keys.fb_snooze)
        found = (load(Snooze, raw, held=held) for _, raw, held in entries)
        return sorted((s for s in found if s is not None), key=lambda s: s.until)

    def hold(self, alert_id: str, rule: str, story: str, channel: str) -> Held | None:
        mute_key, snooze_key = self.keys.fb_mute(story, channel), self.keys.fb_snooze(rule, channel)
        with self._mapped():
            pipe = self.client.pipeline(transaction=False)
            pipe.get(mute_key)
            pipe.get(snooze_key)
            muted, snoozed = pipe.execute()
            reason: Held
            record: Mute | Snooze | None
            if muted is not None:
                reason, key, record = "muted", mute_key, load(Mute, muted)
            elif snoozed is not None:
                reason, key, record = "snoozed", snooze_key, load(Snooze, snoozed)
            else:
                return None
            held = self.keys.fb_held(key)
            pipe = self.client.pipeline(transaction=False)
            pipe.sadd(held, alert_id)
            # The count goes with what it counts (a record that cannot be read still holds, for a day).
            pipe.pexpireat(held, _ms(record.until if record is not None else time.time() + 86400))
            pipe.execute()
        return reason

    # Marks -----------------------------------------------------------------------------------

    def add_mark(self, mark: Mark, ttl: timedelta = MARK_KEEP) -> bool:
        ((user, name),) = mark.by.items()
        key, by = self.keys.fb_mark(mark.rule, mark.doc_id), self.keys.fb_mark_by(mark.rule, mark.doc_id)
        ms = _ms(ttl.total_seconds())
        with self._mapped():
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, dump(mark, "by"), nx=True, px=ms)
            pipe.hsetnx(by, user, json.dumps({"name": name, "at": mark.at}))
            pipe.pexpire(key, ms)
            pipe.pexpire(by, ms)
            pipe.zadd(self.keys.fb_marks, {pair(mark.rule, mark.doc_id): mark.at}, nx=True)
            keep = max(ttl, MARK_KEEP).total_seconds()
            pipe.zremrangebyscore(self.keys.fb_marks, "-inf", time.time() - keep)
            replies = pipe.execute()
            self._extend(self.keys.fb_marks, time.time() + keep)
        return bool(replies[1])

    def remove_mark(self, rule: str, doc_id: str, user: str) -> bool:
        key, by = self.keys.fb_mark(rule, doc_id), self.keys.fb_mark_by(rule, doc_id)
        with self._mapped():
            removed = self.client.hdel(by, user)
            if removed and not self.client.hlen(by):
                self.client.delete(key)
                self.client.zrem(self.keys.fb_marks, pair(rule, doc_id))
        return bool(removed)

    def marks(self, since: float = 0.0) -> list[Mark]:
        with self._mapped():
            names = [_text(n) for n in self.client.zrangebyscore(self.keys.fb_marks, since, "+inf")]
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                rule, doc_id = unpair(name)
                pipe.get(self.keys.fb_mark(rule, doc_id))
                pipe.hgetall(self.keys.fb_mark_by(rule, doc_id))
            replies = pipe.execute()
        out, gone = [], []
        for n, name in enumerate(names):
            raw, markers = replies[2 * n], replies[2 * n + 1]
            by = {_text(user): str(json.loads(value).get("name") or "") for user, value in markers.items()}
            mark = load(Mark, raw, by=by) if raw is not None and by else None
            if mark is not None:
                out.append(mark)
            elif raw is None:
                gone.append(name)
        if gone:
            with self._mapped():
                self.client.zrem(self.keys.fb_marks, *gone)
        return out
