"""Stored uploads: unique per content, gone with their document or a failed ingest; deletion by id only;
"ready" only once the port listens."""
from __future__ import annotations

import json
import socket

import pytest

from tests.unit.test_unit_http_api import ARTICLE, client_for  # noqa: F401  (a fixture)

GULA = ARTICLE.replace("Beras", "Gula")


@pytest.fixture
def api(client_for):
    client, kb = client_for()
    return client, kb, kb.settings.data_dir / "uploads"


def upload(client, name: str, text: str):
    return client.post("/v1/documents", files=[("files", (name, text.encode(), "text/plain"))])


def titles(client) -> list[str]:
    return sorted(d["title"] for d in client.get("/v1/documents").json()["data"])


def test_two_files_with_one_name_are_two_documents_and_two_files(api):
    client, _, uploads = api
    assert upload(client, "berita.txt", GULA).json()["added"] == ["Harga Gula Turun"]
    assert upload(client, "berita.txt", ARTICLE.replace("Beras", "Kopi")).json()["added"] == ["Harga Kopi Turun"]
    assert len(list(uploads.glob("*/berita.txt"))) == 2
    assert {"Harga Gula Turun", "Harga Kopi Turun"} <= set(titles(client))


def test_the_same_file_twice_is_one_copy_and_unchanged(api):
    client, _, uploads = api
    upload(client, "gula.txt", GULA)
    assert upload(client, "gula.txt", GULA).json()["unchanged"] == ["Harga Gula Turun"]
    assert len(list(uploads.glob("*/gula.txt"))) == 1


@pytest.mark.parametrize("name, data", [("kosong.txt", ""), ("rusak.jsonl", "{oops\n"), ("gambar.png", "PNG")])
def test_a_file_that_fails_to_ingest_is_not_kept(api, name, data):
    client, _, uploads = api
    assert upload(client, name, data).status_code == 422
    assert [p for p in uploads.rglob("*") if not p.name.startswith(".")] == []


def test_a_jsonl_upload_stays_until_its_last_document_goes(api):
    client, _, uploads = api
    lines = "\n".join(json.dumps({"id": i, "title": f"Berita {i}", "text": f"Harga cabai naik {i} persen."})
                      for i in ("a", "b"))
    assert len(upload(client, "dua.jsonl", lines).json()["added"]) == 2
    [stored] = uploads.glob("*/dua.jsonl")
    ids = [d["id"] for d in client.get("/v1/documents").json()["data"] if d["title"].startswith("Berita")]
    assert client.delete(f"/v1/documents/{ids[0]}").status_code == 200 and stored.exists()
    assert client.delete(f"/v1/documents/{ids[1]}").status_code == 200 and not stored.exists()


def test_delete_by_a_shared_title_is_a_409_listing_the_ids_and_deletes_nothing(api):
    client, _, _ = api
    upload(client, "satu.txt", GULA)
    upload(client, "dua.txt", GULA + "\nPedagang senang.\n")
    before = client.get("/v1/documents").json()["data"]
    response = client.delete("/v1/documents/Harga Gula Turun")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "AmbiguousDocument" and len(error["documents"]) == 2
    assert all(d["id"] in error["message"] for d in error["documents"])
    assert client.get("/v1/documents").json()["data"] == before


def test_delete_by_a_unique_title_is_refused_too(api):
    client, _, _ = api
    response = client.delete("/v1/documents/Harga Beras Turun")
    assert response.status_code == 409 and len(response.json()["error"]["documents"]) == 1
    assert client.delete("/v1/documents/nothing-like-this").status_code == 404


def test_web_page_deletes_by_id_with_the_file(api):
    from app.web_documents import confirmation, delete

    client, kb, uploads = api
    upload(client, "gula.txt", GULA)
    assert "delete by id" in delete(kb, "Harga Gula Turun")
    doc_id = next(d.doc_id for d in kb.documents() if d.title == "Harga Gula Turun")
    assert confirmation(kb, doc_id)[0].startswith("Delete “Harga Gula Turun”")
    assert confirmation(kb, doc_id, "id")[0].startswith("Hapus “Harga Gula Turun”")
    assert delete(kb, doc_id) == "Deleted “Harga Gula Turun”." and not list(uploads.glob("*/gula.txt"))
    assert delete(kb, doc_id) == "That document was already gone."


def test_web_page_upload_keeps_no_failed_file(api, tmp_path):
    from app.web_documents import upload as web_upload

    _, kb, uploads = api
    bad = tmp_path / "kosong.txt"
    bad.write_bytes(b"")
    assert "failed" in list(web_upload(kb, [str(bad)]))[-1]
    assert not list(uploads.rglob("kosong.txt"))


def test_ready_is_announced_only_once_the_port_listens():
    import threading

    from app.server import _server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seen, done = [], threading.Event()

    async def app(scope, receive, send):  # lifespan and nothing else
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    def ready(url: str) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=1):  # refused if not yet listening
            seen.append(url)
        done.set()

    server = _server(app, "127.0.0.1", port, ready)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert done.wait(20) and seen == [f"http://127.0.0.1:{port}/"]
    server.should_exit = True
    thread.join(10)
