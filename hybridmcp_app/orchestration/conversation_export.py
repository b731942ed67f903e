"""A conversation as Markdown: each prompt, each model's answer, and a metrics table per turn."""

from __future__ import annotations

from datetime import datetime

from hybridmcp_app.orchestration.conversation import ConversationRecord, PaneRecord
from hybridmcp_app.orchestration.library_sources import sources_markdown


def _number(value: float | None, pattern: str) -> str:
    return "–" if value is None else format(value, pattern)


def _metrics_row(pane: PaneRecord, final: bool) -> str:
    ttft = None if pane.time_to_first_token_s is None else pane.time_to_first_token_s * 1000
    return (
        f"| {pane.leg}{' (final)' if final else ''} | {pane.model or pane.backend} | "
        f"{_number(ttft, '.0f')} | {_number(pane.tokens_per_s, '.1f')} | "
        f"{pane.prompt_tokens} | {pane.completion_tokens} | {_number(pane.cost_usd, '.5f')} |"
    )


def conversation_to_markdown(conversation: ConversationRecord) -> str:
    created = datetime.fromtimestamp(conversation.created).strftime("%Y-%m-%d %H:%M")
    lines = [f"# {conversation.title}", "", f"*{created} · HybridMCP*", ""]
    for number, turn in enumerate(conversation.turns, 1):
        lines += [f"## {number}. You", "", turn.prompt.strip(), ""]
        lines += [f"*{line}*" for line in turn.about()] + ([""] if turn.about() else [])
        for pane in turn.panes:
            lines += [f"### {pane.leg} — {pane.model or pane.backend}", ""]
            lines += [pane.text.strip() or f"*{pane.error or 'no answer'}*", ""]
        lines += [
            f"**Strategy:** {turn.strategy}"
            + ("  (saved before it finished)" if turn.partial else ""),
            "",
            "| pane | model | first token ms | tokens/s | tokens in | tokens out | cost $ |",
            "|---|---|---|---|---|---|---|",
            *(_metrics_row(pane, pane.leg == turn.chosen_leg) for pane in turn.panes),
            "",
            f"Provider prompt tokens {turn.provider_prompt_tokens} of "
            f"{turn.baseline_prompt_tokens} for provider-only (saved {turn.tokens_saved}).",
            "",
        ]
        lines += [f"> {note}" for note in turn.notes] + ([""] if turn.notes else [])
        if turn.sources:
            lines += [sources_markdown(turn.sources), ""]
    return "\n".join(lines).rstrip() + "\n"


def transcript_markdown(conversation: ConversationRecord, upto: int) -> str:
    """The first ``upto`` turns as Markdown: each prompt (with a line for the server prompt it
    came from and each attachment) and every model's answer (or why there is none), the one
    the chat went on with marked when there are several."""
    parts = []
    for turn in conversation.turns[:upto]:
        parts.append(f"**You:** {turn.prompt}")
        parts += [f"*{line}*" for line in turn.about()]
        several = len(turn.panes) > 1
        for pane in turn.panes:
            went_on = several and pane.leg == turn.chosen_leg and bool(pane.text)
            mark = " (continued from)" if went_on else ""
            body = pane.text.strip() or f"*{pane.error or 'no answer'}*"
            parts.append(f"**{pane.leg.title()} · {pane.model or pane.backend}{mark}:**\n\n{body}")
        if turn.sources:
            parts.append(sources_markdown(turn.sources))
        parts.append("---")
    return "\n\n".join(parts)
