"""Reading a ``.mcpb`` file: a zip whose every member must stay inside the bundle's folder.

Refused, each with its reason and before anything is written: a file that is not a zip, one
without a valid ``manifest.json``, a member path that is absolute, has a drive letter or climbs
out with ``..``, a symbolic link or other special entry, an encrypted member, two members of the
same name, more than ``MAX_MEMBERS`` members or ``MAX_TOTAL_BYTES`` unpacked, a member that
unpacks to far more than it takes (``MAX_RATIO``: a zip bomb), and a missing entry point.
Unpacking writes through ``SafeDir``: new files only, never through a link. Blocking.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hybridmcp_app.config.json_limits import MAX_NESTING, loads_limited
from hybridmcp_app.core.errors import ConfigError, describe_validation_error
from hybridmcp_app.services.mcpb_manifest import KNOWN_VERSIONS, BundleRefused, Manifest
from hybridmcp_app.workspace.safe_files import SafeDir

MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_MEMBERS = 50_000
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_RATIO = 200  # unpacked ÷ packed, for members larger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MANIFEST = "manifest.json"
RECORD = ".hybridmcp-bundle.json"  # what HybridMCP keeps about an installed bundle
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024
_UNIX = 3  # ZipInfo.create_system of a zip made on Unix


@dataclass(frozen=True)
class Member:
    """A file of the bundle: its path inside the folder, and whether it is executable."""

    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    executable: bool


@dataclass(frozen=True)
class BundleFile:
    """A checked bundle: its manifest and its files."""

    path: Path
    manifest: Manifest
    members: tuple[Member, ...]

    @property
    def unpacked_bytes(self) -> int:
        return sum(member.info.file_size for member in self.members)


def read_bundle(path: Path) -> BundleFile:
    """Check ``path`` and read its manifest; ``BundleRefused`` says why it is refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive.infolist())
            manifest = _manifest(archive, members)
    except zipfile.BadZipFile:
        raise BundleRefused(f"{path.name} is not a zip file (an .mcpb bundle is one)") from None
    except OSError as error:
        raise BundleRefused(f"cannot read {path.name}: {error.strerror or error}") from None
    entry = _parts(manifest.server.entry_point, "the entry point")
    if entry not in {member.parts for member in members}:
        raise BundleRefused(f"its entry point {manifest.server.entry_point!r} is not in the bundle")
    if manifest.server.type == "binary":  # a zip made on Windows keeps no executable bits
        members = [Member(m.info, m.parts, m.executable or m.parts == entry) for m in members]
    return BundleFile(path, manifest, tuple(members))


def unpack(bundle: BundleFile, folder: SafeDir) -> None:
    """Write the bundle's files into the empty ``folder``; the sizes are checked as they come."""
    written = 0
    try:
        with zipfile.ZipFile(bundle.path) as archive:
            for member in bundle.members:
                with folder.walk(member.parts[:-1], create=True) as parent:
                    mode = 0o777 if member.executable else 0o666
                    with (
                        archive.open(member.info) as source,
                        parent.create(member.parts[-1], mode=mode) as target,
                    ):
                        while chunk := source.read(_CHUNK):
                            written += len(chunk)
                            if written > MAX_TOTAL_BYTES:
                                raise BundleRefused(_too_big())
                            target.write(chunk)
    except zipfile.BadZipFile as error:
        raise BundleRefused(f"{bundle.path.name} is damaged: {error}") from None
    except FileExistsError as error:
        raise BundleRefused(f"the bundle holds {error.filename!r} twice") from None


def _too_big() -> str:
    return f"it unpacks to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB"


def _parts(name: str, what: str) -> tuple[str, ...]:
    """The path ``name`` as folder names below the bundle's folder; refused if it leaves it."""
    if "\x00" in name:
        raise BundleRefused(f"{what} {name!r} holds a NUL character")
    normal = name.replace("\\", "/")
    if normal.startswith("/"):
        raise BundleRefused(f"{what} {name!r} is an absolute path")
    if _DRIVE.match(normal):
        raise BundleRefused(f"{what} {name!r} names a drive")
    parts = tuple(part for part in normal.split("/") if part not in ("", "."))
    if ".." in parts:
        raise BundleRefused(f"{what} {name!r} leads outside the bundle's folder")
    if not parts:
        raise BundleRefused(f"{what} {name!r} names no file")
    return parts


def _members(infos: list[zipfile.ZipInfo]) -> list[Member]:
    if len(infos) > MAX_MEMBERS:
        raise BundleRefused(f"it holds {len(infos)} files; at most {MAX_MEMBERS} are accepted")
    members: list[Member] = []
    seen: set[tuple[str, ...]] = set()
    total = 0
    for info in infos:
        parts = _parts(info.filename, "the member")
        mode = info.external_attr >> 16 if info.create_system == _UNIX else 0
        if stat.S_ISLNK(mode):
            raise BundleRefused(f"the member {info.filename!r} is a symbolic link")
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise BundleRefused(f"the member {info.filename!r} is not a plain file or folder")
        if info.flag_bits & 0x1:
            raise BundleRefused(f"the member {info.filename!r} is encrypted")
        if info.is_dir():
            continue
        if parts in seen:
            raise BundleRefused(f"the bundle holds {info.filename!r} twice")
        if parts == (RECORD,):
            raise BundleRefused(f"the bundle holds {RECORD}, a name HybridMCP keeps for itself")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BundleRefused(_too_big())
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleRefused(
                f"the member {info.filename!r} unpacks to over {MAX_RATIO} times its packed "
                "size (a zip bomb?)"
            )
        seen.add(parts)
        members.append(Member(info, parts, bool(mode & 0o111)))
    return members


def _manifest(archive: zipfile.ZipFile, members: list[Member]) -> Manifest:
    found = next((m for m in members if m.parts == (MANIFEST,)), None)
    if found is None:
        raise BundleRefused(f"it has no {MANIFEST} at its top (is it an .mcpb bundle?)")
    if found.info.file_size > MAX_MANIFEST_BYTES:
        raise BundleRefused(f"its {MANIFEST} is larger than {MAX_MANIFEST_BYTES // 1024} KiB")
    try:
        data = loads_limited(archive.read(found.info).decode("utf-8"), MANIFEST)
    except UnicodeDecodeError:
        raise BundleRefused(f"its {MANIFEST} is not UTF-8 text") from None
    except ConfigError:  # a parser would recurse once per bracket
        raise BundleRefused(f"its {MANIFEST} is nested deeper than {MAX_NESTING} levels") from None
    except json.JSONDecodeError as error:
        raise BundleRefused(
            f"its {MANIFEST} is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(data, dict):
        raise BundleRefused(f"its {MANIFEST} is not a JSON object")
    version = data.get("manifest_version", data.get("dxt_version"))
    if version is None:
        raise BundleRefused(f"its {MANIFEST} has no manifest_version")
    if version not in KNOWN_VERSIONS:
        raise BundleRefused(
            f"its manifest_version {version!r} is not one HybridMCP knows "
            f"({', '.join(KNOWN_VERSIONS)}); a newer HybridMCP may install it"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        raise BundleRefused(
            f"its {MANIFEST} is not valid: " + "; ".join(describe_validation_error(error))
        ) from None
