"""Sampling for MCP servers: a server's ``sampling/createMessage`` answered by the local model
(or the provider, when the user chose that for the server), with the user in the loop.

Every request is shown with the model chosen before it runs, and its answer before it goes
back (unless the user said "always" for that server); "always" and "never" are remembered per
server in ``mcp-grants.json``. Token limits hold three ways: the server's ``maxTokens``, the
server's limit in the grants, and what is left of the model's context. The handler never
raises: every refusal reaches the server as a JSON-RPC error with a one-line message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import mcp.types as types
from pydantic import ValidationError

from hybridmcp_app.config.mcp_grants import McpGrantsStore, SamplingGrant, ServerGrants
from hybridmcp_app.core.errors import HybridMCPError, describe_validation_error
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, InferenceResponse
from hybridmcp_app.core.parameters import MAX_STOP_SEQUENCES, ModelParameters
from hybridmcp_app.llm.backend_registry import BackendRegistry
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.services.mcp_sampling_forced import ForcedCall, complete_forced
from hybridmcp_app.services.mcp_sampling_messages import (
    SamplingRefused,
    Source,
    ToolChoice,
    chat_messages,
    choose_source,
    openai_tools,
    prompt_tokens,
    sampling_result,
)

log = logging.getLogger("hybridmcp.services.sampling")
USER_REJECTED = -1  # the spec's code for "User rejected sampling request"
SamplingDecision = Literal["once", "always", "deny", "never"]


@dataclass(frozen=True)
class SamplingReview:
    """What the user sees: who asks, the model chosen, the request in full, and what the host
    changed in it (``notes``). ``answer`` is set for the second look, before it goes back."""

    server: str
    source: Source
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    requested_max_tokens: int
    temperature: float | None
    stop: tuple[str, ...]
    tools: tuple[str, ...]
    notes: tuple[str, ...]
    answer: InferenceResponse | None = None


class SamplingApprover(Protocol):
    """The front end's part: ask about a request, then show its answer."""

    async def review_request(self, review: SamplingReview) -> SamplingDecision: ...

    async def review_answer(self, review: SamplingReview) -> bool:
        """True: send ``review.answer`` to the server."""
        ...


class DenyingApprover:
    """Where no one can be asked (the command line without ``--yes``): every request is denied."""

    async def review_request(self, review: SamplingReview) -> SamplingDecision:
        return "deny"

    async def review_answer(self, review: SamplingReview) -> bool:
        return False


def _error(code: int, message: str) -> types.ErrorData:
    return types.ErrorData(code=code, message=message)


class McpSampler:
    """The host's ``SampleHandler``: ``await sampler(server, params)``."""

    def __init__(
        self,
        grants: McpGrantsStore,
        local: Callable[[], Awaitable[ChatBackend | None]],
        providers: BackendRegistry | None,
        approver: SamplingApprover,
        parameters: Callable[[], ModelParameters] = ModelParameters,
    ) -> None:
        """``local``: the loaded local model (waits for one loading); ``parameters``: the
        sampling defaults a request's own temperature and stops are laid over."""
        self._grants, self._local, self._providers = grants, local, providers
        self.approver = approver
        self._parameters = parameters

    async def __call__(
        self, server: str, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        try:
            return await self._sample(server, params)
        except SamplingRefused as refused:
            log.info("sampling for %s refused: %s", server, refused)
            return _error(refused.code, f"{refused}")
        except HybridMCPError as error:  # no key, a provider down, the model failed
            log.warning("sampling for %s failed: %s", server, error)
            return _error(types.INTERNAL_ERROR, f"HybridMCP could not sample: {error}")

    async def _sample(
        self, server: str, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools:
        grant = await asyncio.to_thread(self._grants.grants_for, server)
        sampling = grant.sampling
        if sampling.source == "off" or sampling.approval == "never":
            why = "is off" if sampling.source == "off" else "is refused"
            raise SamplingRefused(
                f"sampling for the server {server!r} {why} in HybridMCP's MCP settings",
                USER_REJECTED,
            )
        local = await self._local() if sampling.source != "provider" else None
        source = choose_source(
            sampling.source, params.model_preferences,
            _model_label(local) if local else None, self._provider_model(sampling),
        )  # fmt: skip
        async with self._backend(source, local, sampling) as backend:
            review, request, forced = self._prepare(server, params, sampling, source, backend)
            decision: SamplingDecision = "always"
            if sampling.approval == "ask":
                decision = await self.approver.review_request(review)
                if decision in ("always", "never"):
                    await self._remember(server, decision)
                if decision in ("deny", "never"):
                    raise SamplingRefused("the user declined the sampling request", USER_REJECTED)
            response = await (
                complete_forced(backend, request, forced)
                if forced is not None
                else backend.complete(request)
            )
        offered = {tool.name: tool.input_schema for tool in params.tools} if params.tools else None
        result = sampling_result(response, offered, _tool_choice(params))
        answered = replace(review, answer=response)
        if decision != "always" and not await self.approver.review_answer(answered):
            raise SamplingRefused("the user declined to send the answer", USER_REJECTED)
        return result

    def _prepare(
        self,
        server: str,
        params: types.CreateMessageRequestParams,
        sampling: SamplingGrant,
        source: Source,
        backend: ChatBackend,
    ) -> tuple[SamplingReview, InferenceRequest, ForcedCall | None]:
        """The request as the model will run it, what the user is shown about it, and the
        grammar-forced call it needs (a required call from a model without tools)."""
        model = _model_label(backend)
        notes: list[str] = []
        if params.include_context not in (None, "none"):
            notes.append(
                f"includeContext {params.include_context!r} is deprecated and was treated as "
                "'none': no other context was added"
            )
        messages = chat_messages(params, model)
        tools = openai_tools(params.tools) if params.tools else ()
        choice = _tool_choice(params)
        forced = None
        if tools and choice != "none" and not backend.capabilities.supports_tools:
            if choice != "required" or not backend.capabilities.supports_grammar:
                raise SamplingRefused(
                    f"the request offers tools, and {model} cannot call tools (its chat template "
                    "takes none): ask with toolChoice 'required' (a call forced by a grammar) "
                    "or 'none', or choose a model whose template takes tools, or the provider, "
                    "for this server's sampling"
                )
            forced = ForcedCall.of(server, params.tools or ())
            messages, tools = list(forced.messages(messages)), ()
            notes.append(
                f"{model}'s template takes no tools: the required call is forced by a grammar, "
                "and the model is told the tools in its last message"
            )
        if len(params.stop_sequences or ()) > MAX_STOP_SEQUENCES:
            raise SamplingRefused(f"at most {MAX_STOP_SEQUENCES} stop sequences are supported")
        max_tokens = min(params.max_tokens, sampling.max_tokens)
        if max_tokens < params.max_tokens:
            notes.append(f"maxTokens {params.max_tokens} cut to this server's limit {max_tokens}")
        window = backend.context_window
        if window is not None:
            room = window - prompt_tokens(messages, tools)
            if room < 1:
                raise SamplingRefused(
                    f"the request (about {window - room} tokens) does not fit {model}'s context "
                    f"of {window} tokens"
                )
            if room < max_tokens:
                notes.append(f"maxTokens cut to {room}: what is left of {model}'s context")
                max_tokens = room
        base = self._parameters()
        try:
            parameters = base.model_copy(
                update={
                    "max_tokens": max_tokens,
                    "stop": tuple(params.stop_sequences or ()),
                    **(
                        {"temperature": params.temperature}
                        if params.temperature is not None
                        else {}
                    ),
                }
            )
            parameters = ModelParameters.model_validate(parameters.model_dump())
            request = InferenceRequest(
                messages=tuple(messages),
                parameters=parameters,
                tools=tools,
                tool_choice=choice if tools else None,
            )
        except ValidationError as error:
            raise SamplingRefused(describe_validation_error(error)[0]) from None
        review = SamplingReview(
            server=server, source=source, model=model, messages=request.messages,
            max_tokens=max_tokens, requested_max_tokens=params.max_tokens,
            temperature=params.temperature, stop=parameters.stop,
            tools=tuple(tool.name for tool in params.tools or ()), notes=tuple(notes),
        )  # fmt: skip
        return review, request, forced

    def _provider_model(self, sampling: SamplingGrant) -> str | None:
        if self._providers is None or sampling.source == "local":
            return None
        try:
            return self._providers.config(sampling.provider).default_model
        except HybridMCPError:
            return None

    @contextlib.asynccontextmanager
    async def _backend(
        self, source: Source, local: ChatBackend | None, sampling: SamplingGrant
    ) -> AsyncIterator[ChatBackend]:
        if source == "local":
            if local is None:
                raise SamplingRefused(
                    "no local model is loaded: load one in HybridMCP to answer sampling requests",
                    types.INTERNAL_ERROR,
                )
            yield local
            return
        if self._providers is None:
            raise SamplingRefused("no provider is available here", types.INTERNAL_ERROR)
        async with self._providers.lease(sampling.provider) as backend:
            yield backend

    async def _remember(self, server: str, decision: Literal["always", "never"]) -> None:
        def remembered(grants: ServerGrants) -> ServerGrants:
            sampling = grants.sampling.model_copy(update={"approval": decision})
            return grants.model_copy(update={"sampling": sampling})

        await asyncio.to_thread(self._grants.update, server, remembered)


def _tool_choice(params: types.CreateMessageRequestParams) -> ToolChoice:
    """The request's ``toolChoice`` mode ("auto" when it sets none)."""
    return params.tool_choice.mode if params.tool_choice and params.tool_choice.mode else "auto"


def _model_label(backend: ChatBackend) -> str:
    """The model's name as the answer's ``model`` carries it."""
    for attribute in ("model_name", "model"):
        value = getattr(backend, attribute, None)
        if isinstance(value, str) and value:
            return value
    return backend.name
