"""Fixtures for fast unit tests: a deterministic fake embedder and a real Chroma store under tmp_path."""
from __future__ import annotations

from pathlib import Path

import pytest

from core import fakes
from core.fakes import FAKE_DIM, fake_vector  # noqa: F401 (tests import them from here)
from core.settings import Settings
from tests.conftest import SHARED_DATA, require_shared

RICE_ARTICLE = ("Ekonomi\nHarga Beras Turun\n\nHarga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per "
                "kilogram pada pekan ini. Panen raya di Jawa Tengah membuat pasokan melimpah.\n")
RICE_REPLY = "Harga beras medium turun menjadi Rp 11.200 per kilogram [1]."
NO_CHECKER = {"rerank": "off", "answer_judge": "off", "claim_judge": "off",
              "claim_judge_across_languages": "same"}  # the trained stages off


class FakeEmbeddings(fakes.FakeEmbeddings):
    """core/fakes.py's embedder, recording each batch it embeds (``calls``: what ingest tests count)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return super().embed_documents(texts)


@pytest.fixture(autouse=True)
def _no_kabar_environment(monkeypatch):
    """Machine-level KABAR_* variables must not leak into unit tests."""
    import os

    for name in list(os.environ):
        if name.startswith("KABAR_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_data() -> Path:
    return require_shared()  # skipped without it; a failure under CI=true


@pytest.fixture
def fake_embeddings() -> FakeEmbeddings:
    return FakeEmbeddings()


@pytest.fixture
def unit_settings(tmp_path) -> Settings:
    # the trained checker's stages are off: unit tests pass fakes for them explicitly (test_unit_checker.py)
    return Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                    chunk_size=200, chunk_overlap=40, chroma_collection="unit_chunks", **NO_CHECKER)


@pytest.fixture
def chunk_store(unit_settings):
    from vectorstore.store import open_store

    return open_store(unit_settings)


@pytest.fixture
def ingest_service(unit_settings, chunk_store, fake_embeddings):
    from ingest.service import IngestService

    return IngestService(unit_settings, chunk_store, fake_embeddings)


@pytest.fixture
def rice_assistant(tmp_path, unit_settings, fake_embeddings):
    """An Assistant over one ingested rice-price article, with ``model`` (a fake) as its chat model when given.
    The HTTP, queueing and chat tests all build this one stand-in server."""
    def build(model=None, **settings_update):
        from app.api import Assistant

        settings = unit_settings.with_changes(**{"min_relevance": 0.0, "min_support": 0.0, **settings_update})
        kb = Assistant(settings, embeddings=fake_embeddings, chat_model=model)
        article = tmp_path / "beras.txt"
        article.write_text(RICE_ARTICLE, encoding="utf-8")
        assert kb.ingest([article]).added
        return kb
    return build


@pytest.fixture
def rice_service(rice_assistant, fake_embeddings):
    """A ChatService over one ingested rice-price article whose model replies RICE_REPLY; judges as given."""
    def build(claim_judge=None, answer_scorer=None, **settings_update):
        from langchain_core.language_models.fake_chat_models import FakeListChatModel

        from app.chat import ChatService

        kb = rice_assistant(**settings_update)
        return ChatService(kb.settings, kb.retriever, fake_embeddings, FakeListChatModel(responses=[RICE_REPLY]),
                           claim_judge=claim_judge, answer_scorer=answer_scorer)
    return build
