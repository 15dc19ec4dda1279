"""Committed results stay small summaries (issue 19): a run's per-question records are cut before committing."""
from __future__ import annotations

import json
from pathlib import Path

from eval.summarise import MAX_COMMITTED_BYTES, summarise_file, summarised

ROOT = Path(__file__).resolve().parents[2]


def test_every_committed_result_is_a_small_summary():
    files = sorted((ROOT / "eval" / "results").glob("*.json")) + sorted((ROOT / "bench" / "results").glob("*.json"))
    big = [f"{f.relative_to(ROOT)}: {f.stat().st_size:,} bytes" for f in files if f.stat().st_size > MAX_COMMITTED_BYTES]
    assert files and not big, "summarise before committing (python -m eval.summarise FILE): " + ", ".join(big)


def test_records_are_cut_to_examples_with_their_total_and_grids_become_tables():
    run = {"results": [{"questions": 5, "recall@1": 0.123456, "records": [{"qid": i} for i in range(5)]}],
           "rows": [{"t": 0.5, "idk": {"f1": 0.25}}, {"t": 1.0, "idk": {"f1": 0.5, "tp": 2}}]}
    out = summarised(run, examples=2)
    assert out["results"][0] == {"questions": 5, "recall@1": 0.1235, "records_total": 5,
                                 "records": [{"qid": 0}, {"qid": 1}]}
    assert out["rows"] == {"columns": ["t", "idk.f1", "idk.tp"], "rows": [[0.5, 0.25, None], [1.0, 0.5, 2]]}


def test_a_summarised_file_is_valid_json_that_names_its_date_and_command(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"argv": ["--facqa", "x.csv"], "results": [{"records": [{"qid": i} for i in range(9)]}]}))
    summarise_file(path, "2026-11-28", "python -m eval")
    payload = json.loads(path.read_text())
    assert payload["results"][0]["records_total"] == 9 and len(payload["results"][0]["records"]) == 3
    assert payload["summary"]["measured"] == "2026-11-28" and payload["summary"]["command"] == "python -m eval"
