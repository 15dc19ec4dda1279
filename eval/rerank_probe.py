"""``python -m eval.rerank_probe``: would the chat model, asked about each passage, pick the first one better?

No reranking model ships in a package here, so the one offline model that reads passages is the chat model.
This probe asks it, for each of the fused top ``--top`` passages, whether the passage states the answer
(``prompts/rerank.txt``, one single-token yes/no call each, as the judges do) and counts, for several margins,
the questions whose gold passage it would move to first against those it would push out of first place:
"rerank when another passage's log-odds beat the first one's by more than the margin". Questions whose gold
passage is outside the top ``--top`` cannot change recall@1 and are not asked. Nothing in the app reranks:
this measures whether it should.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Optional

from core.env import configure_offline_environment

configure_offline_environment()

from eval.configs import kabar_config  # noqa: E402  (after the offline switches)
from eval.datasets import load_set  # noqa: E402
from eval.metrics import gold_rank  # noqa: E402
from eval.runner import _progress, build_index  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MARGINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.rerank_probe", description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--facqa", type=Path, help="facqa/valid.csv")
    source.add_argument("--idk-mrc", type=Path, help="idk_mrc/valid.json (its answerable questions)")
    source.add_argument("--rescore", type=Path, help="a saved probe: print its table again, no model")
    parser.add_argument("--limit", type=int, default=150, help="questions, the eval command's fixed-seed sample")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--top", type=int, default=5, help="fused passages the model is asked about")
    parser.add_argument("--json", type=Path, help="output (default eval/results/rerank_probe_<set>.json)")
    return parser.parse_args(argv)


def ranked(args: argparse.Namespace, data_dir: Path) -> tuple[str, list[dict]]:
    """Index the set, retrieve every answerable question; keep the passages of those with gold in the top."""
    from app.api import Assistant

    name, path = ("facqa", args.facqa) if args.facqa else ("idk_mrc", args.idk_mrc)
    eval_set = load_set(name, path, args.limit, args.seed)
    assistant = Assistant(kabar_config("hybrid").settings(data_dir, for_retrieval=True))
    try:
        build_index(assistant, eval_set, name)
        questions = []
        for item in _progress([i for i in eval_set.items if i.answerable], f"retrieve {name}"):
            passages = assistant.retriever.retrieve(item.question)
            rank = gold_rank([p.doc_id for p in passages], item.gold_doc)
            questions.append({"qid": item.qid, "question": item.question, "rank": rank,
                              "passages": [p.text for p in passages[:args.top]]})
    finally:
        assistant.close()
    return name, questions


def probe(data_dir: Path, questions: list[dict], top: int) -> None:
    """The chat model's yes/no log-odds for each passage of each question whose gold is in the top."""
    from langchain_core.messages import HumanMessage

    from app.answerable import YesNoJudge
    from app.api import Assistant
    from prompts import load_prompt

    assistant = Assistant(kabar_config("hybrid").settings(data_dir, for_retrieval=False))
    try:
        judge = YesNoJudge(assistant._chat_backend.model)
        for question in _progress([q for q in questions if q["rank"] and q["rank"] <= top], "answer probe"):
            question["log_odds"] = [judge.yes_no_log_odds([HumanMessage(load_prompt("rerank").format(
                passage=text, question=question["question"]))]) for text in question["passages"]]
    finally:
        assistant.close()


def margin_table(questions: list[dict]) -> list[dict]:
    """Per margin: gold moved to first, gold pushed from first, and recall@1 after reranking."""
    rows, total = [], len(questions)
    hits = sum(q["rank"] == 1 for q in questions)
    for margin in MARGINS:
        fixed = broken = 0
        for q in questions:
            odds = [-99.0 if v is None else v for v in q.get("log_odds") or []]
            if not odds:
                continue
            best = max(range(len(odds)), key=odds.__getitem__)
            moved = best != 0 and odds[best] - odds[0] > margin
            fixed += moved and best == q["rank"] - 1
            broken += moved and q["rank"] == 1
        rows.append({"margin": margin, "fixed": fixed, "broken": broken,
                     "recall_at_1_before": hits / total, "recall_at_1_after": (hits + fixed - broken) / total})
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.rescore:
        result = json.loads(args.rescore.read_text(encoding="utf-8"))
        result["margins"] = margin_table(result["questions"])  # MARGINS may have changed since it was saved
    else:
        with tempfile.TemporaryDirectory(prefix="kabar-rerank-") as tmp:
            name, questions = ranked(args, Path(tmp))
            probe(Path(tmp), questions, args.top)
        result = {"dataset": name, "limit": args.limit, "seed": args.seed, "top": args.top,
                  "prompt": "prompts/rerank.txt", "margins": margin_table(questions), "questions": questions}
        out = args.json or RESULTS / f"rerank_probe_{name}.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{result['dataset']}: {len(result['questions'])} answerable questions, "
          f"the model asked about the top {result['top']} of those with gold there")
    print("margin  moved to first  pushed from first  R@1 before  R@1 after")
    for row in result["margins"]:
        print(f"{row['margin']:>6}  {row['fixed']:>14}  {row['broken']:>17}  "
              f"{row['recall_at_1_before']:>10.3f}  {row['recall_at_1_after']:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
