"""``python -m eval.summarise FILE...``: shrink a result JSON before committing it (rewritten in place).

Committed results are summaries: metrics, settings, the command and the date stay; per-question records
(``records``, ``pairs``, ``scores``, ``news_scores``, ``questions`` lists) are cut to a few examples with
their total kept beside them; long grids of metrics (``rows``, ``sweep``) become a table of columns and
rows, one line a row; numbers are rounded to 4 digits. The full file is what ``--json`` wrote;
rerun its command to get the records back.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

RECORD_LISTS = ("records", "pairs", "scores", "news_scores", "questions")
TABLE_LISTS = ("rows", "sweep")
EXAMPLES = 3
DIGITS = 4
MAX_COMMITTED_BYTES = 100_000  # tests/unit/test_unit_eval.py holds eval/results and bench/results under this


def summarised(value: Any, examples: int = EXAMPLES) -> Any:
    """The same structure with record lists cut to ``examples`` items (``<name>_total`` says how many
    there were) and floats rounded."""
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, list):
        return [summarised(v, examples) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in RECORD_LISTS and isinstance(item, list) and len(item) > examples:
            out[f"{key}_total"] = len(item)
            item = item[:examples]
        elif key in TABLE_LISTS and isinstance(item, list) and item and all(isinstance(r, dict) for r in item):
            item = table(item)
        out[key] = summarised(item, examples)
    return out


def flat(row: dict, prefix: str = "") -> dict:
    """``{"idk": {"f1": 0.5}}`` as ``{"idk.f1": 0.5}``."""
    out = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def table(rows: list[dict]) -> dict:
    """A list of like dicts as column names and value rows: the grid's numbers without its repeated keys."""
    flats = [flat(r) for r in rows]
    columns = list(dict.fromkeys(k for f in flats for k in f))
    return {"columns": columns, "rows": [[f.get(c) for c in columns] for f in flats]}


def dumps(value: Any, depth: int = 0) -> str:
    """JSON with objects and lists of objects indented, and lists of plain values (a table row) on one line."""
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, depth + 1) for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def summarise_file(path: Path, measured: Optional[str], command: Optional[str] = None,
                   examples: int = EXAMPLES) -> tuple[int, int]:
    """Rewrite one result file as its summary; returns its size before and after, in bytes."""
    before = path.stat().st_size
    payload = summarised(json.loads(path.read_text(encoding="utf-8")), examples)
    payload["summary"] = {"measured": measured, "command": command, "examples_kept": examples,
                          "note": "per-question records cut by python -m eval.summarise; rerun the command "
                                  "(or argv) for all of them"}
    path.write_text(dumps(payload) + "\n", encoding="utf-8")
    return before, path.stat().st_size


def main(argv: Optional[list[str]] = None) -> int:
    """Summarise each file named and print its size before and after."""
    parser = argparse.ArgumentParser(prog="python -m eval.summarise", description=__doc__.split("\n")[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--measured", help="the date the results were measured (kept in the summary)")
    parser.add_argument("--command", help="the command that wrote them, where the file has no argv")
    parser.add_argument("--examples", type=int, default=EXAMPLES, help="records kept per list (default 3)")
    args = parser.parse_args(argv)
    for path in args.files:
        before, after = summarise_file(path, args.measured, args.command, args.examples)
        print(f"{path}: {before:,} -> {after:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
