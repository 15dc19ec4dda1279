"""Bridge a blocking event iterator (the chat service) to the event loop, without holding its threads."""
from __future__ import annotations

import asyncio
import threading
from typing import AsyncIterator, Callable, Generic, Iterator, TypeVar

from app.queueing import stop_model_calls_on

T = TypeVar("T")
NOTICE_EVERY_S = 1.0


class AnswerWorker(Generic[T]):
    """Runs ``events`` on its own thread from the moment it is made; ``on_done`` runs once it ends.

    ``stop`` (also called when the reader of ``items`` goes away) ends it after its current item, or
    inside a model call at the model's next token, and closes the iterator, which closes the model's
    stream, so no slot is held by an answer no one reads.
    """

    def __init__(self, events: Iterator[T], on_done: Callable[[], None]):
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._stop = threading.Event()
        threading.Thread(target=self._work, args=(events, on_done), name="kabar-answer", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _post(self, kind: str, value=None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop has already closed
            self._stop.set()

    def _work(self, events: Iterator[T], on_done: Callable[[], None]) -> None:
        """Pass the items on; at the end close the iterator and call ``on_done`` before the reader hears of it."""
        outcome: tuple = ("done", None)
        stop_model_calls_on(self._stop)  # a model call in progress ends at its next token once stopped
        try:
            for item in events:
                if self._stop.is_set():
                    break
                self._post("item", item)
        except BaseException as err:  # handed over to the request, which reports it
            outcome = ("error", err)
        finally:
            try:
                close = getattr(events, "close", None)
                if close:
                    close()
            finally:
                on_done()  # the slot is free before the client sees the end of its answer
                self._post(*outcome)

    async def items(self, quiet_s: float = NOTICE_EVERY_S) -> AsyncIterator[T | None]:
        """The items as they come, and None after each quiet ``quiet_s`` (for keep-alive notices)."""
        try:
            while True:
                try:
                    kind, value = await asyncio.wait_for(self._queue.get(), quiet_s)
                except asyncio.TimeoutError:
                    yield None
                    continue
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            self.stop()
