"""The token loop's guards with the real embedded Gemma 3 270M: special tokens show no text, and
a grammar llama.cpp cannot parse safely is refused before it reaches llama.cpp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    ResponseFormat,
    StreamFailed,
    StreamStarted,
)
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.llama_generation import TokenText, request_grammar

if TYPE_CHECKING:
    from llama_cpp import Llama

pytestmark = pytest.mark.integration

# Gemma 3 marks images and turns with these; <start_of_image> and [multimodal] are not control
# tokens but user-defined ones, which llama.cpp writes out even without ``special``.
SPECIAL = ("<start_of_image>", "<end_of_image>", "[multimodal]", "<start_of_turn>",
           "<end_of_turn>", "<pad>", "<unused0>")  # fmt: skip
# User-defined too, but text: HTML tags and runs of newlines and spaces.
TEXT = ("<table>", "</td>", "\n\n", "    ", "hello")


@pytest.fixture(scope="module")
def vocabulary(embedded_model: Path) -> Iterator[Llama]:
    """The embedded model's vocabulary alone (its own instance, used by this thread only)."""
    from llama_cpp import Llama

    llama = Llama(model_path=str(embedded_model), vocab_only=True, verbose=False)
    yield llama
    llama.close()


def single_token(llama: Llama, text: str) -> int:
    (token,) = llama.tokenize(text.encode(), add_bos=False, special=True)
    return token


@pytest.mark.parametrize("marker", SPECIAL)
def test_special_tokens_show_no_text(vocabulary: Llama, marker: str) -> None:
    token = single_token(vocabulary, marker)
    text = TokenText(vocabulary)
    assert text.is_special(token) and text.shown(token) == b""
    assert text.written(token) == marker


def test_image_markers_are_what_plain_detokenizing_would_have_shown(vocabulary: Llama) -> None:
    # The answer once read "<start_of_image>": llama.cpp's own rendering keeps it.
    token = single_token(vocabulary, "<start_of_image>")
    assert vocabulary.detokenize([token], special=False) == b"<start_of_image>"


@pytest.mark.parametrize("piece", TEXT)
def test_text_tokens_show_their_text(vocabulary: Llama, piece: str) -> None:
    token = single_token(vocabulary, piece)
    text = TokenText(vocabulary)
    assert not text.is_special(token) and text.shown(token) == piece.encode()


async def test_a_grammar_nested_too_deep_is_refused_and_the_model_keeps_working(
    gemma: LlamaCppBackend,
) -> None:
    # 100,000 nested groups: llama.cpp's parser would overflow the stack and end the process.
    deep = ResponseFormat(type="json_schema", json_schema={"type": "string", "maxLength": 100_000})
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="Say hi."),),
        parameters=ModelParameters(temperature=0.0, max_tokens=4),
        response_format=deep,
    )
    events = [event async for event in gemma.stream(request)]
    assert not any(isinstance(event, StreamStarted) for event in events)
    (failed,) = [event for event in events if isinstance(event, StreamFailed)]
    assert "\n" not in failed.message
    assert failed.message.startswith("the json_schema constraint is invalid: its grammar nests")
    answer = await gemma.complete(request.model_copy(update={"response_format": ResponseFormat()}))
    assert answer.finish_reason in ("stop", "length") and answer.usage.completion_tokens > 0


async def test_a_schema_the_converter_cannot_read_fails_in_one_line(
    gemma: LlamaCppBackend,
) -> None:
    unreadable = ResponseFormat(type="json_schema", json_schema={"type": "string", "pattern": "a"})
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="x"),), response_format=unreadable
    )
    events = [event async for event in gemma.stream(request)]
    (failed,) = [event for event in events if isinstance(event, StreamFailed)]
    assert failed.message.startswith("the json_schema constraint is invalid: Pattern must start")
    assert "\n" not in failed.message


def test_a_json_string_in_a_schema_grammar_holds_no_raw_control_characters(
    vocabulary: Llama,
) -> None:
    # JSON forbids them; llama-cpp-python's converter allowed them, and the model ran on past a
    # value line after line.
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="x"),),
        response_format=ResponseFormat(type="json_schema", json_schema={"type": "string"}),
    )
    grammar = request_grammar(vocabulary, request)
    assert grammar is not None
    (char_rule,) = [line for line in grammar._grammar.splitlines() if line.startswith("char ::=")]
    assert char_rule.startswith(r'char ::= [^"\\\x7F\x00-\x1F] | "\\" (')
