"""The puzzle bank: every shipped puzzle validates and is fit for the bank, the labelled
questions are enough and balanced, and bad files (the player's or ours) are reported, not fatal."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.game.puzzle_bank import PuzzleBank, PuzzleError
from hybridmcp_app.game.puzzle_models import ANSWERS

SHIPPED = resources_dir() / "puzzles"


def test_every_shipped_puzzle_loads_and_is_fit_for_the_bank(tmp_path: Path) -> None:
    bank = PuzzleBank(SHIPPED, tmp_path / "none")
    assert bank.problems == []
    assert len(bank) == len(list(SHIPPED.glob("*.json")))


def test_the_bank_has_enough_puzzles_and_balanced_labelled_questions(tmp_path: Path) -> None:
    puzzles = PuzzleBank(SHIPPED, tmp_path / "none").all()
    answers = Counter(q.answer for p in puzzles for q in p.questions)
    assert len(puzzles) >= 40, f"{len(puzzles)} puzzles"
    assert sum(answers.values()) >= 250, answers
    for answer in ANSWERS:
        assert answers[answer] >= 0.15 * sum(answers.values()), answers
    assert {p.difficulty for p in puzzles} == {"easy", "medium", "hard"}


def test_bad_files_are_reported_and_the_rest_load(tmp_path: Path) -> None:
    shipped, custom = tmp_path / "bank", tmp_path / "custom"
    shipped.mkdir()
    custom.mkdir()
    good = json.loads((SHIPPED / "the-dry-umbrella.json").read_text())
    (shipped / "good.json").write_text(json.dumps(good))
    (shipped / "thin.json").write_text(json.dumps({**good, "id": "thin", "hints": []}))
    (custom / "broken.json").write_text("{not json")
    (custom / "twice.json").write_text(json.dumps(good))

    bank = PuzzleBank(shipped, custom)

    assert [p.id for p in bank.all()] == ["the-dry-umbrella"]
    assert bank.problems[0] == "thin.json: thin: 0 hints (at least 2)"
    assert bank.problems[1].startswith("broken.json: (root): Invalid JSON")
    assert bank.problems[2] == "twice.json: the-dry-umbrella: the id is used twice"


def test_imports_are_all_or_nothing_and_say_which_puzzle_is_wrong(tmp_path: Path) -> None:
    bank = PuzzleBank(tmp_path / "bank", tmp_path / "custom")
    source = tmp_path / "mine.json"
    source.write_text(json.dumps([
        {"title": "Night Bus", "surface": "The bus ran without a driver.",
         "bottom": "It was a driverless test bus on a closed route."},
        {"title": "Broken", "surface": "Too short"},
    ]))  # fmt: skip
    with pytest.raises(PuzzleError, match=r"mine.json, puzzle 2: surface: String should have at "
                       "least 10 characters; bottom: Field required"):  # fmt: skip
        bank.import_file(source)
    assert len(bank) == 0 and not (tmp_path / "custom").exists()

    night_bus = {"title": "Night Bus", "surface": "The bus ran without a driver.",
                 "bottom": "It was a driverless test bus."}  # fmt: skip
    source.write_text(json.dumps(night_bus))
    (imported,) = bank.import_file(source)
    assert (imported.id, imported.custom) == ("night-bus", True)
    (again,) = bank.import_file(source)
    assert again.id == "night-bus-2"  # a title is not an identity: both are kept
    source.write_text(json.dumps({**night_bus, "id": "night-bus", "title": "Night Bus II"}))
    assert [p.id for p in bank.import_file(source)] == ["night-bus"]
    assert bank.get("night-bus").title == "Night Bus II" and len(bank) == 2  # an id replaces
    bank.remove_custom("night-bus")
    assert not (tmp_path / "custom" / "night-bus.json").exists()

    (tmp_path / "junk.json").write_text("[1, 2]")
    with pytest.raises(PuzzleError, match="expected a puzzle object or a list of them"):
        bank.import_file(tmp_path / "junk.json")


def test_the_published_json_schema_is_the_models_and_every_shipped_puzzle_meets_it() -> None:
    import jsonschema

    from hybridmcp_app.game.puzzle_models import Puzzle

    published = json.loads((resources_dir() / "puzzle.schema.json").read_text())
    expected = {k: v for k, v in published.items() if k not in ("$schema", "$id")}
    assert expected == Puzzle.model_json_schema(), "regenerate resources/puzzle.schema.json"
    for path in SHIPPED.glob("*.json"):
        jsonschema.validate(json.loads(path.read_text()), published)
