"""The claim judge: the chat model reads each kept answer sentence beside the passage sentences it rests on.

Word and meaning checks (app/citations.py) pass a sentence built from the article's own words with the
roles swapped ("Japan announced export restrictions [3]" where the passage says the Netherlands did): every
word is in the article and the meaning is close. A short yes/no question to the chat model over the
evidence sentences catches those; its thresholds (within a language, across languages) are calibrated by
``python -m eval.calibrate_claims``.
"""
from __future__ import annotations

import math
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from langchain_core.messages import BaseMessage, HumanMessage

from app.citations import CITATION, CheckedSentence, split_sentences
from prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

VERDICT_CACHE_SIZE = 1024
YES, NO = "yes", "no"
CERTAIN = 20.0  # the log-odds given to a bare "yes"/"no" from a server that returns no log-probabilities


def _probability(entries: list[dict], word: str) -> float:
    """Summed probability of the first-token variants of ``word`` ("yes", "Yes", " yes", ...)."""
    return sum(math.exp(e["logprob"]) for e in entries if e.get("token", "").strip().lower() == word)


def log_odds_from_response(content: str, logprobs: Optional[dict]) -> Optional[float]:
    """log P(yes) - log P(no) of the first token; from the text alone when the server gave no log-probabilities."""
    entries = ((logprobs or {}).get("content") or [{}])[0].get("top_logprobs") or []
    if entries:
        yes, no = _probability(entries, YES), _probability(entries, NO)
        if yes or no:
            return math.log(max(yes, 1e-9)) - math.log(max(no, 1e-9))
    word = content.strip().lower().rstrip(".!")
    return CERTAIN if word.startswith(YES) else -CERTAIN if word.startswith(NO) else None


class YesNoJudge:
    """A chat model bound to answer one token with its log-probabilities: yes or no, and how sure."""

    def __init__(self, llm: "BaseChatModel", top_logprobs: int = 10):
        self._llm = llm.bind(logprobs=True, top_logprobs=top_logprobs, max_tokens=1, temperature=0)

    def yes_no_log_odds(self, messages: list[BaseMessage]) -> Optional[float]:
        """log P(yes) - log P(no) of the reply's first token (None: neither word, no verdict)."""
        reply = self._llm.invoke(messages)
        content = reply.content if isinstance(reply.content, str) else ""
        return log_odds_from_response(content, reply.response_metadata.get("logprobs"))


def evidence_window(passage_text: str, row: int) -> str:
    """The passage sentence a claim rests on and the one before it ("Ia ..." needs its antecedent)."""
    sentences = split_sentences(passage_text) or [passage_text]
    row = min(max(row, 0), len(sentences) - 1)
    return " ".join(sentences[max(row - 1, 0): row + 1])


def claim_evidence(sentence: CheckedSentence, passage_texts: Sequence[str]) -> str:
    """The evidence windows of every passage the sentence cites, one paragraph each."""
    return "\n".join(evidence_window(passage_texts[n - 1], sentence.evidence.get(n, 0))
                     for n in sentence.cited if 1 <= n <= len(passage_texts))


class ClaimJudge(YesNoJudge):
    """One single-token call per claim; verdicts are cached, since a streamed answer is checked as it grows."""

    kind = "chat"

    def __init__(self, llm: "BaseChatModel", top_logprobs: int = 10):
        super().__init__(llm, top_logprobs)
        self._cache: dict[tuple[str, str], Optional[float]] = {}
        self._lock = threading.Lock()

    def log_odds(self, evidence: str, claim: str) -> Optional[float]:
        """log P(yes) - log P(no) that the evidence states the claim (None: no verdict)."""
        key = (evidence, claim)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        prompt = load_prompt("claim").format(evidence=evidence, claim=claim)
        verdict = self.yes_no_log_odds([HumanMessage(prompt)])
        with self._lock:
            self._cache[key] = verdict
            while len(self._cache) > VERDICT_CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
        return verdict

    def review(self, checked: list[CheckedSentence], passage_texts: Sequence[str],
               threshold: Callable[[str], float]) -> list[CheckedSentence]:
        """The sentences with each supported one re-marked by the judge; its log-odds kept on the sentence.
        ``threshold(evidence)`` is the log-odds a claim over that evidence needs (lower across languages)."""
        reviewed = []
        for sentence in checked:
            if sentence.supported and sentence.cited:
                claim = CITATION.sub("", sentence.text).strip()
                evidence = claim_evidence(sentence, passage_texts)
                score = self.log_odds(evidence, claim)
                sentence = replace(sentence, claim_log_odds=score,
                                   supported=score is None or score >= threshold(evidence))
            reviewed.append(sentence)
        return reviewed
