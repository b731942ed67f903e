"""A small form of text arguments (a resource template's, a prompt's): required ones marked,
each field completed by the server as the user types (``completion/complete``)."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QCompleter, QFormLayout, QLabel, QLineEdit, QWidget

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.mcp_host.mcp_items import McpPromptArgument

# (argument, typed value, the other values) → the server's suggestions
Complete = Callable[[str, str, dict[str, str]], Awaitable[list[str]]]


class QtArgumentForm(QWidget):
    """One line per argument; ``values()`` is what was typed."""

    def __init__(
        self,
        arguments: Sequence[McpPromptArgument],
        complete: Complete,
        tasks: BackgroundTasks,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._complete, self._tasks = complete, tasks
        self.fields: dict[str, QLineEdit] = {}
        self._models: dict[str, QStringListModel] = {}
        self._asked: dict[str, asyncio.Task[None]] = {}
        layout = QFormLayout(self)
        for argument in arguments:
            field = QLineEdit(self)
            field.setPlaceholderText(argument.description or argument.name)
            field.setToolTip(argument.description)
            model = QStringListModel(self)
            completer = QCompleter(model, field)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            field.setCompleter(completer)
            field.textEdited.connect(lambda text, name=argument.name: self.suggest(name, text))
            self.fields[argument.name], self._models[argument.name] = field, model
            name = html.escape(argument.name)
            label = QLabel(f"<b>{name}</b> *" if argument.required else name, self)
            label.setToolTip("required" if argument.required else "optional")
            layout.addRow(label, field)
        for name in self.fields:  # what each field may hold, before anything is typed
            self.suggest(name, "")

    def values(self) -> dict[str, str]:
        return {name: field.text() for name, field in self.fields.items()}

    def suggestions(self, name: str) -> list[str]:
        return list(self._models[name].stringList())

    def suggest(self, name: str, value: str) -> asyncio.Task[None]:
        """Ask the server for ``name``'s completions of ``value`` (the latest ask wins)."""
        previous = self._asked.get(name)
        if previous is not None and not previous.done():
            previous.cancel()
        given = {other: text for other, text in self.values().items() if other != name and text}
        task = self._tasks.spawn(self._fill(name, value, given), name="mcp-complete")
        self._asked[name] = task
        return task

    async def _fill(self, name: str, value: str, given: dict[str, str]) -> None:
        found = await self._complete(name, value, given)
        field = self.fields[name]
        self._models[name].setStringList(found)
        if found and value and field.hasFocus() and field.text() == value:  # typed: show them
            completer = field.completer()
            completer.setCompletionPrefix(value)
            completer.complete()

    def pending(self) -> bool:
        return any(not task.done() for task in self._asked.values())
