"""``python -m ingest --remove`` removes by id only, as the HTTP DELETE does; the size limit is the setting's."""
from __future__ import annotations

import pytest

from ingest.__main__ import parse_args, run

SAME_TITLE = "Harga Beras Turun\n\nHarga beras medium di Pasar {place} turun menjadi Rp 11.200 per kilogram."


@pytest.fixture
def kb(unit_settings, fake_embeddings, tmp_path):
    """An Assistant over the fake embedder with two articles of one title."""
    from app.api import Assistant

    assistant = Assistant(unit_settings, embeddings=fake_embeddings)
    for place in ("Cipinang", "Senen"):
        (tmp_path / f"{place}.txt").write_text(SAME_TITLE.format(place=place), "utf-8")
    assert len(assistant.ingest([tmp_path / "Cipinang.txt", tmp_path / "Senen.txt"]).added) == 2
    return assistant


def test_a_title_naming_two_documents_removes_none_and_lists_their_ids(kb, capsys):
    assert run(kb, parse_args(["--remove", "Harga Beras Turun"])) is False
    err = capsys.readouterr().err
    assert "not removed: 'Harga Beras Turun' is not a document id but names 2 document(s)" in err
    assert all(d.doc_id in err for d in kb.documents()) and len(kb.documents()) == 2


def test_a_title_naming_one_document_is_refused_too(kb, capsys):
    kb.remove(kb.documents()[0].doc_id)
    assert run(kb, parse_args(["--remove", "Harga Beras Turun"])) is False
    assert kb.documents()[0].doc_id in capsys.readouterr().err and len(kb.documents()) == 1


def test_a_path_is_refused_with_the_id_of_its_document(kb, tmp_path, capsys):
    path = str(tmp_path / "Senen.txt")
    assert run(kb, parse_args(["--remove", path])) is False
    senen = [d for d in kb.documents() if d.source.endswith("Senen.txt")]
    assert len(kb.documents()) == 2 and senen[0].doc_id in capsys.readouterr().err


def test_an_id_removes_exactly_that_document(kb, capsys):
    first, second = kb.documents()
    assert run(kb, parse_args(["--remove", first.doc_id])) is True
    assert capsys.readouterr().out.startswith(f"removed: {first.doc_id}")
    assert [d.doc_id for d in kb.documents()] == [second.doc_id]
    assert run(kb, parse_args(["--remove", first.doc_id])) is False
    assert f"not found: {first.doc_id}" in capsys.readouterr().err


def test_the_python_api_no_longer_removes_by_title(kb):
    assert kb.remove("Harga Beras Turun") is False and len(kb.documents()) == 2


def test_ingest_uses_the_settings_size_limit(kb, tmp_path, monkeypatch):
    from core.settings import Settings

    monkeypatch.setattr(Settings, "max_file_bytes", property(lambda self: 100))  # the one place it is computed
    big = tmp_path / "panjang.txt"
    big.write_text("Judul\n\n" + "Harga beras naik lagi. " * 10, "utf-8")
    report = kb.ingest([big])
    assert not report.added and "100" in report.failed[0][1].replace(",", "")
