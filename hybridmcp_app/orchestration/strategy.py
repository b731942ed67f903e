"""The strategy interface: one small class per way of combining the two models.

A strategy carries what the front ends show of it (``label``, ``kind``); it is registered once, in
``orchestration.strategies``. Importing a strategy stays light (no numpy, no SDKs): the command
line and the window list them at start-up; what a strategy runs on is imported when it runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:  # run_context brings numpy and the embedder
    from hybridmcp_app.core.inference import InferenceRequest
    from hybridmcp_app.orchestration.run_context import RunContext

# local / provider: one model answers alone; side_by_side: both answer, plainly; hybrid: the two
# work together on one answer, which the chat marks and explains with the trace.
StrategyKind = Literal["local", "provider", "side_by_side", "hybrid"]


class Strategy(ABC):
    """Runs legs on the context and returns the name of the leg whose answer is final."""

    name: ClassVar[str]  # in settings, on the command line, in the ledger
    label: ClassVar[str]  # what the window shows, e.g. "Boost (compress sources)"
    kind: ClassVar[StrategyKind]
    needs_local: bool = True
    needs_provider: bool = True
    # False: the orchestrator inlines the request's sources before ``execute`` sees it.
    shapes_context: bool = False
    needs_embedder: bool = False

    @abstractmethod
    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None: ...
