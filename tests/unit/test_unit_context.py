"""The model reads the sentences nearest the question (each with the next one), within a budget."""
from __future__ import annotations

import numpy as np

from app.context import excerpt, select_sentences


def unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def text(n: int, tag: str) -> str:
    return (tag + " ") * (n // (len(tag) + 1))


def test_best_sentence_and_its_successor_until_the_budget_then_reading_order():
    question = unit(1, 0, 0)
    vectors = [np.stack([unit(0, 1, 0), unit(1, 0.1, 0), unit(1, 0.5, 0)]),
               np.stack([unit(1, 0.2, 0), unit(0, 0, 1)])]
    sentences = [[text(100, "a0"), text(100, "a1"), text(100, "a2")], [text(100, "b0"), text(100, "b1")]]
    assert select_sentences(question, vectors, sentences, max_chars=300) == [[1, 2], [0]]


def test_the_best_sentence_is_kept_even_when_longer_than_the_budget():
    chosen = select_sentences(unit(1, 0), [np.stack([unit(1, 0), unit(0, 1)])],
                              [[text(5000, "long"), text(30, "short")]], max_chars=100)
    assert chosen[0][0] == 0


def test_repeated_sentences_of_overlapping_chunks_and_headings_are_chosen_once_or_never():
    question = unit(1, 0)
    same = "Jepang memainkan peran penting dalam rantai pasokan semikonduktor global."
    heading = "Kecerdasan Buatan Uni Eropa dan Jepang Jajaki Kolaborasi"
    vectors = [np.stack([unit(1, 0), unit(1, 0.1)]), np.stack([unit(1, 0), unit(1, 0.3)])]
    sentences = [[same, heading], [same, "Breton juga mengungkapkan rencana kerja sama dengan Jepang."]]
    chosen = select_sentences(question, vectors, sentences, max_chars=1000,
                              skip=["Uni Eropa dan Jepang Jajaki Kolaborasi"])
    picked = [sentences[p][s] for p, rows in enumerate(chosen) for s in rows]
    assert picked.count(same) == 1 and heading not in picked and len(picked) == 2


def test_excerpt_marks_skipped_sentences():
    sentences = ["A.", "B.", "C.", "D."]
    assert excerpt(sentences, [0, 1, 3]) == "A. B. … D."
    assert excerpt(sentences, []) == ""


def test_follow_up_the_model_leaves_unchanged_gets_the_previous_question_only_if_it_is_a_fragment():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from app.followup import standalone_question

    history = [("Why is the EU partnering with Japan?", "To reduce its dependence on China [1].")]
    unchanged = FakeListChatModel(responses=["And with South Korea?"])
    assert standalone_question(unchanged, "And with South Korea?", history, "en") == \
        "Why is the EU partnering with Japan? And with South Korea?"
    new_topic = "Berapa harga beras medium di Pasar Cipinang?"
    assert standalone_question(FakeListChatModel(responses=[new_topic]), new_topic, history, "id") == new_topic
    rewritten = FakeListChatModel(responses=['"Why is the EU partnering with South Korea?"'])
    assert standalone_question(rewritten, "And with South Korea?", history, "en") == \
        "Why is the EU partnering with South Korea?"


def test_passages_far_below_the_best_are_left_out():
    from app.chat import close_to_best
    from vectorstore.store import Passage

    scores = [0.82, 0.80, 0.771, 0.83]
    passages = [Passage(f"c{i}", "text", "d", score=s) for i, s in enumerate(scores)]
    kept = close_to_best(passages, 0.04)
    assert [p.chunk_id for p in kept] == ["c0", "c1", "c3"]  # order kept; 0.771 is 0.059 below 0.83
    assert close_to_best([], 0.04) == []
    assert len(close_to_best(passages, 1.0)) == 4


def test_each_passage_s_best_sentence_is_streamed_before_the_first_token(rice_service):
    """The sources panel can mark the evidence at once: the span comes with the passages, and the prompt holds it."""
    from app.events import Retrieved, Token

    service = rice_service()
    events = list(service.stream("Berapa harga beras medium di Pasar Cipinang?"))
    retrieved, first_token = events[0], next(e for e in events if isinstance(e, Token))
    assert isinstance(retrieved, Retrieved) and events.index(first_token) > 0
    assert retrieved.spans, "no span before writing"
    for number, [span] in retrieved.spans.items():
        assert span in retrieved.passages[number - 1].text


def test_a_rewrite_that_adds_no_word_of_the_conversation_gets_the_previous_question():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from app.followup import standalone_question

    history = [("Apa itu Dewan Kemitraan Digital UE-Jepang?", "Dewan itu mendorong komputasi kuantum [1].")]
    barely = FakeListChatModel(responses=["What about South Korea?"])
    assert standalone_question(barely, "And what about South Korea?", history, "en") == \
        "Apa itu Dewan Kemitraan Digital UE-Jepang? And what about South Korea?"
