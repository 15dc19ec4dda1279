"""Several writers on one store (fake embedder, real Chroma): a writer paused between writing its
chunks and committing them loses nothing to another ingest's repair, to another writer of the same
document or to a removal, and dead or expired writers' leases stop protecting their leftovers."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import Article
from vectorstore.consistency import check_store
from vectorstore.leases import EXPIRY, this_machine
from vectorstore.records import chunk_id

SENTENCES = ["Harga cabai naik di pasar {i}.", "Hujan deras melanda kota {i} semalam.",
             "Kereta cepat {i} mulai beroperasi.", "Petani {i} memanen padi lebih awal."]


def article(i: int, edit: str = "") -> Article:
    return Article(f"doc-{i}", " ".join(s.format(i=i) for s in SENTENCES) * 2 + edit, f"kode#{i}", title=f"Berita {i}")


def assert_whole(store, articles: dict, settings) -> None:
    """Every listed document holds exactly its version's chunks; nothing else; keyword index equal."""
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    for record in store.documents():
        expected = chunk_article(articles[record.version], splitter)[1]
        assert store.chunk_texts(record.doc_id, record.version) == (record.chunk_ids(), expected)
    result = check_store(store)
    assert result.ok and not result.pending, result


class Paused:
    """Stops the registry commit of one version until ``go`` is set (a writer between chunks and commit)."""

    def __init__(self, store, monkeypatch, version: str):
        self.reached, self.go = threading.Event(), threading.Event()
        upsert = store._registry.upsert

        def held(**kwargs):
            if any(m.get("version") == version for m in kwargs["metadatas"]):
                self.reached.set()
                assert self.go.wait(30)
            return upsert(**kwargs)

        monkeypatch.setattr(store._registry, "upsert", held)

    def run(self, target) -> threading.Thread:
        errors: list[BaseException] = []
        thread = threading.Thread(target=lambda: _record(errors, target))
        thread.errors = errors
        thread.start()
        assert self.reached.wait(30), errors
        return thread

    def finish(self, thread: threading.Thread) -> None:
        self.go.set()
        thread.join(30)
        assert not thread.is_alive() and not thread.errors, thread.errors


def _record(errors: list, target) -> None:
    try:
        target()
    except BaseException as err:  # handed to the test thread
        errors.append(err)


def test_another_ingests_repair_spares_a_write_not_yet_committed(ingest_service, chunk_store, monkeypatch,
                                                                  unit_settings, tmp_path):
    big, small = article(1), tmp_path / "kecil.txt"
    small.write_text("Kecil\n\nSatu kalimat tentang cuaca hari ini.", "utf-8")
    paused = Paused(chunk_store, monkeypatch, big.version)
    writer = paused.run(lambda: ingest_service.ingest_articles([big]))
    for _ in range(3):  # the reported loop: small ingests, each starting with a repair
        assert ingest_service.ingest([small]).failed == []
        small.write_text(small.read_text("utf-8") + " Lagi.", "utf-8")
    assert chunk_store.repair() == 0
    paused.finish(writer)
    assert chunk_store.document(big.doc_id).chunks == len(chunk_store.chunk_texts(big.doc_id, big.version)[0]) > 1
    assert check_store(chunk_store).ok


def test_two_writers_of_one_document_never_delete_each_others_chunks(ingest_service, chunk_store, monkeypatch,
                                                                     unit_settings):
    first, second = article(1), article(1, " Ralat: pasar tutup.")
    paused = Paused(chunk_store, monkeypatch, first.version)
    writer = paused.run(lambda: ingest_service.ingest_articles([first]))
    assert ingest_service.ingest_articles([second]).added == ["Berita 1"]  # commits and cleans meanwhile
    paused.finish(writer)  # then the first commits last: its version wins, whole
    assert chunk_store.document(first.doc_id).version == first.version
    assert_whole(chunk_store, {first.version: first, second.version: second}, unit_settings)


def test_a_removal_during_a_write_leaves_the_write_whole(ingest_service, chunk_store, monkeypatch, unit_settings):
    old, new = article(2), article(2, " Tambahan.")
    ingest_service.ingest_articles([old])
    paused = Paused(chunk_store, monkeypatch, new.version)
    writer = paused.run(lambda: ingest_service.ingest_articles([new]))
    assert chunk_store.delete_document(old.doc_id)
    paused.finish(writer)  # committed after the removal: the document is back, at its new version
    assert chunk_store.document(new.doc_id).version == new.version
    assert_whole(chunk_store, {new.version: new}, unit_settings)


def test_a_cleaner_slow_to_delete_never_hits_a_later_write_of_the_same_text(ingest_service, chunk_store,
                                                                          monkeypatch, unit_settings):
    old, new = article(5), article(5, " Diperbarui.")
    ingest_service.ingest_articles([old])
    ingest_service.ingest_articles([new])
    texts = chunk_article(old, make_splitter(unit_settings.chunk_size, unit_settings.chunk_overlap))[1]
    chunk_store._chunks.upsert(  # an interrupted write of the old text, with the ids it once would get again
        ids=[chunk_id(old.doc_id, old.version, i) for i in range(len(texts))], documents=texts,
        embeddings=[[1.0] + [0.0] * 63] * len(texts),
        metadatas=[{"doc_id": old.doc_id, "version": old.version, "chunk_index": i} for i in range(len(texts))])
    cleaner, reached, go = threading.current_thread(), threading.Event(), threading.Event()
    delete = chunk_store._chunks.delete

    def slow(**kwargs):  # the cleaner has decided what is stale, then stalls before deleting
        if threading.current_thread() is not cleaner:
            reached.set()
            assert go.wait(30)
        return delete(**kwargs)

    monkeypatch.setattr(chunk_store._chunks, "delete", slow)
    thread = threading.Thread(target=chunk_store.repair)
    thread.start()
    assert reached.wait(30)
    ingest_service.ingest_articles([old])  # the old text again, written while the cleaner waits
    go.set()
    thread.join(30)
    assert chunk_store.document(old.doc_id).version == old.version
    assert_whole(chunk_store, {old.version: old, new.version: new}, unit_settings)


def orphan(store, doc_id: str, write: str) -> None:
    """A chunk written under ``write`` and never committed."""
    store._chunks.upsert(ids=[f"{doc_id}-{write}"], documents=["teks"], embeddings=[[1.0] + [0.0] * 63],
                         metadatas=[{"doc_id": doc_id, "version": "v1", "write": write, "chunk_index": 0}])


def lease(store, write: str, pid: int, expires: float) -> None:
    meta = {"machine": this_machine(), "pid": pid, "started": "", "expires": expires}
    store.leases._collection.upsert(ids=[write], embeddings=[[1.0]], metadatas=[meta])


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_only_live_writers_leases_protect_their_chunks(chunk_store):
    now = time.time()
    lease(chunk_store, "running", os.getpid(), now + EXPIRY)
    lease(chunk_store, "killed", dead_pid(), now + EXPIRY)
    lease(chunk_store, "expired", os.getpid(), now - 1)
    for doc_id, write in (("a", "running"), ("b", "killed"), ("c", "expired"), ("d", "")):
        orphan(chunk_store, doc_id, write)
    assert chunk_store.repair() == 3
    assert [cid for cid, _ in chunk_store.all_chunks()] == ["a-running"]
    assert check_store(chunk_store).pending == 1
    assert [lease_id for lease_id, _ in chunk_store.leases.records()] == ["running"]


def test_a_stalled_writer_rewrites_chunks_a_cleaner_took_before_committing(ingest_service, chunk_store,
                                                                           monkeypatch, unit_settings):
    doc = article(3)
    upsert = chunk_store._chunks.upsert

    def cleaned_behind_its_back(**kwargs):
        upsert(**kwargs)
        if not hasattr(cleaned_behind_its_back, "done"):
            cleaned_behind_its_back.done = True
            chunk_store.delete_chunks(kwargs["ids"])

    monkeypatch.setattr(chunk_store._chunks, "upsert", cleaned_behind_its_back)
    monkeypatch.setattr(chunk_store.leases, "fresh", lambda lease: False)
    ingest_service.ingest_articles([doc])
    assert_whole(chunk_store, {doc.version: doc}, unit_settings)


def test_threads_ingesting_updating_removing_and_repairing_at_once(ingest_service, chunk_store, unit_settings):
    variants = {a.version: a for i in range(5) for a in (article(i), article(i, " Koreksi."), article(i, " Dua."))}
    pool = list(variants.values())

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(12):
            roll = rng.random()
            if roll < 0.6:
                ingest_service.ingest_articles(rng.sample(pool, 3) if rng.random() < 0.5 else [rng.choice(pool)])
            elif roll < 0.8:
                chunk_store.delete_document(f"doc-{rng.randrange(5)}")
            else:
                chunk_store.repair()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    assert_whole(chunk_store, variants, unit_settings)


def test_same_version_twice_at_once_is_stored_once(ingest_service, chunk_store, unit_settings):
    doc = article(4)
    threads = [threading.Thread(target=ingest_service.ingest_articles, args=([doc],)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert chunk_store.count() == chunk_store.document(doc.doc_id).chunks
    assert_whole(chunk_store, {doc.version: doc}, unit_settings)


OTHER_PROCESS = """
import sys
from core.settings import Settings
from vectorstore.store import DocumentRecord, DocumentWrite, open_store

store = open_store(Settings(data_dir=sys.argv[1], models_dir=sys.argv[1], chroma_collection=sys.argv[2]))
meta = {"doc_id": "lain", "version": "v1", "chunk_index": 0}
store.write_documents([DocumentWrite(DocumentRecord("lain", "v1", chunks=1), ["x"], ["Gempa kecil di Palu."],
                                     [[0.0, 1.0] + [0.0] * 62], [meta])])
"""


def test_chunks_another_process_wrote_do_not_fail_this_ones_lookups(ingest_service, chunk_store, unit_settings):
    ingest_service.ingest_articles([article(6)])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(unit_settings.data_dir), unit_settings.chroma_collection],
                   env=env, check=True, timeout=120)
    ids = [cid for cid, _ in chunk_store.all_chunks()]
    assert len(ids) == chunk_store.document("doc-6").chunks + 1  # the other process's chunk is in the metadata
    found = chunk_store.passages(ids)  # its vector may not be in this process's index: left out, no error
    assert {p.doc_id for p in found.values()} <= {"doc-6", "lain"} and "doc-6" in {p.doc_id for p in found.values()}
