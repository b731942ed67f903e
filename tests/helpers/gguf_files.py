"""Small but real GGUF files for metadata and error tests (written with the ``gguf`` package)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_gguf(
    path: Path,
    *,
    architecture: str = "llama",
    name: str = "Tiny Test",
    chat_template: str | None = None,
    context_length: int = 4096,
) -> Path:
    """A valid GGUF header and one tensor: readable metadata, but no loadable model."""
    import gguf

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_name(name)
    writer.add_context_length(context_length)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
