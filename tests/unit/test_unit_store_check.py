"""``python -m ingest --check`` finds, and ``--repair`` mends, the damage concurrent ingests used to
leave: listed documents with chunks gone, leftover and duplicated chunks, a keyword index that differs."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.__main__ import parse_args, run
from ingest.maintenance import source_file
from vectorstore.consistency import check_store


@pytest.fixture
def kb(unit_settings, fake_embeddings, tmp_path):
    from app.api import Assistant

    assistant = Assistant(unit_settings, embeddings=fake_embeddings)
    folder = tmp_path / "artikel"
    folder.mkdir()
    for name, topic in (("beras", "Harga beras naik di pasar induk"), ("banjir", "Banjir melanda kawasan pesisir"),
                        ("kereta", "Kereta cepat mulai beroperasi penuh")):
        (folder / f"{name}.txt").write_text(f"{name.title()}\n\n" + f"{topic} pekan ini. " * 12, "utf-8")
    assert len(assistant.ingest([folder]).added) == 3
    return assistant


def damage(kb) -> dict:
    """What two racing ingests left in the issue: a listed document missing chunks, plus other debris."""
    store = kb.store
    docs = {d.title: d for d in store.documents()}
    beras, banjir = docs["Beras"], docs["Banjir"]
    ids, _ = store.chunk_texts(beras.doc_id, beras.version)
    store.delete_chunks(ids[:2])
    store._chunks.upsert(ids=["sisa"], documents=["sisa"], embeddings=[[1.0] + [0.0] * 63],
                         metadatas=[{"doc_id": beras.doc_id, "version": "lama", "chunk_index": 0}])
    store._chunks.upsert(ids=["ganda"], documents=["ganda"], embeddings=[[1.0] + [0.0] * 63],
                         metadatas=[{"doc_id": banjir.doc_id, "version": banjir.version, "write": banjir.write,
                                     "chunk_index": 99}])
    store.keyword.delete_document(docs["Kereta"].doc_id)
    return docs


def test_check_names_every_disagreement_and_exits_1(kb):
    docs = damage(kb)
    result = check_store(kb.store)
    assert result.missing == {docs["Beras"].doc_id: 2}
    assert result.extra == {docs["Banjir"].doc_id: ["ganda"]}
    assert result.orphans == 1
    assert result.keyword_missing == docs["Kereta"].chunks + 1  # and the duplicate; the lost two are extra
    assert result.keyword_extra == 2
    out = io.StringIO()
    assert kb.ingest([docs["Beras"].source]).unchanged  # why it never healed by itself
    from ingest import maintenance

    assert maintenance.check(kb.store, out) is False
    text = out.getvalue()
    assert "incomplete: Beras" in text and "lacks 2 chunks" in text and "duplicated: Banjir" in text
    assert "NOT consistent" in text


def test_repair_reingests_incomplete_documents_and_leaves_the_store_consistent(kb, capsys):
    docs = damage(kb)
    assert run(kb, parse_args(["--repair"])) is True
    assert "re-ingested 1 incomplete documents" in capsys.readouterr().out
    beras = kb.store.document(docs["Beras"].doc_id)
    assert beras.version == docs["Beras"].version
    assert len(kb.store.chunk_texts(beras.doc_id, beras.version)[0]) == beras.chunks
    assert run(kb, parse_args(["--check"])) is True
    assert capsys.readouterr().out.strip().endswith("consistent")


def test_repair_removes_an_incomplete_document_whose_file_is_gone(kb, capsys):
    docs = damage(kb)
    source = docs["Beras"].source
    Path(source).unlink()
    assert run(kb, parse_args(["--repair"])) is True
    assert "its file is gone" in capsys.readouterr().out
    assert sorted(d.title for d in kb.documents()) == ["Banjir", "Kereta"]


def test_a_jsonl_lines_source_names_its_file(tmp_path):
    dump = tmp_path / "dump.jsonl"
    dump.write_text("{}\n", "utf-8")
    assert source_file(f"{dump}#abc-1") == dump == source_file(str(dump))
    assert source_file(str(tmp_path / "gone.txt")) is None
