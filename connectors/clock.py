"""Time as the connectors see it: injectable, so tests and sandboxes can move it without really sleeping."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Protocol


class Clock(Protocol):
    """Wall time and waiting."""

    def now(self) -> dt.datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it at once. Shared by client and sandbox."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += dt.timedelta(seconds=max(seconds, 0))

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += dt.timedelta(**delta)


SYSTEM_CLOCK = SystemClock()
_current: list[Clock] = [SYSTEM_CLOCK]


def current() -> Clock:
    """The clock services use when none is passed: the system clock unless a test installed another."""
    return _current[-1]


@contextlib.contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Install `clock` for the services called inside the block (tasks and views take no clock)."""
    _current.append(clock)
    try:
        yield clock
    finally:
        _current.remove(clock)
