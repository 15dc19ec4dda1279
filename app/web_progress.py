"""What the answer bubble says while an answer is under way: the step and the seconds since the question."""
from __future__ import annotations

import time

from app.web_sources import STAGE_START

STAGES = {
    "en": {"searching": "🔎 Searching the archive…",
           "rewriting": "✏️ Rewriting your follow-up so it stands alone…",
           "reading": "📖 Reading {count} passages…", "reading_one": "📖 Reading 1 passage…",
           "writing": "✍️ Writing…",
           "checking": "⏳ Checking each sentence against its source…"},
    "id": {"searching": "🔎 Mencari di arsip…",
           "rewriting": "✏️ Menulis ulang pertanyaan lanjutan Anda agar berdiri sendiri…",
           "reading": "📖 Membaca {count} bagian…", "reading_one": "📖 Membaca 1 bagian…",
           "writing": "✍️ Menulis…",
           "checking": "⏳ Memeriksa setiap kalimat dengan sumbernya…"},
}


class Progress:
    """The progress line of one answer; the page's script keeps its seconds counting between updates
    (Gradio strips data attributes from messages, so the script reads the seconds from the text)."""

    def __init__(self, language: str, clock=time.monotonic):
        self.language = language if language in STAGES else "en"
        self._clock = clock
        self._start = clock()

    def knows(self, stage: str) -> bool:
        """A stage the chat service may add later is skipped, not shown as an error."""
        return stage in STAGES[self.language]

    def line(self, stage: str, count: int = 0) -> str:
        """One stage in the question's language, with the seconds since the question was asked."""
        elapsed = int(self._clock() - self._start)
        key = "reading_one" if stage == "reading" and count == 1 else stage
        text = STAGES[self.language][key].format(count=count)
        return (f"{STAGE_START} kabar-stage-{stage}'>{text} "
                f"<span class='kabar-seconds'>{elapsed} s</span></span>")

    def under(self, draft: str, stage: str) -> str:
        """The draft so far with the stage below it."""
        return f"{draft}\n\n{self.line(stage)}" if draft else self.line(stage)
