"""Answer slots: the chat model serves a few answers at a time; the rest wait in line, visibly."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class AnswerSlots:
    """A counting semaphore that also says how many answers are running and how many wait."""

    def __init__(self, size: int):
        self._size = max(1, size)
        self._condition = threading.Condition()
        self._running = 0
        self._waiting = 0

    @property
    def size(self) -> int:
        return self._size

    def load(self) -> tuple[int, int]:
        """(running, waiting) right now, for health checks and queue notices."""
        with self._condition:
            return self._running, self._waiting

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of an answer; waits (first come, first served enough) if full."""
        with self._condition:
            self._waiting += 1
            try:
                self._condition.wait_for(lambda: self._running < self._size)
            finally:
                self._waiting -= 1
            self._running += 1
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify()
