"""The generation file: a process reopens Chroma when another process has committed, never for its own
commits, and at most once every REOPEN_EVERY_S (the two-process test is tests/integration/test_two_processes.py)."""
from __future__ import annotations

import pytest

from vectorstore import chroma

OTHER = b"0123456789abcdef\n"  # another process's line


@pytest.fixture
def generation(unit_settings):
    unit_settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chroma.DiskGeneration(unit_settings)


def another_process_commits(generation) -> None:
    with open(generation._path, "ab") as handle:
        handle.write(OTHER)


def test_own_commits_never_ask_for_a_reopen(generation):
    generation.bump()
    generation.bump()
    assert not generation.others_wrote()


def test_another_process_commit_asks_for_one_reopen(generation):
    generation.bump()
    another_process_commits(generation)
    generation.bump()
    assert generation.others_wrote()
    assert not generation.others_wrote(), "seen once, it asks no more"


def test_reopens_are_spaced_but_no_commit_is_forgotten(generation, monkeypatch):
    monkeypatch.setattr(chroma, "REOPEN_EVERY_S", 60.0)
    another_process_commits(generation)
    assert generation.others_wrote()
    generation.reopen()
    another_process_commits(generation)
    assert not generation.others_wrote(), "too soon after the last reopen"
    monkeypatch.setattr(chroma, "REOPEN_EVERY_S", 0.0)
    assert generation.others_wrote(), "the commit seen too soon is acted on later"


def test_a_store_reopens_chroma_for_another_process_commit_and_still_answers(chunk_store, fake_embeddings,
                                                                            ingest_service, tmp_path):
    article = tmp_path / "beras.txt"
    article.write_text("Harga Beras\n\nHarga beras medium di Pasar Cipinang turun.\n", "utf-8")
    assert ingest_service.ingest([article]).added
    vector = fake_embeddings.embed_query("harga beras")
    before = chunk_store._chunks
    assert chunk_store.search(vector, 2) and chunk_store._chunks is before  # its own commit: no reopen
    another_process_commits(chunk_store._generation)
    hits = chunk_store.search(vector, 2)
    assert chunk_store._chunks is not before and hits and hits[0].title == "Harga Beras"
    assert chunk_store.documents()[0].title == "Harga Beras" and chunk_store.leases.protected() == set()
