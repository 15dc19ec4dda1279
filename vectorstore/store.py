"""Chroma as the one store: chunk vectors plus a registry of documents that says which version is live.

Writing a document is crash-safe without transactions: its new version is leased (see leases.py),
its chunks are written under it, then the registry entry is switched to that version (the commit
point), then chunks that neither the registry nor a live writer's lease claims are removed. Readers
ignore chunks whose write the registry does not name (a search asks Chroma for more in their place,
so leftovers never crowd out a live passage, and deletes those no live writer claims), and
``repair()`` deletes leftovers no live writer claims, so an interrupted ingest leaves the store as it was and concurrent writers (threads,
processes, front ends on one Chroma server) never delete each other's uncommitted chunks.
A batch of documents follows the same order with one call per step (all chunks, then all registry
entries), so each document in it is still either wholly at its old version or wholly at its new one.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable, Optional

from core.errors import StoreUnavailable
from vectorstore.chroma import (REGISTRY_SUFFIX, DiskGeneration, _Guarded, describe_store,  # noqa: F401
                                make_chroma_client, memory_chroma_client, open_collections)
from vectorstore.keyword import KeywordIndex
from vectorstore.leases import WriterLeases
from vectorstore.records import DocumentRecord, DocumentWrite, Passage, chunk_id  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)
WRITE_BATCH = 1024  # chunks per Chroma call: each call costs ~40 ms whatever its size (max 5,461)


class ChunkStore:
    """Chunks and the document registry in two Chroma collections; vectors are computed by callers."""

    def __init__(self, client, collection: str, keyword: Optional[KeywordIndex] = None,
                 where: str = "the Chroma store", generation: Optional[DiskGeneration] = None):
        self._name, self._where, self._generation = collection, where, generation
        self._chunks, self._registry, leases = open_collections(client, collection, where)
        self.leases = WriterLeases(leases)
        self.keyword = keyword
        if keyword is not None:
            keyword.sync(self)

    def _see_other_writers(self) -> None:
        """Reopen Chroma if another process on this data directory has committed since (DiskGeneration):
        its chunks are in the shared metadata but not in the vector index this client loaded."""
        if self._generation is not None and self._generation.others_wrote():
            self._chunks, self._registry, leases = open_collections(self._generation.reopen(), self._name,
                                                                    self._where)
            self.leases.use(leases)

    def _committed(self) -> None:
        """Tell other processes on this data directory that the store changed."""
        if self._generation is not None:
            self._generation.bump()

    # --- registry -----------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        got = self._registry.get(include=["metadatas"])
        records = (DocumentRecord.from_metadata(i, m) for i, m in zip(got["ids"], got["metadatas"]))
        return sorted(records, key=lambda r: r.title)

    def document(self, doc_id: str) -> Optional[DocumentRecord]:
        got = self._registry.get(ids=[doc_id], include=["metadatas"])
        return DocumentRecord.from_metadata(got["ids"][0], got["metadatas"][0]) if got["ids"] else None

    def live_versions(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """The content version each listed document is at (what an unchanged article is compared with)."""
        return {doc_id: version for doc_id, (version, _) in self.live_writes(doc_ids).items()}

    def live_writes(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(version, write) the registry names for each listed document: only that write's chunks are live."""
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        got = self._registry.get(ids=ids, include=["metadatas"])
        return {i: (m.get("version", ""), m.get("write", "")) for i, m in zip(got["ids"], got["metadatas"])}

    def _live_filter(self, metadatas: Iterable[dict]):
        """A predicate: is a chunk (by its metadata) of its document's live write? One registry read."""
        metadatas = list(metadatas)
        live = self.live_writes(m.get("doc_id", "") for m in metadatas)
        return lambda m: live.get(m.get("doc_id")) == (m.get("version"), m.get("write", ""))


    # --- writing --------------------------------------------------------------------------------
    def write_document(self, record: DocumentRecord, ids, texts, vectors, metadatas) -> None:
        """Write one document: the batch path with a batch of one."""
        self.write_documents([DocumentWrite(record, list(ids), list(texts), list(vectors), list(metadatas))])

    def write_documents(self, writes: list[DocumentWrite]) -> None:
        """Lease the new versions, write their chunks, commit them all in the registry, then clean.

        One call per step instead of per document: Chroma's per-call cost, not its per-chunk cost,
        dominated one-at-a-time ingest."""
        if not writes:
            return
        if len({w.record.doc_id for w in writes}) != len(writes):
            raise ValueError("a batch must hold each document once")
        with self.leases.hold() as lease:
            writes = [w.stamped(lease.id) for w in writes]
            self._upsert_chunks(writes)
            if not self.leases.fresh(lease):  # stalled so long a cleaner may have taken our chunks
                self.leases.renew(lease)
                self._upsert_chunks(writes)
            self._registry.upsert(ids=[w.record.doc_id for w in writes], embeddings=[[1.0]] * len(writes),
                                  metadatas=[w.record.to_metadata() for w in writes])  # the commit point
        self._committed()
        doc_ids = [w.record.doc_id for w in writes]
        self._clean(doc_ids)
        self._index_keywords(doc_ids, {w.record.doc_id: ((w.record.version, w.record.write), w.ids, w.texts)
                                       for w in writes})

    def _upsert_chunks(self, writes: list[DocumentWrite]) -> None:
        ids, texts, vectors, metadatas = ([x for w in writes for x in getattr(w, name)]
                                          for name in ("ids", "texts", "vectors", "metadatas"))
        for start in range(0, len(ids), WRITE_BATCH):
            end = start + WRITE_BATCH
            self._chunks.upsert(ids=ids[start:end], documents=texts[start:end],
                                embeddings=vectors[start:end], metadatas=metadatas[start:end])

    def _clean(self, doc_ids: Optional[list[str]] = None) -> int:
        """Delete chunks (of these documents, or all) that neither the registry nor a live writer claims.
        Found by ``doc_id $in`` and deleted by id: a ``version $ne`` filter scans the whole collection
        once per document (quadratic over a large ingest)."""
        where = None if doc_ids is None else {"doc_id": {"$in": list(doc_ids)}}
        got = self._chunks.get(where=where, include=["metadatas"])
        return self._delete_unclaimed(got["ids"], got["metadatas"])

    def _delete_unclaimed(self, ids: list[str], metadatas: list[dict]) -> int:
        """Of chunks just read, delete those of no live write that no live writer claims; returns how many.

        Chunks first, then leases, then the registry: a chunk seen was written after its writer's
        lease, and a lease gone by then means its write was committed (the registry read after
        names it) or abandoned. Chunk ids are unique per write, so no later write shares an id seen."""
        if not ids:
            return 0
        claimed = self.leases.protected()
        live = self._live_filter(metadatas)
        stale = [i for i, m in zip(ids, metadatas) if not live(m) and m.get("write", "") not in claimed]
        self.delete_chunks(stale)
        if stale:
            self._committed()
        return len(stale)

    def delete_chunks(self, ids: list[str]) -> None:
        for start in range(0, len(ids), WRITE_BATCH):
            self._chunks.delete(ids=ids[start : start + WRITE_BATCH])

    def _index_keywords(self, doc_ids: list[str], written: Optional[dict] = None) -> None:
        if self.keyword is not None:
            self.keyword.refresh(self, doc_ids, written or {})

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document: registry first (the commit point), then the chunks no live writer claims."""
        existed = self.document(doc_id) is not None
        self._registry.delete(ids=[doc_id])
        self._committed()
        self._clean([doc_id])
        self._index_keywords([doc_id])
        return existed

    def repair(self) -> int:
        """Delete chunks left by an interrupted write or delete (never a live writer's); returns how many."""
        self.leases.sweep()
        removed = self._clean()
        if self.keyword is not None:
            self.keyword.sync(self)
        return removed

    def all_chunks(self) -> list[tuple[str, dict]]:
        """Every chunk's id and metadata (for checking the store)."""
        got = self._chunks.get(include=["metadatas"])
        return list(zip(got["ids"], got["metadatas"]))

    def chunk_texts(self, doc_id: str, version: str, write: Optional[str] = None) -> tuple[list[str], list[str]]:
        """Ids and texts of one write of a document version (by default the live one), in chunk order."""
        if write is None:
            live_version, live_write = self.live_writes([doc_id]).get(doc_id, ("", ""))
            write = live_write if live_version == version else None
        got = self._chunks.get(where={"$and": [{"doc_id": doc_id}, {"version": version}]},
                               include=["documents", "metadatas"])
        rows = [r for r in zip(got["metadatas"], got["ids"], got["documents"])
                if write is None or r[0].get("write", "") == write]
        rows.sort(key=lambda r: r[0].get("chunk_index", 0))
        return [r[1] for r in rows], [r[2] for r in rows]

    def passages(self, chunk_ids: list[str]) -> dict[str, Passage]:
        """Live chunks by id, with their vectors (keyword hits need them for checking answers)."""
        if not chunk_ids:
            return {}
        self._see_other_writers()
        got = self._with_vectors(chunk_ids)
        live = self._live_filter(got["metadatas"])
        return {
            i: Passage.from_chroma(i, text, meta, vector=vec)
            for i, text, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
            if live(meta)
        }

    def _with_vectors(self, chunk_ids: list[str]) -> dict:
        """Chunks with their vectors. On disk, a chunk another process wrote is in the shared metadata
        but not in this process's in-memory vector index until it reopens (at most REOPEN_EVERY_S after
        it sees the commit), and Chroma then fails the whole call ("Error finding id"): such chunks
        are left out instead of failing the search."""
        include = ["documents", "metadatas", "embeddings"]
        try:
            return self._chunks.get(ids=chunk_ids, include=include)
        except Exception as err:  # chromadb.errors.InternalError
            if "finding id" not in str(err):
                raise
        rows: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        for cid in chunk_ids:
            try:
                one = self._chunks.get(ids=[cid], include=include)
            except Exception as err:
                if "finding id" not in str(err):
                    raise
                continue
            for key, values in rows.items():
                values.extend(one[key])
        return rows

    # --- reading --------------------------------------------------------------------------------
    def count(self) -> int:
        return self._chunks.count()

    def search(self, vector: list[float], k: int) -> list[Passage]:
        """Nearest live chunks by cosine similarity, best first.

        Chunks of no live write (a crashed ingest's leftovers, a running one's uncommitted chunks) are
        stepped over by asking Chroma for more, so however many lie nearer, they never push a live chunk
        out of the k; leftovers no live writer claims are then deleted, as repair would. (No count()
        first: Chroma answers an empty collection with no rows, and counting cost 13 ms at 100k chunks.)"""
        if k <= 0:
            return []
        self._see_other_writers()
        fetch = k
        while True:
            rows = self._nearest(vector, fetch)
            live = self._live_filter(meta for _, _, meta, _, _ in rows)
            kept = [row for row in rows if live(row[2])]
            if len(kept) >= k or len(rows) < fetch:  # enough, or nothing further to find
                break
            fetch = 2 * fetch + (len(rows) - len(kept))
        if len(kept) < len(rows):
            self._sweep([row for row in rows if not live(row[2])])
        return [Passage.from_chroma(i, text, meta, score=1.0 - dist, vector=vec)
                for i, text, meta, dist, vec in kept[:k]]

    def _nearest(self, vector: list[float], n: int) -> list[tuple]:
        """(id, text, metadata, distance, vector) of the n nearest chunks, live or not."""
        got = self._chunks.query(query_embeddings=[vector], n_results=n,
                                 include=["documents", "metadatas", "distances", "embeddings"])
        return list(zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],
                        got["embeddings"][0]))

    def _sweep(self, rows: list[tuple]) -> None:
        """Delete the dead leftovers a search stepped over; a failure here never fails the search."""
        try:
            removed = self._delete_unclaimed([row[0] for row in rows], [row[2] for row in rows])
        except Exception as err:  # the store is busy or gone: the next search or ingest tries again
            log.warning("could not delete chunks left by an interrupted write: %s", err)
            return
        if removed:
            log.info("deleted %d chunks left by an interrupted write", removed)


def open_store(settings: "Settings") -> ChunkStore:
    """Open (creating if needed) the configured store, naming what is unavailable on failure; ``fake``: a new,
    empty Chroma in memory without a keyword index (vectorstore/interfaces.py)."""
    if settings.store_backend == "fake":
        return ChunkStore(memory_chroma_client(), settings.chroma_collection, where="Chroma in memory")
    client = make_chroma_client(settings)
    where = describe_store(settings)
    generation = None if settings.chroma_host else DiskGeneration(settings)  # a server has one vector index
    try:
        keyword = KeywordIndex(settings.data_dir / f"{settings.chroma_collection}.keyword.sqlite")
        return ChunkStore(client, settings.chroma_collection, keyword, where=where, generation=generation)
    except StoreUnavailable:
        raise
    except Exception as err:
        raise StoreUnavailable(f"{where}: cannot open collection {settings.chroma_collection!r}: {err}") from err
