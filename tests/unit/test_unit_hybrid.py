"""Keyword index kept in step with Chroma, and the fusion of keyword and dense rankings."""
from __future__ import annotations

from ingest.loaders import Article
from vectorstore.analysis import terms
from vectorstore.retriever import Retriever, reciprocal_rank_fusion
from vectorstore.store import open_store

RICE = Article("rice", "Harga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per kilogram.", "rice.txt",
               title="Harga beras turun")
CHIPS = Article("chips", "Uni Eropa bekerja sama dengan Jepang di bidang semikonduktor dan kecerdasan buatan.",
                "chips.txt", title="UE dan Jepang")


def test_rrf_rewards_items_both_rankings_agree_on():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "x"]], [1.0, 1.0], k=60)
    order = [item for item, _ in fused]
    assert set(order[:2]) == {"b", "c"} and order.index("a") > 1
    assert dict(fused)["a"] == 1 / 61


def test_rrf_weights_shift_the_order():
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], [1.0, 3.0], k=1)
    assert fused[0][0] == "b"


def test_indonesian_affixes_meet_on_one_stem():
    assert terms("bekerja") == terms("kerja") == ["kerja"]
    assert "semikonduktor" in terms("Semikonduktor, AI dan chip.")
    assert terms("yang dan di") == []


def test_keyword_index_follows_add_update_delete(ingest_service, chunk_store):
    ingest_service.ingest_articles([RICE, CHIPS])
    assert [row[1] for row in chunk_store.keyword.search("Berapa harga beras?", 5)][:1] == ["rice"]
    updated = Article("rice", "Harga gula naik di Pasar Cipinang.", "rice.txt", title="Harga gula naik")
    ingest_service.ingest_articles([updated])
    assert chunk_store.keyword.search("beras", 5) == []
    assert chunk_store.keyword.search("gula", 5)[0][1] == "rice"
    chunk_store.delete_document("rice")
    assert chunk_store.keyword.search("gula Cipinang", 5) == []
    assert chunk_store.keyword.versions() == {"chips": CHIPS.version}


def test_keyword_index_heals_after_a_crash_between_writes(ingest_service, chunk_store, unit_settings):
    ingest_service.ingest_articles([RICE, CHIPS])
    chunk_store.keyword.delete_document("chips")  # as if the process died before the keyword write
    chunk_store.keyword.close()
    reopened = open_store(unit_settings)
    assert reopened.keyword.versions() == {"rice": RICE.version, "chips": CHIPS.version}
    assert reopened.keyword.search("semikonduktor", 3)[0][1] == "chips"


def test_hybrid_finds_an_exact_term_and_reports_cosine_scores(unit_settings, ingest_service, chunk_store,
                                                              fake_embeddings):
    ingest_service.ingest_articles([RICE, CHIPS])
    for mode in ("keyword", "hybrid"):
        settings = unit_settings.model_copy(update={"retrieval_mode": mode, "top_k": 2})
        passages = Retriever(settings, chunk_store, fake_embeddings).retrieve("Cipinang")
        assert passages[0].doc_id == "rice"
        assert all(-1.0 <= p.score <= 1.0 and p.vector is not None for p in passages)
