"""The part of OpenAI's chat request that HybridMCP honours, read within bounds: the JSON first
(``json_body``), then its shape, with lists capped and checked up to their first bad item, so a
10 MB body of five million wrong items is refused at once with one reason (checking and
describing each of them took a minute). Run ``read_chat_request`` off the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hybridmcp_app.api_server.json_body import BodyRefused, parse_json_body
from hybridmcp_app.core.errors import describe_validation_error

MAX_MESSAGES = 10_000
MAX_PARTS = 10_000  # content parts of one message
MAX_STOPS = 16  # OpenAI takes 4
MAX_REASONS = 5  # problems named in a refusal

Parts = Annotated[list[dict[str, Any]], Field(max_length=MAX_PARTS, fail_fast=True)]


class ApiMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer"]
    content: str | Parts | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content
                           if part.get("type") == "text")  # fmt: skip
        return self.content or ""


class ChatCompletionBody(BaseModel):
    """The part of OpenAI's request that HybridMCP honours; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[ApiMessage] = Field(min_length=1, max_length=MAX_MESSAGES, fail_fast=True)
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1, le=131_072)
    max_completion_tokens: int | None = Field(None, ge=1, le=131_072)
    seed: int | None = Field(None, ge=0)
    stop: str | Annotated[list[str], Field(max_length=MAX_STOPS)] | None = None


def read_chat_request(raw: bytes) -> ChatCompletionBody:
    """The request in ``raw``; ``BodyRefused`` saying what is wrong (blocking)."""
    try:
        return ChatCompletionBody.model_validate(parse_json_body(raw))
    except ValidationError as error:
        reasons = describe_validation_error(error)
        more = len(reasons) - MAX_REASONS
        shown = "; ".join(reasons[:MAX_REASONS]) + (f" (and {more} more)" if more > 0 else "")
        raise BodyRefused(shown) from None
