"""Index one evaluation set under one configuration, ask its questions, and keep a record per question."""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from app.api import Assistant
from core.language import detect_language
from eval.configs import EvalConfig
from eval.datasets import EvalItem, EvalSet
from eval.metrics import contains_gold, gold_rank, token_f1

log = logging.getLogger(__name__)
SETTINGS_SHOWN = {"retrieval_mode", "embedding_backend", "embedding_model_path", "chunk_size", "chunk_overlap",
                  "top_k", "fetch_k", "fusion", "rrf_k", "dense_weight", "keyword_weight", "keyword_language_match",
                  "headline_match", "min_relevance", "min_support", "llm_model", "answer_judge", "claim_judge",
                  "min_claim_log_odds", "rerank", "rerank_depth", "rerank_margin", "min_answer_probability",
                  "min_passage_probability", "min_claim_probability", "evidence", "context_chars",
                  "claim_judge_across_languages"}


@dataclass
class QuestionRecord:
    """What happened to one question: where its gold document ranked and what the answer was."""

    qid: str
    question: str
    answerable: bool
    gold_doc: Optional[str]
    rank: Optional[int] = None
    best_score: Optional[float] = None  # what the refusal gate compares: max score of the passages answered from
    best_answer_score: Optional[float] = None  # the checker's best probability that a passage states the answer
    retrieved_docs: list[str] = field(default_factory=list)
    retrieval_s: Optional[float] = None
    answer: Optional[str] = None
    refused: Optional[bool] = None
    cited_docs: list[str] = field(default_factory=list)
    answered_from: list[str] = field(default_factory=list)  # the document of each numbered passage the model read
    answer_s: Optional[float] = None
    answerability: Optional[float] = None  # the checker's answerability gate score (None: not asked)
    claims: list[tuple[str, Optional[float]]] = field(default_factory=list)  # claim judge: sentence, log-odds
    contains: Optional[bool] = None
    f1: Optional[float] = None
    language_match: Optional[bool] = None
    error: Optional[str] = None


@dataclass
class RunResult:
    """One (dataset, configuration) run: index facts, the records, and the gate the settings use."""

    dataset: str
    config: str
    records: list[QuestionRecord]
    index: dict
    min_relevance: float
    generated: bool
    settings: dict = field(default_factory=dict)
    error: Optional[str] = None


def _progress(items, desc: str):
    """A progress bar on stderr when tqdm is there (it comes with the project); the plain list otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=desc, unit="q" if desc.startswith(("retrieve", "answer")) else "doc",
                file=sys.stderr, leave=False, disable=not sys.stderr.isatty())


def build_index(assistant: Assistant, eval_set: EvalSet, label: str) -> dict:
    """Ingest every article of the set through the product's ingest service; time it."""
    start = time.perf_counter()
    report = assistant.ingest_service.ingest_articles(_progress(eval_set.articles, f"index {label}"))
    seconds = time.perf_counter() - start
    if report.failed:
        log.warning("%s: %d articles failed to ingest: %s", label, len(report.failed), report.failed[:3])
    return {"documents": len(eval_set.articles), "chunks": assistant.store.count(),
            "chunks_written": report.chunks_written, "failed": len(report.failed), "seconds": round(seconds, 2)}


def retrieve_all(assistant: Assistant, items: list[EvalItem], label: str, gate_k: int) -> list[QuestionRecord]:
    """Rank passages for every question; the gate's score is taken over the first gate_k, as ChatService does."""
    assistant.retriever.retrieve("warm up")
    records = []
    for item in _progress(items, f"retrieve {label}"):
        start = time.perf_counter()
        passages = assistant.retriever.retrieve(item.question)
        seconds = time.perf_counter() - start
        doc_ids = [p.doc_id for p in passages]
        records.append(QuestionRecord(
            qid=item.qid, question=item.question, answerable=item.answerable, gold_doc=item.gold_doc,
            rank=gold_rank(doc_ids, item.gold_doc), best_score=max((p.score for p in passages[:gate_k]), default=None),
            best_answer_score=max((p.answer_score for p in passages[:gate_k] if p.answer_score is not None),
                                  default=None),
            retrieved_docs=doc_ids, retrieval_s=seconds))
    return records


def answer_one(assistant: Assistant, item: EvalItem, record: QuestionRecord) -> None:
    """Ask one question and score the answer into its record; a failure is kept, not raised."""
    start = time.perf_counter()
    try:
        answer = assistant.ask(item.question)
    except Exception as err:  # a model or store error must not lose the other questions' results
        record.error = f"{type(err).__name__}: {err}"
        log.warning("%s: %s", item.qid, record.error)
        return
    record.answer_s = time.perf_counter() - start
    record.answer, record.refused = answer.text, answer.refused
    record.answerability = answer.answerability
    record.claims = list(answer.claims)
    record.cited_docs = [source.passage.doc_id for source in answer.sources]
    record.answered_from = [passage.doc_id for passage in answer.retrieved]
    record.language_match = detect_language(answer.text) == detect_language(item.question)
    if item.answers:
        record.contains = (not answer.refused) and contains_gold(answer.text, item.answers)
        record.f1 = 0.0 if answer.refused else token_f1(answer.text, item.answers)


def keep_record(progress: Optional[Path], label: str, record: QuestionRecord) -> None:
    """Append one answered record as a JSON line, so a run stopped after hours still leaves its answers."""
    if progress is None:
        return
    with progress.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"run": label, **asdict(record)}, ensure_ascii=False) + "\n")


def answer_all(config: EvalConfig, data_dir: Path, items: list[EvalItem], records: list[QuestionRecord],
               label: str, progress: Optional[Path] = None) -> None:
    """Answer with the chat model over the index already built, with the config's own top_k."""
    assistant = Assistant(config.settings(data_dir, for_retrieval=False))
    try:
        assistant.warm_up()
        for item, record in zip(_progress(items, f"answer {label}"), records):
            answer_one(assistant, item, record)
            keep_record(progress, label, record)
    finally:
        assistant.close()


def run_one(eval_set: EvalSet, config: EvalConfig, data_dir: Path, retrieval_only: bool,
            progress: Optional[Path] = None) -> RunResult:
    """Fresh index for this (dataset, config), retrieval for every question, then answers if asked."""
    label = f"{eval_set.name}/{config.name}"
    settings = config.settings(data_dir, for_retrieval=True)
    answering = config.settings(data_dir, for_retrieval=False)  # its top_k and min_relevance make the gate
    result = RunResult(eval_set.name, config.name, [], {}, answering.min_relevance, not retrieval_only,
                       settings={**answering.model_dump(include=SETTINGS_SHOWN), "retrieval_top_k": settings.top_k})
    try:
        assistant = Assistant(settings)
        result.index = build_index(assistant, eval_set, label)
        result.records = retrieve_all(assistant, eval_set.items, label, answering.top_k)
        if not retrieval_only:
            answer_all(config, data_dir, eval_set.items, result.records, label, progress)
    except Exception as err:  # one broken configuration (say, a retrieval mode not built yet) ends only itself
        log.exception("%s failed", label)
        result.error = f"{type(err).__name__}: {err}"
    return result
