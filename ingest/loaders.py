"""Turn files into articles (text plus title, outlet, date, URL), rejecting bad files with a reason."""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from core.errors import BadDocument

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl")
MAX_EXTRACTED_CHARS = 5_000_000  # a decompression bomb stops here, not in memory


@dataclass
class Article:
    """One document ready for chunking; doc_id is stable across edits of the same source."""

    doc_id: str
    text: str
    source: str
    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""

    @property
    def version(self) -> str:
        """Content hash: an unchanged article keeps its version, so re-ingesting it costs nothing."""
        facts = "\x1f".join((self.text, self.title, self.outlet, self.date, self.url))
        return hashlib.sha256(facts.encode("utf-8")).hexdigest()[:24]


def doc_id_for(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]


def _decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (BOM allowed) or a BadDocument naming why it is not."""
    if not data.strip():
        raise BadDocument(f"{name}: the file is empty")
    if b"\x00" in data[:8192]:
        raise BadDocument(f"{name}: binary content, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadDocument(
            f"{name}: not UTF-8 text (invalid byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save it as UTF-8 and ingest it again"
        ) from None


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _looks_like_heading(line: str, limit: int) -> bool:
    return 0 < len(line) <= limit and not line.rstrip().endswith((".", "?", "!", ":", ";", ","))


def load_plain_text(path: Path, data: bytes) -> list[Article]:
    """News text: first line a rubric and second a headline (the sample's layout), or a headline first."""
    text = _normalise(_decode_text(data, path.name))
    lines = [ln.strip() for ln in text.split("\n")]
    nonblank = [ln for ln in lines if ln]
    title, outlet = path.stem.replace("-", " ").replace("_", " "), ""
    if len(nonblank) >= 3 and _looks_like_heading(nonblank[0], 40) and _looks_like_heading(nonblank[1], 200):
        title = nonblank[1]  # rubric (section) line is kept in the text but not used as a title
    elif nonblank and _looks_like_heading(nonblank[0], 200):
        title = nonblank[0]
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=title, outlet=outlet)]


def load_markdown(path: Path, data: bytes) -> list[Article]:
    text = _normalise(_decode_text(data, path.name))
    heading = re.search(r"^#\s+(.+)$", text, flags=re.M)
    title = heading.group(1).strip() if heading else path.stem
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=title)]


def load_html(path: Path, data: bytes) -> list[Article]:
    """Visible text only: scripts, styles and other non-content elements are dropped, never run or kept."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_text(data, path.name), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "nav", "footer"]):
        tag.decompose()

    def meta(*names: str) -> str:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag and tag.get("content"):
                return str(tag["content"]).strip()
        return ""

    heading = soup.find("h1")
    title = meta("og:title") or (soup.title.get_text(strip=True) if soup.title else "")
    title = title or (heading.get_text(strip=True) if heading else path.stem)
    canonical = soup.find("link", attrs={"rel": "canonical"})
    url = meta("og:url") or (str(canonical.get("href", "")) if canonical else "")
    body = soup.body or soup
    text = _normalise(body.get_text("\n"))
    if not text:
        raise BadDocument(f"{path.name}: the page has no visible text")
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=title, outlet=meta("og:site_name"),
                    date=meta("article:published_time", "date")[:10], url=url)]


def load_pdf(path: Path, data: bytes) -> list[Article]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as err:
        raise BadDocument(f"{path.name}: not a readable PDF ({err})") from None
    text = _normalise("\n\n".join(pages))
    if not text:
        raise BadDocument(f"{path.name}: the PDF has no extractable text (scanned images need OCR)")
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=str(title).strip() or path.stem)]


def load_docx(path: Path, data: bytes) -> list[Article]:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > 20 * MAX_EXTRACTED_CHARS:
            raise BadDocument(f"{path.name}: unpacks to {unpacked:,} bytes, refusing a likely zip bomb")
        from docx import Document

        document = Document(io.BytesIO(data))
    except BadDocument:
        raise
    except Exception as err:  # python-docx/zipfile/lxml raise many unrelated types for broken files
        raise BadDocument(f"{path.name}: not a readable .docx ({type(err).__name__}: {err})") from None
    text = _normalise("\n".join(p.text for p in document.paragraphs))
    if not text:
        raise BadDocument(f"{path.name}: the document has no text")
    title = (document.core_properties.title or "").strip() or text.split("\n", 1)[0][:200]
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=title)]


_NO_SPACE_BEFORE = re.compile(r"\s+([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{])\s+")


def _detokenise(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


def _indosum_article(record: dict, path: Path, line_no: int) -> Article:
    """IndoSum line: tokenised paragraphs; title from the id slug, date from its timestamp."""
    article_id = str(record["id"])
    paragraphs = [" ".join(_detokenise(sentence) for sentence in para) for para in record["paragraphs"]]
    stamp, _, slug = article_id.partition("-")
    date = ""
    if stamp.isdigit():
        date = datetime.fromtimestamp(int(stamp), tz=timezone.utc).date().isoformat()
    title = (slug or article_id).replace("-", " ").strip().capitalize()
    text = _normalise("\n\n".join(paragraphs))
    if not text:
        raise BadDocument(f"{path.name} line {line_no}: article {article_id} has no text")
    return Article(doc_id_for(f"jsonl:{article_id}"), text, f"{path}#{article_id}", title=title,
                   outlet=str(record.get("source", "")), date=date, url=str(record.get("source_url", "")))


def iter_jsonl(path: Path, data: bytes) -> Iterator[Article | BadDocument]:
    """Each line an article; a malformed line is reported on its own and the rest still load."""
    text = _decode_text(data, path.name)
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "paragraphs" in record:
                yield _indosum_article(record, path, line_no)
            elif "text" in record:
                source = str(record.get("id") or f"{path}:{line_no}")
                yield Article(doc_id_for(f"jsonl:{source}"), _normalise(str(record["text"])), f"{path}#{source}",
                              title=str(record.get("title", "")), outlet=str(record.get("outlet", "")),
                              date=str(record.get("date", "")), url=str(record.get("url", "")))
            else:
                yield BadDocument(f"{path.name} line {line_no}: expected 'paragraphs' (IndoSum) or 'text'")
        except (ValueError, KeyError, TypeError) as err:
            yield BadDocument(f"{path.name} line {line_no}: malformed JSON record ({err})")
        except BadDocument as err:
            yield err


LOADERS: dict[str, Callable[[Path, bytes], list[Article]]] = {
    ".txt": load_plain_text, ".md": load_markdown, ".markdown": load_markdown,
    ".html": load_html, ".htm": load_html, ".pdf": load_pdf, ".docx": load_docx,
}


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read a file no larger than the limit, with a message naming the limit when it is."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BadDocument(f"{path.name}: {size:,} bytes is over the limit of {max_bytes:,} bytes")
    return path.read_bytes()


def load_path(path: Path, max_bytes: int) -> Iterator[Article | BadDocument]:
    """Articles in one file, or BadDocument items for what cannot be read."""
    suffix = path.suffix.lower()
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            raise BadDocument(f"{path.name}: unsupported file type {suffix or '(none)'}; "
                              f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
        data = read_bytes(path, max_bytes)
        if suffix == ".jsonl":
            yield from iter_jsonl(path, data)
            return
        for article in LOADERS[suffix](path, data):
            if len(article.text) > MAX_EXTRACTED_CHARS:
                raise BadDocument(f"{path.name}: {len(article.text):,} characters of text is over the limit")
            yield article
    except BadDocument as err:
        yield err
    except OSError as err:
        yield BadDocument(f"{path.name}: cannot be read ({err.strerror or err})")
