"""Answer slots: a fair line that a client can leave at any time, a 503 before it grows past its limit,
and answers that wait without holding a thread and stop when their client hangs up."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

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
        self.tokens, self.started, self.closed = tokens, 0, 0

    def stream(self, question, history=(), verified=False):
        from app.chat import Answer, Retrieved, Token

        self.started += 1
        try:
            yield Retrieved([], question)
            for _ in range(self.tokens):
                time.sleep(0.02)
                yield Token("kata ")
            yield Answer(question, "kata " * self.tokens, [], refused=False, language="id")
        finally:
            self.closed += 1


def stand_in(unit_settings, chat=None, **overrides):
    from types import SimpleNamespace

    settings = unit_settings.model_copy(update=overrides)
    return SimpleNamespace(settings=settings, answer_slots=AnswerSlots(settings.max_concurrent_answers),
                           chat_service=chat or SlowChat(), validate_question=lambda q: q.strip(),
                           documents=lambda: [])


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

    started = time.monotonic()
    asyncio.run(abandoned())
    deadline = time.monotonic() + 1
    while kb.answer_slots.load() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kb.answer_slots.load() == (0, 0) and kb.chat_service.closed == 1
    assert time.monotonic() - started < 1, "the 2 s answer ran to its end"


def test_a_client_that_stays_gets_its_answer(unit_settings):
    from app.http_chat import _answer_once

    kb = stand_in(unit_settings, chat=SlowChat(tokens=3))
    answer = asyncio.run(_answer_once(kb, FakeRequest(60), "Berapa harga beras?", []))
    assert answer.text.startswith("kata") and kb.answer_slots.load() == (0, 0)


class LingeringChat(SlowChat):
    """Still closing (a model stream, say) for a moment after its answer."""

    def stream(self, question, history=(), verified=False):
        yield from super().stream(question, history, verified)
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
    def stream(self, question, history=(), verified=False):
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


class SlowModel(FakeListChatModel):
    """A chat model that streams its reply one character every ``sleep`` seconds, even from ``invoke``
    (as ChatOpenAI with streaming=True does)."""

    streaming: bool = False


def slow_model(reply: str = "Harga beras medium turun " + "dan terus turun " * 12 + "[1].", sleep: float = 0.05):
    return SlowModel(responses=[reply], sleep=sleep, streaming=True)


def test_a_model_call_stops_at_its_next_token_once_its_answer_is_abandoned():
    from app.queueing import Abandoned, stop_model_calls_on

    stop, outcome = threading.Event(), {}

    def call():
        stop_model_calls_on(stop)
        started = time.monotonic()
        try:
            slow_model().invoke("Berapa harga beras?")  # a judge's whole-reply call: 10 s of tokens
        except Abandoned:
            outcome["after"] = time.monotonic() - started

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.3)
    stop.set()
    worker.join(5)
    assert 0.25 < outcome["after"] < 0.6, outcome


def test_model_calls_in_other_threads_are_not_stopped():
    from app.queueing import stop_model_calls_on

    stop = threading.Event()
    stop.set()
    stop_model_calls_on_elsewhere = threading.Thread(target=stop_model_calls_on, args=(stop,))
    stop_model_calls_on_elsewhere.start()
    stop_model_calls_on_elsewhere.join()
    assert slow_model("ya", sleep=0.0).invoke("Berapa?").content == "ya"


@pytest.fixture
def rice_kb(rice_assistant):
    """An Assistant over the rice article whose chat model takes ~10 s to write one long sentence."""
    return rice_assistant(slow_model())


def wait_until_free(slots, within: float) -> float:
    """Seconds until no answer runs or waits (or ``within`` passed)."""
    started = time.monotonic()
    while slots.load() != (0, 0) and time.monotonic() - started < within:
        time.sleep(0.01)
    return time.monotonic() - started


def test_a_client_that_hangs_up_mid_sentence_frees_the_slot_at_the_next_token(rice_kb):
    """The verified answer holds back a sentence until it is whole: only the model call itself can stop."""
    from app.http_chat import ClientGone, _answer_once

    async def abandoned():
        with pytest.raises(ClientGone):
            await _answer_once(rice_kb, FakeRequest(0.5), "Berapa harga beras medium?", [])

    asyncio.run(abandoned())
    assert wait_until_free(rice_kb.answer_slots, 5) < 0.5, "the slot waited for the 10 s sentence"


def consume(updates, seen: list):
    async def run():
        async for update in updates:
            seen.append(update)
    return asyncio.ensure_future(run())


def test_a_web_visitor_who_closes_the_tab_while_waiting_leaves_the_line_at_once(rice_kb):
    from app.web_queue import queued_answer

    holder, seen = rice_kb.answer_slots.enter(), []

    async def visit_and_leave():
        task = consume(queued_answer(rice_kb, "Berapa harga beras?", []), seen)
        await asyncio.sleep(0.2)
        assert rice_kb.answer_slots.load() == (1, 1) and "1 menunggu" in seen[0][0]
        task.cancel()  # what Gradio does when the page's connection closes
        await asyncio.gather(task, return_exceptions=True)
        assert rice_kb.answer_slots.load() == (1, 0)

    asyncio.run(visit_and_leave())
    rice_kb.answer_slots.leave(holder)


def test_a_web_answer_whose_visitor_leaves_stops_and_frees_its_slot(rice_kb):
    from app.web_queue import queued_answer

    seen = []

    async def visit_and_leave():
        task = consume(queued_answer(rice_kb, "Berapa harga beras?", []), seen)
        await asyncio.sleep(0.8)
        assert rice_kb.answer_slots.load() == (1, 0) and seen
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(visit_and_leave())
    assert wait_until_free(rice_kb.answer_slots, 5) < 0.5, "the slot waited for the 10 s answer"


def test_a_web_visitor_who_stays_gets_the_answer_in_one_slot(rice_kb):
    from app.web_queue import queued_answer

    rice_kb.chat_service._llm = slow_model("Harga beras medium turun menjadi Rp 11.200 per kilogram [1].", 0.0)
    seen = []

    async def visit():
        await consume(queued_answer(rice_kb, "Berapa harga beras?", []), seen)

    asyncio.run(visit())
    assert "11.200" in seen[-1][0] and "Cipinang" in seen[-1][1] and rice_kb.answer_slots.load() == (0, 0)
