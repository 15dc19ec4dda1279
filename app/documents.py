"""Document operations the web page and the HTTP API share: ingest uploads, delete one document by id.

Stored uploads live exactly as long as a document comes from them: a file that failed to ingest is
deleted at once, and the file goes with its (last) document.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from app.uploads import discard_upload, stored_upload
from core.errors import AmbiguousDocument, DocumentNotFound, KabarError

if TYPE_CHECKING:
    from app.api import Assistant
    from ingest.service import IngestReport
    from vectorstore.store import DocumentRecord

log = logging.getLogger(__name__)


def ingest_uploads(assistant: "Assistant", saved: list[Path]) -> "IngestReport":
    """Ingest stored uploads, then delete those no document came from (refused, or failed part-way)."""
    try:
        return assistant.ingest(saved)
    finally:
        _discard_unused(assistant, saved)


def _discard_unused(assistant: "Assistant", saved: list[Path]) -> None:
    try:
        used = {upload.resolve() for d in assistant.documents()
                if (upload := stored_upload(assistant.settings, d.source)) is not None}
    except KabarError as err:  # the store went away: keep the files rather than guess
        log.warning("could not check which uploads were ingested: %s", err)
        return
    for path in saved:
        if path.resolve() not in used:
            discard_upload(assistant.settings, path)


def find_document(assistant: "Assistant", doc_id: str) -> "DocumentRecord":
    """The document with this id; a title (or source) is never enough, however many it matches."""
    documents = assistant.documents()
    for record in documents:
        if record.doc_id == doc_id:
            return record
    named = [d for d in documents if doc_id in (d.title, d.source)]
    if named:
        choices = [{"id": d.doc_id, "title": d.title, "source": d.source} for d in named]
        listed = "; ".join(f"{c['id']} ({c['title'] or c['source']})" for c in choices)
        raise AmbiguousDocument(f"{doc_id!r} is not an id but names {len(named)} document(s); delete by id: "
                                f"{listed}", choices)
    raise DocumentNotFound(f"No document with id {doc_id!r}.")


def remove_document(assistant: "Assistant", doc_id: str) -> "DocumentRecord":
    """Remove one document by its id, and its uploaded file once no other document comes from it."""
    record = find_document(assistant, doc_id)
    if not assistant.remove(record.doc_id):
        raise DocumentNotFound(f"No document with id {doc_id!r}.")
    upload = stored_upload(assistant.settings, record.source)
    if upload is not None and all(stored_upload(assistant.settings, d.source) != upload
                                  for d in assistant.documents()):
        discard_upload(assistant.settings, upload)
    return record
