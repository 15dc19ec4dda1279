"""What an OpenAI client relies on, over fake model parts: streamed text = final answer with resolvable [n],
usage, the models endpoints, the error shape on every error, and history through gradio_client's /ask."""
from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

RICE = ("Ekonomi\nHarga Beras Turun\n\nHarga beras medium di Pasar Cipinang turun menjadi Rp 11.200 per "
        "kilogram pada pekan ini. Panen raya di Jawa Tengah membuat pasokan melimpah.\n")
SUGAR = ("Ekonomi\nHarga Gula Stabil\n\nHarga gula pasir di Pasar Cipinang bertahan Rp 11.200 per kilogram "
         "pada pekan ini. Pedagang menyebut pasokan dari pabrik lancar.\n")
QUESTION = "Berapa harga beras medium per kilogram?"
ANSWER = "Harga beras medium turun menjadi Rp 11.200 per kilogram [1]."
ERROR_KEYS = {"message", "type", "param", "code"}


def make_assistant(settings, embeddings, replies):
    from app.api import Assistant

    return Assistant(settings, embeddings=embeddings, chat_model=FakeListChatModel(responses=list(replies)))


@pytest.fixture
def assistant_for(tmp_path, unit_settings, fake_embeddings):
    def build(replies=(ANSWER,), articles=(RICE,)):
        settings = unit_settings.with_changes(min_relevance=0.0, min_support=0.0, relevance_margin=2.0)
        kb = make_assistant(settings, fake_embeddings, replies)
        for i, text in enumerate(articles):
            (tmp_path / f"article{i}.txt").write_text(text, encoding="utf-8")
        assert len(kb.ingest([tmp_path / f"article{i}.txt" for i in range(len(articles))]).added) == len(articles)
        return kb
    return build


@pytest.fixture
def client_for(assistant_for):
    def build(**kwargs):
        from app.http_api import build_api

        return TestClient(build_api(assistant_for(**kwargs)), base_url="http://127.0.0.1")
    return build


def ask(client, stream=False, **extra) -> dict | list:
    """The completion, or the streamed chunks (the [DONE] line checked and left out)."""
    body = {"model": "kabar", "messages": [{"role": "user", "content": QUESTION}], "stream": stream, **extra}
    if not stream:
        return client.post("/v1/chat/completions", json=body).json()
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[6:]) for line in lines[:-1]]


def streamed_text(chunks: list) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def cited(text: str) -> set[int]:
    return {int(n) for group in re.findall(r"\[([\d,\s]+)\]", text) for n in group.split(",")}


def passage_number(kb, title: str) -> int:
    """The number the passage titled ``title`` gets: the answer's Retrieved event, before any writing."""
    from app.events import Retrieved

    passages = next(e for e in kb.chat_service.stream(QUESTION) if isinstance(e, Retrieved)).passages
    return next(i for i, p in enumerate(passages, start=1) if p.title == title)


@pytest.mark.parametrize("cites", ["Harga Beras Turun", "Harga Gula Stabil"])
def test_streamed_text_is_the_final_answer_and_every_citation_is_a_source(assistant_for, cites):
    """The issue's case: the model puts its [n] after the full stop, so a check of the sentence as soon as the
    stop arrives re-cited it to the closest passage while the final answer kept the model's number."""
    from app.http_api import build_api

    kb = assistant_for(articles=(RICE, SUGAR))
    number = passage_number(kb, cites)
    reply = f"Harga beras medium turun menjadi Rp 11.200 per kilogram. [{number}] Panen raya membuat pasokan melimpah."
    kb.chat_service._llm = FakeListChatModel(responses=[reply, reply])
    client = TestClient(build_api(kb), base_url="http://127.0.0.1")
    chunks, whole = ask(client, stream=True), ask(client)
    text, final = streamed_text(chunks), chunks[-1]
    assert text and text == whole["choices"][0]["message"]["content"], (text, whole)
    assert cited(text) and cited(text) <= {s["number"] for s in final["sources"]}, (text, final["sources"])
    assert final["choices"][0]["finish_reason"] == "stop"


def test_a_refusal_marker_after_released_sentences_does_not_turn_the_answer_into_a_refusal(client_for):
    client = client_for(replies=[f"{ANSWER} NOT_IN_ARTICLES"] * 2)
    chunks, whole = ask(client, stream=True), ask(client)
    assert streamed_text(chunks) == whole["choices"][0]["message"]["content"] == ANSWER
    assert chunks[-1]["refused"] is False and [s["number"] for s in chunks[-1]["sources"]] == [1]


def test_a_refusal_is_sent_whole_in_the_final_chunk(client_for):
    chunks = ask(client_for(replies=["NOT_IN_ARTICLES"]), stream=True)
    assert chunks[-1]["refused"] is True and streamed_text(chunks) == chunks[-1]["choices"][0]["delta"]["content"]


def test_usage_is_filled_in_a_completion(client_for):
    usage = ask(client_for())["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_include_usage_adds_a_last_chunk_without_choices(client_for):
    client = client_for(replies=[ANSWER] * 2)
    chunks = ask(client, stream=True, stream_options={"include_usage": True})
    *answer_chunks, last = chunks
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0
    assert last["usage"]["total_tokens"] == last["usage"]["prompt_tokens"] + last["usage"]["completion_tokens"]
    assert all(c["usage"] is None for c in answer_chunks) and answer_chunks[-1]["sources"]
    assert "usage" not in ask(client, stream=True)[-1], "no usage chunk unless asked for"


def test_usage_counts_with_the_chat_models_tokenizer_or_says_it_approximates():
    from app.http_usage import TokenCounter, approximate_tokens, tokenize_url

    asked = []

    def llama(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json={"tokens": list(range(len(json.loads(request.content)["content"].split())))})

    counter = TokenCounter(lambda: "http://127.0.0.1:9/v1", transport=httpx.MockTransport(llama))
    usage = asyncio.run(counter.usage("two words", "three more words"))
    assert usage == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert asked[0] == tokenize_url("http://127.0.0.1:9/v1") == "http://127.0.0.1:9/tokenize"
    ollama = TokenCounter(lambda: "http://127.0.0.1:9/v1", transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    assert asyncio.run(ollama.count("x" * 10)) == approximate_tokens("x" * 10) == 3
    assert asyncio.run(TokenCounter(lambda: None).count("abcd")) == 1, "no model loaded yet: approximate"


def test_models_have_created_and_owner_and_can_be_fetched_one_by_one(client_for):
    client = client_for()
    [listed] = client.get("/v1/models").json()["data"]
    assert isinstance(listed["created"], int) and listed["owned_by"] == "kabar" and listed["object"] == "model"
    assert client.get("/v1/models/kabar").json() == listed
    missing = client.get("/v1/models/gpt-4o")
    assert missing.status_code == 404 and set(missing.json()["error"]) == ERROR_KEYS
    assert missing.json()["error"]["code"] == "model_not_found" and missing.json()["error"]["param"] == "model"


def test_every_error_has_openais_shape_unknown_routes_and_methods_included(assistant_for, fake_embeddings):
    from app.server import create_app

    with TestClient(create_app(assistant_for()), base_url="http://127.0.0.1") as client:  # with the page at /
        unknown = client.get("/v1/nothing/here")
        wrong_method = client.delete("/v1/models")
        bad = client.post("/v1/chat/completions", json={"messages": []})
        empty = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": " "}]})
        missing_doc = client.delete("/v1/documents/nope")
    assert unknown.status_code == 404 and wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"] and bad.json()["error"]["param"] == "messages"
    for response in (unknown, wrong_method, bad, empty, missing_doc):
        assert set(response.json()) == {"error"} and set(response.json()["error"]) == ERROR_KEYS, response.text


def test_ask_takes_a_history_from_gradio_client(assistant_for):
    from gradio_client import Client

    from app.server import serve
    from tests.conftest import free_port

    kb, seen = assistant_for(replies=[ANSWER] * 5), []
    stream = kb.stream
    kb.stream = lambda question, history=(), **kw: (seen.append(list(history)), stream(question, (), **kw))[1]
    server = serve(kb, port=free_port(), block=False)
    try:
        client = Client(server.url, verbose=False)
        earlier = [["Apa yang turun?", "Harga beras [1]."]]
        answer, _sources = client.predict(QUESTION, history=earlier, api_name="/ask")
        client.predict(QUESTION, history=[{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
                       api_name="/ask")
        client.predict(QUESTION, history=[], api_name="/ask")  # a fresh question from the same client
        fresh = Client(server.url, verbose=False)
        fresh.predict(QUESTION, api_name="/ask")  # history stays optional: the session remembers its turns
        fresh.predict("Dan di Jawa Tengah?", api_name="/ask")
    finally:
        server.close()
    assert "11.200" in answer
    assert seen[:4] == [[("Apa yang turun?", "Harga beras [1].")], [("Q", "A")], [], []]
    assert seen[4] == [(QUESTION, ANSWER)]
