"""Sentences of a text: the bottom layer, so ingest, store, answering and checking split alike."""
from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_CITED_STOP = re.compile(r"([.!?])[ \t]*((?:\[\d+(?:\s*,\s*\d+)*\][ \t,]*)*\[\d+(?:\s*,\s*\d+)*\])")


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer or a passage; a citation after the full stop stays with its sentence."""
    text = _CITED_STOP.sub(r" \2\1", text)
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def sentence_ends(text: str) -> list[int] | None:
    """Where each sentence of ``text`` ends, to store beside it; None when the split rewrote the text (a citation
    moved before its full stop) and the sentences cannot be cut back out of it."""
    ends, position = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, position)
        if start < 0:
            return None
        position = start + len(sentence)
        ends.append(position)
    return ends


def sentences_at(text: str, ends: list[int]) -> list[str]:
    """The sentences ``sentence_ends`` found, cut back out of the text."""
    starts = [0, *ends[:-1]]
    return [text[a:b].strip() for a, b in zip(starts, ends) if text[a:b].strip()]
