"""BM25 keyword index (Tantivy) beside Chroma, which has no local BM25.

Why Tantivy and not SQLite FTS5: a question's stems are OR-ed, so at 100k chunks a third of the
chunks match a median question and FTS5's bm25() scores every one (p95 ~250 ms under load).
Tantivy's block-max WAND skips the blocks that cannot reach the top k: ~1 ms p95 at 72k chunks, the
same BM25 (k1 1.2, b 0.75; 92% the same top hit, 95% of the top 4, on 60 FacQA questions).

It is a derived index: Chroma's document registry is the truth, and ``sync`` re-indexes any
document whose live version the keyword index lacks and drops what the registry no longer names,
so a crash between the two writes, or a fresh front end on a shared Chroma server, heals itself.

Two files, one ledger: the Tantivy folder ``<collection>.keyword.tantivy`` holds the postings, and
a small SQLite table in ``<collection>.keyword.sqlite`` lists its (chunk_id, doc_id, version) rows,
so ``versions()`` is one indexed scan instead of reading every stored document back. Tantivy
commits first; the table follows in one transaction that also records Tantivy's commit opstamp.
A crash between the two leaves the stamps unequal (and every later write keeps them so), and the
next open empties both so ``sync`` rebuilds from the registry: equal stamps mean the table names
exactly what Tantivy holds, so no chunk of a deleted document can linger unseen. (A ``chunks`` FTS5 table left by earlier versions is dropped.)
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, Protocol

import tantivy

from vectorstore.analysis import terms
from vectorstore.records import DocumentRecord, tag

SYNC_BATCH = 256  # documents re-indexed per commit by sync
WRITER_HEAP = 32_000_000  # bytes buffered before Tantivy flushes a segment (one indexing thread)
LOCK_TIMEOUT = 30.0  # seconds a write waits for another instance's writer
TOKENIZER = "stems"  # terms arrive stemmed and space-joined: split on whitespace, nothing more

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id, version);
CREATE TABLE IF NOT EXISTS stamp (id INTEGER PRIMARY KEY CHECK (id = 0), opstamp INTEGER NOT NULL);
"""

Row = tuple[str, str, str]  # chunk_id, doc_id, version


class Registry(Protocol):
    """What the index reads from the store (``ChunkStore`` is one), so keyword.py need not import store.py."""

    def documents(self) -> list[DocumentRecord]: ...

    def live_writes(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]: ...

    def chunk_texts(self, doc_id: str, version: str, write: Optional[str] = None) -> tuple[list[str], list[str]]: ...


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("chunk_id", "doc_id", "version"):  # exact strings: doc_id is the delete key
        builder.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("terms", tokenizer_name=TOKENIZER, index_option="freq")  # BM25 needs tf, not positions
    return builder.build()


def _open_index(folder: Path, schema: tantivy.Schema) -> tantivy.Index:
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index.open(str(folder)) if tantivy.Index.exists(str(folder)) else tantivy.Index(schema, str(folder))
    index.register_tokenizer(TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    return index


class KeywordIndex:
    """Stemmed terms of every live chunk, ranked by Tantivy's BM25 with top-k pruning.

    One writer at a time (a lock here, Tantivy's folder lock across instances); searches take the
    current searcher without either, and every commit reloads it, so a search sees whole commits only."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._drop_fts5_table()
        self._db.executescript(SCHEMA)
        self._schema = _schema()
        self._index = _open_index(path.with_suffix(".tantivy"), self._schema)
        self._lock = threading.Lock()
        with self._writing() as writer:
            row = self._db.execute("SELECT opstamp FROM stamp").fetchone()
            if row is None or row[0] != writer.commit_opstamp:
                writer.delete_all_documents()  # the halves disagree, or one is new: sync refills both
                self._commit(writer, lambda: self._db.execute("DELETE FROM chunks"), trusted=True)

    @contextmanager
    def _writing(self) -> Iterator[tantivy.IndexWriter]:
        """Tantivy's writer for one whole write, ledger included. Taken per write, not per instance,
        because its folder lock admits one writer at a time: a second instance (another process, or a
        reopened store whose old one is still open) waits for it, as SQLite's writers waited."""
        with self._lock:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
                    break
                except ValueError as err:
                    if "LockBusy" not in str(err) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            try:
                yield writer
            finally:
                writer.wait_merging_threads()  # releases the lock (merges are short at this write size)

    def _drop_fts5_table(self) -> None:
        """Earlier versions kept the postings in an FTS5 table of the same name; the index is derived."""
        row = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks'").fetchone()
        if row and "fts5" in (row[0] or "").lower():
            self._db.execute("DROP TABLE chunks")  # no stamp table either, so the open resets Tantivy

    def _commit(self, writer: tantivy.IndexWriter, ledger, trusted: bool = False) -> None:
        """Commit Tantivy, make the new searcher current, then apply ``ledger`` (the matching SQLite
        change) and the new opstamp in one transaction. Called inside ``_writing``. If the table did not
        match Tantivy before this write (a failed or killed ledger write, here or in another process),
        the stamp becomes -1, which no opstamp equals, so the next open rebuilds."""
        before = writer.commit_opstamp  # a fresh writer reads it from disk: the state the table describes
        try:
            opstamp = writer.commit()
        except BaseException:
            writer.rollback()
            raise
        self._index.reload()
        self._db.execute("BEGIN")
        try:
            agreed = trusted or self._db.execute("SELECT opstamp FROM stamp").fetchone() == (before,)
            ledger()
            self._db.execute("INSERT OR REPLACE INTO stamp VALUES (0, ?)", (opstamp if agreed else -1,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def write_document(self, doc_id: str, version: str, chunk_ids: list[str], texts: list[str]) -> None:
        """Replace every version of a document with this one, atomically."""
        self.write_documents([(doc_id, version, chunk_ids, texts)])

    def write_documents(self, docs: list[tuple[str, str, list[str], list[str]]]) -> None:
        """Replace every version of each (doc_id, version, chunk_ids, texts) in one commit: one disk
        sync and one searcher reload per batch instead of per document. Stemming runs before the lock."""
        rows = [(cid, doc_id, version, " ".join(terms(text)))
                for doc_id, version, chunk_ids, texts in docs for cid, text in zip(chunk_ids, texts)]
        doc_ids = json.dumps([doc[0] for doc in docs])

        def ledger():
            self._db.execute("DELETE FROM chunks WHERE doc_id IN (SELECT value FROM json_each(?))", (doc_ids,))
            self._db.executemany("INSERT INTO chunks VALUES (?, ?, ?)", [row[:3] for row in rows])

        with self._writing() as writer:
            for doc_id, *_ in docs:
                writer.delete_documents_by_term("doc_id", doc_id)
            for cid, doc_id, version, stems in rows:
                writer.add_document(tantivy.Document(chunk_id=cid, doc_id=doc_id, version=version, terms=stems))
            self._commit(writer, ledger)

    def delete_document(self, doc_id: str) -> None:
        with self._writing() as writer:
            writer.delete_documents_by_term("doc_id", doc_id)
            self._commit(writer, lambda: self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,)))

    def versions(self) -> dict[str, str]:
        """The content version indexed for each document."""
        return {doc_id: indexed.partition("@")[0] for doc_id, indexed in self.tags().items()}

    def tags(self) -> dict[str, str]:
        """The version and write indexed for each document (``tag``), to compare with the registry's."""
        with self._lock:
            return dict(self._db.execute("SELECT DISTINCT doc_id, version FROM chunks").fetchall())

    def search(self, query: str, k: int) -> list[Row]:
        """(chunk_id, doc_id, version) of the best BM25 matches, best first."""
        return [row[:3] for row in self._match(query, k)]

    def search_scores(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the best matches, best first; higher scores are better."""
        return [(row[0], row[3]) for row in self._match(query, k)]

    def _match(self, query: str, k: int) -> list[tuple[str, str, str, float]]:
        """Any of the question's stems may match (OR), as FTS5's query did."""
        query_terms = sorted(set(terms(query)))
        if not query_terms or k <= 0:
            return []
        should = tantivy.Occur.Should
        clauses = [(should, tantivy.Query.term_query(self._schema, "terms", t, index_option="freq")) for t in query_terms]
        self._index.reload()  # ~0.1 ms: sees another instance's commit at once, as SQLite readers did
        searcher = self._index.searcher()
        hits = searcher.search(tantivy.Query.boolean_query(clauses), k, count=False).hits
        out = []
        for score, address in hits:
            doc = searcher.doc(address)
            out.append((doc["chunk_id"][0], doc["doc_id"][0], doc["version"][0], float(score)))
        return out

    def refresh(self, store: Registry, doc_ids: list[str], written: dict[str, tuple] | None = None) -> None:
        """Index these documents as the registry names them when read under the writer lock, so of
        concurrent writers (threads, processes) the last to index leaves the registry's latest state.
        ``written`` gives ((version, write), chunk_ids, texts) a caller just wrote, stemmed before the lock."""
        stemmed = {doc_id: (live, ids, [" ".join(terms(t)) for t in texts])
                   for doc_id, (live, ids, texts) in (written or {}).items()}
        with self._writing() as writer:
            live = store.live_writes(doc_ids)
            rows = []
            for doc_id in doc_ids:
                writer.delete_documents_by_term("doc_id", doc_id)
                if doc_id not in live:
                    continue
                version, write = live[doc_id]
                if stemmed.get(doc_id, ((),))[0] == live[doc_id]:
                    _, ids, stems = stemmed[doc_id]
                else:  # another writer's write is live: index what Chroma holds for it
                    ids, texts = store.chunk_texts(doc_id, version, write)
                    stems = [" ".join(terms(t)) for t in texts]
                rows += [(cid, doc_id, tag(version, write), stem) for cid, stem in zip(ids, stems)]
            for cid, doc_id, version, stems in rows:
                writer.add_document(tantivy.Document(chunk_id=cid, doc_id=doc_id, version=version, terms=stems))
            self._commit(writer, lambda: self._replace_rows(doc_ids, rows))

    def _replace_rows(self, doc_ids: list[str], rows: list[tuple]) -> None:
        # one statement per id, not json_each: SQLite's JSON cuts a string at an escaped NUL
        self._db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(doc_id,) for doc_id in doc_ids])
        self._db.executemany("INSERT INTO chunks VALUES (?, ?, ?)", [row[:3] for row in rows])

    def rows(self) -> set[Row]:
        """Every (chunk_id, doc_id, version) indexed (for checking the store)."""
        with self._lock:
            return set(self._db.execute("SELECT chunk_id, doc_id, version FROM chunks").fetchall())

    def sync(self, store: Registry) -> int:
        """Make the index agree with the store's registry; returns how many documents changed."""
        live = {r.doc_id: tag(r.version, r.write) for r in store.documents()}
        indexed = self.tags()
        changed = sorted(indexed.keys() - live.keys()) + [d for d, v in live.items() if indexed.get(d) != v]
        for start in range(0, len(changed), SYNC_BATCH):
            self.refresh(store, changed[start : start + SYNC_BATCH])
        return len(changed)

    def close(self) -> None:
        with self._lock:
            self._db.close()
