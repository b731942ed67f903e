"""The Chat tab: one prompt, the local and provider answers side by side, with the hybrid trace.

Wraps a Qt-free ``ChatSession``. Streamed text reaches the panes once per frame; a pane turns
its answer into Markdown when it is finished. Stop (Esc) cancels every leg.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
from collections.abc import AsyncGenerator, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.llm.embedded_models import embedded_by_label
from hybridmcp_app.llm.local_model_service import (
    LocalModelService,
    LocalModelState,
    LocalModelStatus,
)
from hybridmcp_app.orchestration.conversation import ConversationRecord, ServerPrompt, about_lines
from hybridmcp_app.orchestration.conversation_export import transcript_markdown
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    HybridTrace,
    LegEvent,
    LegStarted,
    RunCompleted,
)
from hybridmcp_app.orchestration.library_sources import LibrarySearch, SourcesFound
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.orchestration.strategy_registry import StrategyRegistry
from hybridmcp_app.orchestration.tool_events import ToolCallFinished, ToolCallStarted
from hybridmcp_app.orchestration.tool_offer import tool_meter
from hybridmcp_app.orchestration.trace_audit import audit_of
from hybridmcp_app.services.chat_session import ChatSession
from hybridmcp_app.services.mcp_prompts import PromptTurn
from hybridmcp_app.services.turn_runner import ChatEvent
from hybridmcp_app.ui.chat.markdown_html import MarkdownHtml
from hybridmcp_app.ui.chat.qt_answer_pane import QtAnswerPane, is_dark
from hybridmcp_app.ui.chat.qt_answer_panes import QtAnswerPanes
from hybridmcp_app.ui.chat.qt_mcp_chat_bar import QtMcpChatBar
from hybridmcp_app.ui.chat.qt_sources_panel import QtSourcesPanel
from hybridmcp_app.ui.chat.qt_tool_picker import QtToolPicker

if TYPE_CHECKING:  # run_context brings numpy: not at start-up
    from hybridmcp_app.orchestration.run_context import ToolUse

log = logging.getLogger("hybridmcp.ui.chat")
TRANSCRIPT_SHARE = 0.6  # at most this much of the height goes to earlier turns
# Plain answers, no hybrid pane; any other strategy (or one no longer registered) gets one.
NOT_HYBRID_KINDS = frozenset({"local", "provider", "side_by_side"})


def outcome_line(trace: HybridTrace) -> str:
    """One line under the answers: what the provider read and what it was spared, or that no
    provider took part (then nothing was sent, and nothing is counted as saved)."""
    if trace.provider is None:
        return f"{trace.strategy}: answered on this computer; no provider is set up"
    if not trace.provider_legs:
        spared = trace.prompt_tokens_saved
        return f"{trace.strategy}: answered on this computer; the provider was not called" + (
            f" (spared {spared} prompt tokens)" if trace.saving != "none" else ""
        )
    cost = f" · cost ${trace.cost_usd:.5f}" if trace.cost_usd is not None else ""
    return (
        f"{trace.strategy}: provider read {trace.provider_prompt_tokens} prompt "
        f"tokens of {trace.baseline_prompt_tokens} (saved {trace.prompt_tokens_saved}){cost}"
    )


class QtChatView(QWidget):
    """Prompt box, one answer pane per model, notes of what the hybrid did."""

    turn_finished = Signal()

    def __init__(
        self,
        session: ChatSession,
        local_model: LocalModelService,
        tasks: BackgroundTasks,
        *,
        local_config: Callable[[], LocalLLMConfig],
        default_strategy: str,
        open_settings: Callable[[], object],
        tool_use: Callable[[str | None], ToolUse | None] = lambda _forced: None,
        library: Callable[[], LibrarySearch | None] = lambda: None,
        open_source: Callable[[Path, int | None], object] | None = None,
        strategies: StrategyRegistry = STRATEGIES,
        parent: QWidget | None = None,
    ) -> None:
        """``tool_use(forced_tool)`` gives the MCP tools a turn may call (None: none yet);
        ``library()`` the document library once it is open; ``open_source(path, page)`` shows
        a cited document; ``strategies`` fill the strategy combo, in their order."""
        super().__init__(parent)
        self._strategies = strategies
        self._session, self._local_model, self._tasks = session, local_model, tasks
        self._local_config = local_config
        self._tool_use = tool_use
        self._library = library
        self._task: asyncio.Task[None] | None = None
        self._answering = False
        self._markdown: MarkdownHtml | None = None
        self._server_prompt: ServerPrompt | None = None  # the /command being asked

        self.model_label = QLabel(self)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.load_button = QPushButton(self)
        self.load_button.setToolTip("Free the local model's memory, or load it again")
        self.strategy = QComboBox(self)
        for strategy in strategies:
            self.strategy.addItem(strategy.label, strategy.name)
        self.strategy.setToolTip("How the local model and the provider work together")
        self.continue_text = QCheckBox("Continue text", self)
        self.continue_text.setToolTip("Local only: send the text as it is, for a base model")
        self.tools = QtToolPicker(self)
        self.use_library = QCheckBox("Use library", self)
        self.use_library.setToolTip(
            "Answer from your documents (Ctrl+L): the closest passages go to the model as "
            "context and are listed as sources under the answers"
        )
        self.provider_label = QLabel(self)
        self.add_provider = QPushButton("Add a provider…", self)
        self.add_provider.setToolTip(
            "Settings → Providers: a preset, your key (kept in the keychain), a test"
        )
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setProperty("role", "empty-body")
        self.transcript = QTextBrowser(self)
        self.transcript.setOpenExternalLinks(True)
        self.transcript.setToolTip("Earlier turns of this conversation")
        self.transcript.hide()
        self.prompt_echo = QLabel(self)
        self.prompt_echo.setWordWrap(True)
        self.prompt_echo.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt_echo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prompt_echo.setMaximumHeight(80)
        self.splitter = QtAnswerPanes(self)
        self._panes = self.splitter.panes  # by leg: the splitter's own dict
        current = QWidget(self)
        current_layout = QVBoxLayout(current)
        current_layout.setContentsMargins(0, 0, 0, 0)
        current_layout.addWidget(self.prompt_echo)
        current_layout.addWidget(self.splitter, 1)
        self.sources = QtSourcesPanel(open_source, self)
        current_layout.addWidget(self.sources)
        self.turns_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.turns_splitter.addWidget(self.transcript)
        self.turns_splitter.addWidget(current)
        self.turns_splitter.setStretchFactor(1, 3)
        self.turns_splitter.setChildrenCollapsible(False)
        self.trace = QLabel(self)
        self.trace.setWordWrap(True)
        self.trace.setTextFormat(Qt.TextFormat.PlainText)
        self.trace.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prompt = QPlainTextEdit(self)
        self.prompt.setPlaceholderText("Ask…  (Ctrl+Enter sends, Esc stops)")
        self.prompt.setMaximumHeight(110)
        self.send_button = QPushButton("Send", self)
        self.send_button.setToolTip("Ask every model of the strategy at once (Ctrl+Enter)")
        self.mcp = QtMcpChatBar(self.prompt, tasks, self.send_prompt_turn, self)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop every answer at its next token (Esc)")
        self.stop_button.setEnabled(False)
        new_chat = QPushButton("New chat", self)
        new_chat.setToolTip("Start an empty conversation; this one stays in the history")
        self.regenerate_button = QPushButton("Regenerate", self)
        self.regenerate_button.setToolTip("Ask the last prompt again with the chosen strategy")

        model_row = QHBoxLayout()
        for widget in (self.model_label, self.busy, self.load_button):
            model_row.addWidget(widget, 1 if widget is self.model_label else 0)
        strategy_row = QHBoxLayout()
        strategy_row.addWidget(QLabel("Strategy:", self))
        strategy_row.addWidget(self.strategy)
        strategy_row.addWidget(self.continue_text)
        strategy_row.addWidget(QLabel("Tools:", self))
        strategy_row.addWidget(self.tools)
        strategy_row.addWidget(self.use_library)
        strategy_row.addStretch(1)
        strategy_row.addWidget(self.provider_label)
        strategy_row.addWidget(self.add_provider)
        buttons = QVBoxLayout()
        for button in (self.send_button, self.stop_button, self.regenerate_button, new_chat):
            buttons.addWidget(button)
        buttons.addStretch(1)
        entry = QHBoxLayout()
        entry.addWidget(self.prompt, 1)
        entry.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(model_row)
        layout.addLayout(strategy_row)
        layout.addWidget(self.note)
        layout.addWidget(self.turns_splitter, 1)
        layout.addWidget(self.trace)
        layout.addLayout(entry)
        layout.addWidget(self.mcp)

        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        new_chat.clicked.connect(self.new_chat)
        self.regenerate_button.clicked.connect(self.regenerate)
        self.load_button.clicked.connect(self.toggle_loaded)
        self.add_provider.clicked.connect(open_settings)
        self.strategy.currentIndexChanged.connect(lambda _: self._refresh())
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.prompt, self.send).setWhatsThis("Send the prompt")
        # Window-wide while this tab shows.
        QShortcut(QKeySequence("Esc"), self, self.stop).setWhatsThis("Stop every answer")
        QShortcut(QKeySequence("Ctrl+L"), self, self.use_library.toggle).setWhatsThis(
            "Answer from the library on or off"
        )
        attach = QShortcut(QKeySequence("Ctrl+Shift+A"), self, lambda: self.mcp.open_picker())
        attach.setWhatsThis("Attach an MCP resource to the prompt")
        local_model.subscribe(lambda _status: self._refresh())
        self.select_strategy(default_strategy)
        self._refresh()

    # ------------------------------------------------------------------ state
    @property
    def answering(self) -> bool:
        return self._answering

    @property
    def strategy_name(self) -> str:
        return str(self.strategy.currentData())

    def _is_hybrid(self, strategy: str) -> bool:
        return self._strategies.kind(strategy) not in NOT_HYBRID_KINDS

    def select_strategy(self, name: str) -> None:
        index = self.strategy.findData(name)
        if index >= 0:
            self.strategy.setCurrentIndex(index)

    def settings_changed(self) -> None:
        """Settings were saved: show the provider (and the rest) as they are now."""
        self._refresh()

    def _refresh(self) -> None:
        status: LocalModelStatus = self._local_model.status
        loading = status.state is LocalModelState.LOADING
        if loading:
            self.model_label.setText(f"Loading <b>{html.escape(status.label)}</b>…")
        elif status.state is LocalModelState.READY:
            self.model_label.setText(f"Local model: <b>{html.escape(status.label)}</b>")
        else:
            self.model_label.setText("No local model loaded: choose one in Settings → Local model")
        self.load_button.setText("Unload" if status.state is LocalModelState.READY else "Load")
        self.load_button.setEnabled(not loading and not self._answering)
        self.busy.setVisible(loading or self._answering)
        availability = self._session.availability()
        if availability.provider:
            problem = availability.provider_problem
            suffix = f" ({html.escape(problem)})" if problem else ""
            name = html.escape(availability.provider)
            self.provider_label.setText(f"Provider: <b>{name}</b>{suffix}")
        else:
            self.provider_label.setText("No provider yet")
        self.add_provider.setVisible(availability.provider is None)
        local_only = self.strategy_name == "local"
        backend = self._local_model.backend
        self.continue_text.setEnabled(local_only)
        if backend is not None and not backend.capabilities.has_chat_template and local_only:
            self.continue_text.setChecked(True)
        embedded = embedded_by_label(status.label) if status.label else None
        notes = [embedded.note] if embedded is not None else []
        if status.error:
            notes.append(f"<span style='color:#c42b1c'>{html.escape(status.error)}</span>")
        self.note.setText("<br>".join(notes))
        self.note.setVisible(bool(notes))
        self.send_button.setEnabled(not self._answering)
        self.stop_button.setEnabled(self._answering)
        self.regenerate_button.setEnabled(
            not self._answering and bool(self._session.conversation.turns)
        )

    # ------------------------------------------------------------------ commands
    def toggle_loaded(self) -> asyncio.Task[object]:
        if self._local_model.status.state is LocalModelState.READY:
            return self._tasks.spawn(self._local_model.unload(), name="unload-local-model")
        return self._tasks.spawn(
            self._local_model.try_load(self._local_config()), name="load-local-model"
        )

    def send(self) -> asyncio.Task[None] | None:
        """Ask with the chosen strategy; returns the running task (None if nothing to do)."""
        text = self.prompt.toPlainText().strip()
        if not text or self._answering:
            return None
        self.prompt.clear()
        context, origin, self._server_prompt = self.mcp.context(), self._server_prompt, None
        asking = partial(self._session.ask, text, self.strategy_name, raw=self._raw(),
                         context=context, server_prompt=origin)  # fmt: skip
        return self._start([f"You: {text}", *about_lines(origin, context)], asking)

    def send_prompt_turn(self, turn: PromptTurn) -> asyncio.Task[None] | None:
        """Ask a server prompt (a ``/command``): its earlier messages, then its question."""
        self.prompt.setPlainText(turn.prompt)
        self._server_prompt = turn.server_prompt()
        return self.send()

    def regenerate(self) -> asyncio.Task[None] | None:
        """Ask the last turn again as it was sent (with its server prompt's messages and its
        attachments), with the chosen strategy."""
        turns = self._session.conversation.turns
        if not turns or self._answering:
            return None
        asking = partial(self._session.regenerate, self.strategy_name, raw=self._raw())
        return self._start([f"You: {turns[-1].prompt}", *turns[-1].about()], asking)

    def _raw(self) -> bool:
        return self.continue_text.isChecked() and self.strategy_name == "local"

    def _start(
        self, echo: list[str], asking: Callable[..., AsyncGenerator[ChatEvent, None]]
    ) -> asyncio.Task[None]:
        self._clear_panes()
        conversation = self._session.conversation
        self._show_transcript(conversation, len(conversation.turns))
        self.prompt_echo.setText("\n".join(echo))
        self._task = self._tasks.spawn(self._run(asking), name="chat-turn")
        self._set_answering(True)
        return self._task

    def show_conversation(self, conversation: ConversationRecord) -> None:
        """Show an opened conversation: earlier turns above, the last turn's answers in panes."""
        self._clear_panes()
        self._show_transcript(conversation, max(0, len(conversation.turns) - 1))
        if not conversation.turns:
            self.prompt_echo.clear()
            self.trace.setText("Empty conversation.")
            return
        turn = conversation.turns[-1]
        self.prompt_echo.setText("\n".join([f"You: {turn.prompt}", *turn.about()]))
        self.sources.show_sources(turn.sources)
        for record in turn.panes:
            self._pane(record.leg, record.backend, record.role).restore(record)
        final = self._panes.get(turn.chosen_leg or "")
        if final is not None and self._is_hybrid(turn.strategy):
            final.set_hybrid(True)
            final.set_trace(list(turn.notes))
        self.trace.setText(
            f"“{conversation.title}”, {len(conversation.turns)} turn(s) — last with "
            f"{turn.strategy}, saved {turn.tokens_saved} provider prompt tokens"
        )
        self._refresh()

    def stop(self) -> None:
        if self._answering and self._task is not None:
            self._task.cancel()

    def new_chat(self) -> None:
        self.stop()
        self._session.new_conversation()
        self._clear_panes()
        self._show_transcript(self._session.conversation, 0)
        self.prompt_echo.clear()
        self.trace.setText("New conversation.")

    def continue_from(self, leg: str) -> None:
        conversation = self._session.conversation
        if not conversation.turns:
            return
        self._session.conversation = conversation.branch(conversation.turns[-1].id, leg)
        self.trace.setText(
            f"Continuing from the {leg} answer, in a new branch of the conversation."
        )

    def _show_transcript(self, conversation: ConversationRecord, upto: int) -> None:
        if upto == 0:
            self.transcript.clear()
            self.transcript.hide()
            return
        self.transcript.setHtml(self._renderer().render(transcript_markdown(conversation, upto)))
        self.transcript.show()
        self._fit_transcript()
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _fit_transcript(self) -> None:
        """Earlier turns get the height they need, up to ``TRANSCRIPT_SHARE`` of the room (then
        they scroll); the answers below get the rest."""
        total = sum(self.turns_splitter.sizes()) or self.turns_splitter.height()
        frame = 2 * self.transcript.frameWidth()
        scroll_bar = self.transcript.verticalScrollBar().sizeHint().width()
        document = self.transcript.document()
        document.setTextWidth(max(1, self.turns_splitter.width() - frame - scroll_bar))
        needed = math.ceil(document.size().height()) + frame
        height = min(needed, int(total * TRANSCRIPT_SHARE))
        self.turns_splitter.setSizes([height, max(0, total - height)])

    async def _run(self, asking: Callable[..., AsyncGenerator[ChatEvent, None]]) -> None:
        notes: list[str] = []
        try:
            tools = self._tool_use(self.tools.forced_tool) if self.tools.choice else None
            library = self._library() if self.use_library.isChecked() else None
            if self.use_library.isChecked() and library is None:
                notes.append("the library is not open yet: answering without it")
                self.trace.setText("\n".join(notes))
            async for event in asking(tools=tools, library=library):
                if isinstance(event, SourcesFound):
                    self.sources.show_sources(event.sources)
                    found = len(event.sources)
                    notes.append(
                        f"library: {found} passage(s) given to the model"
                        if found
                        else "library: no passage matched the question"
                    )
                    self.trace.setText("\n".join(notes))
                elif isinstance(event, LegStarted):
                    self._pane(event.leg, event.backend, event.role)
                elif isinstance(event, LegEvent):
                    self.splitter.show_leg_event(event)
                elif isinstance(event, ToolCallStarted | ToolCallFinished):
                    self.splitter.show_tool_call(event)
                elif isinstance(event, DecisionNote):
                    notes.append(event.text)
                    self.trace.setText("\n".join(notes))
                elif isinstance(event, RunCompleted):
                    self._show_outcome(event, notes)
        except asyncio.CancelledError:
            self.splitter.fail_all("stopped")
            raise
        except HybridMCPError as error:
            self.trace.setText(f"⚠ {error}")
        finally:
            self._set_answering(False)
            self.turn_finished.emit()

    def _show_outcome(self, event: RunCompleted, notes: list[str]) -> None:
        trace = event.trace
        summary = outcome_line(trace)
        self.trace.setText("\n".join([*notes, summary]))
        self.mcp.show_tool_tokens(tool_meter(trace))
        final = self._panes.get(trace.final_leg or "")
        if final is not None and self._is_hybrid(trace.strategy):
            final.set_hybrid(True)
            final.set_trace([*notes, summary])
            final.footer.setText(
                f"{final.footer.text()} · saved {trace.prompt_tokens_saved} provider tokens"
            )
        # With a provider, the audit goes under the final answer (else the provider's).
        legs = [trace.final_leg, *(leg.leg for leg in trace.provider_legs)]
        audited = next((self._panes[leg] for leg in legs if leg in self._panes), None)
        if audited is not None and trace.provider is not None:
            audited.set_audit(audit_of(trace))

    # ------------------------------------------------------------------ panes
    def _pane(self, leg: str, backend: str, role: str) -> QtAnswerPane:
        local = self._local_model.backend
        if local is not None and backend == local.name:
            backend = self._local_model.status.label or backend  # the model, not "local"
        pane = self.splitter.add(leg, backend, role, self._renderer())
        pane.continue_requested.connect(self.continue_from)
        return pane

    def _renderer(self) -> MarkdownHtml:
        """One Markdown renderer for every pane (rebuilt if the theme changed)."""
        dark = is_dark(self)
        if self._markdown is None or self._markdown.dark != dark:
            self._markdown = MarkdownHtml(dark=dark)
        return self._markdown

    def _clear_panes(self) -> None:
        self.sources.show_sources(())
        self.splitter.clear()

    def _set_answering(self, answering: bool) -> None:
        self._answering = answering
        self.splitter.set_streaming(answering)
        self._refresh()
