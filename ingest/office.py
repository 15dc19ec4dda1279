"""PDF and .docx loaders, each bounded by what it actually unpacks, never by what the file claims."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from core.errors import BadDocument

MAX_EXTRACTED_CHARS = 5_000_000  # a decompression bomb stops here, not in memory
MAX_PDF_PAGES = 2_000
MAX_DOCX_UNPACKED = 100_000_000  # all parts of a .docx, media included, counted as they inflate
MAX_DOCX_XML = 20_000_000  # the XML python-docx parses: room for MAX_EXTRACTED_CHARS of text with markup
INFLATE_BLOCK = 1 << 16  # zipfile inflates at most this much per read; one big read() inflates it all


def pdf_text(path: Path, data: bytes) -> tuple[str, str]:
    """(text, title), page by page, stopping as soon as the text passes the limit (not after every page)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise BadDocument(f"{path.name}: {len(reader.pages):,} pages is over the limit of {MAX_PDF_PAGES:,}")
        pages, total = [], 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            total += len(pages[-1])
            if total > MAX_EXTRACTED_CHARS:
                raise BadDocument(f"{path.name}: more than {MAX_EXTRACTED_CHARS:,} characters of text "
                                  f"(after {len(pages):,} pages), over the limit")
        title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as err:
        raise BadDocument(f"{path.name}: not a readable PDF ({err})") from None
    return "\n\n".join(pages), str(title).strip()


def _check_declared_sizes(name: str, archive: zipfile.ZipFile) -> None:
    """Refuse what the zip directory itself admits is too big, before inflating anything."""
    members = archive.infolist()
    unpacked = sum(info.file_size for info in members)
    xml = sum(info.file_size for info in members if _is_xml(info.filename))
    if unpacked > MAX_DOCX_UNPACKED or xml > MAX_DOCX_XML:
        raise _bomb(name, unpacked, xml)


def _bomb(name: str, unpacked: int, xml: int) -> BadDocument:
    return BadDocument(f"{name}: unpacks to {unpacked:,} bytes or more ({xml:,} of XML; limits "
                       f"{MAX_DOCX_UNPACKED:,} and {MAX_DOCX_XML:,}), refusing a likely zip bomb")


def _is_xml(member: str) -> bool:
    return member.endswith((".xml", ".rels"))


def inflate_bounded(name: str, data: bytes) -> dict[str, bytes]:
    """Every member inflated block by block, the bytes counted as they come out, with a hard stop at
    the limits: a directory that understates sizes cannot make this hold more than the limits."""
    unpacked = xml = 0
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _check_declared_sizes(name, archive)
        for info in archive.infolist():
            if info.is_dir():
                continue
            blocks = []
            with archive.open(info) as member:  # CRC and size are checked at the member's end
                while block := member.read(INFLATE_BLOCK):
                    unpacked += len(block)
                    xml += len(block) if _is_xml(info.filename) else 0
                    if unpacked > MAX_DOCX_UNPACKED or xml > MAX_DOCX_XML:
                        raise _bomb(name, unpacked, xml)
                    blocks.append(block)
            members[info.filename] = b"".join(blocks)
    return members


def _stored_zip(members: dict[str, bytes]) -> io.BytesIO:
    """The checked members re-packed uncompressed, so python-docx inflates nothing itself."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    out.seek(0)
    return out


def docx_text(path: Path, data: bytes) -> tuple[str, str]:
    """(text, title) of a .docx whose parts were inflated under the limits first."""
    try:
        package = _stored_zip(inflate_bounded(path.name, data))
        from docx import Document

        document = Document(package)
    except BadDocument:
        raise
    except Exception as err:  # python-docx/zipfile/lxml raise many unrelated types for broken files
        raise BadDocument(f"{path.name}: not a readable .docx ({type(err).__name__}: {err})") from None
    return "\n".join(p.text for p in document.paragraphs), (document.core_properties.title or "").strip()
