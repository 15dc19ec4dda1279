"""python -m eval.checker: the trained checker alone, on pairs it never saw, beside the numbers issue #17 asks for.

- IndoNLI test_lay: entailed against neutral or contradicted (claim head, threshold 0.5);
- NTREX documents held out of training: each sentence (English or Indonesian) against the Indonesian
  evidence window, true and with one name, number, unit, date or role swapped;
- IDK-MRC valid: answerability of each question from the best window of its paragraph (qa head), AUC and
  the best refusal F1 (a threshold to tune on dev, reported beside the 0.5 one).
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from train.data import SHARED, facqa_pairs, indonli_pairs, ntrex_docs, windows
from train.swaps import SWAPS, article_pool, swapped


def auc(scores: list[float], labels: list[int]) -> float:
    """Probability that a positive outscores a negative (ties count half)."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def indonli(checker, path: Path) -> dict:
    pairs = indonli_pairs(path)
    probs = checker.probabilities("claim", [(p.a, p.b) for p in pairs])
    labels = np.array([p.label for p in pairs])
    return {"pairs": len(pairs), "accuracy": float(np.mean((probs >= 0.5) == labels)),
            "auc": auc(list(probs), list(labels))}


def ntrex_swaps(checker, path: Path, threshold: float, seed: int = 7) -> dict:
    """True claims kept and swapped claims caught, per kind and language, on held-out documents."""
    rng = random.Random(seed)
    rows = []  # (language, kind, claim, evidence, label)
    for doc in ntrex_docs(path, held=True):
        en, idn = doc["en"][1:], doc["id"][1:]
        pool = article_pool(en + idn)
        for i in range(min(len(en), len(idn))):
            evidence = " ".join(idn[max(i - 1, 0): i + 1])
            for language, claim in (("en", en[i]), ("id", idn[i])):
                if len(claim) < 25:
                    continue
                rows.append((language, "true", claim, evidence, 1))
                for kind in SWAPS:
                    fake = swapped(claim, kind, rng, pool)
                    if fake:
                        rows.append((language, kind, fake, evidence, 0))
    probs = checker.probabilities("claim", [(r[2], r[3]) for r in rows])
    out = {}
    for language in ("en", "id"):
        for kind in ("true", *SWAPS):
            hits = [p for r, p in zip(rows, probs) if r[0] == language and r[1] == kind]
            if hits:
                rate = float(np.mean([p >= threshold for p in hits]))
                out[f"{language}:{kind}"] = {"n": len(hits), "kept" if kind == "true" else "caught":
                                             rate if kind == "true" else 1 - rate}
    fakes = [p for r, p in zip(rows, probs) if r[1] != "true"]
    trues = [p for r, p in zip(rows, probs) if r[1] == "true"]
    out["all"] = {"caught": float(np.mean([p < threshold for p in fakes])),
                  "true_dropped": float(np.mean([p < threshold for p in trues])), "n": len(rows)}
    return out


def facqa_scores(checker, path: Path) -> list[float]:
    """Each FacQA question against its own (gold) passage: all answerable, so a low score is a wrong refusal."""
    pairs = [(p.a, p.b) for p in facqa_pairs(path, random.Random(0), hard=0) if p.label == 1]
    return [float(x) for x in checker.probabilities("qa", pairs)]


def idk_mrc(checker, path: Path, facqa: list[float], max_facqa_refused: float = 0.10) -> dict:
    """Each question's best window probability; AUC and refusal F1 at 0.5 and at the best threshold that
    refuses at most ``max_facqa_refused`` of FacQA's answerable questions over their own passage."""
    paragraphs = json.loads(path.read_text(encoding="utf-8"))
    scores, answerable = [], []
    for paragraph in paragraphs:
        chunks = windows(paragraph["context"])
        for qa in paragraph["qas"]:
            probs = checker.probabilities("qa", [(qa["question"], c) for c in chunks])
            scores.append(float(probs.max()))
            answerable.append(int(not qa["is_impossible"]))
    def refusal_f1(t: float) -> float:
        refused = [s < t for s in scores]
        tp = sum(r and not a for r, a in zip(refused, answerable))
        precision = tp / max(sum(refused), 1)
        recall = tp / max(sum(1 - a for a in answerable), 1)
        return 2 * precision * recall / max(precision + recall, 1e-9)
    def facqa_refused(t: float) -> float:
        return float(np.mean([s < t for s in facqa]))
    grid = [i / 100 for i in range(1, 100)]
    best = max((t for t in grid if facqa_refused(t) <= max_facqa_refused), key=refusal_f1)
    return {"questions": len(scores), "auc": auc(scores, answerable), "refusal_f1@0.5": refusal_f1(0.5),
            "facqa_refused@0.5": facqa_refused(0.5), "best_threshold": best, "refusal_f1@best": refusal_f1(best),
            "facqa_refused@best": facqa_refused(best)}


def main(argv=None) -> int:
    from core.cross_encoder import CHECKER_DIR, CrossEncoder
    from core.e5_export import export_dir
    from core.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m eval.checker", description=__doc__.splitlines()[0])
    parser.add_argument("--checker", type=Path, default=CHECKER_DIR)
    parser.add_argument("--claim-threshold", type=float, default=0.5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    checker = CrossEncoder(export_dir(load_settings().models_dir), args.checker)
    report = {"indonli_test_lay": indonli(checker, SHARED / "train" / "indonli" / "test_lay.jsonl"),
              "indonli_val": indonli(checker, SHARED / "train" / "indonli" / "val.jsonl"),
              "ntrex_swaps_held_out": ntrex_swaps(checker, SHARED / "ntrex" / "docs.jsonl", args.claim_threshold),
              "idk_mrc_valid": idk_mrc(checker, SHARED / "idk_mrc" / "valid.json",
                                       facqa_scores(checker, SHARED / "facqa" / "valid.csv"))}
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
