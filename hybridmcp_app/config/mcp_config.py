"""The ``mcp.json`` schema: Claude Desktop's ``mcpServers`` (or VS Code's ``servers``) by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, AnyHttpUrl, ConfigDict, Field, ValidationError

from hybridmcp_app.core.errors import ConfigError, describe_validation_error
from hybridmcp_app.core.frozen_model import FrozenModel

ServerName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]


class StdioServerConfig(FrozenModel):
    """A server the app starts as a subprocess and talks to over stdin/stdout."""

    type: Literal["stdio"] = "stdio"
    command: str = Field(min_length=1)
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(
        default_factory=dict, description="Values may be ${secret:NAME} or ${env:NAME} references."
    )
    cwd: Path | None = None
    disabled: bool = False


class RemoteServerConfig(FrozenModel):
    """A server already running elsewhere, reached over Streamable HTTP or SSE."""

    url: AnyHttpUrl
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    headers: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False


class McpConfig(FrozenModel):
    """Configured MCP servers by name; reads ``mcpServers`` (Claude) or ``servers`` (VS Code)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    servers: dict[ServerName, StdioServerConfig | RemoteServerConfig] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("mcpServers", "servers"),
        serialization_alias="mcpServers",
    )

    @classmethod
    def load(cls, path: Path) -> McpConfig:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno})"
            ) from None
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ConfigError(
                f"{path.name}: " + "; ".join(describe_validation_error(error))
            ) from None
