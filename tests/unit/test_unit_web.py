"""Web adapters: history conversion, safe upload names, escaped source cards."""
from __future__ import annotations

from app.web import pairs_from_history, render_sources
from app.uploads import safe_upload_name
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


def test_cited_cards_mark_their_evidence_and_answers_link_to_cards():
    from app.chat import Answer
    from app.web import _final_text

    passage = Passage("c1", "Kalimat pertama <b>. Kalimat kedua mendukung jawaban.", "d1", title="T")
    html = render_sources([passage], {1: ["Kalimat kedua mendukung jawaban."]})
    assert "<mark>Kalimat kedua mendukung jawaban.</mark>" in html and "&lt;b&gt;" in html
    assert _final_text(Answer("q", "Jepang bermitra [1].")) == "Jepang bermitra [[1]](#source-1)."
    assert _final_text(Answer("q", "Tidak ada.", refused=True)).startswith("ℹ️")


def test_the_draft_says_it_is_being_checked_until_the_verified_answer_replaces_it():
    from app.events import Answer, Checking, Retrieved, Token
    from app.web import respond

    passage = Passage("c1", "Harga beras turun.", "d1", title="Beras")

    class Scripted:
        def stream(self, question, history):
            yield Retrieved([passage], question)
            yield Token("Harga beras turun [1]. Harga gula naik [1].")
            yield Checking()
            yield Answer(question, "Harga beras turun [1].", [])

    shown = [text for text, _sources in respond(Scripted(), "Berapa harga beras?", [])]
    assert shown[2].startswith("Harga beras turun [1]. Harga gula naik") and "⏳ Memeriksa" in shown[2]
    assert "⏳" not in shown[-1] and "gula" not in shown[-1]


def test_the_best_span_is_marked_before_the_model_writes():
    from app.events import Retrieved, Token
    from app.web import respond

    passage = Passage("c1", "Cuaca cerah. Harga beras turun tajam pekan ini.", "d1", title="Beras")

    class Scripted:
        def stream(self, question, history):
            yield Retrieved([passage], question, {1: ["Harga beras turun tajam pekan ini."]})
            yield Token("Harga beras turun [1].")

    first_text, first_sources = next(iter(respond(Scripted(), "Berapa harga beras?", [])))
    assert first_text == "…"
    assert "<mark>Harga beras turun tajam pekan ini.</mark>" in first_sources and "<mark>Cuaca" not in first_sources
