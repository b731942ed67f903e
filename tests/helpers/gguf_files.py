"""Small but real GGUF files for metadata and error tests (written with the ``gguf`` package)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHAT_TEMPLATES = Path(__file__).parent / "chat_templates"


def chat_template(name: str) -> str:
    """A real model's chat template, e.g. ``chat_template("Qwen-Qwen2.5-7B-Instruct")``."""
    return (CHAT_TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")


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


def retemplated_gguf(source: Path, path: Path, chat_template: str) -> Path:
    """A copy of the model ``source`` with ``chat_template`` as its ``tokenizer.chat_template``:
    the same weights and tokenizer, another template (as gguf-py's gguf_new_metadata does)."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    architecture = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    assert architecture is not None
    writer = gguf.GGUFWriter(str(path), str(architecture.contents()), endianess=reader.endianess)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = int(alignment.contents())
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        if field.name == gguf.Keys.Tokenizer.CHAT_TEMPLATE:
            continue
        kind = field.types[0]
        sub_type = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub_type)
    writer.add_chat_template(chat_template)
    for tensor in reader.tensors:
        writer.add_tensor_info(
            tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
            tensor.tensor_type,
        )  # fmt: skip
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    writer.close()
    return path


def header_only_copy(source: Path, path: Path) -> Path:
    """A small GGUF with ``source``'s metadata (its tokenizer) and one tiny tensor."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    architecture = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    assert architecture is not None
    writer = gguf.GGUFWriter(str(path), str(architecture.contents()))
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub_type = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub_type)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
