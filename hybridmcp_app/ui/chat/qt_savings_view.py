"""The Savings tab: provider prompt tokens and dollars the hybrid strategies saved, over time.

pyqtgraph (with numpy, about 0.1–0.2 s) is imported when the tab is first shown, not at start-up.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.orchestration.savings_report import TOOL_SAVING, SavingsReport, StrategySavings
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.orchestration.strategy_registry import StrategyRegistry
from hybridmcp_app.services.chat_session import ChatSession
from hybridmcp_app.ui.widgets.qt_empty_state import QtEmptyState

if TYPE_CHECKING:
    from pyqtgraph import PlotDataItem, PlotWidget

EMPTY_TITLE = "Nothing saved yet"
EMPTY_TEXT = (
    "Use a hybrid strategy (Boost, Route, Cascade…) in the Chat tab; what the provider was "
    "spared shows here."
)
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("All time", None), ("Last 30 days", 30), ("Last 7 days", 7),
)  # fmt: skip
# Tableau 10, readable on light and dark backgrounds; the hybrid strategies get the strong ones.
COLOURS = {
    "boost": "#4e79a7", "route": "#f28e2b", "cascade": "#59a14f", "draft_refine": "#e15759",
    "verify": "#b07aa1", "cache": "#76b7b2", "failover": "#ff9da7", "local": "#9c755f",
    "parallel": "#bab0ac", "provider": "#edc948",
}  # fmt: skip
SPARE_COLOURS = ("#17becf", "#bcbd22", "#8c564b", "#e377c2")
HEADERS = ("Strategy", "Runs", "Tokens saved", "Cost saved")


def format_usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def short_label(strategies: StrategyRegistry, strategy: str) -> str:
    """The strategy's label without its explanation: "Boost (compress sources)" -> "Boost"."""
    return strategies.label(strategy).split(" (")[0]


def strategy_colour(strategy: str) -> str:
    return COLOURS.get(strategy) or SPARE_COLOURS[sum(map(ord, strategy)) % len(SPARE_COLOURS)]


def date_axis() -> Any:
    """pyqtgraph's date axis, with day ticks that name their month ("08 Nov", not "08")."""
    from pyqtgraph.graphicsItems import DateAxisItem as dates

    axis = dates.DateAxisItem(orientation="bottom")
    day = dates.makeSStepper(dates.DAY_SPACING)
    axis.zoomLevels[5 * 3600 * 24] = dates.ZoomLevel(
        [
            dates.TickSpec(dates.MONTH_SPACING, dates.makeMStepper(1), "%b %Y"),
            dates.TickSpec(dates.DAY_SPACING, day, "%d %b", autoSkip=[1, 5]),
        ],
        "31 Dec",
    )
    return axis


class QtSavingsView(QWidget):
    """Wraps the chat's ``SavingsReport``: cumulative tokens and cost saved per strategy.

    ``refresh`` reloads it while the tab is visible; a hidden tab reloads when shown."""

    def __init__(
        self,
        chat: ChatSession,
        tasks: BackgroundTasks,
        parent: QWidget | None = None,
        *,
        strategies: StrategyRegistry = STRATEGIES,
    ) -> None:
        """``strategies`` name the rows and curves (a strategy no longer registered: its name)."""
        super().__init__(parent)
        self._strategies = strategies
        self._chat = chat
        self._tasks = tasks
        self._generation = 0
        self.report: SavingsReport | None = None
        self.refresh_task: asyncio.Task[None] | None = None
        self.tokens_plot: PlotWidget | None = None
        self.cost_plot: PlotWidget | None = None
        self.token_curves: dict[str, PlotDataItem] = {}
        self.cost_curves: dict[str, PlotDataItem] = {}

        self.stack = QStackedWidget(self)
        self.loading = QLabel("Loading…", self.stack)
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        icon = QIcon(str(resources_dir() / "icons" / "savings.svg"))
        self.empty = QtEmptyState(icon, EMPTY_TITLE, EMPTY_TEXT, self.stack)
        self.content = QWidget(self.stack)
        for page in (self.loading, self.empty, self.content):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.summary = QLabel(self.content)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.period = QComboBox(self.content)
        for text, days in PERIODS:
            self.period.addItem(text, days)
        self.period.currentIndexChanged.connect(lambda _: self.refresh())
        self.cost_note = QLabel(self.content)
        self.cost_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.cost_note.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS), self.content)
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    # ------------------------------------------------------------------ building
    def _build_plots(self) -> None:
        import pyqtgraph as pg  # here, not at start-up: it brings numpy and takes ~0.15 s

        plots = QSplitter(Qt.Orientation.Vertical, self.content)
        for attribute, axis_label in (("tokens_plot", "Prompt tokens saved"), ("cost_plot", "USD")):
            plot = pg.PlotWidget(plots, axisItems={"bottom": date_axis()})
            plot.setObjectName(attribute.replace("_", "-"))
            item = plot.getPlotItem()
            item.setLabel("left", axis_label)
            item.showGrid(x=True, y=True, alpha=0.15)
            item.hideButtons()
            item.getAxis("left").setWidth(64)  # the same width keeps the two plots' x aligned
            setattr(self, attribute, plot)
            plots.addWidget(plot)
        assert self.tokens_plot is not None and self.cost_plot is not None
        self.tokens_plot.getPlotItem().setTitle("Provider prompt tokens saved, cumulative")
        self.cost_plot.getPlotItem().setTitle("Cost saved (USD), cumulative")
        self.tokens_plot.getPlotItem().addLegend(offset=(12, 8))
        self.cost_plot.setXLink(self.tokens_plot)
        plots.setSizes([360, 240])

        header = QHBoxLayout()
        header.addWidget(self.summary, 1)
        header.addWidget(QLabel("Show:", self.content))
        header.addWidget(self.period)
        side = QVBoxLayout()
        side.addWidget(self.table)
        side.addWidget(self.cost_note)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(plots, 3)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self.content)
        layout.addLayout(header)
        layout.addLayout(body, 1)
        self._apply_palette()

    def _apply_palette(self) -> None:
        """Plot colours from the app's palette, so the light and dark themes both fit."""
        if self.tokens_plot is None or self.cost_plot is None:
            return
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        for plot in (self.tokens_plot, self.cost_plot):
            plot.setBackground(background)
            item = plot.getPlotItem()
            for side in ("left", "bottom"):
                item.getAxis(side).setPen(text)
                item.getAxis(side).setTextPen(text)
            item.titleLabel.setText(item.titleLabel.text, color=text.name())
        legend = self.tokens_plot.getPlotItem().legend
        if legend is not None:
            translucent = QColor(background)
            translucent.setAlpha(210)
            legend.setBrush(translucent)
            legend.setPen(palette.color(QPalette.ColorRole.Mid))
            legend.setLabelTextColor(text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.tokens_plot is None:
            self._build_plots()
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self) -> asyncio.Task[None] | None:
        """Reload the history; a hidden view does nothing now and reloads when it is shown."""
        if not self.isVisible():
            return None
        self._generation += 1
        self.refresh_task = self._tasks.spawn(self._load(self._generation), name="savings")
        return self.refresh_task

    async def _load(self, generation: int) -> None:
        days = self.period.currentData()
        since = None if days is None else time.time() - days * 86400
        points = await self._chat.savings_history(since)
        if generation == self._generation:  # a newer refresh has not overtaken this one
            self.show_report(SavingsReport.from_points(points))

    def show_report(self, report: SavingsReport) -> None:
        self.report = report
        if report.empty and self.period.currentData() is None:
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.content)
        self.summary.setText(self._summary_text(report))
        self._fill_table(report)
        priced = [series for series in report.series if series.priced]
        self.cost_note.setText(
            ""
            if len(priced) == len(report.series)
            else "Cost saved counts only runs whose provider model has a price in the price "
            "table (Settings → Providers)."
        )
        assert self.cost_plot is not None
        self.cost_plot.setVisible(bool(priced))
        self._plot(report)

    def _summary_text(self, report: SavingsReport) -> str:
        unaudited = report.kinds.get(None, 0)
        earlier = (
            f" {unaudited:,} earlier run(s), recorded before savings were audited, count nothing."
            if unaudited
            else ""
        )
        if report.empty:
            return "Nothing was saved in this period." + earlier
        first = datetime.fromtimestamp(report.since or 0)
        since = f"{first.day} {first:%b %Y}"
        cost = report.cost_saved_usd
        money = "cost unknown" if cost is None else f"{format_usd(cost)} saved"
        fewer, without = (
            report.kinds.get("fewer_tokens", 0),
            report.kinds.get("without_provider", 0),
        )
        tools = report.kinds.get(TOOL_SAVING, 0)
        chosen = f" {tools:,} sent fewer tool definitions (tools chosen locally)." if tools else ""
        return (
            f"{report.tokens_saved:,} provider prompt tokens saved ({money}) in "
            f"{report.runs:,} runs since {since}: {fewer:,} answered with fewer provider tokens, "
            f"{without:,} without the provider.{chosen}{earlier}"
        )

    def _fill_table(self, report: SavingsReport) -> None:
        self.table.setRowCount(len(report.series))
        for row, series in enumerate(report.series):
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(strategy_colour(series.strategy)))
            cost = series.cost_saved_usd
            cells = (
                short_label(self._strategies, series.strategy),
                f"{series.runs:,}",
                f"{series.tokens_saved:,}",
                "—" if cost is None else format_usd(cost),
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column == 0:
                    cell.setIcon(QIcon(swatch))
                else:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        rows_height = sum(self.table.rowHeight(row) for row in range(self.table.rowCount()))
        frame = 2 * self.table.frameWidth()
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows_height + frame)

    def _plot(self, report: SavingsReport) -> None:
        import pyqtgraph as pg

        assert self.tokens_plot is not None and self.cost_plot is not None
        self.tokens_plot.getPlotItem().clear()
        self.cost_plot.getPlotItem().clear()
        self.token_curves, self.cost_curves = {}, {}
        for series in report.series:
            style = self._curve_style(pg, series)
            self.token_curves[series.strategy] = self.tokens_plot.plot(
                list(series.times), list(series.cumulative_tokens), **style
            )
            if series.priced:
                style.pop("name")  # the legend above names every colour once
                self.cost_curves[series.strategy] = self.cost_plot.plot(
                    list(series.times), list(series.cumulative_cost_usd), **style
                )
        times = [moment for series in report.series for moment in series.times]
        if times:
            # A few minutes either side, so one run is a visible point, not a zero-width range.
            margin = max((max(times) - min(times)) * 0.04, 300.0)
            self.tokens_plot.setXRange(min(times) - margin, max(times) + margin, padding=0)
        # From just below 0, so that the 0 tick shows, to a little above the highest total.
        top_tokens = max(max((series.tokens_saved for series in report.series), default=0), 1)
        self.tokens_plot.setYRange(-0.02 * top_tokens, 1.08 * top_tokens, padding=0)
        top_cost = max((series.cumulative_cost_usd[-1] for series in report.series), default=0.0)
        top_cost = top_cost or 0.0001
        self.cost_plot.setYRange(-0.02 * top_cost, 1.08 * top_cost, padding=0)

    def _curve_style(self, pg: Any, series: StrategySavings) -> dict[str, Any]:
        colour = strategy_colour(series.strategy)
        many = series.runs > 150  # markers only while they stay readable
        return {
            "name": short_label(self._strategies, series.strategy),
            "pen": pg.mkPen(colour, width=2),
            "symbol": None if many else "o",
            "symbolSize": 6,
            "symbolBrush": colour,
            "symbolPen": None,
            "antialias": True,
        }
