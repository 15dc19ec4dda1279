"""Conversations that last, in a real headless Chromium over the scripted chat service (no model needed):
a conversation is listed after a reload, reopens with its own sources, takes a name and is deleted; a thumbs down
with a comment writes one feedback line. Screenshots go to test-output/.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.test_browser_sources import browser, finished, open_page, scripted, send  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


def feedback_lines(kb) -> list[dict]:
    path = kb.settings.data_dir / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def until_lines(kb, count: int, timeout: float = 30) -> list[dict]:
    """The feedback file once it holds ``count`` lines (the page writes it in its own request)."""
    deadline = time.monotonic() + timeout
    while len(lines := feedback_lines(kb)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return lines


def listing_saved(answers: int):
    """Matches the page's request to redraw the conversation list once the browser holds a conversation with
    ``answers`` answers (the page saves an answer just after showing it; a reload before then would lose it)."""
    def matches(request) -> bool:
        if request.method != "POST" or not request.url.endswith("/run/predict"):
            return False
        data = (request.post_data_json or {}).get("data") or []
        return (len(data) == 2 and isinstance(data[0], list) and isinstance(data[1], dict) and any(
            sum(isinstance(m, dict) and m.get("role") == "assistant" for m in c) == answers for c in data[0]))
    return matches


def test_a_thumbs_down_with_a_comment_writes_one_feedback_line(browser, scripted, output_dir):  # noqa: F811
    from playwright.sync_api import expect

    url, _chat, kb = scripted
    before = len(feedback_lines(kb))
    page = open_page(browser, url)
    answer = finished(page, send(page, "Why did rice prices fall?"))
    answer.hover()
    page.locator("button[aria-label='Dislike']").last.click()
    expect(page.locator("#feedback-note")).to_contain_text("your vote is saved")
    vote = until_lines(kb, before + 1)[-1]
    assert (vote["vote"], vote["question"], vote["comment"]) == ("down", "Why did rice prices fall?", "")
    assert vote["answer"] == "Harga beras turun menjadi Rp 11.200 [1], karena panen raya [3]."
    assert [s["number"] for s in vote["sources"]] == [1, 3] and vote["sources"][0]["title"] == "Harga Beras Turun"
    page.locator("#feedback-comment textarea").fill("It should name the month.")
    page.locator("#feedback-send").click()
    expect(page.locator("#feedback-note")).to_contain_text("Comment saved.")
    commented = until_lines(kb, before + 2)[-1]
    assert commented["id"] == vote["id"] and commented["comment"] == "It should name the month."
    page.screenshot(path=str(output_dir / "feedback-comment.png"), full_page=True)
    page.context.close()


def test_a_conversation_is_listed_after_a_reload_reopens_with_its_sources_is_renamed_and_deleted(
        browser, scripted, output_dir):  # noqa: F811
    from playwright.sync_api import expect

    page = open_page(browser, scripted[0])
    finished(page, send(page, "Berapa harga beras?"))
    with page.expect_request(listing_saved(2), timeout=30_000) as listing:
        finished(page, send(page, "Dan harga gula?"))
    listing.value.response()  # listed again: the browser holds the conversation with both answers
    conversations = page.locator("#conversations")
    expect(conversations).to_contain_text("Berapa harga beras?")
    page.reload()
    page.wait_for_selector("textarea", timeout=60_000)
    bots = page.locator("[data-testid='bot']")
    expect(bots).to_have_count(0)
    expect(conversations.get_by_text("Berapa harga beras?")).to_have_count(1)
    conversations.get_by_text("Berapa harga beras?").click()
    expect(bots).to_have_count(2)
    assert bots.nth(0).locator("#source-a1-1").count() == 1 and bots.nth(1).locator("#source-a2-1").count() == 1
    expect(page.locator("#sources")).to_contain_text("Sources appear here"), "another chat's cards are gone"
    bots.nth(1).locator("a[href='#source-a2-1']").click()
    expect(page.locator("#source-a2-1")).to_be_in_viewport()
    page.locator("#rename-box input, #rename-box textarea").first.fill("Harga pangan")
    page.locator("#rename-button").click()
    expect(conversations).to_contain_text("Harga pangan")
    page.reload()
    page.wait_for_selector("textarea", timeout=60_000)
    expect(conversations).to_contain_text("Harga pangan")
    page.screenshot(path=str(output_dir / "history-renamed.png"), full_page=True)
    conversations.get_by_text("Harga pangan").click()
    expect(bots).to_have_count(2)
    with page.expect_request(listing_saved(3), timeout=30_000) as listing:
        finished(page, send(page, "Why did rice prices fall?"))
    listing.value.response()
    expect(page.locator("#sources .kabar-card")).not_to_have_count(0)
    page.locator("#new-chat").click()  # a new chat: no answers, no cards, the saved one still listed
    expect(bots).to_have_count(0)
    expect(page.locator("#sources")).to_contain_text("Sources appear here")
    expect(conversations).to_contain_text("Harga pangan")
    conversations.get_by_text("Harga pangan").click()
    expect(bots).to_have_count(3)
    page.locator("#chat button[aria-label='Clear']").first.click()  # the trash icon deletes the open conversation
    expect(conversations).not_to_contain_text("Harga pangan")
    expect(bots).to_have_count(0)
    page.context.close()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """The scripted page behind its login (an API key set): the server keeps each user's conversations."""
    from app.api import Assistant
    from app.server import serve
    from core.settings import Settings
    from tests.conftest import free_port
    from tests.e2e.test_browser_sources import ScriptedChat
    from tests.unit.conftest import NO_CHECKER, FakeEmbeddings

    root = tmp_path_factory.mktemp("keyed")
    kb = Assistant(Settings(data_dir=root / "data", models_dir=root / "models", chroma_collection="keyed_chunks",
                            api_key=KEY, **NO_CHECKER), embeddings=FakeEmbeddings())
    kb.stream = ScriptedChat().stream
    server = serve(kb, port=free_port(), block=False)
    yield server.url, kb
    server.close()


KEY = "s3cret-s3cret-s3cret"


def logged_in(browser, url: str):  # noqa: F811
    """A fresh browser (nothing in its storage), logged in to the page."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.locator("input[type=password]").wait_for(timeout=60_000)
    page.locator("input:not([type=password])").first.fill("kabar")
    page.locator("input[type=password]").fill(KEY)
    page.keyboard.press("Enter")
    page.wait_for_selector("textarea", timeout=60_000)
    return page


def test_with_a_login_a_conversation_follows_the_user_to_another_browser(browser, keyed, output_dir):  # noqa: F811
    from playwright.sync_api import expect

    url, kb = keyed
    first = logged_in(browser, url)
    with first.expect_request(listing_saved(1), timeout=30_000) as listing:
        finished(first, send(first, "Berapa harga beras?"))
    listing.value.response()
    first.context.close()
    assert len(list((kb.settings.data_dir / "conversations").iterdir())) == 1
    other = logged_in(browser, url)  # another browser: its own storage is empty
    conversations = other.locator("#conversations")
    expect(conversations).to_contain_text("Berapa harga beras?")
    conversations.get_by_text("Berapa harga beras?").click()
    expect(other.locator("[data-testid='bot'] #source-a1-1")).to_have_count(1)
    other.screenshot(path=str(output_dir / "history-another-browser.png"), full_page=True)
    other.context.close()
