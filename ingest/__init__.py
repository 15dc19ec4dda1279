"""Ingest: files and folders in, chunked and embedded articles out (``python -m ingest``)."""
from ingest.service import IngestReport, IngestService

__all__ = ["IngestReport", "IngestService"]
