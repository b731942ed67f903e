"""The sampling approval dialog: the request, the model and the answer shown in full; Allow
once / Always / Never / Deny, Esc denying; awaited without blocking the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hybridmcp_app.core.inference import ChatMessage, InferenceResponse, ToolCall
from hybridmcp_app.services.mcp_sampling import SamplingReview
from hybridmcp_app.ui.mcp.qt_sampling_dialog import QtSamplingApprover, QtSamplingDialog
from tests.helpers.waiting import wait_until

REVIEW = SamplingReview(
    server="notes",
    source="local",
    model="SmolLM2 135M Instruct",
    messages=(
        ChatMessage(role="system", content="Answer briefly."),
        ChatMessage(role="user", content="Summarise my meeting notes."),
    ),
    max_tokens=64,
    requested_max_tokens=500,
    temperature=0.0,
    stop=(),
    tools=(),
    notes=("maxTokens 500 cut to this server's limit 64",),
)
ANSWER = InferenceResponse(
    request_id="r", backend="local", model="SmolLM2 135M Instruct", text="Three decisions.",
    tool_calls=(ToolCall(id="c1", name="add", arguments='{"a": 1}'),),
)  # fmt: skip


def run_dialog(
    qtbot: QtBot, qt_loop: qasync.QEventLoop, review: SamplingReview, press: str
) -> tuple[object, dict[str, object]]:
    """Ask through the approver, then press ``press`` (a button's attribute, or 'escape');
    returns the answer and what the dialog showed (it is deleted once answered)."""
    parent = QWidget()
    qtbot.addWidget(parent)
    approver = QtSamplingApprover(parent)
    seen: dict[str, object] = {}

    async def scenario() -> object:
        asking = (
            approver.review_answer(review) if review.answer else approver.review_request(review)
        )
        task = asyncio.ensure_future(asking)
        await wait_until(lambda: bool(parent.findChildren(QtSamplingDialog)))
        (dialog,) = parent.findChildren(QtSamplingDialog)
        seen.update(
            title=dialog.windowTitle(), request=dialog.request.toPlainText(),
            answer=dialog.answer.toPlainText(), send=dialog.allow_once.text(),
            always_hidden=dialog.allow_always.isHidden(), never_hidden=dialog.never.isHidden(),
            answer_hidden=dialog.answer.isHidden(),
        )  # fmt: skip
        if press == "escape":
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        else:
            qtbot.mouseClick(getattr(dialog, press), Qt.MouseButton.LeftButton)
        return await task

    return qt_loop.run_until_complete(scenario()), seen


def test_the_request_stage_shows_server_model_messages_limit_and_notes(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    decision, dialog = run_dialog(qtbot, qt_loop, REVIEW, "allow_once")
    assert decision == "once"
    text = str(dialog["request"])
    assert "[system] Answer briefly." in text and "[user] Summarise my meeting notes." in text
    assert "up to 64 tokens" in text and "cut to this server's limit 64" in text
    assert dialog["title"] == "Allow this sampling request?"
    assert dialog["answer_hidden"]  # no empty answer box over the heading


def test_always_and_never_are_offered_for_the_request(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    for press, expected in (("allow_always", "always"), ("never", "never")):
        decision, _ = run_dialog(qtbot, qt_loop, REVIEW, press)
        assert decision == expected


def test_escape_denies_the_request(qtbot: QtBot, qt_loop: qasync.QEventLoop) -> None:
    decision, _ = run_dialog(qtbot, qt_loop, REVIEW, "escape")
    assert decision == "deny"


def test_the_answer_stage_shows_the_answer_and_its_calls_and_sends_only_on_send(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    answered = replace(REVIEW, answer=ANSWER)
    sent, dialog = run_dialog(qtbot, qt_loop, answered, "allow_once")
    assert sent is True and dialog["send"] == "Send"
    assert dialog["answer"] == 'Three decisions.\ncalls add({"a": 1})'
    assert dialog["always_hidden"] and dialog["never_hidden"]
    withheld, _ = run_dialog(qtbot, qt_loop, answered, "deny")
    escaped, _ = run_dialog(qtbot, qt_loop, answered, "escape")
    assert withheld is False and escaped is False


def test_the_dialog_says_whether_the_model_runs_here_or_at_the_provider(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    def heading(review: SamplingReview) -> str:
        dialog = QtSamplingDialog(review)
        qtbot.addWidget(dialog)
        return dialog.findChildren(QLabel)[0].text()

    assert "on this computer" in heading(REVIEW) and "<b>notes</b>" in heading(REVIEW)
    assert "on the provider" in heading(replace(REVIEW, source="provider"))
