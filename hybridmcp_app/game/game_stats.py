"""Every finished game in SQLite (data folder), and the totals the stats page shows.

A database SQLite cannot read is moved aside and a new one started (``SqliteFile``).
Blocking: call it off the event loop.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.sqlite_files import SqliteFile
from hybridmcp_app.game.game_models import GameView

_SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    game_id TEXT PRIMARY KEY,
    puzzle_id TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    state TEXT NOT NULL,
    questions INTEGER NOT NULL,
    hints INTEGER NOT NULL,
    facts_uncovered INTEGER NOT NULL,
    facts_total INTEGER NOT NULL,
    score INTEGER NOT NULL,
    ended REAL NOT NULL
);
"""


class GameTotals(FrozenModel):
    """The stats page: games played, solved, and how well."""

    played: int
    solved: int
    revealed: int
    abandoned: int
    solve_rate: float
    average_questions_to_solve: float | None
    best_score: int
    total_score: int
    current_streak: int
    by_difficulty: dict[str, int]
    puzzles_played: list[str]


class GameStats:
    """Finished games, one row each."""

    def __init__(self, path: Path) -> None:
        self._file = SqliteFile(path, "game stats")
        self._file.open(lambda connection: connection.executescript(_SCHEMA)).close()
        self.recovered_from = self._file.recovered_from

    def _connect(self) -> sqlite3.Connection:
        return self._file.connect()

    def record(self, game: GameView) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO games VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (game.game_id, game.puzzle_id, game.difficulty, game.state.value,
                 len(game.turns), len(game.hints_shown), len(game.facts_uncovered),
                 game.facts_total, game.score, time.time()),
            )  # fmt: skip

    def totals(self) -> GameTotals:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT puzzle_id, difficulty, state, questions, score FROM games ORDER BY ended"
            ).fetchall()
        states = [row[2] for row in rows]
        solved_questions = [row[3] for row in rows if row[2] == "solved"]
        streak = 0
        for state in reversed(states):
            if state != "solved":
                break
            streak += 1
        by_difficulty: dict[str, int] = {}
        for row in rows:
            if row[2] == "solved":
                by_difficulty[row[1]] = by_difficulty.get(row[1], 0) + 1
        return GameTotals(
            played=len(rows),
            solved=states.count("solved"),
            revealed=states.count("revealed"),
            abandoned=states.count("abandoned"),
            solve_rate=states.count("solved") / len(rows) if rows else 0.0,
            average_questions_to_solve=(
                sum(solved_questions) / len(solved_questions) if solved_questions else None
            ),
            best_score=max((row[4] for row in rows), default=0),
            total_score=sum(row[4] for row in rows),
            current_streak=streak,
            by_difficulty=by_difficulty,
            puzzles_played=sorted({row[0] for row in rows}),
        )
