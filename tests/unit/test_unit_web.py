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
    from app.web import final_message

    passage = Passage("c1", "Kalimat pertama <b>. Kalimat kedua mendukung jawaban.", "d1", title="T")
    html = render_sources([passage], {1: ["Kalimat kedua mendukung jawaban."]})
    assert "<mark>Kalimat kedua mendukung jawaban.</mark>" in html and "&lt;b&gt;" in html
    assert final_message(Answer("q", "Jepang bermitra [1]."), 3) == "Jepang bermitra [[1]](#source-a3-1)."
    assert final_message(Answer("q", "Tidak ada.", refused=True), 1).startswith("ℹ️")


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
    checking = next(text for text in shown if "⏳ Memeriksa" in text)
    assert checking.startswith("Harga beras turun [1]. Harga gula naik")
    assert "⏳" not in shown[-1] and "gula" not in shown[-1]


def test_the_best_span_is_marked_before_the_model_writes():
    from app.events import Retrieved, Token
    from app.web import respond

    passage = Passage("c1", "Cuaca cerah. Harga beras turun tajam pekan ini.", "d1", title="Beras")

    class Scripted:
        def stream(self, question, history):
            yield Retrieved([passage], question, {1: ["Harga beras turun tajam pekan ini."]})
            yield Token("Harga beras turun [1].")

    updates = respond(Scripted(), "Berapa harga beras?", [])
    searching, (reading, first_sources) = next(updates), next(updates)
    assert "Mencari di arsip" in searching[0] and "kabar-card" not in searching[1]
    assert "Membaca 1 bagian" in reading
    assert "<mark>Harga beras turun tajam pekan ini.</mark>" in first_sources and "<mark>Cuaca" not in first_sources


RICE = Passage("c1", "Cuaca cerah. Harga beras turun tajam pekan ini.", "d1", title="Harga Beras", outlet="Kompas",
               date="2024-03-01", url="https://example.com/beras")
RICE_2 = Passage("c2", "Pasokan melimpah karena panen raya.", "d1", title="Harga Beras", outlet="Kompas",
                 date="2024-03-01", url="https://example.com/beras")
SUGAR = Passage("c3", "Harga gula naik.", "d2", title="Harga Gula")


class Scripted:
    """A chat service that replays given events, as the real one streams them."""

    def __init__(self, *events):
        self.events, self.histories = events, []

    def stream(self, question, history):
        self.histories.append(list(history))
        yield from self.events


def test_each_answer_keeps_its_own_cards_and_its_links_open_them():
    from app.events import Answer, Retrieved, Source
    from app.web import respond

    cited = [Source(1, RICE, ["Harga beras turun tajam pekan ini."]), Source(2, SUGAR, ["Harga gula naik."])]
    first = Scripted(Retrieved([RICE, SUGAR], "q"), Answer("q", "Beras turun [1]. Gula naik [2].", cited, language="id"))
    message, _panel = list(respond(first, "Berapa harga beras?", []))[-1]
    second = Scripted(Retrieved([SUGAR], "q"), Answer("q", "Gula naik [1].", [Source(1, SUGAR, [])], language="id"))
    history = [{"role": "user", "content": "Berapa harga beras?"}, {"role": "assistant", "content": message}]
    follow_up, _panel = list(respond(second, "Dan gula?", history))[-1]
    assert "[[1]](#source-a1-1)" in message and "[[2]](#source-a1-2)" in message
    assert "id='source-a1-1'" in message and "id='source-a1-2'" in message
    assert "[[1]](#source-a2-1)" in follow_up and "id='source-a2-1'" in follow_up and "source-a1" not in follow_up
    assert "<details class='kabar-answer-sources'><summary>Sumber (2)</summary>" in message
    assert second.histories == [[("Berapa harga beras?", "Beras turun [1]. Gula naik [2].")]], "cards stay out"


def test_cards_of_one_article_share_its_title_outlet_date_and_link():
    from app.web_sources import render_sources

    html = render_sources([RICE, SUGAR, RICE_2], spans={1: ["Harga beras turun tajam pekan ini."]})
    assert html.count("Harga Beras</strong>") == 1 and html.count("Harga Gula</strong>") == 1
    assert html.index("[1]") < html.index("[3]") < html.index("Harga Gula"), "article order, cards together"
    assert "Kompas · 2024-03-01" in html and "href='https://example.com/beras'" in html
    assert "<mark>Harga beras turun tajam pekan ini.</mark>" in html


def test_the_steps_are_said_in_the_question_s_language_with_seconds():
    from app.events import Answer, Checking, Retrieved, Stage, Token
    from app.web import respond
    from app.web_progress import Progress

    events = (Stage("rewriting"), Stage("searching"), Retrieved([RICE], "q"), Token("Rice fell [1]."), Checking(),
              Answer("q", "Rice fell [1]."))
    shown = [text for text, _panel in respond(Scripted(*events), "And last week?", [("Rice?", "Down [1].")])]
    assert [s.split(">")[1].split(" <")[0] for s in shown[:4]] == [
        "🔎 Searching the archive…", "✏️ Rewriting your follow-up so it stands alone…",
        "🔎 Searching the archive…", "📖 Reading 1 passage…"]
    assert shown[4].startswith("Rice fell [1].") and "✍️ Writing…" in shown[4] and "Checking each" in shown[5]
    ticks = iter([100.0, 107.9])
    assert "kabar-stage-writing'>✍️ Menulis… <span class='kabar-seconds'>7 s</span>" in \
        Progress("id", clock=lambda: next(ticks)).line("writing")


def test_an_empty_question_says_why_without_claiming_a_search():
    from app.web import respond
    from core.errors import BadQuestion

    class Refusing:
        def stream(self, question, history):
            raise BadQuestion("Type a question first.")
            yield

    message, panel = list(respond(Refusing(), "   ", []))[-1]
    assert message.startswith("⚠️") and "No matching passages" not in panel and "Sources appear here" in panel


def test_history_reads_answers_without_their_cards_or_progress():
    from app.web_progress import Progress
    from app.web_sources import plain_answer

    stopped = "Harga turun [1]\n\n" + Progress("id").line("writing")
    assert plain_answer(stopped) == "Harga turun [1]"
    assert plain_answer("Naik [[2]](#source-a4-2).\n\n<details class='kabar-answer-sources'>x</details>") == "Naik [2]."


def test_the_server_speaks_the_browser_s_language():
    from types import SimpleNamespace

    from app.web_labels import LABELS, request_language

    def request(header):
        return SimpleNamespace(headers={"accept-language": header})

    assert request_language(request("id-ID,id;q=0.9,en;q=0.8")) == "id"
    assert request_language(request("fr-FR,en-US;q=0.8")) == "en" and request_language(None) == "en"
    assert set(LABELS["en"]) <= set(LABELS["id"]), "every English label has an Indonesian one"


def test_upload_reports_speak_the_browser_s_language_and_count_chunks_right():
    from types import SimpleNamespace

    from app.web_documents import MESSAGES, _outcome

    one = SimpleNamespace(failed=[], added=["d1"], updated=[], unchanged=[], chunks_written=1)
    assert _outcome(one, MESSAGES["en"]) == "added (1 chunk)"
    assert _outcome(one, MESSAGES["id"]) == "ditambahkan (1 potongan)"
    assert set(MESSAGES["en"]) == set(MESSAGES["id"])


def test_events_the_page_does_not_know_are_skipped():
    from app.events import Answer
    from app.web import respond

    from app.events import Stage

    events = (object(), Stage("translating"), Answer("q", "Beras turun [1]."))
    shown = list(respond(Scripted(*events), "Berapa harga beras?", []))
    assert len(shown) == 2 and shown[-1][0] == "Beras turun [[1]](#source-a1-1)."
