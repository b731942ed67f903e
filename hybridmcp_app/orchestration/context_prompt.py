"""How sources reach a model: inlined in full (provider-only), or as a strategy shapes them."""

from __future__ import annotations

import re

from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest

CONTEXT_INSTRUCTIONS = "Answer the question using the context. Be brief."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n{2,}")


def question_of(request: InferenceRequest) -> str:
    return request.messages[-1].content


def split_sentences(text: str) -> list[str]:
    """Sentences (and paragraph breaks) of ``text``, stripped, none empty."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def render_context(documents: tuple[ContextDocument, ...] | list[ContextDocument]) -> str:
    blocks = []
    for index, document in enumerate(documents, 1):
        title = f" {document.title}" if document.title else ""
        blocks.append(f"[{index}]{title}\n{document.text.strip()}")
    return "\n\n".join(blocks)


def with_context(
    request: InferenceRequest, documents: tuple[ContextDocument, ...]
) -> InferenceRequest:
    """The request with ``documents`` written into its last message (and no separate context)."""
    if not documents:
        return request.model_copy(update={"context": ()})
    last = request.messages[-1]
    content = (
        f"{CONTEXT_INSTRUCTIONS}\n\nContext:\n{render_context(documents)}\n\n"
        f"Question: {last.content}"
    )
    messages = (*request.messages[:-1], ChatMessage(role=last.role, content=content))
    return request.model_copy(update={"messages": messages, "context": ()})


def inline_context(request: InferenceRequest) -> InferenceRequest:
    """What provider-only sends: every source in full."""
    return with_context(request, request.context)
