"""Opening Chroma (on disk or a server) and naming it in errors: a connection failure on any call
becomes StoreUnavailable that says which store, and the next call after the server is back just works."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import StoreUnavailable

if TYPE_CHECKING:
    from core.settings import Settings


def describe_store(settings: "Settings") -> str:
    """Where the chunks live, in words, for error messages."""
    if settings.chroma_host:
        return f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
    return f"Chroma store at {settings.chroma_path}"


def make_chroma_client(settings: "Settings"):
    """Chroma on disk under KABAR_DATA_DIR, or a Chroma server when KABAR_CHROMA_HOST is set."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as err:  # connection and permission errors come in many types
        raise StoreUnavailable(f"{describe_store(settings)} is unavailable: {err}") from err


def _connection_errors() -> tuple[type[BaseException], ...]:
    try:
        import httpx
    except ImportError:
        return (OSError,)
    return (OSError, httpx.TransportError)


class _Guarded:
    """A Chroma collection whose connection failures become StoreUnavailable naming the store.

    It keeps no connection state of its own: the next call after a server comes back simply works.
    """

    def __init__(self, collection, where: str):
        self._collection = collection
        self._where = where
        self._errors = _connection_errors()

    def __getattr__(self, name: str):
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except self._errors as err:
                raise StoreUnavailable(f"{self._where} is unavailable: {err}") from err

        return call
