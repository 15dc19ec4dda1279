"""``python -m eval.sweep_gates``: what the answerability gate and the claim judge reach together, from saved answers.

Both gates only remove: the answerability judge refuses before the answer, the claim judge drops answer
sentences (an answer left with none is a refusal). Every saved record keeps the judge's log-odds, the
question's unmatched words and each judged sentence with its log-odds, so one run with the gate open
(``KABAR_MIN_ANSWER_LOG_ODDS=-1000``) and the claim judge on gives the answer at any pair of thresholds:
the sentences at or above the claim threshold, re-scored against the gold answers. Sentences the word
checks removed never reach the claim judge, so an answer refused before it stays refused.

This reads the same questions the quality table reports, so it shows what the two gates could reach, not
a calibrated setting: a threshold chosen here must be confirmed on held-out questions before it ships.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional

from app.citations import cited_numbers
from core.language import detect_language
from core.settings import Settings
from eval.datasets import EvalItem, load_set
from eval.metrics import contains_gold, mean, refusal_scores, token_f1
from eval.report import generation_summary, judged_at
from eval.rescore import saved_runs
from eval.runner import QuestionRecord, RunResult

DEFAULTS = {name: Settings.model_fields[name].default for name in ("min_answer_log_odds", "min_claim_log_odds")}
ANSWER_THRESHOLDS = (-1000.0, DEFAULTS["min_answer_log_odds"], 0.3248, *[round(-1.0 + 0.1 * i, 2) for i in range(26)])
CLAIM_THRESHOLDS = (-1000.0, -1.051, -0.361, DEFAULTS["min_claim_log_odds"],
                    *[round(-2.0 + 0.1 * i, 2) for i in range(36)])
PENALTIES = (0.0, 0.3)


def cited_documents(text: str, record: QuestionRecord) -> list[str]:
    """The documents an answer's [n] markers point to, as its sources would list them. Records saved before
    ``answered_from`` existed fall back to the retrieval order, which lacks the passages dropped as far
    below the best: a number the model gave one of those is counted, where the app leaves it out."""
    numbered = record.answered_from or record.retrieved_docs
    return [numbered[n - 1] for n in cited_numbers(text) if 1 <= n <= len(numbered)]


def claims_at(record: QuestionRecord, item: EvalItem, threshold: float) -> QuestionRecord:
    """The record as a claim judge dropping sentences below ``threshold`` would have left it."""
    if not record.claims or record.error:
        return record  # refused before any sentence was judged, or failed
    kept = [text for text, log_odds in record.claims if log_odds is None or log_odds >= threshold]
    if not kept:  # the refusal is written in the question's language
        return replace(record, refused=True, contains=False if item.answers else None,
                       f1=0.0 if item.answers else None, cited_docs=[], language_match=True)
    text = " ".join(kept)
    if text == record.answer:
        return record
    return replace(record, answer=text, refused=False,
                   contains=contains_gold(text, item.answers) if item.answers else None,
                   f1=token_f1(text, item.answers) if item.answers else None,
                   cited_docs=cited_documents(text, record),
                   language_match=detect_language(text) == detect_language(record.question))


def gated(run: RunResult, items: list[EvalItem], claim_t: float, answer_t: float, penalty: float) -> list:
    """The run's records under both gates: claim sentences first, then the answerability judge."""
    claimed = replace(run, records=[claims_at(r, i, claim_t) for r, i in zip(run.records, items)])
    return judged_at(claimed, answer_t, penalty).records


def scores(records: list[QuestionRecord]) -> dict:
    """Refusal P/R/F1, contains-gold over answerable questions and the share of those refused, and the
    quality table's other answer columns."""
    answerable = [r for r in records if r.answerable]
    result = refusal_scores([bool(r.refused) for r in records], [not r.answerable for r in records])
    table = generation_summary(records)
    result.update({name: table[name] for name in ("token_f1", "citation_precision", "language_match",
                                                  "fabricated_citations")})
    result["contains"] = mean(float(bool(r.contains)) for r in answerable)
    result["answerable_refused"] = mean(float(bool(r.refused)) for r in answerable)
    result["unanswerable_answered"] = sum(not r.answerable and not r.refused for r in records)  # every answer cites
    return result


def saved_with_items(path: Path, dataset: str, data_file: Path) -> tuple[RunResult, list[EvalItem]]:
    """The saved run of one dataset, with its questions' gold answers read from the data file."""
    payload, runs = saved_runs(path)
    (run,) = [r for r in runs if r.dataset == dataset and r.generated]
    holdout = 0 if dataset == "sample" else payload.get("holdout", 0)
    items = load_set(dataset, data_file, payload["limit"], payload["seed"], holdout).items
    if [i.qid for i in items] != [r.qid for r in run.records]:
        raise SystemExit(f"{path}: its questions are not those of {data_file} at limit {payload['limit']}")
    return run, items


def correct_lost(ungated: list[QuestionRecord], records: list[QuestionRecord]) -> Optional[float]:
    """Share of the answers containing the gold answer with both gates open that the gates took away: their
    cost, apart from the model's own "not in the articles" replies, which no threshold changes."""
    right = [i for i, r in enumerate(ungated) if r.contains]
    return sum(not records[i].contains for i in right) / len(right) if right else None


def sweep(idk: tuple, news: Optional[tuple] = None, sample: Optional[tuple] = None) -> list[dict]:
    """Every (claim threshold, answer threshold, penalty) with IDK-MRC's, the news questions' and the
    sample article's scores."""
    sets = {name: saved for name, saved in {"idk": idk, "news": news, "sample": sample}.items() if saved}
    ungated = {name: gated(*saved, -1000.0, -1000.0, 0.0) for name, saved in sets.items()}
    rows = []
    for claim_t in CLAIM_THRESHOLDS:
        for penalty in PENALTIES:
            for answer_t in ANSWER_THRESHOLDS:
                row = {"claim_t": claim_t, "answer_t": answer_t, "penalty": penalty}
                for name, saved in sets.items():
                    records = gated(*saved, claim_t, answer_t, penalty)
                    row[name] = {**scores(records), "correct_lost": correct_lost(ungated[name], records)}
                rows.append(row)
    return rows


def best(rows: list[dict], cap: float, min_contains: float) -> Optional[dict]:
    """Highest IDK-MRC refusal F1 among pairs taking away at most ``cap`` of either set's correct answers,
    with IDK-MRC's contains-gold at least ``min_contains``; among ties the loosest pair."""
    def allowed(row):
        lost = max(row["idk"]["correct_lost"] or 0, (row.get("news") or {}).get("correct_lost") or 0)
        return lost <= cap + 1e-12 and (row["idk"]["contains"] or 0) >= min_contains

    fine = [r for r in rows if allowed(r) and r["idk"]["f1"] is not None]
    return max(fine, key=lambda r: (r["idk"]["f1"], -r["answer_t"], -r["claim_t"]), default=None)


def _num(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


def line(label: str, row: Optional[dict]) -> str:
    if row is None:
        return f"{label}: none"
    idk, news, sample = row["idk"], row.get("news") or {}, row.get("sample") or {}
    return (f"{label}: claim < {row['claim_t']:g}, judge < {row['answer_t']:g} (penalty {row['penalty']:g}) -> "
            f"IDK-MRC refusal P/R/F1 {_num(idk['precision'])}/{_num(idk['recall'])}/{_num(idk['f1'])}, contains "
            f"{_num(idk['contains'])}, answerable refused {_num(idk['answerable_refused'])}, right answers lost "
            f"{_num(idk.get('correct_lost'))}, cite P {_num(idk.get('citation_precision'))}, language "
            f"{_num(idk.get('language_match'))}; news contains {_num(news.get('contains'))}, refused "
            f"{_num(news.get('answerable_refused'))}, lost {_num(news.get('correct_lost'))}, cite P "
            f"{_num(news.get('citation_precision'))}, language {_num(news.get('language_match'))}; sample unanswerable "
            f"answered {sample.get('unanswerable_answered', '–')}, contains {_num(sample.get('contains'))}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.sweep_gates", description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=Path, required=True, help="an IDK-MRC run saved by python -m eval --json")
    parser.add_argument("--idk-mrc", type=Path, required=True, help="the idk_mrc/valid.json it asked")
    parser.add_argument("--sample", type=Path, help="the sample questions file, when --answers also asked them")
    parser.add_argument("--news", type=Path, help="a FacQA run saved by python -m eval --json")
    parser.add_argument("--facqa", type=Path, help="the facqa/valid.csv it asked")
    parser.add_argument("--cap", type=float, default=0.10,
                        help="most of either set's correct answers (with both gates open) the gates may take away")
    parser.add_argument("--min-contains", type=float, default=0.60, help="least IDK-MRC contains-gold kept")
    parser.add_argument("--json", type=Path, help="write every row here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    idk = saved_with_items(args.answers, "idk_mrc", args.idk_mrc)
    news = saved_with_items(args.news, "facqa", args.facqa) if args.news and args.facqa else None
    sample = saved_with_items(args.answers, "sample", args.sample) if args.sample else None
    rows = sweep(idk, news, sample)
    gate = DEFAULTS["min_answer_log_odds"]
    for claim_t in (-1000.0, -1.5, -1.2, -1.051, -1.0, -0.8, -0.6, -0.361):
        row = next(r for r in rows if r["claim_t"] == claim_t and r["answer_t"] == gate and r["penalty"] == 0)
        shipped = " (the default)" if claim_t == DEFAULTS["min_claim_log_odds"] else ""
        print(line(f"default gate, claim judge at {claim_t:g}{shipped}", row))
    chosen = {"within_cap": best(rows, args.cap, args.min_contains), "at_any_cost": best(rows, 1.0, args.min_contains)}
    print(line(f"best within cap {args.cap:g}", chosen["within_cap"]))
    print(line("best at any cost", chosen["at_any_cost"]))
    if args.json:  # every claim threshold at the three gates the quality table shows, and the best pairs
        named = {(-1000.0, 0.0), (gate, 0.0), (0.3248, 0.3)}
        kept = [r for r in rows if (r["answer_t"], r["penalty"]) in named]
        payload = {"argv": sys.argv[1:] if argv is None else argv, "best": chosen, "rows": kept}
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
