from pathlib import Path

from hybridmcp_app.game.game_stats import GameStats


def test_a_corrupt_stats_file_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "game-stats.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    stats = GameStats(path)
    assert stats.recovered_from is not None
    assert stats.recovered_from.read_bytes().startswith(b"this is not a database")
    assert stats.totals().played == 0


def test_a_new_stats_file_reports_no_recovery(tmp_path: Path) -> None:
    stats = GameStats(tmp_path / "data" / "game-stats.sqlite3")
    assert stats.recovered_from is None
    assert stats.totals().played == 0
