"""The Python API: one object that ingests and answers, building its parts only when first needed."""
from __future__ import annotations

import threading
from contextlib import suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Iterable, Iterator, Optional, Sequence

from app.chat import Answer, ChatEvent, ChatService, validate_question
from app.queueing import AnswerSlots
from core.env import configure_offline_environment
from core.errors import DocumentNotFound
from core.settings import Settings, load_settings
from ingest.service import IngestReport, IngestService
from vectorstore.interfaces import Store
from vectorstore.retriever import Retriever
from vectorstore.store import DocumentRecord, open_store

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel

    from app.translate import Translator
    from core.cross_encoder import Checker
    from core.llm import ChatBackend

GIVEN_PARTS = ("embeddings", "store", "checker", "chat_service", "translator")


class Assistant:
    """``Assistant().ask("...")``: the same services the web chat and the CLI use.

    Each part is built from the settings on first use (the factories choose by ``embedding_backend``,
    ``llm_backend``, ``store_backend``, ``checker_backend``; ``fake`` is one choice of each), unless it is
    given here: ``Assistant(settings, embeddings=..., chat_model=..., store=..., checker=...)`` uses those (any
    object with the part's interface: docs/architecture.md, "Parts"). Other keywords are settings."""

    def __init__(self, settings: Optional[Settings] = None, *, embeddings: Optional["Embeddings"] = None,
                 chat_model: Optional["BaseChatModel"] = None, store: Optional[Store] = None,
                 checker: Optional["Checker"] = None, chat_service: Optional[ChatService] = None,
                 translator: Optional["Translator"] = None, **overrides):
        configure_offline_environment()
        if settings is None:
            self.settings = load_settings(**overrides)
        else:
            self.settings = settings.with_changes(**overrides) if overrides else settings
        self._lock = threading.Lock()
        self._backend_lock = threading.Lock()
        self.answer_slots = AnswerSlots(self.settings.max_concurrent_answers)
        given = dict(zip(GIVEN_PARTS, (embeddings, store, checker, chat_service, translator)))
        self._given = {name for name, part in given.items() if part is not None}
        for name in self._given:
            setattr(self, name, given[name])  # an instance attribute stands in for the cached_property
        self._backend: Optional["ChatBackend"] = None
        if chat_model is not None:
            from core.llm import ChatBackend

            self._backend = ChatBackend(chat_model)
            self._given.add("chat_model")

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings)

    @cached_property
    def embeddings(self) -> "Embeddings":
        from core.embeddings import make_embeddings

        return make_embeddings(self.settings)

    @property
    def _chat_backend(self) -> "ChatBackend":
        """The chat model and what serves it: given, or started (or connected to) on first use."""
        with self._backend_lock:
            if self._backend is None:
                from core.llm import make_chat_backend

                self._backend = make_chat_backend(self.settings)
            return self._backend

    @property
    def chat_model(self):
        """The LangChain chat model answers are written with (loaded on first use): tools such as
        ``eval/calibrate_claims.py`` judge with the same model without reaching into the backend."""
        return self._chat_backend.model

    @property
    def chat_model_url(self) -> Optional[str]:
        """The chat model's /v1 URL once it is started (None before: asking must not start it), None for a model
        without a server (fake, or given)."""
        backend = self._backend
        return backend.base_url if backend is not None else None

    @cached_property
    def checker(self) -> Optional["Checker"]:
        """The checker ``checker_backend`` names (core/cross_encoder.py: Kabar's trained cross-encoder, or the
        fake), or None when no stage is set to use it."""
        s = self.settings
        if "checker" not in (s.rerank, s.answer_judge, s.claim_judge, s.evidence, s.claim_judge_across_languages):
            return None
        from core.cross_encoder import make_checker

        return make_checker(s, self.embeddings)

    @cached_property
    def retriever(self) -> Retriever:
        """Search without the chat model (evaluation, the sources panel, tools)."""
        from app.checker import Reranker

        reranker = Reranker(self.checker) if self.settings.rerank == "checker" else None
        return Retriever(self.settings, self.store, self.embeddings, reranker=reranker)

    @cached_property
    def ingest_service(self) -> IngestService:
        return IngestService(self.settings, self.store, self.embeddings)

    @cached_property
    def chat_service(self) -> ChatService:
        backend = self._chat_backend
        where = f"The chat model at {backend.base_url}" if backend.base_url else "The chat model"
        return ChatService(self.settings, self.retriever, self.embeddings, backend.model, llm_description=where,
                           **judges_for(self.settings, backend.model, self.checker))

    @cached_property
    def translator(self) -> "Translator":
        """Machine translation of sources with the chat model, in the answers' line (app/translate.py)."""
        from app.translate import Translator

        return Translator(self._chat_backend.model, self.answer_slots, self.settings.max_waiting_answers)

    def warm_up(self) -> None:
        """Load every model now, so the first question does not pay for it."""
        with self._lock:
            self.retriever.retrieve("warm up")
            self.chat_service  # starts (or connects to) the chat model

    def ingest(self, paths: Iterable[str | Path], progress: bool = False) -> IngestReport:
        return self.ingest_service.ingest([paths] if isinstance(paths, (str, Path)) else paths, progress=progress)

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer:
        """A verified answer; pass earlier (question, answer) pairs to ask a follow-up."""
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                return event
        raise RuntimeError("the chat service ended without an answer")

    def stream(self, question: str, history: Sequence[tuple[str, str]] = (),
               verified: bool = False) -> Iterator[ChatEvent]:
        """Events of one answer (see ChatService.stream); waits its turn when all answer slots are busy.
        ``verified``: the tokens are whole checked sentences, so what streams is exactly the final answer."""
        self.chat_service  # built (the model loaded) before a slot is taken
        with self.answer_slots.slot():
            yield from self.answer_events(question, history, verified)

    def answer_events(self, question: str, history: Sequence[tuple[str, str]] = (),
                      verified: bool = False) -> Iterator[ChatEvent]:
        """One answer's events without waiting for a slot (for adapters that manage the slots themselves)."""
        from app.verify import verified_stream

        events = self.chat_service.stream(question, history)
        return verified_stream(events, self.chat_service.checker) if verified else events

    def translate(self, text: Optional[str] = None, language: str = "en", chunk_id: Optional[str] = None):
        """A source passage (``text``, or the archive's chunk ``chunk_id``) in ``language``, machine-translated
        and cached; text already in that language comes back as is (``machine_translation`` False)."""
        from app.translate import BadTranslation, check_request

        if (text is None) == (chunk_id is None):
            raise BadTranslation("Give either the text to translate or a chunk_id, not both.")
        if chunk_id is not None:
            check_request("-", language)  # an unknown language is refused before the store is read
            passage = self.store.passages([chunk_id]).get(chunk_id)
            if passage is None:
                raise DocumentNotFound(f"No passage with chunk_id {chunk_id!r} is in the archive.")
            text = passage.text
        return self.translator.translate(text, language, key=chunk_id)

    def validate_question(self, question: str) -> str:
        """Raise BadQuestion now (empty, too long), before a caller starts streaming a reply."""
        return validate_question(question, self.settings.max_question_chars)

    def save_upload(self, name: str, content: BinaryIO) -> Path:
        """Keep an uploaded file under KABAR_DATA_DIR/uploads/<content hash>/ (size-capped): same-named files never clash."""
        from app.uploads import save_upload

        return save_upload(self.settings, name, content)

    def remove(self, document: str) -> bool:
        return self.ingest_service.remove(document)

    def documents(self) -> list[DocumentRecord]:
        return self.ingest_service.documents()

    def close(self) -> None:
        """Stop the chat model's server if this Assistant started one; the next question starts it again."""
        with self._backend_lock:
            if self._backend is None or "chat_model" in self._given:
                return
            backend, self._backend = self._backend, None
        backend.close()
        for name in ("chat_service", "translator"):  # built over the model just closed
            if name not in self._given:
                with suppress(AttributeError):  # not built yet
                    delattr(self, name)


def judges_for(settings: Settings, model, checker=None) -> dict:
    """The answerability gate, evidence scorer and claim judges the settings ask for, over the trained checker
    or (claims only) the chat model (benchmarks build the same)."""
    from app.checker import CheckerClaimJudge, Reranker
    from app.claims import ClaimJudge

    claims = {"chat": lambda: ClaimJudge(model), "off": lambda: None,
              "checker": lambda: CheckerClaimJudge(checker, settings.min_claim_probability,
                                                   settings.min_claim_probability_across_languages)}
    across = settings.claim_judge_across_languages
    return {"claim_judge": claims[settings.claim_judge](),
            "claim_judge_across": None if across == "same" else claims[across](),
            "answer_scorer": Reranker(checker) if settings.answer_judge == "checker" else None,
            "evidence_scorer": Reranker(checker) if settings.evidence == "checker" else None}
