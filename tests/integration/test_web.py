"""The Gradio chat serves on loopback and streams a cited answer with its sources panel."""
from __future__ import annotations

import socket

import pytest

from app.web import build_ui

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def web_url(assistant):
    demo = build_ui(assistant).queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_web_chat_answers_with_sources(web_url):
    from gradio_client import Client

    client = Client(web_url, verbose=False)
    job = client.submit("Why is the EU partnering with Japan?", api_name="/ask")
    updates = list(job)
    answer, sources = job.result()
    assert len(updates) > 2, "the answer should stream in several updates"
    assert "[1]" in answer or "[2]" in answer or "[3]" in answer or "[4]" in answer, answer
    assert "kabar-card" in sources and "Uni Eropa dan Jepang" in sources


def test_errors_are_messages_not_tracebacks(web_url):
    from gradio_client import Client

    answer, _ = Client(web_url, verbose=False).predict("   ", api_name="/ask")
    assert answer.startswith("⚠️") and "Traceback" not in answer
