"""The library passages a chat turn was given: a numbered link each (file, page) and its text."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QTextBrowser, QWidget

from hybridmcp_app.orchestration.library_sources import SourceCitation

SNIPPET_CHARS = 280


class QtSourcesPanel(QTextBrowser):
    """Hidden while a turn has no sources; clicking one calls ``open_source(path, page)``."""

    def __init__(
        self,
        open_source: Callable[[Path, int | None], object] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._open_source = open_source
        self.sources: tuple[SourceCitation, ...] = ()
        self.setOpenLinks(False)
        self.setMaximumHeight(150)
        self.setToolTip("Library passages given to the model; click one to open it")
        self.anchorClicked.connect(self.open_link)
        self.hide()

    def show_sources(self, sources: tuple[SourceCitation, ...]) -> None:
        self.sources = sources
        if not sources:
            self.clear()
            self.hide()
            return
        items = []
        for source in sources:
            snippet = " ".join(source.text.split())
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[:SNIPPET_CHARS] + " …"
            heading = f" · {html.escape(source.heading)}" if source.heading else ""
            items.append(
                f"<p><b>[{source.number}]</b> <a href='source:{source.number}'>"
                f"{html.escape(source.label)}</a>{heading} "
                f"<span style='color:gray'>(similarity {source.score:.2f})</span><br>"
                f"<span style='color:gray'>{html.escape(snippet)}</span></p>"
            )
        self.setHtml("<b>Sources</b>" + "".join(items))
        self.show()

    def open_link(self, url: QUrl) -> None:
        text = url.toString()
        if not text.startswith("source:") or self._open_source is None:
            return
        number = int(text.removeprefix("source:"))
        source = next((s for s in self.sources if s.number == number), None)
        if source is not None:
            self._open_source(source.path, source.page)
