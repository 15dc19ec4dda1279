"""The answer pipeline's trained stages: rerank, answerability, and claim checking with Kabar's checker model.

One small cross-encoder (core/cross_encoder.py) reads (question, passage) and (claim, evidence) pairs in
tens of milliseconds, where the chat-model judges took seconds and let swapped roles through.
"""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import Callable, Optional, Sequence

import numpy as np

from app.citations import CITATION, CheckedSentence, numbers_in, recite, scale_mismatch, split_sentences, unknown_names
from app.claims import evidence_window

VERDICT_CACHE_SIZE = 4096


class Reranker:
    """Orders retrieved passages by the checker's probability that each states the answer."""

    def __init__(self, model):
        self._model = model

    def __call__(self, question: str, passages: Sequence) -> list[float]:
        texts = [f"{p.title}\n{p.text}" if p.title else p.text for p in passages]
        return [float(x) for x in self._model.probabilities("qa", [(question, t) for t in texts])]

    def sentence_scores(self, question: str, sentences: Sequence[Sequence[str]]) -> list[list[float]]:
        """Per passage, each sentence's probability (read with the sentence before it) of stating the answer."""
        windows = [" ".join(group[max(i - 1, 0): i + 1]) for group in sentences for i in range(len(group))]
        flat = iter(self._model.probabilities("qa", [(question, w) for w in windows]) if windows else [])
        return [[float(next(flat)) for _ in group] for group in sentences]


class CheckerClaimJudge:
    """Keeps an answer sentence only when a passage it cites (or, re-cited, another one) entails it."""

    kind = "checker"

    def __init__(self, model, threshold_same: float, threshold_across: float):
        self._model = model
        self.thresholds = (threshold_same, threshold_across)
        self._cache: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def probabilities(self, pairs: list[tuple[str, str]]) -> list[float]:
        """Entailment probabilities, cached: a streamed answer is checked again as it grows."""
        with self._lock:
            missing = list(dict.fromkeys(p for p in pairs if p not in self._cache))
        if missing:
            found = self._model.probabilities("claim", missing)
            with self._lock:
                self._cache.update(zip(missing, (float(x) for x in found)))
                while len(self._cache) > VERDICT_CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
        with self._lock:
            return [self._cache.get(p, 0.0) for p in pairs]

    def review(self, checked: list[CheckedSentence], passage_texts: Sequence[str],
               threshold: Callable[[str], float]) -> list[CheckedSentence]:
        """Each sentence that passed the word checks re-marked by the best evidence window among its cited
        passages, else re-cited to another passage whose window entails it and that holds its numbers and names."""
        return [self._review_one(s, passage_texts, threshold) if s.supported and s.cited else s for s in checked]

    def _windows(self, sentence: CheckedSentence, passage_texts: Sequence[str], cited: bool) -> list[tuple[int, int]]:
        """(passage number, row) windows to read: around the closest row of each cited passage, or every row
        of the other passages that hold the sentence's numbers and names."""
        rows = []
        for number in range(1, len(passage_texts) + 1):
            if (number in sentence.cited) != cited:
                continue
            if not cited and not _holds(sentence.text, passage_texts[number - 1]):
                continue
            count = len(split_sentences(passage_texts[number - 1])) or 1
            centre = sentence.evidence.get(number, 0)
            spread = (-1, 0, 1) if cited else range(-centre, count - centre)
            rows += [(number, r) for r in sorted({min(max(centre + d, 0), count - 1) for d in spread})]
        return rows

    def _best(self, claim: str, windows, passage_texts, threshold) -> tuple[Optional[tuple[int, int]], float]:
        """The window that entails the claim most surely (None when none does), and its probability."""
        evidence = [evidence_window(passage_texts[n - 1], r) for n, r in windows]
        scores = self.probabilities([(claim, e) for e in evidence])
        ok = [i for i, (sc, e) in enumerate(zip(scores, evidence)) if sc >= threshold(e) and not scale_mismatch(claim, e)]
        if not ok:
            return None, max(scores, default=0.0)
        best = max(ok, key=lambda i: scores[i])
        return windows[best], scores[best]

    def _review_one(self, sentence: CheckedSentence, passage_texts: Sequence[str],
                    threshold: Callable[[str], float]) -> CheckedSentence:
        claim = CITATION.sub("", sentence.text).strip()
        found, score = self._best(claim, self._windows(sentence, passage_texts, True), passage_texts, threshold)
        if found is None:
            found, other = self._best(claim, self._windows(sentence, passage_texts, False), passage_texts, threshold)
            score = other if found else score
        if found is None:
            return replace(sentence, supported=False, claim_log_odds=_logit(score))
        number, row = found
        if number in sentence.cited:
            return replace(sentence, claim_log_odds=_logit(score), evidence={**sentence.evidence, number: row})
        return replace(sentence, text=recite(sentence.text, number), cited=[number], supported=True,
                       claim_log_odds=_logit(score), evidence={number: row})


def _holds(sentence: str, passage: str) -> bool:
    """The passage has every number of the sentence and its multi-word names (a re-citation must)."""
    claim = CITATION.sub("", sentence)
    return numbers_in(claim) <= numbers_in(passage) and not unknown_names(claim, passage, same_language=False)


def _logit(p: float) -> Optional[float]:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))
