"""The one gate in front of every route: API key, Host allow-list, same-origin writes, login throttling.

It is plain ASGI (no buffering), so streamed answers and uploads pass through untouched, and it sees
the Gradio page's routes too: a browser tricked by another site (cross-site POST, DNS rebinding to
the loopback server) is refused before any route runs.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Optional
from urllib.parse import urlsplit

from fastapi import HTTPException

if TYPE_CHECKING:
    from core.settings import Settings

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
KEYED_PREFIXES = ("/v1/", "/health")  # the page's own routes are behind its login instead
FORM_OVERHEAD_BYTES = 1_000_000  # multipart headers and boundaries around one file of the size limit
CHAT_BODY_BYTES = 1_000_000  # a question and its conversation; far more is not a chat request
MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW_S = 300.0


class LoginThrottle:
    """Failed logins (page or API key) per client address; past the limit, that address waits."""

    def __init__(self, limit: int = MAX_FAILED_LOGINS, window_s: float = FAILED_LOGIN_WINDOW_S):
        self._limit, self._window = limit, window_s
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds this client must wait before trying again (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client, deque())
            while failures and failures[0] <= now - self._window:
                failures.popleft()
            if not failures:
                self._failures.pop(client, None)  # forget addresses with nothing recent
            if len(failures) < self._limit:
                return 0
            return max(1, int(failures[0] + self._window - now) + 1)

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures[client].append(time.monotonic())


def host_name(value: str) -> str:
    """The name in a Host header or an origin's netloc, without port or IPv6 brackets."""
    try:
        return urlsplit("//" + value.strip()).hostname or ""
    except ValueError:
        return ""


def _netloc(value: str, scheme: str) -> str:
    """name:port with the scheme's default port filled in, so 'a:80' and 'a' compare equal."""
    try:
        parts = urlsplit("//" + value.strip())
        port = parts.port or (443 if scheme in ("https", "wss") else 80)
    except ValueError:
        return "?"
    return f"{parts.hostname or ''}:{port}"


def is_loopback(host: str) -> bool:
    """Only a loopback host may go without an API key, and then the Host header must name one too."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    """ASGI middleware; ``settings`` decide the key and whether the Host must be a loopback name."""

    def __init__(self, app, settings: "Settings", throttle: Optional[LoginThrottle] = None):
        self.app = app
        secret = settings.api_key
        self._key = secret.get_secret_value().encode() if secret is not None else None
        self._loopback_only = is_loopback(settings.web_host)
        self._max_body = settings.max_file_bytes + FORM_OVERHEAD_BYTES
        self._throttle = throttle or LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await _send_error(send, *refusal)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        if scope["method"] == "POST" and scope["path"].endswith("/login"):
            send = self._counting_failures(scope, send)
        await _with_body_limit(self.app, scope, receive, send, self._body_limit(scope["path"]))

    def _refusal(self, scope, headers: dict) -> Optional[tuple]:
        """(status, message, kind, extra headers) when the request must not reach any route."""
        host = headers.get("host", "")
        if self._loopback_only and host_name(host) not in LOOPBACK_NAMES:
            return 400, f"Host {host!r} is not allowed: this server answers only on loopback names.", \
                "invalid_request_error", {}
        if scope.get("method", "GET") in WRITE_METHODS and not _same_origin(headers, host):
            return 403, "Cross-site request refused: writes must come from this server's own page or " \
                "from a client that sends no Origin.", "permission_error", {}
        client = (scope.get("client") or ("?",))[0]
        is_login = scope["path"].endswith("/login") and scope.get("method") == "POST"
        keyed = self._key is not None and scope["path"].startswith(KEYED_PREFIXES)
        wait = self._throttle.retry_after(client) if is_login or keyed else 0
        if wait:
            return 429, f"Too many failed logins; try again in {wait} s.", "rate_limit_error", \
                {"retry-after": str(wait)}
        if keyed and not self._key_matches(headers):
            self._throttle.failed(client)
            return 401, "Missing or wrong API key: send 'Authorization: Bearer <KABAR_API_KEY>'.", \
                "authentication_error", {}
        return self._too_large(scope["path"], headers)

    def _body_limit(self, path: str) -> int:
        return CHAT_BODY_BYTES if path.endswith(("/chat/completions", "/v1/translate")) else self._max_body

    def _too_large(self, path: str, headers: dict) -> Optional[tuple]:
        """A declared body over the limit is refused before a byte is read (a streamed one as it streams)."""
        limit = self._body_limit(path)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return 413, f"The request body of {int(declared):,} bytes is over the limit of {limit:,} bytes " \
                "(KABAR_MAX_FILE_MB for uploads).", "invalid_request_error", {}
        return None

    def _key_matches(self, headers: dict) -> bool:
        given = headers.get("x-api-key", "")
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        return hmac.compare_digest(given.encode("latin-1", "replace"), self._key)

    def _counting_failures(self, scope, send):
        """Wrap ``send`` so a refused page login counts against the client's address."""
        client = (scope.get("client") or ("?",))[0]

        async def counted(message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self._throttle.failed(client)
            await send(message)

        return counted


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; routes turn it into a 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"The request body is over the limit of {limit:,} bytes (KABAR_MAX_FILE_MB for "
                              "uploads); it was refused while it streamed, before it was stored.")


async def _with_body_limit(app, scope, receive, send, limit: int) -> None:
    """Count body bytes as they arrive and stop at the limit, so nothing past it is spooled to disk."""
    received, started = 0, False

    async def limited_receive():
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise BodyTooLarge(limit)
        return message

    async def tracked_send(message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, limited_receive, tracked_send)
    except BodyTooLarge as err:  # a route (the page's) that did not turn it into a response itself
        if started:
            raise
        await _send_error(send, 413, err.detail, "invalid_request_error", {})


def _same_origin(headers: dict, host: str) -> bool:
    """No Origin (curl, SDKs) passes; a browser's Origin must name this very host (or the proxy's)."""
    origin = headers.get("origin")
    if origin is None:
        return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    parts = urlsplit(origin)
    if not parts.netloc:
        return False  # "null": sandboxed frames, file:// pages
    wanted = _netloc(parts.netloc, parts.scheme)
    hosts = [host] + [h.strip() for h in headers.get("x-forwarded-host", "").split(",") if h.strip()]
    return any(_netloc(h, parts.scheme) == wanted for h in hosts if h)


async def _send_error(send, status: int, message: str, kind: str, extra: dict) -> None:
    body = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
