"""The answerability judge: the chat model says whether the passages state the answer, before it writes one.

Retrieval scores cannot tell "the passage is about this" from "the passage answers this" (IDK-MRC's
unanswerable questions are rewordings about the same paragraph), so the gate asks the model itself and
reads the log-odds of its first token, yes against no; ``python -m eval.calibrate_refusal``
picks the threshold on data. The judge's messages repeat the answer prompt and add one line, so the
server's prompt cache serves the answer's prompt afterwards and the judge costs a few tokens, not a prompt.

The judge alone misses many of them: a 1.5B model answers "how many times did he *fail* to become
president?" from "he was elected seven times". So the gate also counts the question's content words that
no retrieved passage contains, and can take a penalty per word off the judge's log-odds. Calibrated on
IDK-MRC alone the penalty is 0.3; with news questions, which paraphrase their passage, it is 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from langchain_core.messages import BaseMessage, HumanMessage

from prompts import load_prompt
from vectorstore.analysis import STOPWORDS, stem, terms

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

YES, NO = "yes", "no"
CERTAIN = 20.0  # the log-odds given to a bare "yes"/"no" from a server that returns no log-probabilities
# Words that frame a question rather than say what it is about ("what is the *name* of", "berapa *jumlah*"):
# their absence from the passages says nothing. Stemmed like the index, so "siapakah" meets "siapa".
_FRAME_WORDS = "nama jumlah maksud dimaksud arti sebut disebut menjadi tahun name number mean meant called year"
QUESTION_FRAME = frozenset(STOPWORDS) | frozenset(stem(w) for w in (*STOPWORDS, *_FRAME_WORDS.split()))


@dataclass
class Verdict:
    """What the gate knows before an answer is written: the judge's log-odds and the question's words
    that no passage contains (left empty across languages, where words cannot be compared)."""

    log_odds: Optional[float]
    unmatched: list[str] = field(default_factory=list)

    def score(self, penalty: float) -> Optional[float]:
        """The judge's log-odds less ``penalty`` per unmatched word; None when the judge gave no verdict."""
        return None if self.log_odds is None else self.log_odds - penalty * len(self.unmatched)


def unmatched_terms(question: str, passage_texts: list[str]) -> list[str]:
    """The question's content words (stemmed, once each) that occur in none of the passages."""
    seen: set[str] = set()
    for text in passage_texts:
        seen.update(terms(text))
    missing: list[str] = []
    for term in terms(question):
        if term not in QUESTION_FRAME and term not in seen and term not in missing:
            missing.append(term)
    return missing


def judge_messages(answer_messages: list[BaseMessage]) -> list[BaseMessage]:
    """The answer prompt with the yes/no question added to its last (user) message."""
    *head, last = answer_messages
    return [*head, HumanMessage(f"{last.content}\n\n{load_prompt('answerable')}")]


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
    """A chat model bound to answer one token with its log-probabilities: the shared core of both judges."""

    def __init__(self, llm: "BaseChatModel", top_logprobs: int = 10):
        self._llm = llm.bind(logprobs=True, top_logprobs=top_logprobs, max_tokens=1, temperature=0)

    def yes_no_log_odds(self, messages: list[BaseMessage]) -> Optional[float]:
        """log P(yes) - log P(no) of the reply's first token (None: neither word, no verdict)."""
        reply = self._llm.invoke(messages)
        content = reply.content if isinstance(reply.content, str) else ""
        return log_odds_from_response(content, reply.response_metadata.get("logprobs"))


class AnswerabilityJudge(YesNoJudge):
    """Asks, in the answer's own prompt, whether the passages state the specific fact asked for."""

    def log_odds(self, answer_messages: list[BaseMessage]) -> Optional[float]:
        return self.yes_no_log_odds(judge_messages(answer_messages))
