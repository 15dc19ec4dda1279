"""Issue 18's reproduction with the real parts: one large article ingested while a small file is
ingested again and again through the same Assistant (as the HTTP handler does). Each small ingest
starts with a repair; the large one's chunks, written and not yet committed, must survive them all."""
from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from app.api import Assistant
from ingest import maintenance
from tests.conftest import REPO, SAMPLE_ARTICLE, real_settings
from vectorstore.consistency import check_store

pytestmark = pytest.mark.integration

SMALL_INGESTS_BEFORE_COMMIT = 3


def large_article(path) -> None:
    """The sample article's body eight times over, numbered so no two chunks are alike."""
    rubric, headline, body = SAMPLE_ARTICLE.read_text(encoding="utf-8").split("\n", 2)
    parts = [f"Bagian {n}. " + body.strip().replace(". ", f". ({n}) ") for n in range(8)]
    path.write_text(f"{rubric}\n{headline} (lengkap)\n\n" + "\n\n".join(parts) + "\n", encoding="utf-8")


def test_small_ingests_looping_during_a_large_one_lose_none_of_its_chunks(tmp_path):
    big, small = tmp_path / "besar.txt", tmp_path / "kecil.txt"
    large_article(big)
    small.write_text("Cuaca\nHujan Ringan di Bandung\n\nHujan ringan turun di Bandung sore ini.\n", encoding="utf-8")
    kb = Assistant(real_settings(tmp_path / "data"))
    committing, repaired = threading.Event(), threading.Event()
    upsert = kb.store._registry.upsert

    def commit_after_the_small_ingests(**kwargs):  # the large ingest's commit waits for repairs to run
        if any("lengkap" in m.get("title", "") for m in kwargs["metadatas"]):
            committing.set()
            assert repaired.wait(300)
        return upsert(**kwargs)

    kb.store._registry.upsert = commit_after_the_small_ingests
    result: dict = {}
    writer = threading.Thread(target=lambda: result.update(report=kb.ingest([big])))
    writer.start()
    assert committing.wait(600), "the large ingest never reached its commit"
    for n in range(SMALL_INGESTS_BEFORE_COMMIT):  # each one repairs first, as every ingest does
        small.write_text(small.read_text(encoding="utf-8") + f"Pembaruan {n}.\n", encoding="utf-8")
        assert not kb.ingest([small]).failed
    repaired.set()
    writer.join(600)

    assert result["report"].added and not result["report"].failed
    large = next(d for d in kb.documents() if "lengkap" in d.title)
    assert large.chunks > 10
    assert len(kb.store.chunk_texts(large.doc_id, large.version)[0]) == large.chunks
    assert check_store(kb.store).ok and maintenance.check(kb.store)
    assert kb.store.count() == sum(d.chunks for d in kb.documents())
    assert large.doc_id in {row[1] for row in kb.store.keyword.search("semikonduktor", 50)}


def test_a_handful_of_randomized_fault_trials_lose_and_duplicate_nothing(tmp_path):
    """`bench/faults.py` in small: on one data directory and on one Chroma server (nightly: --trials 50)."""
    out = tmp_path / "faults.json"
    command = [sys.executable, str(REPO / "bench" / "faults.py"), "--trials", "2", "--mode", "both",
               "--json", str(out), "--work-dir", str(tmp_path / "work")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["totals"]["lost"] == result["totals"]["duplicated"] == result["totals"]["wrong_text"] == 0
    assert len(result["results"]) == 4 and all(r["ok"] and not r["worker_errors"] for r in result["results"])
    assert {r["mode"] for r in result["results"]} == {"disk", "server"}
