"""The web page's document panel: upload, list and delete, through the one ingest service."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from app.documents import ingest_uploads, remove_document
from app.uploads import save_upload_file
from core.errors import DocumentNotFound, KabarError
from ingest.loaders import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from app.api import Assistant

COLUMNS = ["Title", "Outlet", "Date", "Chunks", "Id"]


def document_rows(assistant: "Assistant") -> list[list]:
    return [[d.title, d.outlet, d.date, d.chunks, d.doc_id] for d in assistant.documents()]


def document_choices(assistant: "Assistant") -> list[tuple[str, str]]:
    return [(d.title or d.source, d.doc_id) for d in assistant.documents()]


def upload(assistant: "Assistant", files: list | None) -> Iterator[str]:
    """Ingest uploaded files one by one, yielding a growing per-file report (Markdown)."""
    if not files:
        yield "Choose one or more files first."
        return
    paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]
    lines: list[str] = []
    for index, temp in enumerate(paths, start=1):
        name = Path(temp).name
        lines.append(f"- {name}: working… ({index}/{len(paths)})")
        yield "\n".join(lines)
        try:
            # kept under KABAR_DATA_DIR/uploads/<content hash>/ while its document exists
            outcome = _outcome(ingest_uploads(assistant, [save_upload_file(assistant.settings, temp)]))
        except KabarError as err:
            outcome = f"failed: {err}"
        lines[-1] = f"- {name}: {outcome}"
        yield "\n".join(lines)


def _outcome(report) -> str:
    if report.failed:
        return "failed: " + "; ".join(reason for _, reason in report.failed)
    for label, items in (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged)):
        if items:
            return f"{label} ({report.chunks_written} chunks)" if label != "unchanged" else label
    return "nothing to add"


def delete(assistant: "Assistant", doc_id: str | None) -> str:
    """Delete by id only (the dropdown's value), with its uploaded file."""
    if not doc_id:
        return "Choose a document to delete."
    try:
        remove_document(assistant, doc_id)
    except DocumentNotFound:
        return "That document was already gone."
    except KabarError as err:  # a title rather than an id: the message lists the ids
        return str(err)
    return "Deleted."


def build_documents_tab(assistant: "Assistant", labels, demo) -> None:
    """Upload, list and delete widgets, wired to the assistant (call inside ``demo``)."""
    import gradio as gr

    files = gr.File(label=labels("upload"), file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                    elem_id="upload-files")
    add = gr.Button(labels("add"), variant="primary")
    result = gr.Markdown(elem_id="upload-result")
    table = gr.Dataframe(value=lambda: document_rows(assistant), headers=COLUMNS, interactive=False,
                         label=labels("documents"), elem_id="documents-table")
    with gr.Row():
        # allow_custom_value: programs may delete by id without first loading this page's choices
        choice = gr.Dropdown(choices=document_choices(assistant), label=labels("choose"), elem_id="delete-choice",
                             allow_custom_value=True)
        remove = gr.Button(labels("delete"), variant="stop", elem_id="delete-button")

    def refreshed():
        return document_rows(assistant), gr.update(choices=document_choices(assistant), value=None)

    def add_files(uploaded: list | None) -> Iterator[str]:
        yield from upload(assistant, uploaded)

    def delete_document(doc_id: str | None) -> str:
        return delete(assistant, doc_id)

    demo.load(refreshed, outputs=[table, choice], api_name=False)  # each visit sees the current archive
    add.click(add_files, inputs=files, outputs=result, api_name="upload").then(refreshed, outputs=[table, choice])
    remove.click(delete_document, inputs=choice, outputs=result, api_name="delete") \
        .then(refreshed, outputs=[table, choice])
