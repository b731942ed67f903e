"""The curated model catalogue (``resources/models/catalog.json``), marked against this machine.

The catalogue names repositories, never files: the files and their sizes are read live from the
hub, so it cannot offer a file that does not exist.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hybridmcp_app.config.json_limits import load_model_file
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.core.errors import ConfigError

REPO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$"
FITS_SHARE = 0.6  # needs at most this share of the RAM: fits
TIGHT_SHARE = 0.9  # at most this share: tight; more: too big


class CatalogEntry(BaseModel):
    """One curated model: a hub repository of GGUF files and what to expect of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    family: str = Field(min_length=1, max_length=40)
    repo_id: str = Field(pattern=REPO_ID_PATTERN)
    parameters_b: float = Field(gt=0, le=1000)
    quantizations: list[str] = Field(min_length=1)
    license: str = Field(min_length=1)
    context: int = Field(ge=512)
    ram_gb: float = Field(gt=0)
    chat: bool
    tools: bool
    vision: bool
    embedding: bool = False


class ModelCatalog(BaseModel):
    """The catalogue file: when it was written and its models."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    written: date
    note: str = ""
    models: list[CatalogEntry] = Field(min_length=1)


class RamFit(StrEnum):
    FITS = "fits"
    TIGHT = "tight"
    TOO_BIG = "too big"


class MarkedEntry(BaseModel):
    """A catalogue entry and how it fits this computer's memory."""

    model_config = ConfigDict(frozen=True)

    entry: CatalogEntry
    fit: RamFit


def default_catalog_path() -> Path:
    return resources_dir() / "models" / "catalog.json"


def load_catalog(path: Path | None = None) -> ModelCatalog:
    """Read and check the catalogue; a bad file raises ``ConfigError`` naming each problem."""
    path = default_catalog_path() if path is None else path
    catalog = load_model_file(path, ModelCatalog, "model catalogue")
    seen: set[str] = set()
    for entry in catalog.models:
        if entry.repo_id.lower() in seen:
            raise ConfigError(f"the model catalogue {path} lists {entry.repo_id} twice")
        seen.add(entry.repo_id.lower())
    return catalog


def ram_fit(needed_gb: float, total_bytes: int) -> RamFit:
    """How ``needed_gb`` of memory fits in ``total_bytes`` of RAM."""
    share = needed_gb * 1024**3 / max(total_bytes, 1)
    if share <= FITS_SHARE:
        return RamFit.FITS
    return RamFit.TIGHT if share <= TIGHT_SHARE else RamFit.TOO_BIG


def total_ram_bytes() -> int:
    """This computer's RAM (psutil, or the POSIX page count where psutil is missing)."""
    try:
        import psutil
    except ImportError:
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return int(psutil.virtual_memory().total)


def marked_catalog(catalog: ModelCatalog, total_bytes: int | None = None) -> list[MarkedEntry]:
    """The catalogue's models, each marked fits / tight / too big for ``total_bytes`` of RAM."""
    total = total_ram_bytes() if total_bytes is None else total_bytes
    return [MarkedEntry(entry=entry, fit=ram_fit(entry.ram_gb, total)) for entry in catalog.models]
