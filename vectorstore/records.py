"""The store's records: a retrieved passage, a document's registry entry, a version ready to write."""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Optional

from core.language import detect_language
from core.text import sentences_at, split_sentences


def chunk_id(doc_id: str, version: str, index: int, write: str = "") -> str:
    """A chunk's id from its document, version, position and write: each write of a version has its own
    ids, so a cleaner deleting a stale copy by id can never hit a later write of the same text.
    (Chunks stored before writes had ids have ``write`` "".)"""
    key = f"{doc_id}|{version}|{index}" + (f"|{write}" if write else "")
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def tag(version: str, write: str) -> str:
    """One string naming a version's write, as the keyword index records it."""
    return f"{version}@{write}" if write else version


@dataclass(kw_only=True)
class ArticleFacts:
    """What a citation shows of an article; articles, registry records and passages all carry it."""

    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""

    def facts(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FACTS}

    @staticmethod
    def facts_in(meta: dict) -> dict[str, str]:
        """The facts stored in a Chroma metadata dict (absent ones left to their defaults)."""
        return {name: meta[name] for name in FACTS if meta.get(name) is not None}


FACTS = tuple(f.name for f in dataclasses.fields(ArticleFacts))


@dataclass
class Passage(ArticleFacts):
    """One retrieved chunk with the article facts a citation needs."""

    chunk_id: str
    text: str
    doc_id: str
    source: str = ""
    chunk_index: int = 0
    score: float = 0.0
    vector: Optional[list[float]] = field(default=None, repr=False)
    answer_score: Optional[float] = None  # the checker's probability that the passage states the answer (reranked)
    stored_language: str = field(default="", repr=False)  # detected at ingest ("" in stores written before)
    stored_sentence_ends: str = field(default="", repr=False)  # "120,245,…" from ingest, or ""

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict, score: float = 0.0, vector=None) -> "Passage":
        return cls(chunk_id, text, meta.get("doc_id", ""), source=meta.get("source", ""),
                   chunk_index=int(meta.get("chunk_index", 0)), score=score,
                   vector=None if vector is None else list(vector), stored_language=meta.get("language") or "",
                   stored_sentence_ends=meta.get("sentence_ends") or "", **cls.facts_in(meta))

    @property
    def language(self) -> str:
        """'en' or 'id', as ingest detected it; every stage compares it with the question's language."""
        if not self.stored_language:  # a store from before ingest recorded it: detected once, here
            self.stored_language = detect_language(self.text)
        return self.stored_language

    @property
    def sentences(self) -> list[str]:
        """The passage's sentences as ingest split them (never empty: a text without a full stop is one)."""
        cached = self.__dict__.get("_sentences")
        if cached is None:
            ends = [int(e) for e in self.stored_sentence_ends.split(",") if e.isdigit()]
            cached = (sentences_at(self.text, ends) if ends and ends[-1] <= len(self.text) else
                      split_sentences(self.text)) or [self.text]
            self.__dict__["_sentences"] = cached
        return cached


@dataclass
class DocumentRecord(ArticleFacts):
    """The registry's view of one live document."""

    doc_id: str
    version: str
    source: str = ""
    chunks: int = 0
    write: str = ""  # which write of this version is live (its chunks carry the same)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, doc_id: str, meta: dict) -> "DocumentRecord":
        """A registry entry as stored; keys it does not know are kept in ``extra``."""
        own = ("version", "source", "chunks", "write")
        known = {k: meta[k] for k in own if meta.get(k) is not None}
        extra = {k: v for k, v in meta.items() if k not in own and k not in FACTS}
        return cls(doc_id=doc_id, **{"version": "", **known}, **cls.facts_in(meta), extra=extra)

    def chunk_ids(self) -> list[str]:
        """The ids its live write's chunks have, in order."""
        return [chunk_id(self.doc_id, self.version, i, self.write) for i in range(int(self.chunks))]

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

    def stamped(self, write: str) -> "DocumentWrite":
        """This version as one particular write: the write in record and metadata, and ids of its own."""
        record = dataclasses.replace(self.record, write=write)
        ids = [chunk_id(record.doc_id, record.version, int(m.get("chunk_index", i)), write)
               for i, m in enumerate(self.metadatas)]
        return DocumentWrite(record, ids, self.texts, self.vectors, [{**m, "write": write} for m in self.metadatas])
