"""HTML to readable text: what a reader sees, with headings and paragraphs kept.

BeautifulSoup with the standard library's ``html.parser`` (no lxml needed). Scripts, styles,
navigation and the ``<head>`` are dropped; headings become Markdown headings (``## Title``) so
that the chunker finds them the same way in HTML and Markdown; blocks are separated by a blank
line, list items start with ``- ``, table cells are joined by `` | ``, ``<pre>`` keeps its lines
and indentation. The title comes from ``<title>``, else the first ``<h1>``.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from hybridmcp_app.documents.document_models import ParsedDocument, ParsedPage
from hybridmcp_app.documents.parse_errors import EmptyDocument

DROPPED = ("head", "script", "style", "nav", "noscript", "template", "svg", "iframe")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCKS = (
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "header", "hr", "main", "ol", "p", "section", "table", "tr",
    "ul",
)  # fmt: skip
# Markers that survive whitespace folding; taken out of the input first so none is forged.
_BLOCK = "\ue000"
_LINE = "\ue001"
_CELL = "\ue002"
_SPACE = "\ue003"  # a space or tab inside <pre>, which must not be folded
_MARKERS = (_BLOCK, _LINE, _CELL, _SPACE)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def declared_charset(data: bytes) -> str | None:
    """The encoding a ``<meta charset>`` (or http-equiv) near the top declares, if any."""
    match = _CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def parse_html(
    path: Path, text: str, *, content_hash: str, notes: tuple[str, ...] = ()
) -> ParsedDocument:
    """The readable text of an HTML page; raises ``EmptyDocument`` if nothing is left."""
    title, body = html_to_text(text)
    if not body.strip():
        raise EmptyDocument("no readable text in this HTML page")
    return ParsedDocument(
        path=path,
        content_hash=content_hash,
        kind="html",
        title=title or path.name,
        pages=(ParsedPage(text=body),),
        notes=notes,
    )


def html_to_text(html: str) -> tuple[str, str]:
    """(title, text) of an HTML page."""
    if "<" not in html:  # no markup at all; BeautifulSoup would only warn that it looks like a path
        return "", _fold(html)
    for marker in _MARKERS:
        html = html.replace(marker, "")
    soup = BeautifulSoup(html, "html.parser")
    title = _folded_text(soup.title) if soup.title is not None else ""
    for tag in soup.find_all(DROPPED):
        tag.decompose()
    for tag in soup.find_all(HEADINGS):
        level = int(tag.name[1])
        heading = _folded_text(tag)
        if not title and level == 1:
            title = heading
        tag.replace_with(f"{_BLOCK}{'#' * level} {heading}{_BLOCK}" if heading else _BLOCK)
    for tag in soup.find_all("pre"):
        code = tag.get_text().replace("\t", "    ").replace(" ", _SPACE).replace("\n", _LINE)
        tag.replace_with(_BLOCK + code + _BLOCK)
    for tag in soup.find_all("br"):
        tag.replace_with(_LINE)
    for tag in soup.find_all("li"):
        tag.insert(0, _LINE + "- ")
    for tag in soup.find_all(("td", "th")):
        tag.insert(0, _CELL)
    for tag in soup.find_all(BLOCKS):
        tag.insert_before(_BLOCK)
        tag.insert_after(_BLOCK)
    return title, _fold(soup.get_text())


def _folded_text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def _fold(text: str) -> str:
    """Fold the source's whitespace, then turn the markers into line and paragraph breaks."""
    text = re.sub(r"\s+", " ", text)
    text = text.replace(_CELL, " | ").replace(_LINE, "\n").replace(_BLOCK, "\n\n")
    text = "\n".join(line.strip().replace(_SPACE, " ").rstrip() for line in text.split("\n"))
    text = re.sub(r"^\| ", "", text, flags=re.MULTILINE)  # a row's first cell needs no bar
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
