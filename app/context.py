"""Pick the passage sentences the model reads: every prompt token costs ~20 ms before the first word.

Whole passages make a 1,000-token prompt (about 20 s on 2 cores before anything appears); the
few sentences closest to the question, each with the sentence after it (where reasons and
numbers tend to follow), carry the answer. The sentence vectors are the ones the citation check
needs anyway, so choosing them costs nothing extra per answer.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.injection import order_indexes

GAP = "…"
MIN_SENTENCE_CHARS = 25  # rubrics and headlines repeated as lines say nothing the title doesn't


def select_sentences(question: np.ndarray, sentence_vectors: Sequence[np.ndarray],
                     sentences: Sequence[Sequence[str]], max_chars: int,
                     skip: Sequence[str] = ()) -> list[list[int]]:
    """For each passage, the indexes (in reading order) of its sentences chosen, best first, each
    followed by its next sentence, until ``max_chars`` is spent. Overlapping chunks repeat
    sentences: each text is chosen once. The single best sentence is always kept, unless it
    gives the assistant orders (see core/injection.py)."""
    return select_by_scores(similarity_scores(question, sentence_vectors), sentences, max_chars, skip)


def similarity_scores(question: np.ndarray, sentence_vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each passage sentence's cosine to the question (the vectors are normalised)."""
    return [np.atleast_2d(rows) @ question for rows in sentence_vectors]


def select_by_scores(scores: Sequence[Sequence[float]], sentences: Sequence[Sequence[str]], max_chars: int,
                     skip: Sequence[str] = ()) -> list[list[int]]:
    """``select_sentences`` with each sentence's score given (the checker's, or a similarity)."""
    ranked = sorted(((float(score), p, s) for p, row in enumerate(scores) for s, score in enumerate(row)),
                    reverse=True)
    seen: set[str] = set()
    orders = [order_indexes(list(group)) for group in sentences]
    headings = [_key(text) for text in skip]
    chosen: list[list[int]] = [[] for _ in sentences]
    spent = 0
    for _, p, s in ranked:
        for index in (s, s + 1):
            if index >= len(sentences[p]):
                continue
            text = sentences[p][index]
            key = _key(text)
            if key in seen or len(text) < MIN_SENTENCE_CHARS or _is_heading(key, headings) or (
                    spent and spent + len(text) > max_chars) or index in orders[p]:
                continue
            seen.add(key)
            chosen[p].append(index)
            spent += len(text)
    return [sorted(rows) for rows in chosen]


def _is_heading(key: str, headings: Sequence[str]) -> bool:
    """A line that is a title, perhaps with its rubric: the prompt shows the title already."""
    return any(h and h in key and len(key) < len(h) + 30 for h in headings)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def excerpt(sentences: Sequence[str], chosen: Sequence[int]) -> str:
    """The chosen sentences in order, with an ellipsis where sentences were skipped between them."""
    parts: list[str] = []
    for position, index in enumerate(chosen):
        if position and index != chosen[position - 1] + 1:
            parts.append(GAP)
        parts.append(sentences[index])
    return " ".join(parts)


def close_to_best(passages: list, margin: float) -> list:
    """Passages near the best one: a far weaker one is another topic that only shares words."""
    best = max((p.score for p in passages), default=0.0)
    return [p for p in passages if p.score >= best - margin]
