"""Kabar's checker: multilingual-e5-small read as a cross-encoder, with its top layers and two heads trained.

One forward pass reads a pair together, so it sees who did what to whom, which number goes with which unit,
and whether the passage states the asked-for fact, where two separate embeddings only see topics. Heads:

- ``qa``: does this passage state the answer to this question? (reranking, answerability, evidence)
- ``claim``: does this evidence say what this sentence says? (the answer check, across languages too)

The lower layers are the exported e5 ones; ``models/kabar-checker`` holds only the trained top layers and
the heads (``python -m train`` writes them; its model card is beside them). Imported only when chosen.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from core.errors import ModelUnavailable

CHECKER_DIR = Path(__file__).resolve().parents[1] / "models" / "kabar-checker"
WEIGHTS, CONFIG = "model.safetensors", "config.json"
PREFIXES = {"qa": ("query: ", "passage: "), "claim": ("claim: ", "passage: ")}
MAX_FIRST_TOKENS = 96  # the question or claim; the passage gets the rest of max_length


class Checker(Protocol):
    """What the pipeline's stages (app/checker.py) call, so a fake (core/fakes.py) or another model can stand in."""

    def probabilities(self, task: str, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """For each (first, second) pair, the ``task`` head's probability of yes (tasks: PREFIXES)."""
        ...


def make_checker(settings, embeddings=None) -> Checker:
    """The checker the settings name (checker_backend). The trained one runs over the exported e5 folder that
    ``make models`` writes; with the e5 embedder given, over its already loaded encoder and tokenizer (only the
    trained layers are then new in memory)."""
    if settings.checker_backend == "fake":
        from core.fakes import FakeChecker

        return FakeChecker()
    from core.e5_export import export_dir

    shared = embeddings.shared_parts() if hasattr(embeddings, "shared_parts") else {}
    shared.setdefault("dtype", settings.embedding_dtype)
    return CrossEncoder(export_dir(settings.models_dir), settings.checker_path or CHECKER_DIR,
                        threads=settings.embedding_threads, **shared)


def pair_ids(tokenizer, task: str, first: str, second: str, max_length: int) -> list[int]:
    """<s> first </s></s> second </s> (XLM-R's pair layout), the second text cut to fit."""
    a_prefix, b_prefix = PREFIXES[task]
    a = tokenizer.encode(a_prefix + first).ids
    b = tokenizer.encode(b_prefix + second).ids
    if len(a) > MAX_FIRST_TOKENS + 2:
        a = a[: MAX_FIRST_TOKENS + 1] + a[-1:]
    room = max_length - len(a) - 1
    body = b[1:-1][: max(room - 1, 0)]
    return a + [a[-1]] + body + b[-1:]


def mean_pool(hidden, mask):
    """Mean of the hidden states over the real tokens, as e5 pools."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)


class CrossEncoder:
    """Scores (first, second) pairs with one head; thread-safe, one forward at a time."""

    def __init__(self, e5_folder: Path, checker_folder: Path = CHECKER_DIR, dtype="auto",
                 threads: int | None = None, batch_tokens: int = 8192, encoder=None, tokenizer=None):
        import torch
        from tokenizers import Tokenizer

        from core.e5_torch import fastest_dtype, load_model, mapped_tensors

        checker_folder = Path(checker_folder)
        if not (checker_folder / WEIGHTS).is_file():
            raise ModelUnavailable(f"The checker's weights are missing at {checker_folder} (retrain: python -m train).")
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.dtype = dtype if not isinstance(dtype, str) else fastest_dtype(torch) if dtype == "auto" else getattr(
            torch, dtype)
        self.config = json.loads((checker_folder / CONFIG).read_text())
        try:
            if tokenizer is None:
                tokenizer = Tokenizer.from_file(str(Path(e5_folder) / "tokenizer.json"))
                tokenizer.no_truncation()
                tokenizer.no_padding()
            self._tokenizer = tokenizer
            self._encoder = encoder or load_model(Path(e5_folder), self.dtype)
            trained, _ = mapped_tensors(checker_folder / WEIGHTS)
        except Exception as err:  # corrupt or partial folders: many exception types
            raise ModelUnavailable(f"Cannot load the checker from {checker_folder}: {err}") from err
        self._weights = dict(self._encoder.w)
        self._weights.update({k: v.to(self.dtype, copy=True) for k, v in trained.items() if k.startswith("encoder.")})
        self._heads = {k.split(".")[1]: v.float().clone() for k, v in trained.items() if k.startswith("heads.")}
        self._max_length = int(self.config["max_length"])
        self._batch_tokens = batch_tokens
        self._lock = threading.Lock()

    def logits(self, task: str, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """The head's logit for each pair (above 0: more likely yes than no)."""
        if not pairs:
            return np.empty(0, dtype=np.float32)
        ids = [pair_ids(self._tokenizer, task, a, b, self._max_length) for a, b in pairs]
        out = np.empty(len(ids), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        with self._lock:
            start = 0
            while start < len(order):
                size = max(1, self._batch_tokens // len(ids[order[start]]))
                batch = order[start: start + size]
                out[batch] = self._forward(task, [ids[i] for i in batch])
                start += size
        return out

    def probabilities(self, task: str, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(task, pairs)))

    def _forward(self, task: str, rows: list[list[int]]) -> np.ndarray:
        torch = self._torch
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self._encoder.pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        with torch.inference_mode():
            hidden = self._encoder.run_layers(self._encoder.embed(ids), mask, range(self._encoder.layers),
                                              self._weights)
            pooled = mean_pool(hidden.float(), mask)
            head = self._heads[task]
            return (pooled @ head[:-1] + head[-1]).numpy()
