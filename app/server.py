"""One process serves the web chat at / and the HTTP API at /v1, on KABAR_WEB_HOST:KABAR_WEB_PORT."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable, Optional

from app.http_guard import is_loopback
from core.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.api import Assistant

STARTUP_TIMEOUT_S = 60
MIN_API_KEY_CHARS = 16


def check_exposure(settings) -> None:
    """Off loopback, anyone on the network could read and change the archive: demand a real key."""
    key = settings.api_key.get_secret_value() if settings.api_key is not None else None
    if key is not None and len(key.strip()) < MIN_API_KEY_CHARS:
        raise ConfigError(
            f"KABAR_API_KEY is {'empty' if not key.strip() else f'only {len(key.strip())} characters'}: use at "
            f"least {MIN_API_KEY_CHARS} random characters (python -c 'import secrets; print(secrets.token_urlsafe(24))'), "
            "or unset it to serve on 127.0.0.1 without a key."
        )
    if not is_loopback(settings.web_host) and key is None:
        raise ConfigError(
            f"KABAR_WEB_HOST={settings.web_host} is reachable from other machines: set KABAR_API_KEY "
            "(it protects the API and is the web page's password), or bind to 127.0.0.1."
        )


def create_app(assistant: "Assistant") -> "FastAPI":
    """The API routes first, then the Gradio page mounted at / (with a login when a key is set)."""
    import gradio as gr

    from app.http_api import build_api
    from app.web import CSS, HEAD, build_ui

    settings = assistant.settings
    check_exposure(settings)
    api = build_api(assistant)
    demo = build_ui(assistant)
    demo.queue(default_concurrency_limit=1)
    auth = (settings.web_user, settings.api_key.get_secret_value()) if settings.api_key is not None else None
    return gr.mount_gradio_app(api, demo, path="/", auth=auth, show_error=False, css=CSS,
                               max_file_size=settings.max_file_bytes, head=HEAD,
                               theme=gr.themes.Soft(), i18n=demo.kabar_i18n)


class RunningServer:
    """A uvicorn server on its own thread, for tests and embedding in other programs."""

    def __init__(self, server, thread: threading.Thread, url: str):
        self._server, self._thread, self.url = server, thread, url

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def serve(assistant: "Assistant", port: Optional[int] = None, block: bool = True,
          on_ready: Optional[Callable[[str], None]] = None) -> Optional[RunningServer]:
    """Serve until stopped (block) or in the background, returning a handle with the URL; ``on_ready``
    gets the URL once the port listens (not before: building the page takes seconds)."""
    settings = assistant.settings
    server = _server(create_app(assistant), settings.web_host, port or settings.web_port, on_ready)
    if block:
        server.run()
        return None
    thread = threading.Thread(target=server.run, name="kabar-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"The server could not start on {settings.web_host}:{server.config.port}.")
        time.sleep(0.05)
    return RunningServer(server, thread, local_url(settings.web_host, server.config.port))


def local_url(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"


def _server(app, host: str, port: int, on_ready: Optional[Callable[[str], None]]):
    """A uvicorn server that calls ``on_ready`` right after it starts listening."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started and on_ready is not None:
                on_ready(local_url(host, port))

    return Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5))
