"""What a scan found, kept and shown: ``file_registry.json`` and a readable Markdown report.

The registry lists every scanned file with its size, mtime and content hash (schema versioned);
read back, it is the ``known`` map that lets the next scan skip re-reading unchanged files. The
report gives totals per extension, the biggest files and everything left out with its reason.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.documents.document_scanner import KnownFiles, ScanResult, human_size

log = logging.getLogger("hybridmcp.documents.inventory")

REGISTRY_FORMAT: Literal["hybridmcp.file_registry"] = "hybridmcp.file_registry"
REGISTRY_VERSION: Literal[1] = 1
LARGEST_SHOWN = 10
SKIPPED_SHOWN = 100


class RegistryEntry(FrozenModel):
    path: Path
    size: int = Field(ge=0)
    mtime_ns: int
    content_hash: str
    extension: str


class SkippedEntry(FrozenModel):
    path: Path
    reason: str


class FileRegistry(FrozenModel):
    """The contents of ``file_registry.json``."""

    format: Literal["hybridmcp.file_registry"] = REGISTRY_FORMAT
    version: Literal[1] = REGISTRY_VERSION
    written_at: float = Field(description="Unix time the scan was saved.")
    files: tuple[RegistryEntry, ...] = ()
    skipped: tuple[SkippedEntry, ...] = ()


def registry_json(result: ScanResult) -> str:
    """The scan as the JSON text of ``file_registry.json``."""
    registry = FileRegistry(
        written_at=time.time(),
        files=tuple(
            RegistryEntry(
                path=file.path,
                size=file.size,
                mtime_ns=file.mtime_ns,
                content_hash=file.content_hash,
                extension=file.extension,
            )
            for file in result.files
        ),
        skipped=tuple(SkippedEntry(path=item.path, reason=item.reason) for item in result.skipped),
    )
    return registry.model_dump_json(indent=1) + "\n"


def write_file_registry(result: ScanResult, path: Path) -> None:
    """Save the scan as JSON, atomically (a crash leaves the previous registry in place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(registry_json(result), encoding="utf-8")
    partial.replace(path)


def read_known_files(path: Path) -> KnownFiles:
    """The registry as the scan's ``known`` map; empty when there is none or it is unusable.

    The registry is only a cache: losing it costs one full re-hash, never a wrong answer.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        log.warning("%s is unusable, every file will be hashed again: %s", path, error)
        return {}
    return known_files_from(data, str(path))


def known_files_from(data: bytes, source: str) -> KnownFiles:
    """The registry's bytes (read from ``source``) as the scan's ``known`` map, or empty."""
    try:
        registry = FileRegistry.model_validate_json(data)
    except ValidationError as error:
        log.warning("%s is unusable, every file will be hashed again: %s", source, error)
        return {}
    return {file.path: (file.size, file.mtime_ns, file.content_hash) for file in registry.files}


def inventory_report(result: ScanResult) -> str:
    """The scan as Markdown: totals, per extension, the largest files, and what was left out."""
    root = _common_folder([file.path for file in result.files] + [s.path for s in result.skipped])
    total = sum(file.size for file in result.files)
    lines = ["# Workspace inventory", ""]
    if root is not None:
        lines += [f"Folder: `{root}` (paths below are relative to it)", ""]
    lines += [
        f"- **{len(result.files)}** files to index, {human_size(total)} in all",
        f"- **{len(result.skipped)}** left out",
        "",
    ]
    if result.files:
        lines += _by_extension(result), ""
        lines += _largest(result, root), ""
    if result.skipped:
        lines += _skipped(result, root), ""
    return "\n".join(lines).rstrip() + "\n"


def _by_extension(result: ScanResult) -> str:
    counts: Counter[str] = Counter()
    sizes: defaultdict[str, int] = defaultdict(int)
    for file in result.files:
        counts[file.extension] += 1
        sizes[file.extension] += file.size
    rows = ["## By extension", "", "| extension | files | size |", "|---|--:|--:|"]
    rows += [
        f"| .{ext} | {count} | {human_size(sizes[ext])} |" for ext, count in counts.most_common()
    ]
    return "\n".join(rows)


def _largest(result: ScanResult, root: Path | None) -> str:
    largest = sorted(result.files, key=lambda file: file.size, reverse=True)[:LARGEST_SHOWN]
    rows = ["## Largest files", "", "| file | size |", "|---|--:|"]
    rows += [f"| {_cell(_shown(file.path, root))} | {human_size(file.size)} |" for file in largest]
    return "\n".join(rows)


def _skipped(result: ScanResult, root: Path | None) -> str:
    reasons = Counter(_reason_kind(item.reason) for item in result.skipped)
    rows = ["## Left out", "", "| reason | files |", "|---|--:|"]
    rows += [f"| {_cell(reason)} | {count} |" for reason, count in reasons.most_common()]
    rows += ["", "| file | reason |", "|---|---|"]
    rows += [
        f"| {_cell(_shown(item.path, root))} | {_cell(item.reason)} |"
        for item in result.skipped[:SKIPPED_SHOWN]
    ]
    if len(result.skipped) > SKIPPED_SHOWN:
        rows += ["", f"…and {len(result.skipped) - SKIPPED_SHOWN} more."]
    return "\n".join(rows)


def _reason_kind(reason: str) -> str:
    """Group "too large: 120.0 MiB (…)" and "ignored by /a/.gitignore" by what comes first."""
    for prefix in ("too large", "ignored by", "same file as", "cannot read"):
        if reason.startswith(prefix):
            return prefix
    return reason


def _common_folder(paths: Iterable[Path]) -> Path | None:
    try:
        common = Path(os.path.commonpath([path.parent for path in paths]))
    except ValueError:  # no paths, or on different drives
        return None
    return common if common.parent != common else None  # "/" says nothing


def _shown(path: Path, root: Path | None) -> str:
    return str(path) if root is None else path.relative_to(root).as_posix()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
