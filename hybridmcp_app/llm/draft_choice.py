"""Which installed GGUF files can draft for a model: the same tokenizer, and smaller.

A draft model proposes token ids that the main model checks, so both must give every id the
same token: the vocabularies (``tokenizer.ggml.tokens``, hashed from the file's header) and the
tokenizer kind must be identical. Blocking: call these off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hybridmcp_app.llm.embedded_models import EMBEDDED_MODELS
from hybridmcp_app.llm.gguf_header import GGUFHeaderError, read_gguf_header
from hybridmcp_app.llm.model_scanner import known_model_folders, scan_for_models

log = logging.getLogger("hybridmcp.llm.draft")
VOCABULARY = "tokenizer.ggml.tokens"


@dataclass(frozen=True)
class Tokenizer:
    """A file's tokenizer, as far as drafting cares: its kind and its vocabulary's hash."""

    kind: str | None
    vocabulary: str | None
    size: int


def read_tokenizer(path: Path) -> Tokenizer:
    """The tokenizer of a GGUF file; ``OSError``/``GGUFHeaderError`` if it cannot be read."""
    header = read_gguf_header(path, digest=frozenset({VOCABULARY}))
    kind = header.metadata.get("tokenizer.ggml.model")
    return Tokenizer(
        kind=str(kind) if kind is not None else None,
        vocabulary=header.array_digests.get(VOCABULARY),
        size=header.array_lengths.get(VOCABULARY, 0),
    )


def draft_refusal(model: Path, draft: Path) -> str | None:
    """Why ``draft`` cannot draft for ``model`` (one line), or None when it can. The same file
    is a legal pair (a model drafting for itself gives the same answer, only slower)."""
    if not draft.is_file():
        return f"the draft model {draft.name} is not there ({draft})"
    try:
        main, small = read_tokenizer(model), read_tokenizer(draft)
    except (OSError, GGUFHeaderError) as error:
        return f"the draft model {draft.name} cannot be read as a GGUF file ({error})"
    if small.vocabulary is None:
        return f"the draft model {draft.name} has no vocabulary in its metadata"
    if (main.kind, main.vocabulary) != (small.kind, small.vocabulary):
        return (
            f"the draft model {draft.name} has a different tokenizer from {model.name} "
            f"({small.kind}, {small.size:,} tokens vs {main.kind}, {main.size:,}): its drafts "
            "would mean other words"
        )
    if draft.stat().st_size > model.stat().st_size:
        return f"the draft model {draft.name} is larger than {model.name}: it would slow it down"
    return None


def installed_models(
    cache_dir: Path, home: Path | None = None, app_models_dir: Path | None = None
) -> list[Path]:
    """Every GGUF file the app knows of: the embedded models and, given the folders, the app's
    models folder and those other apps keep (``model_scanner``); each file once."""
    found = [where for model in EMBEDDED_MODELS if (where := model.where(cache_dir)) is not None]
    if home is not None and app_models_dir is not None:
        folders = known_model_folders(home, app_models_dir)
        found += [model.path for model in scan_for_models(folders, home / ".ollama" / "models")]
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def draft_candidates(model: Path, files: Iterable[Path]) -> list[Path]:
    """The files among ``files`` that can draft for ``model``, smallest first (the model itself
    left out)."""
    try:
        itself = model.resolve()
        size = model.stat().st_size
        wanted = read_tokenizer(model)
    except (OSError, GGUFHeaderError):
        return []
    fitting: list[Path] = []
    for path in files:
        try:
            if path.resolve() == itself or path.stat().st_size >= size:
                continue
            theirs = read_tokenizer(path)
        except (OSError, GGUFHeaderError) as error:
            log.debug("not a draft candidate: %s (%s)", path, error)
            continue
        if (theirs.kind, theirs.vocabulary) == (wanted.kind, wanted.vocabulary):
            fitting.append(path)
    return sorted(fitting, key=lambda path: path.stat().st_size)
