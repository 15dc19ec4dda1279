"""Pick the passage sentences the model reads: every prompt token costs ~20 ms before the first word.

Whole passages make a 1,000-token prompt (about 20 s on 2 cores before anything appears); the
few sentences closest to the question carry the answer. The sentence vectors are the ones the
citation check needs anyway, so choosing them costs nothing extra per answer.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

GAP = " … "


def select_sentences(question: np.ndarray, sentence_vectors: Sequence[np.ndarray], sentence_lengths: Sequence[
        Sequence[int]], max_chars: int) -> list[list[int]]:
    """For each passage, the indexes (in reading order) of its sentences chosen, best first until
    ``max_chars`` is spent; the single best sentence is always kept."""
    ranked = sorted(
        ((float(score), p, s) for p, rows in enumerate(sentence_vectors)
         for s, score in enumerate(np.atleast_2d(rows) @ question)),
        reverse=True,
    )
    chosen: list[list[int]] = [[] for _ in sentence_vectors]
    spent = 0
    for _, p, s in ranked:
        length = sentence_lengths[p][s]
        if spent and spent + length > max_chars:
            continue
        chosen[p].append(s)
        spent += length
    return [sorted(rows) for rows in chosen]


def excerpt(sentences: Sequence[str], chosen: Sequence[int]) -> str:
    """The chosen sentences in order, with an ellipsis where sentences were skipped between them."""
    parts: list[str] = []
    for position, index in enumerate(chosen):
        if position and index != chosen[position - 1] + 1:
            parts.append(GAP.strip())
        parts.append(sentences[index])
    return " ".join(parts)
