"""Draft → refine: the local model drafts; the provider corrects and completes the draft."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext

REFINE_INSTRUCTIONS = (
    "Below is a question and a draft answer written by a small local model. Write the final "
    "answer: keep what is right in the draft, fix what is wrong, fill in what is missing. "
    "Reply with the final answer only."
)


class DraftRefineStrategy(Strategy):
    """The provider writes the final answer, starting from the local draft."""

    name = "draft_refine"
    label = "Draft → refine"
    kind = "hybrid"

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        draft = await context.leg("local", context.local, "draft", request)
        if draft.response is None:
            context.note(f"no draft ({draft.error}): the provider answers alone")
            refine_request = request
        else:
            question = request.messages[-1].content
            refine_request = request.model_copy(
                update={
                    # Where the endpoint takes Predicted Outputs, unchanged draft text is cheap.
                    "prediction": draft.response.text,
                    "messages": (
                        *request.messages[:-1],
                        ChatMessage(
                            role="user",
                            content=(
                                f"{REFINE_INSTRUCTIONS}\n\nQuestion:\n{question}\n\n"
                                f"Draft answer:\n{draft.response.text}"
                            ),
                        ),
                    ),
                }
            )
        refined = await context.leg("provider", context.provider, "refine", refine_request)
        if refined.response is not None:
            return "provider"
        return "local" if draft.response is not None else None
