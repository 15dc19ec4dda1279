"""Answer slots: the chat model serves a few answers at a time; the rest wait in line, visibly.

The line is first come, first served, and a place can be given up at any time: a client that
hangs up leaves the line at once, and a slot returns as soon as its answer stops. Threads (the web
page) wait on a ticket's event; the event loop (the HTTP API) awaits it without holding a thread.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from core.errors import Busy


class Ticket:
    """One question's place: waiting in line, then holding a slot, then done."""

    def __init__(self, on_grant: Optional[Callable[[], None]] = None):
        self.granted = threading.Event()
        self.done = False
        self._on_grant = on_grant

    def grant(self) -> None:
        self.granted.set()
        if self._on_grant is not None:
            self._on_grant()


class AnswerSlots:
    """A fair counting semaphore that says how many answers run and how many wait."""

    def __init__(self, size: int):
        self._size = max(1, size)
        self._lock = threading.Lock()
        self._running = 0
        self._line: deque[Ticket] = deque()

    @property
    def size(self) -> int:
        return self._size

    def load(self) -> tuple[int, int]:
        """(running, waiting) right now, for health checks and queue notices."""
        with self._lock:
            return self._running, len(self._line)

    def enter(self, max_waiting: Optional[int] = None, on_grant: Optional[Callable[[], None]] = None) -> Ticket:
        """Join the line (granted at once when a slot is free); Busy when ``max_waiting`` already wait."""
        ticket = Ticket(on_grant)
        with self._lock:
            if max_waiting is not None and self._running >= self._size and len(self._line) >= max_waiting:
                raise Busy(f"Busy: {self._running} answering and {len(self._line)} waiting. Try again shortly.")
            self._line.append(ticket)
            granted = self._grant_locked()
        _notify(granted)
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """Give up a place in line, or return a held slot; a second call does nothing."""
        with self._lock:
            if ticket.done:
                return
            ticket.done = True
            if ticket in self._line:
                self._line.remove(ticket)
                granted = []
            else:
                self._running -= 1
                granted = self._grant_locked()
        _notify(granted)

    def _grant_locked(self) -> list[Ticket]:
        granted = []
        while self._line and self._running < self._size:
            granted.append(self._line.popleft())
            self._running += 1
        return granted

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of an answer, waiting in line first (for threads)."""
        ticket = self.enter()
        try:
            ticket.granted.wait()
            yield
        finally:
            self.leave(ticket)


def _notify(tickets: list[Ticket]) -> None:
    for ticket in tickets:  # outside the lock: a callback may take other locks
        ticket.grant()


def async_ticket(slots: AnswerSlots, max_waiting: Optional[int] = None) -> tuple[Ticket, "asyncio.Future"]:
    """A ticket and a future that the event loop can await; it resolves when the slot is granted."""
    loop = asyncio.get_running_loop()
    granted: asyncio.Future = loop.create_future()

    def resolve() -> None:
        if not granted.done():
            granted.set_result(None)

    def on_grant() -> None:
        try:
            loop.call_soon_threadsafe(resolve)
        except RuntimeError:  # the loop is gone, and with it whoever waited: hand the slot on
            slots.leave(ticket)

    ticket = slots.enter(max_waiting, on_grant=on_grant)
    return ticket, granted
