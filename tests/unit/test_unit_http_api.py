"""The HTTP API over fake model parts: OpenAI shapes, sources, errors, keys and documents."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import SecretStr

from tests.unit.conftest import RICE_ARTICLE

ARTICLE = RICE_ARTICLE
KEY = "s3cret-s3cret-s3cret"
REPLY = "Harga beras medium turun menjadi Rp 11.200 per kilogram [1]. Harganya naik 50 persen pada 1998 [1]."


def make_assistant(settings, embeddings, replies):
    from app.api import Assistant

    return Assistant(settings, embeddings=embeddings, chat_model=FakeListChatModel(responses=list(replies)))


@pytest.fixture
def client_for(rice_assistant):
    def build(replies=(REPLY,), **overrides):
        from app.http_api import build_api

        kb = rice_assistant(FakeListChatModel(responses=list(replies)), **overrides)
        return TestClient(build_api(kb), base_url="http://127.0.0.1"), kb
    return build


def test_completion_is_openai_shaped_with_verified_text_and_sources(client_for):
    client, _ = client_for()
    body = client.post("/v1/chat/completions",
                       json={"model": "kabar", "messages": [{"role": "user", "content": "Berapa harga beras?"}]}).json()
    text = body["choices"][0]["message"]["content"]
    assert body["object"] == "chat.completion" and "11.200" in text
    assert "1998" not in text, "the sentence with numbers the passage lacks must be dropped"
    assert body["refused"] is False and [s["number"] for s in body["sources"]] == [1]
    assert "Cipinang" in body["sources"][0]["text"]


def sse_events(response) -> list:
    lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[6:]) for line in lines[:-1]]


def test_stream_sends_retrieved_first_then_only_verified_sentences(client_for):
    client, _ = client_for()
    with client.stream("POST", "/v1/chat/completions", json={
            "stream": True, "messages": [{"role": "user", "content": "Berapa harga beras?"}]}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    assert "retrieved" in events[1] and events[1]["retrieved"][0]["number"] == 1
    streamed = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert "11.200" in streamed and "1998" not in streamed
    assert events[-1]["choices"][0]["finish_reason"] == "stop" and events[-1]["sources"][0]["number"] == 1


def test_refusal_is_streamed_as_text(client_for):
    client, _ = client_for(replies=["NOT_IN_ARTICLES"])
    with client.stream("POST", "/v1/chat/completions", json={
            "stream": True, "messages": [{"role": "user", "content": "Who won the World Cup?"}]}) as response:
        events = sse_events(response)
    streamed = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert events[-1]["refused"] is True and streamed and "NOT_IN_ARTICLES" not in streamed


@pytest.mark.parametrize("question", ["", "   ", "x" * 100_000])
def test_empty_and_huge_questions_get_400_with_a_message(client_for, question):
    client, _ = client_for()
    for stream in (False, True):
        response = client.post("/v1/chat/completions",
                               json={"stream": stream, "messages": [{"role": "user", "content": question}]})
        assert response.status_code == 400
        assert response.json()["error"]["message"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"messages": []}', b'{"messages": [{"role": "wizard"}]}',
                                  b'{"messages": [{"role": "assistant", "content": "hi"}]}',
                                  b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                  b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}', b"\xff\xfe"])
def test_malformed_requests_get_400_and_the_server_keeps_serving(client_for, body):
    client, _ = client_for()
    response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    assert "error parsing" not in response.json()["error"]["message"]
    assert client.get("/v1/models").status_code == 200


def test_api_key_is_required_when_set(client_for):
    client, _ = client_for(api_key=SecretStr(KEY))
    assert client.get("/v1/documents").status_code == 401
    assert client.get("/v1/documents", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/documents", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert client.get("/v1/documents", headers={"X-API-Key": KEY}).status_code == 200


def test_documents_upload_list_delete(client_for):
    client, kb = client_for()
    files = [("files", ("../../etc/passwd.txt", ARTICLE.replace("Beras", "Gula").encode(), "text/plain")),
             ("files", ("empty.txt", b"", "text/plain"))]
    report = client.post("/v1/documents", files=files).json()
    assert len(report["added"]) == 1 and report["failed"][0]["name"].endswith("empty.txt")
    [stored] = (kb.settings.data_dir / "uploads").glob("*/passwd.txt")  # the path must be flattened
    assert not list((kb.settings.data_dir / "uploads").glob("*/empty.txt")), "a refused file is not kept"
    listed = client.get("/v1/documents").json()["data"]
    doc_id = next(d["id"] for d in listed if d["title"] == "Harga Gula Turun")
    assert client.delete(f"/v1/documents/{doc_id}").json()["deleted"] is True
    assert not stored.exists() and not stored.parent.exists(), "the upload goes with its document"
    assert client.delete(f"/v1/documents/{doc_id}").status_code == 404
    assert all(d["title"] != "Harga Gula Turun" for d in client.get("/v1/documents").json()["data"])


def test_upload_over_the_size_limit_is_refused_and_nothing_is_kept(client_for):
    client, kb = client_for(max_file_mb=0.01)
    response = client.post("/v1/documents", files=[("files", ("big.txt", b"a " * 20_000, "text/plain"))])
    assert response.status_code == 422 and "limit" in response.json()["failed"][0]["reason"]
    assert not list((kb.settings.data_dir / "uploads").rglob("big.txt"))


def test_off_loopback_without_a_key_refuses_to_start(unit_settings):
    from app.server import check_exposure
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="KABAR_API_KEY"):
        check_exposure(unit_settings.with_changes(web_host="0.0.0.0"))
    check_exposure(unit_settings.with_changes(web_host="0.0.0.0", api_key=SecretStr(KEY)))
    check_exposure(unit_settings)


@pytest.mark.parametrize("key, message", [("", "KABAR_API_KEY is empty"), ("   ", "KABAR_API_KEY is empty"),
                                          ("k3y", "only 3 characters")])
@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_an_empty_or_short_key_refuses_to_start(unit_settings, monkeypatch, key, message, host):
    from app.server import check_exposure
    from core.errors import ConfigError
    from core.settings import Settings

    monkeypatch.setenv("KABAR_API_KEY", key)  # as `KABAR_WEB_HOST=0.0.0.0 KABAR_API_KEY= python -m app` sets it
    monkeypatch.setenv("KABAR_WEB_HOST", host)
    with pytest.raises(ConfigError, match=message):
        check_exposure(Settings())


def test_web_page_needs_a_login_when_a_key_is_set(unit_settings, fake_embeddings):
    from app.server import create_app

    settings = unit_settings.with_changes(api_key=SecretStr(KEY))
    app = create_app(make_assistant(settings, fake_embeddings, ["x"]))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/config").status_code == 401
        assert client.post("/login", data={"username": "kabar", "password": "nope"}).status_code >= 400
        assert client.post("/login", data={"username": "kabar", "password": KEY}).json()["success"]
        assert client.get("/config").status_code == 200
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
