"""What the first-run wizard asks for, and how the answers change the settings.

The wizard (``ui/first_run/qt_first_run_wizard.py``) collects ``FirstRunChoices``;
``settings_after`` turns them into the new ``Settings`` (no I/O). Keys go to the keychain and MCP
switches to ``mcp.json`` through the services that own them, not through the settings file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.llm_configs import ProvidersConfig


class FirstRunChoices(FrozenModel):
    """The answers of one pass through the wizard."""

    model_path: Path | None = Field(None, description="A GGUF file; None: the embedded model.")
    providers: ProvidersConfig = Field(default_factory=ProvidersConfig)
    folders: tuple[Path, ...] = Field((), description="Folders to watch and index.")
    servers: Mapping[str, bool] = Field(
        default_factory=dict, description="MCP servers switched on (True) or off (False)."
    )
    workspace_roots: tuple[Path, ...] = Field(
        (), description="Folders chosen for the workspace server; none: those kept as they were."
    )


def settings_after(settings: Settings, choices: FirstRunChoices) -> Settings:
    """``settings`` with the wizard's answers in, and the first run marked done.

    Folders are added to those already watched (in order, without repeats); the model and the
    providers replace what was there, as the wizard showed them."""
    local = settings.llm.local.model_copy(update={"model_path": choices.model_path})
    folders = tuple(dict.fromkeys((*settings.documents.watch_folders, *choices.folders)))
    roots = choices.workspace_roots or settings.mcp.workspace_roots
    return settings.model_copy(
        update={
            "llm": settings.llm.model_copy(update={"local": local}),
            "mcp": settings.mcp.model_copy(update={"workspace_roots": roots}),
            "providers": choices.providers,
            "documents": settings.documents.model_copy(update={"watch_folders": folders}),
            "ui": settings.ui.model_copy(update={"first_run_completed": True}),
        }
    )


def settings_after_skip(settings: Settings) -> Settings:
    """Skipping the wizard changes nothing but that it is not shown again."""
    return settings.model_copy(
        update={"ui": settings.ui.model_copy(update={"first_run_completed": True})}
    )
