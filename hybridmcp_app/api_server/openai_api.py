"""A local OpenAI-compatible API: any OpenAI client, editor or agent gets HybridMCP's models and
its hybrid strategies.

``GET /v1/models`` lists ``local`` (the local model), ``provider/<name>`` for each configured
provider, and ``hybrid/<strategy>`` for every strategy that combines them (``hybrid/boost``…).
``POST /v1/chat/completions`` runs the request as one turn of the app's ``TurnRunner`` with
that strategy (as the window runs it: the same cost and savings records), whole or streamed
(server-sent events, as OpenAI sends them). Every request passes ``HttpGuard`` first:
``Authorization: Bearer <token>``, a Host and Origin naming this server, a body of at most 10 MB
(``json_body``: nesting at most 64 levels). A single-leg run (``local``, ``provider/…``) streams
as it is generated; a hybrid run streams its final answer once the orchestrator has chosen it
(the other legs are drafts, checks or fallbacks that the client must not see as the answer).
A single-leg run whose provider fails may be answered by the local model (``failover_to_local``):
what the provider had streamed stays, a bracketed line says so, and the local answer follows.
Every answer, whole or in its last chunk, carries the run's audit as ``hybridmcp``
(``orchestration.trace_audit``: the provider requests as sent, their counts, the baseline and
the saving kind), as ``hybridmcp ask --json`` and the chat show it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hybridmcp_app.api_server.chat_request import ChatCompletionBody, read_chat_request
from hybridmcp_app.api_server.json_body import MAX_BODY, BodyRefused
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ChatMessage, TextDelta
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.http_serving.http_guard import HttpGuard
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    HybridTrace,
    LegEvent,
    LegStarted,
    RunCompleted,
)
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.orchestration.trace_audit import audit_of
from hybridmcp_app.services.turn_runner import ChatEvent, Turn

SINGLE_LEG = ("local", "provider")  # the kinds of strategy that run one model
OWNER = "hybridmcp"


class Turns(Protocol):
    """What the API needs of the app's ``TurnRunner``."""

    def run(self, turn: Turn) -> AsyncGenerator[ChatEvent, None]: ...

    def provider_names(self) -> list[str]: ...


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


class OpenAIApi:
    """The API as an ASGI app (Starlette behind ``HttpGuard``) over the app's turns."""

    def __init__(self, token: str, turns: Turns) -> None:
        if not token:
            raise ValueError("the API needs a token")
        self.token, self.turns = token, turns
        routes = Starlette(routes=[
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
        ])  # fmt: skip
        self.app = HttpGuard(routes, token=token, max_body=MAX_BODY)

    def model_ids(self) -> list[str]:
        hybrid = [f"hybrid/{name}" for name in sorted(STRATEGIES.names)
                  if STRATEGIES.kind(name) not in SINGLE_LEG]  # fmt: skip
        providers = self.turns.provider_names()
        return ["local", *(f"provider/{name}" for name in providers), *hybrid]

    async def models(self, request: Request) -> Response:
        created = int(time.time())
        return JSONResponse({"object": "list", "data": [
            {"id": model, "object": "model", "created": created, "owned_by": OWNER}
            for model in self.model_ids()
        ]})  # fmt: skip

    def _route(self, model: str) -> tuple[str, str | None] | None:
        """The strategy and provider a model id names."""
        if model == "local":
            return "local", None
        kind, _, name = model.partition("/")
        if kind == "provider" and name in self.turns.provider_names():
            return "provider", name
        if (
            kind == "hybrid"
            and name in STRATEGIES.names
            and STRATEGIES.kind(name) not in SINGLE_LEG
        ):
            return name, None
        return None

    async def chat_completions(self, request: Request) -> Response:
        try:
            body = await asyncio.to_thread(read_chat_request, await request.body())
        except BodyRefused as refused:
            return _error(400, str(refused))
        route = self._route(body.model)
        if route is None:
            return _error(404, f"no model {body.model!r}; GET /v1/models lists them",
                          "model_not_found")  # fmt: skip
        try:
            turn = _turn(body, *route)
        except ValueError as error:
            return _error(400, str(error))
        events = self.turns.run(turn)
        try:
            opening = await _opening(events)
        except HybridMCPError as error:
            await events.aclose()
            return _error(503, str(error))
        run = _chained(opening, events)
        completion_id = f"chatcmpl-{secrets.token_hex(12)}"
        if body.stream:
            chunks = _stream(
                run, completion_id, body.model, live=STRATEGIES.kind(turn.strategy) in SINGLE_LEG
            )
            return StreamingResponse(_closing(chunks, events), media_type="text/event-stream")
        try:
            trace = await _finish(run)
        finally:
            await events.aclose()
        answer = _final(trace)
        if answer is None:
            return _error(502, _failure(trace), "upstream_error")
        assert trace is not None
        text, finish, usage = answer
        return JSONResponse({
            "id": completion_id, "object": "chat.completion", "created": int(time.time()),
            "model": body.model, "usage": usage,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": text}}],
            "hybridmcp": _audit(trace),
        })  # fmt: skip


def _turn(body: ChatCompletionBody, strategy: str, provider: str | None) -> Turn:
    """The request as a turn: its last message is the prompt, the others its history."""
    *earlier, last = body.messages
    if last.role != "user" or not last.text().strip():
        raise ValueError("the last message must be the user's, with text")
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    parameters = ModelParameters().model_copy(update={key: value for key, value in {
        "temperature": body.temperature, "top_p": body.top_p, "seed": body.seed,
        "max_tokens": body.max_completion_tokens or body.max_tokens,
        "stop": tuple(stops) or None,
    }.items() if value is not None})  # fmt: skip
    history = tuple(
        ChatMessage(role="system" if m.role == "developer" else m.role, content=m.text())
        for m in earlier
    )
    return Turn(
        prompt=last.text(), strategy=strategy, history=history, parameters=parameters,
        provider=provider,
    )  # fmt: skip


async def _opening(events: AsyncGenerator[ChatEvent, None]) -> list[ChatEvent]:
    """The turn's events up to the first from a model: a turn that cannot start (no provider,
    no key, no local model) raises here, before any answer is sent."""
    opening: list[ChatEvent] = []
    async for event in events:
        opening.append(event)
        if not isinstance(event, DecisionNote):
            break
    return opening


async def _chained(
    opening: list[ChatEvent], events: AsyncIterator[ChatEvent]
) -> AsyncIterator[ChatEvent]:
    for event in opening:
        yield event
    async for event in events:
        yield event


async def _closing(
    chunks: AsyncIterator[str], events: AsyncGenerator[ChatEvent, None]
) -> AsyncIterator[str]:
    """``chunks``, then the turn closed (also when the client goes away)."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await events.aclose()


async def _finish(run: AsyncIterator[Any]) -> HybridTrace | None:
    trace = None
    async for event in run:
        if isinstance(event, RunCompleted):
            trace = event.trace
    return trace


def _final(trace: HybridTrace | None) -> tuple[str, str, dict[str, int]] | None:
    if trace is None or trace.final_leg is None:
        return None
    leg = next((leg for leg in trace.legs if leg.leg == trace.final_leg), None)
    if leg is None or leg.response is None:
        return None
    usage = leg.response.usage
    finish = "length" if leg.response.finish_reason == "length" else "stop"
    return leg.response.text, finish, {
        "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }  # fmt: skip


def _audit(trace: HybridTrace) -> dict[str, Any]:
    return audit_of(trace).model_dump(mode="json")


def _failure(trace: HybridTrace | None) -> str:
    errors = [f"{leg.leg}: {leg.error}" for leg in (trace.legs if trace else ()) if leg.error]
    return "no answer: " + ("; ".join(errors) or "the run ended without one")


async def _stream(
    run: AsyncIterator[Any], completion_id: str, model: str, *, live: bool
) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return "data: " + json.dumps({
            "id": completion_id, "object": "chat.completion.chunk", "created": created,
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }) + "\n\n"  # fmt: skip

    yield chunk({"role": "assistant", "content": ""})
    trace = None
    sent = False
    async for event in run:
        if live and isinstance(event, LegEvent) and isinstance(event.event, TextDelta):
            sent = True
            yield chunk({"content": event.event.text})
        elif live and sent and isinstance(event, LegStarted) and event.role == "fallback":
            yield chunk({"content": "\n\n[the provider failed: the local model answers]\n\n"})
        elif isinstance(event, RunCompleted):
            trace = event.trace
    answer = _final(trace)
    if answer is None:
        yield "data: " + json.dumps({"error": {"message": _failure(trace),
                                               "type": "upstream_error"}}) + "\n\n"  # fmt: skip
    else:
        assert trace is not None
        text, finish, _usage = answer
        if not sent and text:
            yield chunk({"content": text})
        yield chunk({}, finish, hybridmcp=_audit(trace))
    yield "data: [DONE]\n\n"
