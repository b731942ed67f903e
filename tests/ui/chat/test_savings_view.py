"""The Savings tab over the real usage ledger in a temporary HYBRIDMCP_HOME."""

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QLabel, QTableWidget

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.orchestration.events import HybridTrace
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from hybridmcp_app.ui.chat.qt_savings_view import QtSavingsView
from hybridmcp_app.ui.main_window import MainWindow

DAY_S = 86400.0


def saved(strategy: str, provider: int, baseline: int, cost_saved: float | None) -> HybridTrace:
    """A successful run with the provider configured: fewer tokens sent, or none at all."""
    return HybridTrace(
        strategy=strategy,
        provider_prompt_tokens=provider,
        baseline_prompt_tokens=baseline,
        cost_saved_usd=cost_saved,
        saving=("without_provider" if provider == 0 else
                "fewer_tokens" if provider < baseline else "none"),
    )  # fmt: skip


def show_savings(window: MainWindow, qt_loop: qasync.QEventLoop) -> QtSavingsView:
    view = window.savings_view
    window.tabs.setCurrentWidget(view)
    assert view.refresh_task is not None
    qt_loop.run_until_complete(view.refresh_task)
    return view


def final_values(curves: dict[str, Any]) -> dict[str, float]:
    """The last cumulative value of each strategy's curve."""
    return {name: float(curve.getData()[1][-1]) for name, curve in curves.items()}


def table_rows(table: QTableWidget) -> list[list[str]]:
    items = [
        [table.item(row, column) for column in range(table.columnCount())]
        for row in range(table.rowCount())
    ]
    return [["" if item is None else item.text() for item in row] for row in items]


def test_each_strategy_gets_a_line_of_its_running_total_and_a_summary(
    make_window: Callable[..., MainWindow], app_paths: AppPaths, qt_loop: qasync.QEventLoop
) -> None:
    ledger = UsageLedger(app_paths.data_dir / "usage.sqlite3")
    now = time.time()
    ledger.record(saved("boost", 100, 500, 0.001), at=now - 3 * DAY_S)
    ledger.record(saved("route", 0, 1200, None), at=now - 2 * DAY_S)
    ledger.record(saved("boost", 50, 350, 0.0008), at=now - DAY_S)
    ledger.record(saved("provider", 500, 500, 0.0), at=now)  # spared nothing
    local = HybridTrace(strategy="local", baseline_prompt_tokens=900)  # chosen: spares nothing
    ledger.record(local, at=now)
    window = make_window()
    assert window.savings_view.tokens_plot is None  # pyqtgraph waits until the tab is shown

    view = show_savings(window, qt_loop)
    assert view.stack.currentWidget() is view.content
    assert view.tokens_plot is not None
    assert len(view.tokens_plot.getPlotItem().listDataItems()) == 2
    assert final_values(view.token_curves) == {"boost": 700, "route": 1200}
    assert final_values(view.cost_curves) == pytest.approx({"boost": 0.0018})  # route: no price
    assert view.summary.text().startswith(
        "1,900 provider prompt tokens saved ($0.0018 saved) in 3 runs since "
    )
    assert view.summary.text().endswith(
        ": 2 answered with fewer provider tokens, 1 without the provider."
    )
    assert table_rows(view.table) == [
        ["Boost", "2", "700", "$0.0018"],
        ["Route", "1", "1,200", "—"],
    ]
    assert "price" in view.cost_note.text()


def test_a_finished_chat_turn_refreshes_the_visible_savings(
    make_window: Callable[..., MainWindow], app_paths: AppPaths, qt_loop: qasync.QEventLoop
) -> None:
    ledger = UsageLedger(app_paths.data_dir / "usage.sqlite3")
    ledger.record(saved("cascade", 0, 300, 0.0003), at=time.time() - 60)
    window = make_window()
    view = show_savings(window, qt_loop)
    assert final_values(view.token_curves) == {"cascade": 300}

    ledger.record(saved("cascade", 100, 400, 0.0003))
    window.chat_view.turn_finished.emit()
    assert view.refresh_task is not None
    qt_loop.run_until_complete(view.refresh_task)
    assert final_values(view.token_curves) == {"cascade": 600}
    assert final_values(view.cost_curves) == pytest.approx({"cascade": 0.0006})


def test_a_fresh_home_shows_how_to_save_instead_of_an_empty_plot(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    view = show_savings(window, qt_loop)
    assert view.stack.currentWidget() is view.empty
    texts = [label.text() for label in view.empty.findChildren(QLabel)]
    assert "Nothing saved yet" in texts
    assert any(text.startswith("Use a hybrid strategy (Boost, Route, Cascade…)") for text in texts)
    assert view.token_curves == {}


def test_the_window_module_leaves_heavy_libraries_for_when_they_are_first_needed() -> None:
    heavy = ("pyqtgraph", "numpy", "mcp", "openai", "llama_cpp", "onnxruntime", "jsonschema")
    probe = (
        "import sys, hybridmcp_app.ui.main_window; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[]")
