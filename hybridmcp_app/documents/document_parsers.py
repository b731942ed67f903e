"""Turn one file into text, by type: paged formats through PyMuPDF, HTML through BeautifulSoup,
everything else (Markdown, reStructuredText, plain text, CSV, JSON, code) as it is.

``parse_document`` is a plain blocking function; the library service runs it off the event loop
(``parse_pool.parse_many`` for batches). Every failure is a ``DocumentParseError`` whose message
says, for the user, what is wrong with that one file.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import re
from pathlib import Path

from hybridmcp_app.documents.document_models import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    ParsedDocument,
    ParsedPage,
    ScannedFile,
)
from hybridmcp_app.documents.document_scanner import human_size
from hybridmcp_app.documents.html_parser import declared_charset, parse_html
from hybridmcp_app.documents.parse_errors import (
    DocumentTooLarge,
    EmptyDocument,
    UnreadableDocument,
)
from hybridmcp_app.documents.pymupdf_parser import PAGED_KINDS, parse_paged

TEXT_KINDS = {
    "md": "markdown",
    "markdown": "markdown",
    "rst": "rst",
    "txt": "text",
    "text": "text",
    "log": "text",
    "csv": "csv",
    "tsv": "csv",
    "json": "json",
    "html": "html",
    "htm": "html",
    "xhtml": "html",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+<>:.])\1+\s*$")


def document_kind(extension: str) -> str:
    """What a file with this extension is: "pdf", "html", "markdown", "text", "code"…"""
    extension = extension.lower().lstrip(".")
    if extension in PAGED_KINDS:
        return extension
    return TEXT_KINDS.get(extension, "code")


def parse_document(
    file: ScannedFile | Path,
    *,
    password: str | None = None,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> ParsedDocument:
    """Read and parse one file; raises a ``DocumentParseError`` saying why it cannot be."""
    path = file.path if isinstance(file, ScannedFile) else Path(file).absolute()
    data = _read(path, max_bytes)
    content_hash = hashlib.sha256(data).hexdigest()  # of the bytes parsed, even if changed since
    kind = document_kind(path.suffix)
    if not data:
        raise EmptyDocument("the file is empty")
    if kind in PAGED_KINDS:
        return parse_paged(path, data, kind=kind, content_hash=content_hash, password=password)
    preferred = declared_charset(data) if kind == "html" else None
    text, notes = decode_text(data, preferred=preferred)
    if kind == "html":
        return parse_html(path, text, content_hash=content_hash, notes=notes)
    if not text.strip():
        raise EmptyDocument("the file holds only blank space")
    return ParsedDocument(
        path=path,
        content_hash=content_hash,
        kind=kind,
        title=_title(text, kind) or path.name,
        pages=(ParsedPage(text=text, first_line=1),),
        notes=notes,
    )


def decode_text(data: bytes, *, preferred: str | None = None) -> tuple[str, tuple[str, ...]]:
    """Text from bytes: a BOM's encoding, UTF-8, the ``preferred`` (declared) one, then
    Windows-1252 and Latin-1 (which cannot fail), with a note saying which was guessed.

    Line endings become ``\\n`` so that line numbers count the same on every platform.
    """
    text, notes = _decode(data, preferred)
    return text.replace("\r\n", "\n").replace("\r", "\n"), notes


def _decode(data: bytes, preferred: str | None) -> tuple[str, tuple[str, ...]]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), ()
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    if preferred is not None:
        try:
            return data.decode(preferred), ()
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("cp1252"), ("not UTF-8: read as Windows-1252; some letters may be off",)
    except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; Latin-1 decodes any byte
        return data.decode("latin-1"), ("not UTF-8: read as Latin-1; some letters may be off",)


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            limit = human_size(max_bytes)
            raise DocumentTooLarge(f"too large: {human_size(size)} (limit {limit})")
        return path.read_bytes()
    except FileNotFoundError:
        raise UnreadableDocument("the file is gone (moved or deleted since the scan)") from None
    except PermissionError:
        raise UnreadableDocument("cannot read the file: permission denied") from None
    except IsADirectoryError:
        raise UnreadableDocument("this is a folder, not a file") from None
    except OSError as error:
        raise UnreadableDocument(f"cannot read the file: {error.strerror or error}") from None


def _title(text: str, kind: str) -> str:
    """A Markdown file's first heading, or a reStructuredText file's first underlined title."""
    if kind == "markdown":
        in_fence = False
        for line in text.splitlines():
            if _FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence and (match := _ATX_HEADING.match(line)):
                return match.group(1).strip()
    elif kind == "rst":
        for line, underline in itertools.pairwise(text.splitlines()):
            title = line.strip()
            if title and _RST_UNDERLINE.match(underline) and len(underline.strip()) >= len(title):
                return title
    return ""
