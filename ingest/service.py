"""The one ingest service behind the CLI, the Python API and the web upload.

Articles go through in batches: one registry lookup for many articles, one embedding call for the
chunks of many articles, one store write for many documents, made on a writer thread while the next
batch is embedded when a core is free for it (one batch in flight, so batches commit in order). The store's commit order is kept (chunks, then the
registry, then the keyword index), so a kill mid-batch leaves no partial document.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from core.errors import BadDocument
from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import SUPPORTED_SUFFIXES, Article, doc_id_for, load_path
from ingest.progress import ProgressBar
from vectorstore.interfaces import Store
from vectorstore.store import DocumentRecord, DocumentWrite

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from core.settings import Settings

log = logging.getLogger(__name__)

# Chunks embedded and written together. The engine sorts a call's texts by length before batching
# them: on IndoSum, 256 texts pad to 8.4 % more tokens than all texts sorted at once, 1,024 to 2.9 %.
FULL_BATCH_CHUNKS = 1024
LOOKUP_BATCH = 256  # articles checked against the registry with one call
RAMP = 4  # batches start at one article and grow this much each time, so the first are searchable at once


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    chunks_written: int = 0

    def summary(self) -> str:
        return (f"added {len(self.added)}, updated {len(self.updated)}, "
                f"unchanged {len(self.unchanged)}, failed {len(self.failed)}")


def expand_paths(paths: Iterable[str | Path], report: IngestReport) -> list[Path]:
    """Files named directly, plus supported files inside named folders (hidden ones skipped)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            report.failed.append((str(path), "no such file or folder"))
    return files


@dataclass
class _Prepared:
    """One changed article, chunked and waiting for its batch to be embedded and written."""

    article: Article
    existed: bool
    ids: list[str]
    texts: list[str]
    to_embed: list[str]
    metadatas: list[dict]

    def write(self, vectors) -> DocumentWrite:
        article = self.article
        record = DocumentRecord(article.doc_id, article.version, source=article.source, chunks=len(self.texts),
                                **article.facts())
        return DocumentWrite(record, self.ids, self.texts, vectors, self.metadatas)


class _InlineWriter:
    """The writer thread's interface, writing at once: when torch already fills every core, a
    concurrent writer only slows it (2 cores, 600 IndoSum articles: 0.76x the raw engine threaded,
    0.82x inline)."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as err:  # handed to _settle, as a thread's error would be
            future.set_exception(err)
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


class _Batcher:
    """Groups articles so the registry is asked once per LOOKUP_BATCH articles and the embedder and the
    store see full batches across article boundaries (one article at a time left them mostly idle).
    Call ``flush`` at the end and ``close`` always."""

    def __init__(self, store: Store, embeddings: "Embeddings", splitter, report: IngestReport, on_commit,
                 overlap_writes: bool = True, rewrite: frozenset[str] = frozenset()):
        self._store, self._embeddings, self._splitter = store, embeddings, splitter
        self._rewrite = rewrite  # doc ids written again even at their live version (mending lost chunks)
        self._report, self._on_commit = report, on_commit
        self._lookup: list[Article] = []
        self._batch: list[_Prepared] = []
        self._chunks = 0
        self._lookup_limit = self._write_limit = 1  # articles per lookup and per write, growing by RAMP
        self._pending: set[str] = set()  # doc ids looked up or batched, not yet committed
        # Store writes (Chroma, the keyword index's stemming) overlap the next batch's embedding.
        self._writer = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="kabar-ingest-writer")
                        if overlap_writes else _InlineWriter())
        self._in_flight: tuple[list[_Prepared], Future] | None = None

    def add(self, item: Article | BadDocument) -> None:
        if isinstance(item, BadDocument):
            _fail(item, self._report)
            return
        if item.doc_id in self._pending:  # a second copy is compared with the first one's commit
            self.flush()
        self._lookup.append(item)
        self._pending.add(item.doc_id)
        if len(self._lookup) >= self._lookup_limit:
            self._look_up()

    def flush(self) -> None:
        """Look up, embed and write everything still waiting, and wait until it is committed."""
        self._look_up()
        self._write()
        self._settle()

    def _look_up(self) -> None:
        """One registry call for the waiting articles: unchanged ones are done, changed ones are chunked."""
        articles, self._lookup = self._lookup, []
        if not articles:
            return
        self._lookup_limit = min(RAMP * self._lookup_limit, LOOKUP_BATCH)
        live = self._store.live_versions(a.doc_id for a in articles)
        for article in articles:
            if live.get(article.doc_id) == article.version and article.doc_id not in self._rewrite:
                self._report.unchanged.append(_label(article))
                self._pending.discard(article.doc_id)
            else:
                self._prepare(article, existed=article.doc_id in live)

    def _prepare(self, article: Article, existed: bool) -> None:
        ids, texts, to_embed, metadatas = chunk_article(article, self._splitter)
        if not texts:
            _fail(BadDocument(f"{article.source}: no text left after cleaning"), self._report)
            self._pending.discard(article.doc_id)
            return
        self._batch.append(_Prepared(article, existed, ids, texts, to_embed, metadatas))
        self._chunks += len(texts)
        if len(self._batch) >= self._write_limit or self._chunks >= FULL_BATCH_CHUNKS:
            self._write()

    def _write(self) -> None:
        """Embed the batch's chunks in one call, then commit it on the writer thread while the next embeds."""
        batch, self._batch, self._chunks = self._batch, [], 0
        if not batch:
            return
        self._write_limit = min(RAMP * self._write_limit, FULL_BATCH_CHUNKS)
        vectors = self._embeddings.embed_documents([t for p in batch for t in p.to_embed])
        writes, start = [], 0
        for p in batch:
            writes.append(p.write(vectors[start : start + len(p.texts)]))
            start += len(p.texts)
        self._settle()  # one batch in flight at most, so batches commit in order
        self._in_flight = (batch, self._writer.submit(self._commit, writes))

    def _commit(self, writes: list[DocumentWrite]) -> None:
        """The store write (chunks, registry commit, keyword index); runs on the writer thread."""
        if len(writes) == 1:  # the one-document call an upload always made (tests stop it at its commit point)
            one = writes[0]
            self._store.write_document(one.record, one.ids, one.texts, one.vectors, one.metadatas)
        else:
            self._store.write_documents(writes)

    def _settle(self) -> None:
        """Wait for the batch being written and record it in the report; its error, if any, is raised here."""
        if self._in_flight is None:
            return
        batch, future = self._in_flight
        self._in_flight = None
        future.result()
        for p in batch:
            (self._report.updated if p.existed else self._report.added).append(_label(p.article))
            self._report.chunks_written += len(p.texts)
            self._pending.discard(p.article.doc_id)
        self._on_commit(self._report)

    def close(self) -> None:
        """Let a write still in flight finish (so nothing writes after ingest returns) and stop the thread."""
        self._writer.shutdown(wait=True)


def _label(article: Article) -> str:
    return article.title or article.source


def _fail(err: BadDocument, report: IngestReport) -> None:
    name, _, reason = str(err).partition(": ")
    report.failed.append((name, reason or str(err)))
    log.warning("skipped %s", err)


class IngestService:
    """Loads, chunks, embeds and stores articles in batches; unchanged articles cost a share of one
    registry lookup."""

    def __init__(self, settings: "Settings", store: Store, embeddings: "Embeddings"):
        self._settings = settings
        self._store = store
        self._embeddings = embeddings
        self._splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
        self._overlap_writes = (os.cpu_count() or 1) > settings.embedding_threads  # a core free for writing

    def ingest(self, paths: Iterable[str | Path], progress: bool = False,
               rewrite: frozenset[str] = frozenset()) -> IngestReport:
        """Ingest files and folders; bad files are reported with a reason and the rest still go in.
        Documents in ``rewrite`` are written again even if unchanged (to restore lost chunks)."""
        report = IngestReport()
        repaired = self._store.repair()  # spares what other ingests running now have not committed
        if repaired:
            log.info("removed %d chunks left by an interrupted earlier run", repaired)
        files = expand_paths(paths, report)
        bar = ProgressBar(len(files), progress)
        batcher = _Batcher(self._store, self._embeddings, self._splitter, report, bar.committed,
                           self._overlap_writes, frozenset(rewrite))
        try:
            for path in files:
                for item in load_path(path, self._settings.max_file_bytes):
                    batcher.add(item)
                bar.update()
            batcher.flush()
        finally:
            batcher.close()
            bar.close()
        return report

    def ingest_articles(self, articles: Iterable[Article]) -> IngestReport:
        """Ingest articles built in code (evaluation sets, tests) through the same path as files."""
        report = IngestReport()
        batcher = _Batcher(self._store, self._embeddings, self._splitter, report, lambda _: None,
                           self._overlap_writes)
        try:
            for article in articles:
                batcher.add(article)
            batcher.flush()
        finally:
            batcher.close()
        return report

    def remove(self, doc: str) -> bool:
        """Remove a document by its id or the one file it came from; never by title, which documents share."""
        candidates = {doc}
        try:
            candidates.add(doc_id_for(str(Path(doc).resolve())))
        except (ValueError, OSError):  # not a path at all (a NUL byte, a symlink loop): an id
            pass
        removed = False
        for record in self._store.documents():
            if record.doc_id in candidates or record.source == doc:
                removed = self._store.delete_document(record.doc_id) or removed
        return removed

    def documents(self) -> list[DocumentRecord]:
        return self._store.documents()
