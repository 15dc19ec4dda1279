"""/v1/chat/completions: answers wait for a slot on the event loop, never in a thread, and a client
that hangs up leaves the line at once (or stops its answer, which returns its slot)."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Optional, TypeVar

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from app import http_schemas as wire
from app.chat import Answer, Retrieved, Token
from app.http_stream import NOTICE_EVERY_S, AnswerWorker
from app.queueing import async_ticket
from core.errors import Busy, KabarError

if TYPE_CHECKING:
    from app.api import Assistant

log = logging.getLogger(__name__)
T = TypeVar("T")
CLIENT_GONE = 499  # nginx's code; nobody reads it, the access log does


class ClientGone(Exception):
    """The client hung up before its answer was ready."""


def add_chat_routes(router: APIRouter, assistant: "Assistant") -> None:
    @router.get("/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": wire.MODEL_ID, "object": "model", "owned_by": "kabar"}]}

    @router.post("/chat/completions")
    async def chat_completions(body: wire.ChatRequest, request: Request):
        """Answer the last user message from the archive; ``stream`` sends server-sent events."""
        try:
            question, history = body.question_and_history()
        except ValueError as err:
            raise HTTPException(400, str(err)) from err
        assistant.validate_question(question)
        if body.stream:
            _admit(assistant)
            return StreamingResponse(_sse(assistant, question, history), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            return wire.completion(await _answer_once(assistant, request, question, history))
        except ClientGone:
            return Response(status_code=CLIENT_GONE)


def _admit(assistant: "Assistant") -> None:
    """Refuse politely, rather than queue without bound, when too many answers already wait."""
    running, waiting = assistant.answer_slots.load()
    if running >= assistant.answer_slots.size and waiting >= assistant.settings.max_waiting_answers:
        raise Busy(f"Busy: {running} answering and {waiting} waiting. Try again shortly.")


def _events(assistant: "Assistant", question: str, history):
    """The verified answer's events; runs on the worker thread (the first call loads the model)."""
    yield from assistant.chat_service.stream(question, history, verified=True)


async def _answer_once(assistant: "Assistant", request: Request, question: str, history) -> Answer:
    """Wait for a slot (a place given up the moment the client hangs up), then the whole answer."""
    slots = assistant.answer_slots
    ticket, granted = async_ticket(slots, assistant.settings.max_waiting_answers)
    worker = None
    try:
        await _unless_gone(request, granted)
        worker = AnswerWorker(_events(assistant, question, history), on_done=lambda: slots.leave(ticket))
        return await _unless_gone(request, _final_answer(worker))
    finally:
        if worker is None:
            slots.leave(ticket)


async def _final_answer(worker: AnswerWorker) -> Answer:
    async for event in worker.items():
        if isinstance(event, Answer):
            return event
    raise RuntimeError("the chat service ended without an answer")


async def _unless_gone(request: Request, work: Awaitable[T]) -> T:
    """``work``'s result, or ClientGone as soon as the client disconnects (``work`` is then cancelled)."""
    task, gone = asyncio.ensure_future(work), asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise ClientGone()
    finally:
        for pending in (task, gone):
            pending.cancel()
        await asyncio.wait({task, gone})  # let the cancelled work clean up (stop its worker) first


async def _disconnected(request: Request) -> None:
    """Returns when the client hangs up (the body was read already, so nothing else arrives)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _sse(assistant: "Assistant", question: str, history) -> AsyncIterator[str]:
    """OpenAI chunks: role, retrieved passages, verified sentences, then sources; queue notices as comments."""
    completion_id, slots, worker = wire.new_id(), assistant.answer_slots, None
    yield _data(wire.chunk(completion_id, {"role": "assistant", "content": ""}))
    ticket, granted = async_ticket(slots)
    try:
        while not granted.done():  # no slot yet: say where the line stands
            try:
                await asyncio.wait_for(asyncio.shield(granted), NOTICE_EVERY_S)
            except asyncio.TimeoutError:
                running, waiting = slots.load()
                yield f": waiting for an answer slot ({running} answering, {waiting} waiting)\n\n"
        worker = AnswerWorker(_events(assistant, question, history), on_done=lambda: slots.leave(ticket))
        async for chunk in _chunks(completion_id, worker):
            yield chunk
    except KabarError as err:
        yield _data(wire.error_body(str(err), type(err).__name__))
    except Exception:
        log.exception("streamed answer failed")
        yield _data(wire.error_body("Something went wrong while answering; see the server log.", "server_error"))
    finally:  # also when the client hangs up (the response task is cancelled)
        if worker is None:
            slots.leave(ticket)
    yield "data: [DONE]\n\n"


async def _chunks(completion_id: str, worker: AnswerWorker) -> AsyncIterator[str]:
    streamed = False
    async for event in worker.items():
        if event is None:
            yield ": working\n\n"  # keeps proxies from closing a quiet connection
        elif isinstance(event, Retrieved):
            passages = [wire.passage_json(p, i) for i, p in enumerate(event.passages, start=1)]
            yield _data(wire.chunk(completion_id, {}, retrieved=passages))
        elif isinstance(event, Token) and event.text:
            streamed = True
            yield _data(wire.chunk(completion_id, {"content": event.text}))
        elif isinstance(event, Answer):
            delta = {} if streamed else {"content": event.text}  # a refusal was never streamed
            yield _data(wire.chunk(completion_id, delta, "stop", **wire.answer_extras(event)))


def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
