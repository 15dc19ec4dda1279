"""POST /v1/feedback: a vote on an answer from an API client, kept beside the web page's votes for review."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from app.feedback import BadFeedback, FeedbackStore, make_feedback

if TYPE_CHECKING:
    from app.api import Assistant


class Turn(BaseModel):
    """One earlier exchange of the conversation the vote is about."""

    question: str
    answer: str = ""


class FeedbackRequest(BaseModel):
    """The body: the vote, the question and answer it is about, and optionally what the answer cited."""

    vote: Literal["up", "down"]
    question: str
    answer: str = ""
    sources: list[dict] = Field(default_factory=list, description='e.g. [{"number": 1, "title": "...", "id": "..."}]')
    comment: str = ""
    conversation: list[Turn] = Field(default_factory=list)


def add_feedback_routes(router: APIRouter, assistant: "Assistant") -> None:
    """The route; the store is the one the web page writes, KABAR_DATA_DIR/feedback.jsonl."""
    store = FeedbackStore.in_data_dir(assistant.settings.data_dir)

    @router.post("/feedback", status_code=201)
    def feedback(body: FeedbackRequest) -> dict:
        try:
            item = make_feedback(body.vote, body.question, body.answer, body.sources, body.comment,
                                 [(t.question, t.answer) for t in body.conversation])
        except BadFeedback as err:  # the error handler gives it OpenAI's error shape
            raise HTTPException(400, str(err)) from None
        store.add(item)
        return {"id": item.id, "object": "feedback", "vote": item.vote, "time": item.time}
