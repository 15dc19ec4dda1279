"""``python -m eval.calibrate_refusal``: the best-score threshold that best separates IDK-MRC's unanswerable questions.

The refusal gate is ``settings.min_relevance`` compared with the best cosine similarity among the
passages retrieved (with dense retrieval, ``passages[0].score``); this measures that gate alone,
before any model call, for the retrieval mode and top_k the settings name.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

from core.env import configure_offline_environment

configure_offline_environment()

from eval.configs import kabar_config  # noqa: E402  (after the offline switches)
from eval.datasets import load_set  # noqa: E402
from eval.metrics import median, refusal_scores  # noqa: E402
from eval.runner import run_one  # noqa: E402

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "calibrate_refusal.json"


def candidate_thresholds(scores: list[float]) -> list[float]:
    """Midpoints between neighbouring distinct scores, plus one below and one above them all."""
    distinct = sorted(set(scores))
    if not distinct:
        return []
    mids = [(a + b) / 2 for a, b in zip(distinct, distinct[1:])]
    return [distinct[0] - 1e-6, *mids, distinct[-1] + 1e-6]


def sweep(scores: list[float], unanswerable: list[bool]) -> list[dict]:
    """Refusal P/R/F1 of 'refuse when best score < t' for every threshold that changes a decision."""
    rows = []
    for threshold in candidate_thresholds(scores):
        result = refusal_scores([s < threshold for s in scores], unanswerable)
        rows.append({"threshold": threshold, **result})
    return rows


def best_threshold(rows: list[dict]) -> Optional[dict]:
    """Highest F1; among ties the lowest threshold, which refuses the fewest answerable questions."""
    scored = [r for r in rows if r["f1"] is not None]
    return max(scored, key=lambda r: (r["f1"], -r["threshold"])) if scored else None


def score_summary(scores: list[float], unanswerable: list[bool], current: float) -> dict:
    """Median best score per class, and how the current setting and 'refuse all' do."""
    answerable_scores = [s for s, u in zip(scores, unanswerable) if not u]
    unanswerable_scores = [s for s, u in zip(scores, unanswerable) if u]
    return {
        "median_best_score_answerable": median(answerable_scores),
        "median_best_score_unanswerable": median(unanswerable_scores),
        "current_min_relevance": current,
        "current": refusal_scores([s < current for s in scores], unanswerable),
        "refuse_all": refusal_scores([True] * len(scores), unanswerable),
    }


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate_refusal", description=__doc__.split("\n")[0])
    parser.add_argument("--idk-mrc", type=Path, required=True, help="idk_mrc/valid.json")
    parser.add_argument("--limit", type=int, help="questions, a fixed-seed sample (default: all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--retrieval-mode", choices=["dense", "keyword", "hybrid"], default="dense")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"output (default {DEFAULT_JSON})")
    parser.add_argument("--data-dir", type=Path, help="index folder to keep (default: a temp dir, deleted)")
    return parser.parse_args(argv)


def calibrate(args: argparse.Namespace, data_dir: Path) -> dict:
    """Index the contexts, take every question's best score, sweep the thresholds."""
    eval_set = load_set("idk_mrc", args.idk_mrc, args.limit, args.seed)
    result = run_one(eval_set, kabar_config(args.retrieval_mode), data_dir, retrieval_only=True)
    if result.error:
        raise SystemExit(f"retrieval failed: {result.error}")
    kept = [r for r in result.records if r.best_score is not None]
    scores, unanswerable = [r.best_score for r in kept], [not r.answerable for r in kept]
    rows = sweep(scores, unanswerable)
    return {"dataset": str(args.idk_mrc), "limit": args.limit, "seed": args.seed,
            "retrieval_mode": args.retrieval_mode, "questions": len(kept),
            "unanswerable": sum(unanswerable), "best": best_threshold(rows),
            **score_summary(scores, unanswerable, result.min_relevance), "sweep": rows,
            "scores": [{"qid": r.qid, "answerable": r.answerable, "best_score": r.best_score} for r in kept]}


def _num(value: Optional[float], digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _line(label: str, scores: dict, threshold: Optional[float] = None) -> str:
    at = "" if threshold is None else f" at {threshold:.4f}"
    return (f"{label}{at}: refusal P {_num(scores['precision'])} R {_num(scores['recall'])} "
            f"F1 {_num(scores['f1'])} (refuses {_num(scores['rate'])} of questions)")


def main(argv: Optional[list[str]] = None) -> int:
    """Print the best gate threshold and write every threshold's scores as JSON."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kabar-calibrate-"))
    try:
        report = calibrate(args, data_dir)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{report['questions']} questions ({report['unanswerable']} unanswerable), mode {args.retrieval_mode}")
    print(f"median best score: answerable {_num(report['median_best_score_answerable'], 4)}, "
          f"unanswerable {_num(report['median_best_score_unanswerable'], 4)}")
    if report["best"]:
        print(_line("best threshold", report["best"], report["best"]["threshold"]))
    print(_line("current min_relevance", report["current"], report["current_min_relevance"]))
    print(_line("refuse everything", report["refuse_all"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
