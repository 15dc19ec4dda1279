"""The ingest progress bar."""
from __future__ import annotations

from typing import Protocol


class Counts(Protocol):
    """The counts the bar shows (``IngestReport`` has them), so this module need not import service.py."""

    added: list
    updated: list
    chunks_written: int


class ProgressBar:
    """tqdm over files whose postfix counts committed articles and chunks (one JSONL can hold thousands)."""

    def __init__(self, total: int, enabled: bool):
        self._tqdm = None
        if enabled:
            from tqdm import tqdm

            self._tqdm = tqdm(total=total, desc="Ingesting", unit="file")

    def update(self) -> None:
        if self._tqdm is not None:
            self._tqdm.update()

    def committed(self, report: Counts) -> None:
        if self._tqdm is not None:
            self._tqdm.set_postfix(written=len(report.added) + len(report.updated), chunks=report.chunks_written)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
