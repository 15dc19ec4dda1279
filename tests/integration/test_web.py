"""The Gradio chat serves on loopback and streams a cited answer with its sources panel."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


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


RICE_ARTICLE = """Ekonomi
Harga Beras di Pasar Cipinang Turun Lagi

Harga beras medium di Pasar Induk Beras Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini.
Penurunan harga terjadi karena panen raya di Jawa Tengah dan Jawa Timur yang membuat pasokan melimpah.
"""


def test_upload_list_answer_and_delete_through_the_page_api(web_url, assistant, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(web_url, verbose=False)
    article = tmp_path / "beras-api.txt"
    article.write_text(RICE_ARTICLE, encoding="utf-8")
    report = client.predict([handle_file(str(article))], api_name="/upload")
    assert "beras-api.txt: added" in report, report
    titles = [d.title for d in assistant.documents()]
    assert "Harga Beras di Pasar Cipinang Turun Lagi" in titles
    answer, sources = client.predict("Berapa harga beras medium di Pasar Cipinang?", api_name="/ask")
    assert "Cipinang" in sources and "11.200" in answer, answer
    doc_id = next(d.doc_id for d in assistant.documents() if d.title == "Harga Beras di Pasar Cipinang Turun Lagi")
    assert client.predict(doc_id, api_name="/delete") == "Deleted “Harga Beras di Pasar Cipinang Turun Lagi”."
    assert all(not d.title == "Harga Beras di Pasar Cipinang Turun Lagi" for d in assistant.documents())
