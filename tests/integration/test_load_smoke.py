"""bench/load.py on a tiny load, so the script never rots (numbers are for docs/speed.md, not asserted)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import MODELS_DIR, REPO, needs_shared

pytestmark = pytest.mark.integration


@needs_shared("indosum")
def test_load_script_runs_chats_and_ingests_without_mix_ups(tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, "bench/load.py", "--chats", "2", "--ingests", "1", "--max-tokens", "24",
         "--json", str(out), "--work-dir", str(tmp_path / "work"), "--models-dir", str(MODELS_DIR)],
        cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["errors"] == 0 and result["mixed_up"] == 0
    assert len(result["chat_results"]) == 2 and all(c["ok"] for c in result["chat_results"])
    assert result["ingest_results"][0]["added"] == 5
    assert result["chats_that_saw_queue_notices"] >= 1, "the second chat should have been told it waits"
