"""The HTTP API with the real model, through the official openai client and plain HTTP."""
from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def openai_client(web_url):
    from openai import OpenAI

    return OpenAI(base_url=web_url + "v1", api_key="not-needed", timeout=300)


def test_openai_client_gets_a_cited_answer_with_sources(openai_client):
    response = openai_client.chat.completions.create(
        model="kabar", messages=[{"role": "user", "content": "Why is the EU partnering with Japan?"}])
    text = response.choices[0].message.content
    extras = response.model_extra
    assert not extras["refused"] and extras["language"] == "en"
    assert extras["sources"] and all(f"[{s['number']}]" in text for s in extras["sources"]), text
    assert any("Jepang" in s["text"] for s in extras["sources"])


def test_openai_client_streams_verified_sentences_in_indonesian(openai_client):
    stream = openai_client.chat.completions.create(
        model="kabar", stream=True,
        messages=[{"role": "user", "content": "Apa peran Jepang dalam rantai pasokan semikonduktor?"}])
    chunks = list(stream)
    retrieved = next(c.model_extra["retrieved"] for c in chunks if c.model_extra.get("retrieved"))
    final = chunks[-1]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert retrieved and final.choices[0].finish_reason == "stop"
    assert final.model_extra["language"] == "id" and text.strip()
    cited = {s["number"] for s in final.model_extra["sources"]}
    assert cited <= {p["number"] for p in retrieved}


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
