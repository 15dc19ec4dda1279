"""Loaders: every supported format yields an article with its facts; every bad file a named reason."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from core.errors import BadDocument
from ingest.loaders import Article, load_path
from tests.conftest import require_shared

BIG = 10_000_000


def load_one(path, max_bytes=BIG):
    items = list(load_path(path, max_bytes))
    assert len(items) == 1, items
    return items[0]


def load_article(path, max_bytes=BIG) -> Article:
    item = load_one(path, max_bytes)
    assert isinstance(item, Article), f"expected an article, got {item!r}"
    return item


def load_failure(path, max_bytes=BIG) -> str:
    item = load_one(path, max_bytes)
    assert isinstance(item, BadDocument), f"expected BadDocument, got {item!r}"
    message = str(item)
    assert path.name in message
    return message


def make_pdf(text: str, title: str | None = None) -> bytes:
    """A minimal valid one-page PDF with a Helvetica text stream and a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if title:
        trailer += b" /Info %d 0 R" % len(objects)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- good files ---------------------------------------------------------------------------------

def test_sample_article_title_is_the_headline_not_the_rubric(tmp_path):
    source = require_shared("articles/eu-japan-ai-semiconductors.txt")
    article = load_article(source)
    assert article.title == "Uni Eropa dan Jepang Jajaki Kolaborasi Strategis AI dan Semikonduktor"
    assert article.text.startswith("Kecerdasan Buatan")  # rubric kept in the text
    assert "Thierry Breton" in article.text
    # a copy elsewhere is a different document, but with the same content version
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    other = load_article(copy)
    assert other.doc_id != article.doc_id and other.version == article.version


def test_markdown_title_from_heading(tmp_path):
    path = tmp_path / "catatan.md"
    path.write_text("Pengantar singkat.\n\n# Kerja Sama Chip Jepang\n\nIsi artikel tentang chip.\n", "utf-8")
    article = load_article(path)
    assert article.title == "Kerja Sama Chip Jepang"
    assert "Isi artikel tentang chip." in article.text


def test_html_drops_scripts_and_reads_og_meta(tmp_path):
    path = tmp_path / "berita.html"
    path.write_text(
        """<!doctype html><html><head><title>Judul Tab</title>
        <meta property="og:title" content="Jepang dan UE Bahas Semikonduktor">
        <meta property="og:site_name" content="Kabar Harian">
        <meta property="og:url" content="https://example.org/berita/1">
        <meta property="article:published_time" content="2023-07-03T10:00:00+07:00">
        <script>alert(1)</script><style>body{color:red}</style></head>
        <body><nav>Menu Utama</nav><h1>Judul H1</h1>
        <p>Uni Eropa ingin kerja sama dengan Jepang.</p>
        <img src="x.png" onerror="alert('xss')"><script>document.write('jahat')</script>
        <p>Paragraf kedua.</p></body></html>""",
        "utf-8",
    )
    article = load_article(path)
    assert article.title == "Jepang dan UE Bahas Semikonduktor"
    assert article.outlet == "Kabar Harian"
    assert article.url == "https://example.org/berita/1"
    assert article.date == "2023-07-03"
    assert "Uni Eropa ingin kerja sama dengan Jepang." in article.text
    assert "Paragraf kedua." in article.text
    for hidden in ("alert", "jahat", "color:red", "onerror", "Menu Utama"):
        assert hidden not in article.text


def test_docx_title_from_core_properties(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.core_properties.title = "Laporan Kemitraan Digital"
    document.add_paragraph("Paragraf pertama tentang AI.")
    document.add_paragraph("Paragraf kedua tentang chip.")
    path = tmp_path / "laporan.docx"
    document.save(str(path))
    article = load_article(path)
    assert article.title == "Laporan Kemitraan Digital"
    assert article.text.split("\n") == ["Paragraf pertama tentang AI.", "Paragraf kedua tentang chip."]


def test_pdf_text_and_title(tmp_path):
    path = tmp_path / "chip.pdf"
    path.write_bytes(make_pdf("Semikonduktor Jepang dan Uni Eropa", title="Laporan Chip"))
    article = load_article(path)
    assert "Semikonduktor Jepang dan Uni Eropa" in article.text
    assert article.title == "Laporan Chip"


def test_truncated_pdf_is_a_bad_document(tmp_path):
    data = make_pdf("Semikonduktor Jepang dan Uni Eropa")
    path = tmp_path / "rusak.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert "not a readable PDF" in load_failure(path)


# --- bad files ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("kosong.txt", b"", "empty"),
        ("spasi.md", b"  \n\t\n", "empty"),
        ("biner.txt", b"abc\x00\x01\x02def" * 10, "binary"),
        ("latin.txt", "Café crème à Jakarta, déjà vu.".encode("cp1252"), "not UTF-8"),
        ("gambar.png", b"\x89PNG\r\n", "unsupported file type .png"),
        ("tanpa_akhiran", b"teks", "unsupported file type (none)"),
    ],
)
def test_bad_files_are_reported_with_their_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    assert reason in load_failure(path)


def test_non_utf8_message_names_byte_and_offset(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"Caf\xe9 di Jakarta")
    message = load_failure(path)
    assert "0xe9" in message and "offset 3" in message


def test_oversize_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "besar.txt"
    path.write_text("Judul\n\n" + "kata " * 100, "utf-8")
    message = load_failure(path, max_bytes=100)
    assert "limit" in message
    assert isinstance(load_one(path, max_bytes=10_000), Article)


# --- JSON lines ---------------------------------------------------------------------------------

def test_indosum_lines_become_articles(tmp_path):
    source = require_shared("indosum/dev.01.jsonl")
    with source.open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(3)]
    path = tmp_path / "dev3.jsonl"
    path.write_text("".join(lines), "utf-8")
    articles = list(load_path(path, BIG))
    assert len(articles) == 3 and all(isinstance(a, Article) for a in articles)
    first = articles[0]
    assert first.title == "Mustahil transportasi tradisional dan online bersa"
    assert first.outlet == "kumparan"
    assert first.url.startswith("https://kumparan.com/")
    assert first.date == "2017-03-28"
    assert first.text.startswith("Ketua MPR Zulkifli Hasan menyesalkan")
    assert " ." not in first.text and " ," not in first.text  # detokenised
    assert [a.date for a in articles] == ["2017-03-28", "2017-09-08", "2017-03-15"]
    assert [a.outlet for a in articles] == ["kumparan", "suara", "suara"]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", a.date) for a in articles)
    assert len({a.doc_id for a in articles}) == 3


def test_jsonl_malformed_line_is_reported_and_the_rest_load(tmp_path):
    good = {"id": "a1", "text": "Teks pertama.", "title": "Satu", "outlet": "X", "date": "2024-01-02"}
    indosum = {"id": "1490674536-judul-berita", "paragraphs": [[["Halo", "dunia", "."]]]}
    path = tmp_path / "campur.jsonl"
    path.write_text(
        json.dumps(good) + "\n" + '{"id": "rusak", "text": \n' + "\n" + json.dumps(indosum) + "\n"
        + json.dumps({"id": "x"}) + "\n",
        "utf-8",
    )
    items = list(load_path(path, BIG))
    articles = [i for i in items if isinstance(i, Article)]
    failures = [str(i) for i in items if isinstance(i, BadDocument)]
    assert [a.title for a in articles] == ["Satu", "Judul berita"]
    assert articles[0].date == "2024-01-02" and articles[1].text == "Halo dunia."
    assert len(failures) == 2
    assert failures[0].startswith("campur.jsonl line 2:") and "malformed" in failures[0]
    assert failures[1].startswith("campur.jsonl line 5:")
