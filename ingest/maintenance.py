"""``python -m ingest --check`` and ``--repair``: find, then mend, disagreements a store already has."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from vectorstore.consistency import check_store, mend_store

if TYPE_CHECKING:
    from ingest.service import IngestService
    from vectorstore.store import ChunkStore


def check(store: "ChunkStore", out: TextIO | None = None) -> bool:
    """Print what disagrees; True when registry, chunks and keyword index agree."""
    out = out or sys.stdout
    result = check_store(store)
    for line in result.lines(store):
        print(line, file=out)
    return result.ok


def source_file(source: str) -> Path | None:
    """The file a document came from (a .jsonl line's source is ``path#id``), if it is still there."""
    for candidate in (source, source.rpartition("#")[0]):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def repair(store: "ChunkStore", service: "IngestService", out: TextIO | None = None) -> bool:
    """Delete leftovers, re-index keywords, re-ingest incomplete documents from their files (or remove
    those whose file is gone, so a later ingest adds them again); True when the store then agrees."""
    out = out or sys.stdout
    deleted, result = mend_store(store)
    print(f"deleted {deleted} leftover or duplicated chunks", file=out)
    records = {d.doc_id: d for d in store.documents()}
    broken = [records[d] for d in result.missing if d in records]
    files = {d.doc_id: source_file(d.source) for d in broken}
    for record in broken:
        if files[record.doc_id] is None:
            store.delete_document(record.doc_id)
            print(f"removed (its file is gone, ingest it again): {record.title or record.source}", file=out)
    rewrite = frozenset(d for d, path in files.items() if path is not None)
    if rewrite:
        report = service.ingest(sorted({str(files[d]) for d in rewrite}), rewrite=rewrite)
        print(f"re-ingested {len(rewrite)} incomplete documents: {report.summary()}", file=out)
    return check(store, out)

