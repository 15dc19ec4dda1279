"""Writer leases: the uncommitted versions a live writer may still commit, where every writer sees them.

A writer records a lease in the ``<collection>_writers`` Chroma collection before it writes any
chunk, stamps every chunk it writes with the lease's id (its ``write``, part of the chunk ids too),
renews the lease while it works and deletes it once it has committed. Every cleaner (``repair``, the
removal of older versions, ``delete_document``) spares chunks whose write is a live lease, so it
never deletes what another writer has written and not yet committed: a thread of this process,
another process on this data directory, or another front end on the same Chroma server.

A lease stops protecting when it has not been renewed for ``EXPIRY`` seconds, or at once when its
writer ran on this machine and that process is gone (a kill -9 leaves no one to wait for). Clocks of
machines sharing a Chroma server must agree to well within ``EXPIRY`` (NTP does).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

log = logging.getLogger(__name__)

LEASE_SUFFIX = "_writers"
RENEW_EVERY = 10.0  # seconds between renewals of the leases a process holds
EXPIRY = 120.0  # seconds without renewal after which a lease no longer protects anything
COMMIT_MARGIN = 60.0  # a writer whose last renewal is older than this rewrites its chunks before committing


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


@lru_cache(maxsize=1)
def this_machine() -> str:
    """Host name, boot and PID namespace: pids are comparable only between processes that share all three."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}|{_read('/proc/sys/kernel/random/boot_id')}|{namespace}"


def process_started(pid: int) -> str:
    """A process's start time in clock ticks since boot ('' where /proc is absent): tells a reused pid apart."""
    fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def writer_running(meta: dict) -> bool:
    """False only when the lease's writer ran on this machine and that process no longer exists."""
    if meta.get("machine") != this_machine():
        return True
    pid = int(meta.get("pid", 0))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    started = meta.get("started", "")
    return not started or process_started(pid) in ("", started)


def lease_alive(meta: dict, now: float) -> bool:
    """Whether a lease still protects its versions: renewed lately and its writer not known dead."""
    return float(meta.get("expires", 0.0)) > now and writer_running(meta)


@dataclass
class Lease:
    """One writer's claim on the versions it is writing."""

    id: str
    meta: dict
    renewed: float = field(default_factory=time.time)


class WriterLeases:
    """The lease collection, with a heartbeat thread renewing this process's leases while any is held."""

    def __init__(self, collection):
        self._collection = collection
        self._held: dict[str, Lease] = {}
        self._lock = threading.Lock()  # held around every write of a record, so a release is final
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def hold(self) -> Iterator[Lease]:
        """A new lease, live until the block ends (committed or abandoned); its id names the write."""
        pid = os.getpid()
        lease = Lease(uuid.uuid4().hex, {"machine": this_machine(), "pid": pid, "started": process_started(pid)})
        with self._lock:
            self._put(lease)
            self._held[lease.id] = lease
            self._start_heartbeat()
        try:
            yield lease
        finally:
            with self._lock:
                self._held.pop(lease.id, None)
                try:
                    self._collection.delete(ids=[lease.id])
                except Exception as err:  # not renewed any more, so it expires by itself
                    log.warning("could not release writer lease %s: %s", lease.id, err)

    def use(self, collection) -> None:
        """Go on through a reopened handle of the same collection (see DiskGeneration)."""
        with self._lock:
            self._collection = collection

    def fresh(self, lease: Lease) -> bool:
        """Whether no cleaner can yet have judged this lease expired (a stalled writer must rewrite first)."""
        return time.time() - lease.renewed < COMMIT_MARGIN

    def renew(self, lease: Lease) -> None:
        with self._lock:
            if lease.id in self._held:
                self._put(lease)

    def _put(self, lease: Lease) -> None:
        lease.renewed = time.time()
        lease.meta["expires"] = lease.renewed + EXPIRY
        self._collection.upsert(ids=[lease.id], embeddings=[[1.0]], metadatas=[lease.meta])

    def _start_heartbeat(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._heartbeat, name="kabar-lease-heartbeat", daemon=True)
            self._thread.start()

    def _heartbeat(self) -> None:
        """Renew every held lease each RENEW_EVERY seconds; ends when none is held."""
        while True:
            self._wake.wait(RENEW_EVERY)
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                for lease in list(self._held.values()):
                    try:
                        self._put(lease)
                    except Exception as err:  # the store is down: keep trying; fresh() guards the commit
                        log.warning("could not renew writer lease %s: %s", lease.id, err)

    def records(self) -> list[tuple[str, dict]]:
        got = self._collection.get(include=["metadatas"])
        return list(zip(got["ids"], got["metadatas"]))

    def protected(self) -> set[str]:
        """The writes some live writer may still commit."""
        now = time.time()
        return {lease_id for lease_id, meta in self.records() if lease_alive(meta, now)}

    def sweep(self) -> int:
        """Delete the records of dead or expired leases; returns how many."""
        now = time.time()
        dead = [lease_id for lease_id, meta in self.records() if not lease_alive(meta, now)]
        if dead:
            self._collection.delete(ids=dead)
        return len(dead)
