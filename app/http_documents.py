"""The /v1/documents routes: upload (ingest), list, and delete one document by its id."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse

from app import http_schemas as wire
from app.documents import ingest_uploads, remove_document
from app.uploads import save_upload
from core.errors import BadDocument

if TYPE_CHECKING:
    from app.api import Assistant


def add_document_routes(router: APIRouter, assistant: "Assistant") -> None:
    @router.get("/documents")
    def list_documents() -> dict:
        return {"object": "list", "data": [wire.document_json(d) for d in assistant.documents()]}

    @router.post("/documents")
    def add_documents(files: list[UploadFile] = File(...)):
        """Ingest uploaded files; each is stored under KABAR_DATA_DIR/uploads/<content hash>/ while its
        document exists (a file that fails is deleted at once)."""
        saved, refused = [], []
        for upload in files:
            try:
                saved.append(save_upload(assistant.settings, upload.filename or "upload", upload.file))
            except BadDocument as err:
                refused.append((upload.filename or "upload", str(err)))
        report = ingest_uploads(assistant, saved)
        report.failed[:0] = refused
        nothing_taken = not (report.added or report.updated or report.unchanged)
        return JSONResponse(wire.report_json(report), status_code=422 if report.failed and nothing_taken else 200)

    @router.delete("/documents/{document_id}")
    def delete_document(document_id: str) -> dict:
        """By id only: a title naming documents is a 409 that lists their ids."""
        record = remove_document(assistant, document_id)
        return {"id": record.doc_id, "deleted": True}
