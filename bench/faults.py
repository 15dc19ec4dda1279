"""Randomized fault trials: concurrent ingests, updates, removals and repairs, and kill -9 at random moments.

Each trial starts worker processes on one store (one data directory, or with ``--mode server`` one
Chroma server with a data directory per worker, as front ends have), each with two threads sharing
one store as the HTTP handler's requests do. Every thread ingests (repair first, as ``ingest`` does),
updates, removes and repairs random articles; the parent SIGKILLs random workers at random moments
and starts replacements. Once all are done, a fresh process opens the store (as the next start
would) and checks that every document the registry lists is whole and exactly one of the versions
written, before and after ``repair()``, and that afterwards registry, Chroma and the keyword index
agree exactly. A hashing embedder stands in for e5: the faults are the store's, not the model's.
"""
from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from common import REPO, base_parser, machine, print_table, work_dir, write_json

DOCS, VARIANTS, DIM = 6, 3, 16
OPS_PER_THREAD = 10
WORKER_TIMEOUT = 180.0


class HashEmbeddings:
    """Same text, same vector: enough for a store that is checked, not searched."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        return [(b - 127.5) / 127.5 for b in digest[:DIM]]


def articles() -> dict[str, object]:
    """Every version any worker may write, by version: DOCS articles in VARIANTS editions."""
    from ingest.loaders import Article

    out = {}
    for doc in range(DOCS):
        for variant in range(VARIANTS):
            text = " ".join(f"Kalimat {i} berita {doc} edisi {variant} tentang pasar, cuaca dan kereta."
                            for i in range(14))
            article = Article(f"doc-{doc}", text, f"faults#{doc}", title=f"Berita {doc}")
            out[article.version] = article
    return out


def settings_for(data_dir: Path, collection: str, port: int | None):
    from core.settings import Settings

    return Settings(data_dir=data_dir, models_dir=data_dir / "models", chunk_size=160, chunk_overlap=30,
                    chroma_collection=collection, chroma_host="127.0.0.1" if port else None, chroma_port=port or 8000)


# --- worker ---------------------------------------------------------------------------------
def worker(data_dir: Path, collection: str, port: int | None, seed: int, ready: Path) -> None:
    """Two threads of random operations on one store, as one front end's concurrent requests."""
    import vectorstore.store as store_module
    from ingest.service import IngestService

    store_module.WRITE_BATCH = 3  # several chunk calls per write: more moments to be killed between
    settings = settings_for(data_dir, collection, port)
    store = store_module.open_store(settings)
    service = IngestService(settings, store, HashEmbeddings())
    pool = list(articles().values())
    ready.touch()
    threads = [threading.Thread(target=_operations, args=(service, store, pool, random.Random(seed * 10 + t)))
               for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _operations(service, store, pool: list, rng: random.Random) -> None:
    for _ in range(OPS_PER_THREAD):
        roll = rng.random()
        if roll < 0.65:
            store.repair()
            service.ingest_articles(rng.sample(pool, rng.randint(1, 4)))
        elif roll < 0.85:
            store.delete_document(f"doc-{rng.randrange(DOCS)}")
        else:
            store.repair()


# --- one trial ------------------------------------------------------------------------------
def start_worker(trial_dir: Path, n: int, collection: str, port: int | None,
                 seed: int) -> tuple[subprocess.Popen, Path]:
    data = trial_dir / (f"front-{n}" if port else "data")
    ready = trial_dir / f"ready-{n}"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(data), collection, str(port or 0),
               str(seed), str(ready)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), ready


def run_trial(trial: int, rng: random.Random, root: Path, workers: int, port: int | None) -> dict:
    """Start workers, kill some at random moments (starting replacements), wait, then verify."""
    trial_dir = root / f"trial-{trial:03d}"
    collection = f"faults-{trial:03d}"
    from vectorstore.store import open_store

    open_store(settings_for(trial_dir / ("front-x" if port else "data"), collection, port))  # collections exist
    procs = [start_worker(trial_dir, n, collection, port, rng.randrange(10**9)) for n in range(workers)]
    kills = _kill_some(procs, rng, trial_dir, collection, port)
    failures = _wait_all(procs)
    result = verify(settings_for(trial_dir / "check", collection, port) if port else
                    settings_for(trial_dir / "data", collection, None))
    return {"trial": trial, "mode": "server" if port else "disk", "workers": len(procs), "kills": kills,
            "worker_errors": failures, **result}


def _kill_some(procs: list, rng: random.Random, trial_dir: Path, collection: str, port: int | None) -> int:
    """Up to two SIGKILLs, each at a random moment after a worker opened the store; half get a replacement."""
    kills = 0
    for _ in range(rng.randint(0, 2)):
        proc, ready = rng.choice(procs)
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        if rng.random() < 0.5:
            procs.append(start_worker(trial_dir, len(procs), collection, port, rng.randrange(10**9)))
    return kills


def _wait_all(procs: list) -> list[str]:
    """Errors of workers that ended badly other than by our SIGKILL."""
    errors = []
    for proc, _ in procs:
        try:
            code = proc.wait(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
            errors.append("hung")
        if code not in (0, -signal.SIGKILL):
            errors.append(proc.stderr.read().decode("utf-8", "replace")[-800:])
        proc.stderr.close()
    return errors


# --- verification ---------------------------------------------------------------------------
def verify(settings) -> dict:
    """Whole documents before and after repair; exact agreement of registry, Chroma and keyword index after."""
    from ingest.chunking import chunk_article, make_splitter
    from vectorstore.consistency import check_store
    from vectorstore.store import open_store

    store = open_store(settings)  # as the next start: the keyword index syncs with the registry
    before = check_store(store)
    splitter, known = make_splitter(settings.chunk_size, settings.chunk_overlap), articles()
    wrong = 0
    for record in store.documents():
        expected = chunk_article(known[record.version], splitter)[1] if record.version in known else []
        wrong += store.chunk_texts(record.doc_id, record.version) != (record.chunk_ids(), expected)
    store.repair()
    after = check_store(store)
    return {"documents": after.documents, "chunks": after.chunks,
            "lost": sum(before.missing.values()) + sum(after.missing.values()),
            "duplicated": sum(len(v) for v in after.extra.values()) + after.orphans + after.keyword_extra,
            "wrong_text": wrong, "leftovers_repaired": before.orphans + before.pending,
            "keyword_disagreed_after_repair": after.keyword_missing + after.keyword_extra,
            "pending_after": after.pending, "ok": after.ok and not before.missing and not before.extra
            and not wrong and not after.pending}


# --- main -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = base_parser("faults", "Concurrent ingests, updates, removals and kill -9; then check the store.")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3, help="worker processes per trial (two threads each)")
    parser.add_argument("--mode", choices=("disk", "server", "both"), default="disk",
                        help="one data directory, or one `chroma run` server with a data directory per worker")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows, started = [], time.monotonic()
    with work_dir(args, "faults") as root:
        for mode in (("disk", "server") if args.mode == "both" else (args.mode,)):
            rows += _trials(args, rng, root, mode)
    return _report(args, rows, time.monotonic() - started)


def _trials(args, rng: random.Random, root: Path, mode: str) -> list[dict]:
    server = _chroma_server(root / "server") if mode == "server" else None
    try:
        port = server[1] if server else None
        return [run_trial(t, rng, root / mode, args.workers, port) for t in range(args.trials)]
    finally:
        if server:
            server[0].terminate()
            server[0].wait(30)


def _chroma_server(path: Path) -> tuple[subprocess.Popen, int]:
    """`chroma run` (shipped with chromadb) on a free loopback port, once its heartbeat answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(cli), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("chroma server did not start")


def _report(args, rows: list[dict], seconds: float) -> int:
    columns = ["trial", "mode", "workers", "kills", "documents", "chunks", "lost", "duplicated", "wrong_text",
               "leftovers_repaired", "ok"]
    print_table("faults: randomized fault trials", columns, [[r[c] for c in columns] for r in rows],
                caption="lost/duplicated/wrong_text must be 0; leftovers are killed writers' chunks, removed by repair")
    keys = ("kills", "lost", "duplicated", "wrong_text", "leftovers_repaired")
    totals = {key: sum(r[key] for r in rows) for key in keys}
    failed = [r["trial"] for r in rows if not r["ok"] or r["worker_errors"]]
    write_json(args.json, {
        "benchmark": "faults", "machine": machine(), "seconds": round(seconds, 1),
        "settings": {"trials": args.trials, "workers": args.workers, "mode": args.mode, "seed": args.seed,
                     "docs": DOCS, "variants": VARIANTS, "ops_per_thread": OPS_PER_THREAD},
        "method": __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        "targets": {"lost": 0, "duplicated": 0, "wrong_text": 0},
        "totals": totals, "failed_trials": failed, "results": rows})
    print(f"{len(rows)} trials, {totals['kills']} kills: lost {totals['lost']}, duplicated {totals['duplicated']}, "
          f"wrong text {totals['wrong_text']}, failed trials {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        data, collection, port, seed, ready = sys.argv[2:7]
        worker(Path(data), collection, int(port) or None, int(seed), Path(ready))
    else:
        raise SystemExit(main())
