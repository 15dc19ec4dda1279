"""Web adapters: history conversion, safe upload names, escaped source cards."""
from __future__ import annotations

from app.web import pairs_from_history, render_sources
from app.web_documents import safe_upload_name
from vectorstore.store import Passage


def test_history_pairs_from_gradio_messages_of_either_content_shape():
    history = [
        {"role": "user", "content": "Why is the EU partnering with Japan?"},
        {"role": "assistant", "content": [{"type": "text", "text": "To reduce dependence on China [1]."}]},
        {"role": "user", "content": "And South Korea?"},
    ]
    assert pairs_from_history(history) == [("Why is the EU partnering with Japan?", "To reduce dependence on China [1].")]
    assert pairs_from_history([]) == []


def test_upload_names_cannot_leave_the_uploads_folder():
    assert safe_upload_name("../../etc/passwd") == "passwd"
    assert safe_upload_name("..\\..\\win.ini") == "win.ini"
    assert safe_upload_name("berita <script>.txt") == "berita _script_.txt"
    assert safe_upload_name("..") == "upload"


def test_source_cards_escape_article_html():
    hostile = Passage("c1", "<script>alert(1)</script><img src=x onerror=alert(2)>", "d1",
                      title="<b>Judul</b>", url="javascript:alert(3)")
    html = render_sources([hostile])
    assert "<script>" not in html and "<img" not in html and "<b>Judul" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html  # only http(s) links are shown
