"""The strategy interface: one small class per way of combining the two models."""

from __future__ import annotations

from abc import ABC, abstractmethod

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.run_context import RunContext


class Strategy(ABC):
    """Runs legs on the context and returns the name of the leg whose answer is final."""

    name: str
    needs_local: bool = True
    needs_provider: bool = True
    # False: the orchestrator inlines the request's sources before ``execute`` sees it.
    shapes_context: bool = False
    needs_embedder: bool = False

    @abstractmethod
    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None: ...
