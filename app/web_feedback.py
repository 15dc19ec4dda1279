"""Thumbs up/down under each answer, with an optional comment: a thin adapter from the chat to app/feedback.py."""
import html
import logging
import re

from app.feedback import Feedback, FeedbackStore, make_feedback
from app.web_labels import request_language
from app.web_sources import SOURCES_START, plain_answer

log = logging.getLogger(__name__)

WORDS = {"en": {"thanks": "Thanks, your vote is saved. A comment (optional) helps us see what went wrong.",
                "saved": "Comment saved.", "failed": "⚠️ The feedback could not be saved."},
         "id": {"thanks": "Terima kasih, suara Anda tersimpan. Komentar (opsional) membantu kami melihat masalahnya.",
                "saved": "Komentar tersimpan.", "failed": "⚠️ Umpan balik tidak dapat disimpan."}}
_ARTICLE = re.compile(r"<div class='kabar-article-title'><strong>(.*?)</strong>")
_NUMBER = re.compile(r"<span class='kabar-number'>\[(\d+)\]")
_CHUNK = re.compile(r"data-chunk='([^']*)'")  # the card's passage id, where the card carries one


def message_text(message) -> str:
    """A chat message's text, whether its content is a string or a list of parts."""
    content = message.get("content") if isinstance(message, dict) else message
    if isinstance(content, list):
        return " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return content if isinstance(content, str) else ""


def cited_sources(message: str) -> list[dict]:
    """The cards an answer keeps in its own message: their numbers, article titles and passage ids."""
    if SOURCES_START not in message:
        return []
    cards = []
    for article in message.split(SOURCES_START, 1)[1].split("<div class='kabar-article'>")[1:]:
        title = _ARTICLE.search(article)
        for card in article.split("<div class='kabar-card")[1:]:
            number, chunk = _NUMBER.search(card), _CHUNK.search(card)
            if number:
                cards.append({"number": int(number[1]), "title": html.unescape(title[1]) if title else "",
                              **({"id": html.unescape(chunk[1])} if chunk else {})})
    return cards


def vote_of(liked) -> str | None:
    """Gradio's like value as 'up' or 'down'; None when a vote is taken back."""
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    return None


def feedback_from_like(history: list, index, liked, comment: str = "") -> Feedback | None:
    """The feedback for the answer at ``index`` in the chat: its question, cited cards and the turns before it."""
    index = index[0] if isinstance(index, (list, tuple)) else index
    vote = vote_of(liked)
    if vote is None or not isinstance(index, int) or not 0 <= index < len(history or []):
        return None
    roles = [m.get("role") if isinstance(m, dict) else None for m in history]
    asked = [i for i in range(index) if roles[i] == "user"]
    if not asked:
        return None
    turns, pending = [], None
    for message, role in zip(history[:asked[-1]], roles):
        if role == "user":
            pending = message_text(message)
        elif role == "assistant" and pending is not None:
            turns.append((pending, plain_answer(message_text(message))))
            pending = None
    raw = message_text(history[index])
    return make_feedback(vote, message_text(history[asked[-1]]), plain_answer(raw), cited_sources(raw), comment,
                         turns)


def build_feedback(chatbot, store: FeedbackStore, labels) -> None:
    """Thumbs on each answer; a vote is saved at once, and the comment box that opens adds an optional note."""
    import gradio as gr

    given = gr.State(None)
    with gr.Row(visible=False, elem_id="feedback-row") as row:
        comment = gr.Textbox(label=labels("feedback_comment"), scale=5, elem_id="feedback-comment", max_lines=4)
        send = gr.Button(labels("feedback_send"), size="sm", scale=1, elem_id="feedback-send")
    note = gr.Markdown("", elem_id="feedback-note")

    def voted(history: list, like: gr.LikeData, request: gr.Request):
        words = WORDS[request_language(request)]
        try:
            item = feedback_from_like(history, like.index, like.liked)
            if item is None:
                return None, gr.update(visible=False), ""
            return store.add(item), gr.update(visible=True), words["thanks"]
        except Exception:  # the chat goes on; the log keeps the details
            log.exception("feedback failed")
            return None, gr.update(visible=False), words["failed"]

    def commented(item: Feedback | None, text: str, request: gr.Request):
        words = WORDS[request_language(request)]
        if item is None or not (text or "").strip():
            return item, gr.update(visible=item is not None), text, ""
        try:
            store.comment(item, text)
        except Exception:
            log.exception("feedback comment failed")
            return item, gr.update(visible=True), text, words["failed"]
        return None, gr.update(visible=False), "", words["saved"]

    chatbot.like(voted, [chatbot], [given, row, note], api_name=False, queue=False)
    for trigger in (send.click, comment.submit):
        trigger(commented, [given, comment], [given, row, comment, note], api_name=False, queue=False)
