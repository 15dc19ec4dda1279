"""The web page's own behaviour in a real headless Chromium, over a scripted chat service (no model needed):
each answer keeps its own sources, the steps are said as they happen, both themes are readable, and an
Indonesian browser sees Indonesian labels. Screenshots go to test-output/.

No fixed sleeps in the tests: every wait is on a condition the page reaches (wait_for_function, expect).
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.e2e.test_browser import ARGS, CHROMIUM
from vectorstore.store import Passage

pytestmark = pytest.mark.integration

RICE = Passage("c1", "Cuaca cerah di Jakarta. Harga beras medium turun menjadi Rp 11.200 per kilogram.", "d1",
               title="Harga Beras Turun", outlet="Kompas", date="2024-03-01", url="https://example.com/beras")
FILLER = " ".join(f"Pedagang ke-{i} di Cipinang menata karung beras sejak subuh." for i in range(1, 25))
RICE_2 = Passage("c2", f"{FILLER} Panen raya di Jawa Tengah membuat pasokan beras melimpah.", "d1",
                 title="Harga Beras Turun", outlet="Kompas", date="2024-03-01", url="https://example.com/beras")
SUGAR = Passage("c3", "Harga gula pasir naik menjadi Rp 18.000 per kilogram.", "d2", title="Harga Gula Naik",
                outlet="Tempo", date="2024-03-02")
# a finished answer: a refusal (ℹ️), an error (⚠️), or cards under it; drafts carry a progress line
FINISHED = """before => {
  const bots = document.querySelectorAll("[data-testid='bot']");
  if (bots.length <= before) return false;
  const bot = bots[before];
  return bot.querySelector(".kabar-stage") === null &&
    (bot.innerText.includes("ℹ️") || bot.innerText.includes("⚠️") || bot.querySelector("details") !== null);
}"""


class ScriptedChat:
    """Replays the chat service's events for a few known questions; a gate holds one step open until released,
    so the test can see that step on the page."""

    def __init__(self):
        self.hold = threading.Event()
        self.hold.set()

    def stream(self, question, history=(), **_):
        from app.events import Answer, Checking, Retrieved, Source, Stage, Token

        if "gula" in question.lower() or "sugar" in question.lower():
            yield Stage("rewriting")
            self.hold.wait(60)
            yield Stage("searching")
            yield Retrieved([SUGAR, RICE], question, {1: ["Harga gula pasir naik menjadi Rp 18.000 per kilogram."]})
            yield Token("Harga gula naik menjadi Rp 18.000 [1].")
            yield Checking()
            yield Answer(question, "Harga gula naik menjadi Rp 18.000 [1].",
                         [Source(1, SUGAR, ["Harga gula pasir naik menjadi Rp 18.000 per kilogram."])], language="id")
        elif "beras" in question.lower() or "rice" in question.lower():
            language = "id" if "beras" in question.lower() else "en"
            yield Retrieved([RICE, SUGAR, RICE_2], question, {1: [RICE.text.split(". ")[1]]})
            for piece in ("Harga beras turun ", "menjadi Rp 11.200 [1], ", "karena panen raya [3]."):
                yield Token(piece)
            yield Checking()
            yield Answer(question, "Harga beras turun menjadi Rp 11.200 [1], karena panen raya [3].",
                         [Source(1, RICE, ["Harga beras medium turun menjadi Rp 11.200 per kilogram."]),
                          Source(3, RICE_2, ["Panen raya di Jawa Tengah membuat pasokan beras melimpah."])],
                         language=language)
        else:
            yield Retrieved([SUGAR], question)
            yield Answer(question, "The archive does not say.", refused=True)


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """The real page and API over a real (empty-model) Assistant whose chat service is scripted."""
    from app.api import Assistant
    from app.server import serve
    from core.settings import Settings
    from tests.conftest import free_port
    from tests.unit.conftest import NO_CHECKER, RICE_ARTICLE, FakeEmbeddings

    root = tmp_path_factory.mktemp("scripted")
    kb = Assistant(Settings(data_dir=root / "data", models_dir=root / "models", chroma_collection="browser_chunks",
                            **NO_CHECKER), embeddings=FakeEmbeddings())
    (root / "beras.txt").write_text(RICE_ARTICLE, encoding="utf-8")
    assert kb.ingest([root / "beras.txt"]).added
    chat = ScriptedChat()
    kb.stream = chat.stream
    server = serve(kb, port=free_port(), block=False)
    yield server.url, chat, kb
    server.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, locale: str = "en-US", scheme: str = "light", width: int = 1280):
    context = browser.new_context(locale=locale, color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("textarea", timeout=60_000)
    return page


def send(page, question: str) -> int:
    """Type and send a question; the index its answer will have."""
    before = page.locator("[data-testid='bot']").count()
    page.fill("textarea", question)
    page.keyboard.press("Enter")
    return before


def finished(page, index: int):
    page.wait_for_function(FINISHED, arg=index, timeout=60_000, polling=100)
    return page.locator("[data-testid='bot']").nth(index)


def evidence_in_sight(page, within: str) -> None:
    """Wait until card [3] (a long passage, its evidence at the end) has scrolled its mark into its box."""
    page.wait_for_function("""within => {
      const cards = Array.from(document.querySelectorAll(within + " .kabar-card"));
      const card = cards.find(c => c.textContent.includes("[3]")), mark = card && card.querySelector("mark");
      if (!mark) return false;
      const box = card.getBoundingClientRect(), seen = mark.getBoundingClientRect();
      return card.scrollTop > 0 && seen.top >= box.top && seen.bottom <= box.bottom;
    }""", arg=within, timeout=10_000)


def contrast(page, selector: str) -> float:
    """WCAG contrast ratio of the first element's text against its own background."""
    return page.evaluate("""selector => {
      const el = document.querySelector(selector), style = getComputedStyle(el);
      const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => v / 255)
          .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
      return (a + 0.05) / (b + 0.05);
    }""", selector)


def test_each_answer_keeps_its_own_sources_and_says_its_steps(browser, scripted, output_dir):
    from playwright.sync_api import expect

    url, chat, _kb = scripted
    page = open_page(browser, url)
    bots = page.locator("[data-testid='bot']")
    expect(page.locator("textarea")).to_have_attribute("placeholder", "Type a message...")  # Gradio empties it later
    first = finished(page, send(page, "Berapa harga beras?"))
    assert first.locator("a[href='#source-a1-1']").count() == 1 and first.locator("#source-a1-3").count() == 1
    assert first.locator(".kabar-article-title").count() == 1, "two passages of one article under one title"
    assert "Kompas · 2024-03-01" in first.locator(".kabar-article-title").text_content()  # collapsed: no innerText
    evidence_in_sight(page, "#sources")
    chat.hold.clear()  # the follow-up's rewrite waits until the page has shown it
    index = send(page, "Dan harga gula?")
    page.wait_for_function("""i => { const bot = document.querySelectorAll("[data-testid='bot']")[i];
        const line = bot && bot.querySelector(".kabar-stage-rewriting");
        return Boolean(line) && line.innerText.includes("Menulis ulang") && !line.innerText.includes(" 0 s"); }""",
                           arg=index, timeout=30_000, polling=100)  # said, in Indonesian, and its seconds count
    chat.hold.set()
    second = finished(page, index)
    assert second.locator("#source-a2-1").count() == 1 and second.locator("a[href='#source-a2-1']").count() == 1
    refusal = finished(page, send(page, "What about the weather?"))
    assert "ℹ️" in refusal.inner_text()
    expect(page.locator("#sources")).to_contain_text("No sources cited.")
    assert bots.nth(0).locator("#source-a1-1").count() == 1, "earlier answers keep their cards"
    bots.nth(0).locator("a[href='#source-a1-3']").click()
    card = page.locator("#source-a1-3")
    expect(card).to_be_visible()
    expect(card).to_have_class("kabar-card kabar-cited kabar-target")
    expect(card).to_be_in_viewport()
    page.screenshot(path=str(output_dir / "sources-per-answer-light.png"), full_page=True)
    page.locator("#chat button[aria-label='Clear']").first.click()  # the chat's own trash icon
    expect(page.locator("#sources")).to_contain_text("Sources appear here when you ask a question.")
    page.context.close()


def test_dark_mode_keeps_the_evidence_readable(browser, scripted, output_dir):
    from playwright.sync_api import expect

    page = open_page(browser, scripted[0], scheme="dark")
    assert page.evaluate("document.body.classList.contains('dark')"), "Gradio follows the dark OS setting"
    answer = finished(page, send(page, "Why did rice prices fall?"))
    answer.locator("summary").click()
    expect(answer.locator("mark").first).to_be_visible()
    evidence_in_sight(page, "[data-testid='bot']")  # sized only once the list opens
    assert contrast(page, "[data-testid='bot'] .kabar-passage mark") >= 4.5
    assert contrast(page, "#sources mark") >= 4.5
    page.screenshot(path=str(output_dir / "sources-dark.png"), full_page=True)
    page.context.close()


def test_an_indonesian_phone_sees_indonesian_labels_and_confirms_a_delete(browser, scripted, output_dir, tmp_path):
    from playwright.sync_api import expect

    url, _chat, kb = scripted
    page = open_page(browser, url, locale="id-ID", width=390)
    expect(page.locator("#sources")).to_contain_text("Sumber muncul di sini saat Anda bertanya.")
    expect(page.locator("textarea")).to_have_attribute("placeholder", "Ketik pesan…")
    text = page.locator("body").inner_text()
    for english in ("Sources appear here", "Type a message", "Chatbot", "Textbox", "New chat"):
        assert english not in text, english
    finished(page, send(page, "Berapa harga beras?"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.screenshot(path=str(output_dir / "sources-id-phone.png"), full_page=True)
    page.get_by_role("tab", name="Dokumen").click()
    expect(page.locator("#documents-table")).to_contain_text("Judul")
    expect(page.locator("#documents-table")).to_contain_text("Tanggal")
    article = tmp_path / "gula.txt"
    article.write_text("Ekonomi\nHarga Gula Naik\n\nHarga gula pasir naik menjadi Rp 18.000 per kilogram.\n",
                       encoding="utf-8")
    page.locator("#upload-files input[type=file]").set_input_files(str(article))
    page.get_by_role("button", name="Tambahkan ke arsip").click()
    expect(page.locator("#upload-result")).to_contain_text("gula.txt: ditambahkan (1 potongan)", timeout=60_000)
    expect(page.locator("#upload-files")).not_to_contain_text("gula.txt"), "the picker is cleared"
    page.locator("#delete-button").click()
    expect(page.locator("#upload-result")).to_contain_text("Pilih dokumen yang akan dihapus.")
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name="Harga Gula Naik").click()
    page.locator("#delete-button").click()
    expect(page.locator("#delete-question")).to_contain_text("Hapus “Harga Gula Naik”")
    page.locator("#delete-no").click()
    expect(page.locator("#upload-result")).to_contain_text("Tidak ada yang dihapus.")
    assert any(d.title == "Harga Gula Naik" for d in kb.documents())
    page.locator("#delete-button").click()
    page.locator("#delete-yes").click()
    expect(page.locator("#upload-result")).to_contain_text("“Harga Gula Naik” dihapus.", timeout=30_000)
    expect(page.locator("#documents-table")).not_to_contain_text("Harga Gula Naik")
    page.screenshot(path=str(output_dir / "documents-id-phone.png"), full_page=True)
    page.context.close()
