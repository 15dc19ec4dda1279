"""The store's records: a retrieved passage, a document's registry entry, a version ready to write."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional


def chunk_id(doc_id: str, version: str, index: int) -> str:
    """A chunk's id from its document, version and position: rewriting a version overwrites, never duplicates."""
    return hashlib.sha256(f"{doc_id}|{version}|{index}".encode()).hexdigest()[:32]


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
