"""The HTTP API beside the web chat: OpenAI-compatible chat completions plus document endpoints.

Routes only translate HTTP to the Assistant's chat and ingest services and back; Kabar's errors
become OpenAI-shaped error bodies here, at the boundary.
"""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, AsyncIterator

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import http_schemas as wire
from app.chat import Answer, Retrieved, Token
from app.http_documents import add_document_routes
from app.http_guard import Guard
from app.http_stream import pump_events
from core.errors import (AmbiguousDocument, BadDocument, BadQuestion, Busy, ConfigError, DocumentNotFound, KabarError,
                         ModelUnavailable, StoreUnavailable)

if TYPE_CHECKING:
    from app.api import Assistant

log = logging.getLogger(__name__)
STATUS = {BadQuestion: 400, DocumentNotFound: 404, AmbiguousDocument: 409, BadDocument: 422, Busy: 503,
          ModelUnavailable: 503, StoreUnavailable: 503, ConfigError: 500}
KINDS = {401: "authentication_error", 404: "not_found_error", 409: "conflict_error", 503: "overloaded_error"}


def build_api(assistant: "Assistant") -> FastAPI:
    """The FastAPI app the web page is mounted into; the guard checks keys, hosts and origins for all."""
    api = FastAPI(title="Kabar API", docs_url="/v1/docs", openapi_url="/v1/openapi.json", redoc_url=None)
    api.add_middleware(Guard, settings=assistant.settings)
    _add_error_handlers(api)
    router = APIRouter(prefix="/v1")
    _add_chat_routes(router, assistant)
    add_document_routes(router, assistant)
    api.include_router(router)

    @api.get("/health", include_in_schema=False)
    def health() -> dict:
        running, waiting = assistant.answer_slots.load()
        return {"status": "ok", "answering": running, "waiting": waiting}

    return api


def _add_chat_routes(router: APIRouter, assistant: "Assistant") -> None:
    @router.get("/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": wire.MODEL_ID, "object": "model", "owned_by": "kabar"}]}

    @router.post("/chat/completions")
    def chat_completions(request: wire.ChatRequest):
        """Answer the last user message from the archive; ``stream`` sends server-sent events."""
        try:
            question, history = request.question_and_history()
        except ValueError as err:
            raise HTTPException(400, str(err)) from err
        assistant.validate_question(question)
        _admit(assistant)
        if request.stream:
            events = assistant.stream(question, history, verified=True)
            return StreamingResponse(_sse(assistant, events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return wire.completion(assistant.ask(question, history))


def _admit(assistant: "Assistant") -> None:
    """Refuse politely, rather than queue without bound, when too many answers already wait."""
    running, waiting = assistant.answer_slots.load()
    if waiting >= assistant.settings.max_waiting_answers:
        raise HTTPException(503, f"Busy: {running} answering and {waiting} waiting. Try again shortly.",
                            headers={"Retry-After": "10"})


async def _sse(assistant: "Assistant", events) -> AsyncIterator[str]:
    """OpenAI chunks: role, retrieved passages, verified sentences, then sources; queue notices as comments."""
    completion_id = wire.new_id()
    yield _data(wire.chunk(completion_id, {"role": "assistant", "content": ""}))
    streamed = retrieved = False
    try:
        async for event in pump_events(events):
            if event is None and not retrieved:  # no slot yet: say where the line stands
                running, waiting = assistant.answer_slots.load()
                yield f": waiting for an answer slot ({running} answering, {waiting} waiting)\n\n"
            elif event is None:
                yield ": working\n\n"  # keeps proxies from closing a quiet connection
            elif isinstance(event, Retrieved):
                retrieved = True
                passages = [wire.passage_json(p, i) for i, p in enumerate(event.passages, start=1)]
                yield _data(wire.chunk(completion_id, {}, retrieved=passages))
            elif isinstance(event, Token) and event.text:
                streamed = True
                yield _data(wire.chunk(completion_id, {"content": event.text}))
            elif isinstance(event, Answer):
                delta = {} if streamed else {"content": event.text}  # a refusal was never streamed
                yield _data(wire.chunk(completion_id, delta, "stop", **wire.answer_extras(event)))
    except KabarError as err:
        yield _data(wire.error_body(str(err), type(err).__name__))
    except Exception:
        log.exception("streamed answer failed")
        yield _data(wire.error_body("Something went wrong while answering; see the server log.", "server_error"))
    yield "data: [DONE]\n\n"


def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(KabarError)
    async def kabar_error(request: Request, err: KabarError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 500)
        body = wire.error_body(str(err), type(err).__name__)
        if isinstance(err, AmbiguousDocument):
            body["error"]["documents"] = err.choices
        headers = {"Retry-After": "10"} if isinstance(err, Busy) else None
        return JSONResponse(body, status_code=status, headers=headers)

    @api.exception_handler(StarletteHTTPException)  # FastAPI's subclass and Starlette's own
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        kind = KINDS.get(err.status_code, "invalid_request_error")
        return JSONResponse(wire.error_body(_unparsable(err) or str(err.detail), kind), status_code=err.status_code,
                            headers=getattr(err, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        problems = "; ".join(_describe(e) for e in err.errors()[:5])
        return JSONResponse(wire.error_body(f"Invalid request: {problems}", "invalid_request_error"), 400)


def _unparsable(err: Exception) -> str:
    """Why FastAPI could not parse a body, in words ('an error parsing the body' says nothing)."""
    if isinstance(err.__cause__, RecursionError):
        return "Invalid request: the JSON body is nested too deeply."
    if isinstance(err.__cause__, UnicodeDecodeError):
        return "Invalid request: the body is not UTF-8 text."
    return ""


def _describe(problem: dict) -> str:
    where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body") or "body"
    if problem.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return f"{where}: {problem.get('msg', 'invalid')}"
