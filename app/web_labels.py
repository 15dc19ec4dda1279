"""The page's words in English and Indonesian: Gradio picks the labels by the browser's language, and the
server picks its messages by the same browser's Accept-Language header."""
from __future__ import annotations

LABELS = {
    "en": {"intro": "Ask your news archive, in English or Bahasa Indonesia.", "chat": "Chat", "sources": "Sources",
           "documents_tab": "Documents", "upload": "Add articles (.txt .md .html .pdf .docx .jsonl)",
           "add": "Add to the archive", "documents": "Articles in the archive", "choose": "Article to delete",
           "delete": "Delete", "new_chat": "New chat", "question": "Your question",
           "confirm": "Yes, delete it", "cancel": "Cancel",
           "col_title": "Title", "col_outlet": "Outlet", "col_date": "Date", "col_chunks": "Chunks", "col_id": "Id",
           "rename": "Rename", "rename_placeholder": "Name this conversation", "rename_hint": "New name",
           "feedback_comment": "Comment (optional)", "feedback_send": "Send comment"},
    "id": {"intro": "Tanyakan arsip berita Anda, dalam bahasa Indonesia atau Inggris.", "chat": "Obrolan",
           "sources": "Sumber", "documents_tab": "Dokumen",
           "upload": "Tambah artikel (.txt .md .html .pdf .docx .jsonl)", "add": "Tambahkan ke arsip",
           "documents": "Artikel dalam arsip", "choose": "Artikel yang akan dihapus", "delete": "Hapus",
           "new_chat": "Obrolan baru", "question": "Pertanyaan Anda",
           "confirm": "Ya, hapus", "cancel": "Batal",
           "col_title": "Judul", "col_outlet": "Media", "col_date": "Tanggal", "col_chunks": "Potongan", "col_id": "Id",
           "rename": "Ganti nama", "rename_placeholder": "Beri nama percakapan ini", "rename_hint": "Nama baru",
           "feedback_comment": "Komentar (opsional)", "feedback_send": "Kirim komentar",
           # Gradio's own words its Indonesian translation lacks (looked up by these keys in its frontend)
           "chat_interface.new_chat": "Obrolan baru", "chat_interface.message_placeholder": "Ketik pesan…",
           "chat_interface.chatbot": "Percakapan", "chat_interface.conversation": "Percakapan",
           "chat_interface.additional_inputs": "Masukan tambahan", "chatbot.copy_message": "Salin pesan",
           "chatbot.copied_message": "Pesan disalin", "chatbot.retry": "Coba lagi", "chatbot.undo": "Urungkan",
           "chatbot.clear": "Bersihkan", "chatbot.edit": "Sunting", "chatbot.submit": "Kirim",
           "chatbot.cancel": "Batal"},
}
LANGUAGES = tuple(LABELS)


def request_language(request) -> str:
    """'en' or 'id': the first language of the browser's Accept-Language that the page speaks."""
    header = ""
    if request is not None:
        header = (getattr(request, "headers", None) or {}).get("accept-language", "") or ""
    for part in header.split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
        if primary == "in":  # the old code for Indonesian some systems still send
            return "id"
    return "en"


def with_request(fn):
    """Mark ``fn(request)`` for Gradio, which passes the request only to a parameter typed gr.Request
    (a string annotation, as ``from __future__ import annotations`` makes, is not resolved)."""
    import gradio as gr

    fn.__annotations__ = {"request": gr.Request}  # the others stay strings Gradio cannot always resolve
    return fn
