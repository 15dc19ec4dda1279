"""Two processes on one data directory: what one commits, the other's searches find without a restart.

chromadb's on-disk client loads a collection's vector index once; the store reopens it when the
generation file shows another process's commit (vectorstore/chroma.py, DiskGeneration)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from core.settings import Settings
    from ingest.service import IngestService
    from tests.unit.conftest import FakeEmbeddings
    from vectorstore.store import open_store

    settings = Settings(data_dir=Path(sys.argv[1]), models_dir=Path(sys.argv[1]) / "models", chroma_collection="dua")
    store = open_store(settings)
    article = Path(sys.argv[2])
    assert IngestService(settings, store, FakeEmbeddings()).ingest([article]).added
""")
FIRST = "Ekonomi\nHarga Beras Turun\n\nHarga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per kilogram.\n"
SECOND = "Teknologi\nChip Baru\n\nPabrik semikonduktor di Kumamoto mulai memproduksi chip dua nanometer.\n"


def write_in_another_process(data_dir, article) -> None:
    proc = subprocess.run([sys.executable, "-c", WRITER, str(data_dir), str(article)], cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_second_process_sees_new_chunks_without_a_restart(tmp_path):
    from core.settings import Settings
    from tests.unit.conftest import FakeEmbeddings
    from vectorstore.store import open_store

    data = tmp_path / "data"
    first, second = tmp_path / "beras.txt", tmp_path / "chip.txt"
    first.write_text(FIRST, "utf-8")
    second.write_text(SECOND, "utf-8")
    write_in_another_process(data, first)
    settings = Settings(data_dir=data, models_dir=tmp_path / "models", chroma_collection="dua")
    reader, embeddings = open_store(settings), FakeEmbeddings()
    question = embeddings.embed_query("Pabrik semikonduktor di Kumamoto memproduksi chip dua nanometer")
    assert [p.title for p in reader.search(question, 5)] == ["Harga Beras Turun"]  # its vector index is loaded
    write_in_another_process(data, second)
    titles = [p.title for p in reader.search(question, 5)]
    assert titles[0] == "Chip Baru" and len(titles) == 2, titles
    passages = reader.passages([p.chunk_id for p in reader.search(question, 5)])
    assert {p.title for p in passages.values()} == {"Chip Baru", "Harga Beras Turun"}
