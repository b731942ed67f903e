"""Read a GGUF file's metadata (no weights loaded) into a ``ModelContext``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.model_context import (
    InferenceSettings,
    ModelCapabilities,
    ModelContext,
    ModelIdentification,
    TokenizerDetails,
)

log = logging.getLogger("hybridmcp.llm.gguf")
GGUF_MAGIC = b"GGUF"
# Hints in a chat template that the model was trained to call tools.
_TOOL_HINTS = ("tools", "tool_call", "<tool_call>", "function")


def check_gguf_file(path: Path) -> int:
    """Fail with a clear message unless ``path`` is a readable GGUF file; returns its size."""
    if not path.exists():
        raise ModelLoadError(f"model file not found: {path}")
    if not path.is_file():
        raise ModelLoadError(f"not a file: {path}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
        size = path.stat().st_size
    except OSError as error:
        raise ModelLoadError(f"cannot read {path.name}: {error.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelLoadError(
            f"{path.name} is not a GGUF model (it does not start with 'GGUF'); "
            "convert it with llama.cpp's convert scripts or download a .gguf build"
        )
    return size


def _field(fields: dict[str, Any], name: str) -> Any:
    field = fields.get(name)
    if field is None:
        return None
    value = field.contents()
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _quantization(file_type: int | None) -> str | None:
    if file_type is None:
        return None
    import gguf

    try:
        return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"type {file_type}"


def read_model_context(path: Path, *, display_label: str | None = None) -> ModelContext:
    """Everything the file says about the model; raises ``ModelLoadError`` on a damaged file."""
    import gguf

    size = check_gguf_file(path)
    try:
        reader = gguf.GGUFReader(path, "r")
        fields = dict(reader.fields)
        parameter_count = sum(int(tensor.n_elements) for tensor in reader.tensors)
    except (ValueError, KeyError, IndexError, OSError, TypeError) as error:
        log.debug("GGUF parse error in %s: %s", path, error)
        raise ModelLoadError(
            f"{path.name} is damaged or truncated: its GGUF data ends early or is malformed. "
            "Download it again"
        ) from None
    architecture = _field(fields, "general.architecture")
    if not architecture:
        raise ModelLoadError(f"{path.name} has no general.architecture: not a usable model")
    name = _field(fields, "general.name") or path.stem
    template = _field(fields, "tokenizer.chat_template")
    tokens = fields.get("tokenizer.ggml.tokens")
    context_length = _field(fields, f"{architecture}.context_length")
    return ModelContext(
        identification=ModelIdentification(
            name=str(name),
            display_label=display_label or str(name),
            source="gguf",
            architecture=str(architecture),
            file_path=path,
            file_size_bytes=size,
            quantization=_quantization(_field(fields, "general.file_type")),
            parameter_count=parameter_count or None,
            license=_field(fields, "general.license"),
        ),
        capabilities=ModelCapabilities(
            chat_template=template,
            instruction_tuned=bool(template),
            supports_tools=bool(template) and any(hint in template for hint in _TOOL_HINTS),
            supports_logprobs=True,
            supports_grammar=True,
            supports_json_schema=True,
        ),
        inference=InferenceSettings(
            n_ctx=min(InferenceSettings().n_ctx, int(context_length or 4096))
        ),
        tokenizer=TokenizerDetails(
            model=_field(fields, "tokenizer.ggml.model"),
            vocab_size=len(tokens.data) if tokens is not None else None,
            bos_token_id=_field(fields, "tokenizer.ggml.bos_token_id"),
            eos_token_id=_field(fields, "tokenizer.ggml.eos_token_id"),
            add_bos_token=_field(fields, "tokenizer.ggml.add_bos_token"),
        ),
        context_length=int(context_length) if context_length else None,
    )
