"""The checker's stages with a fake cross-encoder: reranking, the answerability gate, claims, re-citation, units."""
from __future__ import annotations

from app.checker import CheckerClaimJudge, Reranker
from app.citations import CheckedSentence, scale_mismatch
from app.followup import stands_alone
from core.fakes import FakeChecker
from tests.unit.conftest import RICE_REPLY


class FakeCrossEncoder(FakeChecker):
    """core/fakes.py's checker (qa: the share of the question's words in the passage; claim: 0.9 when every claim
    word is in the evidence, else 0.1), recording the pairs it reads."""

    def __init__(self):
        self.pairs: list[tuple[str, str, str]] = []

    def probabilities(self, task, pairs):
        self.pairs += [(task, a, b) for a, b in pairs]
        return super().probabilities(task, pairs)


def sentence(text, cited=(1,), row=0, supported=True):
    return CheckedSentence(text, list(cited), supported, 0.9, {n: row for n in cited})


PASSAGES = ["Belanda mengumumkan pembatasan ekspor. Jepang membeli JSR.", "Breton bertemu Jepang di Tokyo."]


def test_units_must_match_the_evidence_across_languages():
    assert scale_mismatch("The deal was worth $6.3 million.", "nilai 6,3 miliar dolar AS")
    assert not scale_mismatch("The deal was worth $6.3 billion.", "nilai 6,3 miliar dolar AS")
    assert not scale_mismatch("Nilainya 6,3 miliar dolar.", "nilai 6,3 miliar dolar AS")
    assert not scale_mismatch("Six partners joined.", "nilai 6,3 miliar dolar AS")


def test_a_claim_its_cited_passage_entails_is_kept_and_one_none_entails_is_dropped():
    judge = CheckerClaimJudge(FakeCrossEncoder(), 0.5, 0.5)
    kept, dropped = judge.review([sentence("Belanda mengumumkan pembatasan ekspor [1]."),
                                  sentence("Korea mengumumkan pembatasan ekspor [1].")], PASSAGES, lambda e: 0.5)
    assert kept.supported and kept.claim_log_odds > 0
    assert not dropped.supported and dropped.claim_log_odds < 0


def test_a_claim_another_passage_entails_is_cited_to_that_passage():
    judge = CheckerClaimJudge(FakeCrossEncoder(), 0.5, 0.5)
    [moved] = judge.review([sentence("Breton bertemu Jepang di Tokyo [1].")], PASSAGES, lambda e: 0.5)
    assert moved.supported and moved.cited == [2] and moved.text == "Breton bertemu Jepang di Tokyo [2]."


def test_sentences_the_word_checks_dropped_are_not_revived():
    model = FakeCrossEncoder()
    [dropped] = CheckerClaimJudge(model, 0.5, 0.5).review([sentence("Breton [1].", supported=False)], PASSAGES,
                                                          lambda e: 0.5)
    assert not dropped.supported and model.pairs == []


def test_claims_are_scored_once_while_a_streamed_answer_grows():
    model = FakeCrossEncoder()
    judge = CheckerClaimJudge(model, 0.5, 0.5)
    for _ in range(3):
        judge.review([sentence("Belanda mengumumkan pembatasan ekspor [1].")], PASSAGES, lambda e: 0.5)
    assert len(model.pairs) == len(set(model.pairs))


def test_the_reranker_scores_title_and_text():
    class P:
        title, text = "Harga Beras", "Harga beras turun."
    model = FakeCrossEncoder()
    assert Reranker(model)("harga beras", [P()]) == [1.0]
    assert model.pairs == [("qa", "harga beras", "Harga Beras\nHarga beras turun.")]


def test_the_gate_refuses_when_no_passage_states_the_answer(rice_service):
    service = rice_service(answer_scorer=lambda q, passages: [0.2] * len(passages), min_answer_probability=0.5)
    answer = service.ask("Berapa harga beras medium?")
    assert answer.refused and answer.answerability == 0.2


def test_the_gate_lets_an_answer_through_when_a_passage_states_it(rice_service):
    service = rice_service(answer_scorer=lambda q, passages: [0.8] * len(passages), min_answer_probability=0.5)
    answer = service.ask("Berapa harga beras medium?")
    assert not answer.refused and answer.text == RICE_REPLY


def test_a_follow_up_is_also_judged_after_the_previous_question_when_its_rewrite_lost_words(rice_assistant,
                                                                                            fake_embeddings):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from app.chat import ChatService

    def scorer(question, passages):  # only the conversation names the market
        return [0.9 if "Cipinang" in question else 0.05] * len(passages)

    kb = rice_assistant(min_answer_probability=0.5)
    model = FakeListChatModel(responses=["Berapa harga beras medium?", RICE_REPLY])  # the rewrite, then the answer
    service = ChatService(kb.settings, kb.retriever, fake_embeddings, model, answer_scorer=scorer)
    history = [("Di pasar mana harga beras medium dicatat, Cipinang?", "Di Pasar Cipinang [1].")]
    answer = service.ask("Berapa nilainya?", history)
    assert not answer.refused and answer.answerability == 0.9
    assert service.ask("Berapa nilainya?").refused  # no conversation: the low reading stands


def test_follow_ups_that_point_back_are_not_searched_as_they_are():
    assert stands_alone("Berapa harga beras medium di Cipinang?")
    assert stands_alone("Which country announced export restrictions?")
    for question in ("And what about South Korea?", "Berapa nilainya?", "How much was it worth?",
                     "Bagaimana dengan Korea Selatan?", "Who said that?"):
        assert not stands_alone(question), question


def test_the_checker_picks_the_sentences_the_model_reads(rice_service):
    """Each sentence is scored with the one before it; the best ones are what the prompt shows."""
    from app.checker import Reranker
    from app.context import select_by_scores

    model = FakeCrossEncoder()
    sentences = [["Harga beras turun.", "Panen raya di Jawa Tengah."], ["Cuaca cerah."]]
    scores = Reranker(model).sentence_scores("panen raya jawa", sentences)
    assert [len(row) for row in scores] == [2, 1] and scores[0][1] == max(max(row) for row in scores)
    assert model.pairs[1] == ("qa", "panen raya jawa", "Harga beras turun. Panen raya di Jawa Tengah.")
    assert select_by_scores(scores, sentences, max_chars=30) == [[1], []]


def test_answers_in_another_language_than_their_passages_use_the_judge_named_for_that_case(rice_service,
                                                                                         unit_settings,
                                                                                         fake_embeddings):
    """English answers about Indonesian passages go to claim_judge_across (the chat model by default)."""
    from app.verify import AnswerChecker

    checker = CheckerClaimJudge(FakeCrossEncoder(), 0.1, 0.1)
    across = CheckerClaimJudge(FakeCrossEncoder(), 0.1, 0.1)
    passages = rice_service().retrieve("harga beras")
    both = AnswerChecker(unit_settings, fake_embeddings, claim_judge=checker, claim_judge_across=across)
    assert both.claim_judge_for("id", passages) is checker
    assert both.claim_judge_for("en", passages) is across
    one = AnswerChecker(unit_settings, fake_embeddings, claim_judge=checker)
    assert one.claim_judge_for("en", passages) is checker
