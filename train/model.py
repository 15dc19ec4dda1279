"""The trainable part of the checker: e5's top layers (from the exported weights) and one head per task."""
from __future__ import annotations

import torch
from torch import nn

from core.cross_encoder import mean_pool
from core.e5_torch import bert_layer

TASKS = ("qa", "claim")
LAYER_KEYS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
              "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")


class CheckerTop(nn.Module):
    """Layers ``first..last`` of the encoder as parameters (float32 masters) plus the task heads."""

    def __init__(self, base_weights: dict, layers: range, heads: int, eps: float, hidden: int, dropout: float = 0.1):
        super().__init__()
        self.layers, self.heads_count, self.eps = layers, heads, eps
        self.names = [f"encoder.layer.{i}.{key}.{kind}" for i in layers for key in LAYER_KEYS
                      for kind in ("weight", "bias")]
        self.params = nn.ParameterList([nn.Parameter(base_weights[n].float().clone()) for n in self.names])
        self.head = nn.Parameter(torch.zeros(len(TASKS), hidden + 1))
        nn.init.normal_(self.head[:, :-1], std=0.02)
        self.dropout = nn.Dropout(dropout)

    def weights(self) -> dict:
        return dict(zip(self.names, self.params))

    def forward(self, x, mask, task_index):
        """Logits of each row's own task head, from the cached states entering the first trained layer."""
        batch, width = mask.shape
        attn_mask = None if bool(mask.all()) else mask.bool()[:, None, None, :].expand(batch, 1, width, width)
        w = self.weights()
        for layer in self.layers:
            x = bert_layer(x, w, f"encoder.layer.{layer}.", attn_mask, self.heads_count, self.eps)
        pooled = self.dropout(mean_pool(x.float(), mask))
        head = self.head[task_index]
        return (pooled * head[:, :-1]).sum(-1) + head[:, -1]

    def state_to_save(self) -> dict:
        """Trained layers in bfloat16 (half the bytes; the app computes in bfloat16) and heads in float32."""
        state = {n: p.detach().to(torch.bfloat16).contiguous() for n, p in zip(self.names, self.params)}
        for i, task in enumerate(TASKS):
            state[f"heads.{task}"] = self.head[i].detach().float().contiguous()
        return state
