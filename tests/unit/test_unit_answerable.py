"""The answerability judge: reading yes/no log-odds, its prompt, and the gate it drives in the chat service."""
from __future__ import annotations

import math

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from app.answerable import CERTAIN, Verdict, judge_messages, log_odds_from_response, unmatched_terms



def logprobs(*pairs: tuple[str, float]) -> dict:
    return {"content": [{"token": pairs[0][0], "logprob": pairs[0][1],
                         "top_logprobs": [{"token": t, "logprob": lp} for t, lp in pairs]}]}


def test_log_odds_sum_the_case_and_space_variants():
    odds = log_odds_from_response("yes", logprobs(("yes", math.log(0.5)), ("Yes", math.log(0.2)),
                                                  (" no", math.log(0.1)), ("No", math.log(0.1))))
    assert odds == pytest.approx(math.log(0.7 / 0.2))


def test_log_odds_negative_when_no_is_likelier():
    assert log_odds_from_response("no", logprobs(("no", math.log(0.9)), ("yes", math.log(0.05)))) < 0


def test_only_one_side_seen_is_bounded_not_infinite():
    odds = log_odds_from_response("yes", logprobs(("yes", math.log(0.99)), ("The", math.log(0.01))))
    assert 0 < odds < 25


def test_without_logprobs_the_word_decides():
    assert log_odds_from_response("Yes.", None) == CERTAIN
    assert log_odds_from_response(" no", {}) == -CERTAIN
    assert log_odds_from_response("Harga beras turun [1].", None) is None


def test_judge_prompt_extends_the_answer_prompt_so_the_prompt_cache_is_reused():
    answer = [SystemMessage("rules"), HumanMessage("Passages:\n[1] x\n\nQuestion: q")]
    judged = judge_messages(answer)
    assert judged[0] == answer[0]
    assert judged[1].content.startswith(answer[1].content)
    assert "yes or no" in judged[1].content


class QueuedJudge:
    """A fake judge that returns queued log-odds and remembers what it was shown."""

    def __init__(self, *odds):
        self.odds, self.seen = list(odds), []

    def log_odds(self, messages):
        self.seen.append(messages)
        return self.odds.pop(0)


@pytest.fixture
def service_with(rice_service):
    def build(judge, threshold=0.0, penalty=0.0):
        return rice_service(judge=judge, min_answer_log_odds=threshold, unmatched_term_penalty=penalty)
    return build


def test_judge_below_threshold_refuses_without_writing_an_answer(service_with):
    judge = QueuedJudge(-2.5)
    answer = service_with(judge, threshold=-1.0).ask("Berapa harga beras pada tahun 1998?")
    assert answer.refused and answer.sources == [] and answer.answerability == -2.5
    assert "Cipinang" in judge.seen[0][-1].content  # it judged the retrieved passage


def test_judge_above_threshold_lets_the_answer_through(service_with):
    answer = service_with(QueuedJudge(1.5), threshold=-1.0).ask("Berapa harga beras medium?")
    assert not answer.refused and "11.200" in answer.text and answer.answerability == 1.5


def test_no_verdict_does_not_refuse(service_with):
    assert not service_with(QueuedJudge(None), threshold=5.0).ask("Berapa harga beras medium?").refused


def test_same_language_scope_skips_the_judge_across_languages(service_with):
    judge = QueuedJudge(-9.0)
    answer = service_with(judge, threshold=0.0).ask("How much does medium rice cost at Cipinang market?")
    assert judge.seen == [] and answer.answerability is None


def test_unmatched_terms_are_the_question_words_no_passage_has():
    passages = ["Maumoon Abdul Gayoom adalah Presiden Maladewa. Ia terpilih tujuh kali berturut-turut."]
    assert unmatched_terms("Berapa kali Maumoon Abdul Gayoom gagal menjadi presiden?", passages) == ["gagal"]
    # question frame words ("siapakah", "nama") and affixes ("terpilihnya" vs "terpilih") do not count
    assert unmatched_terms("Siapakah nama presiden yang terpilihnya tujuh kali?", passages) == []
    assert unmatched_terms("Kapan Maumoon terpilih di Afrika Selatan?", passages) == ["afrika", "selatan"]


def test_verdict_score_takes_the_penalty_per_unmatched_word():
    assert Verdict(1.0, ["gagal", "2009"]).score(0.3) == pytest.approx(0.4)
    assert Verdict(None, ["gagal"]).score(0.3) is None


def test_a_question_word_missing_from_the_passages_tips_the_gate(service_with):
    service = service_with(QueuedJudge(0.5, 0.5), threshold=0.3, penalty=0.3)
    assert not service.ask("Berapa harga beras medium di Pasar Cipinang?").refused
    answer = service.ask("Berapa harga beras medium di Pasar Senen?")
    assert answer.refused and answer.answerability == pytest.approx(0.2)  # "senen" is in no passage


def test_no_penalty_across_languages(service_with):
    service = service_with(QueuedJudge(0.5), threshold=0.3, penalty=0.3)
    service._settings = service._settings.model_copy(update={"answer_judge": "always"})
    answer = service.ask("How much does medium rice cost at Cipinang market?")  # no English word is in the article
    assert not answer.refused and answer.answerability == 0.5
