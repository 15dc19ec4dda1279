"""Machine translation of sources over a queued-answer fake model: cached, marked, limited, in the answers' line."""
from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from app.queueing import AnswerSlots
from app.translate import BadTranslation, Translator, sentence_groups
from core.errors import Busy

INDONESIAN = "Harga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini."
class QueuedModel(FakeListChatModel):
    """Replies from its queue in order and counts its calls."""

    calls: int = 0

    def _call(self, *args, **kwargs) -> str:
        self.calls += 1
        return super()._call(*args, **kwargs)


ENGLISH = "The price of medium rice at Cipinang Market fell to Rp 11,200 per kilogram this week."


def test_translates_once_then_answers_from_the_cache():
    model = QueuedModel(responses=[f"Translation: {ENGLISH}", "a second call must not happen"])
    translator = Translator(model)
    first = translator.translate(INDONESIAN, "en", key="c1")
    assert (first.text, first.source_language, first.machine_translation, first.cached) == (ENGLISH, "id", True, False)
    again = translator.translate(INDONESIAN, "en", key="c1")
    assert again.text == ENGLISH and again.cached and model.calls == 1, "a cache hit makes no model call"
    by_text = Translator(model := QueuedModel(responses=[ENGLISH]))
    by_text.translate(INDONESIAN, "en")
    assert by_text.translate(f"  {INDONESIAN} ", "en").cached and model.calls == 1, "keyed by the text's hash"


def test_text_already_in_the_language_comes_back_as_is_without_a_model_call():
    model = QueuedModel(responses=["must not be called"])
    result = Translator(model).translate(ENGLISH, "en")
    assert result.text == ENGLISH and result.machine_translation is False and model.calls == 0


def test_limits_and_unknown_languages_are_refused_before_any_model_call():
    model = QueuedModel(responses=["must not be called"])
    translator = Translator(model, max_chars=200)
    with pytest.raises(BadTranslation, match="at most 200"):
        translator.translate(INDONESIAN * 3, "en")
    with pytest.raises(BadTranslation, match="Unknown language"):
        translator.translate(INDONESIAN, "fr")
    with pytest.raises(BadTranslation, match="no text"):
        translator.translate("   ", "en")
    assert model.calls == 0


def test_long_passages_go_sentence_group_by_group_and_the_cache_is_bounded():
    text = " ".join([INDONESIAN] * 12)  # ~1,100 characters: three groups of whole sentences
    groups = sentence_groups(text)
    assert len(groups) == 3 and all(len(g) <= 500 for g in groups) and " ".join(groups) == text
    assert all(len(g) <= 500 for g in sentence_groups("kata " * 400)), "an unpunctuated wall is cut at spaces"
    model = QueuedModel(responses=["one.", "two.", "three."])
    translator = Translator(model, cache_size=1)
    assert translator.translate(text, "en", key="long").text == "one.\ntwo.\nthree." and model.calls == 3
    translator.translate(INDONESIAN, "en", key="other")
    assert not translator.translate(text, "en", key="long").cached, "the least recently used entry left"


def test_each_group_waits_its_turn_in_the_answers_line():
    slots = AnswerSlots(1)
    model = QueuedModel(responses=[ENGLISH])
    translator = Translator(model, slots, max_waiting=0)
    held = slots.enter()  # an answer holds the only slot
    with pytest.raises(Busy):
        translator.translate(INDONESIAN, "en")  # no room to wait: refused, not queued without bound
    translator = Translator(model, slots, max_waiting=4)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (translator.translate(INDONESIAN, "en"), done.set()))
    worker.start()
    assert not done.wait(0.3) and model.calls == 0, "waits while the answer runs"
    slots.leave(held)
    assert done.wait(5) and slots.load() == (0, 0), "then runs, and gives the slot back"
    worker.join()


def test_http_translate_by_chunk_id_and_text_with_openai_errors(rice_assistant):
    from app.http_api import build_api

    kb = rice_assistant(FakeListChatModel(responses=[ENGLISH]))
    client = TestClient(build_api(kb), base_url="http://127.0.0.1")
    chunk_id = kb.store.all_chunks()[0][0]
    body = client.post("/v1/translate", json={"chunk_id": chunk_id, "language": "en"}).json()
    assert body == {"object": "translation", "translation": ENGLISH, "language": "en", "source_language": "id",
                    "machine_translation": True}
    same = client.post("/v1/translate", json={"text": ENGLISH, "language": "en"}).json()
    assert same["translation"] == ENGLISH and same["machine_translation"] is False
    for payload, status in (({"text": "x" * 7000, "language": "en"}, 400), ({"language": "en"}, 400),
                            ({"text": INDONESIAN, "language": "fr"}, 400), ({"text": 1}, 400),
                            ({"chunk_id": "nope", "language": "en"}, 404)):
        response = client.post("/v1/translate", json=payload)
        error = response.json()["error"]
        assert response.status_code == status and set(error) == {"message", "type", "param", "code"}, payload


def test_two_readers_of_one_passage_make_one_model_call():
    gate = threading.Event()

    class Slow(QueuedModel):
        def _call(self, *args, **kwargs) -> str:
            gate.wait(5)
            return super()._call(*args, **kwargs)

    model = Slow(responses=[ENGLISH, "a second call must not happen"])
    translator, results = Translator(model), []
    readers = [threading.Thread(target=lambda: results.append(translator.translate(INDONESIAN, "en", key="c1")))
               for _ in range(2)]
    for reader in readers:
        reader.start()
    gate.set()
    for reader in readers:
        reader.join(5)
    assert [r.text for r in results] == [ENGLISH, ENGLISH] and model.calls == 1 and not translator._running


def test_http_translate_refuses_a_huge_body_before_reading_it(rice_assistant):
    from app.http_api import build_api

    client = TestClient(build_api(rice_assistant()), base_url="http://127.0.0.1")
    response = client.post("/v1/translate", content=b"{}", headers={"content-type": "application/json",
                                                                    "content-length": "2000000"})
    assert response.status_code == 413 and response.json()["error"]["type"] == "invalid_request_error"
