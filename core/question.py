"""One question as every stage reads it: its text, languages and vector are worked out once and passed down."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from core.language import detect_language, question_language

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings


@dataclass
class Question:
    """``text`` is what is searched for and answered: the question as asked, or a follow-up rewritten to stand
    alone. ``language`` is the reply's (the asker's), ``search_language`` the one passages are compared with."""

    text: str
    language: str
    search_language: str
    asked: str
    history: tuple[tuple[str, str], ...] = ()
    vector: Optional[np.ndarray] = field(default=None, repr=False)

    @classmethod
    def of(cls, text: str, history: Sequence[tuple[str, str]] = ()) -> "Question":
        return cls(text, detect_language(text), question_language(text), text, tuple(history))

    def rewritten(self, text: str) -> "Question":
        """The follow-up as it stands alone: searched anew, answered in the asker's language."""
        return replace(self, text=text, search_language=question_language(text), vector=None)

    @property
    def in_context(self) -> str:
        """A rewritten follow-up after the previous question ("" when not rewritten): the checker reads both,
        since a rewrite can lose words ("Berapa nilainya?" -> "Berapa nilai JSR?", the acquisition gone)."""
        if not self.history or self.text == self.asked:
            return ""
        return f"{self.history[-1][0].strip()} {self.asked}"

    def embedded(self, embeddings: "Embeddings") -> np.ndarray:
        """The query vector, computed on first use and shared by search and evidence selection."""
        if self.vector is None:
            self.vector = np.asarray(embeddings.embed_query(self.text), dtype=np.float32)
        return self.vector
