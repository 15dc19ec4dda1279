"""Thumbs up/down on answers, one JSON line each under KABAR_DATA_DIR: a review set the eval command reads back."""
from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from core.errors import KabarError

try:  # one writer at a time across processes too (POSIX); threads share the lock below
    import fcntl
except ImportError:  # pragma: no cover - Windows: the thread lock alone
    fcntl = None

log = logging.getLogger(__name__)

FILE_NAME = "feedback.jsonl"
VOTES = ("up", "down")
MAX_TEXT = 20_000  # a question or an answer
MAX_COMMENT = 2_000
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class BadFeedback(KabarError):
    """Feedback the store refuses (an unknown vote, no question, too long); the message says which field."""


def _now() -> str:
    """UTC, to the second: when the vote was given."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Feedback:
    """One vote on one answer, with what the reviewer needs to judge it again later."""

    vote: str
    question: str
    answer: str
    sources: list[dict] = field(default_factory=list)  # [{"number", "title", "id"?}] the answer cited
    comment: str = ""
    conversation: list[dict] = field(default_factory=list)  # earlier turns: [{"question", "answer"}]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: str = field(default_factory=_now)


def _text(name: str, value, limit: int, required: bool = True) -> str:
    """A string field, stripped; a clear error for anything else."""
    if not isinstance(value, str):
        raise BadFeedback(f"feedback {name} must be text, not {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise BadFeedback(f"feedback {name} is empty")
    if len(value) > limit:
        raise BadFeedback(f"feedback {name} is {len(value)} characters; at most {limit}")
    return value


def _turns(conversation: Iterable) -> list[dict]:
    """Earlier turns as {"question", "answer"}: pairs or dicts accepted."""
    turns = []
    for turn in conversation or []:
        try:
            question, answer = (turn.get("question"), turn.get("answer")) if isinstance(turn, dict) else turn
        except (TypeError, ValueError):
            raise BadFeedback("feedback conversation must be a list of question/answer pairs") from None
        turns.append({"question": _text("conversation question", question, MAX_TEXT),
                      "answer": _text("conversation answer", answer or "", MAX_TEXT, required=False)})
    return turns


def make_feedback(vote: str, question: str, answer: str, sources: Sequence[dict] = (), comment: str | None = "",
                  conversation: Iterable = (), feedback_id: str | None = None) -> Feedback:
    """Validated feedback from loose input (web page or HTTP body); raises BadFeedback saying what is wrong."""
    if vote not in VOTES:
        raise BadFeedback(f"feedback vote must be one of {', '.join(VOTES)}, not {vote!r}")
    if not isinstance(sources, (list, tuple)) or not all(isinstance(s, dict) for s in sources):
        raise BadFeedback("feedback sources must be a list of objects")
    extra = {"id": _text("id", feedback_id, 64)} if feedback_id is not None else {}
    return Feedback(vote, _text("question", question, MAX_TEXT), _text("answer", answer, MAX_TEXT, required=False),
                    [dict(s) for s in sources], _text("comment", comment or "", MAX_COMMENT, required=False),
                    _turns(conversation), **extra)


def _lock_for(path: Path) -> threading.Lock:
    """One lock per file, shared by every store object in this process."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.Lock())


class FeedbackStore:
    """Append-only JSONL; a comment added later is a new line with the same id (the reader keeps the last)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> "FeedbackStore":
        """The store every entry point shares: KABAR_DATA_DIR/feedback.jsonl."""
        return cls(Path(data_dir) / FILE_NAME)

    def add(self, item: Feedback) -> Feedback:
        """Append one whole line under a thread lock and a file lock, so concurrent writes never interleave."""
        line = json.dumps(asdict(item), ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock_for(self.path), open(self.path, "a", encoding="utf-8") as out:
            if fcntl is not None:
                fcntl.flock(out, fcntl.LOCK_EX)
            out.write(line)
            out.flush()
        return item

    def comment(self, item: Feedback, comment: str) -> Feedback:
        """The same vote again with its comment, as a new line that supersedes the first."""
        return self.add(replace(item, comment=_text("comment", comment, MAX_COMMENT, required=False), time=_now()))

    def read(self) -> list[Feedback]:
        """Every vote, the latest line per id, in the order first given."""
        return read_feedback(self.path)


def read_feedback(path: str | Path) -> list[Feedback]:
    """The review set from a feedback file; unreadable lines are logged and skipped, not fatal."""
    latest: dict[str, Feedback] = {}
    path = Path(path)
    if not path.exists():
        return []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = make_feedback(raw["vote"], raw["question"], raw.get("answer", ""), raw.get("sources", []),
                                 raw.get("comment", ""), raw.get("conversation", []), raw["id"])
            latest[item.id] = replace(item, time=str(raw.get("time", "")))
        except (ValueError, KeyError, TypeError, BadFeedback) as err:
            log.warning("%s line %d skipped: %s", path, number, err)
    return list(latest.values())
