"""One question, one way down: its text, languages and vector are found once; passages bring theirs from ingest."""
from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from tests.unit.conftest import RICE_ARTICLE, RICE_REPLY, FakeEmbeddings


class CountingEmbeddings(FakeEmbeddings):
    """Counts query embeddings: the question's vector must be computed once per answer."""

    def __init__(self):
        super().__init__()
        self.queries: list[str] = []

    def embed_query(self, text):
        self.queries.append(text)
        return super().embed_query(text)


def test_a_rewritten_follow_up_keeps_the_askers_language_and_reads_in_context():
    from core.question import Question

    question = Question.of("Berapakah nilainya?", [("How much was the JSR deal worth?", "$6.3 billion [1].")])
    assert (question.language, question.search_language, question.in_context) == ("id", "id", "")
    rewritten = question.rewritten("How much was the proposed acquisition of JSR worth?")
    assert rewritten.language == "id" and rewritten.search_language == "en" and rewritten.asked == question.text
    assert rewritten.in_context == "How much was the JSR deal worth? Berapakah nilainya?"


def test_the_vector_is_computed_once_and_kept():
    from core.question import Question

    embeddings, question = CountingEmbeddings(), Question.of("Berapa harga beras?")
    assert question.embedded(embeddings) is question.embedded(embeddings)
    assert embeddings.queries == ["Berapa harga beras?"]


def test_ingest_records_each_chunks_language_and_sentences(ingest_service, chunk_store, tmp_path):
    from core.text import split_sentences

    article = tmp_path / "beras.txt"
    article.write_text(RICE_ARTICLE, encoding="utf-8")
    ingest_service.ingest([article])
    passage = next(iter(chunk_store.passages(chunk_store.documents()[0].chunk_ids()).values()))
    assert passage.stored_language == "id" and passage.stored_sentence_ends
    assert passage.sentences == split_sentences(passage.text) and len(passage.sentences) >= 2


def test_a_passage_stored_before_ingest_recorded_them_finds_them_itself():
    from vectorstore.records import Passage

    passage = Passage.from_chroma("c1", "Harga beras turun. Panen raya di Jawa Tengah.", {"doc_id": "d"})
    assert passage.language == "id" and passage.sentences == ["Harga beras turun.", "Panen raya di Jawa Tengah."]
    assert Passage.from_chroma("c2", "no full stop here", {}).sentences == ["no full stop here"]


def test_one_answer_embeds_its_question_once(unit_settings, tmp_path):
    from app.api import Assistant

    embeddings = CountingEmbeddings()
    settings = unit_settings.with_changes(min_relevance=0.0, min_support=0.0)
    kb = Assistant(settings, embeddings=embeddings, chat_model=FakeListChatModel(responses=[RICE_REPLY]))
    article = tmp_path / "beras.txt"
    article.write_text(RICE_ARTICLE, encoding="utf-8")
    kb.ingest([article])
    embeddings.queries.clear()
    answer = kb.ask("Berapa harga beras medium di Pasar Cipinang?")
    assert not answer.refused
    assert embeddings.queries.count("Berapa harga beras medium di Pasar Cipinang?") == 1, embeddings.queries
