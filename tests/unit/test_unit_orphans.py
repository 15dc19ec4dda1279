"""Leftover chunks (a crashed ingest's, or a running one's not yet committed) never crowd a live
passage out of a search's top k, and a search deletes the dead ones no live writer claims."""
from __future__ import annotations

import pytest

from tests.unit.conftest import RICE_ARTICLE

QUESTION = "Berapa harga beras medium di Pasar Cipinang pekan ini?"


@pytest.fixture
def rice_store(ingest_service, chunk_store, tmp_path):
    article = tmp_path / "beras.txt"
    article.write_text(RICE_ARTICLE, "utf-8")
    assert ingest_service.ingest([article]).added
    return chunk_store


def plant(store, vector, write: str, n: int = 40) -> list[str]:
    """n chunks nearer the question than any real one, of a write the registry does not name."""
    live = store.documents()[0]
    ids = [f"sisa-{write}-{i}" for i in range(n)]
    metadatas = [{"doc_id": live.doc_id if i % 2 else "hilang", "version": "crashed", "write": write,
                  "chunk_index": i, "title": "Sisa"} for i in range(n)]
    store._chunks.upsert(ids=ids, documents=[f"Harga beras medium di Pasar Cipinang ({i})" for i in range(n)],
                         embeddings=[vector] * n, metadatas=metadatas)
    return ids


def cipinang(passages) -> bool:
    return any("Cipinang" in p.text and p.title != "Sisa" for p in passages)


def test_dead_leftovers_nearest_the_question_do_not_push_out_the_real_passage(rice_store, fake_embeddings):
    vector = fake_embeddings.embed_query(QUESTION)
    real = rice_store.count()
    plant(rice_store, vector, "mati")  # no lease names this write: its ingest was killed
    hits = rice_store.search(vector, k=3)
    assert cipinang(hits) and all(p.title != "Sisa" for p in hits)
    assert rice_store.count() == real, "the search deletes the dead leftovers it stepped over"


def test_a_running_writers_chunks_are_stepped_over_and_kept(rice_store, fake_embeddings):
    vector = fake_embeddings.embed_query(QUESTION)
    real = rice_store.count()
    with rice_store.leases.hold() as lease:  # another ingest, still writing
        plant(rice_store, vector, lease.id)
        hits = rice_store.search(vector, k=3)
        assert cipinang(hits) and all(p.title != "Sisa" for p in hits)
        assert rice_store.count() == real + 40, "a live writer's uncommitted chunks are never deleted"


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_the_retriever_finds_the_real_passage_past_leftovers(rice_store, fake_embeddings, unit_settings, mode):
    from vectorstore.retriever import Retriever

    settings = unit_settings.with_changes(retrieval_mode=mode, fetch_k=4, top_k=2)
    with rice_store.leases.hold() as lease:
        plant(rice_store, fake_embeddings.embed_query(QUESTION), lease.id)
        assert cipinang(Retriever(settings, rice_store, fake_embeddings).retrieve(QUESTION))
