"""Gradio web chat: a thin adapter over the chat service (streamed answer + sources panel)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, AsyncIterator, Iterator

from app.chat import Answer, Checking, Retrieved, Stage, Token
from core.language import detect_language
from app.web_labels import LABELS, request_language, with_request  # noqa: F401  (LABELS re-exported)
from app.web_progress import Progress
from app.web_sources import answer_sources, empty_sources, linked, plain_answer, render_sources  # noqa: F401
from app.web_style import CSS, HEAD  # noqa: F401  (re-exported for app/server.py)
from core.errors import KabarError

if TYPE_CHECKING:
    import gradio as gr

    from app.api import Assistant

log = logging.getLogger(__name__)

EXAMPLES = [
    "Why is the EU partnering with Japan?",
    "Apa peran Jepang dalam rantai pasokan semikonduktor?",
    "What did Thierry Breton announce about AI?",
    "Apa itu Dewan Kemitraan Digital UE-Jepang?",
]
EMPTY_SOURCES = empty_sources()  # English; the page swaps in the browser's language on load


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
            pairs.append((pending, plain_answer(text(message))))  # the model rereads the words, not the cards
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


ERROR = {"en": "⚠️ Something went wrong while answering. The details are in the server log.",
         "id": "⚠️ Terjadi kesalahan saat menjawab. Rinciannya ada di log server."}


def respond(assistant: "Assistant", message: str, history: list) -> Iterator[tuple[str, str]]:
    """Stream (answer message so far, sources panel) pairs for one question, each step said as it starts."""
    pairs = pairs_from_history(history)
    progress, shown = Progress(detect_language(message)), _Shown(len(pairs) + 1)
    language = progress.language
    try:
        yield progress.line("searching"), empty_sources(language)
        for event in assistant.stream(message, pairs):
            update = shown.update(event, progress)
            if update is not None:
                yield update
    except KabarError as err:
        yield f"⚠️ {err}", shown.panel(language)
    except Exception:  # the page shows a readable message; the log keeps the details
        log.exception("chat failed")
        yield ERROR[language], shown.panel(language)


class _Shown:
    """What one answer has shown so far: its draft and passages, and its number in the conversation."""

    def __init__(self, answer_number: int):
        self.number, self.text, self.passages, self.spans = answer_number, "", [], {}

    def panel(self, language: str, cited: dict[int, list[str]] | None = None) -> str:
        """The live sources panel; before any search, the empty one (no "no matching passages" for a typo)."""
        if not self.passages and cited is None:
            return empty_sources(language)
        return render_sources(self.passages, cited, self.spans, language)

    def update(self, event, progress: Progress) -> tuple[str, str] | None:
        """The page's (message, panel) for one chat event; None for events the page does not show."""
        language = progress.language
        if isinstance(event, Stage):
            return (progress.under(self.text, event.name), self.panel(language)) if progress.knows(event.name) else None
        if isinstance(event, Retrieved):
            self.passages, self.spans = event.passages, event.spans
            return progress.line("reading", len(self.passages)), self.panel(language)
        if isinstance(event, Token):
            self.text += event.text
            return progress.under(self.text, "writing"), self.panel(language)
        if isinstance(event, Checking):
            return progress.under(self.text, "checking"), self.panel(language)
        if isinstance(event, Answer):
            cited = {s.number: s.evidence for s in event.sources}
            return final_message(event, self.number), self.panel(language, cited)
        return None


def final_message(answer: Answer, answer_number: int) -> str:
    """Refusals carry a visible note; an answer's [n] link to its own cards, kept under it in the message."""
    if answer.refused:
        return f"ℹ️ {answer.text}"
    return linked(answer.text, answer_number) + answer_sources(answer, answer_number)


def build_ui(assistant: "Assistant") -> "gr.Blocks":
    """The page: chat with a sources panel, and a documents tab; labels follow the browser's language."""
    import gradio as gr

    from app.conversations import ConversationStore
    from app.feedback import FeedbackStore
    from app.web_documents import build_documents_tab
    from app.web_feedback import build_feedback
    from app.web_history import KabarChat
    from app.web_queue import queued_answer
    from app.web_translate import add_translate_endpoint

    labels = gr.I18n(**LABELS)

    async def answer(message: str, chat: list, history: list | None = None) -> AsyncIterator[tuple[str, str]]:
        """``history``: the earlier turns a gradio_client caller passes to /ask ([] for none); without it, the
        session's own chat (the page's, or that client's earlier /ask turns).
        The place in line is awaited on the event loop, so a closed tab gives it up within a second."""
        async for update in queued_answer(assistant, message, chat if history is None else api_history(history),
                                          respond):
            yield update

    with gr.Blocks(title="Kabar") as demo:
        gr.Markdown("# Kabar")
        gr.Markdown(labels("intro"))
        with gr.Tab(labels("chat")):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    sources = gr.HTML(EMPTY_SOURCES, render=False, elem_id="sources")
                    chatbot = gr.Chatbot(elem_id="chat", height=520, render_markdown=True, show_label=False)
                    history = gr.JSON(None, visible=False, label="history")  # /ask's history, for API callers only
                    question = gr.Textbox(label=labels("question"), scale=7, submit_btn=True, stop_btn=True,
                                          placeholder=labels("chat_interface.message_placeholder"))
                    chat = KabarChat(fn=answer, chatbot=chatbot, textbox=question, additional_inputs=[history],
                                     additional_outputs=[sources], examples=[[q] for q in EXAMPLES],
                                     api_name="ask", fill_height=True, labels=labels,
                                     store=ConversationStore(assistant.settings.data_dir))
                    build_feedback(chatbot, FeedbackStore.in_data_dir(assistant.settings.data_dir), labels)
                with gr.Column(scale=2, min_width=320):
                    gr.Markdown(labels("sources"), elem_classes=["kabar-heading"])
                    sources.render()
            _wire_fresh_panel(demo, chatbot, chat, sources)
        with gr.Tab(labels("documents_tab")):
            build_documents_tab(assistant, labels, demo)
        add_translate_endpoint(assistant)  # the cards' Translate button calls it (app/web_translate.py)
    demo.kabar_i18n = labels
    return demo


def _wire_fresh_panel(demo, chatbot, chat, sources) -> None:
    """The empty sources panel in the browser's language on load, and again when a chat is cleared, started
    (New chat) or reopened from the saved list: an old answer's cards never stay beside another chat."""
    @with_request
    def fresh(request) -> str:
        return empty_sources(request_language(request))

    demo.load(fresh, outputs=sources, api_name=False)
    for trigger in (chatbot.clear, chat.new_chat_button.click, chat.chat_history_dataset.click):
        trigger(fresh, outputs=sources, api_name=False)
