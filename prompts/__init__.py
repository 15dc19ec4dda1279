"""Prompt files with named placeholders; the one place to change what the model is told."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent
REFUSAL_MARKER = "NOT_IN_ARTICLES"


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """The text of prompts/<name>.txt without its trailing newline."""
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def refusal_text(language: str) -> str:
    """'The articles don't say' in the question's language (English when there is no translation)."""
    path = PROMPTS_DIR / f"refusal_{language}.txt"
    return load_prompt(f"refusal_{language}" if path.exists() else "refusal_en")
