"""Requests, responses and stream events: the currency every backend and strategy trades in."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, model_validator

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.parameters import ModelParameters

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "cancelled", "error"]


class ToolCall(FrozenModel):
    """A model's request to call a tool; ``arguments`` is the raw JSON text the model wrote."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str = "{}"


class ChatMessage(FrozenModel):
    """One turn of a conversation."""

    role: Role
    content: str = ""
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()

    @model_validator(mode="after")
    def _tool_fields_match_role(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a 'tool' message must say which call it answers (tool_call_id)")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only an 'assistant' message can carry tool_calls")
        return self


class ResponseFormat(FrozenModel):
    """Constrain the answer: free text, JSON matching a schema, or a GBNF grammar."""

    type: Literal["text", "json_schema", "grammar"] = "text"
    json_schema: dict[str, Any] | None = None
    grammar: str | None = None

    @model_validator(mode="after")
    def _payload_matches_type(self) -> ResponseFormat:
        if self.type == "json_schema" and not self.json_schema:
            raise ValueError("response format 'json_schema' needs a json_schema")
        if self.type == "grammar" and not (self.grammar and self.grammar.strip()):
            raise ValueError("response format 'grammar' needs a non-empty GBNF grammar")
        return self


class ContextDocument(FrozenModel):
    """Text the answer should come from: pasted, a file, or (later) the document library."""

    title: str = ""
    text: str = Field(min_length=1)


class InferenceRequest(FrozenModel):
    """Everything a backend needs to answer once."""

    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    messages: tuple[ChatMessage, ...] = Field(min_length=1)
    model: str | None = Field(None, description="Backend-specific model id; None = its default.")
    parameters: ModelParameters = Field(default_factory=ModelParameters)
    response_format: ResponseFormat = Field(default_factory=ResponseFormat)
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | dict[str, Any] | None = Field(
        None, description="'auto', 'none', 'required', or one named function (OpenAI format)."
    )
    logprobs: bool = Field(False, description="Report each answer token's log-probability.")
    choices: tuple[str, ...] = Field(
        (),
        max_length=16,
        description="Report the log-probability of each choice's first token at the answer's "
        "first position (classification: which allowed answer the model leaned to, and how "
        "much). Local models only.",
    )
    raw_prompt: bool = Field(
        False,
        description="Send the messages' text as it is, without a chat template (base models).",
    )
    prediction: str | None = Field(
        None, description="Text the answer will mostly repeat (OpenAI Predicted Outputs)."
    )
    context: tuple[ContextDocument, ...] = Field(
        (), description="Sources to answer from; strategies decide how much of them to send."
    )

    @model_validator(mode="after")
    def _has_something_to_answer(self) -> InferenceRequest:
        if not any(message.content.strip() for message in self.messages):
            raise ValueError("the request has no text to answer: every message is empty")
        return self


class Usage(FrozenModel):
    """Token counts; ``estimated`` is true when the backend did not report them itself."""

    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Timings(FrozenModel):
    """Where the time went, in seconds."""

    load_s: float = Field(0.0, ge=0)
    time_to_first_token_s: float | None = Field(None, ge=0)
    total_s: float = Field(0.0, ge=0)
    decode_tokens_per_s: float | None = Field(None, ge=0)


class InferenceResponse(FrozenModel):
    """A finished answer with its usage, timings and cost."""

    request_id: str
    backend: str = Field(description="Which backend answered, e.g. 'local' or a provider name.")
    model: str
    text: str = ""
    finish_reason: FinishReason = "stop"
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Field(default_factory=Usage)
    timings: Timings = Field(default_factory=Timings)
    cost_usd: float | None = Field(None, ge=0, description="None when no price is known.")
    token_logprobs: tuple[float, ...] = Field(
        (), description="Natural-log probability of each answer token, when requested."
    )
    choice_logprobs: tuple[float, ...] = Field(
        (), description="For each requested choice, its first token's log-probability."
    )
    error: str | None = None

    @model_validator(mode="after")
    def _error_matches_reason(self) -> InferenceResponse:
        if self.finish_reason == "error" and not self.error:
            raise ValueError("a response that finished with 'error' must say what the error was")
        return self


class StreamStarted(FrozenModel):
    """The backend accepted the request and is about to produce tokens."""

    type: Literal["started"] = "started"
    request_id: str
    model: str


class TextDelta(FrozenModel):
    """A piece of answer text."""

    type: Literal["text"] = "text"
    text: str


class ToolCallDelta(FrozenModel):
    """A piece of a tool call, as OpenAI-style streams send them."""

    type: Literal["tool_call"] = "tool_call"
    index: int = Field(ge=0)
    id: str | None = None
    name: str | None = None
    arguments: str = ""


class StreamCompleted(FrozenModel):
    """The last event of a successful stream, carrying the whole response."""

    type: Literal["completed"] = "completed"
    response: InferenceResponse


class StreamFailed(FrozenModel):
    """The last event of a failed stream; text streamed before it stays valid."""

    type: Literal["failed"] = "failed"
    message: str = Field(min_length=1)
    retryable: bool = False


StreamEvent = Annotated[
    StreamStarted | TextDelta | ToolCallDelta | StreamCompleted | StreamFailed,
    Field(discriminator="type"),
]
STREAM_EVENT_ADAPTER: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)
