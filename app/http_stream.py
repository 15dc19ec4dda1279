"""Bridge a blocking event iterator (the chat service) to an async server-sent-events response."""
from __future__ import annotations

import asyncio
import threading
from typing import AsyncIterator, Iterator, TypeVar

T = TypeVar("T")
NOTICE_EVERY_S = 1.0


async def pump_events(events: Iterator[T]) -> AsyncIterator[T | None]:
    """Yield the iterator's items from a worker thread, and None each second nothing came (queue notices).

    When the client goes away the worker stops after its next item and closes the iterator, which
    closes the model's stream, so nobody's slot is held by an answer no one reads.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    def post(kind: str, value=None) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop has already closed
            stop.set()

    def work() -> None:
        try:
            for item in events:
                post("item", item)
                if stop.is_set():
                    break
            post("done")
        except BaseException as err:  # handed over to the request, which reports it
            post("error", err)
        finally:
            close = getattr(events, "close", None)
            if close:
                close()

    threading.Thread(target=work, name="kabar-answer", daemon=True).start()
    try:
        while True:
            try:
                kind, value = await asyncio.wait_for(queue.get(), NOTICE_EVERY_S)
            except asyncio.TimeoutError:
                yield None
                continue
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
