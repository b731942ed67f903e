"""A sampling request whose ``toolChoice`` is "required", answered by a local model whose chat
template takes no tools: the call is forced by a grammar, as the tool loop forces one
(``orchestration/tool_call_grammar``). The model is told the tools in words and must write
``{"tool": ..., "arguments": {...}}``, under each tool's own argument schema where llama.cpp
can hold it, else any object; the JSON is read back as a call to the offered tool.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import mcp.types as types

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    InferenceResponse,
    ResponseFormat,
)
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.tool_call_grammar import (
    as_plain_chat,
    call_schema,
    generic_call_schema,
    parse_forced_call,
    tool_instruction,
    with_note_on_last_user_turn,
)

log = logging.getLogger("hybridmcp.services.sampling")


@dataclass(frozen=True)
class ForcedCall:
    """The offered tools as the model sees them (``server__tool``), and how its call is asked
    for and read back."""

    tools: tuple[McpTool, ...]

    @classmethod
    def of(cls, server: str, tools: Sequence[types.Tool]) -> ForcedCall:
        return cls(
            tuple(
                McpTool(
                    server=server,
                    name=tool.name,
                    title=tool.title,
                    description=tool.description or "",
                    input_schema=tool.input_schema or {"type": "object"},
                )
                for tool in tools
            )
        )

    def messages(self, messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
        """The conversation as plain chat (tool turns as text), told which tools to call."""
        return with_note_on_last_user_turn(as_plain_chat(messages), tool_instruction(self.tools))

    def request(self, request: InferenceRequest, *, precise: bool) -> InferenceRequest:
        schema = call_schema(self.tools) if precise else generic_call_schema(self.tools)
        return request.model_copy(
            update={
                "tools": (),
                "tool_choice": None,
                "response_format": ResponseFormat(type="json_schema", json_schema=schema),
            }
        )

    def response(self, answer: InferenceResponse) -> InferenceResponse:
        """The model's JSON as a call to the offered tool it names (its server's name off)."""
        names = {tool.qualified_name: tool.name for tool in self.tools}
        fallback = self.tools[0].qualified_name if len(self.tools) == 1 else None
        call = parse_forced_call(answer.text, fallback)
        call = call.model_copy(update={"name": names.get(call.name, call.name)})
        finish = "tool_calls" if answer.finish_reason == "stop" else answer.finish_reason
        return answer.model_copy(
            update={"text": "", "tool_calls": (call,), "finish_reason": finish}
        )


async def complete_forced(
    backend: ChatBackend, request: InferenceRequest, forced: ForcedCall
) -> InferenceResponse:
    """The forced call: under the tools' own schemas, or (should the backend refuse their
    grammar) under any object as arguments."""
    try:
        answer = await backend.complete(forced.request(request, precise=True))
    except BackendError as error:
        log.info("the tools' own schemas could not be used (%s): any object as arguments", error)
        answer = await backend.complete(forced.request(request, precise=False))
    return forced.response(answer)
