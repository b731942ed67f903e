"""Long work that finishes says so: the status bar while the window is in front, the desktop's
notifications (or the taskbar) while it is in the background, nothing when switched off."""

from collections.abc import Callable

from PySide6.QtWidgets import QSystemTrayIcon

from hybridmcp_app.documents.library_indexer import IndexReport
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.theme import app_icon
from hybridmcp_app.ui.widgets.qt_notifier import QtNotifier


def test_in_front_the_status_bar_says_it(window: MainWindow) -> None:
    notifier = QtNotifier(window, app_icon(), in_front=lambda: True)
    assert notifier.notify("Library indexing finished", "12 files indexed.") == "status"
    assert window.statusBar().currentMessage() == "Library indexing finished: 12 files indexed."


def test_in_the_background_the_desktop_or_the_taskbar_is_told(window: MainWindow) -> None:
    notifier = QtNotifier(window, app_icon(), in_front=lambda: False)
    channel = notifier.notify("Answer ready", "The chat's answers are in.")
    # Offscreen there is no system tray: the taskbar is asked to flag the window instead.
    assert channel == ("desktop" if QSystemTrayIcon.isSystemTrayAvailable() else "taskbar")
    assert notifier.sent == [(channel, "Answer ready", "The chat's answers are in.")]


def test_switched_off_nothing_is_shown_in_the_background(window: MainWindow) -> None:
    notifier = QtNotifier(window, app_icon(), enabled=lambda: False, in_front=lambda: False)
    window.statusBar().clearMessage()
    assert notifier.notify("Answer ready", "The chat's answers are in.") == "off"
    assert window.statusBar().currentMessage() == ""


def test_indexing_answers_and_the_race_notify_when_they_finish(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window()
    window.library_view.run_finished.emit(IndexReport(indexed=3, chunks=9, elapsed_s=12.5))
    window.library_view.run_finished.emit(None)  # failed: the banner says why, no notification
    window.chat_view.turn_finished.emit()
    window.turtle_soup_view.race_page.race_finished.emit("The local model won in 7 questions.")
    sent = [(title, text) for _channel, title, text in window.notifier.sent]
    assert sent[0][0] == "Library indexing finished"
    assert sent[0][1].startswith("Done in 12.5 s: 3 files indexed")
    assert sent[1:] == [
        ("Answer ready", "The chat's answers are in."),
        ("The models' race is over", "The local model won in 7 questions."),
    ]
