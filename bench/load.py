"""Load: concurrent chats (and ingests at the same time) against the HTTP API on loopback.

Each chat asks about a different IndoSum article, so a mixed-up answer is detectable: the
article must be among the passages retrieved for that very request, and every cited source
must be one of them. Answers beyond ``KABAR_MAX_CONCURRENT_ANSWERS`` wait in line; the
server says so in SSE comments, which are counted here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import common

import httpx

STARTUP_TIMEOUT_S = 300


def main(argv=None) -> int:
    parser = common.base_parser("load", "Concurrent chats and ingests against the HTTP API.")
    parser.add_argument("--url", help="an already running Kabar (default: start one on a free loopback port)")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--ingests", type=int, default=3, help="uploads of 5 new articles each, during the chats")
    parser.add_argument("--max-tokens", type=int, default=96, help="KABAR_LLM_MAX_TOKENS of a started server")
    args = parser.parse_args(argv)
    records = common.indosum_records(args.chats + 5 * args.ingests)
    asked, uploads = records[: args.chats], records[args.chats:]
    with common.work_dir(args, "load") as work, _server(args, work) as url:
        with httpx.Client(base_url=url.rstrip("/") + "/v1", timeout=3600) as http:
            _upload(http, work / "asked.jsonl", asked)  # set-up, not measured
            started = time.perf_counter()
            with ThreadPoolExecutor(args.chats + args.ingests) as pool:
                chats = list(pool.map(lambda r: _chat(url, r), asked))
                ingests = [pool.submit(_upload, http, work / f"new-{i}.jsonl", uploads[i * 5:(i + 1) * 5])
                           for i in range(args.ingests)]
                ingest_results = [f.result() for f in ingests]
            wall = time.perf_counter() - started
    payload = _summary(args, chats, ingest_results, wall)
    _print(payload)
    common.write_json(args.json, payload)
    return 0 if payload["errors"] == 0 and payload["mixed_up"] == 0 else 1


@contextmanager
def _server(args, work: Path):
    """The given URL, or `python -m app` started with its own data folder on a free port."""
    if args.url:
        yield args.url
        return
    port = _free_port()
    env = {**os.environ, "KABAR_DATA_DIR": str(work / "data"), "KABAR_MODELS_DIR": str(common.models_dir(args)),
           "KABAR_WEB_HOST": "127.0.0.1", "KABAR_WEB_PORT": str(port), "KABAR_LLM_MAX_TOKENS": str(args.max_tokens),
           "PYTHONPATH": str(common.REPO)}
    log = open(work / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=common.REPO, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_up(url: str, process) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see its server.log")
        try:
            if httpx.get(url + "health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit("the server did not start in time")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _upload(http: httpx.Client, path: Path, records: list[dict]) -> dict:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    started = time.perf_counter()
    response = http.post("/documents", files={"files": (path.name, path.read_bytes(), "application/jsonl")})
    body = response.json()
    ok = response.status_code == 200 and not body.get("failed")
    return {"ok": ok, "status": response.status_code, "seconds": time.perf_counter() - started,
            "added": len(body.get("added", [])), "error": None if ok else str(body)[:300]}


def _question(record: dict) -> str:
    title = record["id"].partition("-")[2].replace("-", " ")
    return f"Apa isi berita tentang {title}?"


def _chat(url: str, record: dict) -> dict:
    """One streamed chat; checks that its own article was retrieved and only retrieved passages are cited."""
    from ingest.loaders import doc_id_for

    expected = doc_id_for(f"jsonl:{record['id']}")
    body = {"model": "kabar", "stream": True, "messages": [{"role": "user", "content": _question(record)}]}
    result = {"ok": False, "queued_notices": 0, "own_article_retrieved": False, "mixed_up": False, "error": None}
    started = time.perf_counter()
    retrieved, final = [], None
    try:
        with httpx.stream("POST", url.rstrip("/") + "/v1/chat/completions", json=body, timeout=3600) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith(": waiting"):  # a queue notice, not a keep-alive
                    result["queued_notices"] += 1
                elif line.startswith("data: {"):
                    event = json.loads(line[6:])
                    if "error" in event:
                        raise RuntimeError(event["error"]["message"])
                    if event.get("retrieved"):
                        retrieved = event["retrieved"]
                        result.setdefault("seconds_to_sources", time.perf_counter() - started)
                    if event["choices"][0].get("finish_reason"):
                        final = event
    except Exception as err:  # reported per chat; the run goes on
        result["error"] = f"{type(err).__name__}: {err}"[:300]
        return result
    chunk_ids = {p["chunk_id"] for p in retrieved}
    result.update(ok=final is not None, seconds=time.perf_counter() - started, refused=bool(final and final["refused"]),
                  own_article_retrieved=any(p["document_id"] == expected for p in retrieved),
                  mixed_up=bool(final) and any(s["chunk_id"] not in chunk_ids for s in final["sources"]))
    return result


def _summary(args, chats: list[dict], ingests: list[dict], wall: float) -> dict:
    done = [c for c in chats if c["ok"]]
    return {
        "machine": common.machine(), "chats": args.chats, "ingests": args.ingests, "max_tokens": args.max_tokens,
        "wall_s": round(wall, 1), "chats_per_minute": round(60 * len(done) / wall, 2) if wall else None,
        "latency": common.percentiles_ms([c["seconds"] for c in done]),
        "time_to_sources": common.percentiles_ms([c["seconds_to_sources"] for c in done if "seconds_to_sources" in c]),
        "errors": sum(1 for c in chats if not c["ok"]) + sum(1 for i in ingests if not i["ok"]),
        "mixed_up": sum(1 for c in chats if c["mixed_up"]),
        "own_article_retrieved": sum(1 for c in done if c["own_article_retrieved"]),
        "refused": sum(1 for c in done if c.get("refused")),
        "chats_that_saw_queue_notices": sum(1 for c in chats if c["queued_notices"]),
        "ingest_seconds": [round(i["seconds"], 1) for i in ingests], "chat_results": chats, "ingest_results": ingests,
    }


def _print(p: dict) -> None:
    rows = [["chats / ingests", f"{p['chats']} / {p['ingests']}"], ["wall (s)", p["wall_s"]],
            ["throughput (chats/min)", p["chats_per_minute"]], ["latency p50 (s)", _s(p["latency"]["p50_ms"])],
            ["latency p95 (s)", _s(p["latency"]["p95_ms"])], ["sources p95 (s)", _s(p["time_to_sources"]["p95_ms"])],
            ["errors", p["errors"]], ["answers citing another request's passages", p["mixed_up"]],
            ["own article retrieved", f"{p['own_article_retrieved']}/{p['chats']}"],
            ["chats told they were queued", p["chats_that_saw_queue_notices"]], ["ingest (s)", p["ingest_seconds"]]]
    common.print_table("Load: concurrent chats and ingests over the HTTP API", ["measure", "value"], rows,
                       caption=f"{p['machine']['cpu_count']} CPUs, max_tokens {p['max_tokens']}, {p['machine']['date']}")


def _s(ms):
    return None if ms is None else round(ms / 1000, 1)


if __name__ == "__main__":
    raise SystemExit(main())
