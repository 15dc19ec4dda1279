"""Gradio web chat: a thin adapter over the chat service (streamed answer + sources panel)."""
from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Iterator

from app.chat import Answer, Retrieved, Token
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


def _card(number: int, passage: "Passage", cited: bool) -> str:
    """One source card; every article field is escaped, so article HTML is shown, never run."""
    facts = " · ".join(html.escape(x) for x in (passage.outlet, passage.date) if x)
    link = (f"<a href='{html.escape(passage.url, quote=True)}' target='_blank' rel='noopener noreferrer'>link</a>"
            if passage.url.startswith(("http://", "https://")) else "")
    return (
        f"<div class='kabar-card{' kabar-cited' if cited else ''}' id='source-{number}'>"
        f"<div><strong>[{number}] {html.escape(passage.title or 'Untitled')}</strong> {facts} {link}</div>"
        f"<div class='kabar-passage'>{html.escape(passage.text)}</div></div>"
    )


def render_sources(passages: list["Passage"], cited: set[int] | None = None) -> str:
    """Numbered cards; once the answer is verified only the cited passages remain."""
    if not passages:
        return "<div class='kabar-sources'><em>No matching passages in the archive.</em></div>"
    cards = [
        _card(i, p, cited is not None and i in cited)
        for i, p in enumerate(passages, start=1)
        if cited is None or i in cited
    ]
    return "<div class='kabar-sources'>" + "".join(cards) + "</div>"


def respond(assistant: "Assistant", message: str, history: list) -> Iterator[tuple[str, str]]:
    """Stream (answer so far, sources panel) pairs for one question."""
    text, passages = "", []
    try:
        for event in assistant.stream(message):
            if isinstance(event, Retrieved):
                passages = event.passages
                yield "…", render_sources(passages)
            elif isinstance(event, Token):
                text += event.text
                yield text, render_sources(passages)
            elif isinstance(event, Answer):
                yield _final_text(event), render_sources(passages, {s.number for s in event.sources})
    except KabarError as err:
        yield f"⚠️ {err}", render_sources(passages)
    except Exception:  # the page shows a readable message; the log keeps the details
        log.exception("chat failed")
        yield "⚠️ Something went wrong while answering. The details are in the server log.", render_sources(passages)


def _final_text(answer: Answer) -> str:
    return f"ℹ️ {answer.text}" if answer.refused else answer.text


CSS = """
.kabar-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; margin-bottom: 8px;}
.kabar-cited {border-color: var(--color-accent);}
.kabar-passage {white-space: pre-wrap; font-size: 0.9em; max-height: 14em; overflow-y: auto;}
"""


def build_ui(assistant: "Assistant") -> "gr.Blocks":
    import gradio as gr

    def answer(message: str, history: list) -> Iterator[tuple[str, str]]:
        yield from respond(assistant, message, history)

    with gr.Blocks(title="Kabar") as demo:
        gr.Markdown("# Kabar\nAsk your news archive, in English or Bahasa Indonesia.")
        with gr.Row():
            with gr.Column(scale=3):
                sources = gr.HTML(EMPTY_SOURCES, render=False)
                gr.ChatInterface(
                    fn=answer,
                    additional_outputs=[sources],
                    examples=EXAMPLES,
                    run_examples_on_click=True,
                    api_name="ask",
                    fill_height=True,
                )
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources.render()
    return demo


def launch(assistant: "Assistant") -> None:
    import gradio as gr

    settings = assistant.settings
    build_ui(assistant).queue(default_concurrency_limit=1).launch(
        server_name=settings.web_host, server_port=settings.web_port, show_error=False,
        css=CSS, theme=gr.themes.Soft(),
    )
