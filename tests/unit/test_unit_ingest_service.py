"""IngestService with the fake embedder and a real on-disk Chroma under tmp_path."""
from __future__ import annotations

import pytest

from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import Article, load_path
from vectorstore.store import open_store

ALPHA = "Alfa\n\n" + ("Jepang dan Uni Eropa memperkuat kerja sama semikonduktor. " * 6).strip()
BETA = "Beta\n\n" + ("Tim nasional sepak bola Indonesia menang di Jakarta tadi malam. " * 6).strip()
GAMMA = ("Harga beras di pasar tradisional naik menjelang hari raya. " * 6).strip()


def all_chunks(store) -> dict:
    return store._chunks.get(include=["documents", "metadatas"])


def search_all(store, embeddings, text: str):
    return store.search(embeddings.embed_query(text), k=max(1, store.count()))


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "artikel"
    folder.mkdir()
    for name, text in (("alfa.txt", ALPHA), ("beta.txt", BETA), ("gamma.md", "# Gamma\n\n" + GAMMA)):
        (folder / name).write_text(text, "utf-8")
    return folder


def test_first_ingest_adds_everything(ingest_service, chunk_store, corpus, unit_settings):
    report = ingest_service.ingest([corpus])
    assert sorted(report.added) == ["Alfa", "Beta", "Gamma"]
    assert report.failed == [] and report.updated == [] and report.unchanged == []
    splitter = make_splitter(unit_settings.chunk_size, unit_settings.chunk_overlap)
    expected = sum(len(chunk_article(a, splitter)[0])
                   for p in sorted(corpus.iterdir()) for a in load_path(p, 10**7))
    assert report.chunks_written == expected == chunk_store.count()
    assert [d.title for d in ingest_service.documents()] == ["Alfa", "Beta", "Gamma"]
    assert (unit_settings.data_dir / "chroma").is_dir()


def test_reingest_unchanged_writes_nothing(ingest_service, chunk_store, corpus, fake_embeddings):
    ingest_service.ingest([corpus])
    count, calls = chunk_store.count(), len(fake_embeddings.calls)
    report = ingest_service.ingest([corpus])
    assert sorted(report.unchanged) == ["Alfa", "Beta", "Gamma"]
    assert report.added == [] and report.updated == [] and report.chunks_written == 0
    assert chunk_store.count() == count
    assert len(fake_embeddings.calls) == calls  # nothing was embedded again


def test_state_survives_reopening_the_store(ingest_service, corpus, unit_settings, fake_embeddings):
    from ingest.service import IngestService

    ingest_service.ingest([corpus])
    reopened = IngestService(unit_settings, open_store(unit_settings), fake_embeddings)
    assert len(reopened.ingest([corpus]).unchanged) == 3


def test_edit_replaces_old_chunks(ingest_service, chunk_store, corpus, fake_embeddings):
    ingest_service.ingest([corpus])
    before = {d.doc_id: d.version for d in ingest_service.documents()}
    new_text = "Alfa\n\n" + ("Pabrik chip baru dibangun di Kumamoto tahun ini. " * 4).strip()
    (corpus / "alfa.txt").write_text(new_text, "utf-8")
    report = ingest_service.ingest([corpus])
    assert report.updated == ["Alfa"] and sorted(report.unchanged) == ["Beta", "Gamma"]
    alfa = next(d for d in ingest_service.documents() if d.title == "Alfa")
    assert alfa.version != before[alfa.doc_id]
    chunks = all_chunks(chunk_store)
    alfa_chunks = [(t, m) for t, m in zip(chunks["documents"], chunks["metadatas"]) if m["doc_id"] == alfa.doc_id]
    assert len(alfa_chunks) == alfa.chunks == report.chunks_written
    assert all(m["version"] == alfa.version for _, m in alfa_chunks)
    assert all("semikonduktor" not in t for t, _ in alfa_chunks)
    hits = search_all(chunk_store, fake_embeddings, "Jepang dan Uni Eropa memperkuat kerja sama semikonduktor.")
    assert hits and not any("semikonduktor" in p.text for p in hits)
    assert any("Kumamoto" in p.text for p in hits)


def test_remove_by_path(ingest_service, chunk_store, corpus, fake_embeddings):
    ingest_service.ingest([corpus])
    assert ingest_service.remove(str(corpus / "beta.txt")) is True
    assert [d.title for d in ingest_service.documents()] == ["Alfa", "Gamma"]
    hits = search_all(chunk_store, fake_embeddings, "Tim nasional sepak bola Indonesia menang di Jakarta")
    assert hits and not any("sepak bola" in p.text for p in hits)
    assert not any("sepak bola" in t for t in all_chunks(chunk_store)["documents"])
    assert ingest_service.remove(str(corpus / "beta.txt")) is False
    assert ingest_service.remove("Gamma") is False  # never by title: titles repeat
    assert [d.title for d in ingest_service.documents()] == ["Alfa", "Gamma"]


def test_bad_files_beside_a_good_one(ingest_service, chunk_store, tmp_path):
    folder = tmp_path / "campur"
    folder.mkdir()
    (folder / "baik.txt").write_text(ALPHA, "utf-8")
    (folder / "kosong.txt").write_bytes(b"")
    (folder / "biner.txt").write_bytes(b"\x00\x01\x02" * 50)
    (folder / "latin.txt").write_bytes("Berita café à la Jakarta".encode("latin-1"))
    (folder / "gambar.png").write_bytes(b"\x89PNG")  # unsupported: skipped by folder expansion
    (folder / ".tersembunyi.txt").write_text(BETA, "utf-8")  # hidden: skipped
    report = ingest_service.ingest([folder, tmp_path / "tidak-ada.txt"])
    assert report.added == ["Alfa"]
    failed = dict(report.failed)
    assert set(failed) == {"kosong.txt", "biner.txt", "latin.txt", str(tmp_path / "tidak-ada.txt")}
    assert "empty" in failed["kosong.txt"]
    assert "binary" in failed["biner.txt"]
    assert "UTF-8" in failed["latin.txt"]
    assert [d.title for d in ingest_service.documents()] == ["Alfa"]
    assert chunk_store.count() == report.chunks_written > 0


def test_ingest_articles_from_code(ingest_service):
    articles = [Article("d1", "Satu dua tiga. " * 5, "kode#1", title="Satu"),
                Article("d2", "   ", "kode#2", title="Kosong")]
    report = ingest_service.ingest_articles(articles)
    assert report.added == ["Satu"]
    assert len(report.failed) == 1 and report.failed[0][0] == "kode#2"
    assert ingest_service.ingest_articles(articles[:1]).unchanged == ["Satu"]


def test_repair_removes_chunks_of_an_interrupted_write(ingest_service, chunk_store, corpus, fake_embeddings):
    ingest_service.ingest([corpus])
    alfa = next(d for d in ingest_service.documents() if d.title == "Alfa")
    count = chunk_store.count()
    orphan_text = "Versi setengah jadi tentang kuantum komputasi Osaka."
    vector = fake_embeddings.embed_query(orphan_text)

    def crash():
        # what a crash between the chunk upsert and the registry commit leaves behind
        chunk_store._chunks.upsert(
            ids=["orphan-0", "orphan-1"], documents=[orphan_text, orphan_text + " Dua."],
            embeddings=[vector, vector],
            metadatas=[{"doc_id": alfa.doc_id, "version": "x", "chunk_index": i, "title": "Alfa"} for i in (0, 1)],
        )
        # and a chunk of a document whose registry entry was already deleted
        chunk_store._chunks.upsert(ids=["ghost"], documents=[orphan_text], embeddings=[vector],
                                   metadatas=[{"doc_id": "gone", "version": "v1", "chunk_index": 0}])
        assert chunk_store.count() == count + 3

    crash()
    assert chunk_store.repair() == 3
    assert chunk_store.count() == count
    assert chunk_store.repair() == 0
    crash()
    hits = chunk_store.search(vector, k=chunk_store.count())
    assert hits and not any(p.chunk_id in {"orphan-0", "orphan-1", "ghost"} for p in hits)
    assert chunk_store.document(alfa.doc_id).version == alfa.version  # registry untouched
    assert chunk_store.count() == count, "the search deleted the leftovers it stepped over"
    assert len(chunk_store.search(vector, k=count)) == count  # every live chunk is still there


def test_ingest_repairs_before_writing(ingest_service, chunk_store, corpus, fake_embeddings):
    ingest_service.ingest([corpus])
    count = chunk_store.count()
    chunk_store._chunks.upsert(ids=["orphan"], documents=["sisa"], embeddings=[fake_embeddings.embed_query("sisa")],
                               metadatas=[{"doc_id": "nobody", "version": "x", "chunk_index": 0}])
    report = ingest_service.ingest([corpus])
    assert len(report.unchanged) == 3
    assert chunk_store.count() == count


def test_an_empty_store_finds_nothing_rather_than_failing(chunk_store, fake_embeddings):
    assert chunk_store.search(fake_embeddings.embed_query("Berapa harga beras?"), 4) == []
