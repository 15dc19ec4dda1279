"""Re-scoring saved answers under both gates: claim sentences kept by their log-odds, then the judge's gate."""
from __future__ import annotations

from dataclasses import replace

from eval.datasets import EvalItem
from eval.runner import QuestionRecord, RunResult
from eval.sweep_gates import best, claims_at, correct_lost, gated, scores

TWO_CLAIMS = [("Luas kabupaten itu 3.864 km² [1].", 1.2), ("Ibu kotanya Simpang Empat [1].", -0.5)]


def record(answerable: bool, claims, refused=False, judge=1.0) -> QuestionRecord:
    return QuestionRecord("q", "Berapa luas?", answerable, "d" if answerable else None, answer="…", refused=refused,
                          claims=list(claims), answerability=judge, judge_log_odds=judge, contains=True, f1=1.0)


def test_a_claim_threshold_keeps_the_sentences_at_or_above_it_and_rescores_them():
    item = EvalItem("q", "Berapa luas?", "d", answers=["Simpang Empat"])
    lenient = claims_at(record(True, TWO_CLAIMS), item, -1.0)
    assert not lenient.refused and lenient.contains
    strict = claims_at(record(True, TWO_CLAIMS), item, 0.0)
    assert not strict.refused and "3.864" in strict.answer and not strict.contains  # the answer's sentence went
    none_left = claims_at(record(True, TWO_CLAIMS), item, 2.0)
    assert none_left.refused and none_left.contains is False and none_left.f1 == 0.0


def test_a_lower_claim_threshold_brings_back_an_answer_the_shipped_one_refused():
    item = EvalItem("q", "Berapa luas?", None, answerable=False)
    back = claims_at(record(False, [("Luasnya 1.311 meter persegi [1].", -1.16)], refused=True), item, -1000)
    assert not back.refused and back.contains is None


def test_answers_refused_before_any_claim_was_judged_stay_refused():
    item = EvalItem("q", "Berapa luas?", "d", answers=["3.864"])
    assert claims_at(record(True, [], refused=True), item, -1000).refused


def test_both_gates_together_and_the_best_pair_under_a_cap():
    items = [EvalItem("a", "?", "d", answers=["3.864"]), EvalItem("u", "?", None, answerable=False),
             EvalItem("v", "?", None, answerable=False)]
    records = [record(True, TWO_CLAIMS, judge=0.9),
               record(False, [("Luasnya 1.311 meter persegi [1].", -0.2)], judge=0.8),
               record(False, [("Didirikan 1948 [1].", 0.5)], judge=0.1)]
    run = RunResult("idk_mrc", "kabar-hybrid", records, {}, 0.0, generated=True)
    both = gated(run, items, claim_t=0.0, answer_t=0.3, penalty=0.0)
    assert [r.refused for r in both] == [False, True, True]  # u by its claim, v by the judge
    result = scores(both)
    assert result["f1"] == 1.0 and result["contains"] == 1.0 and result["answerable_refused"] == 0.0
    ungated = gated(run, items, -1000, -1000, 0.0)

    def row(claim_t, answer_t):
        records = gated(run, items, claim_t, answer_t, 0.0)
        idk = {**scores(records), "correct_lost": correct_lost(ungated, records)}
        return {"claim_t": claim_t, "answer_t": answer_t, "penalty": 0.0, "idk": idk}

    rows = [row(c, a) for c in (-1000, 0.0, 2.0) for a in (-1000, 0.3, 1.0)]
    chosen = best(rows, cap=0.0, min_contains=0.5)
    assert (chosen["claim_t"], chosen["answer_t"]) == (0.0, 0.3)
    assert next(r for r in rows if (r["claim_t"], r["answer_t"]) == (2.0, -1000))["idk"]["correct_lost"] == 1.0
    assert best([r for r in rows if r["claim_t"] == 2.0 or r["answer_t"] == 1.0], cap=0.0, min_contains=0.0) is None


def test_a_rebuilt_answer_lists_the_documents_its_markers_point_to_and_its_language():
    item = EvalItem("q", "Berapa luas?", "d1", answers=["Simpang Empat"])
    # "[1, 3]": the grouped form the app also reads
    claims = [("Ibu kotanya Simpang Empat [2].", 1.0), ("The regency covers 3,864 km² [1, 3].", -0.5)]
    saved = replace(record(True, claims), answer=" ".join(text for text, _ in claims),
                    answered_from=["d1", "d2", "d3"], cited_docs=["d1", "d2", "d3"])
    assert claims_at(saved, item, -1.0) is saved  # nothing dropped: the saved record stands
    kept = claims_at(saved, item, 0.0)
    assert kept.cited_docs == ["d2"] and kept.language_match and kept.contains
    english = claims_at(replace(saved, claims=claims[::-1], answer="…"), item, -1.0)
    assert english.cited_docs == ["d1", "d3", "d2"] and english.language_match is False
    older = replace(saved, answered_from=[], retrieved_docs=["r1", "r2"])  # saved before answered_from
    assert claims_at(older, item, 0.0).cited_docs == ["r2"]
