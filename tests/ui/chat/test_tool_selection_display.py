"""What the chat shows of the local side's choice of tools: the meter under the input gives a
request's tool-definition tokens with and without the choice, and the audit under the answer
lists the tools offered, why, and the tokens the choice cut."""

from __future__ import annotations

import qasync
from PySide6.QtWidgets import QPlainTextEdit

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.inference import InferenceResponse
from hybridmcp_app.orchestration.events import (
    HybridTrace,
    LegTrace,
    OfferedTool,
    ToolSelectionTrace,
)
from hybridmcp_app.orchestration.tool_offer import tool_meter
from hybridmcp_app.orchestration.trace_audit import audit_of
from hybridmcp_app.ui.chat.qt_answer_pane import audit_html
from hybridmcp_app.ui.chat.qt_mcp_chat_bar import QtMcpChatBar


def chosen() -> HybridTrace:
    tools = ToolSelectionTrace(
        available=40,
        offered=(
            OfferedTool(name="time__now", reason="ranked", score=0.61),
            OfferedTool(name="files__read_file", reason="pinned"),
            OfferedTool(name="calc__add", reason="recovered"),
        ),
        requests=2, tool_tokens_sent=700, tool_tokens_all=5_000,
    )  # fmt: skip
    response = InferenceResponse(request_id="r", backend="p", text="It is noon.", model="m")
    leg = LegTrace(leg="provider", backend="p", role="answer", response=response, tools=tools)
    return HybridTrace(
        strategy="provider", provider="p", legs=(leg,), final_leg="provider",
        provider_prompt_tokens=50, baseline_prompt_tokens=50,
    )  # fmt: skip


def test_the_audit_lists_the_tools_offered_with_why_and_the_tool_tokens_cut() -> None:
    text = audit_html(audit_of(chosen()))
    assert "Tools offered: 3 of 40: time__now (ranked 0.61), files__read_file (pinned), " in text
    assert "calc__add (recovered)" in text
    assert "≈ 700 tokens sent, ≈ 5,000 with every tool (2 request(s))" in text
    assert "<b>Tool definitions:</b> 4,300 prompt tokens fewer" in text
    assert "<b>Saving:</b> fewer tool definitions sent (below)" in text  # the one saving


def test_the_meter_adds_the_last_turns_tool_tokens_and_drops_them_for_a_turn_without(
    qt_loop: qasync.QEventLoop,
) -> None:
    prompt = QPlainTextEdit()
    bar = QtMcpChatBar(prompt, BackgroundTasks(qt_loop), lambda _turn: None)
    prompt.setPlainText("What time is it?")
    typed = bar.meter.text()
    bar.show_tool_tokens(tool_meter(chosen()))
    tools = "tools sent: 3 of 40, ≈ 350 tokens a request (every tool: ≈ 2,500)"
    assert bar.meter.text() == f"{typed} · {tools}"
    assert "the local side sent the provider only the tools it chose" in bar.meter.toolTip()
    prompt.setPlainText("And in Tokyo?")  # typing keeps the last turn's tools on the meter
    assert bar.meter.text().endswith(f"· {tools}")
    bar.show_tool_tokens(tool_meter(HybridTrace(strategy="provider")))
    assert "tools" not in bar.meter.text() and "tools it chose" not in bar.meter.toolTip()
