"""The check after the draft: each answer sentence against the passage sentences it cites, by the judge the
answer's language calls for (the trained checker, the chat model, or words and meaning alone)."""
from __future__ import annotations

import threading
import re
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Sequence

import numpy as np

from app.citations import CheckedSentence, check_sentences, split_sentences
from app.events import Answer, ChatEvent, Checking, Retrieved, Source, Token
from core.errors import ModelUnavailable
from core.language import detect_language
from prompts import REFUSAL_MARKER, refusal_text
from vectorstore.store import Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from core.settings import Settings

SENTENCE_CACHE_SIZE = 2048


class AnswerChecker:
    """Marks each sentence of a draft supported or not, and re-cites it where another passage supports it."""

    def __init__(self, settings: "Settings", embeddings: "Embeddings", claim_judge=None, claim_judge_across=None,
                 llm_description: str = "the chat model"):
        self._settings = settings
        self._embeddings = embeddings
        self._claim_judge = claim_judge
        self._claim_judge_across = claim_judge_across  # None: claim_judge across languages too
        self._llm_description = llm_description
        self._sentence_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    def embed_sentences(self, texts: list[str]) -> list[np.ndarray]:
        return [np.asarray(self._embeddings.embed_query(t), dtype=np.float32) for t in texts]

    def check(self, text: str, passages: list[Passage], question: str, language: str,
              embed: Optional[Callable[[list[str]], np.ndarray]] = None) -> list[CheckedSentence]:
        """Every sentence of ``text`` checked by words and meaning, then by the claim judge for ``language``."""
        embed = embed or (lambda texts: np.array(self.embed_sentences(texts), dtype=np.float32))
        texts = [p.text for p in passages]
        judge = self.claim_judge_for(language, passages)
        # the trained checker decides on meaning itself; similarity then only picks evidence rows and passages
        min_support = -1.0 if getattr(judge, "kind", "") == "checker" else self._settings.min_support
        languages = {p.text: p.language for p in passages}
        checked = check_sentences(text, texts, self.sentence_vectors(passages), embed, min_support,
                                  question=question, passage_sentences=[p.sentences for p in passages],
                                  same_language=lambda _sentence, passage: languages.get(passage) == language)
        if judge is None:
            return checked
        try:
            return judge.review(checked, texts, lambda evidence: self.claim_threshold(judge, language, evidence))
        except Exception as err:  # openai/httpx raise many connection error types
            raise ModelUnavailable(f"{self._llm_description} did not answer: {err}") from err

    def claim_judge_for(self, language: str, passages: Sequence[Passage]):
        """The claim judge for an answer in ``language``: across languages the one the settings name for that case
        (the checker dropped correct English paraphrases of Indonesian passages there)."""
        if any(p.language == language for p in passages) or self._claim_judge_across is None:
            return self._claim_judge
        return self._claim_judge_across

    def claim_threshold(self, judge, answer_language: str, evidence: str) -> float:
        """The answer's language is the question's (a short claim's own detection is unreliable)."""
        same = answer_language == detect_language(evidence)
        if getattr(judge, "kind", "chat") == "checker":
            return self._settings.min_claim_probability if same else self._settings.min_claim_probability_across_languages
        return self._settings.min_claim_log_odds if same else self._settings.min_claim_log_odds_across_languages

    def sentence_vectors(self, passages: Sequence[Passage]) -> list[np.ndarray]:
        """One row per sentence of each passage, cached by chunk id (chunks are immutable)."""
        with self._cache_lock:
            missing = [p for p in passages if p.chunk_id not in self._sentence_cache]
        sentences = [p.sentences for p in missing]
        flat = [s for group in sentences for s in group]
        vectors = np.asarray(self._embeddings.embed_documents(flat), dtype=np.float32) if flat else None
        start, found = 0, {}
        for passage, group in zip(missing, sentences):
            found[passage.chunk_id] = vectors[start : start + len(group)]
            start += len(group)
        with self._cache_lock:  # answers may run side by side (KABAR_MAX_CONCURRENT_ANSWERS)
            self._sentence_cache.update(found)
            rows = [self._sentence_cache[p.chunk_id] for p in passages]
            while len(self._sentence_cache) > SENTENCE_CACHE_SIZE:
                self._sentence_cache.pop(next(iter(self._sentence_cache)))
        return rows


def supporting_sentences(number: int, passage: Passage, kept: Sequence[CheckedSentence]) -> list[str]:
    """The passage's sentences that support the answer sentences citing it (to highlight)."""
    sentences = passage.sentences
    rows = sorted({c.evidence[number] for c in kept if number in c.evidence})
    return [sentences[r] for r in rows if r < len(sentences)]


def refusal(question: str, language: str, passages: list[Passage], answerability: Optional[float] = None) -> Answer:
    """The honest "the articles don't say", in the asker's language, with what was searched."""
    return Answer(question, refusal_text(language), [], refused=True, language=language, retrieved=passages,
                  answerability=answerability)


def answer_from(question: str, language: str, checked: list[CheckedSentence], passages: list[Passage]) -> Answer:
    """The supported sentences with exactly the passages they cite as sources; none supported is a refusal."""
    kept = [c for c in checked if c.supported]
    numbers = sorted({n for c in kept for n in c.cited})
    sources = [Source(n, passages[n - 1], supporting_sentences(n, passages[n - 1], kept)) for n in numbers]
    answer = Answer(question, " ".join(c.text for c in kept), sources, refused=False, language=language,
                    retrieved=passages) if kept else refusal(question, language, passages)
    answer.claims = [(c.text, c.claim_log_odds) for c in checked if c.claim_log_odds is not None]
    return answer


def complete_sentences(draft: str) -> list[str]:
    """The draft's sentences that another has followed: a citation after the full stop ("… negerinya. [3]")
    still belongs to the sentence before it, so a tail without letters keeps that sentence open."""
    pieces = split_sentences(draft)
    return pieces[:-1] if pieces and re.search(r"[^\W\d_]", pieces[-1]) else pieces[:-2]


def verified_stream(events: Iterator[ChatEvent], checker: AnswerChecker) -> Iterator[ChatEvent]:
    """The chat service's events with the draft replaced by checked sentences, each released once complete and
    supported, for clients that cannot take text back (the OpenAI API): what streams is exactly the final
    answer. The service's own check of the whole draft is then not needed, so the stream stops at Checking."""
    retrieved, draft, released, vectors, complete_count = None, "", [], {}, 0

    def embed(texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in vectors]
        vectors.update(zip(missing, checker.embed_sentences(missing)))
        return np.array([vectors[t] for t in texts], dtype=np.float32)

    def release(text: str) -> Iterator[Token]:
        if REFUSAL_MARKER in text or not text.strip():
            return
        checked = checker.check(text, retrieved.passages, retrieved.question, retrieved.language, embed)
        for sentence in [c for c in checked if c.supported][len(released):]:
            yield Token(sentence.text if not released else " " + sentence.text)
            released.append(sentence)

    for event in events:
        if isinstance(event, Token):
            draft += event.text
            complete = complete_sentences(draft)
            if len(complete) > complete_count:  # checked again only when a sentence was completed
                complete_count = len(complete)
                yield from release("\n".join(complete))
        elif isinstance(event, Checking):
            yield from release(event.draft)  # the whole draft, its last sentence included
            yield event
            answer = answer_from(retrieved.question, retrieved.language, released, retrieved.passages)
            answer.answerability = event.answerability
            getattr(events, "close", lambda: None)()  # the service would check the whole draft again
            yield answer
            return
        else:
            retrieved = event if isinstance(event, Retrieved) else retrieved
            yield event
