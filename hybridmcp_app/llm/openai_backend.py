"""``OpenAICompatBackend``: one class for every OpenAI-compatible endpoint, on the ``openai`` SDK.

Retries with backoff (honouring ``Retry-After`` on 429 and 5xx) and each attempt's timeout are the
SDK's own (``max_retries``, ``timeout``): they apply until a stream starts; a stream that breaks
later ends with ``StreamFailed`` and the text already streamed stays valid. Over all of it, one
deadline for the first chunk and one for the whole answer (``stream_deadlines``); the key goes
only to the origin it was saved for (``SecretStore.get(origin=…)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
from pydantic import SecretStr

from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.core.inference import (
    ChatMessage,
    FinishReason,
    InferenceRequest,
    InferenceResponse,
    StreamCompleted,
    StreamEvent,
    StreamFailed,
    StreamStarted,
    TextDelta,
    Timings,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from hybridmcp_app.core.llm_configs import ProviderConfig
from hybridmcp_app.core.model_context import ModelCapabilities
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.provider_catalog import PriceTable
from hybridmcp_app.llm.provider_errors import describe_error
from hybridmcp_app.llm.stream_deadlines import within_deadlines

log = logging.getLogger("hybridmcp.llm.provider")
_FINISH: dict[str, FinishReason] = {
    "stop": "stop", "length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls",
    "content_filter": "stop",
}  # fmt: skip
_EMPTY_BECAUSE = {  # why an answer may come back without text
    "length": " (the token limit was reached before any text: raise max tokens)",
    "content_filter": " (the provider's content filter withheld the answer)",
}


@dataclass(frozen=True)
class ConnectionReport:
    """The result of "Test connection"."""

    ok: bool
    message: str
    models: tuple[str, ...] = ()
    latency_s: float | None = None


def _to_openai(message: ChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        data["name"] = message.name
    if message.tool_call_id:
        data["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    return data


def _nothing_returned(name: str, finish: str, usage: Usage) -> str:
    """One line for an answer with no text and no tool call: what the provider did return."""
    why = _EMPTY_BECAUSE.get(finish, "")
    estimated = " (estimated: none reported)" if usage.estimated else ""
    return (
        f"{name} returned no text (finish reason: {finish}{why}; "
        f"{usage.prompt_tokens:,} prompt tokens{estimated}, "
        f"{usage.completion_tokens:,} completion tokens)"
    )


class OpenAICompatBackend(ChatBackend):
    """A provider model behind an OpenAI-compatible HTTP API."""

    def __init__(
        self,
        config: ProviderConfig,
        api_key: SecretStr | None,
        *,
        prices: PriceTable | None = None,
        model: str | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.model = model or config.default_model
        self._prices = prices
        # OpenAI takes {"type": "json_schema", ...}; llama.cpp's server and some others take
        # {"type": "json_object", "schema": ...}. Learned from the first refusal.
        self._schema_style = "openai"
        key = api_key.get_secret_value() if api_key is not None else "not-needed"
        common: dict[str, Any] = {
            "api_key": key,
            "timeout": config.timeout_s,
            "max_retries": config.max_retries,
            "default_headers": config.headers or None,
        }
        if config.azure_api_version:
            self._client: openai.AsyncOpenAI = openai.AsyncAzureOpenAI(
                azure_endpoint=str(config.base_url),
                api_version=config.azure_api_version,
                **common,
            )
        else:
            self._client = openai.AsyncOpenAI(base_url=str(config.base_url), **common)

    def __repr__(self) -> str:
        return f"OpenAICompatBackend(name={self.name!r}, model={self.model!r})"

    @classmethod
    def from_settings(
        cls, config: ProviderConfig, secrets: SecretStore, prices: PriceTable | None = None
    ) -> OpenAICompatBackend:
        """Build it with its key from the keychain; a missing key is an actionable error."""
        key = None
        if config.api_key_secret:
            key = secrets.get(config.api_key_secret, origin=origin_of(str(config.base_url)))
            if key is None:
                raise SecretStoreError(
                    f"provider {config.name!r} needs the API key {config.api_key_secret!r}, which "
                    "is not in the keychain: add it in Settings → Providers"
                )
        return cls(config, key, prices=prices)

    @property
    def capabilities(self) -> ModelCapabilities:
        return ModelCapabilities(
            instruction_tuned=True,
            supports_tools=True,
            supports_logprobs=True,
            supports_json_schema=True,
        )

    async def list_models(self) -> list[str]:
        page = await self._client.models.list()
        return sorted(model.id for model in page.data)

    async def test_connection(self) -> ConnectionReport:
        started = time.perf_counter()
        deadline = self.config.first_token_timeout_s  # a silent server fails in this, retries too
        try:
            async with asyncio.timeout(deadline):
                models = await self.list_models()
        except TimeoutError:
            return ConnectionReport(False, f"{self.name} did not answer within {deadline:g} s")
        except openai.OpenAIError as error:
            return ConnectionReport(False, describe_error(error, self.name)[0])
        latency = time.perf_counter() - started
        found = "" if self.model in models or not models else f"; {self.model!r} is not listed"
        return ConnectionReport(
            True, f"connected in {latency * 1000:.0f} ms, {len(models)} model(s){found}",
            tuple(models), latency,
        )  # fmt: skip

    def _arguments(self, request: InferenceRequest) -> dict[str, Any]:
        params = request.parameters
        arguments: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [_to_openai(m) for m in request.messages],
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "presence_penalty": params.presence_penalty,
            "frequency_penalty": params.frequency_penalty,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            arguments["stop"] = list(params.stop)
        if params.seed is not None:
            arguments["seed"] = params.seed
        if request.tools:
            arguments["tools"] = list(request.tools)
            if request.tool_choice is not None:
                arguments["tool_choice"] = request.tool_choice
        if request.logprobs:
            arguments["logprobs"] = True
        if request.prediction and self.config.supports_prediction:
            arguments["prediction"] = {"type": "content", "content": request.prediction}
        response_format = request.response_format
        if response_format.type == "json_schema":
            schema = response_format.json_schema
            arguments["response_format"] = (
                {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
                if self._schema_style == "openai"
                else {"type": "json_object", "schema": schema}
            )
        return arguments

    def request_body(self, request: InferenceRequest) -> dict[str, Any]:
        """The JSON body this backend sends for ``request`` (the key travels in a header)."""
        return self._arguments(request)

    async def _create(self, request: InferenceRequest) -> Any:
        try:
            return await self._client.chat.completions.create(**self._arguments(request))
        except openai.APIStatusError as error:
            refused_schema = (
                request.response_format.type == "json_schema"
                and self._schema_style == "openai"
                and "response_format" in str(error)
            )
            if not refused_schema:
                raise
            log.info("%s refused OpenAI-style json_schema; using json_object + schema", self.name)
            self._schema_style = "json_object"
            return await self._client.chat.completions.create(**self._arguments(request))

    async def stream(self, request: InferenceRequest) -> AsyncIterator[StreamEvent]:
        model = request.model or self.model
        if request.response_format.type == "grammar":
            yield StreamFailed(
                message=f"{self.name} does not take GBNF grammars; use a JSON schema"
            )
            return
        started = time.perf_counter()
        first_token_at: float | None = None
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        logprobs: list[float] = []
        usage: Usage | None = None
        finish: FinishReason | None = None
        raw_finish = ""  # as the provider wrote it ("content_filter" is a "stop" to the rest)
        yield StreamStarted(request_id=request.request_id, model=model)
        chunks = within_deadlines(
            lambda: self._create(request),
            lambda stream: stream.close(),
            first_chunk_s=self.config.first_token_timeout_s,
            total_s=self.config.total_timeout_s,
        )
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    if chunk.usage is not None:
                        usage = Usage(
                            prompt_tokens=chunk.usage.prompt_tokens,
                            completion_tokens=chunk.usage.completion_tokens,
                        )
                    for choice in chunk.choices[:1]:
                        delta = choice.delta
                        if delta.content:
                            first_token_at = first_token_at or time.perf_counter()
                            text.append(delta.content)
                            yield TextDelta(text=delta.content)
                        for call in delta.tool_calls or ():
                            first_token_at = first_token_at or time.perf_counter()
                            slot = calls.setdefault(
                                call.index, {"id": "", "name": "", "arguments": ""}
                            )
                            function = call.function
                            slot["id"] = call.id or slot["id"]
                            slot["name"] = (function.name if function else None) or slot["name"]
                            piece = (function.arguments if function else None) or ""
                            slot["arguments"] += piece
                            yield ToolCallDelta(
                                index=call.index,
                                id=call.id,
                                name=function.name if function else None,
                                arguments=piece,
                            )
                        if choice.logprobs and choice.logprobs.content:
                            logprobs += [item.logprob for item in choice.logprobs.content]
                        if choice.finish_reason:
                            raw_finish = choice.finish_reason
                            finish = _FINISH.get(raw_finish, "stop")
        except Exception as error:  # every provider failure ends the stream with a reason
            message, retryable = describe_error(error, self.name)
            log.warning("%s: %s", self.name, message)
            yield StreamFailed(message=message, retryable=retryable)
            return
        if finish is None:
            # The connection closed without a finish reason: the answer is cut off.
            message = f"{self.name} ended the stream before finishing the answer"
            log.warning(message)
            yield StreamFailed(message=message, retryable=True)
            return
        finished = time.perf_counter()
        answer = "".join(text)
        if usage is None:
            prompt_text = " ".join(m.content for m in request.messages)
            usage = Usage(
                prompt_tokens=estimate_tokens(prompt_text),
                completion_tokens=estimate_tokens(
                    answer + "".join(c["arguments"] for c in calls.values())
                ),
                estimated=True,
            )
        if not answer and not calls:  # nothing to show: say what came back instead
            message = _nothing_returned(self.name, raw_finish, usage)
            log.warning(message)
            yield StreamFailed(message=message)
            return
        decode_s = finished - first_token_at if first_token_at else 0.0
        yield StreamCompleted(
            response=InferenceResponse(
                request_id=request.request_id,
                backend=self.name,
                model=model,
                text=answer,
                finish_reason=finish,
                tool_calls=tuple(
                    ToolCall(
                        id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"] or "{}"
                    )
                    for i, c in sorted(calls.items())
                    if c["name"]
                ),
                usage=usage,
                timings=Timings(
                    time_to_first_token_s=(first_token_at - started) if first_token_at else None,
                    total_s=finished - started,
                    decode_tokens_per_s=(usage.completion_tokens - 1) / decode_s
                    if usage.completion_tokens > 1 and decode_s > 0
                    else None,
                ),
                cost_usd=self._prices.cost(model, usage) if self._prices else None,
                token_logprobs=tuple(logprobs),
            )
        )

    @property
    def closed(self) -> bool:
        """Whether ``close`` has let go of the HTTP client."""
        return self._client.is_closed()

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> OpenAICompatBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
