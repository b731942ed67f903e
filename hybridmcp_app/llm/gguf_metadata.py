"""Read a GGUF file's metadata (no weights loaded) into a ``ModelContext``."""

from __future__ import annotations

import logging
from pathlib import Path

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.model_context import (
    InferenceSettings,
    ModelCapabilities,
    ModelContext,
    ModelIdentification,
    TokenizerDetails,
)
from hybridmcp_app.llm.gguf_header import GGUFHeaderError, read_gguf_header
from hybridmcp_app.llm.template_tools import tool_call_format

log = logging.getLogger("hybridmcp.llm.gguf")
GGUF_MAGIC = b"GGUF"


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
    size = check_gguf_file(path)
    try:
        header = read_gguf_header(path)
    except (GGUFHeaderError, OSError) as error:
        log.debug("GGUF parse error in %s: %s", path, error)
        raise ModelLoadError(
            f"{path.name} is damaged or truncated ({error}): download it again"
        ) from None
    meta = header.metadata
    architecture = meta.get("general.architecture")
    if not architecture:
        raise ModelLoadError(f"{path.name} has no general.architecture: not a usable model")
    name = meta.get("general.name") or path.stem
    template: str | None = meta.get("tokenizer.chat_template")
    context_length = meta.get(f"{architecture}.context_length")
    return ModelContext(
        identification=ModelIdentification(
            name=str(name),
            display_label=display_label or str(name),
            source="gguf",
            architecture=str(architecture),
            file_path=path,
            file_size_bytes=size,
            quantization=_quantization(meta.get("general.file_type")),
            parameter_count=header.parameter_count or None,
            license=meta.get("general.license"),
        ),
        capabilities=ModelCapabilities(
            chat_template=template,
            instruction_tuned=bool(template),
            supports_tools=tool_call_format(template) is not None,  # the template takes tools
            supports_logprobs=True,
            supports_grammar=True,
            supports_json_schema=True,
        ),
        inference=InferenceSettings(
            n_ctx=min(InferenceSettings().n_ctx, int(context_length or 4096))
        ),
        tokenizer=TokenizerDetails(
            model=meta.get("tokenizer.ggml.model"),
            vocab_size=header.array_lengths.get("tokenizer.ggml.tokens"),
            bos_token_id=meta.get("tokenizer.ggml.bos_token_id"),
            eos_token_id=meta.get("tokenizer.ggml.eos_token_id"),
            add_bos_token=meta.get("tokenizer.ggml.add_bos_token"),
        ),
        context_length=int(context_length) if context_length else None,
    )
