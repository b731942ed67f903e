"""The first-run wizard over the running app: opened over the servers ``mcp.json`` lists now,
and its answers applied — settings, folders to index, MCP server switches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from hybridmcp_app.config.first_run import FirstRunChoices, settings_after, settings_after_skip
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.services.app_services import AppServices

if TYPE_CHECKING:  # loaded when the wizard first opens: the model picker, the providers editor
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.ui.first_run.qt_first_run_wizard import QtFirstRunWizard

log = logging.getLogger("hybridmcp.ui")


class QtFirstRunSetup:
    """Opens the wizard (``open``) and carries out its answers (``apply``)."""

    def __init__(
        self,
        parent: QWidget,
        context: AppServices,
        apply_settings: Callable[[Settings], None],
        watch_folder: Callable[[Path], object],
    ) -> None:
        self._parent = parent
        self._context = context
        self._apply_settings = apply_settings
        self._watch_folder = watch_folder

    def open(self) -> asyncio.Task[QtFirstRunWizard]:
        return self._context.tasks.spawn(self._open(), name="first-run-setup")

    async def _open(self) -> QtFirstRunWizard:
        from hybridmcp_app.llm.provider_catalog import load_presets
        from hybridmcp_app.ui.first_run.qt_first_run_wizard import QtFirstRunWizard

        context = self._context
        contents = await asyncio.to_thread(self._mcp_file().read)
        wizard = QtFirstRunWizard(
            context.settings,
            context.secrets,
            context.tasks,
            context.local_model,
            load_presets(resources_dir()),
            {name: not config.disabled for name, config in contents.servers.items()},
            home=Path.home(),
            app_models_dir=context.paths.data_dir / "models",
            probe=context.providers.probe,
            servers_problem="; ".join(contents.problems) or None,
            parent=self._parent,
        )
        wizard.chosen.connect(self.apply)
        wizard.skipped.connect(
            lambda: self._apply_settings(settings_after_skip(self._context.settings))
        )
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.open()
        log.info("first-run setup shown")
        return wizard

    def apply(self, choices: FirstRunChoices) -> None:
        """Save the answers: settings, then folders to index, then server switches."""
        self._apply_settings(settings_after(self._context.settings, choices))
        # Without a watcher yet, the library picks the folders up from the settings when it
        # opens; with one, they are indexed now (a folder that went away is a banner).
        for folder in choices.folders:
            self._watch_folder(folder)
        self._context.tasks.spawn(self._switch_servers(choices.servers), name="mcp-switches")

    async def _switch_servers(self, switches: Mapping[str, bool]) -> None:
        """Flip the switches that changed: through the host (which starts or stops the server)
        once it exists, in the file before that (the host reads it when it starts)."""
        source = self._mcp_file()
        current = await asyncio.to_thread(source.read)
        host = self._context.mcp_host
        for name, enabled in switches.items():
            config = current.servers.get(name)
            if config is None or config.disabled != enabled:
                continue
            if host is None:
                await asyncio.to_thread(source.set_server_enabled, name, enabled)
            else:
                await host.set_enabled(name, enabled)

    def _mcp_file(self) -> McpJsonFile:
        """The host's own, or (before the host is built) the same file as it will read."""
        from hybridmcp_app.config.mcp_json_file import McpJsonFile
        from hybridmcp_app.mcp_host.builtin_servers import builtin_entries

        host = self._context.mcp_host
        return (
            host.source
            if host is not None
            else McpJsonFile(self._context.mcp_config_file, builtin_entries())
        )
