"""``PuzzleBank``: the shipped puzzles and the player's own, validated, by id and difficulty.

Shipped puzzles are ``resources/puzzles/*.json`` (one each, held to ``check_bank``); a player's
own live in the data folder (``puzzles/*.json``), written or imported from the UI, the command
line or a JSON file (one puzzle or a list). A file that does not validate is left out with the
reason (``problems``) and never stops the rest from loading. Blocking (files): call it off the
event loop.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hybridmcp_app.core.errors import HybridMCPError, describe_validation_error
from hybridmcp_app.game.puzzle_models import Difficulty, Puzzle, check_bank

MAX_IMPORT_BYTES = 1024 * 1024


class PuzzleError(HybridMCPError):
    """A puzzle that cannot be found, written or imported; the message says why."""


def slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:48].strip("-") or "puzzle"


class PuzzleBank:
    """Every puzzle that loaded; custom ones are kept in ``custom_dir``."""

    def __init__(self, bank_dir: Path, custom_dir: Path) -> None:
        self.bank_dir, self.custom_dir = bank_dir, custom_dir
        self.problems: list[str] = []
        self._puzzles: dict[str, Puzzle] = {}
        for path in sorted(bank_dir.glob("*.json")):
            self._load(path, custom=False)
        for path in sorted(custom_dir.glob("*.json")) if custom_dir.is_dir() else ():
            self._load(path, custom=True)

    def _load(self, path: Path, *, custom: bool) -> None:
        try:
            puzzle = Puzzle.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as error:
            self.problems.append(f"{path.name}: {_reason(error)}")
            return
        problems = [] if custom else check_bank(puzzle)
        if puzzle.id in self._puzzles:
            problems.append(f"{puzzle.id}: the id is used twice")
        if problems:
            self.problems.append(f"{path.name}: {'; '.join(problems)}")
            return
        self._puzzles[puzzle.id] = puzzle.model_copy(update={"custom": custom})

    # ---------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self._puzzles)

    def all(self) -> list[Puzzle]:
        return list(self._puzzles.values())

    def get(self, puzzle_id: str) -> Puzzle:
        try:
            return self._puzzles[puzzle_id]
        except KeyError:
            raise PuzzleError(f"no puzzle {puzzle_id!r}") from None

    def pick(
        self,
        difficulty: Difficulty | None = None,
        exclude: Iterable[str] = (),
        seed: int | None = None,
    ) -> Puzzle:
        """A random puzzle of ``difficulty`` (any when None), preferring ones not in
        ``exclude`` (those already played) until every one has been."""
        pool = [p for p in self._puzzles.values() if difficulty in (None, p.difficulty)]
        if not pool:
            raise PuzzleError(f"no {difficulty or ''} puzzles in the bank".replace("  ", " "))
        fresh = [p for p in pool if p.id not in set(exclude)]
        return random.Random(seed).choice(fresh or pool)

    # ---------------------------------------------------------------- the player's own
    def add_custom(self, data: dict[str, Any]) -> Puzzle:
        """Validate a player's puzzle (surface and bottom required), give it an id if it has
        none, and keep it."""
        try:
            puzzle = self._checked(data)
        except PuzzleError as error:
            raise PuzzleError(f"not a puzzle: {error}") from None
        return self._keep(puzzle)

    def import_file(self, path: Path) -> list[Puzzle]:
        """Add every puzzle of a JSON file (one object or a list); all or none."""
        try:
            if path.stat().st_size > MAX_IMPORT_BYTES:
                raise PuzzleError(f"{path.name} is larger than {MAX_IMPORT_BYTES:,} bytes")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PuzzleError(f"{path.name} cannot be read as JSON: {error}") from None
        items = data if isinstance(data, list) else [data]
        if not items or not all(isinstance(item, dict) for item in items):
            raise PuzzleError(f"{path.name}: expected a puzzle object or a list of them")
        checked: list[Puzzle] = []
        for number, item in enumerate(items, 1):
            try:
                checked.append(self._checked(item, taken={p.id for p in checked}))
            except PuzzleError as error:
                raise PuzzleError(f"{path.name}, puzzle {number}: {error}") from None
        return [self._keep(puzzle) for puzzle in checked]

    def _checked(self, data: dict[str, Any], taken: set[str] | None = None) -> Puzzle:
        fields = {key: value for key, value in data.items() if value not in (None, "")}
        fields.setdefault("title", _title_from(fields.get("surface", "")))
        fields.setdefault("author", "you")
        if "id" not in fields:
            fields["id"] = self._free_id(slug(str(fields["title"])), taken or set())
        fields["custom"] = True
        try:
            puzzle = Puzzle.model_validate(fields)
        except ValidationError as error:
            raise PuzzleError(_reason(error)) from None
        existing = self._puzzles.get(puzzle.id)
        if existing is not None and not existing.custom:
            raise PuzzleError(f"{puzzle.id!r} is one of the bank's puzzles: choose another id")
        return puzzle

    def _keep(self, puzzle: Puzzle) -> Puzzle:
        self.custom_dir.mkdir(parents=True, exist_ok=True)
        target = self.custom_dir / f"{puzzle.id}.json"
        partial = target.with_suffix(".json.partial")
        partial.write_text(puzzle.model_dump_json(indent=2, exclude={"custom"}), encoding="utf-8")
        partial.replace(target)
        self._puzzles[puzzle.id] = puzzle
        return puzzle

    def remove_custom(self, puzzle_id: str) -> None:
        puzzle = self.get(puzzle_id)
        if not puzzle.custom:
            raise PuzzleError(f"{puzzle_id!r} is one of the bank's puzzles and stays")
        (self.custom_dir / f"{puzzle_id}.json").unlink(missing_ok=True)
        del self._puzzles[puzzle_id]

    def _free_id(self, base: str, taken: set[str]) -> str:
        candidate, number = base, 2
        while candidate in self._puzzles or candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        return candidate


def _title_from(surface: object) -> str:
    words = str(surface).split()
    return " ".join(words[:6]) or "My puzzle"


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(describe_validation_error(error))
    return str(error)
