"""The one interface every LLM backend implements: capabilities and an async event stream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import (
    InferenceRequest,
    InferenceResponse,
    StreamCompleted,
    StreamEvent,
    StreamFailed,
)
from hybridmcp_app.core.model_context import ModelCapabilities


class ChatBackend(ABC):
    """A model that answers ``InferenceRequest``s by streaming ``StreamEvent``s.

    The stream ends with exactly one ``StreamCompleted`` or ``StreamFailed``. A consumer that
    stops iterating cancels the generation; the backend stays usable for the next request.
    """

    name: str

    @property
    @abstractmethod
    def capabilities(self) -> ModelCapabilities: ...

    @property
    def context_window(self) -> int | None:
        """Tokens the model can take in one request, when known."""
        return None

    @abstractmethod
    def stream(self, request: InferenceRequest) -> AsyncIterator[StreamEvent]:
        """Yield events as they come; an async generator in every implementation."""

    async def complete(self, request: InferenceRequest) -> InferenceResponse:
        """Run the stream to its end and return the finished response."""
        async for event in self.stream(request):
            if isinstance(event, StreamCompleted):
                return event.response
            if isinstance(event, StreamFailed):
                raise BackendError(event.message)
        raise BackendError(f"{self.name} ended its stream without a result")
