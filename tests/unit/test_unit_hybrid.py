"""Keyword index kept in step with Chroma, and the fusion of keyword, dense and headline evidence."""
from __future__ import annotations

import numpy as np
import pytest

from ingest.loaders import Article
from tests.unit.conftest import FakeEmbeddings
from vectorstore.analysis import question_language, terms, text_language
from vectorstore.retriever import HeadlineVectors, Retriever, reciprocal_rank_fusion, score_fusion, zscores
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


def _postings(keyword) -> set:
    """(chunk_id, doc_id, version) of every live Tantivy document, read past the ledger."""
    import tantivy

    searcher = keyword._index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), 10_000, count=False).hits
    docs = [searcher.doc(address) for _, address in hits]
    return {(d["chunk_id"][0], d["doc_id"][0], d["version"][0]) for d in docs}


def test_keyword_index_heals_a_crash_between_tantivy_and_its_ledger(ingest_service, chunk_store, unit_settings):
    import tantivy

    ingest_service.ingest_articles([RICE, CHIPS])
    ledger = set(chunk_store.keyword._db.execute("SELECT chunk_id, doc_id, version FROM chunks").fetchall())
    assert _postings(chunk_store.keyword) == ledger and {row[1] for row in ledger} == {"rice", "chips"}
    # Tantivy committed a document the registry never named, then the process died before the ledger.
    orphan = tantivy.Document(chunk_id="ghost-0", doc_id="ghost", version="1", terms="zamrudkatulistiwa")
    with chunk_store.keyword._writing() as writer:
        writer.add_document(orphan)
        writer.commit()
    chunk_store.keyword.close()
    reopened = open_store(unit_settings)
    assert reopened.keyword.search("zamrudkatulistiwa", 5) == []
    assert reopened.keyword.versions() == {"rice": RICE.version, "chips": CHIPS.version}
    assert _postings(reopened.keyword) == ledger


def test_a_write_after_a_lost_ledger_update_still_forces_the_rebuild(ingest_service, chunk_store, unit_settings):
    ingest_service.ingest_articles([RICE])
    keyword = chunk_store.keyword
    keyword._db.execute("UPDATE stamp SET opstamp = opstamp - 1")  # a ledger write that never landed
    ingest_service.ingest_articles([CHIPS])  # a later, complete write must not make the stamps agree again
    assert keyword._db.execute("SELECT opstamp FROM stamp").fetchone() == (-1,)
    keyword.close()
    reopened = open_store(unit_settings)
    assert reopened.keyword.versions() == {"rice": RICE.version, "chips": CHIPS.version}
    assert _postings(reopened.keyword) == set(
        reopened.keyword._db.execute("SELECT chunk_id, doc_id, version FROM chunks").fetchall())


def test_keyword_index_replaces_an_fts5_file_from_earlier_versions(unit_settings, ingest_service, chunk_store):
    import sqlite3

    ingest_service.ingest_articles([RICE])
    chunk_store.keyword.close()
    path = unit_settings.data_dir / f"{unit_settings.chroma_collection}.keyword.sqlite"
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE VIRTUAL TABLE chunks USING fts5(chunk_id UNINDEXED, doc_id UNINDEXED, "
                   "version UNINDEXED, terms, tokenize = 'unicode61')")
        db.execute("INSERT INTO chunks VALUES ('old-0', 'old', '1', 'beras')")
    reopened = open_store(unit_settings)
    assert reopened.keyword.versions() == {"rice": RICE.version}
    assert [row[1] for row in reopened.keyword.search("harga beras", 5)] == ["rice"]


def test_hybrid_finds_an_exact_term_and_reports_cosine_scores(unit_settings, ingest_service, chunk_store,
                                                              fake_embeddings):
    ingest_service.ingest_articles([RICE, CHIPS])
    for mode in ("keyword", "hybrid"):
        settings = unit_settings.with_changes(retrieval_mode=mode, top_k=2)
        passages = Retriever(settings, chunk_store, fake_embeddings).retrieve("Cipinang")
        assert passages[0].doc_id == "rice"
        assert all(-1.0 <= p.score <= 1.0 and p.vector is not None for p in passages)


def test_zscores_are_centred_and_flat_input_gives_no_evidence():
    z = zscores([1.0, 2.0, 3.0])
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0) and z[2] > z[1] > z[0]
    assert zscores([0.5, 0.5, 0.5]).tolist() == [0.0, 0.0, 0.0]
    assert zscores([]).size == 0


def test_score_fusion_weighs_the_two_kinds_of_evidence():
    ids, dense, bm25 = ["a", "b", "c"], [0.90, 0.85, 0.80], [0.0, 9.0, 1.0]
    assert [i for i, _ in score_fusion(ids, dense, bm25, (1.0, 0.0))] == ["a", "b", "c"]
    assert [i for i, _ in score_fusion(ids, dense, bm25, (0.0, 1.0))][0] == "b"
    assert [i for i, _ in score_fusion(ids, dense, bm25, (0.5, 0.5))][0] == "b"  # strong BM25, close cosine
    assert [i for i, _ in score_fusion(ids, dense, [0.0] * 3, (0.7, 0.3))] == ["a", "b", "c"]  # no hits: dense order
    assert [i for i, _ in score_fusion(["x", "y"], [0.5, 0.5], [0.0, 0.0], (0.7, 0.3))] == ["x", "y"]  # ties keep order


def test_question_language_knows_indonesian_question_particles():
    assert question_language("Siapakah Gubernur Papua") == "id"
    assert question_language("Kapankah pemerintah menaikkan harga?") == "id"
    assert question_language("Who is the governor of Papua?") == "en"
    assert question_language("Allah") == text_language("Allah")  # short words keep their ending
    assert text_language(RICE.text) == "id"


def test_keyword_scores_follow_the_bm25_order(ingest_service, chunk_store):
    ingest_service.ingest_articles([RICE, CHIPS])
    scored = chunk_store.keyword.search_scores("harga beras Cipinang", 5)
    assert [cid for cid, _ in scored] == [row[0] for row in chunk_store.keyword.search("harga beras Cipinang", 5)]
    assert scored and all(score > 0 for _, score in scored)
    assert [s for _, s in scored] == sorted((s for _, s in scored), reverse=True)
    assert chunk_store.keyword.search_scores("yang dan", 5) == []


# Cross-lingual: an English question shares only names ("Cipinang Melayu") with Indonesian articles.
MARKET = Article("market", "Pasar Cipinang ramai dengan pembeli menjelang Lebaran, dan para pedagang menambah stok.",
                 "m.txt", title="Pasar ramai")
FLOOD = Article("flood", "Banjir merendam rumah warga di Cipinang Melayu setelah hujan deras semalam.", "f.txt",
                title="Banjir Cipinang")
QUESTION = "Flooding in Cipinang Melayu homes after heavy rain"


class Steered(FakeEmbeddings):
    """Fake embedder whose query vector for QUESTION is the market article's (dense prefers it)."""

    def embed_query(self, text: str) -> list[float]:
        return super().embed_query(MARKET.text if text == QUESTION else text)


def _retrieve(unit_settings, store, embeddings, question, **update):
    settings = unit_settings.with_changes(**{"retrieval_mode": "hybrid", "top_k": 2, **update})
    return Retriever(settings, store, embeddings).retrieve(question)


def test_keyword_hits_in_another_language_are_not_counted(unit_settings, ingest_service, chunk_store):
    ingest_service.ingest_articles([MARKET, FLOOD])
    embeddings = Steered()
    off = dict(keyword_weight=5.0, headline_match=False)
    gated = _retrieve(unit_settings, chunk_store, embeddings, QUESTION, keyword_language_match=True, **off)
    counted = _retrieve(unit_settings, chunk_store, embeddings, QUESTION, keyword_language_match=False, **off)
    assert gated[0].doc_id == "market"  # dense alone decides
    assert counted[0].doc_id == "flood"  # BM25 on the shared name outweighs it when counted
    assert all(p.score == pytest.approx(float(np.dot(p.vector, embeddings.embed_query(QUESTION)))) for p in gated)


def test_an_indonesian_question_keeps_its_keyword_evidence(unit_settings, ingest_service, chunk_store,
                                                           fake_embeddings):
    ingest_service.ingest_articles([RICE, CHIPS])
    passages = _retrieve(unit_settings, chunk_store, fake_embeddings, "Berapakah harga di Cipinang?")
    assert passages[0].doc_id == "rice"


class Headlined(Steered):
    """Also embeds QUESTION, as a passage, exactly like the flood article's headline."""

    def embed_documents(self, texts):
        return super().embed_documents([FLOOD.title if t == QUESTION else t for t in texts])


def test_headline_match_lifts_the_article_whose_headline_a_cross_lingual_question_paraphrases(
        unit_settings, ingest_service, chunk_store):
    ingest_service.ingest_articles([MARKET, FLOOD])
    embeddings = Headlined()
    for mode in ("dense", "hybrid"):
        plain = _retrieve(unit_settings, chunk_store, embeddings, QUESTION, retrieval_mode=mode, headline_match=False)
        lifted = _retrieve(unit_settings, chunk_store, embeddings, QUESTION, retrieval_mode=mode)
        assert plain[0].doc_id == "market" and lifted[0].doc_id == "flood"
        # the refusal gate still sees the chunk's own cosine, not the headline's
        assert lifted[0].score == pytest.approx(float(np.dot(lifted[0].vector, embeddings.embed_query(QUESTION))))


def test_headlines_are_left_out_when_the_question_shares_a_language_with_a_candidate(
        unit_settings, ingest_service, chunk_store):
    ingest_service.ingest_articles([MARKET, FLOOD])
    embeddings = Headlined()
    ingested_calls = len(embeddings.calls)
    _retrieve(unit_settings, chunk_store, embeddings, "Apakah banjir merendam rumah di Cipinang?")
    assert len(embeddings.calls) == ingested_calls  # no headline or question passage vectors asked for


def test_headline_vectors_are_embedded_once_and_bounded(fake_embeddings):
    cache = HeadlineVectors(fake_embeddings, size=2)
    first = cache.get(["Satu", "Dua", "Satu", ""])
    assert set(first) == {"Satu", "Dua"} and fake_embeddings.calls == [["Satu", "Dua"]]
    cache.get(["Dua", "Satu"])
    assert len(fake_embeddings.calls) == 1
    cache.get(["Tiga"])
    assert len(cache._cache) == 2 and "Tiga" in cache._cache


def test_an_embedder_without_passage_vectors_turns_headline_match_off(unit_settings, ingest_service, chunk_store):
    ingest_service.ingest_articles([MARKET, FLOOD])

    class QueriesOnly(FakeEmbeddings):
        def embed_documents(self, texts):
            raise NotImplementedError

    passages = _retrieve(unit_settings, chunk_store, QueriesOnly(), "Banjir Cipinang")
    assert passages and passages[0].doc_id == "flood"


def test_rrf_fusion_still_available(unit_settings, ingest_service, chunk_store, fake_embeddings):
    ingest_service.ingest_articles([RICE, CHIPS])
    passages = _retrieve(unit_settings, chunk_store, fake_embeddings, "Cipinang", fusion="rrf",
                         dense_weight=1.0, keyword_weight=1.0)
    assert passages[0].doc_id == "rice"


DEAL = Article("deal", "Dana pemerintah Jepang mengusulkan akuisisi JSR senilai 6,3 miliar dolar.", "d.txt", title="Akuisisi")
DEAL_QUESTION = "How much was the acquisition of JSR worth?"


class SteeredAway(FakeEmbeddings):
    """Dense prefers the market article for the English question about JSR."""

    def embed_query(self, text: str) -> list[float]:
        return super().embed_query(MARKET.text if text == DEAL_QUESTION else text)


def test_a_keyword_hit_on_an_acronym_counts_across_languages(unit_settings, ingest_service, chunk_store):
    """'JSR' is spelt alike in English and Indonesian: its BM25 hit is evidence, unlike shared ordinary words."""
    ingest_service.ingest_articles([MARKET, DEAL])
    found = _retrieve(unit_settings, chunk_store, SteeredAway(), DEAL_QUESTION, keyword_weight=5.0, headline_match=False)
    assert found[0].doc_id == "deal"
