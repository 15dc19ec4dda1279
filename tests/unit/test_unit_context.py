"""The model reads the sentences nearest the question, within a character budget, in reading order."""
from __future__ import annotations

import numpy as np

from app.context import excerpt, select_sentences


def unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_best_sentences_first_until_the_budget_then_reading_order():
    question = unit(1, 0, 0)
    passages = [np.stack([unit(0, 1, 0), unit(1, 0.1, 0), unit(1, 0.5, 0)]), np.stack([unit(1, 0.2, 0), unit(0, 0, 1)])]
    lengths = [[100, 100, 100], [100, 100]]
    chosen = select_sentences(question, passages, lengths, max_chars=300)
    assert chosen == [[1, 2], [0]]


def test_the_best_sentence_is_kept_even_when_longer_than_the_budget():
    chosen = select_sentences(unit(1, 0), [np.stack([unit(1, 0), unit(0, 1)])], [[5000, 10]], max_chars=100)
    assert chosen[0][0] == 0


def test_smaller_sentences_still_fit_after_a_long_one_is_skipped():
    question = unit(1, 0)
    rows = np.stack([unit(1, 0.1), unit(1, 0.2), unit(1, 0.3)])
    assert select_sentences(question, [rows], [[50, 500, 40]], max_chars=100) == [[0, 2]]


def test_excerpt_marks_skipped_sentences():
    sentences = ["A.", "B.", "C.", "D."]
    assert excerpt(sentences, [0, 1, 3]) == "A. B. … D."
    assert excerpt(sentences, []) == ""
