"""The one chat service: retrieve, decide if the articles can answer, stream, verify, cite."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Generator, Iterator, Optional, Sequence

from langchain_core.prompts import ChatPromptTemplate

from app.citations import drop_unfinished_sentence
from app.claims import ClaimJudge
from app.context import close_to_best, excerpt, select_by_scores, similarity_scores
from app.events import Answer, ChatEvent, Checking, Retrieved, Source, Stage, Token  # noqa: F401  (re-exported)
from app.followup import stands_alone, standalone_question
from app.injection import safe_title, without_orders
from app.verify import AnswerChecker, answer_from, refusal
from core.errors import BadQuestion, ModelUnavailable
from core.language import LANGUAGE_NAMES
from core.question import Question
from prompts import REFUSAL_MARKER, load_prompt
from vectorstore.retriever import Retriever
from vectorstore.store import Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel

    from core.settings import Settings

log = logging.getLogger(__name__)


def validate_question(question: str, max_chars: int) -> str:
    """The question without surrounding blanks, or BadQuestion saying what to change."""
    question = (question or "").strip()
    if not question:
        raise BadQuestion("Please type a question.")
    if len(question) > max_chars:
        raise BadQuestion(
            f"The question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Please ask something shorter."
        )
    return question


class ChatService:
    """Answers questions from the store with the chat model; every caller goes through here."""

    def __init__(self, settings: "Settings", retriever: Retriever, embeddings: "Embeddings", llm: "BaseChatModel",
                 llm_description: str = "the chat model", claim_judge: Optional[ClaimJudge] = None,
                 answer_scorer=None, evidence_scorer=None, claim_judge_across=None):
        self._settings = settings
        self.checker = AnswerChecker(settings, embeddings, claim_judge, claim_judge_across, llm_description)
        self._answer_scorer = answer_scorer  # the checker's (question, passages) -> probabilities, or None
        self._evidence_scorer = evidence_scorer  # the checker choosing the sentences the model reads, or None
        self._retriever = retriever
        self._embeddings = embeddings
        self._llm = llm
        self._llm_description = llm_description
        self._prompt = ChatPromptTemplate.from_messages([("system", load_prompt("system")),
                                                         ("human", load_prompt("question"))])

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer:
        """Answer in one piece (the streaming form is ``stream``)."""
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                return event
        raise RuntimeError("stream ended without an answer")  # unreachable: stream always ends with one

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[ChatEvent]:
        """The answer pipeline, top to bottom: search (a follow-up rewritten only when it cannot stand alone),
        the passages to read, their evidence sentences, the gates, the draft, the check.

        Yields Stage, Retrieved (before any writing), the draft's Token pieces, Checking, then the verified
        Answer. ``history`` is earlier (question, answer) pairs. Clients that cannot replace streamed text
        wrap this in ``app.verify.verified_stream`` (the adapters choose)."""
        question = Question.of(self._validate(question), history)
        question, retrieved = yield from self._search(question)
        passages = self._answer_passages(question, retrieved)
        texts, spans = self._prompt_texts(question, passages)
        yield Retrieved(passages, question.text, spans, question.language)
        best = max((p.score for p in passages), default=0.0)
        if best < self._settings.min_relevance:
            log.info("refused before generation: best similarity %.3f", best)
            yield refusal(question.text, question.language, passages)
            return
        score = self._gate(question, passages)
        if score is not None and score < self._settings.min_answer_probability:
            log.info("refused before generation: answerability %.2f", score)
            yield refusal(question.text, question.language, passages, score)
            return
        draft = yield from self._generate(self._messages(question, passages, texts))
        yield Checking(draft, score)
        answer = self._verify(question, draft, passages)
        answer.answerability = score
        yield answer

    def _search(self, question: Question) -> Generator[Stage, None, tuple[Question, list[Passage]]]:
        """The question to answer and its passages; a follow-up is rewritten only when it cannot stand alone
        (a back-reference, or no passage the checker thinks answers it)."""
        if question.history and self._answer_scorer is not None and stands_alone(question.text):
            retrieved = self.retrieve(question)  # any language: a rewrite costs seconds, and a high
            # probability across languages is still a confident one
            if self._best_answer_score(question, retrieved) >= self._settings.min_answer_probability:
                return question, retrieved
        if question.history:
            yield Stage("rewriting")
            question = question.rewritten(self._standalone(question))
            yield Stage("searching")
        return question, self.retrieve(question)

    def _answer_passages(self, question: Question, retrieved: list[Passage]) -> list[Passage]:
        """What the model reads: reranked passages the checker gives a chance (the best always), else those
        whose similarity is close to the best one's."""
        if self._checker_reads(question, retrieved) and all(p.answer_score is not None for p in retrieved):
            kept = [p for p in retrieved if p.answer_score >= self._settings.min_passage_probability]
            return kept or retrieved[:1]
        return close_to_best(retrieved, self._settings.relevance_margin)

    @staticmethod
    def _checker_reads(question: Question, passages: list[Passage]) -> bool:
        """The checker's qa head learnt Indonesian questions over Indonesian passages: across languages its
        probabilities run low for answerable questions too (English ones about the sample article), so there
        it neither filters passages nor refuses."""
        return any(p.language == question.search_language for p in passages)

    def _best_answer_score(self, question: Question, passages: list[Passage]) -> float:
        """The checker's highest probability that a passage states the answer (scored now if not reranked)."""
        missing = [p for p in passages if p.answer_score is None]
        for passage, probability in zip(missing, self._answer_scorer(question.text, missing) if missing else []):
            passage.answer_score = probability
        return max((p.answer_score for p in passages), default=0.0)

    def _gate(self, question: Question, passages: list[Passage]) -> Optional[float]:
        """The checker's probability that a passage states the answer; None when no gate applies (turned off,
        or across languages, see ``_checker_reads``). A rewritten follow-up is also read after the previous
        question (``Question.in_context``), and the better reading counts."""
        if self._answer_scorer is None or not self._checker_reads(question, passages):
            return None
        score = self._best_answer_score(question, passages)
        if question.in_context and score < self._settings.min_answer_probability and passages:
            score = max(score, *self._answer_scorer(question.in_context, passages))
        return score

    def _standalone(self, question: Question) -> str:
        try:
            rewritten = standalone_question(self._llm, question.text, question.history, question.language)
        except Exception as err:  # openai/httpx raise many connection error types
            raise ModelUnavailable(f"{self._llm_description} did not answer: {err}") from err
        log.info("follow-up %r searched as %r", question.text, rewritten)
        return rewritten

    def retrieve(self, question: str | Question) -> list[Passage]:
        return self._retriever.retrieve(question)

    def _validate(self, question: str) -> str:
        return validate_question(question, self._settings.max_question_chars)

    def _messages(self, question: Question, passages: list[Passage], texts: list[str]):
        first, continued = load_prompt("passage"), load_prompt("passage_continued")
        blocks, shown_titles = [], set()
        for number, (passage, text) in enumerate(zip(passages, texts), start=1):
            if not text:  # no sentence chosen: left out; the others keep their numbers
                continue
            title = safe_title(passage.title) or "(untitled)"  # stored before the headline filter: checked again
            # each article's title once: a repeat would cost ~15 prompt tokens
            template = continued if title in shown_titles else first
            blocks.append(template.format(number=number, title=title, text=text).strip())
            shown_titles.add(title)
        return self._prompt.format_messages(
            passages="\n\n".join(blocks), question=question.text,
            language=LANGUAGE_NAMES.get(question.language, "the question's language"),
        )

    def _prompt_texts(self, question: Question, passages: list[Passage]) -> tuple[list[str], dict[int, list[str]]]:
        """What the model reads of each passage (the sentences nearest the question, see app/context.py), and
        each passage's best sentence by number, for the sources panel before the model writes."""
        budget = self._settings.context_chars
        sentences = [p.sentences for p in passages]
        if budget <= 0 or not passages:
            return [without_orders(p.text, group) for p, group in zip(passages, sentences)], {}
        if self._evidence_scorer is not None:
            scores = self._evidence_scorer.sentence_scores(question.text, sentences)
        else:
            scores = similarity_scores(question.embedded(self._embeddings), self.checker.sentence_vectors(passages))
        chosen = select_by_scores(scores, sentences, budget, skip=[p.title for p in passages if p.title])
        spans = {number: [group[max(rows, key=lambda r: row_scores[r])]]
                 for number, (group, rows, row_scores) in enumerate(zip(sentences, chosen, scores), start=1) if rows}
        return [excerpt(group, rows) for group, rows in zip(sentences, chosen)], spans

    def _generate(self, messages) -> Generator[Token, None, str]:
        """Stream the model's tokens, holding back a leading refusal marker; returns the full text."""
        pieces: list[str] = []
        held = ""
        finish = None
        try:
            for chunk in self._llm.stream(messages):
                finish = chunk.response_metadata.get("finish_reason") or finish
                piece = chunk.content if isinstance(chunk.content, str) else ""
                pieces.append(piece)
                if held is None:
                    yield Token(piece)
                    continue
                held += piece
                if not REFUSAL_MARKER.startswith(held.strip()[: len(REFUSAL_MARKER)]):
                    yield Token(held)
                    held = None
        except Exception as err:  # openai/httpx raise many connection error types
            raise ModelUnavailable(f"{self._llm_description} did not answer: {err}") from err
        raw = "".join(pieces)
        return drop_unfinished_sentence(raw) if finish == "length" else raw

    def _verify(self, question: Question, draft: str, passages: list[Passage]) -> Answer:
        """Keep only sentences their cited passages support; nothing left means a refusal."""
        if REFUSAL_MARKER in draft or not draft.strip():
            return refusal(question.text, question.language, passages)
        checked = self.checker.check(draft, passages, question.text, question.language)
        for c in checked:
            log.info("support %.3f, claim %s, %s: %s", c.similarity, c.claim_log_odds,
                     "kept" if c.supported else "dropped", c.text)
        return answer_from(question.text, question.language, checked, passages)
