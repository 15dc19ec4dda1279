"""A small, fixed eval run in the suite: fails if retrieval falls below what issue #3 reached.

NTREX (61 documents, English headline -> Indonesian article, the full set) must stay at the
project's target, R@1 >= 0.97 and R@5 = 1.00 (measured 0.984 / 1.000 on 2026-11-28, with the
headline match for cross-lingual questions). FacQA's first 100 questions (all 273 passages indexed)
guard the hybrid fusion at today's level (R@1 0.88, R@5 0.99 measured on 2026-11-28; the floors are
one question below), which is still short of the FacQA target (R@1 >= 0.90 on the 150-question
sample): raise these floors as retrieval improves.
"""
from __future__ import annotations

import pytest

from eval.configs import kabar_config
from eval.datasets import EvalSet, load_set
from eval.metrics import mean_reciprocal_rank, recall_at_k
from eval.runner import run_one
from tests.conftest import SHARED_DATA, needs_shared

pytestmark = pytest.mark.integration
NTREX = SHARED_DATA / "ntrex" / "docs.jsonl"
FACQA = SHARED_DATA / "facqa" / "valid.csv"


@needs_shared("ntrex/docs.jsonl")
def test_ntrex_cross_lingual_retrieval_meets_the_target(tmp_path):
    result = run_one(load_set("ntrex", NTREX), kabar_config(), tmp_path, retrieval_only=True)
    assert result.error is None, result.error
    ranks = [r.rank for r in result.records]
    assert len(ranks) == 61
    assert recall_at_k(ranks, 5) == 1.0
    assert recall_at_k(ranks, 1) >= 0.97
    assert mean_reciprocal_rank(ranks) >= 0.98


@needs_shared("facqa/valid.csv")
def test_facqa_hybrid_retrieval_does_not_regress(tmp_path):
    full = load_set("facqa", FACQA)
    fixed = EvalSet(full.name, full.articles, full.items[:100])  # every passage indexed, 100 questions asked
    result = run_one(fixed, kabar_config(), tmp_path, retrieval_only=True)
    assert result.error is None, result.error
    ranks = [r.rank for r in result.records]
    assert len(ranks) == 100
    assert recall_at_k(ranks, 1) >= 0.87
    assert recall_at_k(ranks, 5) >= 0.98
