"""Ingest with the real embedder and Chroma on disk: idempotence, updates, deletes, bad files."""
from __future__ import annotations

import shutil

import pytest

from app.api import Assistant
from tests.conftest import SAMPLE_ARTICLE, real_settings

pytestmark = pytest.mark.integration

NEW_ARTICLE = """Ekonomi
Harga Beras di Pasar Cipinang Turun Tajam

Harga beras medium di Pasar Induk Beras Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini.
Penurunan harga terjadi karena panen raya di Jawa Tengah dan Jawa Timur yang membuat pasokan melimpah.
"""


@pytest.fixture()
def kb(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SAMPLE_ARTICLE, folder / SAMPLE_ARTICLE.name)
    assistant = Assistant(real_settings(tmp_path / "data"))
    first = assistant.ingest([folder])
    assert len(first.added) == 1 and first.chunks_written > 0
    return assistant, folder


def test_reingesting_the_same_folder_changes_nothing(kb):
    assistant, folder = kb
    before = assistant.store.count()
    report = assistant.ingest([folder])
    assert report.added == [] and report.updated == [] and len(report.unchanged) == 1
    assert report.chunks_written == 0 and assistant.store.count() == before


def test_changed_file_replaces_its_chunks(kb):
    assistant, folder = kb
    path = folder / SAMPLE_ARTICLE.name
    path.write_text(path.read_text(encoding="utf-8").replace("Thierry Breton", "Komisaris Breton"), encoding="utf-8")
    report = assistant.ingest([folder])
    assert len(report.updated) == 1
    passages = assistant.retriever.retrieve("Thierry Breton")
    assert passages and all("Thierry Breton" not in p.text for p in passages)
    assert sum(d.chunks for d in assistant.documents()) == assistant.store.count()


def test_deleted_document_is_gone_from_retrieval(kb):
    assistant, folder = kb
    (folder / "beras.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assistant.ingest([folder])
    question = "Berapa harga beras medium di Pasar Cipinang?"
    assert "Cipinang" in assistant.retriever.retrieve(question)[0].text
    assert assistant.remove(str(folder / "beras.txt"))
    assert all("Cipinang" not in p.text for p in assistant.retriever.retrieve(question))
    try:
        answer = assistant.ask(question)
    finally:
        assistant.close()
    assert "11.200" not in answer.text and all("Cipinang" not in s.passage.text for s in answer.sources)
    assert [d.title for d in assistant.documents()] == ["Uni Eropa dan Jepang Jajaki Kolaborasi Strategis AI dan Semikonduktor"]


def test_bad_files_are_reported_and_the_good_one_goes_in(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(SAMPLE_ARTICLE, folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "latin1.txt").write_bytes("Berita tentang café und Straße".encode("latin-1"))
    assistant = Assistant(real_settings(tmp_path / "data"))
    report = assistant.ingest([folder])
    assert report.added == ["Uni Eropa dan Jepang Jajaki Kolaborasi Strategis AI dan Semikonduktor"]
    failed = dict(report.failed)
    assert set(failed) == {"empty.txt", "binary.txt", "latin1.txt"}
    assert "empty" in failed["empty.txt"] and "binary" in failed["binary.txt"] and "UTF-8" in failed["latin1.txt"]
