"""Re-score saved answers at other gate settings without asking the model again.

The answer written never depends on the gate (``KABAR_MIN_ANSWER_LOG_ODDS=-1000`` lets every question
through to an answer, and each record keeps the judge's log-odds and unmatched words), so one saved run
gives the table at any threshold and penalty.
"""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Optional

from eval.report import judged_at
from eval.runner import QuestionRecord, RunResult

_RECORD_FIELDS = {f.name for f in fields(QuestionRecord)}


def saved_runs(path: Path) -> tuple[dict, list[RunResult]]:
    """The runs an earlier ``--json`` wrote, without the re-scored variants it also wrote."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    runs = [RunResult(entry["dataset"], entry["config"],
                      [QuestionRecord(**{k: v for k, v in r.items() if k in _RECORD_FIELDS}) for r in entry["records"]],
                      entry["index"], entry["gate_min_relevance"], "generation" in entry,
                      settings=entry.get("settings", {}), error=entry.get("error"))
            for entry in payload["results"] if " judge<" not in entry["config"]]
    return payload, runs


def rescored(path: Path, thresholds: list[float], penalty: Optional[float]) -> tuple[dict, list[RunResult]]:
    """Each saved run, then each answered one as the gate at every threshold would have left it."""
    payload, runs = saved_runs(path)
    out = []
    for run in runs:
        out.append(run)
        if run.generated:
            out.extend(judged_at(run, t, penalty) for t in thresholds)
    return payload, out
