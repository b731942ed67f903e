"""The elicitation dialogs driven as a user would: fill the generated form and Accept, Decline,
Cancel with Esc, a bad value shown under its field; a URL opened only after Accept."""

from __future__ import annotations

import asyncio

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QListWidget, QSpinBox
from pytestqt.qtbot import QtBot

from hybridmcp_app.services.elicitation import UrlRequest
from hybridmcp_app.services.elicitation_form import form_of
from hybridmcp_app.ui.mcp.qt_elicitation_dialog import (
    QtElicitationAsker,
    QtElicitationDialog,
    QtUrlElicitationDialog,
)
from tests.helpers.elicit_server import BOOKING_SCHEMA
from tests.helpers.waiting import wait_until

FORM = form_of("diner", "Book a table?", BOOKING_SCHEMA)


def shown(qtbot: QtBot) -> QtElicitationDialog:
    dialog = QtElicitationDialog(FORM)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_form_shows_the_server_message_and_one_widget_per_field_with_defaults(
    qtbot: QtBot,
) -> None:
    dialog = shown(qtbot)
    assert "diner" in dialog.windowTitle()
    widgets = dialog.widgets
    assert isinstance(widgets["name"], QLineEdit) and widgets["name"].text() == "Ada"
    assert isinstance(widgets["guests"], QSpinBox) and widgets["guests"].value() == 2
    assert (widgets["guests"].minimum(), widgets["guests"].maximum()) == (1, 8)
    assert isinstance(widgets["terrace"], QCheckBox) and not widgets["terrace"].isChecked()
    room = widgets["room"]
    assert isinstance(room, QComboBox)
    assert [room.itemText(i) for i in range(room.count())] == ["", "Main hall", "Cellar"]
    assert isinstance(widgets["diet"], QListWidget) and widgets["diet"].count() == 2


def test_filling_the_form_and_accepting_answers_with_the_values(qtbot: QtBot) -> None:
    dialog = shown(qtbot)
    widgets = dialog.widgets
    qtbot.keyClicks(widgets["email"], "ada@example.org")
    assert isinstance(widgets["room"], QComboBox) and isinstance(widgets["diet"], QListWidget)
    widgets["room"].setCurrentIndex(2)
    widgets["diet"].item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClick(widgets["terrace"], Qt.Key.Key_Space)
    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert dialog.action == "accept"
    assert dialog.content == {"name": "Ada", "email": "ada@example.org", "guests": 2,
                              "terrace": True, "room": "cellar", "diet": ["vegan"]}  # fmt: skip


def test_a_bad_value_is_shown_under_its_field_and_the_dialog_stays_open(qtbot: QtBot) -> None:
    dialog = shown(qtbot)
    qtbot.keyClicks(dialog.widgets["email"], "not-an-address")
    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.action == "cancel"
    assert dialog.errors["email"].isVisible()
    assert dialog.errors["email"].text() == "not a valid email"
    assert not dialog.errors["name"].isVisible()
    email = dialog.widgets["email"]
    assert isinstance(email, QLineEdit)
    email.setText("ada@example.org")
    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert (dialog.action, dialog.content) == (
        "accept",
        {"name": "Ada", "email": "ada@example.org", "guests": 2, "terrace": False, "diet": []},
    )


def test_decline_answers_decline_and_escape_answers_cancel(qtbot: QtBot) -> None:
    dialog = shown(qtbot)
    qtbot.mouseClick(dialog.decline_button, Qt.MouseButton.LeftButton)
    assert (dialog.isVisible(), dialog.action, dialog.content) == (False, "decline", None)
    dialog = shown(qtbot)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert (dialog.isVisible(), dialog.action, dialog.content) == (False, "cancel", None)


def test_a_url_opens_in_the_browser_only_after_the_user_accepts(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    opened: list[str] = []
    asker = QtElicitationAsker(None, open_url=opened.append)
    request = UrlRequest(server="shop", message="Sign in", url="https://login.example.com/x",
                         domain="login.example.com", elicitation_id="e1")  # fmt: skip

    async def answer(click: str) -> str:
        task = asyncio.ensure_future(asker.ask_url(request))
        await wait_until(lambda: isinstance(asker.dialog, QtUrlElicitationDialog))
        dialog = asker.dialog
        assert isinstance(dialog, QtUrlElicitationDialog)
        assert opened == []
        assert "login.example.com" in " ".join(
            label.text() for label in dialog.findChildren(QLabel)
        )
        qtbot.mouseClick(getattr(dialog, click), Qt.MouseButton.LeftButton)
        return await task

    assert qt_loop.run_until_complete(answer("decline_button")) == "decline"
    assert opened == []
    assert qt_loop.run_until_complete(answer("accept_button")) == "accept"
    assert opened == ["https://login.example.com/x"]
