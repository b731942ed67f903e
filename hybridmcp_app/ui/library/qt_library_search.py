"""The Library tab's search: a query box (Enter, or a pause in typing) and the ranked results,
each with its score, file, page or lines, heading and a snippet with the query's words marked.
Enter or a double-click on a result asks to open its source at the page."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.documents.document_models import SearchHit

DEBOUNCE_MS = 400
MIN_TYPED = 3  # characters before typing alone starts a search
SNIPPET_CHARS = 260
PLACE_CHARS = 44  # page, lines and heading, beyond which the heading is cut
HTML_ROLE = Qt.ItemDataRole.UserRole
HIT_ROLE = Qt.ItemDataRole.UserRole + 1
MARK = "<span style='background-color:#ffe08a; color:#1f2328'>{}</span>"
STOP_WORDS = frozenset({
    "the", "and", "for", "are", "was", "were", "what", "when", "where", "which", "who", "whom",
    "why", "how", "that", "this", "these", "those", "with", "from", "into", "about", "does",
    "did", "has", "have", "had", "not", "but", "you", "your", "its", "their", "there",
})  # fmt: skip


def query_words(query: str) -> list[str]:
    words = {word.casefold() for word in re.findall(r"\w+", query) if len(word) >= 3}
    return sorted(words - STOP_WORDS, key=len, reverse=True)


def snippet_html(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """A window of ``text`` around the first word of ``query`` it holds, words marked."""
    flat = " ".join(text.split())
    words = query_words(query)
    pattern = (
        re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\w*", re.I) if words else None
    )
    first = pattern.search(flat) if pattern else None
    start = 0
    if first is not None and first.start() > width // 3:
        start = flat.rfind(" ", 0, first.start() - width // 4) + 1
    end = len(flat) if len(flat) - start <= width else flat.rfind(" ", start, start + width)
    end = end if end > start else start + width
    piece = flat[start:end]
    parts, last = [], 0
    for match in pattern.finditer(piece) if pattern else ():
        parts += [html.escape(piece[last : match.start()]), MARK.format(html.escape(match[0]))]
        last = match.end()
    parts.append(html.escape(piece[last:]))
    return ("…" if start else "") + "".join(parts) + ("…" if end < len(flat) else "")


def where(hit: SearchHit) -> str:
    """Page and lines (or lines alone), and the heading above the chunk."""
    source = hit.provenance
    parts = []
    if source.page is not None:
        parts.append(f"page {source.page}")
    if source.first_line is not None:
        last = source.last_line if source.last_line is not None else source.first_line
        lines = f"line {last}" if last == source.first_line else f"lines {source.first_line}–{last}"
        parts.append(lines)
    if source.heading:
        parts.append(f"§ {source.heading}")
    return " · ".join(parts)


def hit_html(hit: SearchHit, query: str) -> str:
    """File, where in it, and the score on the first line; the snippet under them."""
    place = where(hit)
    if len(place) > PLACE_CHARS:
        place = place[: PLACE_CHARS - 1] + "…"
    details = f" &nbsp;<small>{html.escape(place)}</small>" if place else ""
    return (
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td><b>{html.escape(hit.provenance.path.name)}</b>{details}</td>"
        f"<td align='right'><small>{hit.score:.2f}</small></td></tr></table>"
        f"{snippet_html(hit.text, query)}"
    )


class QtHitDelegate(QStyledItemDelegate):
    """Draws an item's ``HTML_ROLE`` rich text, wrapped to the list's width."""

    def _document(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(6)
        document.setHtml(str(index.data(HTML_ROLE)))
        view = option.widget
        width = view.viewport().width() if isinstance(view, QAbstractScrollArea) else 400
        document.setTextWidth(max(width - 4, 120))
        return document

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        item.text = ""
        widget = item.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)
        document = self._document(option, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(item.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        palette = item.palette
        context.palette.setColor(QPalette.ColorRole.Text, palette.color(role))
        rect = item.rect
        painter.save()
        painter.translate(rect.topLeft())
        painter.setClipRect(0, 0, rect.width(), rect.height())
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        document = self._document(option, index)
        return QSize(int(document.idealWidth()), int(document.size().height()) + 2)


class QtLibrarySearch(QWidget):
    """Emits ``query_submitted`` (Enter, or a pause after typing) and ``hit_activated``."""

    query_submitted = Signal(str)
    hit_activated = Signal(object)  # SearchHit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QLineEdit(self)
        self.box.setPlaceholderText("Search the library by meaning (Ctrl+F)")
        self.box.setClearButtonEnabled(True)
        self.status = QLabel("Results appear here, best first; Enter opens one at its page.", self)
        self.status.setWordWrap(True)
        self.results = QListWidget(self)
        self.results.setItemDelegate(QtHitDelegate(self.results))
        self.results.setResizeMode(QListView.ResizeMode.Adjust)
        self.results.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._typed)
        self.box.textEdited.connect(lambda _text: self._debounce.start())
        self.box.returnPressed.connect(self.submit)
        self.results.itemActivated.connect(self._activated)

    def submit(self) -> None:
        self._debounce.stop()
        query = self.box.text().strip()
        if query:
            self.query_submitted.emit(query)
        else:
            self.clear()

    def _typed(self) -> None:
        if len(self.box.text().strip()) >= MIN_TYPED or not self.box.text().strip():
            self.submit()

    def clear(self) -> None:
        self.results.clear()
        self.status.setText("")

    def searching(self, query: str) -> None:
        self.status.setText(f"Searching for “{query}”…")

    def show_hits(self, query: str, hits: Sequence[SearchHit]) -> None:
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem(f"{hit.provenance.path.name} {where(hit)}", self.results)
            item.setData(HTML_ROLE, hit_html(hit, query))
            item.setData(HIT_ROLE, hit)
            item.setToolTip(f"{hit.provenance.path}\nsimilarity {hit.score:.2f} (1 = identical)")
        if hits:
            self.status.setText(f"{len(hits)} passages for “{query}”, closest first.")
            self.results.setCurrentRow(0)
        else:
            self.status.setText(f"Nothing in the library for “{query}”.")

    def hits(self) -> list[SearchHit]:
        return [self.results.item(row).data(HIT_ROLE) for row in range(self.results.count())]

    def _activated(self, item: QListWidgetItem) -> None:
        self.hit_activated.emit(item.data(HIT_ROLE))
