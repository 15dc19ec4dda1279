"""What the chat service streams: the retrieved passages, answer text, and the final verified answer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from vectorstore.store import Passage


@dataclass
class Source:
    """A cited passage; ``number`` is the [n] the answer uses for it."""

    number: int
    passage: Passage
    evidence: list[str] = field(default_factory=list)  # the passage's sentences that support the answer


@dataclass
class Answer:
    """The final, verified answer."""

    question: str
    text: str
    sources: list[Source] = field(default_factory=list)
    refused: bool = False
    language: str = "en"
    retrieved: list[Passage] = field(default_factory=list, repr=False)
    answerability: Optional[float] = None  # the checker's probability that a passage states the answer; None: not asked
    claims: list[tuple[str, Optional[float]]] = field(default_factory=list, repr=False)  # claim judge: sentence, log-odds


@dataclass
class Retrieved:
    """Streaming event: the passages the answer will be built from (sent before the first token)."""

    passages: list[Passage]
    question: str = ""  # what was searched for: a follow-up rewritten to stand alone
    spans: dict[int, list[str]] = field(default_factory=dict)  # passage number -> its best sentence, before writing
    language: str = "en"  # the reply's: the asker's language, also after a follow-up is rewritten


@dataclass
class Token:
    """Streaming event: the next piece of the answer text."""

    text: str


@dataclass
class Checking:
    """Streaming event: the draft is complete and its sentences are being checked against their sources."""

    draft: str = ""  # the whole draft (cut back to its last full sentence when the model hit its token limit)
    answerability: Optional[float] = None  # the gate's score the answer was let through at


@dataclass
class Stage:
    """Streaming event: a slow step starts (a follow-up's rewrite takes seconds), so a page can say so.

    Consumers that do not show progress ignore it, as they ignore any event they do not know."""

    name: str  # "rewriting": the follow-up is rewritten to stand alone; "searching": the archive is searched


ChatEvent = Union[Stage, Retrieved, Token, Checking, Answer]
