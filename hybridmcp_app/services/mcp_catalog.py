"""The curated, offline catalogue of MCP servers (``resources/mcp/catalog.json``): checked at
load, searched, and added to ``mcp.json`` in one step.

An entry says how its server runs (``npx``, ``uvx``, ``docker``, a remote URL, or one of ours)
and which settings it takes; a setting appears in the run's arguments, environment, headers or
URL as ``{id}``. Adding writes an ordinary ``mcp.json`` entry, switched off: a secret setting
goes into the keychain under a fresh name and the entry holds only ``${secret:NAME}``. Nothing
secret is written to the file or the log. Blocking (files, keychain): call it off the event loop.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator

from hybridmcp_app.config.json_limits import load_model_file
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.mcp_problems import require_server_name
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.errors import ConfigError, HybridMCPError, describe_validation_error
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS

log = logging.getLogger("hybridmcp.mcp.catalog")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SettingId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
EntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,39}$")]
Argument = str | tuple[str, ...]  # a tuple is left out whole when a setting it names is empty


class CatalogSetting(FrozenModel):
    """One thing the user fills in: what it is for, where to get it, whether it is secret."""

    id: SettingId
    label: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, description="What the server uses it for.")
    required: bool = False
    secret: bool = False
    kind: Literal["text", "folder", "file", "choice"] = "text"
    choices: tuple[str, ...] = ()
    default: str | None = None
    where: str = Field("", description="Where to get it (a page, or what to run).")

    @model_validator(mode="after")
    def _consistent(self) -> CatalogSetting:
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError("choices go with kind 'choice', and only with it")
        if self.secret and (self.default is not None or self.kind != "text"):
            raise ValueError("a secret is text, with no default")
        if self.choices and self.default is not None and self.default not in self.choices:
            raise ValueError("the default must be one of the choices")
        return self


class CatalogRun(FrozenModel):
    """How the server runs: a package through ``npx``/``uvx``, a Docker image, one of our
    servers (``builtin``), or a server already running at ``url``."""

    kind: Literal["npx", "uvx", "docker", "builtin", "remote"]
    package: str | None = Field(None, description="npm or PyPI package, or Docker image.")
    server: str | None = Field(None, description="builtin: the name of one of our servers.")
    url: str | None = Field(None, description="remote: the server's address.")
    remote_transport: Literal["streamable-http", "sse"] = "streamable-http"
    args: tuple[Argument, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> CatalogRun:
        needs = {"npx": "package", "uvx": "package", "docker": "package", "builtin": "server",
                 "remote": "url"}[self.kind]  # fmt: skip
        if not getattr(self, needs):
            raise ValueError(f"a {self.kind} run needs '{needs}'")
        if self.kind == "builtin" and self.server not in BUILTIN_SERVERS:
            raise ValueError(f"{self.server!r} is not one of our servers")
        if self.kind == "remote" and (self.args or self.env):
            raise ValueError("a remote server takes headers, not arguments or environment")
        if self.kind != "remote" and self.headers:
            raise ValueError("headers go with a remote server only")
        return self

    def texts(self) -> Iterator[str]:
        """Every text that may hold a ``{setting}``."""
        for argument in self.args:
            yield from (argument,) if isinstance(argument, str) else argument
        yield from self.env.values()
        yield from self.headers.values()
        if self.url:
            yield self.url


def _arg_texts(run: CatalogRun) -> Iterator[str]:
    for argument in run.args:
        yield from (argument,) if isinstance(argument, str) else argument


class CatalogEntry(FrozenModel):
    """One well-known server: who publishes it, how it runs, what it asks for, its tools."""

    id: EntryId
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    homepage: str | None = Field(None, pattern=r"^https://\S+$", description="None: ours.")
    license: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    transport: Literal["stdio", "http"]
    run: CatalogRun
    settings: tuple[CatalogSetting, ...] = ()
    read_only_tools: tuple[str, ...] = ()
    write_tools: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _settings_match_the_run(self) -> CatalogEntry:
        if (self.transport == "http") != (self.run.kind == "remote"):
            raise ValueError("transport 'http' goes with a remote run, 'stdio' with the others")
        ids = [setting.id for setting in self.settings]
        if len(set(ids)) != len(ids):
            raise ValueError("two settings share an id")
        used = {name for text in self.run.texts() for name in PLACEHOLDER.findall(text)}
        if unknown := used - set(ids):
            raise ValueError(f"the run uses unknown settings: {', '.join(sorted(unknown))}")
        if unused := set(ids) - used:
            raise ValueError(f"settings the run never uses: {', '.join(sorted(unused))}")
        secret = {setting.id for setting in self.settings if setting.secret}
        if self.run.url and secret & set(PLACEHOLDER.findall(self.run.url)):
            raise ValueError("a secret may not be part of the URL: put it in a header")
        in_args = {name for text in _arg_texts(self.run) for name in PLACEHOLDER.findall(text)}
        if secret & in_args:  # other local users read a command line; ${secret:} is env-only
            raise ValueError("a secret may not be a command-line argument: pass it in env")
        if overlap := set(self.read_only_tools) & set(self.write_tools):
            raise ValueError(f"tools both read-only and writing: {', '.join(sorted(overlap))}")
        return self

    def setting(self, setting_id: str) -> CatalogSetting:
        return next(s for s in self.settings if s.id == setting_id)


class McpCatalog(FrozenModel):
    """The catalogue file: when it was written and its servers."""

    written: date
    note: str = ""
    servers: tuple[CatalogEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> McpCatalog:
        seen: set[str] = set()
        for entry in self.servers:
            if entry.id in seen:
                raise ValueError(f"the id {entry.id!r} is used twice")
            seen.add(entry.id)
        return self


def default_catalog_path() -> Path:
    return resources_dir() / "mcp" / "catalog.json"


def load_catalog(path: Path | None = None) -> McpCatalog:
    """Read and check the catalogue; a bad file raises ``ConfigError`` in one line."""
    path = default_catalog_path() if path is None else path
    return load_model_file(path, McpCatalog, "MCP catalogue")


# ---------------------------------------------------------------------------------- search
def _score(entry: CatalogEntry, word: str) -> int:
    name = entry.name.lower()
    if name == word or entry.id == word:
        return 100
    if name.startswith(word) or entry.id.startswith(word):
        return 60
    if any(part.startswith(word) for part in re.split(r"[\s\-_/()]+", name)):
        return 40
    if word in name or word in entry.id:
        return 30
    if any(tag.lower() == word for tag in entry.tags):
        return 20
    if word in entry.publisher.lower() or any(word in tag.lower() for tag in entry.tags):
        return 15
    return 5 if word in entry.description.lower() else 0


def search(catalog: McpCatalog, query: str) -> list[CatalogEntry]:
    """Entries matching every word of ``query`` (case-insensitive) in their name, id, tags,
    publisher or description; a match in the name ranks first. An empty query: all of them."""
    words = query.lower().split()
    scored = []
    for order, entry in enumerate(catalog.servers):
        scores = [_score(entry, word) for word in words]
        if all(scores):
            scored.append((-sum(scores), order, entry))
    return [entry for *_, entry in sorted(scored, key=lambda item: item[:2])]


# ---------------------------------------------------------------------------------- adding
@dataclass(frozen=True)
class AddResult:
    """What ``add`` wrote: the server's name (``requested`` when that was taken) and the
    keychain names of its secrets."""

    name: str
    requested: str
    secret_names: tuple[str, ...]

    @property
    def message(self) -> str:
        renamed = f" ({self.requested} was taken)" if self.name != self.requested else ""
        kept = f" Its secrets are in the keychain as {', '.join(self.secret_names)}." if (
            self.secret_names
        ) else ""  # fmt: skip
        return f"Added {self.name}{renamed}, switched off: switch it on to start it.{kept}"


def runs_text(entry: CatalogEntry, python: str = "python") -> str:
    """What the server runs, as the user would type it (settings as ``{id}``)."""
    built = _entry_for(entry, {s.id: f"{{{s.id}}}" for s in entry.settings}, python)
    if "url" in built:
        sent = "; ".join(f"{key}: {value}" for key, value in built.get("headers", {}).items())
        return str(built["url"]) + (f" (headers: {sent})" if sent else "")
    env = " ".join(f"{key}={value}" for key, value in built.get("env", {}).items())
    return " ".join([built["command"], *built["args"]]) + (f" (environment: {env})" if env else "")


def check_values(entry: CatalogEntry, values: Mapping[str, str]) -> dict[str, str]:
    """The values to use (defaults filled in, blanks dropped); ``ConfigError`` naming the
    first setting that is missing or wrong."""
    unknown = set(values) - {setting.id for setting in entry.settings}
    if unknown:
        raise ConfigError(f"{entry.name} has no setting {sorted(unknown)[0]!r}")
    chosen: dict[str, str] = {}
    for setting in entry.settings:
        value = values.get(setting.id, "").strip() or (setting.default or "")
        if not value:
            if setting.required:
                raise ConfigError(f"{entry.name}: “{setting.label}” is required "
                                  f"({setting.description.rstrip('.')})")  # fmt: skip
            continue
        if CONTROL.search(value) or "${" in value:
            raise ConfigError(f"{entry.name}: “{setting.label}” may not hold line breaks, "
                              "control characters or '${'")  # fmt: skip
        if setting.choices and value not in setting.choices:
            raise ConfigError(f"{entry.name}: “{setting.label}” must be one of "
                              f"{', '.join(setting.choices)}")  # fmt: skip
        chosen[setting.id] = value
    return chosen


def _check_paths(entry: CatalogEntry, values: dict[str, str]) -> None:
    """Folders must exist; a file's folder must (the server may create the file)."""
    for setting in entry.settings:
        if setting.id not in values or setting.kind not in ("folder", "file"):
            continue
        path = Path(values[setting.id]).expanduser()
        if not path.is_absolute():
            raise ConfigError(f"{entry.name}: “{setting.label}” needs a full path")
        folder = path if setting.kind == "folder" else path.parent
        if not folder.is_dir():
            raise ConfigError(f"{entry.name}: “{setting.label}”: there is no folder {folder}")
        values[setting.id] = str(path)


def _fill(text: str, values: Mapping[str, str]) -> str | None:
    """``text`` with its settings filled in; None when one of them has no value."""
    if any(name not in values for name in PLACEHOLDER.findall(text)):
        return None
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _entry_for(entry: CatalogEntry, values: Mapping[str, str], python: str) -> dict[str, Any]:
    """The ``mcp.json`` entry (switched off) with ``values`` in place of the settings."""
    run = entry.run
    if run.kind == "remote":
        url = _fill(run.url or "", values)
        headers = {k: v for k, text in run.headers.items() if (v := _fill(text, values))}
        remote: dict[str, Any] = {"url": url, "transport": run.remote_transport}
        return {**remote, **({"headers": headers} if headers else {}), "disabled": True}
    args: list[str] = []
    for argument in run.args:
        group = (argument,) if isinstance(argument, str) else argument
        filled = [_fill(text, values) for text in group]
        if all(part is not None for part in filled):
            args.extend(part for part in filled if part is not None)
    env = {key: value for key, text in run.env.items() if (value := _fill(text, values))}
    package = run.package or ""
    if run.kind == "builtin":
        command, before = python, ["-m", BUILTIN_SERVERS[run.server or ""].module]
    elif run.kind == "docker":
        command, before = "docker", ["run", "-i", "--rm", *_pass_env(env), package]
    else:
        command, before = run.kind, (["-y", package] if run.kind == "npx" else [package])
    stdio: dict[str, Any] = {"command": command, "args": [*before, *args]}
    return {**stdio, **({"env": env} if env else {}), "disabled": True}


def _pass_env(env: Mapping[str, str]) -> list[str]:
    """Docker's ``-e NAME`` for each variable: the container gets it from the environment."""
    return [part for key in env for part in ("-e", key)]


def _secret_name(server: str, setting: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{server}_{setting}").strip("_").upper()[:120]


def _free_secret_name(base: str, secrets: SecretStore, chosen: set[str]) -> str:
    """``base``, or ``base_2``, …: never a name the keychain already holds (no overwrite)."""
    for candidate in [base] + [f"{base}_{n}" for n in range(2, 100)]:
        if candidate not in chosen and secrets.get(candidate) is None:
            return candidate
    raise ConfigError(f"no free keychain name for {base}: remove some of its old secrets")


def _server_name(source: McpJsonFile, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, … when a server of that name is already in the file."""
    for candidate in [wanted] + [f"{wanted[:60]}-{n}" for n in range(2, 100)]:
        try:
            source.entry(candidate)
        except ConfigError:  # no such server (a broken file is refused by the write)
            return candidate
    raise ConfigError(f"the names {wanted} to {wanted}-99 are all taken: choose another name")


def add(
    source: McpJsonFile,
    entry: CatalogEntry,
    values: Mapping[str, str],
    secret_values: Mapping[str, str | SecretStr],
    secrets: SecretStore,
    *,
    name: str | None = None,
    python: str | None = None,
) -> AddResult:
    """Write ``entry`` into ``source`` as a new server named ``name`` (default: its id;
    ``-2``… when taken), switched off. ``values`` are the plain settings, ``secret_values`` the
    secret ones: those go into ``secrets``, bound to the remote server's origin, and the entry
    refers to them. ``ConfigError`` (nothing written, nothing kept) names what is wrong."""
    plain = {key: (v.get_secret_value() if isinstance(v, SecretStr) else v)
             for key, v in secret_values.items()}  # fmt: skip
    for key in plain:
        if key in values or not any(s.id == key and s.secret for s in entry.settings):
            raise ConfigError(f"{entry.name}: {key!r} is not one of its secret settings")
    for key in values:
        if any(s.id == key and s.secret for s in entry.settings):
            raise ConfigError(f"{entry.name}: {key!r} is a secret: pass it as one")
    chosen = check_values(entry, {**values, **plain})
    _check_paths(entry, chosen)
    requested = name.strip() if name and name.strip() else entry.id
    require_server_name(requested)
    server = _server_name(source, requested)
    secret_ids = [s.id for s in entry.settings if s.secret and s.id in chosen]
    names: dict[str, str] = {}
    for setting_id in secret_ids:
        names[setting_id] = _free_secret_name(
            _secret_name(server, setting_id), secrets, set(names.values())
        )
    referenced = {**chosen, **{key: f"${{secret:{n}}}" for key, n in names.items()}}
    written = _entry_for(entry, referenced, python or sys.executable)
    origin = origin_of(str(written["url"])) if "url" in written else None
    stored: list[str] = []
    try:
        for setting_id, secret_name in names.items():
            secrets.set(secret_name, chosen[setting_id], origin=origin)
            stored.append(secret_name)
        source.put_server(server, written)
    except (HybridMCPError, ValidationError) as error:
        for secret_name in stored:  # leave nothing behind
            secrets.delete(secret_name)
        if isinstance(error, ValidationError):
            problems = "; ".join(describe_validation_error(error))
            raise ConfigError(f"{entry.name}: {problems}") from None
        raise
    log.info("added %s from the catalogue as %s (off); secrets: %s", entry.id, server,
             ", ".join(names.values()) or "none")  # fmt: skip
    return AddResult(server, requested, tuple(names.values()))
