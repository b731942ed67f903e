"""The game benchmark's provider (llama.cpp's server started by benchmarks.game_provider_server)
reads the host's rules and story from the system message."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from benchmarks.game_provider_server import CHAT_FORMAT
from tests.helpers.llama_server import llama_server

pytestmark = pytest.mark.integration
STORY = "Story: a man walks into a bar and asks for a glass of water; the barman points a gun."


async def test_the_provider_reads_the_system_message_its_prompt_grows_by_the_story(
    embedded_model: Path,
) -> None:
    with llama_server(embedded_model, api_key="k", module="benchmarks.game_provider_server",
                      chat_format=CHAT_FORMAT) as server:  # fmt: skip
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="k") as client:
            counts = []
            question: ChatCompletionMessageParam = {"role": "user", "content": "Was he thirsty?"}
            story: ChatCompletionMessageParam = {"role": "system", "content": STORY}
            for messages in ([question], [story, question]):
                answer = await client.chat.completions.create(
                    model="gemma", max_tokens=1, temperature=0.0, messages=messages
                )
                assert answer.usage is not None
                counts.append(answer.usage.prompt_tokens)
    assert counts[1] - counts[0] >= 15  # the story's tokens (about 20) reached the model
