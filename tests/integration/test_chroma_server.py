"""KABAR_CHROMA_HOST/PORT switch the same code from Chroma on disk to a real `chroma run` server.

`.ci/run` starts the server on loopback (KABAR_TEST_CHROMA_PORT); alone, the fixture starts one.
Each test uses its own collection, so tests and front ends sharing the server stay apart.
"""
from __future__ import annotations

import uuid

import pytest

from app.api import Assistant
from app.chat import ChatService
from core.errors import StoreUnavailable
from tests.conftest import SAMPLES, free_port, real_settings

pytestmark = pytest.mark.integration
RICE = ("Ekonomi\nHarga Beras di Pasar Cipinang Turun\n\nHarga beras medium di Pasar Induk Beras Cipinang turun "
        "menjadi Rp 11.200 per kilogram pada pekan ini karena panen raya di Jawa Tengah.\n")


def server_assistant(chroma_server, data_dir, collection, **overrides):
    return Assistant(real_settings(data_dir, chroma_host="127.0.0.1", chroma_port=chroma_server,
                                   chroma_collection=collection, **overrides))


@pytest.fixture
def collection() -> str:
    return "test_" + uuid.uuid4().hex[:12]


def test_ingest_update_list_and_delete_through_a_chroma_server(chroma_server, tmp_path, collection):
    kb = server_assistant(chroma_server, tmp_path / "data", collection)
    assert len(kb.ingest([SAMPLES]).added) == 1
    assert len(kb.ingest([SAMPLES]).unchanged) == 1
    article = tmp_path / "beras.txt"
    article.write_text(RICE, encoding="utf-8")
    assert kb.ingest([article]).added
    article.write_text(RICE.replace("11.200", "10.900"), encoding="utf-8")
    assert kb.ingest([article]).updated
    found = kb.retriever.retrieve("harga beras medium Cipinang")
    assert "10.900" in found[0].text and all("11.200" not in p.text for p in found)
    assert kb.remove(str(article))
    assert [d.title for d in kb.documents()] == ["Uni Eropa dan Jepang Jajaki Kolaborasi Strategis AI dan Semikonduktor"]
    assert not (tmp_path / "data" / "chroma").exists(), "nothing may be written to the local store"


def test_a_second_front_end_shares_the_archive_and_builds_its_keyword_index(chroma_server, tmp_path, collection):
    writer = server_assistant(chroma_server, tmp_path / "one", collection)
    writer.ingest([SAMPLES])
    reader = server_assistant(chroma_server, tmp_path / "two", collection, retrieval_mode="keyword")
    found = reader.retriever.retrieve("Thierry Breton")  # keyword only: from the index built at start-up
    assert found and "Breton" in found[0].text
    assert [d.doc_id for d in reader.documents()] == [d.doc_id for d in writer.documents()]


def test_cited_answer_from_a_chroma_server(chroma_server, tmp_path, collection, assistant):
    """The real model (shared with the session) answering from passages the server returned."""
    kb = server_assistant(chroma_server, tmp_path / "data", collection)
    kb.ingest([SAMPLES])
    chat = ChatService(kb.settings, kb.retriever, kb.embeddings, assistant.chat_service._llm)
    answer = chat.ask("Why is the EU partnering with Japan?")
    assert not answer.refused and answer.sources, answer
    assert all(f"[{s.number}]" in answer.text for s in answer.sources)
    assert chat.ask("Who won the 2022 FIFA World Cup?").refused


def test_unreachable_chroma_server_names_what_is_down(tmp_path):
    kb = Assistant(real_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=free_port()))
    with pytest.raises(StoreUnavailable, match=r"Chroma server at 127\.0\.0\.1"):
        kb.documents()
