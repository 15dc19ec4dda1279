"""Evaluation sets rebuilt from ../shared/data: the articles to index and the questions with gold answers."""
from __future__ import annotations

import ast
import csv
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ingest.loaders import Article, load_path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_FILES = {
    "ntrex": SHARED_DATA / "ntrex" / "docs.jsonl",
    "facqa": SHARED_DATA / "facqa" / "valid.csv",
    "idk_mrc": SHARED_DATA / "idk_mrc" / "valid.json",
    "sample": REPO / "eval" / "data" / "sample_article_questions.json",
}

_NO_SPACE_BEFORE = re.compile(r"\s+([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{])\s+")


@dataclass
class EvalItem:
    """One question and what counts as right: its gold document and answers, or a refusal."""

    qid: str
    question: str
    gold_doc: Optional[str]  # None when no passage answers it (IDK-MRC unanswerable)
    answers: list[str] = field(default_factory=list)
    answerable: bool = True


@dataclass
class EvalSet:
    """A corpus to index plus the questions asked of it."""

    name: str
    articles: list[Article]
    items: list[EvalItem]


def stable_doc_id(dataset: str, key: str) -> str:
    """Same dataset row, same id on every run, so re-ingesting a kept data dir costs nothing."""
    return f"{dataset}:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"


def detokenise(tokens: list[str]) -> str:
    """Light detokenisation of pre-tokenised text: no space before closing punctuation or after opening."""
    text = " ".join(t for t in tokens if t.strip())
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


def tagged_spans(tokens: list[str], labels: list[str]) -> list[list[str]]:
    """Token spans tagged B (start) then I (inside); a stray I starts a span too."""
    spans: list[list[str]] = []
    inside = False
    for token, label in zip(tokens, labels):
        if label == "B" or (label == "I" and not inside):
            spans.append([token])
            inside = True
        elif label == "I":
            spans[-1].append(token)
        else:
            inside = False
    return spans


def load_ntrex(path: Path) -> EvalSet:
    """One Indonesian article per document; its English headline must find it (cross-lingual)."""
    articles, items = [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        doc_id = f"ntrex:{record['doc_id']}"
        lines = [ln.strip() for ln in record["id"] if ln.strip()]
        articles.append(Article(doc_id=doc_id, text="\n".join(lines), source=f"{path}#{record['doc_id']}",
                                title=lines[0]))
        items.append(EvalItem(qid=doc_id, question=record["en"][0].strip(), gold_doc=doc_id))
    return EvalSet("ntrex", articles, items)


def load_facqa(path: Path) -> EvalSet:
    """Every unique news passage indexed; each factoid question's gold is its passage and tagged span."""
    articles: dict[str, Article] = {}
    items = []
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=1):
            tokens = ast.literal_eval(row["passage"])
            text = detokenise(tokens)
            doc_id = stable_doc_id("facqa", text)
            articles.setdefault(doc_id, Article(doc_id=doc_id, text=text, source=f"{path}#{doc_id}"))
            spans = tagged_spans(tokens, ast.literal_eval(row["seq_label"]))
            items.append(EvalItem(qid=f"facqa:{row_no}", question=detokenise(ast.literal_eval(row["question"])),
                                  gold_doc=doc_id, answers=[detokenise(s) for s in spans]))
    return EvalSet("facqa", list(articles.values()), items)


def load_idk_mrc(path: Path) -> EvalSet:
    """Every context indexed; answerable questions need their answer, unanswerable ones a refusal."""
    articles: dict[str, Article] = {}
    items = []
    for paragraph in json.loads(Path(path).read_text(encoding="utf-8")):
        context = paragraph["context"].strip()
        doc_id = stable_doc_id("idk_mrc", context)
        articles.setdefault(doc_id, Article(doc_id=doc_id, text=context, source=f"{path}#{doc_id}"))
        for qa in paragraph["qas"]:
            answerable = not qa.get("is_impossible", False)
            answers = [a["text"] for a in qa.get("answers", []) if a.get("text")] if answerable else []
            items.append(EvalItem(qid=str(qa["id"]), question=qa["question"].strip(),
                                  gold_doc=doc_id if answerable else None, answers=answers,
                                  answerable=answerable))
    return EvalSet("idk_mrc", list(articles.values()), items)


def load_sample(path: Path) -> EvalSet:
    """The sample article with questions written for it: answerable ones, and on-topic ones it does not answer."""
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    article_path = REPO / spec["article"]
    doc_id = stable_doc_id("sample", spec["article"])
    title, _, body = article_path.read_text(encoding="utf-8").partition("\n")[2].partition("\n")
    articles = [Article(doc_id=doc_id, text=body.strip(), source=str(article_path), title=title.strip())]
    items = [EvalItem(qid=q["id"], question=q["question"], gold_doc=doc_id if q["answers"] else None,
                      answers=q["answers"], answerable=bool(q["answers"])) for q in spec["questions"]]
    return EvalSet("sample", articles, items)


def with_archive(eval_set: EvalSet, paths: list[Path], max_bytes: int) -> EvalSet:
    """The set with other articles (IndoSum) ingested beside its own, as a real archive has them: retrieval and
    the gates must find the set's article among them. The name says so, so results never mix."""
    extra = [a for path in paths for a in load_path(Path(path), max_bytes) if isinstance(a, Article)]
    return EvalSet(f"{eval_set.name}+archive", eval_set.articles + extra, eval_set.items)


LOADERS = {"ntrex": load_ntrex, "facqa": load_facqa, "idk_mrc": load_idk_mrc, "sample": load_sample}


def sample_items(items: list[EvalItem], limit: Optional[int], seed: int) -> list[EvalItem]:
    """A fixed-seed sample in the file's order, so the same flags always ask the same questions."""
    if limit is None or limit >= len(items):
        return list(items)
    chosen = set(random.Random(seed).sample(range(len(items)), limit))
    return [item for i, item in enumerate(items) if i in chosen]


def load_set(name: str, path: Path, limit: Optional[int] = None, seed: int = 13, holdout: int = 0) -> EvalSet:
    """The whole corpus (retrieval competes against all of it) with a sample of its questions; ``holdout``
    first leaves out the questions a ``limit=holdout`` sample at the same seed asks (the reported ones),
    so that thresholds can be tuned on other questions than those they are reported on."""
    full = LOADERS[name](Path(path))
    reported = {item.qid for item in sample_items(full.items, holdout, seed)} if holdout else set()
    rest = [item for item in full.items if item.qid not in reported]
    return EvalSet(full.name, full.articles, sample_items(rest, limit, seed))
