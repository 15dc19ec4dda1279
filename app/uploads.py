"""Uploaded files, from the web page or the HTTP API, kept on disk before the ingest service reads them.

Each is stored as KABAR_DATA_DIR/uploads/<content hash>/<name>: the same file uploaded twice is one
copy (and one document), two different files with the same name never overwrite each other.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from core.errors import BadDocument

if TYPE_CHECKING:
    from core.settings import Settings

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
COPY_BLOCK = 1 << 20
HASH_CHARS = 16


def safe_upload_name(name: str) -> str:
    """A plain file name from whatever a client sent: no folders, no '..', no odd characters."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "upload"
    return cleaned[:120]


def uploads_dir(settings: "Settings") -> Path:
    return settings.data_dir / "uploads"


def save_upload(settings: "Settings", name: str, content: BinaryIO) -> Path:
    """Copy at most ``max_file_bytes`` under uploads/<content hash>/; a bigger file is refused, nothing kept."""
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name, limit, digest = safe_upload_name(name), settings.max_file_bytes, hashlib.sha256()
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            written = 0
            while block := content.read(COPY_BLOCK):
                written += len(block)
                if written > limit:
                    raise BadDocument(f"{name}: more than {limit:,} bytes, over the limit "
                                      f"(KABAR_MAX_FILE_MB={settings.max_file_mb:g})")
                digest.update(block)
                out.write(block)
        target = folder / digest.hexdigest()[:HASH_CHARS] / name
        target.parent.mkdir(exist_ok=True)
        os.replace(temp, target)  # complete before it appears under its name
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target


def save_upload_file(settings: "Settings", path: str | Path) -> Path:
    """The same for a file a framework already wrote to a temporary path."""
    with open(path, "rb") as source:
        return save_upload(settings, Path(path).name, source)


def stored_upload(settings: "Settings", source: str) -> Path | None:
    """The stored upload a document came from (its source, less any '#record'), or None if not an upload."""
    path = Path(source.split("#", 1)[0])
    try:
        path.resolve().relative_to(uploads_dir(settings).resolve())
    except (ValueError, OSError):
        return None
    return path


def discard_upload(settings: "Settings", path: str | Path) -> None:
    """Delete a stored upload and its hash folder; anything outside uploads/ is never touched."""
    path = stored_upload(settings, str(path))
    if path is None:
        return
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:  # not empty (the same content under another name) or already gone
        pass


__all__ = ["discard_upload", "safe_upload_name", "save_upload", "save_upload_file", "stored_upload"]
