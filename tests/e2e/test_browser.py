"""The web chat in a real headless Chromium: ask, follow up, upload, delete, and no script runs."""
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
# dropped by the claim judge, which reads only that sentence and the one before it (README, "How an answer is made").
HOSTILE_ARTICLE = """Teknologi
Peretas Menyisipkan Kode di Situs Berita Kota Bandung

Situs berita kota Bandung diserang peretas yang menyisipkan kode <script>window.__pwned = 1</script> dan kode kedua <img src=x onerror="window.__pwned = 2"> ke halaman.
Tim keamanan Diskominfo Bandung menemukan kedua kode itu pada Senin pagi.
"""
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
    """Type a question, wait until the newest answer stops changing, and return its text."""
    bots = page.locator("[data-testid='bot']")
    before = bots.count()
    page.fill("textarea", question)
    page.keyboard.press("Enter")
    deadline, last, stable = time.monotonic() + timeout_s, None, 0
    while time.monotonic() < deadline:
        time.sleep(2)
        text = bots.nth(before).inner_text() if bots.count() > before else ""
        busy = text in ("", "…") or "⏳" in text  # still retrieving, or the draft is being checked
        stable = stable + 1 if not busy and text == last else 0
        if stable >= 3:
            return text
        last = text
    pytest.fail(f"no complete answer to {question!r} within {timeout_s} s; last text: {last!r}")


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
    cards = page.locator("#sources .kabar-card")
    assert cards.count() >= 1 and "Uni Eropa dan Jepang" in cards.first.inner_text()
    assert page.locator("#sources mark").count() >= 1, "the supporting sentence is highlighted"
    link = page.locator("[data-testid='bot'] a[href^='#source-']").first
    assert page.locator(f"#sources #{link.get_attribute('href')[1:]}").count() == 1, "citations lead to their card"
    page.screenshot(path=str(output_dir / "answered-chat.png"), full_page=True)


def test_page_fits_a_phone_screen(page, output_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.screenshot(path=str(output_dir / "phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_follow_up_is_answered_in_english(page):
    from app.language import detect_language

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
    page.locator("#upload-result").filter(has_text="Deleted.").wait_for(timeout=60_000)
    assert all("Cipinang" not in d.title for d in assistant.documents())
    expect(page.locator("#documents-table")).not_to_contain_text("Cipinang", timeout=30_000)
    open_tab(page, "Chat")


def test_script_in_an_article_does_not_run(page, tmp_path):
    article = tmp_path / "peretas-bandung.txt"
    article.write_text(HOSTILE_ARTICLE, encoding="utf-8")
    assert "added" in upload(page, article)
    ask(page, "Kode apa yang disisipkan peretas di situs berita Bandung?")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert "<script>" in page.locator("#sources").inner_text() or "onerror" in page.locator("#sources").inner_text()


def test_stop_button_cancels_generation(page):
    bots = page.locator("[data-testid='bot']")
    before = bots.count()
    page.fill("textarea", "Apa itu Dewan Kemitraan Digital UE-Jepang?")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (bots.count() > before and len(bots.nth(before).inner_text()) > 5):
        time.sleep(0.5)
    page.locator("[data-testid='stop-button']").click()
    page.wait_for_timeout(1000)
    stopped_at = bots.nth(before).inner_text()
    page.wait_for_timeout(6000)
    assert bots.nth(before).inner_text() == stopped_at, "the answer kept growing after Stop"
    assert page.locator("[data-testid='stop-button']").count() == 0 or not page.locator(
        "[data-testid='stop-button']").is_visible()


def test_new_chat_clears_the_conversation_and_sources(page):
    page.locator("#new-chat").click()
    page.wait_for_timeout(1000)
    assert page.locator("[data-testid='bot']").count() == 0
    assert page.locator("#sources .kabar-card").count() == 0


def test_labels_follow_an_indonesian_browser(browser, web_url):
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    page.goto(web_url)
    page.wait_for_selector("textarea", timeout=60_000)
    labels = page.locator("body").inner_text()
    context.close()
    assert "Obrolan baru" in labels and "Dokumen" in labels
