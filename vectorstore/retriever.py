"""Dense, keyword or hybrid retrieval.

Hybrid retrieval takes ``fetch_k`` candidates from each side and orders their union by a weighted
sum of z-scored evidence (``fusion="score"``) or by reciprocal rank fusion (``fusion="rrf"``):

- dense: the cosine of the question to the chunk (title + text; e5 ``query:`` / ``passage:``);
- keyword: BM25, counted only for passages in the question's language: an English question shares
  only names and numbers with an Indonesian passage, so its BM25 ranking there is noise;
- headline: only when the question is in another language than every candidate (so BM25 has
  nothing to say), the question is also matched against each article's headline, both embedded
  alike (``passage:``), and a chunk's dense evidence is the higher of the two cosines. A short
  headline and a question that paraphrases it align across languages better than a long chunk.
  Within one language headlines are left out: question-headline similarities run higher than
  question-passage ones, so any topical headline would outrank the passage that answers.

Every passage returned carries the cosine of the question to its own chunk as ``score``: the
refusal gate compares that, whatever decided the order.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from core.question import Question
from vectorstore.analysis import mentions_any, spelt_alike_names
from vectorstore.interfaces import Store
from vectorstore.store import Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from core.settings import Settings

log = logging.getLogger(__name__)
HEADLINE_CACHE_SIZE = 20_000  # headline vectors kept in memory (1.5 KB each)
KEYWORD_THREADS = 4  # hybrid searches whose BM25 side can run at once beside their dense side

_keyword_pool: ThreadPoolExecutor | None = None
_keyword_pool_lock = threading.Lock()


def _keyword_executor() -> ThreadPoolExecutor:
    """One shared pool for the BM25 side of hybrid searches, made on first use."""
    global _keyword_pool
    with _keyword_pool_lock:
        if _keyword_pool is None:
            _keyword_pool = ThreadPoolExecutor(KEYWORD_THREADS, thread_name_prefix="kabar-bm25")
        return _keyword_pool


def reciprocal_rank_fusion(rankings: list[list[str]], weights: list[float], k: int) -> list[tuple[str, float]]:
    """Ids ordered by sum of weight / (k + rank); robust to the two scores' different scales."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def zscores(values: list[float]) -> np.ndarray:
    """(x - mean) / std over the candidates; all zeros when they do not differ (no evidence either way)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    spread = x.std()
    return (x - x.mean()) / spread if spread > 1e-9 else np.zeros_like(x)


def score_fusion(ids: list[str], dense: list[float], keyword: list[float],
                 weights: tuple[float, float]) -> list[tuple[str, float]]:
    """Ids ordered by w_dense * z(dense) + w_keyword * z(keyword); ties keep the given order."""
    total = weights[0] * zscores(dense) + weights[1] * zscores(keyword)
    order = sorted(range(len(ids)), key=lambda i: -total[i])
    return [(ids[i], float(total[i])) for i in order]


class HeadlineVectors:
    """Passage-side e5 vectors of article headlines, computed once per headline and kept (LRU)."""

    def __init__(self, embeddings: "Embeddings", size: int = HEADLINE_CACHE_SIZE):
        self._embeddings = embeddings
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, titles: list[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(t for t in titles if t.strip()))
        with self._lock:
            found = {t: self._cache[t] for t in wanted if t in self._cache}
            for title in found:
                self._cache.move_to_end(title)
        missing = [t for t in wanted if t not in found]
        if missing:
            vectors = self._embeddings.embed_documents(missing)
            with self._lock:
                for title, vector in zip(missing, vectors):
                    found[title] = self._cache[title] = np.asarray(vector, dtype=np.float32)
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return found


class Retriever:
    """Finds the passages for a question; every passage carries its cosine similarity as ``score``."""

    def __init__(self, settings: "Settings", store: Store, embeddings: "Embeddings",
                 reranker: Optional[Callable[[str, list[Passage]], list[float]]] = None):
        self._settings = settings
        self._reranker = reranker
        self._store = store
        self._embeddings = embeddings
        self._headlines = HeadlineVectors(embeddings)
        self._headline_unavailable = False

    def retrieve(self, question: str | Question, k: int | None = None) -> list[Passage]:
        """The k best passages, fused; with a reranker, each carries its probability of stating the answer, and
        a passage that beats the fused first by more than ``rerank_margin`` takes its place. (Reordering all by
        probability lost R@1 on held-out IDK-MRC questions, 0.985 -> 0.941; the margin rule gained on FacQA.)"""
        question = question if isinstance(question, Question) else Question.of(question)
        k = k or self._settings.top_k
        if self._reranker is None:
            return self._fused(question, k)
        candidates = self._fused(question, max(k, self._settings.rerank_depth))
        for passage, probability in zip(candidates, self._reranker(question.text, candidates)):
            passage.answer_score = probability
        if candidates:
            best = max(candidates, key=lambda p: p.answer_score)
            if best.answer_score - candidates[0].answer_score > self._settings.rerank_margin:
                candidates = [best] + [p for p in candidates if p is not best]
        return candidates[:k]

    def _fused(self, question: Question, k: int) -> list[Passage]:
        mode = self._settings.retrieval_mode
        vector = question.embedded(self._embeddings).tolist()
        fetch = max(k, self._settings.fetch_k)
        if mode == "dense" or self._store.keyword is None:
            dense = self._with_similarity(self._store.search(vector, fetch), vector)
            evidence = self._dense_evidence(question, dense)
            return sorted(dense, key=lambda p: -evidence[p.chunk_id])[:k]
        if mode == "keyword":
            keyword_hits = self._store.keyword.search_scores(question.text, fetch)
            return self._with_similarity(self._ordered([cid for cid, _ in keyword_hits][:k], {}), vector)
        # The two searches are independent, so the BM25 query runs on a pool thread while Chroma answers
        # the dense query here: the same calls, the same results.
        pending = _keyword_executor().submit(self._store.keyword.search_scores, question.text, fetch)
        try:
            dense = self._store.search(vector, fetch)
        except BaseException:
            wait([pending])  # leave no search running behind the error
            raise
        keyword_hits = pending.result()
        known = {p.chunk_id: p for p in dense}
        known.update(self._store.passages([cid for cid, _ in keyword_hits if cid not in known]))
        keyword_hits = [(cid, s) for cid, s in keyword_hits if cid in known]
        if self._settings.keyword_language_match:
            keyword_hits = self._same_language(question, keyword_hits, known)
        candidates = list(dict.fromkeys([p.chunk_id for p in dense] + [cid for cid, _ in keyword_hits]))
        self._with_similarity([known[cid] for cid in candidates], vector)
        evidence = self._dense_evidence(question, [known[cid] for cid in candidates])
        if self._settings.fusion == "rrf":
            dense_ids = sorted((p.chunk_id for p in dense), key=lambda cid: -evidence[cid])
            fused = reciprocal_rank_fusion(
                [dense_ids, [cid for cid, _ in keyword_hits]],
                [self._settings.dense_weight, self._settings.keyword_weight], self._settings.rrf_k,
            )
        else:
            bm25 = dict(keyword_hits)
            fused = score_fusion(candidates, [evidence[cid] for cid in candidates],
                                 [bm25.get(cid, 0.0) for cid in candidates],
                                 (self._settings.dense_weight, self._settings.keyword_weight))
        return [known[chunk_id] for chunk_id, _ in fused[:k]]

    # --- dense evidence -----------------------------------------------------------------------------
    def _dense_evidence(self, question: Question, passages: list[Passage]) -> dict[str, float]:
        """Chunk id -> cosine to the chunk or, for a question in another language than every candidate,
        max(cosine to the chunk, symmetric cosine of question and headline)."""
        evidence = {p.chunk_id: p.score for p in passages}
        if not self._settings.headline_match or not passages:
            return evidence
        if any(p.language == question.search_language for p in passages):
            return evidence
        headlines = self._headline_similarities(question.text, [p.title for p in passages])
        for passage in passages:
            if passage.title in headlines:
                evidence[passage.chunk_id] = max(evidence[passage.chunk_id], headlines[passage.title])
        return evidence

    def _headline_similarities(self, question: str, titles: list[str]) -> dict[str, float]:
        """Title -> cosine of the question and the title, both embedded as passages (a symmetric match)."""
        if self._headline_unavailable or not any(t.strip() for t in titles):
            return {}
        try:
            vectors = self._headlines.get(titles)
            query = np.asarray(self._embeddings.embed_documents([question])[0], dtype=np.float32)
        except NotImplementedError:  # an embedder that only answers queries (a precomputed table)
            log.info("the embedder cannot embed passages: headline match is off")
            self._headline_unavailable = True
            return {}
        return {title: float(vec @ query) for title, vec in vectors.items()}

    # --- keyword evidence ---------------------------------------------------------------------------
    @staticmethod
    def _same_language(question: Question, hits: list[tuple[str, float]],
                       known: dict[str, Passage]) -> list[tuple[str, float]]:
        """Keyword hits whose passage is written in the question's language, or has one of its acronyms: an English
        question about "JSR" lost the one Indonesian passage naming it among 9,000 chunks on meaning alone."""
        names = spelt_alike_names(question.text)
        return [(cid, s) for cid, s in hits if cid in known and (
            known[cid].language == question.search_language or (names and mentions_any(known[cid].text, names)))]

    # --- helpers ------------------------------------------------------------------------------------
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

