"""The ``manifest.json`` of an MCP Bundle (``.mcpb``, formerly ``.dxt``), versions 0.1 to 0.3 of
the spec (github.com/modelcontextprotocol/mcpb, MANIFEST.md), and how its ``mcp_config`` becomes
a command line: ``${__dirname}``, ``${HOME}``, … and ``${user_config.KEY}`` substituted.

A manifest may use no other ``${…}``: ``${secret:…}`` and ``${env:…}`` are this app's own
references in ``mcp.json``, and a bundle that wrote them could read the user's keychain.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from hybridmcp_app.core.errors import HybridMCPError

KNOWN_VERSIONS = ("0.1", "0.2", "0.3")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_USER_CONFIG = re.compile(r"\$\{user_config\.([^}]+)\}")

UserValue = str | float | bool | list[str]


class BundleRefused(HybridMCPError):
    """A bundle that is not installed; the message says exactly why."""


class _Spec(BaseModel):
    """Manifest parts: fields this app does not use are ignored, not errors (newer clients)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Author(_Spec):
    name: str = Field(min_length=1)
    email: str | None = None
    url: str | None = None


class LaunchConfig(_Spec):
    """How to start the server: a command, its arguments and environment."""

    command: str = Field(min_length=1)
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    platform_overrides: dict[str, dict[str, object]] = Field(default_factory=dict)

    def for_platform(self, platform: str = sys.platform) -> LaunchConfig:
        """This config with ``platform_overrides[platform]`` applied."""
        override = self.platform_overrides.get(platform)
        if not override:
            return self
        return LaunchConfig.model_validate({**self.model_dump(), **override})


class Server(_Spec):
    type: Literal["node", "python", "binary", "uv"]
    entry_point: str = Field(min_length=1)
    mcp_config: LaunchConfig | None = None


class UserConfigField(_Spec):
    """A setting the user gives at install time."""

    type: Literal["string", "number", "boolean", "directory", "file"]
    title: str = Field(min_length=1)
    description: str = ""
    required: bool = False
    default: str | float | bool | list[str] | None = None
    multiple: bool = False
    sensitive: bool = False
    min: float | None = None
    max: float | None = None


class Declared(_Spec):
    """A tool or prompt as the manifest lists it."""

    name: str = Field(min_length=1)
    description: str = ""


class Compatibility(_Spec):
    platforms: tuple[str, ...] | None = None


class Manifest(_Spec):
    """The fields of ``manifest.json`` that HybridMCP reads."""

    manifest_version: str = Field(validation_alias=AliasChoices("manifest_version", "dxt_version"))
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1)
    display_name: str | None = None
    description: str = Field(min_length=1)
    author: Author
    server: Server
    user_config: dict[str, UserConfigField] = Field(default_factory=dict)
    tools: tuple[Declared, ...] = ()
    tools_generated: bool = False
    prompts: tuple[Declared, ...] = ()
    prompts_generated: bool = False
    compatibility: Compatibility | None = None
    license: str | None = None
    homepage: str | None = None

    @field_validator("manifest_version")
    @classmethod
    def _known_version(cls, version: str) -> str:
        if version not in KNOWN_VERSIONS:
            known = ", ".join(KNOWN_VERSIONS)
            raise ValueError(f"manifest_version {version!r} is not one HybridMCP knows ({known})")
        return version

    @property
    def title(self) -> str:
        return self.display_name or self.name

    def launch(self) -> LaunchConfig:
        """The ``mcp_config`` for this platform; a default one for a type that has none."""
        if self.server.mcp_config is not None:
            return self.server.mcp_config.for_platform()
        entry = "${__dirname}/" + self.server.entry_point
        if self.server.type == "uv":
            return LaunchConfig(command="uv", args=("run", "--directory", "${__dirname}", entry))
        command = {"node": "node", "python": "python", "binary": entry}[self.server.type]
        return LaunchConfig(command=command, args=() if command == entry else (entry,))


def system_variables(folder: Path) -> dict[str, str]:
    """The spec's variables other than ``user_config``: the bundle's folder, the home folders."""
    home = Path.home()
    return {
        "__dirname": str(folder),
        "HOME": str(home),
        "DESKTOP": str(home / "Desktop"),
        "DOCUMENTS": str(home / "Documents"),
        "DOWNLOADS": str(home / "Downloads"),
        "pathSeparator": "/" if sys.platform != "win32" else "\\",
        "/": "/" if sys.platform != "win32" else "\\",
    }


def substitute(text: str, variables: Mapping[str, str], *, where: str) -> str:
    """``text`` with every ``${NAME}`` of ``variables`` replaced; any other is refused."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise BundleRefused(f"{where} uses ${{{name}}}, which bundles may not use")
        return variables[name]

    return _VARIABLE.sub(replace, text)


def check_variables(manifest: Manifest) -> None:
    """Refuse a manifest whose command line or defaults use a variable outside the spec."""
    allowed = {*system_variables(Path()), *(f"user_config.{k}" for k in manifest.user_config)}
    launch = manifest.launch()
    texts = [("the command", launch.command)]
    texts += [(f"argument {i + 1}", arg) for i, arg in enumerate(launch.args)]
    texts += [(f"env {key}", value) for key, value in launch.env.items()]
    for key, field in manifest.user_config.items():
        defaults = field.default if isinstance(field.default, list) else [field.default]
        texts += [(f"the default of {key}", d) for d in defaults if isinstance(d, str)]
    for where, text in texts:
        for match in _VARIABLE.finditer(text):
            if match.group(1) not in allowed:
                raise BundleRefused(f"{where} uses {match.group(0)}, which bundles may not use")
    for key, field in manifest.user_config.items():
        if field.sensitive and field.type != "string":
            raise BundleRefused(f"user_config {key}: only a string setting can be sensitive")


def user_config_keys(text: str) -> list[str]:
    """The ``user_config`` keys that ``text`` refers to."""
    return _USER_CONFIG.findall(text)
