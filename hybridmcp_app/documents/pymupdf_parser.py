"""PDF, EPUB, XPS, FB2 and DOCX through PyMuPDF, page by page, with damage mapped to reasons.

What PyMuPDF 2.0 (MuPDF 1.28) does with bad files, and what the library makes of it:

- garbage, or a text file renamed ``.pdf``: ``pymupdf.FileDataError`` at open
  -> ``CorruptDocument`` ("not a PDF", when the bytes do not even start like one);
- an image renamed ``.pdf``: MuPDF sniffs the content and opens it as an image document
  (``is_pdf`` False) -> ``CorruptDocument`` ("not a PDF … reads as Image");
- a truncated PDF: usually opens ``is_repaired`` with the pages past the cut empty (the readable
  pages are kept and the document is marked ``repaired``); cut elsewhere, the same file raises
  ``FileDataError`` at open ("damaged beyond repair");
- a broken page tree: opens, then the first page access raises a MuPDF error
  (``mupdf.FzErrorBase``, which is *not* a ``RuntimeError`` in 2.0; older releases raised
  ``RuntimeError``), and later pages ``ValueError`` ("page not in document"); all are caught,
  the readable pages are kept;
- an empty file: ``pymupdf.EmptyFileError`` -> ``EmptyDocument``;
- an encrypted file: opens with ``needs_pass`` -> ``EncryptedDocument`` unless the password fits.

``pymupdf.FileNotFoundError`` is a ``RuntimeError``, not Python's; the bytes are read by the caller,
so it cannot happen here, but it is mapped all the same.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from hybridmcp_app.documents.document_models import ParsedDocument, ParsedPage
from hybridmcp_app.documents.parse_errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    UnreadableDocument,
)
from hybridmcp_app.documents.pymupdf_without_layout import layout_analysis_left_out

with layout_analysis_left_out():
    import pymupdf

log = logging.getLogger("hybridmcp.documents.pymupdf")

PAGED_KINDS = frozenset({"pdf", "epub", "xps", "fb2", "docx"})
_ZIP_KINDS = frozenset({"epub", "xps", "docx"})
_NOT_A_PDF = "not a PDF (another kind of file renamed .pdf?)"
_MUPDF_ERRORS = (RuntimeError, pymupdf.mupdf.FzErrorBase)
# After a failed page, PyMuPDF may recount the pages and refuse the next ones with ValueError.
_PAGE_ERRORS = (*_MUPDF_ERRORS, ValueError)
# PyMuPDF may not be used from two threads at once; worker processes each have their own lock.
_LOCK = threading.Lock()


def parse_paged(
    path: Path, data: bytes, *, kind: str, content_hash: str, password: str | None = None
) -> ParsedDocument:
    """The text of each page of ``data`` (a ``kind`` file); raises a ``DocumentParseError``."""
    with _LOCK:
        pymupdf.TOOLS.mupdf_display_errors(False)  # the reasons below say it; stderr is noise
        pymupdf.TOOLS.mupdf_display_warnings(False)
        try:
            return _parse(path, data, kind=kind, content_hash=content_hash, password=password)
        finally:
            warnings = pymupdf.TOOLS.mupdf_warnings()
            if warnings:
                log.debug("MuPDF on %s: %s", path, warnings)


def _parse(
    path: Path, data: bytes, *, kind: str, content_hash: str, password: str | None
) -> ParsedDocument:
    document = _open(data, kind)
    with document:
        if kind == "pdf" and not document.is_pdf:  # MuPDF sniffs: a PNG named .pdf opens as Image
            fmt = (document.metadata or {}).get("format") or "another format"
            raise CorruptDocument(f"{_NOT_A_PDF}: its content reads as {fmt}")
        if document.needs_pass:
            if password is None:
                raise EncryptedDocument(f"needs a password: the {kind.upper()} is encrypted")
            if not document.authenticate(password):
                raise EncryptedDocument("the password is wrong")
        try:
            page_count = document.page_count
        except _MUPDF_ERRORS as error:
            reason = f"damaged beyond repair: its pages cannot be found{_cause(error)}"
            raise CorruptDocument(reason) from None
        pages, failed, blank, images_only = _read_pages(document, page_count)
        repaired = bool(document.is_repaired or failed)
        if not pages:
            raise _no_text(kind, page_count, repaired=repaired, images_only=images_only)
        notes = _notes(document.is_repaired, failed, blank, images_only)
        title = str((document.metadata or {}).get("title") or "").strip()
    return ParsedDocument(
        path=path,
        content_hash=content_hash,
        kind=kind,
        title=title or path.name,
        pages=tuple(pages),
        page_count=page_count,
        repaired=repaired,
        notes=notes,
    )


def _open(data: bytes, kind: str) -> pymupdf.Document:
    try:
        return pymupdf.open(stream=data, filetype=kind)
    except pymupdf.EmptyFileError:
        raise EmptyDocument("the file is empty") from None
    except pymupdf.FileNotFoundError:
        raise UnreadableDocument("the file is gone") from None
    except _MUPDF_ERRORS as error:
        raise CorruptDocument(_unopenable(data, kind, error)) from None


def _read_pages(
    document: pymupdf.Document, page_count: int
) -> tuple[list[ParsedPage], list[int], list[int], list[int]]:
    """Pages with text, and the numbers of those that failed, were blank, or held only images."""
    pages: list[ParsedPage] = []
    failed: list[int] = []
    blank: list[int] = []
    images_only: list[int] = []
    for number in range(1, page_count + 1):
        try:
            page = document.load_page(number - 1)
            text = page.get_text()
            has_images = not text.strip() and bool(page.get_images())
        except _PAGE_ERRORS as error:
            log.debug("page %d unreadable: %s", number, error)
            failed.append(number)
            continue
        if text.strip():
            pages.append(ParsedPage(number=number, text=text))
        elif has_images:
            images_only.append(number)
        else:
            blank.append(number)
    return pages, failed, blank, images_only


def _no_text(
    kind: str, page_count: int, *, repaired: bool, images_only: list[int]
) -> CorruptDocument | EmptyDocument:
    if repaired:
        return CorruptDocument("damaged beyond repair: no page could be read")
    if page_count == 0:
        return CorruptDocument(f"the {kind.upper()} has no pages")
    if images_only:
        return EmptyDocument("no text: its pages are only images (a scan?), and there is no OCR")
    return EmptyDocument("no text on any page")


def _notes(
    repaired: bool, failed: list[int], blank: list[int], images_only: list[int]
) -> tuple[str, ...]:
    notes: list[str] = []
    if repaired:
        notes.append("the file is damaged; MuPDF repaired it")
        if blank:
            notes.append(f"empty after the repair: {_pages(blank)}")
    if failed:
        notes.append(f"unreadable: {_pages(failed)}")
    if images_only:
        notes.append(f"only images, no text (no OCR): {_pages(images_only)}")
    return tuple(notes)


def _unopenable(data: bytes, kind: str, error: Exception) -> str:
    name = kind.upper()
    if kind == "pdf" and b"%PDF" not in data[:1024]:
        return _NOT_A_PDF
    if kind in _ZIP_KINDS and not data.startswith(b"PK"):
        return f"not a {name} (it is not a ZIP archive; another kind of file renamed?)"
    return f"damaged beyond repair: MuPDF cannot open this {name}{_cause(error)}"


def _cause(error: BaseException) -> str:
    """MuPDF's own words, from the error or the one it wraps: " (malformed page tree)"."""
    for candidate in (error.__cause__, error):
        if isinstance(candidate, pymupdf.mupdf.FzErrorBase):
            return f" ({str(candidate).split(': ', 1)[-1]})"
    return ""


def _pages(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> "pages 1–3, 5"; [4] -> "page 4"."""
    ranges: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        ranges.append(str(start) if start == previous else f"{start}–{previous}")
        if number is not None:
            start = previous = number
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(ranges)
