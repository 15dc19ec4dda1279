"""Dense, keyword or hybrid retrieval; hybrid fuses the two rankings by reciprocal rank fusion."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vectorstore.store import ChunkStore, Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from core.settings import Settings


def reciprocal_rank_fusion(rankings: list[list[str]], weights: list[float], k: int) -> list[tuple[str, float]]:
    """Ids ordered by sum of weight / (k + rank); robust to the two scores' different scales."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


class Retriever:
    """Finds the passages for a question; every passage carries its cosine similarity as ``score``."""

    def __init__(self, settings: "Settings", store: ChunkStore, embeddings: "Embeddings"):
        self._settings = settings
        self._store = store
        self._embeddings = embeddings

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        k = k or self._settings.top_k
        mode = self._settings.retrieval_mode
        vector = self._embeddings.embed_query(question)
        if mode == "dense" or self._store.keyword is None:
            return self._store.search(vector, k)
        fetch = max(k, self._settings.fetch_k)
        keyword_ids = [row[0] for row in self._store.keyword.search(question, fetch)]
        if mode == "keyword":
            return self._with_similarity(self._ordered(keyword_ids[:k], {}), vector)
        dense = self._store.search(vector, fetch)
        fused = reciprocal_rank_fusion(
            [[p.chunk_id for p in dense], keyword_ids],
            [self._settings.dense_weight, self._settings.keyword_weight], self._settings.rrf_k,
        )
        top_ids = [chunk_id for chunk_id, _ in fused[:k]]
        return self._with_similarity(self._ordered(top_ids, {p.chunk_id: p for p in dense}), vector)

    def _ordered(self, ids: list[str], known: dict[str, Passage]) -> list[Passage]:
        """Passages for ids in the given order, fetching from Chroma those not already at hand."""
        missing = [i for i in ids if i not in known]
        found = {**known, **self._store.passages(missing)}
        return [found[i] for i in ids if i in found]

    @staticmethod
    def _with_similarity(passages: list[Passage], vector: list[float]) -> list[Passage]:
        """Cosine similarity to the question for every passage (the refusal gate compares it)."""
        query = np.asarray(vector, dtype=np.float32)
        for passage in passages:
            if passage.vector is not None:
                passage.score = float(np.asarray(passage.vector, dtype=np.float32) @ query)
        return passages
