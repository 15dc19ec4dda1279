"""Training pairs for the checker, built from the public data in ../shared/data (see train/README.md).

Two tasks share one encoder: ``qa`` (does this passage state the answer to this question?) and
``claim`` (does this evidence say what this sentence says?). Every builder is deterministic for a
seed, so the same command always trains on the same pairs.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from train.swaps import SWAPS, article_pool, swapped

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHUNK_CHARS, CHUNK_OVERLAP = 900, 200  # the app's chunking defaults: windows look like its passages
SWAPS_PER_CLAIM = 2  # near-copy negatives per true claim (of different kinds)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class Pair:
    """One labelled pair: ``a`` is the question or claim, ``b`` the passage or evidence."""

    task: str  # "qa" or "claim"
    a: str
    b: str
    label: int  # 1: the passage states the answer / the evidence entails the claim
    source: str


def held_out(key: str, every: int = 3) -> bool:
    """A stable third of the NTREX documents and IndoSum articles is kept out of training for eval/checker.py."""
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % every == 0


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def windows(text: str) -> list[str]:
    """The context cut as ingest cuts articles: whole sentences packed to the chunk size."""
    from ingest.chunking import make_splitter

    return [t for t in make_splitter(CHUNK_CHARS, CHUNK_OVERLAP).split_text(text) if t.strip()]


def detokenise(tokens: list[str]) -> str:
    text = " ".join(t for t in tokens if t.strip())
    text = re.sub(r"\s+([.,!?;:%)\]}])", r"\1", text)
    return re.sub(r"([(\[{])\s+", r"\1", text)


def idk_mrc_pairs(path: Path, rng: random.Random, easy_negatives: float = 0.3) -> list[Pair]:
    """Each question against each window of its paragraph (answer inside: 1; unanswerable or outside: 0),
    plus some windows of other paragraphs (easy negatives for ranking)."""
    paragraphs = json.loads(path.read_text(encoding="utf-8"))
    all_windows = [(i, w) for i, p in enumerate(paragraphs) for w in windows(p["context"])]
    pairs = []
    for i, paragraph in enumerate(paragraphs):
        chunks = windows(paragraph["context"])
        for qa in paragraph["qas"]:
            question = qa["question"].strip()
            answers = [a["text"] for a in qa.get("answers") or [] if a.get("text")]
            for chunk in chunks:
                label = int(not qa["is_impossible"] and any(a in chunk for a in answers))
                pairs.append(Pair("qa", question, chunk, label, "idk_mrc"))
            if rng.random() < easy_negatives:
                j, other = rng.choice(all_windows)
                if j != i:
                    pairs.append(Pair("qa", question, other, 0, "idk_mrc-other"))
    return pairs


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 3}


def facqa_pairs(path: Path, rng: random.Random, hard: int = 2) -> list[Pair]:
    """Question with its passage (1) and with the most word-sharing other passages that lack the answer (0)."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    items = []
    for row in rows:
        tokens, labels = ast.literal_eval(row["passage"]), ast.literal_eval(row["seq_label"])
        answer = detokenise([t for t, label in zip(tokens, labels) if label in ("B", "I")])
        items.append((detokenise(ast.literal_eval(row["question"])), detokenise(tokens), answer))
    passages = sorted({p for _, p, _ in items})
    bags = {p: _words(p) for p in passages}
    pairs = []
    for question, passage, answer in items:
        pairs.append(Pair("qa", question, passage, 1, "facqa"))
        q = _words(question)
        ranked = sorted((p for p in passages if p != passage and (not answer or answer not in p)),
                        key=lambda p: -len(q & bags[p]))
        for other in ranked[:hard] + [rng.choice(passages)]:
            if other != passage and (not answer or answer not in other):
                pairs.append(Pair("qa", question, other, 0, "facqa-other"))
    return pairs


def indonli_pairs(path: Path) -> list[Pair]:
    """Hypothesis as claim, premise as evidence: entailed (1) against neutral or contradicted (0)."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.append(Pair("claim", row["hypothesis"], row["premise"], int(row["label"] == "e"), "indonli"))
    return pairs


def claim_pairs(claim_sents: list[str], evidence_sents: list[str], rng: random.Random,
                source: str, pool: list[str]) -> list[Pair]:
    """For each sentence: the evidence window (the sentence before and the sentence) entails its own claim (1);
    a swapped claim and a claim from elsewhere in the article do not (0)."""
    pairs = []
    n = min(len(claim_sents), len(evidence_sents))
    for i in range(n):
        claim = claim_sents[i]
        if len(claim) < 25:
            continue
        evidence = " ".join(evidence_sents[max(i - 1, 0): i + 1])
        pairs.append(Pair("claim", claim, evidence, 1, source))
        made = 0
        for kind in rng.sample(list(SWAPS), len(SWAPS)):
            fake = swapped(claim, kind, rng, pool)
            if fake and made < SWAPS_PER_CLAIM:
                pairs.append(Pair("claim", fake, evidence, 0, f"{source}-{kind}"))
                made += 1
        far = [j for j in range(n) if abs(j - i) > 1]
        if far and rng.random() < 0.5:
            pairs.append(Pair("claim", claim_sents[rng.choice(far)], evidence, 0, f"{source}-other"))
    return pairs


def ntrex_docs(path: Path, held: bool) -> list[dict]:
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [d for d in docs if held_out(d["doc_id"]) == held]


def ntrex_pairs(path: Path, rng: random.Random) -> list[Pair]:
    """English sentences checked against the Indonesian article (a translation entails), Indonesian ones too,
    and a few Indonesian claims against the English text; only documents outside the held-out third."""
    pairs = []
    for doc in ntrex_docs(path, held=False):
        en, idn = doc["en"][1:], doc["id"][1:]  # line 0 is the headline
        pool = article_pool(en + idn)
        for _ in range(2):  # English answers about Indonesian articles are Kabar's daily case: twice, other swaps
            pairs += claim_pairs(en, idn, rng, "ntrex-en>id", pool)
        pairs += claim_pairs(idn, idn, rng, "ntrex-id>id", pool)
        pairs += [p for p in claim_pairs(en, en, rng, "ntrex-en>en", pool) if rng.random() < 0.5]
        pairs += [p for p in claim_pairs(idn, en, rng, "ntrex-id>en", pool) if rng.random() < 0.3]
    return pairs


def indosum_articles(folder: Path, held: bool) -> list[list[str]]:
    """Each article's sentences, detokenised; the held-out third or the rest."""
    articles = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if held_out(record["id"]) == held:
                articles.append([detokenise(s) for para in record["paragraphs"] for s in para])
    return articles


def indosum_pairs(folder: Path, rng: random.Random, articles: int = 700) -> list[Pair]:
    """Claims copied from news sentences, with swaps: the near-copies a small writer makes."""
    chosen = indosum_articles(folder, held=False)
    rng.shuffle(chosen)
    pairs = []
    for sentences in chosen[:articles]:
        sentences = sentences[:12]
        pairs += claim_pairs(sentences, sentences, rng, "indosum", article_pool(sentences))
    return pairs


def build(shared: Path = SHARED, seed: int = 13) -> list[Pair]:
    """Every training pair, shuffled."""
    rng = random.Random(seed)
    train = shared / "train"
    pairs = (idk_mrc_pairs(train / "idk_mrc" / "train.json", rng)
             + facqa_pairs(train / "facqa" / "train.csv", rng)
             + indonli_pairs(train / "indonli" / "train.jsonl")
             + ntrex_pairs(shared / "ntrex" / "docs.jsonl", rng)
             + indosum_pairs(shared / "indosum", rng))
    rng.shuffle(pairs)
    return pairs
