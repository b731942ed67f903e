"""The Library tab's details pane: one document's pages, words, language, key phrases, and a
summary by the local model on request."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError

if TYPE_CHECKING:
    from hybridmcp_app.documents.document_analysis import Completer, DocumentAnalysis


def analysis_html(analysis: DocumentAnalysis) -> str:
    rows = [f"<b>{html.escape(analysis.title or analysis.path.name)}</b>"]
    if analysis.error:
        return rows[0] + f"<br><span style='color:#c42b1c'>{html.escape(analysis.error)}</span>"
    facts = [analysis.kind]
    if analysis.pages is not None:
        facts.append(f"{analysis.pages} page(s)")
    facts.append(f"{analysis.words:,} words")
    if analysis.language:
        facts.append(f"language: {analysis.language}")
    rows.append(" · ".join(facts))
    if analysis.keywords:
        rows.append("Key phrases: " + ", ".join(html.escape(k) for k in analysis.keywords))
    if analysis.summary:
        start = " (of its beginning)" if analysis.summary_of_start else ""
        rows.append(f"<i>Summary{start}:</i> {html.escape(analysis.summary)}")
    return "<br>".join(rows)


class QtDocumentDetails(QWidget):
    """Shows ``show(path)``'s analysis; ``local_model()`` gives the model that summarises."""

    def __init__(
        self,
        tasks: BackgroundTasks,
        local_model: Callable[[], Completer | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks, self._local_model = tasks, local_model
        self.path: Path | None = None
        self.analysis: DocumentAnalysis | None = None
        self._task: asyncio.Task[Any] | None = None
        self.text = QLabel("Select a document to see its details.", self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summarize_button = QPushButton("Summarise with the local model", self)
        self.summarize_button.setToolTip("A short summary of this document, written offline")
        self.summarize_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addWidget(self.summarize_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.summarize_button.clicked.connect(self.summarize)

    def show_document(self, path: Path | None) -> asyncio.Task[Any] | None:
        """Analyse ``path`` in the background and show it (None clears the pane)."""
        if self._task is not None:
            self._task.cancel()
        self.path, self.analysis = path, None
        self.summarize_button.setEnabled(False)
        if path is None:
            self.text.setText("Select a document to see its details.")
            return None
        self.text.setText(f"Reading {html.escape(path.name)}…")
        self._task = self._tasks.spawn(self._analyze(path, summarize=False), name="analyze-doc")
        return self._task

    def summarize(self) -> asyncio.Task[Any] | None:
        if self.path is None:
            return None
        if self._local_model() is None:
            self.text.setText(self.text.text() + "<br>The local model is not loaded.")
            return None
        self.summarize_button.setEnabled(False)
        self.text.setText(self.text.text() + "<br><i>Summarising…</i>")
        self._task = self._tasks.spawn(self._analyze(self.path, summarize=True), name="summary")
        return self._task

    async def _analyze(self, path: Path, *, summarize: bool) -> None:
        from hybridmcp_app.documents.document_analysis import analyze_documents

        model = self._local_model() if summarize else None
        try:
            (analysis,) = await analyze_documents([path], summarize_with=model)
        except HybridMCPError as error:  # e.g. the model failed half-way
            self.text.setText(f"{html.escape(path.name)}: {html.escape(str(error))}")
            self.summarize_button.setEnabled(True)
            return
        if path != self.path:
            return  # another document was chosen meanwhile
        self.analysis = analysis
        self.text.setText(analysis_html(analysis))
        self.summarize_button.setEnabled(not analysis.error and not analysis.summary)
