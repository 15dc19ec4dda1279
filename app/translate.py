"""Machine translation of a source passage into the reader's language, with the local chat model.

A reader who asked in English can read an Indonesian source (and the other way round). Translations are
marked as machine translations, cached (bounded, least recently used first out), and take their model
calls through the answers' own line (app/queueing.py), one sentence group per turn: a translation never
holds the model for longer than a short group, so a waiting answer gets the next free slot.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterator, Optional

from core.errors import BadQuestion
from core.language import LANGUAGE_NAMES, detect_language
from prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from app.queueing import AnswerSlots

MAX_CHARS = 6000  # a chunk is ~900 characters; a whole article pasted into the API is refused, not queued for minutes
GROUP_CHARS = 500  # sentences translated together: the translation of one group fits the model's reply budget
GROUP_TOKENS = 400  # the reply budget of one group (a 500-character group needs about 150-250 tokens)
CACHE_SIZE = 256
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_PREFIX = re.compile(r"^\s*(translation|terjemahan)(\s+in\s+\w+)?\s*:\s*", re.I)


class BadTranslation(BadQuestion):
    """A translation that cannot be made as asked: empty text, too long, or an unknown language (HTTP 400)."""


@dataclass(frozen=True)
class Translation:
    """A passage in ``language``; ``machine_translation`` is False when it was already in that language."""

    text: str
    language: str
    source_language: str
    machine_translation: bool
    cached: bool = False


class Translator:
    """translate(text, language): the chat model at temperature 0 through prompts/translate.txt, cached."""

    def __init__(self, llm: "BaseChatModel", slots: Optional["AnswerSlots"] = None,
                 max_waiting: Optional[int] = None, cache_size: int = CACHE_SIZE, max_chars: int = MAX_CHARS):
        self._llm = llm.bind(temperature=0, max_tokens=GROUP_TOKENS)
        self._slots, self._max_waiting = slots, max_waiting
        self._cache: OrderedDict[tuple[str, str], Translation] = OrderedDict()
        self._cache_size, self._max_chars = cache_size, max_chars
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], tuple[threading.Lock, int]] = {}

    def translate(self, text: str, language: str, key: Optional[str] = None) -> Translation:
        """``text`` in ``language`` ('en' or 'id'); ``key`` (a chunk id) names the cache entry, else the text's hash."""
        text = (text or "").strip()
        check_request(text, language, self._max_chars)
        source = detect_language(text, default=language)  # nothing to tell by (numbers, names): shown as is
        if source == language:
            return Translation(text, language, source, machine_translation=False)
        cache_key = (key or hashlib.sha256(text.encode("utf-8")).hexdigest(), language)
        with self._only_one(cache_key):  # two readers of one card: the second waits and reads the cache
            hit = self._cached(cache_key)
            if hit is not None:
                return hit
            groups = [self._translate_group(group, source, language) for group in sentence_groups(text)]
            result = Translation("\n".join(g for g in groups if g), language, source, machine_translation=True)
            self._remember(cache_key, result)
        return result

    @contextmanager
    def _only_one(self, key: tuple[str, str]) -> Iterator[None]:
        """One translation of a key at a time; the lock is dropped when no one holds or waits for it."""
        with self._lock:
            lock, users = self._running.get(key, (threading.Lock(), 0))
            self._running[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._running[key]
                if users == 1:
                    del self._running[key]
                else:
                    self._running[key] = (lock, users - 1)

    def _cached(self, key: tuple[str, str]) -> Optional[Translation]:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        return replace(hit, cached=True) if hit is not None else None

    def _remember(self, key: tuple[str, str], result: Translation) -> None:
        with self._lock:
            self._cache[key] = result
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _translate_group(self, group: str, source: str, language: str) -> str:
        """One model call, in its turn in the answers' line."""
        prompt = load_prompt("translate").format(text=group, source_language=LANGUAGE_NAMES[source],
                                                 language=LANGUAGE_NAMES[language])
        with self._turn():
            reply = self._llm.invoke(prompt).content
        return _PREFIX.sub("", reply if isinstance(reply, str) else "").strip()

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold one answer slot for one group (Busy when too many already wait); no line without slots."""
        if self._slots is None:
            yield
            return
        ticket = self._slots.enter(self._max_waiting)
        try:
            ticket.granted.wait()
            yield
        finally:
            self._slots.leave(ticket)


def check_request(text: str, language: str, max_chars: int = MAX_CHARS) -> None:
    """Refuse at once what cannot be translated, before any wait in line."""
    if language not in LANGUAGE_NAMES:
        raise BadTranslation(f"Unknown language {language!r}: translations go into "
                             f"{' or '.join(repr(code) for code in LANGUAGE_NAMES)}.")
    if not text:
        raise BadTranslation("There is no text to translate.")
    if len(text) > max_chars:
        raise BadTranslation(f"The text is {len(text):,} characters; a translation takes at most {max_chars:,} "
                             "(one passage, not a whole article).")


def sentence_groups(text: str, size: int = GROUP_CHARS) -> list[str]:
    """Whole sentences packed into groups of about ``size`` characters (a longer sentence stands alone)."""
    return _packed((piece for s in _SENTENCE_END.split(text) for piece in _pieces(s.strip(), size)), size)


def _pieces(sentence: str, size: int) -> list[str]:
    """A sentence longer than a group cut at spaces (an unpunctuated wall of text still fits the reply budget)."""
    if len(sentence) <= size:
        return [sentence] if sentence else []
    return _packed(sentence.split(), size)


def _packed(parts, size: int) -> list[str]:
    """Parts joined by spaces into runs of at most ``size`` characters (a longer part stands alone)."""
    runs, current = [], ""
    for part in parts:
        if current and len(current) + 1 + len(part) > size:
            runs.append(current)
            current = part
        else:
            current = f"{current} {part}".strip()
    return runs + [current] if current else runs
