"""Shared helpers for the benchmark scripts: machine facts, memory, timing, tables, JSON, data."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
# `python bench/ingest.py` puts bench/ first on the path, where ingest.py would shadow the project's
# `ingest` package: the repository goes first (bench/ stays, for `import common`).
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO]

from core.env import configure_offline_environment  # noqa: E402

configure_offline_environment()

BENCH = REPO / "bench"
RESULTS = BENCH / "results"
WORK = BENCH / ".work"
SHARED_DATA = REPO.parent / "shared" / "data"
INDOSUM = SHARED_DATA / "indosum"
SAMPLE_ARTICLE = REPO / "samples" / "articles" / "eu-japan-ai-semiconductors.txt"
ST_FOLDER_NAME = "multilingual-e5-small-st"


# --- command line ---------------------------------------------------------------------------
def base_parser(name: str, description: str) -> argparse.ArgumentParser:
    """Options every script has: where the JSON goes and where stores are built."""
    parser = argparse.ArgumentParser(prog=f"python bench/{name}.py", description=description)
    parser.add_argument("--json", type=Path, default=RESULTS / f"{name}.json",
                        help="result file (default: %(default)s)")
    parser.add_argument("--work-dir", type=Path,
                        help="where stores are built, kept (default: a temp dir under bench/.work, deleted)")
    parser.add_argument("--models-dir", type=Path, help="KABAR_MODELS_DIR (default: env or .kabar/models)")
    return parser


def models_dir(args: argparse.Namespace) -> Path:
    return Path(args.models_dir or os.environ.get("KABAR_MODELS_DIR") or REPO / ".kabar" / "models").resolve()


@contextmanager
def work_dir(args: argparse.Namespace, name: str) -> Iterator[Path]:
    """The given --work-dir (kept), else a fresh folder under bench/.work that is deleted afterwards."""
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        yield args.work_dir.resolve()
        return
    WORK.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=WORK))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def bench_settings(data_dir: Path, models: Path, **overrides):
    """Project settings (env / settings file honoured) with the benchmark's own data folder."""
    from core.settings import load_settings

    return load_settings(data_dir=data_dir, models_dir=models, **overrides)


def settings_summary(settings) -> dict:
    """The settings that matter for performance, as plain JSON."""
    keys = ("embedding_backend", "embedding_model_path", "embedding_batch_size", "chunk_size", "chunk_overlap",
            "retrieval_mode", "top_k", "fetch_k", "llm_backend", "llm_model", "llm_model_path", "llm_threads",
            "llm_context", "llm_max_tokens", "llm_temperature", "chroma_host", "rerank", "answer_judge", "claim_judge")
    return {k: (str(v) if isinstance(v, Path) else v) for k in keys if (v := getattr(settings, k, None)) is not None}


# --- machine and memory ---------------------------------------------------------------------
def machine() -> dict:
    """Date, CPU count and model, memory and load: enough to know which machine a number came from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(), "cpu_model": model or platform.processor(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "load_average_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _meminfo_kb(key: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_memory_mb(pid: int | str = "self") -> dict:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MiB, from /proc; RSS split into
    anonymous and file-backed (memory-mapped model files count there)."""
    names = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    values = dict.fromkeys(names.values(), 0.0)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in names:
            values[names[key]] = round(int(line.split()[1]) / 1024, 1)
    return values


def reset_peak_rss() -> bool:
    """Restart VmHWM at the current RSS (Linux clear_refs 5), so a phase's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- timing ---------------------------------------------------------------------------------
class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def percentiles_ms(seconds: Sequence[float]) -> dict:
    """p50, p95, mean and max of a list of durations, in milliseconds."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    ms = sorted(s * 1000 for s in seconds)

    def pct(q: float) -> float:
        return ms[min(len(ms) - 1, max(0, round(q * (len(ms) - 1))))]

    return {"n": len(ms), "p50_ms": round(pct(0.50), 2), "p95_ms": round(pct(0.95), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "max_ms": round(ms[-1], 2)}


def rate(count: float, seconds: float) -> Optional[float]:
    return round(count / seconds, 2) if seconds > 0 else None


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 3) if a and b else None


# --- output ---------------------------------------------------------------------------------
def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence], caption: str = "") -> None:
    """One table on stdout: rich when installed, plain text otherwise."""
    rows = [["-" if v is None else str(v) for v in row] for row in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        print(" | ".join(columns))
        for row in rows:
            print(" | ".join(row))
        if caption:
            print(caption)
        return
    table = Table(title=title, caption=caption, caption_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=max(100, shutil.get_terminal_size((120, 20)).columns)).print(table)


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results written to {path}")


# --- data -----------------------------------------------------------------------------------
def indosum_files() -> list[Path]:
    """IndoSum's dev folds; a clear exit, not an empty benchmark, when ../shared/data is not beside the checkout."""
    files = sorted(INDOSUM.glob("dev.0*.jsonl"))
    if not files:
        raise SystemExit(f"IndoSum not found: no dev.0*.jsonl in {INDOSUM} (the benchmarks read ../shared/data)")
    return files


def indosum_records(limit: Optional[int] = None) -> list[dict]:
    """Unique IndoSum articles (the four dev folds overlap), in file order, at most ``limit``."""
    seen: set[str] = set()
    records: list[dict] = []
    for path in indosum_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            records.append(record)
            if limit is not None and len(records) >= limit:
                return records
    return records


def st_model_folder(settings) -> Optional[Path]:
    """The sentence-transformers e5 folder: the configured one, else <models_dir>/multilingual-e5-small-st."""
    if settings.embedding_model_path and Path(settings.embedding_model_path).is_dir():
        return Path(settings.embedding_model_path)
    folder = Path(settings.models_dir) / ST_FOLDER_NAME
    return folder if folder.is_dir() else None
