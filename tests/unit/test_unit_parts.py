"""The swappable parts: each factory's ``fake`` choice (core/fakes.py), and parts given to ``Assistant``."""
from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from core.fakes import FAKE_DIM, FakeChatModel, FakeChecker, fake_vector, grounded_reply
from core.settings import Settings, UnknownSetting
from prompts import REFUSAL_MARKER, load_prompt
from tests.unit.conftest import RICE_ARTICLE, FakeEmbeddings

FAKES = {"embedding_backend": "fake", "llm_backend": "fake", "store_backend": "fake", "checker_backend": "fake"}
RICE = "Harga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini."


def test_the_fake_embedder_is_deterministic_and_small(unit_settings):
    from core.embeddings import make_embeddings

    embeddings = make_embeddings(unit_settings.with_changes(embedding_backend="fake"))
    vector = embeddings.embed_query("harga beras")
    assert len(vector) == FAKE_DIM and vector == fake_vector("harga beras").tolist()
    assert embeddings.embed_documents(["harga beras", "banjir"])[0] == vector


def test_the_fake_chat_model_replies_from_its_queue_then_from_the_prompt(unit_settings):
    from core.llm import make_chat_backend

    backend = make_chat_backend(unit_settings.with_changes(llm_backend="fake"))
    assert isinstance(backend.model, FakeChatModel) and backend.base_url is None
    model = FakeChatModel(replies=["Satu [1].", "Dua [1]."])
    assert model.invoke("a").content == "Satu [1]." and "".join(c.content for c in model.stream("b")) == "Dua [1]."
    assert model.invoke("c").content == REFUSAL_MARKER and model.prompts == ["a", "b", "c"]


def test_the_fake_chat_model_answers_each_of_kabars_prompts():
    passages = "\n".join(load_prompt("passage").format(number=n, title=t, text=x) for n, t, x in (
        (1, "Banjir", "Banjir melanda pesisir. Warga mengungsi."), (2, "Harga Beras Turun", RICE)))
    answer = load_prompt("question").format(passages=passages, question="Berapa harga beras medium?", language="id")
    assert grounded_reply(answer) == RICE.rstrip(".") + " [2]."
    translate = load_prompt("translate").format(source_language="id", language="en", text=RICE)
    assert grounded_reply(translate) == RICE
    claim = load_prompt("claim")
    assert grounded_reply(claim.format(evidence=RICE, claim="Harga beras turun")) == "yes"
    assert grounded_reply(claim.format(evidence=RICE, claim="Harga gula turun")) == "no"
    condense = load_prompt("condense").format(language="id", history="...", question="Dan gula?")
    assert grounded_reply(condense) == "Dan gula?"


def test_the_fake_checker_scores_word_overlap(unit_settings):
    from core.cross_encoder import make_checker

    checker = make_checker(unit_settings.with_changes(checker_backend="fake"))
    assert isinstance(checker, FakeChecker)
    qa = checker.probabilities("qa", [("harga beras", RICE), ("harga gula", RICE), ("banjir", RICE)])
    assert list(qa) == [1.0, 0.5, 0.0]
    assert list(checker.probabilities("claim", [("Harga beras turun", RICE), ("Harga gula", RICE)])) == [0.9, 0.1]
    assert checker.logits("claim", [("Harga beras turun", RICE)])[0] > 0


def test_each_fake_store_is_new_empty_and_in_memory(unit_settings, fake_embeddings, tmp_path):
    from ingest.service import IngestService
    from vectorstore.store import open_store

    settings = unit_settings.with_changes(store_backend="fake")
    first, second = open_store(settings), open_store(settings)
    assert first.keyword is None and first.count() == 0
    (tmp_path / "beras.txt").write_text(RICE_ARTICLE, encoding="utf-8")
    assert IngestService(settings, first, fake_embeddings).ingest([tmp_path / "beras.txt"]).added
    assert first.count() > 0 and second.count() == 0 and not settings.data_dir.exists()
    assert first.search(fake_embeddings.embed_query("harga beras"), 1)[0].title == "Harga Beras Turun"


def test_an_assistant_of_fakes_answers_from_the_article(tmp_path):
    from app.api import Assistant

    kb = Assistant(data_dir=tmp_path / "data", min_relevance=0.0, **FAKES)
    (tmp_path / "beras.txt").write_text(RICE_ARTICLE, encoding="utf-8")
    assert kb.ingest([tmp_path / "beras.txt"]).added
    answer = kb.ask("Berapa harga beras medium di Pasar Cipinang?")
    assert not answer.refused and "11.200" in answer.text and answer.sources, answer
    assert kb.chat_model_url is None and not (tmp_path / "data").exists()


def test_given_parts_are_used_instead_of_built(unit_settings):
    from app.api import Assistant
    from vectorstore.store import open_store

    embeddings, model, checker = FakeEmbeddings(), FakeListChatModel(responses=["x"]), FakeChecker()
    store = open_store(unit_settings.with_changes(store_backend="fake"))
    kb = Assistant(unit_settings, embeddings=embeddings, chat_model=model, store=store, checker=checker, top_k=6)
    assert (kb.embeddings, kb.store, kb.checker, kb.chat_model) == (embeddings, store, checker, model)
    assert kb.settings.top_k == 6 and unit_settings.top_k == 4
    service = kb.chat_service
    kb.close()  # a given model is not the Assistant's to close
    assert kb.chat_model is model and kb.chat_service is service and kb.chat_model_url is None
    chat = object()
    assert Assistant(unit_settings, chat_service=chat).chat_service is chat
    with pytest.raises(UnknownSetting, match="did you mean 'top_k'"):
        Assistant(unit_settings, top_kk=6)


def test_close_drops_what_was_built_over_the_chat_model(unit_settings):
    from app.api import Assistant

    kb = Assistant(unit_settings, embeddings=FakeEmbeddings(), llm_backend="fake")
    service, translator, model = kb.chat_service, kb.translator, kb.chat_model
    kb.close()
    assert kb.chat_model is not model and kb.chat_service is not service and kb.translator is not translator
