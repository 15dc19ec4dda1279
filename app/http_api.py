"""The HTTP API beside the web chat: OpenAI-compatible chat completions plus document endpoints.

Routes only translate HTTP to the Assistant's chat and ingest services and back; Kabar's errors
become OpenAI-shaped error bodies here, at the boundary.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import http_schemas as wire
from app.http_chat import add_chat_routes
from app.http_documents import add_document_routes
from app.http_feedback import add_feedback_routes
from app.http_guard import Guard
from app.http_translate import add_translate_routes
from core.errors import (AmbiguousDocument, BadDocument, BadQuestion, Busy, ConfigError, DocumentNotFound, KabarError,
                         ModelUnavailable, StoreUnavailable)

if TYPE_CHECKING:
    from app.api import Assistant

STATUS = {BadQuestion: 400, DocumentNotFound: 404, AmbiguousDocument: 409, BadDocument: 422, Busy: 503,
          ModelUnavailable: 503, StoreUnavailable: 503, ConfigError: 500}
KINDS = {401: "authentication_error", 404: "not_found_error", 409: "conflict_error", 503: "overloaded_error"}


def build_api(assistant: "Assistant") -> FastAPI:
    """The FastAPI app the web page is mounted into; the guard checks keys, hosts and origins for all."""
    api = FastAPI(title="Kabar API", docs_url="/v1/docs", openapi_url="/v1/openapi.json", redoc_url=None)
    api.add_middleware(Guard, settings=assistant.settings)
    _add_error_handlers(api)
    router = APIRouter(prefix="/v1")
    _add_model_routes(router)
    add_chat_routes(router, assistant)
    add_document_routes(router, assistant)
    add_translate_routes(router, assistant)
    add_feedback_routes(router, assistant)
    _add_unknown_route(router)  # last: only what no other /v1 route matches
    api.include_router(router)

    @api.get("/health", include_in_schema=False)
    async def health() -> dict:
        running, waiting = assistant.answer_slots.load()
        return {"status": "ok", "answering": running, "waiting": waiting}

    return api


def _add_model_routes(router: APIRouter) -> None:
    @router.get("/models")
    async def models() -> dict:
        return {"object": "list", "data": [wire.model_json()]}

    @router.get("/models/{model_id:path}")
    async def model(model_id: str) -> dict:
        if model_id != wire.MODEL_ID:
            raise OpenAIError(404, f"The model '{model_id}' does not exist; this server has '{wire.MODEL_ID}'.",
                              "invalid_request_error", param="model", code="model_not_found")
        return wire.model_json()


def _add_unknown_route(router: APIRouter) -> None:
    """Any other /v1 path: 405 where the path exists for other methods, else 404, in OpenAI's shape (without
    this, the web page mounted at / would answer with its own {"detail": ...})."""
    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                      include_in_schema=False)
    async def unknown(request: Request, path: str) -> None:
        allowed = _methods_for(request, router, unknown)
        if allowed:
            raise OpenAIError(405, f"{request.method} is not allowed on {request.url.path}; use "
                              f"{', '.join(sorted(allowed))}.", "invalid_request_error",
                              code="method_not_allowed", headers={"Allow": ", ".join(sorted(allowed))})
        raise OpenAIError(404, f"Unknown URL {request.method} {request.url.path}.", "invalid_request_error",
                          code="unknown_url")


def _methods_for(request: Request, router: APIRouter, catch_all) -> set[str]:
    """The methods the router's other routes accept for this request's path."""
    methods: set[str] = set()
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is not catch_all:
            match, _ = route.matches({**request.scope, "method": "__none__"})
            if match != Match.NONE:
                methods |= route.methods or set()
    return methods


class OpenAIError(StarletteHTTPException):
    """An HTTP error whose OpenAI ``type``, ``param`` and ``code`` the route chooses."""

    def __init__(self, status: int, message: str, kind: str, param: Optional[str] = None,
                 code: Optional[str] = None, headers: Optional[dict] = None):
        super().__init__(status, message, headers)
        self.kind, self.param, self.code = kind, param, code


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
        kind = getattr(err, "kind", None) or KINDS.get(err.status_code, "invalid_request_error")
        body = wire.error_body(_unparsable(err) or str(err.detail), kind, getattr(err, "code", None),
                               getattr(err, "param", None))
        return JSONResponse(body, status_code=err.status_code, headers=getattr(err, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        problems = "; ".join(_describe(e) for e in err.errors()[:5])
        param = _where(err.errors()[0]) if err.errors() else None
        return JSONResponse(wire.error_body(f"Invalid request: {problems}", "invalid_request_error",
                                            param=None if param == "body" else param), 400)


def _unparsable(err: Exception) -> str:
    """Why FastAPI could not parse a body, in words ('an error parsing the body' says nothing)."""
    if isinstance(err.__cause__, RecursionError):
        return "Invalid request: the JSON body is nested too deeply."
    if isinstance(err.__cause__, UnicodeDecodeError):
        return "Invalid request: the body is not UTF-8 text."
    return ""


def _where(problem: dict) -> str:
    """The field a validation problem is in, as OpenAI's ``param`` names it ("messages.0.role")."""
    return ".".join(str(p) for p in problem.get("loc", ()) if p != "body") or "body"


def _describe(problem: dict) -> str:
    if problem.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return f"{_where(problem)}: {problem.get('msg', 'invalid')}"
