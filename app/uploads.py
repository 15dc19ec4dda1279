"""Uploaded files, from the web page or the HTTP API, kept on disk before the ingest service reads them."""
from __future__ import annotations

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


def safe_upload_name(name: str) -> str:
    """A plain file name from whatever a client sent: no folders, no '..', no odd characters."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "upload"
    return cleaned[:120]


def save_upload(settings: "Settings", name: str, content: BinaryIO) -> Path:
    """Copy at most ``max_file_bytes`` into KABAR_DATA_DIR/uploads; a bigger file is refused, nothing kept."""
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_upload_name(name)
    limit = settings.max_file_bytes
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            written = 0
            while block := content.read(COPY_BLOCK):
                written += len(block)
                if written > limit:
                    raise BadDocument(f"{target.name}: more than {limit:,} bytes, over the limit "
                                      f"(KABAR_MAX_FILE_MB={settings.max_file_mb:g})")
                out.write(block)
        os.replace(temp, target)  # a re-upload replaces the old copy only once it is complete
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target


def save_upload_file(settings: "Settings", path: str | Path) -> Path:
    """The same for a file a framework already wrote to a temporary path."""
    with open(path, "rb") as source:
        return save_upload(settings, Path(path).name, source)


__all__ = ["safe_upload_name", "save_upload", "save_upload_file"]
