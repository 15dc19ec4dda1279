"""Limits that hold whatever a file or a client claims: zip members counted as they inflate, PDF
pages and .jsonl records bounded, request bodies refused while they stream, one unit for sizes."""
from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from fastapi.testclient import TestClient

from core.errors import BadDocument
from ingest import office
from ingest.loaders import Article, load_path
from tests.unit.test_unit_loaders import make_pdf

BIG = 10_000_000


def docx_with_document_xml(xml: bytes) -> bytes:
    """A python-docx document whose word/document.xml is replaced by ``xml`` (deflated)."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = xml if info.filename == "word/document.xml" else source.read(info.filename)
            target.writestr(info.filename, data)
    return out.getvalue()


def lie_about(data: bytes, member: str, size: int, crc: int | None = None) -> bytes:
    """The zip directory (local and central headers) claims ``member`` unpacks to ``size`` bytes."""
    raw = bytearray(data)
    for signature, header, name_at, size_at, crc_at in ((b"PK\x03\x04", 30, 26, 22, 14),
                                                        (b"PK\x01\x02", 46, 28, 24, 16)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            name_len = struct.unpack_from("<H", raw, start + name_at)[0]
            if raw[start + header: start + header + name_len] == member.encode():
                struct.pack_into("<I", raw, start + size_at, size)
                if crc is not None:
                    struct.pack_into("<I", raw, start + crc_at, crc)
            start += 4
    return bytes(raw)


BODY = b"<w:p><w:r><w:t>" + b"Berita " * 150 + b"</w:t></w:r></w:p>"


def peak_while(action) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("keep_crc", [False, True])
def test_a_zip_directory_that_understates_sizes_is_refused_without_inflating(tmp_path, keep_crc):
    xml = b"<w:document><w:body>" + BODY * 8_000  # ~8.5 MB inflated, ~20 kB deflated
    crc = zlib.crc32(xml[:1000]) if keep_crc else None  # a CRC that matches the first 1,000 bytes
    path = tmp_path / "liar.docx"
    path.write_bytes(lie_about(docx_with_document_xml(xml), "word/document.xml", 1000, crc))
    del xml
    items, peak = peak_while(lambda: list(load_path(path, BIG)))
    assert len(items) == 1 and isinstance(items[0], BadDocument), items
    assert "not a readable .docx" in str(items[0])
    assert peak < 3_000_000, f"{peak:,} bytes allocated: the member was inflated"


def test_inflated_bytes_are_counted_with_a_hard_stop(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "_check_declared_sizes", lambda name, archive: None)  # pretend it lied
    monkeypatch.setattr(office, "MAX_DOCX_XML", 1_000_000)
    path = tmp_path / "bomb.docx"
    path.write_bytes(docx_with_document_xml(b"<w:document><w:body>" + BODY * 8_000))
    items, peak = peak_while(lambda: list(load_path(path, BIG)))
    assert "zip bomb" in str(items[0]) and "1,0" in str(items[0])
    assert peak < 3_000_000, f"{peak:,} bytes allocated past the 1 MB stop"


def test_an_honest_docx_still_loads(tmp_path):
    xml = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           b"<w:p><w:r><w:t>Harga beras turun.</w:t></w:r></w:p></w:body></w:document>")
    path = tmp_path / "jujur.docx"
    path.write_bytes(docx_with_document_xml(xml))
    [article] = list(load_path(path, BIG))
    assert isinstance(article, Article) and article.text == "Harga beras turun."


def many_page_pdf(pages: int) -> bytes:
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(io.BytesIO(make_pdf("Semikonduktor Jepang dan Uni Eropa"))).pages[0]
    writer, out = PdfWriter(), io.BytesIO()
    for _ in range(pages):
        writer.add_page(page)
    writer.write(out)
    return out.getvalue()


def test_pdf_pages_stop_at_the_character_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "MAX_EXTRACTED_CHARS", 80)
    path = tmp_path / "panjang.pdf"
    path.write_bytes(many_page_pdf(20))
    [failure] = list(load_path(path, BIG))
    assert isinstance(failure, BadDocument) and "after 3 pages" in str(failure), failure


def test_pdf_page_count_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "MAX_PDF_PAGES", 5)
    path = tmp_path / "tebal.pdf"
    path.write_bytes(many_page_pdf(6))
    [failure] = list(load_path(path, BIG))
    assert "6 pages is over the limit of 5" in str(failure)


def test_jsonl_records_are_bounded(tmp_path, monkeypatch):
    from ingest import loaders

    monkeypatch.setattr(loaders, "MAX_JSONL_RECORDS", 3)
    path = tmp_path / "banyak.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "text": f"Berita nomor {i}."}) for i in range(6)), "utf-8")
    items = list(load_path(path, BIG))
    assert [type(i) for i in items] == [Article, Article, Article, BadDocument]
    assert str(items[-1]).startswith("banyak.jsonl line 4: more than 3 records")


def test_one_unit_for_every_size_limit(unit_settings, tmp_path):
    from app.uploads import save_upload

    settings = unit_settings.with_changes(max_file_mb=0.01)
    assert settings.max_file_bytes == 10_000
    save_upload(settings, "pas.txt", io.BytesIO(b"a" * 10_000))
    with pytest.raises(BadDocument, match="more than 10,000 bytes"):
        save_upload(settings, "lebih.txt", io.BytesIO(b"a" * 10_001))
    path = tmp_path / "pas.txt"
    path.write_bytes(b"a " * 5_000)
    assert isinstance(next(load_path(path, settings.max_file_bytes)), Article)


@pytest.fixture
def small_limit_client(unit_settings):
    from tests.unit.test_unit_http_guard import api_for

    settings = unit_settings.with_changes(max_file_mb=0.01)
    return TestClient(api_for(settings), base_url="http://127.0.0.1")


def test_a_streamed_body_over_the_limit_is_refused_while_it_streams(unit_settings):
    """Straight through ASGI (TestClient reads a body in full first): chunks stop coming at the limit."""
    import asyncio

    from tests.unit.test_unit_http_guard import api_for

    app, sent, replies = api_for(unit_settings.with_changes(max_file_mb=0.01)), [], []
    scope = {"type": "http", "method": "POST", "path": "/v1/documents", "raw_path": b"/v1/documents",
             "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 7860), "client": ("127.0.0.1", 5),
             "headers": [(b"host", b"127.0.0.1:7860"), (b"content-type", b"multipart/form-data; boundary=b")],
             "http_version": "1.1", "asgi": {"version": "3.0", "spec_version": "2.3"}}

    head = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n")

    async def receive():  # chunked: no Content-Length to refuse it by
        sent.append(10_000)
        return {"type": "http.request", "body": (b"" if len(sent) > 1 else head) + b"x" * 10_000,
                "more_body": len(sent) < 500}

    async def send(message):
        replies.append(message)

    asyncio.run(app(scope, receive, send))
    assert replies[0]["status"] == 413 and json.loads(replies[1]["body"])["error"]["message"]
    assert sum(sent) < 1_010_000 + 30_000, f"{sum(sent):,} bytes read: the body was read to the end"


def test_a_declared_length_over_the_limit_is_refused_before_reading(small_limit_client):
    upload = [("files", ("besar.txt", b"a " * 600_000, "text/plain"))]
    response = small_limit_client.post("/v1/documents", files=upload)
    assert response.status_code == 413 and response.json()["error"]["type"] == "invalid_request_error"


def test_chat_bodies_have_their_own_small_limit(small_limit_client):
    body = {"messages": [{"role": "user", "content": "x" * 2_000_000}]}
    response = small_limit_client.post("/v1/chat/completions", json=body)
    assert response.status_code == 413 and "error" in response.json()
