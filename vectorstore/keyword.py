"""BM25 keyword index (SQLite FTS5) beside Chroma, which has no local BM25.

It is a derived index: Chroma's document registry is the truth, and ``sync`` re-indexes any
document whose live version the keyword index lacks and drops what the registry no longer names,
so a crash between the two writes, or a fresh front end on a shared Chroma server, heals itself.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from vectorstore.analysis import terms

if TYPE_CHECKING:
    from vectorstore.store import ChunkStore

SYNC_BATCH = 256  # documents re-indexed per transaction by sync

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(
    chunk_id UNINDEXED, doc_id UNINDEXED, version UNINDEXED, terms, tokenize = 'unicode61'
);
"""


class KeywordIndex:
    """Stemmed terms of every live chunk, ranked by SQLite's built-in bm25()."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def write_document(self, doc_id: str, version: str, chunk_ids: list[str], texts: list[str]) -> None:
        """Replace every version of a document with this one, atomically."""
        self.write_documents([(doc_id, version, chunk_ids, texts)])

    def write_documents(self, docs: list[tuple[str, str, list[str], list[str]]]) -> None:
        """Replace every version of each (doc_id, version, chunk_ids, texts) in one transaction: one disk
        sync and one scan of the unindexed doc_id column per batch instead of per document."""
        rows = [(cid, doc_id, version, " ".join(terms(text)))
                for doc_id, version, chunk_ids, texts in docs for cid, text in zip(chunk_ids, texts)]
        doc_ids = json.dumps([doc[0] for doc in docs])
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute("DELETE FROM chunks WHERE doc_id IN (SELECT value FROM json_each(?))", (doc_ids,))
                self._db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete_document(self, doc_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))

    def versions(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT DISTINCT doc_id, version FROM chunks").fetchall())

    def search(self, query: str, k: int) -> list[tuple[str, str, str]]:
        """(chunk_id, doc_id, version) of the best BM25 matches, best first."""
        return [row[:3] for row in self._match(query, k)]

    def search_scores(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the best matches, best first; higher scores are better."""
        return [(row[0], -row[3]) for row in self._match(query, k)]

    def _match(self, query: str, k: int) -> list[tuple[str, str, str, float]]:
        query_terms = sorted(set(terms(query)))
        if not query_terms or k <= 0:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in query_terms)
        with self._lock:
            return self._db.execute(
                "SELECT chunk_id, doc_id, version, bm25(chunks) AS score FROM chunks WHERE chunks MATCH ? "
                "ORDER BY score LIMIT ?",
                (match, k),
            ).fetchall()

    def sync(self, store: "ChunkStore") -> int:
        """Make the index agree with the store's registry; returns how many documents changed."""
        live = {r.doc_id: r.version for r in store.documents()}
        indexed = self.versions()
        for doc_id in indexed.keys() - live.keys():
            self.delete_document(doc_id)
        stale = [d for d, v in live.items() if indexed.get(d) != v]
        for start in range(0, len(stale), SYNC_BATCH):
            group = stale[start : start + SYNC_BATCH]
            self.write_documents([(d, live[d], *store.chunk_texts(d, live[d])) for d in group])
        return len(stale) + len(indexed.keys() - live.keys())

    def close(self) -> None:
        self._db.close()
