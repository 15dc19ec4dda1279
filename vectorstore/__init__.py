"""Chroma-backed chunk store with a document registry (on disk or a Chroma server)."""
from vectorstore.store import ChunkStore, DocumentRecord, Passage, open_store

__all__ = ["ChunkStore", "DocumentRecord", "Passage", "open_store"]
