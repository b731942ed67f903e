"""MCP sampling requests and answers, translated to and from the project's inference types."""

from __future__ import annotations

import json
from typing import Any, Literal

import mcp.types as types

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ChatMessage, FinishReason, InferenceResponse, ToolCall
from hybridmcp_app.orchestration.tool_arguments import check_arguments

Source = Literal["local", "provider"]
ToolChoice = Literal["auto", "required", "none"]
# Tokens a chat template adds around each message (role markers, separators), at most.
TEMPLATE_TOKENS_PER_MESSAGE = 8


class SamplingRefused(HybridMCPError):
    """A sampling request the host will not answer; ``code`` is the JSON-RPC error's."""

    def __init__(self, message: str, code: int = types.INVALID_PARAMS) -> None:
        super().__init__(message)
        self.code = code


def _block_text(blocks: list[types.ContentBlock]) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        else:
            raise SamplingRefused(
                f"a tool result holds {block.type} content, and the model reads text only"
            )
    return "\n".join(parts)


def chat_messages(params: types.CreateMessageRequestParams, model: str) -> list[ChatMessage]:
    """The request's system prompt and messages as chat messages (text and tool turns only).

    Raises ``SamplingRefused`` for images or audio (no backend here reads them) and for tool
    blocks in the wrong role."""
    out = [ChatMessage(role="system", content=params.system_prompt)] if params.system_prompt else []
    for message in params.messages:
        texts: list[str] = []
        calls: list[ToolCall] = []
        results: list[ChatMessage] = []
        for block in message.content_as_list:
            if isinstance(block, types.TextContent):
                texts.append(block.text)
            elif isinstance(block, types.ToolUseContent):
                if message.role != "assistant":
                    raise SamplingRefused("a tool_use block must be in an assistant message")
                calls.append(
                    ToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input))
                )
            elif isinstance(block, types.ToolResultContent):
                if message.role != "user":
                    raise SamplingRefused("a tool_result block must be in a user message")
                text = _block_text(block.content)
                results.append(
                    ChatMessage(
                        role="tool",
                        tool_call_id=block.tool_use_id,
                        content=f"Error: {text}" if block.is_error else text,
                    )
                )
            else:
                raise SamplingRefused(
                    f"the request holds {block.type} content, and {model} reads text only: "
                    "send text"
                )
        if message.role == "assistant":
            out.append(
                ChatMessage(role="assistant", content="\n".join(texts), tool_calls=tuple(calls))
            )
        else:
            out.extend(results)
            if texts or not results:
                out.append(ChatMessage(role="user", content="\n".join(texts)))
    return out


def openai_tools(tools: list[types.Tool]) -> tuple[dict[str, Any], ...]:
    """MCP tool definitions in the OpenAI ``tools`` format every backend here takes."""
    return tuple(
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description or "",
                "parameters": tool.input_schema,
            },
        }
        for tool in tools
    )


def choose_source(
    setting: Literal["local", "provider", "auto"],
    preferences: types.ModelPreferences | None,
    local_model: str | None,
    provider_model: str | None,
) -> Source:
    """Where a request goes. ``auto`` lets the server's preferences choose: the first hint that
    names one of the two models (a substring, as the spec says), else the provider when
    intelligence matters more than cost and speed; the local model otherwise. A side that is
    not available (None) is never chosen by ``auto``."""
    if setting != "auto":
        return setting
    if provider_model is None:
        return "local"
    if local_model is None:
        return "provider"
    for hint in (preferences.hints or []) if preferences else []:
        name = (hint.name or "").lower()
        if name and name in local_model.lower():
            return "local"
        if name and name in provider_model.lower():
            return "provider"
    if preferences is not None:
        smart = preferences.intelligence_priority or 0.0
        if smart > max(preferences.cost_priority or 0.0, preferences.speed_priority or 0.0):
            return "provider"
    return "local"


def prompt_tokens(messages: list[ChatMessage], tools: tuple[dict[str, Any], ...]) -> int:
    """About how many tokens the prompt takes (text, tool calls, tool definitions, template)."""
    from hybridmcp_app.core.token_estimate import estimate_tokens

    text = "".join(
        m.content + "".join(c.name + c.arguments for c in m.tool_calls) for m in messages
    )
    return estimate_tokens(text + json.dumps(tools)) + TEMPLATE_TOKENS_PER_MESSAGE * len(messages)


def stop_reason(finish: FinishReason) -> str:
    """The MCP stop reason for a finished answer. The backends do not say whether a stop
    sequence or the model's end-of-turn token ended it, so both read ``endTurn``."""
    return {"length": "maxTokens", "tool_calls": "toolUse"}.get(finish, "endTurn")


def sampling_result(
    response: InferenceResponse,
    offered: dict[str, dict[str, Any]] | None,
    tool_choice: ToolChoice = "auto",
) -> types.CreateMessageResult | types.CreateMessageResultWithTools:
    """The answer as MCP returns it: plain text, or (when tools were offered, by name with their
    input schemas) text and ``tool_use`` blocks. Raises ``SamplingRefused`` for a call to a tool
    not offered, with arguments that do not fit the tool's schema, made under ``tool_choice``
    "none", or missing under "required": no malformed call reaches the server."""
    reason = stop_reason(response.finish_reason)
    if offered is None:
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=response.text),
            model=response.model,
            stop_reason=reason,
        )
    cut = response.finish_reason == "length"
    if tool_choice == "none" and response.tool_calls:
        raise SamplingRefused(
            "the model called a tool, and the request's toolChoice 'none' allows no call",
            types.INTERNAL_ERROR,
        )
    if tool_choice == "required" and not response.tool_calls:
        why = "stopped at maxTokens before it" if cut else "answered in text instead"
        raise SamplingRefused(
            f"the request's toolChoice 'required' asks for a tool call, and the model {why}",
            types.INTERNAL_ERROR,
        )
    blocks: list[types.SamplingMessageContentBlock] = []
    if response.text.strip() or not response.tool_calls:
        blocks.append(types.TextContent(type="text", text=response.text))
    cut_off = " (its call was cut off at maxTokens)" if cut else ""
    for call in response.tool_calls:
        if call.name not in offered:
            raise SamplingRefused(
                f"the model called {call.name!r}, which the request did not offer{cut_off}",
                types.INTERNAL_ERROR,
            )
        checked = check_arguments(call.arguments or "{}", offered[call.name])
        if checked.error is not None:
            raise SamplingRefused(
                f"the model's arguments for {call.name!r} cannot be sent{cut_off}: {checked.error}",
                types.INTERNAL_ERROR,
            )
        blocks.append(
            types.ToolUseContent(
                type="tool_use", id=call.id, name=call.name, input=checked.arguments
            )
        )
    return types.CreateMessageResultWithTools(
        role="assistant", content=blocks, model=response.model, stop_reason=reason
    )
