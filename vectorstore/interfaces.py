"""What the layers above call on the store and its keyword index, so another implementation can stand in.

``ChunkStore`` (store.py, over Chroma) is the store, and ``KeywordIndex`` (keyword.py, Tantivy) the keyword
index; ``open_store`` chooses by ``store_backend`` (``fake``: Chroma in memory, no keyword index, so hybrid
retrieval is dense only). ``Assistant(store=...)`` takes any object with these methods.
"""
from __future__ import annotations

from typing import Iterable, Optional, Protocol

from vectorstore.records import DocumentRecord, DocumentWrite, Passage


class KeywordSearch(Protocol):
    """The keyword index as the retriever and the store use it (BM25 scores, kept in step with the registry)."""

    def search_scores(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk_id, score) of the best matches, best first: hybrid retrieval fuses these."""
        ...

    def refresh(self, store, doc_ids: list[str], written: Optional[dict] = None) -> None:
        """Index these documents as the store's registry now names them: called after every commit."""
        ...

    def sync(self, store) -> int:
        """Agree with the registry (after a crash or another front end's writes); returns documents changed."""
        ...

    def rows(self) -> set[tuple[str, str, str]]:
        """Every (chunk_id, doc_id, version tag) indexed: the store check compares them with the chunks."""
        ...


class Store(Protocol):
    """Chunks with their vectors and the document registry: what ingest, retrieval and the Assistant call."""

    keyword: Optional[KeywordSearch]  # None: no keyword index, retrieval is dense only

    def documents(self) -> list[DocumentRecord]:
        """Every live document, by title: the documents list and removal read it."""
        ...

    def document(self, doc_id: str) -> Optional[DocumentRecord]:
        """One document's registry entry, or None."""
        ...

    def live_versions(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """The content version each listed document is at: ingest skips unchanged articles by it."""
        ...

    def write_document(self, record: DocumentRecord, ids, texts, vectors, metadatas) -> None:
        """Write and commit one document (an upload), wholly or not at all."""
        ...

    def write_documents(self, writes: list[DocumentWrite]) -> None:
        """Write and commit a batch of documents, each wholly or not at all (bulk ingest)."""
        ...

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document; whether it was there."""
        ...

    def repair(self) -> int:
        """Delete what an interrupted write left; returns how many chunks."""
        ...

    def search(self, vector: list[float], k: int) -> list[Passage]:
        """The k live chunks nearest the vector (cosine similarity as ``score``), best first."""
        ...

    def passages(self, chunk_ids: list[str]) -> dict[str, Passage]:
        """Live chunks by id, with their vectors: keyword hits and the translator read them."""
        ...

    def count(self) -> int:
        """How many chunks are stored (live or not)."""
        ...
