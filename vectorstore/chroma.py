"""Opening Chroma (on disk or a server), naming it in errors (a connection failure on any call becomes
StoreUnavailable that says which store; the next call after the server is back just works), and
reopening it on disk when another process has written."""
from __future__ import annotations

import os
import threading
import time
import uuid
from typing import TYPE_CHECKING

from core.errors import StoreUnavailable
from vectorstore.leases import LEASE_SUFFIX

if TYPE_CHECKING:
    from core.settings import Settings

REGISTRY_SUFFIX = "_documents"
GENERATION_FILE = "kabar-generation"  # beside Chroma's files: one line per commit, naming its process
REOPEN_EVERY_S = 5.0  # a process reopens Chroma for other processes' writes at most this often
_TOKENS: dict[int, bytes] = {}


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


def memory_chroma_client():
    """A new, empty Chroma in this process's memory (the fake store): Chroma shares one in-memory system per
    process, so each gets a database of its own."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    database = f"kabar_{uuid.uuid4().hex}"
    chromadb.AdminClient(chroma_settings).create_database(database)
    return chromadb.EphemeralClient(settings=chroma_settings, database=database)


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


def open_collections(client, name: str, where: str) -> tuple[_Guarded, _Guarded, _Guarded]:
    """The chunk, registry and writer-lease collections, created if needed; embedding_function=None so
    Chroma never falls back to its downloading default."""
    chunks = client.get_or_create_collection(
        name, embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200}},
    )
    registry = client.get_or_create_collection(name + REGISTRY_SUFFIX, embedding_function=None)
    leases = client.get_or_create_collection(name + LEASE_SUFFIX, embedding_function=None)
    return _Guarded(chunks, where), _Guarded(registry, where), _Guarded(leases, where)


def _process_token() -> bytes:
    """This process's line in the generation file (made per pid, so a forked child has its own)."""
    pid = os.getpid()
    if pid not in _TOKENS:
        _TOKENS[pid] = uuid.uuid4().hex[:16].encode() + b"\n"
    return _TOKENS[pid]


class DiskGeneration:
    """Tells a process that another one has written to the same on-disk store, so it reopens Chroma.

    chromadb 1.5's on-disk client reads a collection's vector index once, when it is opened: what another
    process writes is in the shared metadata at once but reaches this process's searches only once it
    opens a new client (measured: a new client sees every write; loading 30k vectors cost ~0.4 s on its
    first query). Each commit appends its process's token to ``GENERATION_FILE`` (one O_APPEND write:
    no line is lost between writers); a reader that finds a line not its own reopens, at most once
    every ``REOPEN_EVERY_S`` (until then it searches what it has). A Chroma server needs none of this.
    """

    def __init__(self, settings: "Settings"):
        self._settings = settings
        self._path = settings.chroma_path / GENERATION_FILE
        self._seen = self._size()
        self._reopened = 0.0
        self._lock = threading.Lock()

    def _size(self) -> int:
        try:
            return os.stat(self._path).st_size
        except FileNotFoundError:
            return 0

    def bump(self) -> None:
        """Say that this process has committed a change."""
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, _process_token())
        finally:
            os.close(fd)

    def others_wrote(self) -> bool:
        """Whether another process has committed since we last looked (and a reopen is due)."""
        size = self._size()
        if size == self._seen or time.monotonic() - self._reopened < REOPEN_EVERY_S:
            return False
        with self._lock:
            replaced = size < self._seen  # a smaller file is another one: read it all
            start = 0 if replaced else self._seen
            with open(self._path, "rb") as handle:
                handle.seek(start)
                lines = handle.read(size - start).splitlines(keepends=True)
            self._seen = size
        return replaced or any(line != _process_token() for line in lines)

    def reopen(self):
        """A new client, which reads the vector indexes afresh (old handles keep working until dropped)."""
        from chromadb.api.client import SharedSystemClient

        self._reopened = time.monotonic()
        SharedSystemClient.clear_system_cache()  # else the same path gives back the same cached client
        return make_chroma_client(self._settings)
