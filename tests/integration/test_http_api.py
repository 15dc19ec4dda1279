"""The HTTP API with the real model, through the official openai client, LangChain's ChatOpenAI and plain HTTP."""
from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def openai_client(web_url):
    from openai import OpenAI

    return OpenAI(base_url=web_url + "v1", api_key="not-needed", timeout=300)


def cited(text: str) -> set[int]:
    return {int(n) for group in re.findall(r"\[([\d,\s]+)\]", text) for n in group.split(",")}


def test_openai_client_gets_a_cited_answer_with_sources_and_usage(openai_client, assistant):
    from app.http_usage import tokenize_url

    response = openai_client.chat.completions.create(
        model="kabar", messages=[{"role": "user", "content": "Why is the EU partnering with Japan?"}])
    text = response.choices[0].message.content
    extras = response.model_extra
    assert not extras["refused"] and extras["language"] == "en"
    assert extras["sources"] and all(f"[{s['number']}]" in text for s in extras["sources"]), text
    assert cited(text) <= {s["number"] for s in extras["sources"]}, text
    assert any("Jepang" in s["text"] for s in extras["sources"])
    tokens = httpx.post(tokenize_url(assistant._chat_backend.base_url), json={"content": text, "add_special": False})
    assert response.usage.completion_tokens == len(tokens.json()["tokens"]), "counted by the model's tokenizer"
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_openai_client_streams_verified_sentences_in_indonesian(openai_client):
    stream = openai_client.chat.completions.create(
        model="kabar", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Apa peran Jepang dalam rantai pasokan semikonduktor?"}])
    *chunks, usage = list(stream)
    retrieved = next(c.model_extra["retrieved"] for c in chunks if c.model_extra.get("retrieved"))
    final = chunks[-1]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert retrieved and final.choices[0].finish_reason == "stop"
    assert final.model_extra["language"] == "id" and text.strip()
    sources = {s["number"] for s in final.model_extra["sources"]}
    assert sources <= {p["number"] for p in retrieved}
    assert final.model_extra["refused"] or cited(text) <= sources, (text, sources)
    assert usage.choices == [] and usage.usage.completion_tokens > 0 and usage.usage.prompt_tokens > 0


def test_langchain_chat_openai_gets_answers_with_usage_metadata(web_url):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=web_url + "v1", api_key="not-needed", model="kabar", timeout=300, max_retries=0,
                     stream_usage=True)
    message = llm.invoke("Apa itu Dewan Kemitraan Digital UE-Jepang?")
    assert message.content and message.usage_metadata is not None and message.usage_metadata["total_tokens"] > 0
    chunks = list(llm.stream("What did Thierry Breton announce about AI?"))
    whole = sum(chunks[1:], chunks[0])
    assert whole.content and whole.usage_metadata is not None and whole.usage_metadata["output_tokens"] > 0


def test_models_and_errors_in_openais_shapes(openai_client, web_url):
    import openai

    model = openai_client.models.retrieve("kabar")
    assert model.id == "kabar" and isinstance(model.created, int) and model.owned_by == "kabar"
    assert [m.id for m in openai_client.models.list()] == ["kabar"]
    with pytest.raises(openai.NotFoundError) as missing:
        openai_client.models.retrieve("gpt-4o")
    assert missing.value.code == "model_not_found"
    with httpx.Client(base_url=web_url + "v1", timeout=30) as http:
        for response in (http.get("/nothing"), http.delete("/models")):
            assert response.status_code in (404, 405)
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_unanswerable_question_is_refused_through_the_api(openai_client):
    response = openai_client.chat.completions.create(
        model="kabar", messages=[{"role": "user", "content": "Who won the 2022 FIFA World Cup?"}])
    assert response.model_extra["refused"] and response.model_extra["sources"] == []
    assert response.choices[0].message.content


def test_documents_endpoints_and_raw_sse(web_url, tmp_path):
    article = ("Ekonomi\nHarga Beras di Pasar Cipinang Turun\n\nHarga beras medium di Pasar Induk Beras "
               "Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini karena panen raya.\n")
    with httpx.Client(base_url=web_url + "v1", timeout=300) as http:
        report = http.post("/documents", files={"files": ("beras-http.txt", article.encode(), "text/plain")}).json()
        assert report["added"] and not report["failed"], report
        doc_id = next(d["id"] for d in http.get("/documents").json()["data"]
                      if d["title"] == "Harga Beras di Pasar Cipinang Turun")
        body = {"stream": True, "messages": [{"role": "user", "content": "Berapa harga beras medium di Cipinang?"}]}
        with http.stream("POST", "/chat/completions", json=body) as response:
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and any("11.200" in line for line in lines)
        assert http.delete(f"/documents/{doc_id}").json() == {"id": doc_id, "deleted": True}
        assert http.post("/chat/completions", content=b"{oops", headers={"content-type": "application/json"}
                         ).status_code == 400
