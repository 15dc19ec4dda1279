"""Resident memory of the running app (``python -m app``) after warm-up and after a few questions.

Run from the repository root: ``.venv/bin/python bench/memory.py`` (``--limit N`` questions, default 3).
The app is started in a subprocess with a fresh data folder, ingests the sample article, loads its
models and serves the web chat on a free loopback port; questions go through the page's own API
(``gradio_client``, ``/ask``). Memory is read from /proc for the app and any child processes:
current RSS (VmRSS) and peak RSS (VmHWM), summed over the process tree.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import (REPO, SAMPLE_ARTICLE, Timer, base_parser, machine, models_dir, print_table, proc_memory_mb,
                    work_dir, write_json)

TARGETS = {"rss_mb": 3072}


def parse_args(argv=None):
    parser = base_parser("memory", __doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=3, help="questions asked (default: %(default)s)")
    parser.add_argument("--max-tokens", type=int, help="KABAR_LLM_MAX_TOKENS for the app (default: settings)")
    parser.add_argument("--model", help="KABAR_LLM_MODEL for the app (default: settings, the 1.5B model)")
    parser.add_argument("--start-timeout", type=float, default=600,
                        help="seconds to wait for the app (default: %(default)s)")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants, from /proc/<pid>/task/*/children."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return pids


def tree_memory(pid: int) -> dict:
    """RSS and peak RSS summed over the tree (peaks of different processes may not coincide)."""
    total = {"processes": 0}
    for p in process_tree(pid):
        try:
            mem = proc_memory_mb(p)
        except OSError:
            continue
        for key, value in mem.items():
            total[key] = total.get(key, 0.0) + value
        total["processes"] += 1
    return {k: round(v, 1) for k, v in total.items()}


def start_app(folder: Path, args, port: int) -> subprocess.Popen:
    env = {**os.environ, "KABAR_DATA_DIR": str(folder / "data"), "KABAR_MODELS_DIR": str(models_dir(args)),
           "KABAR_WEB_PORT": str(port), "KABAR_WEB_HOST": "127.0.0.1"}
    if args.max_tokens:
        env["KABAR_LLM_MAX_TOKENS"] = str(args.max_tokens)
    if args.model:
        env["KABAR_LLM_MODEL"] = args.model
    log = (folder / "app.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "app", "--ingest", str(SAMPLE_ARTICLE)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def wait_until_serving(app: subprocess.Popen, url: str, timeout: float, log: Path) -> None:
    """Until the page answers (models loaded, web server up), or a clear error."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise RuntimeError(f"the app exited with {app.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the app did not serve {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def ask_questions(app: subprocess.Popen, url: str, limit: int) -> list[dict]:
    from chat import QUESTIONS
    from gradio_client import Client

    client = Client(url, verbose=False)
    rows = []
    for _, _, question in QUESTIONS[:limit]:
        with Timer() as t:
            answer, _ = client.predict(question, api_name="/ask")
        rows.append({"question": question, "seconds": round(t.seconds, 2), "answer": answer[:300],
                     **tree_memory(app.pid)})
    return rows


def run(args) -> dict:
    started = machine()  # date and load average before the work starts
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with work_dir(args, "memory") as folder:
        app = start_app(folder, args, port)
        try:
            with Timer() as start:
                wait_until_serving(app, url, args.start_timeout, folder / "app.log")
            warm = tree_memory(app.pid)
            rows = ask_questions(app, url, args.limit)
        finally:
            app.terminate()
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()
    final = rows[-1] if rows else warm
    return {"benchmark": "memory", "machine": started,
            "settings": {"command": "python -m app --ingest " + str(SAMPLE_ARTICLE.relative_to(REPO)),
                         "llm_max_tokens": args.max_tokens, "llm_model": args.model or "settings default",
                         "models_dir": str(models_dir(args))},
            "method": " ".join(__doc__.split("\n\n", 1)[1].split()),
            "startup_s": round(start.seconds, 1), "after_warm_up": warm, "after_questions": final,
            "questions": rows, "bench_process": proc_memory_mb(), "targets": TARGETS}


def show(result: dict) -> None:
    moments = [("after warm-up (serving)", result["after_warm_up"], "-")]
    moments += [(f"after question {i}", r, r["seconds"]) for i, r in enumerate(result["questions"], 1)]
    rows = [[name, m["rss_mb"], m["rss_anon_mb"], m["rss_file_mb"], m["peak_rss_mb"], s] for name, m, s in moments]
    print_table(f"Memory of python -m app, {result['machine']['cpu_count']} CPUs, {result['machine']['date']}",
                ["moment", "RSS MiB", "anon MiB", "file MiB", "peak RSS MiB", "answer s"], rows,
                caption=f"start-up (ingest + models + web) {result['startup_s']} s; /proc VmRSS/VmHWM summed over the "
                        "app's process tree. Target: RSS < 3 GB.")


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    show(result)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
