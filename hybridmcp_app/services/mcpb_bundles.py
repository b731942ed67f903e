"""Installing MCP Bundles (``.mcpb``, Claude Desktop extensions): check, show, unpack, uninstall.

``inspect`` reads a bundle without writing anything (``mcpb_archive`` refuses a hostile one).
``install`` stores the sensitive settings in the keychain, unpacks the files into a new folder
beside ``<data dir>/mcpb/<name>/`` and renames it into place, then adds the server to
``mcp.json`` switched off, its secrets as ``${secret:NAME}``; whatever fails undoes the rest.
``uninstall`` removes the entry, the folder and the secrets. Blocking: call off the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets as random
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.mcp_references import REFERENCE
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.services.mcpb_archive import RECORD, BundleFile, read_bundle, unpack
from hybridmcp_app.services.mcpb_manifest import (
    BundleRefused,
    Manifest,
    UserValue,
    check_variables,
    substitute,
    system_variables,
)
from hybridmcp_app.services.mcpb_values import check_values, default_value
from hybridmcp_app.workspace.safe_files import SafeDir

log = logging.getLogger("hybridmcp.mcp.bundles")
FOLDER_HINT = "the bundles folder may hold no symbolic links; remove the link and try again"
_WHOLE = re.compile(r"^\$\{user_config\.([^}]+)\}$")


class BundleExists(BundleRefused):
    """The bundle is installed already: install again with ``replace=True`` to replace it."""


class InstalledBundle(FrozenModel):
    """What HybridMCP keeps about an installed bundle, in its folder (``RECORD``)."""

    server: str
    name: str
    version: str
    secrets: tuple[str, ...] = ()


def server_name(manifest: Manifest) -> str:
    """The bundle's name as an ``mcp.json`` server name (and its folder's name)."""
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", manifest.name).strip("-.")[:64].strip("-.")
    return slug or "bundle"


def secret_name(server: str, key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"MCPB_{server}_{key}").upper()[:128]


def launch_entry(
    manifest: Manifest, folder: Path, shown: Callable[[str], str | list[str] | None]
) -> dict[str, Any]:
    """The ``mcp.json`` entry that runs the bundle unpacked in ``folder``; ``shown(key)`` is how
    a setting appears (its value, a ``${secret:…}``, or None when it has none)."""
    launch = manifest.launch()
    variables = system_variables(folder)

    def text(value: str, where: str) -> str:
        values = {f"user_config.{key}": _joined(shown(key)) for key in manifest.user_config}
        return substitute(value, {**variables, **values}, where=where)

    args: list[str] = []
    for i, arg in enumerate(launch.args):
        whole = _WHOLE.match(arg)
        value = shown(whole.group(1)) if whole and whole.group(1) in manifest.user_config else ""
        if whole and isinstance(value, list):
            args.extend(value)  # a setting of several values: one argument each
        elif not (whole and value is None):  # a setting left empty: no argument
            args.append(text(arg, f"argument {i + 1}"))
    command = text(launch.command, "the command")
    if not Path(command).is_absolute() and ("/" in command or "\\" in command):
        command = str(folder / command)  # a program inside the bundle
    env = {key: text(value, f"env {key}") for key, value in launch.env.items()}
    return {"command": command, "args": args, "env": env, "cwd": str(folder)}


def _joined(value: str | list[str] | None) -> str:
    return ",".join(value) if isinstance(value, list) else value or ""


@dataclass(frozen=True)
class BundlePreview:
    """A checked bundle, before it is installed: what it is, runs and asks for."""

    bundle: BundleFile
    server: str
    folder: Path
    installed: InstalledBundle | None

    @property
    def manifest(self) -> Manifest:
        return self.bundle.manifest

    def command_line(self, values: Mapping[str, UserValue]) -> dict[str, Any]:
        """The entry as it would be written; settings not given show as ``<title>``, sensitive
        ones as dots."""
        fields = self.manifest.user_config

        def shown(key: str) -> str | list[str]:
            value = values.get(key, default_value(key, fields[key]))
            if value in (None, "", []):
                return f"<{fields[key].title}>"
            if fields[key].sensitive:
                return "••••••"
            return [str(v) for v in value] if isinstance(value, list) else str(value)

        return launch_entry(self.manifest, self.folder, shown)


class McpbBundles:
    """Bundles installed under ``root`` (``<data dir>/mcpb``), their servers in ``config``."""

    def __init__(self, root: Path, config: McpJsonFile, secrets: SecretStore) -> None:
        self.root, self._config, self._secrets = root, config, secrets

    def is_bundle(self, name: str, config: object) -> bool:
        """Whether the configured server ``name`` runs from a bundle installed here."""
        return getattr(config, "cwd", None) == self.root / name

    def inspect(self, path: Path) -> BundlePreview:
        """Check the bundle at ``path`` (``BundleRefused`` with the reason); writes nothing."""
        bundle = read_bundle(path)
        manifest = bundle.manifest
        check_variables(manifest)
        platforms = manifest.compatibility.platforms if manifest.compatibility else None
        if platforms is not None and sys.platform not in platforms:
            raise BundleRefused(f"it is made for {', '.join(platforms)}, not {sys.platform}")
        name = server_name(manifest)
        current = self._entry(name)
        if current is not None and current.get("cwd") != str(self.root / name):
            raise BundleRefused(
                f"a server named {name!r} is in mcp.json already and is not from a bundle: "
                "rename or remove it first"
            )
        return BundlePreview(bundle, name, self.root / name, self.record(name))

    def install(
        self, path: Path, values: Mapping[str, UserValue], *, replace: bool = False
    ) -> InstalledBundle:
        """Install the bundle at ``path`` with these settings, switched off; ``BundleExists``
        when it is installed already and not ``replace``."""
        preview = self.inspect(path)
        manifest, name = preview.manifest, preview.server
        current = self._entry(name)
        if not replace and (current is not None or preview.installed is not None):
            old = preview.installed.version if preview.installed else "?"
            raise BundleExists(f"{manifest.title} is installed already (version {old})")
        given = check_values(manifest, values)
        sensitive = {key: secret_name(name, key) for key, field in manifest.user_config.items()
                     if field.sensitive and key in given}  # fmt: skip

        def shown(key: str) -> str | list[str] | None:
            return f"${{secret:{sensitive[key]}}}" if key in sensitive else given.get(key)

        entry = {**launch_entry(manifest, preview.folder, shown), "disabled": True}
        record = InstalledBundle(
            server=name, name=manifest.name, version=manifest.version,
            secrets=tuple(sensitive.values()),
        )  # fmt: skip
        before = {secret: self._secrets.get(secret) for secret in record.secrets}
        try:
            for key, secret in sensitive.items():
                self._secrets.set(secret, str(given[key]))
            self._put_folder(preview.bundle, record, entry, replacing=current is not None)
        except OSError as error:
            self._restore_secrets(before)
            raise BundleRefused(f"cannot unpack it into {self.root}: {_reason(error)}") from None
        except BaseException:
            self._restore_secrets(before)
            raise
        stale = set(preview.installed.secrets if preview.installed else ()) - set(record.secrets)
        for secret in stale:
            self._secrets.delete(secret)
        log.info("installed bundle %s %s as server %r", manifest.name, manifest.version, name)
        return record

    def uninstall(self, name: str) -> None:
        """Remove the server ``name``'s entry, its bundle folder and its secrets."""
        record, entry = self.record(name), self._entry(name)
        ours = entry is not None and entry.get("cwd") == str(self.root / name)
        if record is None and not ours:
            raise BundleRefused(f"no bundle is installed as {name!r}")
        if ours:
            self._config.remove_server(name)
        secrets = set(record.secrets if record else ())
        secrets |= {ref for kind, ref in REFERENCE.findall(str(entry))
                    if kind == "secret" and ref.startswith(secret_name(name, ""))}  # fmt: skip
        try:
            with self._top() as top:
                if top.entry(name) is not None:
                    top.folder(name).close()  # refuses a link
                    shutil.rmtree(self.root / name)
        except OSError as error:
            raise BundleRefused(f"cannot remove {self.root / name}: {_reason(error)}") from None
        for secret in secrets:
            self._secrets.delete(secret)
        log.info("uninstalled bundle %r", name)

    def record(self, name: str) -> InstalledBundle | None:
        """What was kept about the bundle installed as ``name``, or None."""
        if not (self.root / name).is_dir():
            return None
        try:
            with self._top() as top, top.folder(name) as folder:
                data = folder.read_if_there(RECORD)
            return None if data is None else InstalledBundle.model_validate_json(data)
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ helpers
    def _entry(self, name: str) -> dict[str, Any] | None:
        try:
            return self._config.entry(name)
        except ConfigError:
            return None

    def _top(self) -> SafeDir:
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with SafeDir.open(self.root.parent, hint=FOLDER_HINT) as data:
            return data.folder(self.root.name, create=True)

    def _put_folder(
        self, bundle: BundleFile, record: InstalledBundle, entry: dict[str, Any], *, replacing: bool
    ) -> None:
        """Unpack beside the folder, swap it in, write mcp.json; any failure puts all back."""
        name, tag = record.server, random.token_hex(4)
        temp, old = f".new-{name}-{tag}", f".old-{name}-{tag}"
        with self._top() as top:
            try:
                with top.folder(temp, new=True) as folder:
                    unpack(bundle, folder)
                    folder.write(RECORD, record.model_dump_json(indent=2).encode())
                moved = top.entry(name) is not None
                if moved:
                    top.folder(name).close()  # refuses a link
                    _rename(top, name, old)
                _rename(top, temp, name)
                try:
                    self._config.put_server(name, entry, replacing=name if replacing else None)
                except BaseException:
                    _rename(top, name, temp)
                    if moved:
                        _rename(top, old, name)
                    raise
            finally:
                for leftover in (temp, old):
                    if top.entry(leftover) is not None:
                        shutil.rmtree(self.root / leftover, ignore_errors=True)

    def _restore_secrets(self, before: Mapping[str, SecretStr | None]) -> None:
        for secret, value in before.items():
            with contextlib.suppress(Exception):  # the first error is the one to report
                if value is None:
                    self._secrets.delete(secret)
                else:
                    self._secrets.set(secret, value)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _rename(top: SafeDir, old: str, new: str) -> None:
    if top.fd is None:
        (top.path / old).replace(top.path / new)
    else:
        os.rename(old, new, src_dir_fd=top.fd, dst_dir_fd=top.fd)
