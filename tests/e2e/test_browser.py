"""The web chat in a real headless Chromium: ask, follow up, upload, delete, and no script runs.

No fixed sleeps: every wait is on a condition the page or the server reaches (Playwright's wait_for_function,
wait_for, expect), so the tests take as long as the answers do and no longer.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
# Both payloads in one sentence: an answer joining a sentence to the one *after* the sentence it rests on can be
# dropped by the claim judge, which reads only that sentence and the one before it (docs/architecture.md,
# "How an answer is made").
HOSTILE_ARTICLE = """Teknologi
Peretas Menyisipkan Kode di Situs Berita Kota Bandung

Situs berita kota Bandung diserang peretas yang menyisipkan kode <script>window.__pwned = 1</script> dan kode kedua <img src=x onerror="window.__pwned = 2"> ke halaman.
Tim keamanan Diskominfo Bandung menemukan kedua kode itu pada Senin pagi.
"""
# The newest bot message (index ``before``) is final: app/web.py's last yield is a refusal (ℹ️), an error (⚠️) or an
# answer whose [n] became links to the source cards; drafts and the "⏳ checking" note are none of these.
ANSWER_FINISHED = """before => {
  const bots = document.querySelectorAll("[data-testid='bot']");
  if (bots.length <= before) return false;
  const bot = bots[before], text = bot.innerText;
  return text.includes("ℹ️") || text.includes("⚠️") || bot.querySelector("a[href^='#source-']") !== null;
}"""
ANSWER_STARTED = """before => {
  const bots = document.querySelectorAll("[data-testid='bot']");
  return bots.length > before && bots[before].innerText.trim().length > 5;
}"""
STOP_HIDDEN = """() => {
  const stop = document.querySelector("[data-testid='stop-button']");
  return stop === null || stop.offsetParent === null;
}"""
RICE_ARTICLE = """Ekonomi
Harga Beras di Pasar Cipinang Turun Tajam

Harga beras medium di Pasar Induk Beras Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini.
Penurunan harga terjadi karena panen raya di Jawa Tengah dan Jawa Timur yang membuat pasokan melimpah.
"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, web_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(web_url)
    page.wait_for_selector("textarea", timeout=60_000)
    return page


def ask(page, question: str, timeout_s: float = 300) -> str:
    """Type a question, wait until the newest answer is the verified one, and return its text."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    bots = page.locator("[data-testid='bot']")
    before = bots.count()
    page.fill("textarea", question)
    page.keyboard.press("Enter")
    try:
        page.wait_for_function(ANSWER_FINISHED, arg=before, timeout=timeout_s * 1000, polling=250)
    except PlaywrightTimeout:
        last = bots.nth(before).inner_text() if bots.count() > before else ""
        pytest.fail(f"no complete answer to {question!r} within {timeout_s} s; last text: {last!r}")
    return bots.nth(before).inner_text()


def until(condition, timeout_s: float, message) -> None:
    """Poll a server-side condition (the page's own conditions use Playwright's waits)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message())
        time.sleep(0.1)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def upload(page, path: Path) -> str:
    open_tab(page, "Documents")
    page.locator("#upload-files input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Add to the archive").click()
    result = page.locator("#upload-result")
    result.filter(has_text=f"{path.name}: ").filter(has_not_text="working").wait_for(timeout=120_000)
    text = result.inner_text()
    open_tab(page, "Chat")
    return text


def test_answer_streams_with_citations_and_sources(page, output_dir):
    answer = ask(page, "Why is the EU partnering with Japan?")
    assert "[1]" in answer or "[2]" in answer or "[3]" in answer or "[4]" in answer, answer
    assert page.locator("#sources .kabar-card").count() >= 1
    assert "Uni Eropa dan Jepang" in page.locator("#sources").inner_text()
    assert page.locator("#sources mark").count() >= 1, "the supporting sentence is highlighted"
    bot = page.locator("[data-testid='bot']").first
    link = bot.locator("a[href^='#source-a1-']").first
    assert bot.locator(f"#{link.get_attribute('href')[1:]}").count() == 1, "citations lead to the answer's own card"
    page.screenshot(path=str(output_dir / "answered-chat.png"), full_page=True)


def test_page_fits_a_phone_screen(page, output_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("width => window.innerWidth === width", arg=390)  # reading scrollWidth forces layout
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.screenshot(path=str(output_dir / "phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_follow_up_is_answered_in_english(page):
    from core.language import detect_language

    answer = ask(page, "And with South Korea?")
    assert answer and "⚠️" not in answer
    assert detect_language(answer) == "en", answer


def test_uploaded_article_answers_then_is_deleted(page, tmp_path, assistant):
    from playwright.sync_api import expect

    article = tmp_path / "beras-cipinang.txt"
    article.write_text(RICE_ARTICLE, encoding="utf-8")
    assert "beras-cipinang.txt: added" in upload(page, article)
    answer = ask(page, "Berapa harga beras medium di Pasar Cipinang?")
    assert "11.200" in answer, answer
    open_tab(page, "Documents")
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name="Harga Beras di Pasar Cipinang Turun Tajam").click()
    page.locator("#delete-button").click()
    expect(page.locator("#delete-question")).to_contain_text("Harga Beras di Pasar Cipinang Turun Tajam")
    page.locator("#delete-yes").click()
    page.locator("#upload-result").filter(has_text="Deleted “Harga Beras di Pasar Cipinang Turun Tajam”.") \
        .wait_for(timeout=60_000)
    assert all("Cipinang" not in d.title for d in assistant.documents())
    expect(page.locator("#documents-table")).not_to_contain_text("Cipinang", timeout=30_000)
    open_tab(page, "Chat")


def test_script_in_an_article_does_not_run(page, tmp_path):
    article = tmp_path / "peretas-bandung.txt"
    article.write_text(HOSTILE_ARTICLE, encoding="utf-8")
    assert "added" in upload(page, article)
    ask(page, "Kode apa yang disisipkan peretas di situs berita Bandung?")
    # had either payload become markup, its <img> would have failed to load (and its onerror run) by now
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)")
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert "<script>" in page.locator("#sources").inner_text() or "onerror" in page.locator("#sources").inner_text()


def test_stop_button_cancels_generation(page, assistant):
    bots = page.locator("[data-testid='bot']")
    before = bots.count()
    page.fill("textarea", "Apa itu Dewan Kemitraan Digital UE-Jepang?")
    page.keyboard.press("Enter")
    page.wait_for_function(ANSWER_STARTED, arg=before, timeout=300_000, polling=250)
    page.locator("[data-testid='stop-button']").click()
    page.wait_for_function(STOP_HIDDEN, timeout=30_000)
    stopped_at = bots.nth(before).inner_text()
    # the answer really stopped on the server: its slot comes back once the model's current step returns
    until(lambda: assistant.answer_slots.load() == (0, 0), 120,
          lambda: f"the answer kept running after Stop: slots {assistant.answer_slots.load()}")
    assert bots.nth(before).inner_text() == stopped_at, "the answer kept growing after Stop"


def test_new_chat_clears_the_conversation_and_sources(page):
    from playwright.sync_api import expect

    page.locator("#new-chat").click()
    expect(page.locator("[data-testid='bot']")).to_have_count(0, timeout=30_000)
    expect(page.locator("#sources .kabar-card")).to_have_count(0, timeout=30_000)


def test_labels_follow_an_indonesian_browser(browser, web_url):
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    page.goto(web_url)
    page.wait_for_selector("textarea", timeout=60_000)
    labels = page.locator("body").inner_text()
    context.close()
    assert "Obrolan baru" in labels and "Dokumen" in labels
