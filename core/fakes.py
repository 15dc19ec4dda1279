"""Small deterministic stand-ins for the model parts, chosen by settings (``fake``) or passed to ``Assistant``.

They load no model and need no network, so tests, demos and the web page's development run in seconds: the
embedder hashes character trigrams, the chat model replies from a queue or copies the passage sentence that
best matches the question, and the checker scores word overlap. Imported only when one is chosen.
"""
from __future__ import annotations

import hashlib
import re
import threading
from typing import Any, Iterator, Optional, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from prompts import REFUSAL_MARKER

FAKE_DIM = 64
KEPT_PROMPTS = 100  # the fake chat model's record of what it was asked
PASSAGE_LINE = re.compile(r'^\[(\d+)\] Article ".*?": (.+)$', re.M)  # prompts/passage.txt
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def fake_vector(text: str, dim: int = FAKE_DIM) -> np.ndarray:
    """Character trigrams hashed (with a stable hash) into a signed, L2-normalised vector."""
    vec = np.zeros(dim, dtype=np.float64)
    padded = f"  {text.lower()} "
    for i in range(len(padded) - 2):
        digest = hashlib.md5(padded[i : i + 3].encode("utf-8")).digest()
        vec[digest[0] % dim] += 1.0 if digest[1] & 1 else -1.0
    norm = np.linalg.norm(vec)
    if norm == 0:
        vec[0] = 1.0
        return vec
    return vec / norm


class FakeEmbeddings(Embeddings):
    """Stands in for the multilingual embedder: same text, same vector; similar text, similar vector."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [fake_vector(t).tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return fake_vector(text).tolist()


class FakeChecker:
    """The checker's interface (core/cross_encoder.py ``Checker``) by word overlap: qa, the share of the
    question's words found in the passage; claim, 0.9 when every word of the claim is in the evidence, else 0.1."""

    def probabilities(self, task: str, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if task == "qa":
            return np.array([len(words(a) & words(b)) / max(len(words(a)), 1) for a, b in pairs])
        return np.array([0.9 if words(a) <= words(b) else 0.1 for a, b in pairs])

    def logits(self, task: str, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        p = np.clip(self.probabilities(task, pairs), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))


def grounded_reply(prompt: str) -> str:
    """What a careful model would write for Kabar's prompts (prompts/*.txt), without one: the rewritten question,
    the passage untranslated, yes/no by word overlap, or the passage sentence sharing most words with the
    question, cited; the refusal marker when there is no passage."""
    if found := re.search(r"Last question: (.*)\nRewritten question:", prompt):
        return found.group(1).strip()
    if found := re.search(r"Passage:\n(.*)\n\nTranslation in ", prompt, re.S):
        return found.group(1).strip()
    if found := re.search(r"Passage:\n(.*)\n\nClaim: (.*)\n", prompt, re.S):
        return "yes" if words(found.group(2)) <= words(found.group(1)) else "no"
    question = words(re.search(r"Question: (.*)", prompt).group(1)) if "Question: " in prompt else set()
    candidates = [(len(question & words(s)), -int(n), s.rstrip(".!? "), n)
                  for n, text in PASSAGE_LINE.findall(prompt) for s in SENTENCE_END.split(text.strip()) if s.strip()]
    if not candidates:
        return REFUSAL_MARKER
    _, _, best, number = max(candidates, key=lambda c: c[:2])
    return f"{best} [{number}]."


def _last_text(messages: Sequence[BaseMessage]) -> str:
    content = messages[-1].content if messages else ""
    return content if isinstance(content, str) else " ".join(str(part) for part in content)


class FakeChatModel(BaseChatModel):
    """A LangChain chat model that answers from ``replies`` in order, then with ``grounded_reply``; streams
    word by word. Thread-safe; ``prompts`` keeps the last message of the latest calls (what tests look at)."""

    replies: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "kabar-fake"

    def _reply(self, messages: Sequence[BaseMessage]) -> str:
        prompt = _last_text(messages)
        with self._lock:
            self.prompts.append(prompt)
            del self.prompts[:-KEPT_PROMPTS]
            if self.replies:
                return self.replies.pop(0)
        return grounded_reply(prompt)

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None, run_manager=None,
                  **kwargs: Any) -> ChatResult:
        message = AIMessage(content=self._reply(messages), response_metadata={"finish_reason": "stop"})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None, run_manager=None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        pieces = re.findall(r"\s*\S+", self._reply(messages)) or [""]
        for i, piece in enumerate(pieces):
            metadata = {"finish_reason": "stop"} if i == len(pieces) - 1 else {}
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece, response_metadata=metadata))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
