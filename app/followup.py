"""Follow-ups ("And with South Korea?") become standalone questions before retrieval."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from app.citations import CITATION
from core.language import LANGUAGE_NAMES
from prompts import load_prompt
from vectorstore.analysis import terms

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

HISTORY_TURNS = 3
TURN_CHARS = 600
OWN_TOPIC_TERMS = 3  # content words a question left unchanged needs to stand alone ("harga beras medium Cipinang")


# Words that point back at an earlier turn: a question with one of them cannot be searched as it is.
_BACK_REFERENCE = re.compile(
    r"^(and|but|also|what about|how about|dan|lalu|terus|bagaimana dengan|kalau)\b|"
    r"\b(it|its|they|them|their|this|that|these|those|he|she|him|her|there|itu|tersebut|ini|dia|ia|mereka|"
    r"beliau|sana|situ)\b|\w{3,}nya\b", re.IGNORECASE)


def stands_alone(question: str) -> bool:
    """No word that points back at the conversation, and enough words of its own to search with."""
    return not _BACK_REFERENCE.search(question.strip()) and len(terms(question)) >= 2


def render_history(history: Sequence[tuple[str, str]]) -> str:
    """The last few turns, citations stripped and long answers shortened (only the topic matters)."""
    lines = []
    for user, assistant in list(history)[-HISTORY_TURNS:]:
        lines.append(f"User: {user.strip()[:TURN_CHARS]}")
        lines.append(f"Assistant: {CITATION.sub('', assistant or '').strip()[:TURN_CHARS]}")
    return "\n".join(lines)


def standalone_question(llm: "BaseChatModel", question: str, history: Sequence[tuple[str, str]],
                        language: str) -> str:
    """The question rewritten to stand alone, in the user's language. Left unchanged by the model, it stands
    alone if it names a topic of its own; a fragment ("And with South Korea?") gets the previous question."""
    if not history:
        return question
    prompt = load_prompt("condense").format(
        history=render_history(history), question=question,
        language=LANGUAGE_NAMES.get(language, "the language of the last question"),
    )
    reply = llm.invoke(prompt).content
    rewritten = reply.strip().splitlines()[0].strip().strip('"') if isinstance(reply, str) and reply.strip() else ""
    rewritten = re.sub(r"^(rewritten question|pertanyaan)\s*:\s*", "", rewritten, flags=re.I)
    unchanged = set(terms(rewritten)) <= set(terms(question))  # "And what about X?" -> "What about X?" adds nothing
    if unchanged and len(terms(question)) >= OWN_TOPIC_TERMS:
        return question
    if unchanged or not 3 <= len(rewritten) <= 500:
        # the model could not rewrite it: search with the previous question for context instead
        return f"{history[-1][0].strip()[:TURN_CHARS]} {question}"
    return rewritten
