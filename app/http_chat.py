"""/v1/chat/completions: answers wait for a slot on the event loop, never in a thread, and a client
that hangs up leaves the line at once (or stops its answer, which returns its slot)."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Optional, TypeVar, Union

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from app import http_schemas as wire
from app.chat import Answer, Retrieved, Token
from app.http_stream import NOTICE_EVERY_S, AnswerWorker
from app.http_usage import TokenCounter
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
    counter = TokenCounter(lambda: chat_model_url(assistant))

    @router.post("/chat/completions")
    async def chat_completions(body: wire.ChatRequest, request: Request):
        """Answer the last user message from the archive; ``stream`` sends server-sent events."""
        try:
            question, history = body.question_and_history()
        except ValueError as err:
            raise HTTPException(400, str(err)) from err
        assistant.validate_question(question)
        prompt = body.prompt_text()
        if body.stream:
            _admit(assistant)
            usage = (lambda text: counter.usage(prompt, text)) if body.wants_stream_usage() else None
            return StreamingResponse(_sse(assistant, question, history, usage), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            answer = await _answer_once(assistant, request, question, history)
        except ClientGone:
            return Response(status_code=CLIENT_GONE)
        return wire.completion(answer, await counter.usage(prompt, answer.text))


def chat_model_url(assistant: "Assistant") -> Optional[str]:
    """The chat model's /v1 URL once it is loaded (None before: counting must not load it)."""
    return assistant.chat_model_url


def _admit(assistant: "Assistant") -> None:
    """Refuse politely, rather than queue without bound, when too many answers already wait."""
    running, waiting = assistant.answer_slots.load()
    if running >= assistant.answer_slots.size and waiting >= assistant.settings.max_waiting_answers:
        raise Busy(f"Busy: {running} answering and {waiting} waiting. Try again shortly.")


def _events(assistant: "Assistant", question: str, history):
    """The verified answer's events; runs on the worker thread (the first call loads the model)."""
    yield from assistant.answer_events(question, history, verified=True)


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
    """The answer, once the worker has ended: its slot is back before the client hears (no race with /health)."""
    answer = None
    async for event in worker.items():
        if isinstance(event, Answer):
            answer = event
    if answer is None:
        raise RuntimeError("the chat service ended without an answer")
    return answer


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


async def _sse(assistant: "Assistant", question: str, history, usage=None) -> AsyncIterator[str]:
    """OpenAI chunks: role, retrieved passages, verified sentences, then sources; queue notices as comments.
    With ``usage`` (the answer text -> its usage) every chunk has ``usage`` null and a last one without
    choices holds it, as OpenAI's ``stream_options.include_usage`` does."""
    completion_id, slots, worker, answer = wire.new_id(), assistant.answer_slots, None, None
    extra = {"usage": None} if usage else {}
    yield _data(wire.chunk(completion_id, {"role": "assistant", "content": ""}, **extra))
    ticket, granted = async_ticket(slots)
    try:
        while not granted.done():  # no slot yet: say where the line stands
            try:
                await asyncio.wait_for(asyncio.shield(granted), NOTICE_EVERY_S)
            except asyncio.TimeoutError:
                running, waiting = slots.load()
                yield f": waiting for an answer slot ({running} answering, {waiting} waiting)\n\n"
        worker = AnswerWorker(_events(assistant, question, history), on_done=lambda: slots.leave(ticket))
        async for item in _chunks(completion_id, worker, extra):
            if isinstance(item, Answer):
                answer = item
            else:
                yield item
        if usage and answer is not None:
            yield _data(wire.usage_chunk(completion_id, await usage(answer.text)))
    except KabarError as err:
        yield _data(wire.error_body(str(err), type(err).__name__))
    except Exception:
        log.exception("streamed answer failed")
        yield _data(wire.error_body("Something went wrong while answering; see the server log.", "server_error"))
    finally:  # also when the client hangs up (the response task is cancelled)
        if worker is None:
            slots.leave(ticket)
    yield "data: [DONE]\n\n"


async def _chunks(completion_id: str, worker: AnswerWorker, extra: dict) -> AsyncIterator[Union[str, Answer]]:
    """The events as SSE text; the final answer's chunk sends what the deltas still lack of its text
    (a refusal was never streamed), and then the Answer itself, for the usage chunk."""
    streamed = ""
    async for event in worker.items():
        if event is None:
            yield ": working\n\n"  # keeps proxies from closing a quiet connection
        elif isinstance(event, Retrieved):
            passages = [wire.passage_json(p, i) for i, p in enumerate(event.passages, start=1)]
            yield _data(wire.chunk(completion_id, {}, retrieved=passages, **extra))
        elif isinstance(event, Token) and event.text:
            streamed += event.text
            yield _data(wire.chunk(completion_id, {"content": event.text}, **extra))
        elif isinstance(event, Answer):
            if not event.text.startswith(streamed):
                log.error("streamed text is not the start of the final answer: %r vs %r", streamed, event.text)
            rest = event.text[len(streamed):] if event.text.startswith(streamed) else ""
            yield _data(wire.chunk(completion_id, {"content": rest} if rest else {}, "stop",
                                   **wire.answer_extras(event), **extra))
            yield event


def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
