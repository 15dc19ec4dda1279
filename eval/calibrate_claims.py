"""``python -m eval.calibrate_claims``: the claim judge's threshold, from true claims and role-swapped ones.

True claims are sentences whose evidence is known: NTREX's English sentences beside their Indonesian
translation (the cross-language case: English answers about Indonesian articles), and IndoSum's human
summary sentences beside the article sentence that shares most of their words (the same-language case).
False claims are the same sentences with one name swapped for another name from the same article, the
mistake the word and meaning checks let through ("Japan announced ..." where the Netherlands did). Each
case gets its own threshold, the highest that drops at most ``--max-true-dropped`` of its true claims: the
judge is far less sure of true claims across languages.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from core.env import configure_offline_environment

configure_offline_environment()

from app.citations import unknown_names  # noqa: E402  (after the offline switches)
from eval.metrics import candidate_thresholds, separation_auc  # noqa: E402
from vectorstore.analysis import terms  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SETTING = {"indosum": "min_claim_log_odds", "ntrex": "min_claim_log_odds_across_languages"}
MIN_SHARED_WORDS = 0.8  # an IndoSum summary sentence counts as stated by the article sentence holding this share


def detokenise(tokens: list[str]) -> str:
    """IndoSum's token lists back to text ("Jakarta , CNN" -> "Jakarta, CNN")."""
    return re.sub(r"\s+([,.;:!?%)])", r"\1", re.sub(r"([(])\s+", r"\1", " ".join(tokens)))


def all_names(text: str) -> list[str]:
    """Every run of capitalised words after the first (the public check with nothing known finds them all)."""
    return unknown_names(text, "", same_language=True)


def swap_name(claim: str, article_sentences: list[str], rng: random.Random) -> Optional[str]:
    """The claim with one of its names replaced by a name from elsewhere in the article that it lacks."""
    own = [name for name in all_names(claim) if name in claim]
    words = set(claim.lower().split())
    others = sorted({name for s in article_sentences for name in all_names(s)
                     if not any(w.lower() in words for w in name.split())})
    if not own or not others:
        return None
    swapped = claim.replace(rng.choice(own), rng.choice(others), 1)
    return swapped if swapped != claim else None


def ntrex_pairs(path: Path, rng: random.Random) -> Iterator[dict]:
    """(English claim, Indonesian evidence) from each NTREX article's aligned sentences, true and swapped."""
    for line in path.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        english, indonesian = doc["en"][1:], doc["id"][1:]  # the first line is the headline
        for i in rng.sample(range(len(english)), min(2, len(english))):
            evidence = " ".join(indonesian[max(i - 1, 0): i + 1])
            yield {"source": "ntrex", "evidence": evidence, "claim": english[i], "true": True}
            swapped = swap_name(english[i], english, rng)
            if swapped:
                yield {"source": "ntrex", "evidence": evidence, "claim": swapped, "true": False}


def indosum_pairs(paths: list[Path], rng: random.Random) -> Iterator[dict]:
    """(Indonesian summary sentence, the article sentence before and the one sharing most words), true and swapped."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            sentences = [detokenise(s) for paragraph in doc["paragraphs"] for s in paragraph]
            claim = detokenise(rng.choice(doc["summary"]))
            claim_terms = set(terms(claim))
            if not claim_terms or len(sentences) < 2:
                continue
            shared = [len(claim_terms & set(terms(s))) / len(claim_terms) for s in sentences]
            best = max(range(len(sentences)), key=shared.__getitem__)
            if shared[best] < MIN_SHARED_WORDS:
                continue
            evidence = " ".join(sentences[max(best - 1, 0): best + 1])
            yield {"source": "indosum", "evidence": evidence, "claim": claim, "true": True}
            swapped = swap_name(claim, sentences, rng)
            if swapped:
                yield {"source": "indosum", "evidence": evidence, "claim": swapped, "true": False}


def take(pairs: Iterator[dict], per_class: int) -> list[dict]:
    """The first ``per_class`` true and ``per_class`` false pairs."""
    kept, counts = [], {True: 0, False: 0}
    for pair in pairs:
        if counts[pair["true"]] < per_class:
            kept.append(pair)
            counts[pair["true"]] += 1
        if min(counts.values()) >= per_class:
            break
    return kept


def choose_threshold(pairs: list[dict], max_true_dropped: float) -> dict:
    """The highest threshold dropping at most that share of true claims, and what it catches."""
    true = [p["log_odds"] for p in pairs if p["true"]]
    false = [p["log_odds"] for p in pairs if not p["true"]]
    rows = [{"threshold": t, "true_dropped": sum(v < t for v in true) / len(true),
             "false_caught": sum(v < t for v in false) / len(false)}
            for t in candidate_thresholds(true + false)]
    allowed = [r for r in rows if r["true_dropped"] <= max_true_dropped + 1e-12]
    return max(allowed, key=lambda r: r["threshold"])


def summary(pairs: list[dict], max_true_dropped: float) -> dict:
    """Each source's threshold, separation, and what it drops and catches."""
    out = {}
    for source in sorted({p["source"] for p in pairs}):
        rows = [p for p in pairs if p["source"] == source]
        true = [p["log_odds"] for p in rows if p["true"]]
        false = [p["log_odds"] for p in rows if not p["true"]]
        out[source] = {"setting": SETTING[source], "true": len(true), "false": len(false),
                       "auc": separation_auc(true, false), **choose_threshold(rows, max_true_dropped)}
    return out


def judge_all(pairs: list[dict]) -> list[dict]:
    """Each pair's log-odds from the claim judge of the default chat model."""
    from app.api import Assistant
    from app.claims import ClaimJudge
    from eval.runner import _progress

    assistant = Assistant(data_dir=Path(tempfile.mkdtemp(prefix="kabar-claims-")))
    try:
        judge = ClaimJudge(assistant.chat_model)
        for pair in _progress(pairs, "claims"):
            pair["log_odds"] = judge.log_odds(pair["evidence"], pair["claim"])
    finally:
        assistant.close()
    return [p for p in pairs if p["log_odds"] is not None]


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate_claims", description=__doc__.split("\n")[0])
    parser.add_argument("--ntrex", type=Path, required=True, help="ntrex/docs.jsonl")
    parser.add_argument("--indosum", type=Path, nargs="+", required=True, help="indosum/dev.0*.jsonl")
    parser.add_argument("--per-class", type=int, default=80, help="true and false claims from each source")
    parser.add_argument("--max-true-dropped", type=float, default=0.0,
                        help="share of true claims a threshold may drop (default 0: none)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, default=RESULTS / "calibrate_claims.json")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    """Print the chosen threshold and each source's separation; write every verdict as JSON."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    rng = random.Random(args.seed)
    pairs = take(ntrex_pairs(args.ntrex, rng), args.per_class) + take(indosum_pairs(args.indosum, rng), args.per_class)
    pairs = judge_all(pairs)
    chosen = summary(pairs, args.max_true_dropped)
    report = {"seed": args.seed, "per_class": args.per_class, "max_true_dropped": args.max_true_dropped,
              "chosen": chosen, "pairs": pairs}
    for source, row in chosen.items():
        print(f"{source:8} {row['setting']} = {row['threshold']:.3f}: AUC {row['auc']:.3f}, drops "
              f"{row['true_dropped']:.1%} of {row['true']} true claims, catches {row['false_caught']:.1%} of "
              f"{row['false']} swapped ones")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
