"""``python -m eval``: retrieval and answer quality of Kabar on NTREX, FacQA, IDK-MRC and the sample article."""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

from core.env import configure_offline_environment

configure_offline_environment()

from eval.configs import ablation_configs, compare_configs, kabar_config, pipeline_configs  # noqa: E402  (after the offline switches)
from eval.datasets import DEFAULT_FILES, load_set, with_archive  # noqa: E402
from eval.report import render_table, summarise, write_json  # noqa: E402
from eval.runner import run_one  # noqa: E402


ARCHIVE_MAX_BYTES = 64 * 1024 * 1024  # an IndoSum fold is ~3 MB


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """The command line; at least one dataset file is needed."""
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    parser.add_argument("--ntrex", type=Path, help="ntrex/docs.jsonl: English headline -> Indonesian article")
    parser.add_argument("--facqa", type=Path, help="facqa/valid.csv: factoid questions over news passages")
    parser.add_argument("--idk-mrc", type=Path, help="idk_mrc/valid.json: answerable and unanswerable questions")
    parser.add_argument("--sample", type=Path, nargs="?", const=DEFAULT_FILES["sample"],
                        help="questions written for the sample article, answerable and not "
                        f"(default file: {DEFAULT_FILES['sample'].relative_to(DEFAULT_FILES['sample'].parents[2])})")
    parser.add_argument("--archive", type=Path, nargs="+", default=[], metavar="FILE",
                        help="other articles (IndoSum .jsonl) ingested beside each set, as in a full archive")
    parser.add_argument("--limit", type=int, help="questions per set, a fixed-seed sample (default: all)")
    parser.add_argument("--seed", type=int, default=13, help="sampling seed (default 13)")
    parser.add_argument("--holdout", type=int, default=0, metavar="N",
                        help="first leave out the questions `--limit N` at this seed asks (the reported ones), "
                        "to tune thresholds on other questions; the sample sets are not held out")
    parser.add_argument("--retrieval-only", action="store_true", help="skip the chat model")
    parser.add_argument("--retrieval-mode", choices=["dense", "keyword", "hybrid"],
                        help="mode without --compare (default: the settings' retrieval_mode)")
    parser.add_argument("--compare", action="store_true",
                        help="keyword, dense, hybrid and a common-default MiniLM setup on the same questions")
    parser.add_argument("--pipelines", action="store_true",
                        help="the trained checker's answer pipeline against the chat-model claim judge's")
    parser.add_argument("--ablate", action="store_true",
                        help="the default hybrid, the 2026-11-27 one, and the default less one change at a time")
    parser.add_argument("--json", type=Path, help="write every metric and per-question record here")
    parser.add_argument("--data-dir", type=Path, help="where indexes are built and kept (default: a temp dir, deleted)")
    parser.add_argument("--feedback", type=Path, nargs="?", const=Path(), metavar="JSONL",
                        help="no datasets: review the web page's thumbs up/down (default file: "
                        "KABAR_DATA_DIR/feedback.jsonl)")
    parser.add_argument("--reask", action="store_true",
                        help="with --feedback: ask each down-voted question again and say whether the answer changed")
    args = parser.parse_args(argv)
    if args.feedback is None and args.reask:
        parser.error("--reask goes with --feedback")
    if args.feedback is None and not (args.ntrex or args.facqa or args.idk_mrc or args.sample):
        parser.error("name at least one dataset: --ntrex, --facqa, --idk-mrc or --sample")
    if args.limit is not None and args.limit <= 0:
        parser.error("--limit must be positive")
    return args


def progress_path(json_out: Optional[Path]) -> Optional[Path]:
    """Where answers are appended as they come (beside --json), so an interrupted run keeps them."""
    return None if json_out is None else json_out.with_name(json_out.name + ".progress.jsonl")


def run(args: argparse.Namespace, base_dir: Path) -> tuple[list, list[dict]]:
    """Each dataset under each configuration; configurations differing only in retrieval share an index."""
    configs = compare_configs() if args.compare else [kabar_config(args.retrieval_mode)]
    if args.pipelines:
        configs = pipeline_configs()
    if args.ablate:
        configs = [c for c in configs if c.name != "kabar-hybrid"] + ablation_configs()
    files = {"ntrex": args.ntrex, "facqa": args.facqa, "idk_mrc": args.idk_mrc, "sample": args.sample}
    results, summaries = [], []
    for name, path in files.items():
        if path is None:
            continue
        eval_set = load_set(name, path, args.limit, args.seed, 0 if name == "sample" else args.holdout)
        if args.archive:
            eval_set = with_archive(eval_set, args.archive, ARCHIVE_MAX_BYTES)
        for config in configs:
            result = run_one(eval_set, config, base_dir / config.index_key / name, args.retrieval_only,
                             progress_path(args.json))
            results.append(result)
            summaries.append(summarise(result))
    return results, summaries


def main(argv: Optional[list[str]] = None) -> int:
    """Run, print the table, write JSON; exit 1 when any run failed outright."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.feedback is not None:
        from eval.review import main as review

        return review(None if args.feedback == Path() else args.feedback, args.reask)
    base_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kabar-eval-"))
    if args.json:
        progress_path(args.json).unlink(missing_ok=True)
    try:
        results, summaries = run(args, base_dir)
    finally:
        if args.data_dir is None:
            shutil.rmtree(base_dir, ignore_errors=True)
    mode = "retrieval only" if args.retrieval_only else "retrieval and answers"
    held = f", the {args.holdout} reported ones left out" if args.holdout else ""
    title = f"Kabar evaluation ({mode}; limit {args.limit or 'all'}, seed {args.seed}{held})"
    print(render_table(summaries, title))
    if args.json:
        meta = {"argv": sys.argv[1:] if argv is None else argv, "limit": args.limit, "seed": args.seed,
                "holdout": args.holdout, "retrieval_only": args.retrieval_only}
        write_json(args.json, meta, results, summaries)
        progress_path(args.json).unlink(missing_ok=True)
        print(f"metrics written to {args.json}")
    return 1 if any(s["error"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
