"""The turtle-soup rules: states, budgets, hints, guesses, progress, scoring and stats, and the
clear refusals that cost no turn. The host answers from the puzzle's labels (``LabelledHost``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.game.game_models import QUESTION_BUDGET, GameState
from hybridmcp_app.game.game_rules import GameError, GameRules
from hybridmcp_app.game.game_stats import GameStats
from hybridmcp_app.game.puzzle_bank import PuzzleBank
from tests.helpers.labelled_host import LabelledHost

UMBRELLA = "the-dry-umbrella"


@pytest.fixture
def bank(tmp_path: Path) -> PuzzleBank:
    shipped = tmp_path / "bank"
    shipped.mkdir()
    shutil.copy(resources_dir() / "puzzles" / f"{UMBRELLA}.json", shipped)
    return PuzzleBank(shipped, tmp_path / "custom")


@pytest.fixture
def rules(bank: PuzzleBank, tmp_path: Path) -> GameRules:
    return GameRules(bank, LabelledHost(), GameStats(tmp_path / "stats.sqlite3"))


async def test_questions_uncover_key_facts_and_a_correct_guess_solves_the_game(
    rules: GameRules,
) -> None:
    game = await rules.new_game(puzzle_id=UMBRELLA)
    assert (game.state, game.bottom, game.facts_total) == (GameState.PLAYING, None, 3)

    wet = await rules.ask(game.game_id, "  Did her head get   WET? ")
    hat = await rules.ask(game.game_id, "Was she wearing a hat?")
    bald = await rules.ask(game.game_id, "Is she bald?")
    view = rules.view(game.game_id)
    assert [(t.number, t.answer, t.new_facts) for t in (wet, hat, bald)] == [
        (1, "yes", (2,)), (2, "no", ()), (3, "yes", (0,))
    ]  # fmt: skip
    assert view.progress == pytest.approx(2 / 3)
    assert view.key_facts == ("Her head itself did get wet.", "She has no hair at all.")
    assert view.questions_left == QUESTION_BUDGET["easy"] - 3

    outcome = await rules.guess(game.game_id, "She has no hair at all. Her hair loss comes from "
                                "medical treatment. Her head itself did get wet.")  # fmt: skip
    ended = rules.view(game.game_id)
    assert outcome.verdict == "correct" and outcome.message.startswith("Solved!")
    assert ended.state is GameState.SOLVED and ended.bottom is not None
    assert ended.score == 100 - 3 * 3
    totals = await rules.totals()
    assert (totals.played, totals.solved, totals.current_streak) == (1, 1, 1)
    assert totals.average_questions_to_solve == 3


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("   ", "Type a question first."),
        ("x" * 301, "That question is 301 characters long; keep it under 300."),
        ("did her head get wet", "You already asked that (question 1: Yes)."),
    ],
)
async def test_empty_overlong_and_repeated_questions_are_refused_without_a_turn(
    rules: GameRules, question: str, message: str
) -> None:
    game = await rules.new_game(puzzle_id=UMBRELLA)
    await rules.ask(game.game_id, "Did her head get wet?")
    with pytest.raises(GameError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await rules.ask(game.game_id, question)
    assert len(rules.view(game.game_id).turns) == 1


async def test_after_the_end_every_move_is_refused_and_an_unknown_game_is_named(
    rules: GameRules,
) -> None:
    game = await rules.new_game(puzzle_id=UMBRELLA)
    revealed = await rules.reveal(game.game_id)
    assert revealed.state is GameState.REVEALED and revealed.score == 0
    assert len(revealed.key_facts) == 3 and revealed.bottom  # everything shown at the end
    for move in (rules.ask(game.game_id, "Is she bald?"), rules.guess(game.game_id, "x"),
                 rules.hint(game.game_id), rules.abandon(game.game_id)):  # fmt: skip
        with pytest.raises(GameError, match=r"This game is over \(revealed\); start a new one"):
            await move
    with pytest.raises(GameError, match="no game 'nope': start a new one"):
        await rules.ask("nope", "Is she bald?")


async def test_hints_come_in_order_cost_points_and_run_out(rules: GameRules) -> None:
    game = await rules.new_game(puzzle_id=UMBRELLA)
    hints = [await rules.hint(game.game_id) for _ in range(3)]
    with pytest.raises(GameError, match="no more hints"):
        await rules.hint(game.game_id)
    view = rules.view(game.game_id)
    assert hints[0].startswith("Read the surface") and view.hints_shown == tuple(hints)
    assert (view.hints_left, view.score) == (0, 100 - 3 * 15)


async def test_a_close_guess_says_what_is_missing_but_never_the_bottom(
    bank: PuzzleBank, tmp_path: Path
) -> None:
    host = LabelledHost(note="where her hair went")
    rules = GameRules(bank, host)
    game = await rules.new_game(puzzle_id=UMBRELLA)
    close = await rules.guess(game.game_id, "She has no hair at all, that is all.")
    assert close.verdict == "close"
    assert close.message == ("Close! You have 1 of 3 key facts. Still missing: where her hair "
                             "went 2 guesses left.")  # fmt: skip
    host.note = bank.get(UMBRELLA).bottom  # a host that would give it all away
    leaked = await rules.guess(game.game_id, "She has no hair at all, still.")
    assert "chemotherapy" not in leaked.message
    assert "Part of the story is still unexplained. 1 guess left." in leaked.message
    last = await rules.guess(game.game_id, "It was a trick umbrella.")
    assert last.verdict == "incorrect" and "No guesses left. The answer: " in last.message
    assert rules.view(game.game_id).state is GameState.REVEALED


async def test_the_question_budget_runs_out_but_guessing_still_works(rules: GameRules) -> None:
    game = await rules.new_game(puzzle_id=UMBRELLA)
    for number in range(QUESTION_BUDGET["easy"]):
        await rules.ask(game.game_id, f"Is it about thing number {number}?")
    with pytest.raises(GameError, match="No questions left: make a guess, or reveal the answer"):
        await rules.ask(game.game_id, "One more?")
    assert (await rules.guess(game.game_id, "no idea")).verdict == "incorrect"


async def test_custom_puzzles_are_validated_kept_and_played(
    rules: GameRules, bank: PuzzleBank, tmp_path: Path
) -> None:
    clock = {"surface": "A clock in the hall strikes thirteen.",
             "bottom": "The clock is a prop in a play rehearsal."}  # fmt: skip
    game = await rules.new_game(custom=clock)
    assert game.title == "A clock in the hall strikes" and game.facts_total == 0
    assert (tmp_path / "custom" / f"{game.puzzle_id}.json").is_file()
    assert PuzzleBank(bank.bank_dir, bank.custom_dir).get(game.puzzle_id).custom
    with pytest.raises(GameError, match="surface: Field required"):
        await rules.new_game(custom={"bottom": "Only a bottom is not a puzzle."})
    with pytest.raises(GameError, match="one of the bank's puzzles"):
        await rules.new_game(custom={"id": UMBRELLA, "surface": "Something odd happened.",
                                     "bottom": "And here is why it happened."})  # fmt: skip


async def test_a_new_game_by_difficulty_prefers_puzzles_not_played_yet(
    rules: GameRules, bank: PuzzleBank
) -> None:
    first = await rules.new_game(difficulty="easy")
    await rules.abandon(first.game_id)
    with pytest.raises(GameError, match="no hard puzzles in the bank"):
        await rules.new_game(difficulty="hard")
    again = await rules.new_game(difficulty="easy")  # only one: played ones come round again
    assert again.puzzle_id == first.puzzle_id
    assert (await rules.totals()).abandoned == 1
