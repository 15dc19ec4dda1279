"""The one chat service: retrieve, decide if the articles can answer, stream, verify, cite."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Generator, Iterator, Optional, Sequence

import numpy as np
from langchain_core.prompts import ChatPromptTemplate

from app.answerable import AnswerabilityJudge, Verdict, unmatched_terms
from app.citations import drop_unfinished_sentence, split_sentences
from app.claims import ClaimJudge
from app.context import close_to_best, excerpt, select_by_scores, similarity_scores
from app.events import Answer, ChatEvent, Checking, Retrieved, Source, Stage, Token  # noqa: F401  (re-exported)
from app.followup import stands_alone, standalone_question
from app.injection import safe_title, without_orders
from app.verify import AnswerChecker, supporting_sentences
from core.errors import BadQuestion, ModelUnavailable
from core.language import LANGUAGE_NAMES, detect_language
from prompts import REFUSAL_MARKER, load_prompt, refusal_text
from vectorstore.analysis import question_language, text_language
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
                 llm_description: str = "the chat model", judge: Optional[AnswerabilityJudge] = None,
                 claim_judge: Optional[ClaimJudge] = None, answer_scorer=None, evidence_scorer=None,
                 claim_judge_across=None):
        self._settings = settings
        self._judge = judge
        self._checker = AnswerChecker(settings, embeddings, claim_judge, claim_judge_across, llm_description)
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

    def stream(self, question: str, history: Sequence[tuple[str, str]] = (),
               verified: bool = False) -> Iterator[ChatEvent]:
        """Yield Retrieved, then Token pieces, Checking while the draft is verified, then the verified Answer.

        ``history`` is earlier (question, answer) pairs; with it, the question is first rewritten
        to stand alone, in the user's language, and that is what is searched for and answered.
        Tokens are the model's draft unless ``verified``: then each is a whole checked sentence,
        so what was streamed is exactly the final answer (for clients that cannot replace text).
        """
        question = self._validate(question)
        language = detect_language(question)
        asked = question
        question, retrieved = yield from self._search(question, history, language)
        passages = self._answer_passages(question, retrieved)
        texts, spans = self._prompt_texts(question, passages)
        yield Retrieved(passages, question, spans)  # the best span of each passage shows before any writing
        best = max((p.score for p in passages), default=0.0)
        if best < self._settings.min_relevance:
            log.info("refused before generation: best similarity %.3f", best)
            yield self._refusal(question, language, passages)
            return
        messages = self._messages(question, language, passages, texts)
        in_context = f"{history[-1][0].strip()} {asked}" if history and question != asked else ""
        score, verdict, threshold = self._gate(question, messages, retrieved, passages, in_context)
        if score is not None and score < threshold:
            log.info("refused before generation: answerability %.2f < %.2f (%s)", score, threshold, verdict)
            yield self._refusal(question, language, passages, score, verdict)
            return
        released = None
        if verified:
            raw, released = yield from self._generate_verified(messages, passages, question, language)
        else:
            raw = yield from self._generate(messages, passages)
        yield Checking()
        answer = self._verify(question, language, raw, passages, released)
        answer.answerability, answer.verdict = score, verdict
        yield answer

    def _search(self, question: str, history, language: str) -> Generator[Stage, None, tuple[str, list[Passage]]]:
        """The question to answer and its passages; a follow-up is rewritten only when it cannot stand alone
        (a back-reference, or no passage the checker thinks answers it)."""
        if history and self._answer_scorer is not None and stands_alone(question):  # any language: a rewrite
            # costs seconds, and a high probability across languages is still a confident one
            retrieved = self.retrieve(question)
            if self._best_answer_score(question, retrieved) >= self._settings.min_answer_probability:
                return question, retrieved
        if history:
            yield Stage("rewriting")
            question = self._standalone(question, history, language)
            yield Stage("searching")
        return question, self.retrieve(question)

    def _answer_passages(self, question: str, retrieved: list[Passage]) -> list[Passage]:
        """What the model reads: reranked passages the checker gives a chance (the best always), else those
        whose similarity is close to the best one's."""
        if self._checker_reads(question, retrieved) and all(p.answer_score is not None for p in retrieved):
            kept = [p for p in retrieved if p.answer_score >= self._settings.min_passage_probability]
            return kept or retrieved[:1]
        return close_to_best(retrieved, self._settings.relevance_margin)

    @staticmethod
    def _checker_reads(question: str, passages: list[Passage]) -> bool:
        """The checker's qa head learnt Indonesian questions over Indonesian passages: across languages its
        probabilities run low for answerable questions too (English ones about the sample article), so there
        it neither filters passages nor refuses."""
        language = question_language(question)
        return any(text_language(p.text) == language for p in passages)

    def _best_answer_score(self, question: str, passages: list[Passage]) -> float:
        """The checker's highest probability that a passage states the answer (scored now if not reranked)."""
        missing = [p for p in passages if p.answer_score is None]
        for passage, probability in zip(missing, self._answer_scorer(question, missing) if missing else []):
            passage.answer_score = probability
        return max((p.answer_score for p in passages), default=0.0)

    def _gate(self, question: str, messages, retrieved: list[Passage], passages: list[Passage], in_context: str = ""):
        """(score, verdict, threshold) of the answerability gate; score None when no gate applies. A rewritten
        follow-up loses words ("Berapa nilainya?" -> "Berapa nilai JSR?", the acquisition gone), so the
        checker also reads it after the previous question (``in_context``) and the better reading counts."""
        if self._answer_scorer is not None:
            if not self._checker_reads(question, passages):
                return None, None, 0.0
            score, threshold = self._best_answer_score(question, passages), self._settings.min_answer_probability
            if in_context and score < threshold and passages:
                score = max(score, *self._answer_scorer(in_context, passages))
            return score, None, threshold
        if not self._judges(question, passages):
            return None, None, 0.0
        verdict = self._verdict(question, messages, retrieved)
        return verdict.score(self._settings.unmatched_term_penalty), verdict, self._settings.min_answer_log_odds

    def answerability(self, question: str) -> Verdict:
        """The gate's inputs for a stand-alone question, as ``stream`` takes them (for calibration)."""
        question = self._validate(question)
        retrieved = self.retrieve(question)
        passages = close_to_best(retrieved, self._settings.relevance_margin)
        texts, _ = self._prompt_texts(question, passages)
        return self._verdict(question, self._messages(question, detect_language(question), passages, texts), retrieved)

    def _verdict(self, question: str, messages, retrieved: list[Passage]) -> Verdict:
        """The judge's log-odds, and the question's words missing from every retrieved passage in its
        language (all top_k, not only those answered from: measured on IDK-MRC, it separates better)."""
        language = question_language(question)
        comparable = [p.text for p in retrieved if text_language(p.text) == language]
        return Verdict(self._answerability(messages), unmatched_terms(question, comparable) if comparable else [])

    def _judges(self, question: str, passages: list[Passage]) -> bool:
        """Whether to ask the judge: its threshold is calibrated on questions in the passages' language,
        and across languages its log-odds run lower (English questions on the Indonesian sample article)."""
        if self._judge is None:  # Assistant builds none when KABAR_ANSWER_JUDGE=off
            return False
        language = question_language(question)
        return self._settings.answer_judge == "always" or any(text_language(p.text) == language for p in passages)

    def _answerability(self, messages) -> Optional[float]:
        """The judge's verdict on whether the passages state the answer (None: no judge, or no verdict)."""
        if self._judge is None:
            return None
        try:
            return self._judge.log_odds(messages)
        except Exception as err:  # openai/httpx raise many connection error types
            raise ModelUnavailable(f"{self._llm_description} did not answer: {err}") from err

    def _standalone(self, question: str, history: Sequence[tuple[str, str]], language: str) -> str:
        try:
            rewritten = standalone_question(self._llm, question, history, language)
        except Exception as err:  # openai/httpx raise many connection error types
            raise ModelUnavailable(f"{self._llm_description} did not answer: {err}") from err
        log.info("follow-up %r searched as %r", question, rewritten)
        return rewritten

    def retrieve(self, question: str) -> list[Passage]:
        return self._retriever.retrieve(question)

    def _validate(self, question: str) -> str:
        return validate_question(question, self._settings.max_question_chars)

    def _messages(self, question: str, language: str, passages: list[Passage], texts: list[str]):
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
            passages="\n\n".join(blocks), question=question,
            language=LANGUAGE_NAMES.get(language, "the question's language"),
        )

    def _prompt_texts(self, question: str, passages: list[Passage]) -> tuple[list[str], dict[int, list[str]]]:
        """What the model reads of each passage (the sentences nearest the question, see app/context.py), and
        each passage's best sentence by number, for the sources panel before the model writes."""
        budget = self._settings.context_chars
        sentences = [split_sentences(p.text) or [p.text] for p in passages]
        if budget <= 0 or not passages:
            return [without_orders(p.text, group) for p, group in zip(passages, sentences)], {}
        if self._evidence_scorer is not None:
            scores = self._evidence_scorer.sentence_scores(question, sentences)
        else:
            query = np.asarray(self._embeddings.embed_query(question), dtype=np.float32)
            scores = similarity_scores(query, self._checker.sentence_vectors(passages))
        chosen = select_by_scores(scores, sentences, budget, skip=[p.title for p in passages if p.title])
        spans = {number: [group[max(rows, key=lambda r: row_scores[r])]]
                 for number, (group, rows, row_scores) in enumerate(zip(sentences, chosen, scores), start=1) if rows}
        return [excerpt(group, rows) for group, rows in zip(sentences, chosen)], spans

    def _generate(self, messages, passages: list[Passage]) -> Iterator[Token]:
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

    def _generate_verified(self, messages, passages: list[Passage], question: str, language: str) -> Iterator[Token]:
        """Release each sentence once it is complete and supported; returns the full draft and the released
        sentences, which are the final answer (a later check of the whole draft could cite differently)."""
        draft, released, checked, embedded = "", [], 0, {}

        def embed(texts: list[str]) -> np.ndarray:
            missing = [t for t in texts if t not in embedded]
            embedded.update(zip(missing, self._checker.embed_sentences(missing)))
            return np.array([embedded[t] for t in texts], dtype=np.float32)

        tokens = self._generate(messages, passages)
        while True:
            try:
                draft += next(tokens).text
            except StopIteration as finished:
                raw, complete = finished.value, None  # the last sentence is complete too now
            else:
                raw, complete = None, _complete_sentences(draft)
                if len(complete) == checked:
                    continue
                checked = len(complete)
            if REFUSAL_MARKER not in (raw or draft) and (complete or raw):
                text = raw if raw is not None else "\n".join(complete)
                kept = [c for c in self._checker.check(text, passages, question, language, embed) if c.supported]
                for sentence in kept[len(released):]:
                    yield Token(sentence.text if not released else " " + sentence.text)
                    released.append(sentence)
            if raw is not None:
                return raw, released

    def _verify(self, question: str, language: str, raw: str, passages: list[Passage], released=None) -> Answer:
        """Keep only sentences their cited passages support; nothing left means a refusal. ``released``:
        the sentences already streamed as checked, kept as they are so the answer is what was streamed."""
        if released is None and (REFUSAL_MARKER in raw or not raw.strip()):
            return self._refusal(question, language, passages)
        checked = released if released is not None else self._checker.check(raw, passages, question, language)
        kept = [c for c in checked if c.supported]
        for c in checked:
            log.info("support %.3f, claim %s, %s: %s", c.similarity, c.claim_log_odds,
                     "kept" if c.supported else "dropped", c.text)
        numbers = sorted({n for c in kept for n in c.cited})
        sources = [Source(n, passages[n - 1], supporting_sentences(n, passages[n - 1], kept)) for n in numbers]
        answer = Answer(question, " ".join(c.text for c in kept), sources, refused=False, language=language,
                        retrieved=passages) if kept else self._refusal(question, language, passages)
        answer.claims = [(c.text, c.claim_log_odds) for c in checked if c.claim_log_odds is not None]
        return answer

    @staticmethod
    def _refusal(question: str, language: str, passages: list[Passage], answerability: Optional[float] = None,
                 verdict: Optional[Verdict] = None) -> Answer:
        return Answer(question, refusal_text(language), [], refused=True, language=language, retrieved=passages,
                      answerability=answerability, verdict=verdict)


def _complete_sentences(draft: str) -> list[str]:
    """The draft's sentences that another has followed: a citation after the full stop ("… negerinya. [3]")
    still belongs to the sentence before it, so a tail without letters keeps that sentence open."""
    pieces = split_sentences(draft)
    return pieces[:-1] if pieces and re.search(r"[^\W\d_]", pieces[-1]) else pieces[:-2]
