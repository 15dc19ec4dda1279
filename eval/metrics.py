"""Pure metric functions: retrieval ranks, answer overlap, refusals and citations; no model needed."""
from __future__ import annotations

import statistics
import unicodedata
from collections import Counter
from typing import Iterable, Optional, Sequence


def normalise_answer(text: str) -> str:
    """Lowercase, punctuation to spaces, whitespace collapsed: 'GA-181,' and 'ga - 181' compare equal."""
    chars = (" " if unicodedata.category(c).startswith("P") else c for c in (text or "").lower())
    return " ".join("".join(chars).split())


def contains_gold(answer: str, golds: Iterable[str]) -> bool:
    """True when any normalised gold answer appears, on word boundaries, in the normalised answer."""
    padded = f" {normalise_answer(answer)} "
    return any(g and f" {g} " in padded for g in (normalise_answer(x) for x in golds))


def _f1(prediction: list[str], gold: list[str]) -> float:
    if not prediction or not gold:
        return float(prediction == gold)
    common = sum((Counter(prediction) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer: str, golds: Sequence[str]) -> Optional[float]:
    """SQuAD-style token F1 of the normalised answer, the best over the gold answers (None without any)."""
    if not golds:
        return None
    prediction = normalise_answer(answer).split()
    return max(_f1(prediction, normalise_answer(g).split()) for g in golds)


def gold_rank(doc_ids: Sequence[str], gold: Optional[str]) -> Optional[int]:
    """1-based position of the first retrieved passage from the gold document; None if absent."""
    if gold is None:
        return None
    for position, doc_id in enumerate(doc_ids, start=1):
        if doc_id == gold:
            return position
    return None


def recall_at_k(ranks: Sequence[Optional[int]], k: int) -> Optional[float]:
    """Share of questions whose gold document is within the first k passages."""
    if not ranks:
        return None
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[Optional[int]]) -> Optional[float]:
    """Mean of 1/rank, counting a gold document never retrieved as 0."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r) / len(ranks)


def refusal_scores(refused: Sequence[bool], unanswerable: Sequence[bool]) -> dict:
    """Refusal as the positive class, truth = unanswerable; undefined ratios are None, not 0."""
    tp = sum(r and u for r, u in zip(refused, unanswerable))
    fp = sum(r and not u for r, u in zip(refused, unanswerable))
    fn = sum(u and not r for r, u in zip(refused, unanswerable))
    n = len(refused)
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None,
        "rate": sum(refused) / n if n else None,
        "tp": tp, "fp": fp, "fn": fn,
    }


def citation_precision(cited: Sequence[Sequence[str]], golds: Sequence[Optional[str]]) -> Optional[float]:
    """Micro-averaged share of cited sources whose passage belongs to the question's gold document."""
    total = sum(len(c) for c, g in zip(cited, golds) if g is not None)
    hits = sum(sum(d == g for d in c) for c, g in zip(cited, golds) if g is not None)
    return hits / total if total else None


def mean(values: Iterable[Optional[float]]) -> Optional[float]:
    """Mean of the defined values, None when there are none."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def median(values: Iterable[Optional[float]]) -> Optional[float]:
    """Median of the defined values, None when there are none."""
    kept = [float(v) for v in values if v is not None]
    return statistics.median(kept) if kept else None


def candidate_thresholds(scores: list[float]) -> list[float]:
    """Midpoints between neighbouring distinct scores, plus one below and one above them all."""
    distinct = sorted(set(scores))
    if not distinct:
        return []
    mids = [(a + b) / 2 for a, b in zip(distinct, distinct[1:])]
    return [distinct[0] - 1e-6, *mids, distinct[-1] + 1e-6]


def separation_auc(positives: list[float], negatives: list[float]) -> Optional[float]:
    """Chance that a positive scores above a negative (0.5: the score is blind to the difference)."""
    pairs = [(a > u) + 0.5 * (a == u) for a in positives for u in negatives]
    return sum(pairs) / len(pairs) if pairs else None
