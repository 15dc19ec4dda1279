"""Chroma as the one store: chunk vectors plus a registry of documents that says which version is live.

Writing a document is crash-safe without transactions: its new chunks are written under a new
version, then the registry entry is switched to that version (the commit point), then the old
version's chunks are removed. Readers ignore chunks whose version the registry does not name,
and ``repair()`` deletes such leftovers, so an interrupted ingest leaves the store as it was.
A batch of documents follows the same order with one call per step (all chunks, then all registry
entries), so each document in it is still either wholly at its old version or wholly at its new one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional

from core.errors import StoreUnavailable

if TYPE_CHECKING:
    from core.settings import Settings
    from vectorstore.keyword import KeywordIndex

REGISTRY_SUFFIX = "_documents"
WRITE_BATCH = 1024  # chunks per Chroma call: each call costs ~40 ms whatever its size (max 5,461)


@dataclass
class Passage:
    """One retrieved chunk with the article facts a citation needs."""

    chunk_id: str
    text: str
    doc_id: str
    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""
    source: str = ""
    chunk_index: int = 0
    score: float = 0.0
    vector: Optional[list[float]] = field(default=None, repr=False)

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict, score: float = 0.0, vector=None) -> "Passage":
        return cls(vector=None if vector is None else list(vector),
            chunk_id=chunk_id, text=text, doc_id=meta.get("doc_id", ""), title=meta.get("title", ""),
            outlet=meta.get("outlet", ""), date=meta.get("date", ""), url=meta.get("url", ""),
            source=meta.get("source", ""), chunk_index=int(meta.get("chunk_index", 0)), score=score,
        )


@dataclass
class DocumentRecord:
    """The registry's view of one live document."""

    doc_id: str
    version: str
    title: str = ""
    source: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""
    chunks: int = 0
    extra: dict = field(default_factory=dict)

    def to_metadata(self) -> dict:
        meta = {k: v for k, v in self.__dict__.items() if k not in ("doc_id", "extra")}
        return {**meta, **self.extra}


@dataclass
class DocumentWrite:
    """One document version ready to store: its registry record and its chunks with their vectors."""

    record: DocumentRecord
    ids: list[str]
    texts: list[str]
    vectors: list
    metadatas: list[dict]


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


class ChunkStore:
    """Chunks and the document registry in two Chroma collections; vectors are computed by callers."""

    def __init__(self, client, collection: str, keyword: Optional["KeywordIndex"] = None,
                 where: str = "the Chroma store"):
        # embedding_function=None: Chroma must never fall back to its downloading default.
        chunks = client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200}}
        )
        registry = client.get_or_create_collection(collection + REGISTRY_SUFFIX, embedding_function=None)
        self._chunks, self._registry = _Guarded(chunks, where), _Guarded(registry, where)
        self.keyword = keyword
        if keyword is not None:
            keyword.sync(self)

    # --- registry -----------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        got = self._registry.get(include=["metadatas"])
        return sorted((self._record(i, m) for i, m in zip(got["ids"], got["metadatas"])), key=lambda r: r.title)

    def document(self, doc_id: str) -> Optional[DocumentRecord]:
        got = self._registry.get(ids=[doc_id], include=["metadatas"])
        return self._record(got["ids"][0], got["metadatas"][0]) if got["ids"] else None

    def live_versions(self, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        got = self._registry.get(ids=ids, include=["metadatas"])
        return {i: m.get("version", "") for i, m in zip(got["ids"], got["metadatas"])}

    @staticmethod
    def _record(doc_id: str, meta: dict) -> DocumentRecord:
        known = {k: meta.get(k) for k in ("version", "title", "source", "outlet", "date", "url", "chunks")}
        extra = {k: v for k, v in meta.items() if k not in known}
        return DocumentRecord(doc_id=doc_id, **{k: v for k, v in known.items() if v is not None}, extra=extra)

    # --- writing --------------------------------------------------------------------------------
    def write_document(self, record: DocumentRecord, ids, texts, vectors, metadatas) -> None:
        """Write one document: the batch path with a batch of one."""
        self.write_documents([DocumentWrite(record, list(ids), list(texts), list(vectors), list(metadatas))])

    def write_documents(self, writes: list[DocumentWrite]) -> None:
        """Write the new versions' chunks, commit them all in the registry, then drop older versions.

        One call per step instead of per document: Chroma's per-call cost, not its per-chunk cost,
        dominated one-at-a-time ingest."""
        if not writes:
            return
        if len({w.record.doc_id for w in writes}) != len(writes):
            raise ValueError("a batch must hold each document once")
        ids, texts, vectors, metadatas = ([x for w in writes for x in getattr(w, name)]
                                          for name in ("ids", "texts", "vectors", "metadatas"))
        for start in range(0, len(ids), WRITE_BATCH):
            end = start + WRITE_BATCH
            self._chunks.upsert(ids=ids[start:end], documents=texts[start:end],
                                embeddings=vectors[start:end], metadatas=metadatas[start:end])
        self._registry.upsert(ids=[w.record.doc_id for w in writes], embeddings=[[1.0]] * len(writes),
                              metadatas=[w.record.to_metadata() for w in writes])  # the commit point
        self._delete_older_versions(writes)
        if self.keyword is not None:
            self.keyword.write_documents([(w.record.doc_id, w.record.version, w.ids, w.texts) for w in writes])

    def _delete_older_versions(self, writes: list[DocumentWrite]) -> None:
        """Drop the chunks of these documents that are not of the version just written. Found by
        ``doc_id $in`` and deleted by id: a ``version $ne`` filter scans the whole collection once
        per document (70 ms a document at 40k chunks, quadratic over a large ingest)."""
        current = {w.record.doc_id: w.record.version for w in writes}
        self._delete_stale(self._chunks.get(where={"doc_id": {"$in": list(current)}}, include=["metadatas"]), current)

    def _delete_stale(self, got: dict, live: dict[str, str]) -> int:
        """Delete the chunks of a Chroma ``get`` whose version is not their document's live one."""
        stale = [i for i, m in zip(got["ids"], got["metadatas"]) if live.get(m.get("doc_id")) != m.get("version")]
        for start in range(0, len(stale), WRITE_BATCH):
            self._chunks.delete(ids=stale[start : start + WRITE_BATCH])
        return len(stale)

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document: registry first (the commit point), then its chunks."""
        existed = self.document(doc_id) is not None
        self._registry.delete(ids=[doc_id])
        self._chunks.delete(where={"doc_id": doc_id})
        if self.keyword is not None:
            self.keyword.delete_document(doc_id)
        return existed

    def repair(self) -> int:
        """Delete chunks left by an interrupted write or delete; returns how many were removed."""
        got = self._chunks.get(include=["metadatas"])
        removed = self._delete_stale(got, self.live_versions(m.get("doc_id", "") for m in got["metadatas"]))
        if self.keyword is not None:
            self.keyword.sync(self)
        return removed

    def chunk_texts(self, doc_id: str, version: str) -> tuple[list[str], list[str]]:
        """Ids and texts of one document version, in chunk order (to rebuild the keyword index)."""
        got = self._chunks.get(where={"$and": [{"doc_id": doc_id}, {"version": version}]},
                               include=["documents", "metadatas"])
        rows = sorted(zip(got["metadatas"], got["ids"], got["documents"]), key=lambda r: r[0].get("chunk_index", 0))
        return [r[1] for r in rows], [r[2] for r in rows]

    def passages(self, chunk_ids: list[str]) -> dict[str, Passage]:
        """Live chunks by id, with their vectors (keyword hits need them for checking answers)."""
        if not chunk_ids:
            return {}
        got = self._chunks.get(ids=chunk_ids, include=["documents", "metadatas", "embeddings"])
        live = self.live_versions(m.get("doc_id", "") for m in got["metadatas"])
        return {
            i: Passage.from_chroma(i, text, meta, vector=vec)
            for i, text, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
            if live.get(meta.get("doc_id")) == meta.get("version")
        }

    # --- reading --------------------------------------------------------------------------------
    def count(self) -> int:
        return self._chunks.count()

    def search(self, vector: list[float], k: int) -> list[Passage]:
        """Nearest live chunks by cosine similarity, best first. (No count() first: Chroma answers an
        empty collection with no rows, and counting cost 13 ms at 100k chunks, more than the query.)"""
        if k <= 0:
            return []
        got = self._chunks.query(query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances", "embeddings"])
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], got["embeddings"][0])
        rows = list(rows)
        live = self.live_versions(m.get("doc_id", "") for _, _, m, _, _ in rows)
        return [
            Passage.from_chroma(i, text, meta, score=1.0 - dist, vector=vec)
            for i, text, meta, dist, vec in rows
            if live.get(meta.get("doc_id")) == meta.get("version")
        ]


def open_store(settings: "Settings") -> ChunkStore:
    """Open (creating if needed) the configured store, naming what is unavailable on failure."""
    from vectorstore.keyword import KeywordIndex

    client = make_chroma_client(settings)
    where = describe_store(settings)
    try:
        keyword = KeywordIndex(settings.data_dir / f"{settings.chroma_collection}.keyword.sqlite")
        return ChunkStore(client, settings.chroma_collection, keyword, where=where)
    except StoreUnavailable:
        raise
    except Exception as err:
        raise StoreUnavailable(f"{where}: cannot open collection {settings.chroma_collection!r}: {err}") from err
