"""Parallel: the local model and the provider answer the same prompt at the same time."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class ParallelStrategy(Strategy):
    """Both stream side by side; the provider's answer is the final one when it has one."""

    name = "parallel"
    label = "Side by side"
    kind = "side_by_side"

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        local, provider = await asyncio.gather(
            context.leg("local", context.local, "answer", request),
            context.leg("provider", context.provider, "answer", request),
        )
        if provider.response is not None:
            return "provider"
        return "local" if local.response is not None else None
