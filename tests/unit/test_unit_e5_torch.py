"""The e5 backend's own torch encoder against transformers' BertModel, its memory-mapped weights and the export stamp."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")


def tiny_bert_folder(tmp_path, dtype):
    """A random 2-layer BERT saved as the exporter saves it: config.json, model.safetensors (+ the bf16 copy)."""
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel

    from core.e5_torch import BF16_WEIGHTS

    config = BertConfig(vocab_size=300, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, max_position_embeddings=40, pad_token_id=1, layer_norm_eps=1e-12)
    torch.manual_seed(0)
    model = BertModel(config).eval()
    weights = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    save_file({k: v.to(torch.bfloat16) for k, v in weights.items()}, str(tmp_path / BF16_WEIGHTS),
              metadata={"format": "pt"})
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    return model.to(dtype)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_encoder_is_bit_identical_to_transformers_bert(tmp_path, dtype):
    from core.e5_torch import load_model

    dtype = getattr(torch, dtype)
    reference = tiny_bert_folder(tmp_path, dtype)
    ours = load_model(tmp_path, dtype)
    torch.manual_seed(1)
    for batch, width, padded in ((1, 5, False), (3, 17, True), (4, 40, False), (6, 33, True)):
        ids = torch.randint(4, 300, (batch, width))
        mask = torch.ones(batch, width, dtype=torch.long)
        if padded:
            for row in range(1, batch):
                mask[row, row * width // batch:] = 0
                ids[row, row * width // batch:] = 1
        with torch.inference_mode():
            expected = reference(input_ids=ids, attention_mask=mask).last_hidden_state
            assert torch.equal(ours(ids, mask), expected), (batch, width, padded)


def test_word_embeddings_stay_on_the_file_map_in_the_compute_dtype(tmp_path):
    from core.e5_torch import load_model

    tiny_bert_folder(tmp_path, torch.bfloat16)
    model = load_model(tmp_path, torch.bfloat16)
    embeddings = model.w["embeddings.word_embeddings.weight"]
    assert embeddings.dtype == torch.bfloat16 and all(w.dtype == torch.bfloat16 for w in model.w.values())
    assert not any(name.startswith("pooler.") for name in model.w)
    with open("/proc/self/maps") as maps:  # the embedding rows live inside a mapping of the bf16 file
        regions = [line.split() for line in maps if line.rstrip().endswith("model.bf16.safetensors")]
    address = embeddings.data_ptr()
    assert any(int(r[0].split("-")[0], 16) <= address < int(r[0].split("-")[1], 16) for r in regions)


def test_version_1_export_without_bf16_file_still_loads(tmp_path):
    from core.e5_torch import BF16_WEIGHTS, load_model

    tiny_bert_folder(tmp_path, torch.bfloat16)
    (tmp_path / BF16_WEIGHTS).unlink()
    model = load_model(tmp_path, torch.bfloat16)
    assert model.w["embeddings.word_embeddings.weight"].dtype == torch.bfloat16


def test_an_export_stamped_by_an_older_version_is_redone(tmp_path):
    import core.e5_export as e5_export

    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"x" * 10)
    folder = e5_export.export_dir(tmp_path)
    folder.mkdir()
    for name in ("model.safetensors", "model.bf16.safetensors"):
        (folder / name).write_bytes(b"w" * 7)
    stamp = {"from": e5_export._source_stamp(source), "weights_size": 7, "bf16_weights_size": 7}
    (folder / e5_export.STAMP).write_text(json.dumps(stamp))
    assert e5_export.is_exported(tmp_path, source)
    stamp["from"]["version"] = 1
    (folder / e5_export.STAMP).write_text(json.dumps(stamp))
    assert not e5_export.is_exported(tmp_path, source)
    (folder / "model.bf16.safetensors").unlink()
    stamp["from"]["version"] = e5_export.EXPORT_VERSION
    (folder / e5_export.STAMP).write_text(json.dumps(stamp))
    assert not e5_export.is_exported(tmp_path, source)  # a current stamp without the bf16 file
