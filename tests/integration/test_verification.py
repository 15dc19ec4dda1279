"""The system, not the model, decides a refusal: a fluent fabrication is checked and rejected."""
from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from app.chat import ChatService
from core.embeddings import make_embeddings
from ingest.service import IngestService
from tests.conftest import SAMPLES, real_settings
from vectorstore.retriever import Retriever
from vectorstore.store import open_store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    settings = real_settings(tmp_path_factory.mktemp("verify"), min_relevance=0.0)
    store, embeddings = open_store(settings), make_embeddings(settings)
    IngestService(settings, store, embeddings).ingest([SAMPLES])
    return settings, store, embeddings


def service_answering(parts, reply: str) -> ChatService:
    settings, store, embeddings = parts
    return ChatService(settings, Retriever(settings, store, embeddings), embeddings,
                       FakeListChatModel(responses=[reply]))


def test_fabricated_answer_with_citations_becomes_a_refusal(parts):
    fabricated = "France won the 2022 World Cup, as confirmed by the sources [1], [2], and [3]."
    answer = service_answering(parts, fabricated).ask("Who won the 2022 World Cup?")
    assert answer.refused and answer.sources == []


def test_supported_sentence_is_kept_and_unsupported_one_dropped(parts):
    reply = ("The EU wants to work with Japan on AI and semiconductors to reduce its dependence on China [1]. "
             "Argentina beat France on penalties in 2022 [1].")
    answer = service_answering(parts, reply).ask("Why is the EU partnering with Japan?")
    assert not answer.refused
    assert "China" in answer.text and "Argentina" not in answer.text
    assert [s.number for s in answer.sources] == [1]


def test_model_refusal_marker_is_never_shown(parts):
    answer = service_answering(parts, "NOT_IN_ARTICLES").ask("What is the price of rice in Jakarta?")
    assert answer.refused and "NOT_IN_ARTICLES" not in answer.text


def test_uncited_but_supported_answer_gets_a_citation(parts):
    reply = "The EU and Japan plan a Digital Partnership Council to cooperate on quantum and high-performance computing."
    answer = service_answering(parts, reply).ask("What council do the EU and Japan plan?")
    assert not answer.refused
    assert answer.sources and f"[{answer.sources[0].number}]" in answer.text


@pytest.fixture(scope="module")
def with_claim_judge(assistant):
    """A chat service whose answers are queued but whose claims the real 1.5B model judges."""
    from app.claims import ClaimJudge

    settings = assistant.settings.with_changes(min_relevance=0.0)

    def build(reply: str, judged: bool = True) -> ChatService:
        judge = ClaimJudge(assistant._chat_backend.model) if judged else None
        return ChatService(settings, assistant.retriever, assistant.embeddings,
                           FakeListChatModel(responses=[reply]), claim_judge=judge)
    return build


SWAPPED = "Japan announced new export restrictions on advanced semiconductor equipment [1]."
TRUE = "The Netherlands announced new export restrictions on advanced semiconductor equipment [1]."


def test_the_claim_judge_rejects_a_swapped_role_the_word_checks_let_through(with_claim_judge):
    question = "What export restrictions did Japan announce?"
    assert not with_claim_judge(SWAPPED, judged=False).ask(question).refused  # every word is in the article
    answer = with_claim_judge(SWAPPED).ask(question)
    assert answer.refused and answer.sources == [] and answer.claims[0][1] < 0


def test_the_claim_judge_keeps_the_true_claim(with_claim_judge):
    answer = with_claim_judge(TRUE).ask("What export restrictions did the Netherlands announce?")
    assert not answer.refused and "Netherlands" in answer.text and answer.claims[0][1] > 0
