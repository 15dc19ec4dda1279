"""The claim judge: which passage sentences it reads, how its verdict marks sentences, and the answer it leaves."""
from __future__ import annotations

import math

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from app.citations import CheckedSentence
from app.claims import CERTAIN, ClaimJudge, claim_evidence, evidence_window, log_odds_from_response

PASSAGE = "Belanda mengumumkan pembatasan ekspor. Ia menyebut ASML. Breton bertemu Jepang."


class CountingModel(FakeListChatModel):
    """A fake chat model that counts its calls (each claim verdict is one)."""

    calls: int = 0

    def _call(self, *args, **kwargs):
        self.calls += 1
        return super()._call(*args, **kwargs)


def sentence(text: str, supported: bool = True, cited=(1,), row: int = 0) -> CheckedSentence:
    return CheckedSentence(text, list(cited), supported, 0.9, {n: row for n in cited})


def test_evidence_is_the_closest_sentence_and_the_one_before_it():
    assert evidence_window(PASSAGE, 1) == "Belanda mengumumkan pembatasan ekspor. Ia menyebut ASML."
    assert evidence_window(PASSAGE, 0) == "Belanda mengumumkan pembatasan ekspor."
    assert evidence_window(PASSAGE, 99).endswith("Breton bertemu Jepang.")  # out of range: the last one
    two = sentence("x", cited=(1, 2), row=2)
    assert claim_evidence(two, [PASSAGE, "Satu. Dua. Tiga."]).split("\n") == [
        "Ia menyebut ASML. Breton bertemu Jepang.", "Dua. Tiga."]


def test_a_no_drops_the_sentence_and_a_yes_keeps_it():
    judge = ClaimJudge(CountingModel(responses=["no", "yes"]))
    swapped, true = sentence("Jepang mengumumkan pembatasan ekspor [1]."), sentence("Breton bertemu Jepang [1].", row=2)
    reviewed = judge.review([swapped, true], [PASSAGE], threshold=lambda evidence: 0.0)
    assert [s.supported for s in reviewed] == [False, True]
    assert reviewed[0].claim_log_odds < 0 < reviewed[1].claim_log_odds


def test_unsupported_or_uncited_sentences_are_not_asked_about():
    model = CountingModel(responses=["no"])
    reviewed = ClaimJudge(model).review([sentence("x [1].", supported=False), sentence("y.", cited=())],
                                        [PASSAGE], threshold=lambda evidence: 0.0)
    assert model.calls == 0 and all(s.claim_log_odds is None for s in reviewed)


def test_a_claim_is_judged_once_while_a_streamed_answer_grows():
    model = CountingModel(responses=["yes", "no"])
    judge = ClaimJudge(model)
    first = judge.review([sentence("Belanda mengumumkan pembatasan ekspor [1].")], [PASSAGE], lambda evidence: 0.0)
    again = judge.review([sentence("Belanda mengumumkan pembatasan ekspor [1].")], [PASSAGE], lambda evidence: 0.0)
    assert model.calls == 1 and first[0].supported and again[0].supported


@pytest.fixture
def service_with_claims(rice_service):
    return lambda verdict: rice_service(claim_judge=ClaimJudge(FakeListChatModel(responses=[verdict])))


def test_an_answer_whose_only_claim_the_judge_rejects_becomes_a_refusal(service_with_claims):
    answer = service_with_claims("no").ask("Berapa harga beras medium?")
    assert answer.refused and answer.sources == []
    assert answer.claims and answer.claims[0][1] < 0  # the verdict is kept for evaluation


def test_an_answer_the_judge_accepts_keeps_its_sources(service_with_claims):
    answer = service_with_claims("yes").ask("Berapa harga beras medium?")
    assert not answer.refused and "11.200" in answer.text and answer.sources
    assert answer.claims[0][1] > 0


def test_an_answer_in_another_language_than_its_evidence_gets_the_lower_threshold(unit_settings, fake_embeddings):
    from app.verify import AnswerChecker

    settings = unit_settings.with_changes(min_claim_log_odds=0.5, min_claim_log_odds_across_languages=-1.0)
    evidence = "Harga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini."
    judge = object()  # a chat-model judge: no kind
    checker = AnswerChecker(settings, fake_embeddings, claim_judge=judge)
    assert checker.claim_threshold(judge, "id", evidence) == 0.5
    assert checker.claim_threshold(judge, "en", evidence) == -1.0


# --- reading the one-token yes/no reply ---------------------------------------------------------------
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
