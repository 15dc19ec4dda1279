"""Source cards for the web chat: the live panel, and the source list each answer keeps in its own message."""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Iterable

from core.language import detect_language

if TYPE_CHECKING:
    from app.events import Answer
    from vectorstore.store import Passage

WORDS = {
    "en": {"sources": "Sources", "untitled": "Untitled", "link": "link", "empty": "Sources appear here when you "
           "ask a question.", "none": "No matching passages in the archive.", "no_sources": "No sources cited.",
           "translate": "Translate", "original": "Show original", "machine": "Machine translation"},
    "id": {"sources": "Sumber", "untitled": "Tanpa judul", "link": "tautan", "empty": "Sumber muncul di sini saat "
           "Anda bertanya.", "none": "Tidak ada bagian arsip yang cocok.", "no_sources": "Tidak ada sumber dikutip.",
           "translate": "Terjemahkan", "original": "Tampilkan asli", "machine": "Terjemahan mesin"},
}
# The answer's own sources start here; pairs_from_history cuts there, so the model never rereads the cards.
SOURCES_START = "\n\n<details class='kabar-answer-sources'"
_LINK = re.compile(r"\[\[(\d+)\]\]\(#source-a\d+-\d+\)")
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # chunk ids are hex; anything else gets no button
STAGE_START = "<span class='kabar-stage"  # a draft's progress line; never part of the answer


def anchor(answer_number: int, number: int) -> str:
    """The page-wide id of an answer's card: each answer's [n] opens that answer's own card."""
    return f"source-a{answer_number}-{number}"


def highlighted(text: str, evidence: Iterable[str]) -> str:
    """Escaped passage text with its supporting sentences marked (escaping first, so nothing runs)."""
    shown = html.escape(text)
    for sentence in evidence:
        escaped = html.escape(sentence)
        shown = shown.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return shown


def _article_header(passage: "Passage", language: str) -> str:
    """Title, outlet, date and link of one article, shown once above its cards; every field escaped."""
    words = WORDS[language]
    facts = " · ".join(html.escape(x) for x in (passage.outlet, passage.date) if x)
    link = (f" <a href='{html.escape(passage.url, quote=True)}' target='_blank' rel='noopener noreferrer'>"
            f"{words['link']}</a>" if passage.url.startswith(("http://", "https://")) else "")
    return (f"<div class='kabar-article-title'><strong>{html.escape(passage.title or words['untitled'])}</strong>"
            f"<span class='kabar-facts'> {facts}{link}</span></div>")


def _translate_button(passage: "Passage", language: str) -> str:
    """A Translate button when the passage is in another language than the question; the page script
    (app/web_style.py) swaps in the translation, labelled, with the original a click away. Chunk id and language
    ride in class names: the chat's sanitiser drops data-* attributes from answers' own cards."""
    if not _SAFE_ID.fullmatch(passage.chunk_id or "") or detect_language(passage.text, default=language) == language:
        return ""
    return (f" <button type='button' class='kabar-translate kabar-to-{language} kabar-chunk-{passage.chunk_id}'>"
            f"{WORDS[language]['translate']}</button>")


def _card(number: int, passage: "Passage", evidence: Iterable[str], cited: bool, card_id: str = "",
          language: str = "en") -> str:
    """One numbered passage; ``card_id`` only for the answer's own cards (ids stay unique on the page)."""
    classes = "kabar-card kabar-cited" if cited else "kabar-card"
    ident = f" id='{card_id}'" if card_id else ""
    return (f"<div class='{classes}'{ident}><span class='kabar-number'>[{number}]"
            f"{_translate_button(passage, language)}</span> "
            f"<span class='kabar-passage'>{highlighted(passage.text, evidence)}</span></div>")


def grouped(cards: list[tuple[int, "Passage", list[str]]], language: str, cited: bool,
            answer_number: int = 0) -> str:
    """Cards of one article together under its title, in the order the article first appears."""
    articles: dict[str, list[tuple[int, "Passage", list[str]]]] = {}
    for number, passage, evidence in cards:
        articles.setdefault(passage.doc_id or passage.title or passage.chunk_id, []).append((number, passage, evidence))
    blocks = []
    for group in articles.values():
        inner = "".join(_card(n, p, e, cited, anchor(answer_number, n) if answer_number else "", language)
                        for n, p, e in group)
        blocks.append(f"<div class='kabar-article'>{_article_header(group[0][1], language)}{inner}</div>")
    return "".join(blocks)


def render_sources(passages: list["Passage"], cited: dict[int, list[str]] | None = None,
                   spans: dict[int, list[str]] | None = None, language: str = "en") -> str:
    """The live panel: each passage's best sentence marked while the model writes; once the answer is
    verified only the cited ones remain, with the evidence of the answer marked."""
    if not passages:
        return f"<div class='kabar-sources'><em>{WORDS[language]['none']}</em></div>"
    marked = cited if cited is not None else (spans or {})
    cards = [(i, p, marked.get(i, [])) for i, p in enumerate(passages, start=1) if cited is None or i in cited]
    if not cards:  # a refusal: the panel says so rather than going blank
        return f"<div class='kabar-sources'><em>{WORDS[language]['no_sources']}</em></div>"
    return "<div class='kabar-sources'>" + grouped(cards, language, cited is not None) + "</div>"


def empty_sources(language: str = "en") -> str:
    """The panel before any question (and after a new chat)."""
    return f"<div class='kabar-sources'><em>{WORDS[language]['empty']}</em></div>"


def answer_sources(answer: "Answer", answer_number: int) -> str:
    """The cited cards appended to the answer's own message, so its [n] still resolve after later answers."""
    if not answer.sources:
        return ""
    words = WORDS[answer.language if answer.language in WORDS else "en"]
    cards = [(s.number, s.passage, s.evidence) for s in answer.sources]
    body = grouped(cards, answer.language if answer.language in WORDS else "en", True, answer_number)
    return (f"{SOURCES_START}><summary>{words['sources']} ({len(cards)})</summary>"
            f"<div class='kabar-sources'>{body}</div></details>")


def linked(text: str, answer_number: int) -> str:
    """Each [n] as a link to this answer's own card n."""
    return re.sub(r"\[(\d+)\]", lambda m: f"[[{m[1]}]](#{anchor(answer_number, int(m[1]))})", text)


def plain_answer(message: str) -> str:
    """An answer as the model wrote it: without its source cards and with [n] links back to [n]."""
    return _LINK.sub(r"[\1]", message.split(SOURCES_START, 1)[0].split(STAGE_START, 1)[0]).strip()
