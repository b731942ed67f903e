"""The ``mcp.json`` schema: Claude Desktop's ``mcpServers`` (or VS Code's ``servers``) by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from hybridmcp_app.config.json_limits import load_json_file
from hybridmcp_app.core.errors import ConfigError, describe_validation_error
from hybridmcp_app.core.frozen_model import FrozenModel

ServerName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]


class _ServerSwitches(FrozenModel):
    """The user's three switches, in the keys Cline and Roo use in their mcp.json.

    ``disabled`` switches the whole server off, ``disabledTools`` lists tools switched off.
    Whether a tool runs without asking takes two lists rather than one, because the default
    differs by tool: a tool annotated ``readOnlyHint`` runs without asking unless it is listed
    in ``askTools``; any other tool asks unless it is listed in ``autoApprove``. One list could
    not say "ask me about this read-only tool", and a flag such as ``autoApproveReadOnly`` would
    switch every read-only tool at once. Files that only know ``autoApprove`` (Cline, Roo) read
    the same here, and a read-only tool that also appears in ``autoApprove`` stays automatic.
    """

    # Other clients' extra keys (timeout, alwaysAllow, …) must not make a pasted config fail.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    disabled: bool = False
    disabled_tools: tuple[str, ...] = Field((), alias="disabledTools")
    auto_approve: tuple[str, ...] = Field(
        (), alias="autoApprove", description="Tools that run without asking."
    )
    ask_read_only: tuple[str, ...] = Field(
        (),
        alias="askTools",
        description="Read-only tools the user still wants to be asked about (read-only tools "
        "run without asking otherwise).",
    )

    def tool_enabled(self, tool: str) -> bool:
        return tool not in self.disabled_tools

    def tool_auto_approved(self, tool: str, read_only: bool) -> bool:
        if tool in self.auto_approve:
            return True
        return read_only and tool not in self.ask_read_only


class StdioServerConfig(_ServerSwitches):
    """A server the app starts as a subprocess and talks to over stdin/stdout."""

    type: Literal["stdio"] = "stdio"
    command: str = Field(min_length=1)
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(
        default_factory=dict, description="Values may be ${secret:NAME} or ${env:NAME} references."
    )
    cwd: Path | None = None


class OAuthClientConfig(FrozenModel):
    """How HybridMCP identifies itself to a remote server's authorization server, when not by
    dynamic registration: client credentials registered by hand for a machine-to-machine server
    (the ``client_credentials`` grant; the secret as a ``${secret:NAME}`` reference, sent only
    to ``issuer``), or a Client ID Metadata Document your organisation publishes (https)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_id: str | None = None
    client_secret: str | None = None
    issuer: AnyHttpUrl | None = None
    scope: str | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = (
        "client_secret_basic"
    )
    client_metadata_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _credentials_name_their_issuer(self) -> OAuthClientConfig:
        if self.client_secret and not (self.client_id and self.issuer):
            raise ValueError("oauth.client_secret needs oauth.client_id and oauth.issuer")
        if self.client_secret and not self.client_secret.startswith("${"):
            raise ValueError(
                "oauth.client_secret must be a ${secret:NAME} reference: keep it in the keychain"
            )
        if self.client_metadata_url and self.client_metadata_url.scheme != "https":
            raise ValueError("oauth.client_metadata_url must be an https address")
        return self


class RemoteServerConfig(_ServerSwitches):
    """A server already running elsewhere, reached over Streamable HTTP or SSE."""

    url: AnyHttpUrl
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    type: Literal["http", "streamable-http", "sse"] | None = Field(
        None, description="VS Code's way of naming the transport."
    )
    headers: dict[str, str] = Field(default_factory=dict)
    oauth: OAuthClientConfig | None = None

    @model_validator(mode="after")
    def _vs_code_type_names_the_transport(self) -> RemoteServerConfig:
        if self.type == "sse" and self.transport != "sse":
            return self.model_copy(update={"transport": "sse"})
        return self


ServerConfig = StdioServerConfig | RemoteServerConfig


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
            data = load_json_file(path)  # ConfigError over the size or nesting limit
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path.name} is not UTF-8 text") from None
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
