"""Whether the registry, Chroma's chunks and the keyword index agree, and mending what can be mended.

A store written by earlier versions can hold documents the registry lists whose chunks are partly
gone (two ingests at once used to delete each other's), so ``--list`` and re-ingests trusted it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vectorstore.records import tag

if TYPE_CHECKING:
    from vectorstore.store import ChunkStore


@dataclass
class StoreCheck:
    """Disagreements found; ``pending`` (live writers' uncommitted chunks) is not one."""

    documents: int = 0
    chunks: int = 0
    missing: dict[str, int] = field(default_factory=dict)  # doc_id: chunks its live version lacks
    extra: dict[str, list[str]] = field(default_factory=dict)  # doc_id: ids duplicating or beyond its chunks
    orphans: int = 0  # chunks no live version and no live writer claims
    pending: int = 0
    keyword_missing: int = 0
    keyword_extra: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.orphans or self.keyword_missing or self.keyword_extra)

    def lines(self, store: "ChunkStore") -> list[str]:
        """One line per kind of disagreement, naming the documents concerned."""
        out = [f"{self.documents} documents, {self.chunks} chunks"]
        titles = {d.doc_id: d.title or d.source for d in store.documents()}
        out += [f"incomplete: {titles.get(d, d)} ({d}) lacks {n} chunks" for d, n in sorted(self.missing.items())]
        out += [f"duplicated: {titles.get(d, d)} ({d}) has {len(ids)} chunks too many"
                for d, ids in sorted(self.extra.items())]
        if self.orphans:
            out.append(f"leftover: {self.orphans} chunks of no listed version (repair deletes them)")
        if self.keyword_missing or self.keyword_extra:
            out.append(f"keyword index: {self.keyword_missing} live chunks missing, {self.keyword_extra} rows too many")
        if self.pending:
            out.append(f"in progress: {self.pending} chunks of versions a running ingest has not committed yet")
        out.append("consistent" if self.ok else "NOT consistent")
        return out


def check_store(store: "ChunkStore") -> StoreCheck:
    """Compare the registry with every chunk and with the keyword index (exact only while nothing writes)."""
    chunks = store.all_chunks()
    claimed = store.leases.protected()
    records = {d.doc_id: d for d in store.documents()}
    result = StoreCheck(documents=len(records), chunks=len(chunks))
    by_doc: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for cid, meta in chunks:
        doc_id, version, write = meta.get("doc_id", ""), meta.get("version", ""), meta.get("write", "")
        record = records.get(doc_id)
        if record is not None and (record.version, record.write) == (version, write):
            by_doc[doc_id].append((cid, int(meta.get("chunk_index", -1))))
        elif write in claimed:
            result.pending += 1
        else:
            result.orphans += 1
    for doc_id, record in records.items():
        _compare_document(record, by_doc.get(doc_id, []), result)
    if store.keyword is not None:
        live = {(cid, d, tag(records[d].version, records[d].write)) for d, rows in by_doc.items() for cid, _ in rows}
        indexed = store.keyword.rows()
        result.keyword_missing, result.keyword_extra = len(live - indexed), len(indexed - live)
    return result


def _compare_document(record, rows: list[tuple[str, int]], result: StoreCheck) -> None:
    """A whole live version holds exactly its chunk ids 0..chunks-1."""
    expected = set(record.chunk_ids())
    have = {cid for cid, _ in rows}
    if expected - have:
        result.missing[record.doc_id] = len(expected - have)
    if have - expected:
        result.extra[record.doc_id] = sorted(have - expected)


def mend_store(store: "ChunkStore") -> tuple[int, StoreCheck]:
    """Delete leftovers and duplicates and re-index keywords; returns (chunks deleted, what is still
    wrong): incomplete documents need their source re-ingested, which only the ingest service can do."""
    removed = store.repair()
    extra = [cid for ids in check_store(store).extra.values() for cid in ids]
    store.delete_chunks(extra)
    return removed + len(extra), check_store(store)
