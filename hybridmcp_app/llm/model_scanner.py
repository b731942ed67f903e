"""Find GGUF models already on disk: LM Studio, GPT4All, Jan, Ollama, and the app's own folder.

Ollama stores models as content-addressed blobs; its manifests map ``name:tag`` to the blob
whose media type is ``application/vnd.ollama.image.model`` (a GGUF file).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hybridmcp_app.llm.gguf_metadata import GGUF_MAGIC

log = logging.getLogger("hybridmcp.llm.scan")
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
MAX_DEPTH = 6


@dataclass(frozen=True)
class FoundModel:
    """A GGUF file and where it was found."""

    path: Path
    name: str
    source: str
    size_bytes: int


def known_model_folders(home: Path, app_models_dir: Path) -> list[tuple[str, Path]]:
    """(source, folder) pairs where desktop LLM apps keep GGUF files, for this platform."""
    folders = [
        ("HybridMCP", app_models_dir),
        ("LM Studio", home / ".lmstudio" / "models"),
        ("LM Studio", home / ".cache" / "lm-studio" / "models"),
        ("Jan", home / "jan" / "models"),
        ("Jan", home / ".local" / "share" / "Jan" / "data" / "llamacpp" / "models"),
    ]
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support"
        folders += [("GPT4All", support / "nomic.ai" / "GPT4All"),
                    ("Jan", support / "Jan" / "data" / "llamacpp" / "models")]  # fmt: skip
    elif sys.platform == "win32":
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        folders += [("GPT4All", local / "nomic.ai" / "GPT4All")]
    else:
        folders += [("GPT4All", home / ".local" / "share" / "nomic.ai" / "GPT4All")]
    return folders


def _is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _walk_gguf(root: Path) -> Iterator[Path]:
    base_depth = len(root.parts)
    for folder, subfolders, files in os.walk(root, followlinks=False):
        if len(Path(folder).parts) - base_depth >= MAX_DEPTH:
            subfolders.clear()
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in files:
            if name.lower().endswith(".gguf"):
                yield Path(folder) / name


def ollama_models(ollama_root: Path) -> Iterator[FoundModel]:
    """Models in an Ollama store (``~/.ollama/models``), named ``name:tag`` from manifests."""
    manifests = ollama_root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in manifests.rglob("*"):
        if not manifest.is_file():
            continue
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            log.debug("skipping unreadable Ollama manifest %s", manifest)
            continue
        for layer in layers:
            if not isinstance(layer, dict) or layer.get("mediaType") != OLLAMA_MODEL_LAYER:
                continue
            blob = ollama_root / "blobs" / str(layer.get("digest", "")).replace(":", "-")
            if blob.is_file() and _is_gguf(blob):
                model, tag = manifest.parent.name, manifest.name
                namespace = manifest.parent.parent.name
                prefix = "" if namespace == "library" else f"{namespace}/"
                yield FoundModel(blob, f"{prefix}{model}:{tag}", "Ollama", blob.stat().st_size)


def scan_for_models(
    folders: Iterable[tuple[str, Path]], ollama_root: Path | None
) -> list[FoundModel]:
    """Every GGUF in ``folders`` and the Ollama store, once each (symlinks resolved)."""
    found: dict[Path, FoundModel] = {}
    for source, folder in folders:
        if not folder.is_dir():
            continue
        for path in _walk_gguf(folder):
            resolved = path.resolve()
            if resolved not in found and _is_gguf(path):
                found[resolved] = FoundModel(path, path.stem, source, path.stat().st_size)
    if ollama_root is not None:
        for model in ollama_models(ollama_root):
            found.setdefault(model.path.resolve(), model)
    return sorted(found.values(), key=lambda m: (m.source, m.name.lower()))
