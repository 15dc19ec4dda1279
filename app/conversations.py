"""Saved conversations on the server, one file per logged-in user: with a key set, a user's list follows them
to another browser or device (without a login, the browser alone keeps them)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = "conversations"
_LOCK = threading.Lock()


class ConversationStore:
    """``KABAR_DATA_DIR/conversations/<hash of user>.json``: {"conversations": [...], "titles": {...}}."""

    def __init__(self, data_dir: str | Path):
        self.folder = Path(data_dir) / FOLDER

    def _path(self, user: str) -> Path:
        """A file name from the user name's hash: any name is safe as a path, and none shows on disk."""
        return self.folder / (hashlib.sha256(user.encode("utf-8")).hexdigest()[:32] + ".json")

    def load(self, user: str) -> dict | None:
        """The user's saved list and names; None when nothing is kept yet (or the file is unreadable)."""
        path = self._path(user)
        if not path.exists():
            return None
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.warning("saved conversations at %s unreadable: %s", path, err)
            return None
        if not isinstance(kept, dict):
            return None
        conversations, titles = kept.get("conversations"), kept.get("titles")
        return {"conversations": conversations if isinstance(conversations, list) else [],
                "titles": titles if isinstance(titles, dict) else {}}

    def save(self, user: str, conversations: list | None = None, titles: dict | None = None) -> None:
        """Replace the list, the names, or both (None keeps what is there); a reader never sees half a file."""
        with _LOCK:
            kept = self.load(user) or {"conversations": [], "titles": {}}
            if conversations is not None:
                kept["conversations"] = conversations
            if titles is not None:
                kept["titles"] = titles
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._path(user)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            partial.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, path)
