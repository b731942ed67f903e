"""An MCP Registry ``server.json`` (schema 2025-12-11, served by the Registry API v0.1) as
catalogue entries (``services.mcp_catalog.CatalogEntry``), one per way it can run here.

An npm package runs through ``npx``, a PyPI one through ``uvx``, an OCI image through
``docker``, and a remote (streamable-http or sse, https only) is reached by its URL. Inputs the
user fills in (environment variables, headers, arguments without a fixed value, ``{variables}``)
become settings, secret where the registry says so. Whatever cannot be mapped (another package
type, runtime arguments, a secret on the command line, a text that could reach the keychain,
a malformed document) is left out with the reason, never raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hybridmcp_app.core.errors import describe_validation_error
from hybridmcp_app.services.mcp_catalog import (
    PLACEHOLDER,
    Argument,
    CatalogEntry,
    CatalogRun,
    CatalogSetting,
)

NOT_REVIEWED = "From the MCP Registry, not reviewed by HybridMCP: read what it runs first."
MAX_SETTINGS = 40
Runner = Literal["npx", "uvx", "docker"]
RUNNERS: dict[str, tuple[Runner, str]] = {
    "npm": ("npx", "npm package"),
    "pypi": ("uvx", "PyPI package"),
    "oci": ("docker", "Docker image"),
}
PACKAGE_NAMES = {
    "npm": re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]{0,213}$"),
    "pypi": re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,200}[A-Za-z0-9])?$"),
    "oci": re.compile(r"^[a-z0-9][a-z0-9._/:@-]{0,250}$"),
}
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
FLAG = re.compile(r"^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
UNSAFE = re.compile(r"[\x00-\x1f\x7f]|\$\{")  # control characters, or a ${secret:…} reference
VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RawInput(_Raw):
    """The spec's ``Input`` (with ``variables``): what a client asks the user for."""

    description: str = ""
    isRequired: bool = False
    format: str = "string"
    value: str | None = None
    isSecret: bool = False
    default: str | None = None
    choices: list[str] | None = None
    variables: dict[str, RawInput] = Field(default_factory=dict)


class RawArgument(RawInput):
    type: str
    name: str | None = None
    valueHint: str | None = None


class RawKeyValue(RawInput):
    name: str


class RawTransport(_Raw):
    type: str = "stdio"
    url: str | None = None
    headers: list[RawKeyValue] = Field(default_factory=list)
    variables: dict[str, RawInput] = Field(default_factory=dict)


class RawPackage(_Raw):
    registryType: str
    identifier: str
    version: str | None = None
    transport: RawTransport = Field(default_factory=RawTransport)
    runtimeArguments: list[Any] = Field(default_factory=list)
    packageArguments: list[RawArgument] = Field(default_factory=list)
    environmentVariables: list[RawKeyValue] = Field(default_factory=list)


class RawRepository(_Raw):
    url: str = ""


class RawServer(_Raw):
    """The parts of ``server.json`` read here; ``packages``/``remotes`` are checked one by one."""

    name: str = Field(pattern=r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$", min_length=3, max_length=200)
    description: str = ""
    title: str | None = None
    version: str = ""
    repository: RawRepository | None = None
    websiteUrl: str | None = None
    packages: list[Any] = Field(default_factory=list, max_length=50)
    remotes: list[Any] = Field(default_factory=list, max_length=50)


class RegistryEntry(CatalogEntry):
    """A catalogue entry made from the MCP Registry: its name there, version and way to run."""

    registry_name: str
    version: str = ""
    way: str = Field(description="npm package, PyPI package, Docker image or remote (…).")


@dataclass(frozen=True)
class RegistryServer:
    """One server of the registry: the entries it maps to, and what was left out and why."""

    name: str
    title: str
    description: str
    entries: tuple[RegistryEntry, ...]
    skipped: tuple[str, ...] = ()


class Unmappable(Exception):
    """This way of running the server cannot be written as a catalogue entry (the reason)."""


def _clean(text: str, limit: int) -> str:
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())[:limit]


def _slug(text: str, pattern: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", pattern, text.lower()).strip(pattern)[:limit].strip(pattern)
    return slug if slug[:1].isalnum() else ""


@dataclass
class _Form:
    """The settings collected for one entry, with unique ids."""

    settings: list[CatalogSetting] = field(default_factory=list)

    def ask(self, name: str, raw: RawInput, secret: bool = False) -> str:
        """A setting for the input ``name``; its ``{id}`` placeholder."""
        if len(self.settings) >= MAX_SETTINGS:
            raise Unmappable(f"it asks for more than {MAX_SETTINGS} settings")
        base = _slug(name, "_", 36)
        base = base if base[:1].isalpha() else f"s_{base}".rstrip("_")
        taken = {setting.id for setting in self.settings}
        setting_id = next(c for c in [base] + [f"{base}_{n}" for n in range(2, 99)]
                          if c not in taken)  # fmt: skip
        secret = secret or raw.isSecret
        choices = tuple(_literal(c, name) for c in raw.choices or ())
        default = None if secret or raw.default is None else _literal(raw.default, name)
        if choices and default not in choices:
            default = None
        what = _clean(raw.description, 400) or f"{name} (the registry says no more)"
        try:
            self.settings.append(CatalogSetting(
                id=setting_id, label=_clean(name, 60) or setting_id, description=what,
                required=raw.isRequired, secret=secret, kind="choice" if choices else "text",
                choices=choices, default=default,
            ))  # fmt: skip
        except ValidationError as error:
            raise Unmappable(f"{name}: {'; '.join(describe_validation_error(error))}") from None
        return f"{{{setting_id}}}"


def _literal(text: str, where: str) -> str:
    """A fixed text from the registry: no control characters, no ``${…}`` (a keychain
    reference would send one of the user's secrets to this server), no ``{setting}``."""
    if UNSAFE.search(text) or PLACEHOLDER.search(text):
        raise Unmappable(f"{where}: its value holds control characters, '${{' or '{{name}}'")
    return text


def _template(raw: RawInput, name: str, form: _Form, secret: bool = False) -> str:
    """``raw.value`` with each ``{variable}`` a setting; no value: the input is a setting."""
    if raw.value is None:
        return form.ask(name, raw, secret)
    if UNSAFE.search(raw.value):
        raise Unmappable(f"{name}: its value holds control characters or '${{'")
    asked: dict[str, str] = {}

    def setting(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in raw.variables:
            raise Unmappable(f"{name} uses {{{variable}}}, which it does not define")
        if variable not in asked:
            asked[variable] = form.ask(variable, raw.variables[variable], secret or raw.isSecret)
        return asked[variable]

    filled = VARIABLE.sub(setting, raw.value)
    if not asked:
        return _literal(filled, name)
    return filled


def _secret_ids(form: _Form) -> set[str]:
    return {setting.id for setting in form.settings if setting.secret}


def _arguments(arguments: list[RawArgument], form: _Form) -> tuple[Argument, ...]:
    out: list[Argument] = []
    for argument in arguments:
        before = _secret_ids(form)
        if argument.type == "named":
            flag = argument.name or ""
            if not FLAG.match(flag):
                raise Unmappable(f"the argument name {flag[:40]!r} is not a plain --flag")
            parts = [flag, _template(argument, flag, form)]
        elif argument.type == "positional":
            label = argument.valueHint or "argument"
            parts = [_template(argument, label, form)]
        else:
            raise Unmappable(f"the argument type {argument.type[:20]!r} is unknown")
        if _secret_ids(form) - before:
            raise Unmappable("it passes a secret on the command line, where others can read it")
        if PLACEHOLDER.search(parts[-1]):
            out.append(tuple(parts))  # left out whole while its setting is empty
        else:
            out.extend(parts)
    return tuple(out)


def _environment(variables: list[RawKeyValue], form: _Form) -> dict[str, str]:
    env: dict[str, str] = {}
    for variable in variables:
        if not ENV_NAME.match(variable.name):
            raise Unmappable(f"{variable.name[:40]!r} is not an environment variable name")
        env[variable.name] = _template(variable, variable.name, form)
    return env


def _package_run(package: RawPackage, form: _Form) -> tuple[CatalogRun, str]:
    kind = package.registryType
    if kind not in RUNNERS:
        raise Unmappable(f"its {kind[:20]!r} package is not a kind HybridMCP runs "
                         "(npm, pypi and oci are)")  # fmt: skip
    runner, way = RUNNERS[kind]
    if package.transport.type != "stdio":
        raise Unmappable(f"its {kind} package serves {package.transport.type[:20]} locally; "
                         "only stdio packages are started from the catalogue")  # fmt: skip
    if package.runtimeArguments:
        raise Unmappable(f"its {kind} package needs arguments for {runner} itself")
    name = package.identifier
    if not PACKAGE_NAMES[kind].match(name):
        raise Unmappable(f"{name[:60]!r} is not a valid {way} name")
    version = package.version
    if version and not VERSION.match(version):
        raise Unmappable(f"{way} {name}: {version[:40]!r} is not a plain version")
    if version and kind == "npm":
        name = f"{name}@{version}"
    elif version and kind == "pypi":
        name = f"{name}=={version}"
    elif version and not re.search(r"[:@][^/]*$", name):  # an OCI image without tag or digest
        name = f"{name}:{version}"
    env = _environment(package.environmentVariables, form)
    args = _arguments(package.packageArguments, form)
    return CatalogRun(kind=runner, package=name, args=args, env=env), way


def _remote_run(remote: RawTransport, form: _Form) -> tuple[CatalogRun, str]:
    if remote.type not in ("streamable-http", "sse"):
        raise Unmappable(f"its remote transport {remote.type[:20]!r} is unknown")
    url = remote.url or ""
    if not re.match(r"^https://[^\s/{}?#]+(/\S*)?$", url) or len(url) > 2000:
        raise Unmappable(f"its {remote.type} address is not a plain https:// URL")
    filled = _template(RawInput(value=url, variables=remote.variables), "URL", form)
    if _secret_ids(form):
        raise Unmappable("its address holds a secret; a secret goes in a header")
    headers: dict[str, str] = {}
    for header in remote.headers:
        if not HEADER_NAME.match(header.name):
            raise Unmappable(f"{header.name[:40]!r} is not a header name")
        headers[header.name] = _template(header, header.name, form)
    transport = cast(Literal["streamable-http", "sse"], remote.type)
    run = CatalogRun(kind="remote", url=filled, remote_transport=transport, headers=headers)
    return run, f"remote ({remote.type})"


def _entry(server: RawServer, way_raw: Any, remote: bool) -> RegistryEntry:
    form = _Form()
    try:
        if remote:
            run, way = _remote_run(RawTransport.model_validate(way_raw), form)
        else:
            run, way = _package_run(RawPackage.model_validate(way_raw), form)
    except ValidationError as error:
        raise Unmappable("; ".join(describe_validation_error(error))[:300]) from None
    namespace, short = server.name.split("/", 1)
    pages = (server.websiteUrl, server.repository.url if server.repository else None)
    homepage = next((url for url in pages if url and re.match(r"^https://\S{1,500}$", url)), None)
    try:
        return RegistryEntry(
            id=_slug(short, "-", 40) or "registry-server",
            name=_clean(server.title or short, 60) or short[:60],
            description=_clean(server.description, 500) or "(no description given)",
            publisher=namespace,
            homepage=homepage,
            license="not stated (see its repository)",
            tags=("mcp-registry",),
            transport="http" if remote else "stdio",
            run=run,
            settings=tuple(form.settings),
            note=NOT_REVIEWED,
            registry_name=server.name,
            version=_clean(server.version, 60),
            way=way,
        )
    except ValidationError as error:
        raise Unmappable("; ".join(describe_validation_error(error))[:300]) from None


def server_from_json(document: Mapping[str, Any]) -> RegistryServer:
    """The entries of one ``server.json``; ``Unmappable`` when the document itself is bad."""
    try:
        server = RawServer.model_validate(document)
    except ValidationError as error:
        name = document.get("name") if isinstance(document, Mapping) else None
        shown = name[:80] if isinstance(name, str) else "a server"
        problems = "; ".join(describe_validation_error(error))[:300]
        raise Unmappable(f"{shown}: {problems}") from None
    entries: list[RegistryEntry] = []
    skipped: list[str] = []
    ways = [(raw, False) for raw in server.packages] + [(raw, True) for raw in server.remotes]
    for raw, remote in ways:
        try:
            entries.append(_entry(server, raw, remote))
        except Unmappable as reason:
            skipped.append(str(reason))
    if not ways:
        skipped.append("it names no package and no remote: nothing to run")
    if skipped:
        left_out = f"{NOT_REVIEWED} Left out: {'; '.join(skipped)}."
        entries = [entry.model_copy(update={"note": left_out}) for entry in entries]
    title = _clean(server.title or server.name.split("/", 1)[1], 60)
    return RegistryServer(server.name, title, _clean(server.description, 500),
                          tuple(entries), tuple(skipped))  # fmt: skip
