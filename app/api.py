"""The Python API: one object that ingests and answers, building its parts only when first needed."""
from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Optional, Sequence

from app.chat import Answer, ChatEvent, ChatService, validate_question
from app.queueing import AnswerSlots
from core.env import configure_offline_environment
from core.errors import DocumentNotFound
from core.settings import Settings, load_settings
from ingest.service import IngestReport, IngestService
from vectorstore.retriever import Retriever
from vectorstore.store import ChunkStore, DocumentRecord, open_store


class Assistant:
    """``Assistant().ask("...")``: the same services the web chat and the CLI use."""

    def __init__(self, settings: Optional[Settings] = None, **overrides):
        configure_offline_environment()
        self.settings = settings or load_settings(**overrides)
        self._lock = threading.Lock()
        self.answer_slots = AnswerSlots(self.settings.max_concurrent_answers)

    @cached_property
    def store(self) -> ChunkStore:
        return open_store(self.settings)

    @cached_property
    def embeddings(self):
        from core.embeddings import make_embeddings

        return make_embeddings(self.settings)

    @cached_property
    def _chat_backend(self):
        from core.llm import make_chat_backend

        return make_chat_backend(self.settings)

    @property
    def chat_model(self):
        """The LangChain chat model answers are written with (loaded on first use): tools such as
        ``eval/calibrate_claims.py`` judge with the same model without reaching into the backend."""
        return self._chat_backend.model

    @cached_property
    def checker(self):
        """Kabar's trained cross-encoder (core/cross_encoder.py), or None when no stage is set to use it."""
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
        return ChatService(self.settings, self.retriever, self.embeddings, backend.model,
                           llm_description=f"The chat model at {backend.base_url}",
                           **judges_for(self.settings, backend.model, self.checker))

    @cached_property
    def translator(self):
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
        """Events of one answer (see ChatService.stream); waits its turn when all answer slots are busy."""
        chat = self.chat_service
        with self.answer_slots.slot():
            yield from chat.stream(question, history, verified=verified)

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
        if "_chat_backend" in self.__dict__:
            self._chat_backend.close()
            del self.__dict__["_chat_backend"]
            self.__dict__.pop("chat_service", None)


def judges_for(settings: Settings, model, checker=None) -> dict:
    """The answerability and claim judges the settings ask for, over the chat model or the trained checker
    (benchmarks build the same)."""
    from app.answerable import AnswerabilityJudge
    from app.checker import CheckerClaimJudge, Reranker
    from app.claims import ClaimJudge

    chat_judge = settings.answer_judge in ("same-language", "always")
    claims = {"chat": lambda: ClaimJudge(model), "off": lambda: None,
              "checker": lambda: CheckerClaimJudge(checker, settings.min_claim_probability,
                                                   settings.min_claim_probability_across_languages)}
    across = settings.claim_judge_across_languages
    return {"judge": AnswerabilityJudge(model) if chat_judge else None,
            "claim_judge": claims[settings.claim_judge](),
            "claim_judge_across": None if across == "same" else claims[across](),
            "answer_scorer": Reranker(checker) if settings.answer_judge == "checker" else None,
            "evidence_scorer": Reranker(checker) if settings.evidence == "checker" else None}
