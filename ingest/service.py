"""The one ingest service behind the CLI, the Python API and the web upload."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from core.errors import BadDocument
from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import SUPPORTED_SUFFIXES, Article, doc_id_for, load_path
from vectorstore.store import ChunkStore, DocumentRecord

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from core.settings import Settings

log = logging.getLogger(__name__)


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


class IngestService:
    """Loads, chunks, embeds and stores articles; unchanged articles cost one registry lookup."""

    def __init__(self, settings: "Settings", store: ChunkStore, embeddings: "Embeddings"):
        self._settings = settings
        self._store = store
        self._embeddings = embeddings
        self._splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)

    def ingest(self, paths: Iterable[str | Path], progress: bool = False) -> IngestReport:
        """Ingest files and folders; bad files are reported with a reason and the rest still go in."""
        report = IngestReport()
        repaired = self._store.repair()
        if repaired:
            log.info("removed %d chunks left by an interrupted earlier run", repaired)
        files = expand_paths(paths, report)
        for path in self._progress(files, progress):
            for item in load_path(path, int(self._settings.max_file_mb * 1e6)):
                self._ingest_item(item, report)
        return report

    def ingest_articles(self, articles: Iterable[Article]) -> IngestReport:
        """Ingest articles built in code (evaluation sets, tests) through the same path as files."""
        report = IngestReport()
        for article in articles:
            self._ingest_item(article, report)
        return report

    def _ingest_item(self, item: Article | BadDocument, report: IngestReport) -> None:
        """Record one article (or bad file) in the report, writing it only when its content changed."""
        if isinstance(item, BadDocument):
            self._fail(item, report)
            return
        label = item.title or item.source
        existing = self._store.document(item.doc_id)
        if existing and existing.version == item.version:
            report.unchanged.append(label)
            return
        try:
            report.chunks_written += self._write(item)
        except BadDocument as err:
            self._fail(err, report)
            return
        (report.updated if existing else report.added).append(label)

    @staticmethod
    def _fail(err: BadDocument, report: IngestReport) -> None:
        name, _, reason = str(err).partition(": ")
        report.failed.append((name, reason or str(err)))
        log.warning("skipped %s", err)

    def _write(self, article: Article) -> int:
        ids, texts, to_embed, metadatas = chunk_article(article, self._splitter)
        if not texts:
            raise BadDocument(f"{article.source}: no text left after cleaning")
        vectors = self._embeddings.embed_documents(to_embed)
        record = DocumentRecord(
            doc_id=article.doc_id, version=article.version, title=article.title, source=article.source,
            outlet=article.outlet, date=article.date, url=article.url, chunks=len(texts),
        )
        self._store.write_document(record, ids, texts, vectors, metadatas)
        return len(texts)

    def remove(self, doc: str) -> bool:
        """Remove a document by its id, its file path, or its exact title."""
        candidates = {doc}
        try:
            candidates.add(doc_id_for(str(Path(doc).resolve())))
        except (ValueError, OSError):  # not a path at all (a NUL byte, a symlink loop): an id or a title
            pass
        removed = False
        for record in self._store.documents():
            if record.doc_id in candidates or record.source == doc or record.title == doc:
                removed = self._store.delete_document(record.doc_id) or removed
        return removed

    def documents(self) -> list[DocumentRecord]:
        return self._store.documents()

    @staticmethod
    def _progress(files: list[Path], enabled: bool) -> Iterator[Path]:
        if not enabled:
            return iter(files)
        from tqdm import tqdm

        return iter(tqdm(files, desc="Ingesting", unit="file"))
