"""Fifty clients that give up do not freeze the server (a real uvicorn server, a slow stand-in model).

Each question takes the stand-in model 3 s. Fifty clients (non-streaming and streaming) ask and hang
up after half a second. Their places must go at once: health, the model list, the document list,
the web page and a new user's streamed answer are all served promptly, and the model never works
on more than the few questions whose clients were still there when a slot came free.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.chat import Answer, Retrieved, Token
from tests.conftest import free_port

pytestmark = pytest.mark.integration
CLIENTS = 50
ANSWER_S = 3.0


class SlowModelChat:
    """Stands in for the chat service: 30 tokens, 0.1 s apart; records how many answers run at once."""

    checker = None  # the verified stream never asks it: no sentence of "kata kata …" ends

    def __init__(self):
        self.started = self.running = self.most_at_once = 0
        self._lock = threading.Lock()

    def stream(self, question, history=()):
        with self._lock:
            self.started += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            yield Retrieved([], question)
            for _ in range(30):
                time.sleep(ANSWER_S / 30)
                yield Token("kata ")
            yield Answer(question, "kata " * 30, [], refused=False, language="id")
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def server(tmp_path):
    from app.api import Assistant
    from app.server import serve
    from core.settings import Settings
    from tests.unit.conftest import FakeEmbeddings

    chat = SlowModelChat()
    kb = Assistant(Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", max_concurrent_answers=1),
                   embeddings=FakeEmbeddings(), chat_service=chat)
    running = serve(kb, port=free_port(), block=False)
    yield running.url, chat, kb
    running.close()


def ask_and_hang_up(url: str, index: int) -> None:
    body = {"stream": index % 2 == 1, "messages": [{"role": "user", "content": f"Pertanyaan nomor {index}?"}]}
    try:
        with httpx.Client(timeout=0.5) as client:
            with client.stream("POST", url + "v1/chat/completions", json=body) as response:
                for _ in response.iter_bytes():
                    pass
    except httpx.TimeoutException:
        pass  # the client gives up and closes its connection


def timed_get(url: str, seconds: float = 2.0) -> httpx.Response:
    started = time.monotonic()
    response = httpx.get(url, timeout=seconds)
    assert time.monotonic() - started < seconds
    return response


def test_clients_that_hang_up_leave_the_queue_and_nothing_else_waits(server):
    url, chat, kb = server
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda i: ask_and_hang_up(url, i), range(CLIENTS)))
    assert timed_get(url + "health").json()["status"] == "ok"
    assert timed_get(url + "v1/models").status_code == 200
    assert timed_get(url + "v1/documents").status_code == 200
    assert timed_get(url, 10).status_code == 200  # the web page
    deadline = time.monotonic() + 2 * ANSWER_S
    while kb.answer_slots.load() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kb.answer_slots.load() == (0, 0), "abandoned questions kept their places or slots"
    started = chat.started
    time.sleep(1)
    assert chat.started == started < 10 and chat.most_at_once == 1, (chat.started, chat.most_at_once)

    started = time.monotonic()  # a new user is served next, not after fifty ghosts
    body = {"stream": True, "messages": [{"role": "user", "content": "Berapa harga beras?"}]}
    with httpx.stream("POST", url + "v1/chat/completions", json=body, timeout=30) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]" and any('"finish_reason": "stop"' in line for line in lines)
    assert time.monotonic() - started < ANSWER_S + 2


def test_health_and_other_streams_answer_while_the_line_is_long(server):
    """Queued questions hold no thread: with 40 clients waiting, the rest of the server still answers."""
    url, chat, kb = server

    def wait_in_line(index: int) -> None:
        body = {"messages": [{"role": "user", "content": f"Pertanyaan {index}?"}]}
        try:
            httpx.post(url + "v1/chat/completions", json=body, timeout=4)
        except httpx.TimeoutException:
            pass

    threads = [threading.Thread(target=wait_in_line, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 3
    while kb.answer_slots.load()[1] < 39 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kb.answer_slots.load() == (1, 39)
    health = timed_get(url + "health").json()
    assert health["answering"] == 1 and health["waiting"] == 39
    assert timed_get(url + "v1/documents").status_code == 200
    with httpx.stream("POST", url + "v1/chat/completions", timeout=5,
                      json={"stream": True, "messages": [{"role": "user", "content": "Antre?"}]}) as response:
        first = next(line for line in response.iter_lines() if line.startswith(": waiting"))
    assert "1 answering" in first
    for thread in threads:
        thread.join()


def visit_page_and_close_tab(url: str, session: str, stay_s: float = 1.0) -> list[str]:
    """Ask through the web page's own queue protocol, read its updates for ``stay_s``, then hang up."""
    config = httpx.get(url + "config", timeout=10).json()
    ask = next(d for d in config["dependencies"] if d.get("api_name") == "ask")
    data = ["Berapa harga beras?", []] + [None] * (len(ask["inputs"]) - 2)
    body = {"data": data, "event_data": None, "fn_index": ask["id"], "trigger_id": None, "session_hash": session}
    assert httpx.post(url + "gradio_api/queue/join", json=body, timeout=10).status_code == 200
    seen, deadline = [], time.monotonic() + stay_s
    try:
        with httpx.stream("GET", url + f"gradio_api/queue/data?session_hash={session}", timeout=stay_s) as response:
            for line in response.iter_lines():
                seen.append(line)
                if time.monotonic() > deadline:
                    break
    except httpx.TimeoutException:
        pass
    return seen


def wait_for_load(kb, load: tuple[int, int], within: float) -> float:
    started = time.monotonic()
    while kb.answer_slots.load() != load and time.monotonic() - started < within:
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_web_visitor_who_closes_the_tab_leaves_the_line_then_frees_the_slot(server):
    """Gradio notices a closed page between two updates: waiting or answering, one comes every second."""
    url, chat, kb = server
    holder = kb.answer_slots.enter()
    seen = visit_page_and_close_tab(url, "waiting-tab")
    assert any("1 menunggu" in line for line in seen), seen  # the page said where the line stands
    assert wait_for_load(kb, (1, 0), 3) < 2.5, "the closed tab kept its place in line"
    kb.answer_slots.leave(holder)
    visit_page_and_close_tab(url, "answering-tab")  # granted at once; the answer takes 3 s
    assert wait_for_load(kb, (0, 0), ANSWER_S) < 1.5, "the closed tab's answer held its slot"
    assert chat.started == 1
