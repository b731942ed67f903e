"""Every orchestrated run's provider tokens, savings and cost, kept in SQLite in the data dir.

Route reads this month's spend from it (the budget rule); the savings view reads the history.
A database that SQLite cannot read is moved aside (``usage.sqlite3.corrupt-<time>``) and a new one
started, as ``HistoryStore`` does; ``recovered_from`` names the old file.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hybridmcp_app.core.sqlite_files import SqliteFile
from hybridmcp_app.orchestration.events import HybridTrace

log = logging.getLogger("hybridmcp.usage")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    strategy TEXT NOT NULL,
    provider_prompt_tokens INTEGER NOT NULL,
    baseline_prompt_tokens INTEGER NOT NULL,
    cost_usd REAL,
    cost_saved_usd REAL
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (time);
"""
# Columns added after the first release: (name, SQL type), added to older databases on open.
# ``saving`` (``events.Saving``) is NULL in runs recorded before savings were audited: those
# count no saving, and the Savings tab says how many there are.
# ``usage_reported``: 1 when every provider prompt count was the provider's own, 0 when any was
# our estimate, NULL when the provider answered nothing (or in runs recorded before it).
# ``tokens_saved``: the trace's ``prompt_tokens_saved`` (counted like the baseline); NULL in
# older rows, whose saving is worked out from the two counts.
# ``tool_tokens_saved``: the trace's ``tool_tokens_saved``, a saving of its own kind: tool
# definitions the provider was not sent because the local side chose the tools (NULL: none).
_ADDED_COLUMNS = (
    ("cost_saved_usd", "REAL"),
    ("saving", "TEXT"),
    ("usage_reported", "INTEGER"),
    ("tokens_saved", "INTEGER"),
    ("tool_tokens_saved", "INTEGER"),
)
_SAVED = (
    "CASE WHEN saving IN ('fewer_tokens', 'without_provider') THEN COALESCE(tokens_saved, "
    "MAX(baseline_prompt_tokens - provider_prompt_tokens, 0)) ELSE 0 END"
)


@dataclass(frozen=True)
class SavingsPoint:
    """One run: the provider prompt tokens it spared, and their price when it was known."""

    time: float
    strategy: str
    tokens_saved: int
    cost_saved_usd: float | None
    saving: str | None = "none"  # ``events.Saving``; None: recorded before savings were audited
    # The provider counted its prompt tokens itself (False: our estimate; None: no provider
    # answer, or recorded before this was kept).
    usage_reported: bool | None = None
    # Tool-definition tokens the local side's choice of tools kept from the provider.
    tool_tokens_saved: int = 0


def _create(connection: sqlite3.Connection) -> None:
    connection.executescript(_SCHEMA)
    present = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
    for name, kind in _ADDED_COLUMNS:
        if name not in present:
            connection.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")


def start_of_month(now: float) -> float:
    moment = datetime.fromtimestamp(now)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


class UsageLedger:
    """Append-only record of runs; blocking calls (run them off the event loop)."""

    def __init__(self, path: Path) -> None:
        self._file = SqliteFile(path, "usage ledger")
        self._file.open(_create).close()
        self.recovered_from = self._file.recovered_from

    def _connect(self) -> sqlite3.Connection:
        return self._file.connect()

    def record(self, trace: HybridTrace, *, at: float | None = None) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO runs (time, strategy, provider_prompt_tokens, "
                "baseline_prompt_tokens, cost_usd, cost_saved_usd, saving, usage_reported, "
                "tokens_saved, tool_tokens_saved) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time() if at is None else at,
                    trace.strategy,
                    trace.provider_prompt_tokens,
                    trace.baseline_prompt_tokens,
                    trace.cost_usd,
                    trace.cost_saved_usd,
                    trace.saving,
                    trace.provider_usage_reported,
                    trace.prompt_tokens_saved,
                    trace.tool_tokens_saved or None,
                ),
            )

    def cost_since(self, since: float) -> float:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM runs WHERE time >= ?", (since,)
            ).fetchone()
        return float(row[0])

    def month_cost(self, now: float | None = None) -> float:
        return self.cost_since(start_of_month(time.time() if now is None else now))

    def tokens_saved_by_strategy(self) -> dict[str, int]:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT strategy, SUM({_SAVED} + COALESCE(tool_tokens_saved, 0)) FROM runs "
                "GROUP BY strategy"
            ).fetchall()
        return {strategy: int(saved) for strategy, saved in rows}

    def savings_history(self, since: float | None = None) -> list[SavingsPoint]:
        """Every run (since ``since``, when given), oldest first. Only runs that spared the
        provider something count; runs recorded before savings were audited count nothing."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT time, strategy, {_SAVED}, "
                "CASE WHEN saving IS NULL THEN NULL "
                "WHEN saving = 'none' AND tool_tokens_saved IS NULL THEN 0.0 "
                "ELSE cost_saved_usd END, saving, usage_reported, "
                "COALESCE(tool_tokens_saved, 0) FROM runs WHERE time >= ? "
                "ORDER BY time, id",
                (float("-inf") if since is None else since,),
            ).fetchall()
        return [
            SavingsPoint(
                at,
                strategy,
                int(saved),
                cost,
                saving,
                None if reported is None else bool(reported),
                int(tools),
            )
            for at, strategy, saved, cost, saving, reported, tools in rows
        ]
