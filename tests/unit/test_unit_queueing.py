"""Answer slots: a fair line that a client can leave at any time, a 503 before it grows past its limit,
and answers that wait without holding a thread and stop when their client hangs up."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi.testclient import TestClient

from app.queueing import AnswerSlots, async_ticket
from core.errors import Busy


def test_first_come_first_served_and_a_waiting_place_can_be_given_up():
    slots = AnswerSlots(1)
    first, second, third = slots.enter(), slots.enter(), slots.enter()
    assert first.granted.is_set() and slots.load() == (1, 2)
    slots.leave(second)  # hung up while waiting: out of the line at once
    assert slots.load() == (1, 1)
    slots.leave(first)
    assert third.granted.is_set() and not second.granted.is_set() and slots.load() == (1, 0)
    slots.leave(third), slots.leave(third)  # a second leave does nothing
    assert slots.load() == (0, 0)


def test_the_limit_on_waiting_applies_only_when_no_slot_is_free():
    slots = AnswerSlots(2)
    held = [slots.enter(max_waiting=0), slots.enter(max_waiting=0)]
    waiting = slots.enter(max_waiting=1)
    with pytest.raises(Busy, match="2 answering and 1 waiting"):
        slots.enter(max_waiting=1)
    for ticket in held + [waiting]:
        slots.leave(ticket)
    assert slots.load() == (0, 0)


def test_threads_still_queue_through_slot():
    slots, order = AnswerSlots(1), []

    def answer(name):
        with slots.slot():
            order.append(name)
            time.sleep(0.02)

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(order) == [0, 1, 2, 3, 4] and slots.load() == (0, 0)


def test_an_async_ticket_resolves_on_the_loop_when_a_thread_frees_the_slot():
    slots = AnswerSlots(1)
    holder = slots.enter()

    async def wait_for_slot():
        ticket, granted = async_ticket(slots)
        threading.Timer(0.05, slots.leave, args=(holder,)).start()
        await asyncio.wait_for(granted, 2)
        slots.leave(ticket)

    asyncio.run(wait_for_slot())
    assert slots.load() == (0, 0)


class FakeRequest:
    """Enough of a Starlette request: ``receive`` reports a disconnect after ``hang_up_s``."""

    def __init__(self, hang_up_s: float):
        self.hang_up_s = hang_up_s

    async def receive(self):
        await asyncio.sleep(self.hang_up_s)
        return {"type": "http.disconnect"}


class SlowChat:
    """A stand-in chat service: one token every 20 ms for ``tokens`` tokens, counting what it starts."""

    def __init__(self, tokens: int = 100):
        self.tokens, self.started, self.closed, self.sent = tokens, 0, 0, 0

    def stream(self, question, history=()):
        from app.chat import Answer, Retrieved, Token

        self.started += 1
        try:
            yield Retrieved([], question)
            for _ in range(self.tokens):
                time.sleep(0.02)
                self.sent += 1
                yield Token("kata ")
            yield Answer(question, "kata " * self.tokens, [], refused=False, language="id")
        finally:
            self.closed += 1


def stand_in(unit_settings, chat=None, **overrides):
    from types import SimpleNamespace

    settings = unit_settings.with_changes(**overrides)
    chat = chat or SlowChat()
    return SimpleNamespace(settings=settings, answer_slots=AnswerSlots(settings.max_concurrent_answers),
                           chat_service=chat, validate_question=lambda q: q.strip(), documents=lambda: [],
                           answer_events=lambda question, history=(), verified=False: chat.stream(question, history))


def test_a_client_that_hangs_up_while_waiting_leaves_the_line(unit_settings):
    from app.http_chat import ClientGone, _answer_once

    kb = stand_in(unit_settings)
    holder = kb.answer_slots.enter()

    async def abandoned():
        with pytest.raises(ClientGone):
            await _answer_once(kb, FakeRequest(0.05), "Berapa harga beras?", [])

    asyncio.run(abandoned())
    assert kb.answer_slots.load() == (1, 0) and kb.chat_service.started == 0
    kb.answer_slots.leave(holder)


def test_a_client_that_hangs_up_mid_answer_stops_it_and_frees_the_slot(unit_settings):
    from app.http_chat import ClientGone, _answer_once

    kb = stand_in(unit_settings)

    async def abandoned():
        with pytest.raises(ClientGone):
            await _answer_once(kb, FakeRequest(0.1), "Berapa harga beras?", [])

    asyncio.run(abandoned())
    deadline = time.monotonic() + 2
    while kb.answer_slots.load() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kb.answer_slots.load() == (0, 0) and kb.chat_service.closed == 1
    assert kb.chat_service.sent < kb.chat_service.tokens, "the 2 s answer ran to its end"


def test_a_client_that_stays_gets_its_answer(unit_settings):
    from app.http_chat import _answer_once

    kb = stand_in(unit_settings, chat=SlowChat(tokens=3))
    answer = asyncio.run(_answer_once(kb, FakeRequest(60), "Berapa harga beras?", []))
    assert answer.text.startswith("kata") and kb.answer_slots.load() == (0, 0)


class LingeringChat(SlowChat):
    """Still closing (a model stream, say) for a moment after its answer."""

    def stream(self, question, history=()):
        yield from super().stream(question, history)
        time.sleep(0.2)


def test_an_answer_is_returned_only_once_its_slot_is_free(unit_settings):
    from app.http_chat import _answer_once

    kb = stand_in(unit_settings, chat=LingeringChat(tokens=2))
    asyncio.run(_answer_once(kb, FakeRequest(60), "Berapa harga beras?", []))
    assert kb.answer_slots.load() == (0, 0)


@pytest.mark.parametrize("stream", [False, True])
def test_503_with_retry_after_once_the_line_is_full(unit_settings, stream):
    from app.http_api import build_api

    kb = stand_in(unit_settings, max_waiting_answers=2)
    held = [kb.answer_slots.enter() for _ in range(3)]  # one answering, two waiting
    client = TestClient(build_api(kb), base_url="http://127.0.0.1")
    response = client.post("/v1/chat/completions",
                           json={"stream": stream, "messages": [{"role": "user", "content": "Harga beras?"}]})
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["type"] == "Busy"
    assert client.get("/health").json() == {"status": "ok", "answering": 1, "waiting": 2}
    for ticket in held:
        kb.answer_slots.leave(ticket)


class BrokenChat:
    def stream(self, question, history=()):
        from core.errors import ModelUnavailable

        raise ModelUnavailable("The chat model at http://127.0.0.1:1 did not answer: connection refused")
        yield  # a generator, like the real one


@pytest.mark.parametrize("stream", [False, True])
def test_a_model_error_is_reported_openai_shaped_and_frees_the_slot(unit_settings, stream):
    from app.http_api import build_api

    kb = stand_in(unit_settings, chat=BrokenChat())
    client = TestClient(build_api(kb), base_url="http://127.0.0.1")
    body = {"stream": stream, "messages": [{"role": "user", "content": "Harga beras?"}]}
    response = client.post("/v1/chat/completions", json=body)
    if stream:
        assert '"type": "ModelUnavailable"' in response.text and response.text.endswith("data: [DONE]\n\n")
    else:
        assert response.status_code == 503 and "did not answer" in response.json()["error"]["message"]
    assert kb.answer_slots.load() == (0, 0)
