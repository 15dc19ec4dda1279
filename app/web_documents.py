"""The web page's document panel: upload, list and delete (after a confirmation naming the article), through the
one ingest service; its messages follow the browser's language."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from app.documents import ingest_uploads, remove_document
from app.uploads import save_upload_file
from app.web_labels import LABELS, request_language, with_request
from core.errors import DocumentNotFound, KabarError
from ingest.loaders import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from app.api import Assistant

COLUMNS = ["col_title", "col_outlet", "col_date", "col_chunks", "col_id"]
MESSAGES = {
    "en": {"choose_files": "Choose one or more files first.", "working": "working…", "failed": "failed",
           "added": "added", "updated": "updated", "unchanged": "unchanged", "nothing": "nothing to add",
           "chunks": "{n} chunk", "chunks_many": "{n} chunks", "choose": "Choose a document to delete.",
           "gone": "That document was already gone.", "deleted": "Deleted “{title}”.",
           "confirm": "Delete “{title}”{facts}? It leaves the archive with its uploaded file; "
                      "this cannot be undone.",
           "kept": "Nothing was deleted."},
    "id": {"choose_files": "Pilih satu berkas atau lebih terlebih dahulu.", "working": "memproses…",
           "failed": "gagal",
           "added": "ditambahkan", "updated": "diperbarui", "unchanged": "tidak berubah",
           "nothing": "tidak ada yang ditambahkan", "chunks": "{n} potongan", "chunks_many": "{n} potongan",
           "choose": "Pilih dokumen yang akan dihapus.", "gone": "Dokumen itu sudah tidak ada.",
           "deleted": "“{title}” dihapus.",
           "confirm": "Hapus “{title}”{facts}? Artikel ini keluar dari arsip bersama berkas unggahannya; "
                      "tindakan ini tidak dapat dibatalkan.",
           "kept": "Tidak ada yang dihapus."},
}


def document_rows(assistant: "Assistant") -> list[list]:
    return [[d.title, d.outlet, d.date, d.chunks, d.doc_id] for d in assistant.documents()]


def document_choices(assistant: "Assistant") -> list[tuple[str, str]]:
    return [(d.title or d.source, d.doc_id) for d in assistant.documents()]


def upload(assistant: "Assistant", files: list | None, language: str = "en") -> Iterator[str]:
    """Ingest uploaded files one by one, yielding a growing per-file report (Markdown)."""
    words = MESSAGES[language]
    if not files:
        yield words["choose_files"]
        return
    paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]
    lines: list[str] = []
    for index, temp in enumerate(paths, start=1):
        name = Path(temp).name
        lines.append(f"- {name}: {words['working']} ({index}/{len(paths)})")
        yield "\n".join(lines)
        try:
            # kept under KABAR_DATA_DIR/uploads/<content hash>/ while its document exists
            outcome = _outcome(ingest_uploads(assistant, [save_upload_file(assistant.settings, temp)]), words)
        except KabarError as err:
            outcome = f"{words['failed']}: {err}"
        lines[-1] = f"- {name}: {outcome}"
        yield "\n".join(lines)


def _outcome(report, words: dict[str, str]) -> str:
    """One file's result: added or updated with its chunk count, unchanged, or why it failed."""
    if report.failed:
        return f"{words['failed']}: " + "; ".join(reason for _, reason in report.failed)
    chunks = words["chunks" if report.chunks_written == 1 else "chunks_many"].format(n=report.chunks_written)
    for label, items in (("added", report.added), ("updated", report.updated)):
        if items:
            return f"{words[label]} ({chunks})"
    return words["unchanged"] if report.unchanged else words["nothing"]


def _document(assistant: "Assistant", doc_id: str | None):
    return next((d for d in assistant.documents() if d.doc_id == doc_id), None) if doc_id else None


def confirmation(assistant: "Assistant", doc_id: str | None, language: str = "en") -> tuple[str, bool]:
    """The question asked before a delete, naming the article; False when there is nothing to confirm."""
    words = MESSAGES[language]
    document = _document(assistant, doc_id)
    if document is None:
        return (words["choose"] if not doc_id else words["gone"]), False
    facts = ", ".join(x for x in (document.outlet, document.date) if x)
    return words["confirm"].format(title=document.title or document.source, facts=f" ({facts})" if facts else ""), True


def delete(assistant: "Assistant", doc_id: str | None, language: str = "en") -> str:
    """Delete by id only (the dropdown's value), with its uploaded file; the message names the article."""
    words = MESSAGES[language]
    if not doc_id:
        return words["choose"]
    document = _document(assistant, doc_id)
    try:
        remove_document(assistant, doc_id)
    except DocumentNotFound:
        return words["gone"]
    except KabarError as err:  # a title rather than an id: the message lists the ids
        return str(err)
    return words["deleted"].format(title=(document.title or document.source) if document else doc_id)


def table_value(assistant: "Assistant", language: str) -> dict:
    """The documents table with its headers in the browser's language."""
    return {"data": document_rows(assistant), "headers": [LABELS[language][c] for c in COLUMNS]}


def build_documents_tab(assistant: "Assistant", labels, demo) -> None:
    """Upload, list and delete widgets, wired to the assistant (call inside ``demo``)."""
    import gradio as gr

    files = gr.File(label=labels("upload"), file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                    elem_id="upload-files")
    add = gr.Button(labels("add"), variant="primary")
    result = gr.Markdown(elem_id="upload-result")
    table = gr.Dataframe(value=table_value(assistant, "en"), interactive=False, wrap=True, show_search="search",
                         label=labels("documents"), elem_id="documents-table",
                         column_widths=["30%", "14%", "12%", "8%", "36%"])
    with gr.Row():
        # no choices until the page loads: gradio_client's /delete shows no real document id as its example;
        # allow_custom_value: programs may delete by id without first loading this page's choices
        choice = gr.Dropdown(choices=[], value=None, label=labels("choose"), elem_id="delete-choice",
                             allow_custom_value=True)
        remove = gr.Button(labels("delete"), variant="stop", elem_id="delete-button")
    with gr.Group(visible=False, elem_id="delete-confirm") as confirm_box:
        question = gr.Markdown(elem_id="delete-question")
        with gr.Row():
            yes = gr.Button(labels("confirm"), variant="stop", elem_id="delete-yes")
            no = gr.Button(labels("cancel"), elem_id="delete-no")
    _wire(assistant, demo, (files, add, result, table, choice, remove, confirm_box, question, yes, no))


def _wire(assistant: "Assistant", demo, widgets) -> None:
    """The tab's events: upload then refresh (clearing the picker), ask before deleting, delete then refresh."""
    import gradio as gr

    files, add, result, table, choice, remove, confirm_box, question, yes, no = widgets

    @with_request
    def refreshed(request):
        value = table_value(assistant, request_language(request))
        return value, gr.update(choices=document_choices(assistant), value=None)

    @with_request
    def add_files(uploaded: list | None, request) -> Iterator[str]:
        yield from upload(assistant, uploaded, request_language(request))

    @with_request
    def ask_first(doc_id: str | None, request):
        text, ask = confirmation(assistant, doc_id, request_language(request))
        return gr.update(visible=ask), text, "" if ask else text

    @with_request
    def delete_document(doc_id: str | None, request) -> str:
        return delete(assistant, doc_id, request_language(request))

    @with_request
    def kept(request):
        return gr.update(visible=False), MESSAGES[request_language(request)]["kept"]

    demo.load(refreshed, outputs=[table, choice], api_name=False)  # each visit sees the current archive
    add.click(add_files, inputs=files, outputs=result, api_name="upload") \
        .then(refreshed, outputs=[table, choice], api_name=False).then(lambda: None, outputs=files, api_name=False)
    remove.click(ask_first, inputs=choice, outputs=[confirm_box, question, result], api_name=False)
    yes.click(lambda: gr.update(visible=False), outputs=confirm_box, api_name=False) \
        .then(delete_document, inputs=choice, outputs=result, api_name="delete") \
        .then(refreshed, outputs=[table, choice], api_name=False)
    no.click(kept, outputs=[confirm_box, result], api_name=False)
