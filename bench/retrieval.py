"""Retrieval latency at 10k and 100k chunks: dense, keyword and hybrid ``Retriever`` against raw Chroma.

Run from the repository root: ``.venv/bin/python bench/retrieval.py`` (``--sizes 10000,100000``).
Embedding 100k real chunks is far too slow on 2 cores, so each store holds real IndoSum chunk texts
(the project's chunker), topped up with chunks recombined from real IndoSum sentences; the first
``--embed-count`` real chunks are embedded for real and every other chunk gets one of those vectors
plus Gaussian noise (``--noise`` per dimension), re-normalised. The sizes are prefixes of one corpus
and one store grows through them (the 100k store is the 10k store plus 90k chunks), so every chunk is
written once. Chunks go in as synthetic documents of ``--chunks-per-doc`` chunks, ``--write-batch``
chunks per ``ChunkStore.write_documents`` call, the public write the ingest uses (Chroma chunks in
1,024-chunk upserts, the document registry, its cleanup by ``doc_id``, then the keyword index, whose
Sastrawi stems are cached per word, so recombined chunks reuse the real chunks' stems). The store's collection settings are the production ones (cosine HNSW,
ef_construction 200, ef_search 200). Queries are real FacQA questions, embedded once (timed apart);
search is then timed alone, every searcher on every question in turn, ``--repeats`` times.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import time

import numpy as np

from common import (SHARED_DATA, Timer, base_parser, bench_settings, indosum_files, machine, models_dir,
                    percentiles_ms, print_table, settings_summary, work_dir, write_json)
from langchain_core.embeddings import Embeddings

MODES = ("dense", "keyword", "hybrid")
TARGETS = {"hybrid_p95_ms_at_100k": 50}


def parse_args(argv=None):
    parser = base_parser("retrieval", __doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="store sizes in chunks (default: %(default)s)")
    parser.add_argument("--embed-count", type=int, default=2000,
                        help="real chunks embedded for real (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=50, help="FacQA questions (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the questions (default: %(default)s)")
    parser.add_argument("--noise", type=float, default=0.03,
                        help="per-dimension noise on reused vectors (default: %(default)s)")
    parser.add_argument("--chunks-per-doc", type=int, default=20,
                        help="chunks per stored document (default: %(default)s)")
    parser.add_argument("--write-batch", type=int, default=2000,
                        help="chunks per ChunkStore.write_documents call while building (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13)
    return parser.parse_args(argv)


def real_chunks(settings, needed: int) -> list[tuple[str, str]]:
    """(title, chunk text) of unique IndoSum articles through the project's loader and chunker, up to ``needed``."""
    from ingest.chunking import chunk_article, make_splitter
    from ingest.loaders import Article, load_path

    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    chunks: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in indosum_files():
        for article in load_path(path, 10**9):
            if isinstance(article, Article) and article.doc_id not in seen:
                seen.add(article.doc_id)
                chunks.extend((article.title, text) for text in chunk_article(article, splitter)[1])
            if len(chunks) >= needed:
                return chunks[:needed]
    return chunks


def recombined(pool: list[tuple[str, str]], count: int, size: int, rng: random.Random) -> list[tuple[str, str]]:
    """New chunks made of real sentences from random real chunks, packed to about ``size`` characters."""
    sentences = [s for _, text in pool for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
    out = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < size * 0.8:
            parts.append(rng.choice(sentences))
        out.append((rng.choice(pool)[0], " ".join(parts)[:size]))
    return out


def corpus(settings, size: int, rng: random.Random) -> tuple[list[tuple[str, str]], int]:
    """``size`` chunks: every real one first, then recombined ones; also how many are real."""
    pool = real_chunks(settings, size)
    return pool + recombined(pool, size - len(pool), settings.chunk_size, rng), len(pool)


def vectors(base: np.ndarray, size: int, noise: float, seed: int) -> np.ndarray:
    """Real vectors first, then a random real vector plus noise for every other chunk, re-normalised."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(base), size - len(base)) if size > len(base) else np.array([], dtype=int)
    extra = base[picks] + rng.normal(0.0, noise, (len(picks), base.shape[1])).astype(np.float32)
    out = np.concatenate([base[:size], extra]).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def documents(chunks: list[tuple[str, str]], vecs: np.ndarray, start: int, end: int, per_doc: int) -> list:
    """Chunks ``start:end`` as synthetic documents of ``per_doc`` chunks, ready for ChunkStore.write_documents
    (vectors as numpy rows). A document is named by the index of its first chunk, so a store can grow from
    one size to the next."""
    from vectorstore.store import DocumentRecord, DocumentWrite

    writes = []
    for first in range(start, end, per_doc):
        doc_id, version = f"bench-{first}", "v1"
        part = chunks[first:min(first + per_doc, end)]
        ids = [hashlib.sha256(f"{doc_id}|{version}|{i}".encode()).hexdigest()[:32] for i in range(len(part))]
        metas = [{"doc_id": doc_id, "version": version, "chunk_index": i, "title": title, "outlet": "",
                  "date": "", "url": "", "source": "indosum-bench"} for i, (title, _) in enumerate(part)]
        record = DocumentRecord(doc_id=doc_id, version=version, title=part[0][0], source="indosum-bench",
                                chunks=len(part))
        writes.append(DocumentWrite(record, ids, [text for _, text in part], vecs[first:first + len(part)], metas))
    return writes


def grow_store(settings, chunks: list[tuple[str, str]], vecs: np.ndarray, size: int, per_doc: int,
               batch: int) -> tuple[object, float, int]:
    """Open the store and add chunks ``count:size``, about ``batch`` chunks per write. The sizes are
    prefixes of one corpus, so the 100k store is the 10k store plus 90k chunks; a kept store
    (--work-dir) larger than ``size`` is rebuilt."""
    from vectorstore.store import open_store

    store = open_store(settings)
    if store.count() > size:
        del store
        shutil.rmtree(settings.data_dir)
        store = open_store(settings)
    step = max(1, batch // per_doc) * per_doc
    held = store.count()
    with Timer() as t:
        for start in range(held, size, step):
            store.write_documents(documents(chunks, vecs, start, min(start + step, size), per_doc))
    return store, t.seconds, size - held


class Precomputed(Embeddings):
    """Query vectors computed beforehand, so the Retriever's timing is search alone."""

    def __init__(self, table: dict[str, list[float]]):
        self._table = table

    def embed_query(self, text: str) -> list[float]:
        return self._table[text]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError


def embed_queries(embedder, questions: list[str]) -> tuple[dict, list[float]]:
    table, times = {}, []
    for question in questions:
        with Timer() as t:
            table[question] = embedder.embed_query(question)
        times.append(t.seconds)
    return table, times


def searchers(settings, store, table: dict) -> dict:
    """Name -> function(question) for the three Retriever modes and direct Chroma queries."""
    from vectorstore.retriever import Retriever
    from vectorstore.store import make_chroma_client

    runs = {}
    for mode in MODES:
        retriever = Retriever(settings.with_changes(retrieval_mode=mode), store, Precomputed(table))
        runs[f"Retriever {mode}"] = retriever.retrieve
    collection = make_chroma_client(settings).get_collection(settings.chroma_collection)
    for k in sorted({settings.top_k, settings.fetch_k}):
        runs[f"chroma query k={k}"] = lambda q, k=k: collection.query(query_embeddings=[table[q]], n_results=k)
    return runs


def time_searches(runs: dict, questions: list[str], repeats: int) -> dict:
    """Warm up, then every question through every searcher in turn, ``repeats`` times."""
    for run in runs.values():
        for question in questions[:5]:
            run(question)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for question in questions:
            for name, run in runs.items():
                with Timer() as t:
                    run(question)
                times[name].append(t.seconds)
    return {name: percentiles_ms(values) for name, values in times.items()}


def base_vectors(embedder, chunks: list[tuple[str, str]], folder) -> tuple[np.ndarray, float]:
    """Real passage vectors of the first chunks (title + text, as ingest embeds them), cached in the work dir."""
    cache = folder / f"base-{len(chunks)}.npy"
    if cache.exists():
        return np.load(cache), 0.0
    with Timer() as t:
        base = np.asarray(embedder.embed_documents([f"{title}\n{text}" for title, text in chunks]), dtype=np.float32)
    np.save(cache, base)
    return base, t.seconds


def run(args) -> dict:
    from core.embeddings import make_embeddings
    from eval.datasets import load_set

    started = machine()  # date and load average before the work starts
    clock = time.perf_counter()
    sizes = [int(s) for s in args.sizes.split(",")]
    with work_dir(args, "retrieval") as folder:
        settings = bench_settings(folder / "data", models_dir(args))
        embedder = make_embeddings(settings)
        pool, real = corpus(settings, max(sizes), random.Random(args.seed))
        base, embed_s = base_vectors(embedder, pool[: min(args.embed_count, len(pool))], folder)
        all_vecs = vectors(base, len(pool), args.noise, args.seed)
        facqa = load_set("facqa", SHARED_DATA / "facqa" / "valid.csv", args.queries, args.seed)
        questions = [item.question for item in facqa.items]
        table, query_times = embed_queries(embedder, questions)
        results = {}
        store_settings = settings.with_changes(data_dir=folder / "store")
        for size in sorted(sizes):
            store, build_s, written = grow_store(store_settings, pool, all_vecs, size, args.chunks_per_doc,
                                                 args.write_batch)
            load_before = round(os.getloadavg()[0], 2)
            search = time_searches(searchers(store_settings, store, table), questions, args.repeats)
            results[str(size)] = {"chunks": store.count(), "chunks_written": written, "build_s": round(build_s, 1),
                                  "load_average_1m_at_search": [load_before, round(os.getloadavg()[0], 2)],
                                  "search": search}
    return {
        "benchmark": "retrieval", "machine": started, "settings": settings_summary(settings),
        "method": " ".join(__doc__.split("\n\n", 1)[1].split()),
        "parameters": {"embed_count": len(base), "real_chunks": real,
                       "noise": args.noise, "chunks_per_doc": args.chunks_per_doc,
                       "write_batch": args.write_batch, "queries": len(questions),
                       "repeats": args.repeats, "seed": args.seed, "base_embed_s": round(embed_s, 1)},
        "query_embedding": percentiles_ms(query_times), "sizes": results, "targets": TARGETS,
        "wall_s": round(time.perf_counter() - clock, 1), "load_average_1m_end": round(os.getloadavg()[0], 2),
    }


def show(result: dict) -> None:
    rows = [["query embedding (" + result["settings"]["embedding_backend"] + ")", "-",
             result["query_embedding"]["p50_ms"], result["query_embedding"]["p95_ms"]]]
    for size, data in result["sizes"].items():
        for name, stats in data["search"].items():
            rows.append([name, f"{data['chunks']:,}", stats["p50_ms"], stats["p95_ms"]])
    p = result["parameters"]
    print_table(f"Retrieval latency, {result['machine']['cpu_count']} CPUs, {result['machine']['date']}",
                ["search", "chunks", "p50 ms", "p95 ms"], rows,
                caption=f"Real IndoSum chunks topped up with recombined real sentences; {p['embed_count']} chunks "
                        f"embedded for real, the rest reuse those vectors + N(0,{p['noise']}) noise, re-normalised; "
                        f"{p['queries']} FacQA questions x {p['repeats']}; search timed without query embedding. "
                        "Store build: " + ", ".join(f"+{d['chunks_written']:,} chunks to {d['chunks']:,} in {d['build_s']} s"
                                                    for d in result["sizes"].values())
                        + f"; whole run {result['wall_s']} s, load average {result['machine']['load_average_1m']} at "
                          f"start, {result['load_average_1m_end']} at end. Target: hybrid p95 < 50 ms at 100k.")


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    show(result)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
