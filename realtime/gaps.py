"""Detecting messages the channel layer dropped before they reached a consumer.

Each message published to a group carries the group's sequence number ``gseq``
(realtime/layer.py). A consumer baselines each group it joins with the number current at
joining, then expects every later number once. A number is *missing* when a later one arrived
before it, or when the layer's current number (read by the process's watch every few seconds)
is past it — the second catches a dropped message that nothing followed. Two publishers (two
processes) can draw numbers in one order and deliver them in the other, and a message can be on
its way while the current number is read, so a missing number is given a grace period; if it
has not arrived by then, it was dropped and the client must resync.

A number known only from the layer's counter (nothing later has arrived) may also be waiting in
the process's own backlog: when a process falls behind, messages queue for it in Redis and in its
buffers, and are late, not lost. Telling those pages to resync would add a refetch each to a
process that is already behind. So while the watch sees a backlog, such numbers' grace starts
again; once the backlog is gone they have the usual grace to arrive. A number that a later one
overtook is out of the queue's reach (dropped, or sent a moment later by its publisher): its
grace starts at that arrival, as for any other skipped number.
"""

from __future__ import annotations

import time

# A number this far ahead of what was expected is not a late delivery but a gap, at once.
_MAX_MISSING = 1000


class GapDetector:
    def __init__(self, grace: float = 3.0) -> None:
        self.grace = grace
        self._expected: dict[str, int] = {}
        self._missing: dict[str, dict[int, float]] = {}
        # Numbers known from the layer's counter only: maybe still queued for this process.
        self._tail: dict[str, dict[int, float]] = {}
        self._overflowed = False

    def baseline(self, group: str, current: int) -> None:
        """The group was (re)joined when its last number was ``current``."""
        self._expected[group] = int(current) + 1
        self._missing.pop(group, None)
        self._tail.pop(group, None)

    def forget(self, group: str) -> None:
        self._expected.pop(group, None)
        self._missing.pop(group, None)
        self._tail.pop(group, None)

    def forget_all(self) -> None:
        self._expected.clear()
        self._missing.clear()
        self._tail.clear()
        self._overflowed = False

    def seen(self, group: str, seq: int | None, now: float | None = None) -> bool:
        """Record a number; True if a gap is certain already (too many missing at once)."""
        if seq is None or not isinstance(seq, int):
            return False
        now = time.monotonic() if now is None else now
        expected = self._expected.get(group)
        if expected is None:
            # No baseline (it could not be read when joining): start from here.
            self._expected[group] = seq + 1
            self._missing.pop(group, None)
            self._tail.pop(group, None)
            return False
        tail = self._tail.get(group)
        if tail:
            tail.pop(seq, None)
            # What this one overtook is no longer waiting in a queue: it was dropped, or its
            # publisher sent it a moment later than this one's; the grace period starts now.
            skipped = [number for number in tail if number < seq]
            if skipped:
                missing = self._missing.setdefault(group, {})
                for number in skipped:
                    missing[number] = now
                    del tail[number]
        if seq == expected:
            self._expected[group] = seq + 1
            return False
        missing = self._missing.setdefault(group, {})
        if seq < expected:
            missing.pop(seq, None)  # a late arrival, or a duplicate: either way nothing is lost
            return False
        if seq - expected > _MAX_MISSING:
            self._overflowed = True
        else:
            for number in range(expected, seq):
                missing[number] = now
        self._expected[group] = seq + 1
        return self._overflowed

    def observe(self, group: str, current: int, now: float | None = None) -> None:
        """The layer says ``current`` is the group's last number: everything up to it that has
        not arrived is missing from now on (this is how a dropped *last* message is caught)."""
        expected = self._expected.get(group)
        if expected is None or current == expected - 1:
            return  # not joined, or nothing new
        if current < expected - 1:
            # The counter went back: its key expired with the group idle, or Redis lost it (the
            # epoch check resyncs that case). Nothing was numbered in between: start from here.
            self.baseline(group, current)
            return
        now = time.monotonic() if now is None else now
        tail = self._tail.setdefault(group, {})
        if current - expected >= _MAX_MISSING:
            self._overflowed = True
        else:
            for number in range(expected, current + 1):
                tail.setdefault(number, now)
        self._expected[group] = current + 1

    def groups(self) -> list[str]:
        return list(self._expected)

    def overdue(self, now: float | None = None, *, queued: bool | None = None) -> bool:
        """True (once) if some number has been missing longer than the grace period.

        ``queued`` is whether the process has messages waiting to be received; only the watch
        knows, so only its calls judge the numbers known from the counter (``None``: not them).
        """
        now = time.monotonic() if now is None else now
        tables = [self._missing]
        if queued:
            for tail in self._tail.values():
                for number in tail:
                    tail[number] = now
        elif queued is not None:
            tables.append(self._tail)
        late = self._overflowed or any(
            now - since >= self.grace for table in tables for numbers in table.values() for since in numbers.values()
        )
        if late:
            self._overflowed = False
            for table in (self._missing, self._tail):
                for numbers in table.values():
                    numbers.clear()
        return late
