"""Turn run records into metrics, one table (rich when importable) and a JSON file."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

from eval.metrics import (citation_precision, mean, mean_reciprocal_rank, median, recall_at_k,
                          refusal_scores)
from eval.runner import QuestionRecord, RunResult

FOOTNOTES = [
    "R@k, MRR: position of the first retrieved passage (chunk) from the gold document in the top 10; "
    "answerable questions only. Ret ms: median retrieval latency (embed + search).",
    "Gate: what the retrieval gate alone refuses (best similarity among the top_k passages answered from "
    "< min_relevance): its refusal F1 where the set has unanswerable questions, else the share it refuses.",
    "Contains: normalised answer contains a gold answer; F1: SQuAD token F1, best over gold answers; "
    "answerable questions with gold text, a refusal scores 0.",
    "Refusal P/R/F1: positive class = refused, truth = unanswerable; '-' where undefined "
    "(no refusals, or no unanswerable questions: then 'Refused' is the false-refusal rate).",
    "Cite P: of all sources cited in answers (micro-average), the share whose passage belongs to the "
    "question's gold document. Fabr.: unanswerable questions answered with a citation (a fabricated "
    "citation). Lang: detected answer (or refusal) language = question language.",
]


def generation_summary(records: list[QuestionRecord]) -> dict:
    """Answer metrics over the questions that got an answer (errors counted apart)."""
    done = [r for r in records if r.refused is not None]
    refusal = refusal_scores([r.refused for r in done], [not r.answerable for r in done])
    return {
        "contains_gold": mean(r.contains for r in done), "token_f1": mean(r.f1 for r in done),
        "refusal": refusal,
        "citation_precision": citation_precision([r.cited_docs for r in done], [r.gold_doc for r in done]),
        "language_match": mean(r.language_match for r in done),
        "fabricated_citations": sum(1 for r in done if not r.answerable and not r.refused and r.cited_docs),
        "seconds_per_question_median": median(r.answer_s for r in done),
        "errors": sum(r.error is not None for r in records),
    }


def refused_before_writing(record, result: RunResult) -> bool:
    """The gates that run before the chat model: similarity, then (when set) the checker's answerability."""
    if record.best_score is None or record.best_score < result.min_relevance:
        return True
    checker = result.settings.get("answer_judge") == "checker" and record.best_answer_score is not None
    return checker and record.best_answer_score < result.settings.get("min_answer_probability", 0.0)


def summarise(result: RunResult) -> dict:
    """Every metric for one (dataset, config) run, as plain JSON-ready values."""
    records = result.records
    ranks = [r.rank for r in records if r.gold_doc is not None]
    gate = [refused_before_writing(r, result) for r in records]
    summary = {
        "dataset": result.dataset, "config": result.config, "error": result.error,
        "questions": len(records), "answerable": sum(r.answerable for r in records),
        "unanswerable": sum(not r.answerable for r in records), "index": result.index,
        "recall@1": recall_at_k(ranks, 1), "recall@5": recall_at_k(ranks, 5),
        "recall@10": recall_at_k(ranks, 10), "mrr": mean_reciprocal_rank(ranks),
        "retrieval_ms_median": _scaled(median(r.retrieval_s for r in records), 1000),
        "settings": result.settings, "gate_min_relevance": result.min_relevance,
        "gate": refusal_scores(gate, [not r.answerable for r in records]),
    }
    if result.generated:
        summary["generation"] = generation_summary(records)
    return summary


def _scaled(value: Optional[float], factor: float) -> Optional[float]:
    return None if value is None else value * factor


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _gate_cell(summary: dict) -> str:
    gate = summary["gate"]
    if summary["unanswerable"]:
        return f"F1 {_fmt(gate['f1'], 2)}"
    return f"{_fmt(gate['rate'], 2)} ref."


def table_rows(summaries: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: retrieval columns always, answer columns when any run generated."""
    header = ["Dataset", "Config", "Qs (ans/unans)", "Chunks", "R@1", "R@5", "R@10", "MRR", "Ret ms", "Gate"]
    generated = any("generation" in s for s in summaries)
    if generated:
        header += ["Contains", "F1", "Ref P", "Ref R", "Ref F1", "Refused", "Cite P", "Fabr.", "Lang", "s/q"]
    rows = []
    for s in summaries:
        row = [s["dataset"], s["config"], f"{s['questions']} ({s['answerable']}/{s['unanswerable']})",
               str(s["index"].get("chunks", "-")), _fmt(s["recall@1"]), _fmt(s["recall@5"]),
               _fmt(s["recall@10"]), _fmt(s["mrr"]), _fmt(s["retrieval_ms_median"], 0), _gate_cell(s)]
        if generated:
            row += _generation_cells(s.get("generation"))
        if s["error"]:
            row[2] = f"ERROR: {s['error'][:60]}"
        rows.append(row)
    return header, rows


def _generation_cells(gen: Optional[dict]) -> list[str]:
    if not gen:
        return ["-"] * 10
    ref = gen["refusal"]
    return [_fmt(gen["contains_gold"]), _fmt(gen["token_f1"]), _fmt(ref["precision"]), _fmt(ref["recall"]),
            _fmt(ref["f1"]), _fmt(ref["rate"]), _fmt(gen["citation_precision"]),
            _fmt(gen.get("fabricated_citations")), _fmt(gen["language_match"]),
            _fmt(gen["seconds_per_question_median"], 1)]


def render_table(summaries: list[dict], title: str) -> str:
    """The table as text: rich's rendering when rich is importable, else aligned plain columns."""
    header, rows = table_rows(summaries)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return _plain_table(title, header, rows)
    table = Table(title=title, caption="\n".join(f"[{i}] {n}" for i, n in enumerate(FOOTNOTES, 1)),
                  caption_justify="left")
    for name in header:
        table.add_column(name, justify="left" if name in ("Dataset", "Config") else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    console = Console(width=max(100, sum(w + 3 for w in widths) + 1), record=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()


def _plain_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines + [f"[{i}] {n}" for i, n in enumerate(FOOTNOTES, 1)])


def write_json(path: Path, meta: dict, results: list[RunResult], summaries: list[dict]) -> None:
    """All metrics plus every question's record, so a figure can be traced to its questions."""
    payload = {**meta, "footnotes": FOOTNOTES, "results": [
        {**summary, "records": [asdict(r) for r in result.records]}
        for result, summary in zip(results, summaries)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
