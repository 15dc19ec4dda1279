"""Wire formats of the HTTP API: OpenAI's chat completion shapes plus Kabar's documented extras."""
from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from app.chat import Answer, Source
    from app.translate import Translation
    from ingest.service import IngestReport
    from vectorstore.store import DocumentRecord, Passage

MODEL_ID = "kabar"
MODEL_CREATED = int(time.time())  # OpenAI's `created` for the model: when this server process started


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Union[str, list[ContentPart], None] = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """OpenAI's request; sampling options are accepted and ignored (answers are deterministic)."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: Optional[StreamOptions] = None

    def wants_stream_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    def prompt_text(self) -> str:
        """Every message's text, as counted for ``usage.prompt_tokens``."""
        return "\n".join(m.text() for m in self.messages)

    def question_and_history(self) -> tuple[str, list[tuple[str, str]]]:
        """The last user message is the question; earlier user/assistant turns are the history."""
        turns = [m for m in self.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise ValueError("The last message must come from the user.")
        history, pending = [], None
        for message in turns[:-1]:
            if message.role == "user":
                pending = message.text()
            elif pending is not None:
                history.append((pending, message.text()))
                pending = None
        return turns[-1].text(), history


class TranslateRequest(BaseModel):
    """POST /v1/translate: a source passage's ``text``, or its ``chunk_id`` from an answer's ``sources``."""

    model_config = ConfigDict(extra="forbid")
    text: Optional[str] = None
    chunk_id: Optional[str] = None
    language: str = Field(description="The reader's language: 'en' or 'id'.")


def translation_json(translation: "Translation") -> dict[str, Any]:
    """``machine_translation`` is False only when the text was already in ``language`` (returned as is)."""
    return {"object": "translation", "translation": translation.text, "language": translation.language,
            "source_language": translation.source_language,
            "machine_translation": translation.machine_translation}


def passage_json(passage: "Passage", number: int) -> dict[str, Any]:
    return {"number": number, "document_id": passage.doc_id, "chunk_id": passage.chunk_id, "title": passage.title,
            "outlet": passage.outlet, "date": passage.date, "url": passage.url, "source": passage.source,
            "text": passage.text, "score": round(passage.score, 4)}


def source_json(source: "Source") -> dict[str, Any]:
    return {**passage_json(source.passage, source.number), "evidence": source.evidence}


def answer_extras(answer: "Answer") -> dict[str, Any]:
    """Kabar's extra fields: the cited passages, whether it refused, the answer's language."""
    return {"sources": [source_json(s) for s in answer.sources], "refused": answer.refused,
            "language": answer.language}


def completion(answer: "Answer", usage: Optional[dict] = None) -> dict[str, Any]:
    return {"id": new_id(), "object": "chat.completion", "created": int(time.time()), "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": "stop"}],
            "usage": usage, **answer_extras(answer)}


def chunk(completion_id: str, delta: dict, finish_reason: Optional[str] = None, **extras) -> dict[str, Any]:
    return {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": MODEL_ID, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extras}


def usage_chunk(completion_id: str, usage: dict) -> dict[str, Any]:
    """OpenAI's last chunk under ``stream_options.include_usage``: no choices, the whole request's usage."""
    return {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": MODEL_ID, "choices": [], "usage": usage}


def model_json() -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": MODEL_CREATED, "owned_by": "kabar"}


def error_body(message: str, kind: str, code: Optional[str] = None, param: Optional[str] = None) -> dict[str, Any]:
    """OpenAI's error shape: every key present, ``param`` and ``code`` null when they do not apply."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def document_json(record: "DocumentRecord") -> dict[str, Any]:
    return {"id": record.doc_id, "title": record.title, "outlet": record.outlet, "date": record.date,
            "url": record.url, "source": record.source, "chunks": record.chunks}


def report_json(report: "IngestReport") -> dict[str, Any]:
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "failed": [{"name": name, "reason": reason} for name, reason in report.failed],
            "chunks_written": report.chunks_written}


def new_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]
