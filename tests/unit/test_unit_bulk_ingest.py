"""Bulk ingest: full embedding batches across articles, one store write and one registry lookup per
batch, and the same crash safety as one document at a time (fake embedder, real Chroma on disk)."""
from __future__ import annotations

import pytest

import ingest.service as service_module
from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import Article
from vectorstore.records import tag
from vectorstore.store import ChunkStore

SENTENCES = ["Harga beras naik di pasar {i}.", "Banjir melanda kawasan {i} pagi ini.",
             "Tim {i} menang di final liga.", "Bank sentral menahan suku bunga pekan {i}."]


def article(i: int, edit: str = "") -> Article:
    text = " ".join(s.format(i=i) for s in SENTENCES) * 2 + edit
    return Article(f"doc-{i:03d}", text, f"kode#{i}", title=f"Berita {i:03d}")


@pytest.fixture
def writes(monkeypatch):
    """Documents per store write, in order, whichever of the two write calls was used."""
    sizes: list[int] = []
    many = ChunkStore.write_documents

    def write_documents(self, batch):
        sizes.append(len(batch))
        return many(self, batch)

    def write_document(self, *args):
        sizes.append(1)
        return many(self, [service_module.DocumentWrite(*args)])

    monkeypatch.setattr(ChunkStore, "write_documents", write_documents)
    monkeypatch.setattr(ChunkStore, "write_document", write_document)
    return sizes


def expected_chunks(articles, settings) -> int:
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    return sum(len(chunk_article(a, splitter)[0]) for a in articles)


def assert_consistent(store, articles, settings) -> None:
    """Every registered document complete at its version; no other chunk; keyword index equal."""
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    docs = {d.doc_id: d for d in store.documents()}
    for doc_id, record in docs.items():
        ids, texts = store.chunk_texts(doc_id, record.version)
        _, expected_texts, _, _ = chunk_article(articles[doc_id], splitter)
        assert (ids, texts) == (record.chunk_ids(), expected_texts) and record.chunks == len(ids)
        assert record.version == articles[doc_id].version
    assert store.count() == sum(d.chunks for d in docs.values())
    rows = store.keyword._db.execute("SELECT chunk_id, doc_id, version FROM chunks").fetchall()
    assert set(rows) == {(i, d, tag(r.version, r.write)) for d, r in docs.items() for i in store.chunk_texts(d, r.version)[0]}


@pytest.fixture
def store(chunk_store):
    return chunk_store


def test_batches_span_articles_and_grow_from_one(ingest_service, store, fake_embeddings, writes, unit_settings,
                                                 monkeypatch):
    monkeypatch.setattr(service_module, "FULL_BATCH_CHUNKS", 40)
    articles = [article(i) for i in range(100)]
    report = ingest_service.ingest_articles(articles)
    assert len(report.added) == 100 and report.chunks_written == expected_chunks(articles, unit_settings)
    assert writes[:3] == [1, 4, 16]  # the first articles are searchable at once, then full batches
    assert sum(writes) == 100 and len(writes) == len(fake_embeddings.calls) < 10  # one embed call per write
    per_article = report.chunks_written // 100
    full = [len(c) for c in fake_embeddings.calls[3:-1]]
    assert full and all(40 <= n < 40 + per_article for n in full)
    assert_consistent(store, {a.doc_id: a for a in articles}, unit_settings)


def test_unchanged_articles_cost_one_registry_lookup_per_batch(ingest_service, store, fake_embeddings, monkeypatch):
    articles = [article(i) for i in range(300)]
    ingest_service.ingest_articles(articles)
    calls = len(fake_embeddings.calls)
    lookups: list[int] = []
    live_versions = ChunkStore.live_versions
    monkeypatch.setattr(ChunkStore, "live_versions", lambda self, ids: lookups.append(1) or live_versions(self, ids))
    monkeypatch.setattr(ChunkStore, "document", lambda *_: pytest.fail("one lookup per article"))
    report = ingest_service.ingest_articles(articles)
    assert len(report.unchanged) == 300 and not report.added and not report.updated
    assert len(lookups) == 5 and len(fake_embeddings.calls) == calls  # 1, 4, 16, 64, 215 articles; nothing embedded


def test_edits_in_one_batch_replace_old_versions(ingest_service, store, unit_settings):
    articles = [article(i) for i in range(12)]
    ingest_service.ingest_articles(articles)
    edited = [article(i, " Ditambahkan: zamrudkatulistiwa.") if i % 2 else articles[i] for i in range(12)]
    report = ingest_service.ingest_articles(edited)
    assert len(report.updated) == 6 and len(report.unchanged) == 6 and not report.added
    assert_consistent(store, {a.doc_id: a for a in edited}, unit_settings)
    hits = store.keyword.search("zamrudkatulistiwa", 50)
    assert {doc_id for _, doc_id, _ in hits} == {a.doc_id for a in edited[1::2]}


def test_same_id_twice_in_one_run_is_compared_with_the_first_copy(ingest_service, store, unit_settings):
    first, same, changed = article(1), article(1), article(1, " Ralat.")
    report = ingest_service.ingest_articles([first, article(2), same, changed])
    assert sorted(report.added) == ["Berita 001", "Berita 002"]
    assert report.unchanged == ["Berita 001"] and report.updated == ["Berita 001"]
    assert store.document(first.doc_id).version == changed.version
    assert_consistent(store, {first.doc_id: changed, article(2).doc_id: article(2)}, unit_settings)


def test_empty_article_fails_alone_inside_a_batch(ingest_service, store):
    articles = [article(1), Article("kosong", "   ", "kode#kosong", title="Kosong"), article(2)]
    report = ingest_service.ingest_articles(articles)
    assert sorted(report.added) == ["Berita 001", "Berita 002"]
    assert report.failed == [("kode#kosong", "no text left after cleaning")]


def test_crash_before_a_batch_commit_leaves_no_partial_document(ingest_service, store, monkeypatch, unit_settings):
    articles = [article(i) for i in range(20)]
    ingest_service.ingest_articles(articles[:3])
    registry_upsert = store._registry.upsert

    def dies(**kwargs):
        if len(kwargs["ids"]) > 1:  # a multi-document batch: its chunks are in, its commit never happens
            raise KeyboardInterrupt
        return registry_upsert(**kwargs)

    monkeypatch.setattr(store._registry, "upsert", dies)
    with pytest.raises(KeyboardInterrupt):
        ingest_service.ingest_articles(articles)
    monkeypatch.undo()
    survivors = {d.doc_id for d in store.documents()}
    assert 3 < len(survivors) < 20  # the one-document first batch committed, the next did not
    assert store.count() > sum(d.chunks for d in store.documents())  # the uncommitted batch's chunks
    hits = store.search([1.0] + [0.0] * 63, store.count())
    assert hits and {p.doc_id for p in hits} <= survivors  # uncommitted chunks are never found
    assert store.count() == sum(d.chunks for d in store.documents())  # and the search deleted them, as repair would
    assert store.repair() == 0
    assert_consistent(store, {a.doc_id: a for a in articles}, unit_settings)
    report = ingest_service.ingest_articles(articles)
    assert len(report.added) == 20 - len(survivors) and len(report.unchanged) == len(survivors)
    assert_consistent(store, {a.doc_id: a for a in articles}, unit_settings)


def test_keyword_index_rebuilds_in_batches_after_loss(ingest_service, store, unit_settings):
    from vectorstore.keyword import KeywordIndex

    articles = [article(i) for i in range(30)]
    ingest_service.ingest_articles(articles)
    path = unit_settings.data_dir / f"{unit_settings.chroma_collection}.keyword.sqlite"
    store.keyword.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    fresh = KeywordIndex(path)
    assert fresh.sync(store) == 30
    store.keyword = fresh
    assert_consistent(store, {a.doc_id: a for a in articles}, unit_settings)
    assert fresh.sync(store) == 0


def test_store_rejects_a_batch_naming_a_document_twice(store):
    from vectorstore.store import DocumentRecord, DocumentWrite

    record = DocumentRecord(doc_id="d", version="v", chunks=1)
    write = DocumentWrite(record, ["c"], ["teks"], [[1.0] + [0.0] * 63], [{"doc_id": "d", "version": "v"}])
    with pytest.raises(ValueError):
        store.write_documents([write, write])
    assert store.count() == 0 and store.documents() == []


def service_with_cores(cores, monkeypatch, unit_settings, store, fake_embeddings):
    """An ingest service on a machine with this many cores and a 2-thread embedder."""
    from ingest.service import IngestService

    monkeypatch.setattr(service_module.os, "cpu_count", lambda: cores)
    return IngestService(unit_settings.with_changes(embedding_threads=2), store, fake_embeddings)


@pytest.mark.parametrize("cores, writer", [(4, "kabar-ingest-writer"), (2, "MainThread")])
def test_writes_run_in_order_on_a_writer_thread_only_when_a_core_is_free(store, monkeypatch, unit_settings,
                                                                          fake_embeddings, cores, writer):
    import threading

    ingest_service = service_with_cores(cores, monkeypatch, unit_settings, store, fake_embeddings)

    seen: list[tuple[str, list[str]]] = []
    many = ChunkStore.write_documents

    def write_documents(self, batch):
        seen.append((threading.current_thread().name, [w.record.doc_id for w in batch]))
        return many(self, batch)

    monkeypatch.setattr(ChunkStore, "write_documents", write_documents)
    articles = [article(i) for i in range(30)]
    report = ingest_service.ingest_articles(articles)
    assert seen and all(name.startswith(writer) for name, _ in seen)
    assert [d for _, ids in seen for d in ids] == [a.doc_id for a in articles]  # committed in order
    assert report.added == [a.title for a in articles]
    assert_consistent(store, {a.doc_id: a for a in articles}, unit_settings)


@pytest.mark.parametrize("cores", [4, 2])
def test_a_failed_write_stops_the_ingest_and_later_batches_stay_uncommitted(store, monkeypatch, unit_settings,
                                                                             fake_embeddings, cores):
    from core.errors import StoreUnavailable

    ingest_service = service_with_cores(cores, monkeypatch, unit_settings, store, fake_embeddings)
    many, calls = ChunkStore.write_documents, []

    def fails_second(self, batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise StoreUnavailable("the Chroma store is unavailable: disk full")
        return many(self, batch)

    monkeypatch.setattr(ChunkStore, "write_documents", fails_second)
    with pytest.raises(StoreUnavailable):
        ingest_service.ingest_articles([article(i) for i in range(40)])
    assert len(calls) <= 3  # the batch embedded meanwhile is never written after the error
    assert len(store.documents()) == calls[0]
