"""Turn files into articles (text plus title, outlet, date, URL), rejecting bad files with a reason."""
from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from core.injection import safe_title
from core.errors import BadDocument
from ingest.office import MAX_EXTRACTED_CHARS, docx_text, pdf_text
from vectorstore.records import ArticleFacts

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl")
MAX_JSONL_RECORDS = 100_000  # records in one .jsonl file; the rest are reported, not read
MAX_CONTROL_SHARE = 0.01  # text with more control characters than this is binary in disguise
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)

log = logging.getLogger(__name__)


@dataclass
class Article(ArticleFacts):
    """One document ready for chunking; doc_id is stable across edits of the same source."""

    doc_id: str
    text: str
    source: str

    @property
    def version(self) -> str:
        """Content hash: an unchanged article keeps its version, so re-ingesting it costs nothing."""
        facts = "\x1f".join((self.text, self.title, self.outlet, self.date, self.url))
        return hashlib.sha256(facts.encode("utf-8")).hexdigest()[:24]


def doc_id_for(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]


def _decode_text(data: bytes, name: str, declared: str | None = None) -> str:
    """UTF-8 text (BOM allowed; ``declared``, an encoding the file itself names, as fallback) or a
    BadDocument naming why it is not text. Legacy encodings are not guessed: a wrong guess would
    store mojibake that looks like text, so such files are refused with a way to fix them."""
    if not data.strip():
        raise BadDocument(f"{name}: the file is empty")
    if b"\x00" in data:
        raise BadDocument(f"{name}: binary content, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        text = _decode_declared(data, declared)
        if text is None:
            raise BadDocument(
                f"{name}: not UTF-8 text (invalid byte 0x{data[err.start]:02x} at offset {err.start}); "
                "save it as UTF-8 and ingest it again"
            ) from None
    if len(_CONTROL.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise BadDocument(f"{name}: binary content, not text")
    return text


def _decode_declared(data: bytes, encoding: str | None) -> str | None:
    try:
        return data.decode(codecs.lookup(encoding).name) if encoding else None
    except (LookupError, UnicodeDecodeError):
        return None


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _CONTROL.sub("", text)
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
    from bs4 import BeautifulSoup, CData, Comment, Declaration, ProcessingInstruction

    charset = _DECLARED_CHARSET.search(data[:4096])
    html = _decode_text(data, path.name, charset.group(1).decode("ascii") if charset else None)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "nav", "footer"]):
        tag.decompose()
    for hidden in soup.find_all(string=lambda s: isinstance(s, (CData, Comment, Declaration, ProcessingInstruction))):
        hidden.extract()  # browsers never show these (html.parser keeps CDATA as text)

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
    text, title = pdf_text(path, data)
    text = _normalise(text)
    if not text:
        raise BadDocument(f"{path.name}: the PDF has no extractable text (scanned images need OCR)")
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=title or path.stem)]


def load_docx(path: Path, data: bytes) -> list[Article]:
    text, title = docx_text(path, data)
    text = _normalise(text)
    if not text:
        raise BadDocument(f"{path.name}: the document has no text")
    return [Article(doc_id_for(str(path.resolve())), text, str(path), title=title or text.split("\n", 1)[0][:200])]


_NO_SPACE_BEFORE = re.compile(r"\s+([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{])\s+")


def _detokenise(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


def _is_tokenised(paragraphs) -> bool:
    return isinstance(paragraphs, list) and all(
        isinstance(para, list) and all(isinstance(sent, list) and all(isinstance(t, str) for t in sent) for sent in para)
        for para in paragraphs
    )


def _indosum_article(record: dict, where: str, path: Path) -> Article:
    """IndoSum line: tokenised paragraphs; title from the id slug, date from its timestamp."""
    if "id" not in record:
        raise BadDocument(f"{where}: IndoSum record without an 'id'")
    if not _is_tokenised(record["paragraphs"]):
        raise BadDocument(f"{where}: 'paragraphs' must be lists of sentences, each a list of tokens")
    article_id = str(record["id"])
    paragraphs = [" ".join(_detokenise(sentence) for sentence in para) for para in record["paragraphs"]]
    stamp, _, slug = article_id.partition("-")
    date = ""
    if stamp.isdigit() and len(stamp) <= 11:
        date = datetime.fromtimestamp(int(stamp), tz=timezone.utc).date().isoformat()
    title = (slug or article_id).replace("-", " ").strip().capitalize()
    text = _normalise("\n\n".join(paragraphs))
    if not text:
        raise BadDocument(f"{where}: article {article_id} has no text")
    return Article(doc_id_for(f"jsonl:{article_id}"), text, f"{path}#{article_id}", title=title,
                   outlet=str(record.get("source", "")), date=date, url=str(record.get("source_url", "")))


def _plain_record_article(record: dict, where: str, path: Path, line_no: int) -> Article:
    if not isinstance(record["text"], str):
        raise BadDocument(f"{where}: 'text' must be a string")
    source = str(record.get("id") or f"{path}:{line_no}")
    return Article(doc_id_for(f"jsonl:{source}"), _normalise(record["text"]), f"{path}#{source}",
                   title=str(record.get("title", "")), outlet=str(record.get("outlet", "")),
                   date=str(record.get("date", "")), url=str(record.get("url", "")))


def _jsonl_record(raw: bytes, path: Path, line_no: int) -> Article:
    """One line of a .jsonl file as an article, or a BadDocument naming the line and what is wrong."""
    where = f"{path.name} line {line_no}"
    line = _decode_text(raw, where)
    try:
        record = json.loads(line)
    except ValueError as err:
        raise BadDocument(f"{where}: malformed JSON record ({err})") from None
    except RecursionError:
        raise BadDocument(f"{where}: malformed JSON record (nested too deeply)") from None
    if not isinstance(record, dict):
        raise BadDocument(f"{where}: expected a JSON object, got {type(record).__name__}")
    if "paragraphs" in record:
        return _indosum_article(record, where, path)
    if "text" in record:
        return _plain_record_article(record, where, path, line_no)
    raise BadDocument(f"{where}: expected 'paragraphs' (IndoSum) or 'text'")


def iter_jsonl(path: Path, data: bytes) -> Iterator[Article | BadDocument]:
    """Each line an article; a bad line (malformed, not UTF-8, wrong shape) is reported on its own
    and the rest still load."""
    if not data.strip():
        raise BadDocument(f"{path.name}: the file is empty")
    if b"\x00" in data:
        raise BadDocument(f"{path.name}: binary content, not text")
    data = data.removeprefix(codecs.BOM_UTF8)
    records = 0
    for line_no, raw in enumerate(data.replace(b"\r\n", b"\n").split(b"\n"), start=1):
        if not raw.strip():
            continue
        records += 1
        if records > MAX_JSONL_RECORDS:
            yield BadDocument(f"{path.name} line {line_no}: more than {MAX_JSONL_RECORDS:,} records in one file; "
                              "this line and the rest were not read (split the file)")
            return
        try:
            yield _checked(_jsonl_record(raw, path, line_no), f"{path.name} line {line_no}")
        except BadDocument as err:
            yield err
        except Exception as err:  # one odd record must not stop the other lines
            log.exception("%s line %d", path.name, line_no)
            yield BadDocument(f"{path.name} line {line_no}: unreadable record ({type(err).__name__}: {err})")


def _checked(article: Article, where: str) -> Article:
    """Refuse text past the limit; drop a headline that gives the assistant orders (see core/injection.py)."""
    article.title = safe_title(article.title)
    if len(article.text) > MAX_EXTRACTED_CHARS:
        raise BadDocument(f"{where}: {len(article.text):,} characters of text is over the limit "
                          f"of {MAX_EXTRACTED_CHARS:,}")
    return article


LOADERS: dict[str, Callable[[Path, bytes], list[Article]]] = {
    ".txt": load_plain_text, ".md": load_markdown, ".markdown": load_markdown,
    ".html": load_html, ".htm": load_html, ".pdf": load_pdf, ".docx": load_docx,
}


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read a file no larger than the limit, with a message naming the limit when it is.
    The size is checked before reading, and reading stops one byte past the limit (a growing file)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BadDocument(f"{path.name}: {size:,} bytes is over the limit of {max_bytes:,} bytes")
    with path.open("rb") as handle:
        data = handle.read(min(size, max_bytes) + 1)  # not a max_bytes buffer for every small file
    if len(data) > max_bytes:
        raise BadDocument(f"{path.name}: more than {max_bytes:,} bytes, over the limit")
    return data


def load_path(path: Path, max_bytes: int) -> Iterator[Article | BadDocument]:
    """Articles in one file, or BadDocument items for what cannot be read; never raises for a bad file."""
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
            yield _checked(article, path.name)
    except BadDocument as err:
        yield err
    except OSError as err:
        yield BadDocument(f"{path.name}: cannot be read ({err.strerror or err})")
    except Exception as err:  # a parser bug or a hostile file must cost one file, not the whole run
        log.exception("loading %s", path)
        yield BadDocument(f"{path.name}: could not be read ({type(err).__name__}: {err})")
