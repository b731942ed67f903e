"""The models installed with the app: SmolLM2 135M Instruct chats through its own template."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import SMOLLM2, SMOLLM2_LABEL
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.local_model_service import LocalModelService, LocalModelState
from tests.helpers.waiting import PATIENCE_S

TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")


@pytest.fixture(scope="module")
def smollm2(model_cache: Path) -> Iterator[LlamaCppBackend]:
    path = SMOLLM2.locate(model_cache)
    backend = asyncio.run(
        LlamaCppBackend.open(path, InferenceSettings(n_ctx=1024), display_label=SMOLLM2.label)
    )
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


def question(text: str, max_tokens: int = 48) -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        parameters=ModelParameters(temperature=0.0, max_tokens=max_tokens),
    )


async def test_smollm2_answers_a_question_through_its_own_chatml_template(
    smollm2: LlamaCppBackend,
) -> None:
    assert smollm2.capabilities.has_chat_template
    assert "<|im_start|>" in (smollm2.capabilities.chat_template or "")
    assert smollm2.context.inference.chat_format is None  # the file's template, no named format
    response = await smollm2.complete(question("What is the opposite of hot?"))
    assert "cold" in response.text.lower()
    assert not any(token in response.text for token in TEMPLATE_TOKENS)


async def test_smollm2_stops_at_the_end_of_its_turn_without_showing_the_end_token(
    smollm2: LlamaCppBackend,
) -> None:
    response = await smollm2.complete(question("What is 2 plus 2?", max_tokens=200))
    assert response.finish_reason == "stop"
    assert response.usage.completion_tokens < 200
    assert "4" in response.text
    assert not any(token in response.text for token in TEMPLATE_TOKENS)


async def test_smollm2_keeps_the_conversation_and_a_system_message(
    smollm2: LlamaCppBackend,
) -> None:
    request = InferenceRequest(
        messages=(
            ChatMessage(role="system", content="Answer with one word."),
            ChatMessage(role="user", content="What animal says meow?"),
            ChatMessage(role="assistant", content="Cat."),
            ChatMessage(role="user", content="What animal says woof?"),
        ),
        parameters=ModelParameters(temperature=0.0, max_tokens=24),
    )
    response = await smollm2.complete(request)
    assert "dog" in response.text.lower()
    assert not any(token in response.text for token in TEMPLATE_TOKENS)


async def test_the_service_labels_smollm2_chosen_by_its_file_as_the_tiny_demo_chat_model(
    model_cache: Path,
) -> None:
    service = LocalModelService(model_cache)
    path = await service.embedded_file(SMOLLM2)
    backend = await service.load(
        LocalLLMConfig(model_path=path, inference=InferenceSettings(n_ctx=512))
    )
    try:
        assert service.status.state is LocalModelState.READY
        assert service.status.label == SMOLLM2_LABEL == backend.model_name
        assert "tiny demo chat model" in SMOLLM2_LABEL
    finally:
        await service.unload()
