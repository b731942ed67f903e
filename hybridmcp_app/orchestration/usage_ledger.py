"""Every orchestrated run's provider tokens, savings and cost, kept in SQLite in the data dir.

Route reads this month's spend from it (the budget rule); the savings view reads the history.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from pathlib import Path

from hybridmcp_app.orchestration.events import HybridTrace

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    strategy TEXT NOT NULL,
    provider_prompt_tokens INTEGER NOT NULL,
    baseline_prompt_tokens INTEGER NOT NULL,
    cost_usd REAL
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (time);
"""


def start_of_month(now: float) -> float:
    moment = datetime.fromtimestamp(now)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


class UsageLedger:
    """Append-only record of runs; blocking calls (run them off the event loop)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=10)

    def record(self, trace: HybridTrace, *, at: float | None = None) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO runs (time, strategy, provider_prompt_tokens, "
                "baseline_prompt_tokens, cost_usd) VALUES (?, ?, ?, ?, ?)",
                (
                    time.time() if at is None else at,
                    trace.strategy,
                    trace.provider_prompt_tokens,
                    trace.baseline_prompt_tokens,
                    trace.cost_usd,
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
                "SELECT strategy, SUM(MAX(baseline_prompt_tokens - provider_prompt_tokens, 0)) "
                "FROM runs GROUP BY strategy"
            ).fetchall()
        return {strategy: int(saved) for strategy, saved in rows}
