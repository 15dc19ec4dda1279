"""Abandoned answers stop inside the model call: a hung-up HTTP client's or a closed web tab's slot
returns at the model's next token, and a closed tab waiting in line leaves it (issue 18)."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from tests.unit.test_unit_queueing import FakeRequest


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
    assert 0.25 < outcome["after"] < 3, outcome  # the whole reply takes 10 s


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
    assert wait_until_free(rice_kb.answer_slots, 8) < 3, "the slot waited for the 10 s sentence"


def consume(updates, seen: list):
    async def run():
        async for update in updates:
            seen.append(update)
    return asyncio.ensure_future(run())


def test_a_web_visitor_who_closes_the_tab_while_waiting_leaves_the_line_at_once(rice_kb):
    from app.web import respond
    from app.web_queue import queued_answer

    holder, seen = rice_kb.answer_slots.enter(), []

    async def visit_and_leave():
        task = consume(queued_answer(rice_kb, "Berapa harga beras?", [], respond), seen)
        await asyncio.sleep(0.2)
        assert rice_kb.answer_slots.load() == (1, 1) and "1 menunggu" in seen[0][0]
        task.cancel()  # what Gradio does when the page's connection closes
        await asyncio.gather(task, return_exceptions=True)
        assert rice_kb.answer_slots.load() == (1, 0)

    asyncio.run(visit_and_leave())
    rice_kb.answer_slots.leave(holder)


def test_a_web_answer_whose_visitor_leaves_stops_and_frees_its_slot(rice_kb):
    from app.web import respond
    from app.web_queue import queued_answer

    seen = []

    async def visit_and_leave():
        task = consume(queued_answer(rice_kb, "Berapa harga beras?", [], respond), seen)
        await asyncio.sleep(0.8)
        assert rice_kb.answer_slots.load() == (1, 0) and seen
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(visit_and_leave())
    assert wait_until_free(rice_kb.answer_slots, 8) < 3, "the slot waited for the 10 s answer"


def test_a_web_visitor_who_stays_gets_the_answer_in_one_slot(rice_kb):
    from app.web import respond
    from app.web_queue import queued_answer

    rice_kb.chat_service._llm = slow_model("Harga beras medium turun menjadi Rp 11.200 per kilogram [1].", 0.0)
    seen = []

    async def visit():
        await consume(queued_answer(rice_kb, "Berapa harga beras?", [], respond), seen)

    asyncio.run(visit())
    assert "11.200" in seen[-1][0] and "Cipinang" in seen[-1][1] and rice_kb.answer_slots.load() == (0, 0)
