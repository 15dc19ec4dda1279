"""Gradio web chat: a thin adapter over the chat service (streamed answer + sources panel)."""
from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING, AsyncIterator, Iterator

from app.chat import Answer, Checking, Retrieved, Token
from app.language import detect_language
from core.errors import KabarError

if TYPE_CHECKING:
    import gradio as gr

    from app.api import Assistant
    from vectorstore.store import Passage

log = logging.getLogger(__name__)

EXAMPLES = [
    "Why is the EU partnering with Japan?",
    "Apa peran Jepang dalam rantai pasokan semikonduktor?",
    "What did Thierry Breton announce about AI?",
    "Apa itu Dewan Kemitraan Digital UE-Jepang?",
]
EMPTY_SOURCES = "<div class='kabar-sources'><em>Sources appear here when you ask a question.</em></div>"


def _highlighted(text: str, evidence: list[str]) -> str:
    """Escaped passage text with its supporting sentences marked (escaping first, so nothing runs)."""
    shown = html.escape(text)
    for sentence in evidence:
        escaped = html.escape(sentence)
        shown = shown.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return shown


def _card(number: int, passage: "Passage", cited: bool, evidence: list[str] = ()) -> str:
    """One source card; every article field is escaped, so article HTML is shown, never run."""
    facts = " · ".join(html.escape(x) for x in (passage.outlet, passage.date) if x)
    link = (f"<a href='{html.escape(passage.url, quote=True)}' target='_blank' rel='noopener noreferrer'>link</a>"
            if passage.url.startswith(("http://", "https://")) else "")
    return (
        f"<div class='kabar-card{' kabar-cited' if cited else ''}' id='source-{number}'>"
        f"<div><strong>[{number}] {html.escape(passage.title or 'Untitled')}</strong> {facts} {link}</div>"
        f"<div class='kabar-passage'>{_highlighted(passage.text, list(evidence))}</div></div>"
    )


def render_sources(passages: list["Passage"], cited: dict[int, list[str]] | None = None,
                   spans: dict[int, list[str]] | None = None) -> str:
    """Numbered cards, each passage's best sentence marked while the model writes; once the answer is
    verified only the cited ones remain, with the evidence of the answer marked."""
    if not passages:
        return "<div class='kabar-sources'><em>No matching passages in the archive.</em></div>"
    marked = cited if cited is not None else (spans or {})
    cards = [
        _card(i, p, cited is not None, marked.get(i, []))
        for i, p in enumerate(passages, start=1)
        if cited is None or i in cited
    ]
    return "<div class='kabar-sources'>" + "".join(cards) + "</div>"


def pairs_from_history(history: list) -> list[tuple[str, str]]:
    """Gradio's message history as (question, answer) pairs, whatever content shape it uses."""
    def text(message) -> str:
        content = message.get("content") if isinstance(message, dict) else message
        if isinstance(content, list):
            return " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
        return content if isinstance(content, str) else ""

    pairs, pending = [], None
    for message in history or []:
        role = message.get("role") if isinstance(message, dict) else None
        if role == "user":
            pending = text(message)
        elif role == "assistant" and pending is not None:
            pairs.append((pending, text(message)))
            pending = None
    return pairs


def api_history(history) -> list[dict]:
    """/ask's ``history`` as chat messages: OpenAI-style {"role", "content"} dicts, or [question, answer] pairs."""
    messages = []
    for turn in history if isinstance(history, list) else []:
        if isinstance(turn, dict):
            messages.append(turn)
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
    return messages


# shown under the draft while the claim judge reads it: the final answer may drop sentences
CHECKING = {"en": "⏳ Checking each sentence against its source…", "id": "⏳ Memeriksa setiap kalimat dengan sumbernya…"}


def respond(assistant: "Assistant", message: str, history: list) -> Iterator[tuple[str, str]]:
    """Stream (answer so far, sources panel) pairs for one question."""
    text, passages, spans = "", [], {}
    try:
        for event in assistant.stream(message, pairs_from_history(history)):
            if isinstance(event, Retrieved):
                passages, spans = event.passages, event.spans
                yield "…", render_sources(passages, spans=spans)
            elif isinstance(event, Token):
                text += event.text
                yield text, render_sources(passages, spans=spans)
            elif isinstance(event, Checking) and text:
                yield f"{text}\n\n{CHECKING[detect_language(message)]}", render_sources(passages, spans=spans)
            elif isinstance(event, Answer):
                yield _final_text(event), render_sources(passages, {s.number: s.evidence for s in event.sources})
    except KabarError as err:
        yield f"⚠️ {err}", render_sources(passages)
    except Exception:  # the page shows a readable message; the log keeps the details
        log.exception("chat failed")
        yield "⚠️ Something went wrong while answering. The details are in the server log.", render_sources(passages)


def _final_text(answer: Answer) -> str:
    """Refusals carry a visible note; citations become links to their source cards."""
    if answer.refused:
        return f"ℹ️ {answer.text}"
    return re.sub(r"\[(\d+)\]", r"[[\1]](#source-\1)", answer.text)


CSS = """
.kabar-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; margin-bottom: 8px;}
.kabar-cited {border-color: var(--color-accent);}
.kabar-passage mark {background: #fde68a; color: inherit; border-radius: 2px;}
.kabar-passage {white-space: pre-wrap; font-size: 0.9em; max-height: 14em; overflow-y: auto;}
.kabar-heading {font-weight: 600; font-size: 1.1em;}
"""


LABELS = {
    "en": {"intro": "Ask your news archive, in English or Bahasa Indonesia.", "chat": "Chat", "sources": "Sources",
           "documents_tab": "Documents", "upload": "Add articles (.txt .md .html .pdf .docx .jsonl)",
           "add": "Add to the archive", "documents": "Articles in the archive", "choose": "Article to delete",
           "delete": "Delete", "new_chat": "New chat"},
    "id": {"intro": "Tanyakan arsip berita Anda, dalam bahasa Indonesia atau Inggris.", "chat": "Obrolan",
           "sources": "Sumber", "documents_tab": "Dokumen",
           "upload": "Tambah artikel (.txt .md .html .pdf .docx .jsonl)", "add": "Tambahkan ke arsip",
           "documents": "Artikel dalam arsip", "choose": "Artikel yang akan dihapus", "delete": "Hapus",
           "new_chat": "Obrolan baru"},
}


def build_ui(assistant: "Assistant") -> "gr.Blocks":
    """The page: chat with a sources panel, and a documents tab; labels follow the browser's language."""
    import gradio as gr

    from app.web_documents import build_documents_tab
    from app.web_queue import queued_answer

    labels = gr.I18n(**LABELS)

    async def answer(message: str, chat: list, history: list | None = None) -> AsyncIterator[tuple[str, str]]:
        """``history``: the earlier turns a gradio_client caller passes to /ask ([] for none); without it, the
        session's own chat (the page's, or that client's earlier /ask turns).
        The place in line is awaited on the event loop, so a closed tab gives it up within a second."""
        async for update in queued_answer(assistant, message, chat if history is None else api_history(history)):
            yield update

    with gr.Blocks(title="Kabar") as demo:
        gr.Markdown("# Kabar")
        gr.Markdown(labels("intro"))
        with gr.Tab(labels("chat")):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    sources = gr.HTML(EMPTY_SOURCES, render=False, elem_id="sources")
                    chatbot = gr.Chatbot(elem_id="chat", height=520, render_markdown=True)
                    history = gr.JSON(None, visible=False, label="history")  # /ask's history, for API callers only
                    gr.ChatInterface(fn=answer, chatbot=chatbot, additional_inputs=[history],
                                     additional_outputs=[sources], examples=[[q] for q in EXAMPLES],
                                     api_name="ask", fill_height=True)
                    new_chat = gr.Button(labels("new_chat"), size="sm", elem_id="new-chat")
                with gr.Column(scale=2, min_width=320):
                    gr.Markdown(labels("sources"), elem_classes=["kabar-heading"])
                    sources.render()
            new_chat.click(lambda: ([], EMPTY_SOURCES), outputs=[chatbot, sources], api_name=False)
        with gr.Tab(labels("documents_tab")):
            build_documents_tab(assistant, labels, demo)
    demo.kabar_i18n = labels
    return demo
