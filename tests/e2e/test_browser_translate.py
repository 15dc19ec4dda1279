"""A source card's Translate button in a real headless Chromium, over the scripted chat service of
test_browser_sources.py and a fake translation model: the passage in the question's language, labelled as a
machine translation, the original a click away, and the model asked once per passage."""
from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from tests.e2e.test_browser_sources import RICE, RICE_2, SUGAR, ScriptedChat, browser, finished, open_page, send  # noqa: F401
from vectorstore.store import Passage

pytestmark = pytest.mark.integration

CHIPS = Passage("c9", "The EU and Japan agreed to work together on semiconductor supply chains.", "d9",
                title="EU and Japan on chips", outlet="Reuters", date="2024-04-01")
IN_ENGLISH = "Sunny weather in Jakarta. The price of medium rice fell to Rp 11,200 per kilogram."
IN_INDONESIAN = "UE dan Jepang sepakat bekerja sama dalam rantai pasokan semikonduktor."


class FakeTranslator(FakeListChatModel):
    """Translates by the prompt's target language and counts its calls."""

    responses: list = []
    calls: int = 0

    def _call(self, messages, *args, **kwargs) -> str:
        self.calls += 1
        return IN_ENGLISH if "into English" in messages[-1].content else IN_INDONESIAN


@pytest.fixture(scope="module")
def translating(tmp_path_factory):
    """The real page over a scripted chat, whose cards translate through the real Translator and a fake model."""
    from app.api import Assistant
    from app.events import Answer, Checking, Retrieved, Source, Token
    from app.server import serve
    from app.translate import Translator
    from core.settings import Settings
    from tests.conftest import free_port
    from tests.unit.conftest import NO_CHECKER, FakeEmbeddings

    root = tmp_path_factory.mktemp("translating")
    kb = Assistant(Settings(data_dir=root / "data", models_dir=root / "models", chroma_collection="translate_chunks",
                            **NO_CHECKER), embeddings=FakeEmbeddings())
    chat, model = ScriptedChat(), FakeTranslator()
    translator, texts = Translator(model, kb.answer_slots), {p.chunk_id: p.text for p in (RICE, RICE_2, SUGAR, CHIPS)}

    def stream(question, history=(), **kwargs):
        if "cip" not in question.lower():
            yield from chat.stream(question, history, **kwargs)
            return
        reply = "UE dan Jepang sepakat bekerja sama [1]."
        yield Retrieved([CHIPS], question, {1: [CHIPS.text]})
        yield Token(reply)
        yield Checking()
        yield Answer(question, reply, [Source(1, CHIPS, [CHIPS.text])], language="id")

    kb.stream = stream
    kb.translate = lambda text=None, language="en", chunk_id=None: translator.translate(texts[chunk_id], language,
                                                                                          key=chunk_id)
    server = serve(kb, port=free_port(), block=False)
    yield server.url, model
    server.close()


def test_an_english_reader_translates_an_indonesian_card_and_goes_back(browser, translating, output_dir):
    from playwright.sync_api import expect

    url, model = translating
    page = open_page(browser, url)
    finished(page, send(page, "Why did rice prices fall?"))
    card = page.locator("#sources .kabar-card").first
    button = card.locator(".kabar-translate")
    expect(button).to_have_text("Translate")
    button.click()
    expect(card.locator(".kabar-machine")).to_have_text("Machine translation")
    expect(card.locator(".kabar-passage")).to_contain_text("The price of medium rice fell to Rp 11,200")
    expect(button).to_have_text("Show original")
    page.screenshot(path=str(output_dir / "translate-card-light.png"), full_page=True)
    button.click()
    expect(card.locator(".kabar-passage mark")).to_have_text("Harga beras medium turun menjadi Rp 11.200 per kilogram.")
    expect(card.locator(".kabar-machine")).to_have_count(0)
    expect(button).to_have_text("Translate")
    button.click()
    expect(card.locator(".kabar-machine")).to_be_visible()
    own = page.locator("[data-testid='bot'] #source-a1-1")  # the answer's own card: the server's cache answers
    page.locator("[data-testid='bot'] summary").first.click()
    own.locator(".kabar-translate").click()
    expect(own.locator(".kabar-passage")).to_contain_text("The price of medium rice fell")
    assert model.calls == 1, "one model call for the passage, whichever card asks"
    page.context.close()


def test_an_indonesian_phone_in_dark_mode_translates_an_english_card_and_same_language_cards_have_no_button(
        browser, translating, output_dir):
    from playwright.sync_api import expect

    url, _model = translating
    page = open_page(browser, url, locale="id-ID", scheme="dark", width=390)
    finished(page, send(page, "Berapa harga beras?"))
    expect(page.locator("#sources .kabar-card").first).to_be_visible()
    expect(page.locator(".kabar-translate")).to_have_count(0)  # Indonesian question, Indonesian sources
    finished(page, send(page, "Apa kesepakatan cip UE-Jepang?"))
    card = page.locator("#sources .kabar-card").first
    card.get_by_role("button", name="Terjemahkan").click()
    expect(card.locator(".kabar-machine")).to_have_text("Terjemahan mesin")
    expect(card.locator(".kabar-passage")).to_contain_text(IN_INDONESIAN)
    expect(card.locator(".kabar-translate")).to_have_text("Tampilkan asli")
    page.screenshot(path=str(output_dir / "translate-card-id-phone-dark.png"), full_page=True)
    card.locator(".kabar-translate").click()
    expect(card.locator(".kabar-passage")).to_contain_text(CHIPS.text)
    page.context.close()
