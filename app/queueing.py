"""Answer slots: the chat model serves a few answers at a time; the rest wait in line, visibly.

The line is first come, first served, and a place can be given up at any time: a client that
hangs up leaves the line at once, and a slot returns as soon as its answer stops. Threads wait on a
ticket's event; the event loop (the HTTP API, the web page) awaits it without holding a thread.
An answer whose client has gone also stops inside a model call, at the model's next token
(``stop_model_calls_on``): a slot is never held by a long generation no one will read.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Optional

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tracers.context import register_configure_hook

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
        self._local = threading.local()  # the slot this thread's answer already holds, if any

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
        """Hold one slot for the duration of an answer, waiting in line first (for threads); inside
        ``held``, the slot granted already serves (one answer never queues twice)."""
        if getattr(self._local, "ticket", None) is not None:
            yield
            return
        ticket = self.enter()
        try:
            ticket.granted.wait()
            yield
        finally:
            self.leave(ticket)

    @contextmanager
    def held(self, ticket: Ticket) -> Iterator[None]:
        """Mark this thread's answer as holding ``ticket``'s slot, granted already (awaited on the loop)."""
        self._local.ticket = ticket
        try:
            yield
        finally:
            self._local.ticket = None


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


class Abandoned(BaseException):
    """Ends a model call whose answer no one waits for; a BaseException, so no judge's ``except
    Exception`` takes it for a model error and carries on with the next call."""


class _StopWhenAbandoned(BaseCallbackHandler):
    """Raises Abandoned at a model call's start or next token once its answer's ``stop`` is set."""

    raise_error = True

    def __init__(self, stop: threading.Event):
        self._stop = stop

    def _check(self, *args: Any, **kwargs: Any) -> None:
        if self._stop.is_set():
            raise Abandoned()

    on_chat_model_start = on_llm_start = on_llm_new_token = _check


_abandoned: ContextVar[Optional[_StopWhenAbandoned]] = ContextVar("kabar_answer_stop", default=None)
register_configure_hook(_abandoned, inheritable=True)


def stop_model_calls_on(stop: threading.Event) -> None:
    """In this thread from now on, every LangChain model call ends at its next token once ``stop`` is
    set. Streaming clients (ChatOpenAI here) stream even ``invoke``, so judges' calls stop too, and
    closing the stream closes the connection, which makes llama.cpp drop the generation."""
    _abandoned.set(_StopWhenAbandoned(stop))
