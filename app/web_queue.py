"""The web chat's place in the answer line, awaited on the event loop: a visitor who closes the tab
leaves the line within a second, and an answer already running stops at the model's next token, so
its slot returns. Gradio notices a closed tab only between two updates of a generator and then
closes it, so an update comes at least every second, while waiting and while answering."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, AsyncIterator, Callable, Iterator

from app.http_stream import NOTICE_EVERY_S, AnswerWorker
from app.queueing import Ticket, async_ticket
from app.web_sources import empty_sources
from core.language import detect_language

if TYPE_CHECKING:
    from app.api import Assistant

WAITING = {"en": "⏳ Waiting for a free answer slot: {running} answering, {waiting} waiting…",
           "id": "⏳ Menunggu giliran menjawab: {running} sedang dijawab, {waiting} menunggu…"}
Respond = Callable[["Assistant", str, list], Iterator[tuple[str, str]]]  # the page's answer: app.web.respond


async def queued_answer(assistant: "Assistant", message: str, history: list,
                        respond: Respond) -> AsyncIterator[tuple[str, str]]:
    """``respond``'s (answer so far, sources panel) updates, after a place in line that a closed tab gives up;
    the page passes ``respond`` in, so this module does not import app.web back."""
    slots, worker = assistant.answer_slots, None
    ticket, granted = async_ticket(slots)
    try:
        while not ticket.granted.is_set():  # cancelled here when the visitor leaves: finally gives the place up
            running, waiting = slots.load()
            yield WAITING[detect_language(message)].format(running=running, waiting=waiting), empty_sources()
            try:
                await asyncio.wait_for(asyncio.shield(granted), NOTICE_EVERY_S)
            except asyncio.TimeoutError:
                pass
        worker = AnswerWorker(_answer(respond, assistant, ticket, message, history),
                              on_done=lambda: slots.leave(ticket))
        last = None
        async for update in worker.items():  # closed or cancelled here: items() stops the worker (slot freed)
            last = update or last
            if last is not None:  # each quiet second too: Gradio looks for a closed tab between updates only
                yield last
    finally:
        if worker is None:
            slots.leave(ticket)


def _answer(respond: Respond, assistant: "Assistant", ticket: Ticket, message: str,
            history: list) -> Iterator[tuple[str, str]]:
    """The page's answer on the worker thread, in the slot the line granted (it does not queue again)."""
    with assistant.answer_slots.held(ticket):
        yield from respond(assistant, message, history)
