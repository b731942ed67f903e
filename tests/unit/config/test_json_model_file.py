"""The app's own small JSON files: missing means empty, damaged is moved aside and said."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from hybridmcp_app.config.json_model_file import read_model_file, write_model_file


class Counts(BaseModel):
    counts: dict[str, int] = {}


def test_a_missing_file_reads_as_the_empty_model(tmp_path: Path) -> None:
    assert read_model_file(tmp_path / "c.json", Counts, "x") == (Counts(), None)


def test_what_was_written_reads_back(tmp_path: Path) -> None:
    write_model_file(tmp_path / "c.json", Counts(counts={"a": 1}))
    assert read_model_file(tmp_path / "c.json", Counts, "x") == (Counts(counts={"a": 1}), None)


def test_a_damaged_file_is_moved_aside_and_the_problem_says_what_it_means(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"counts": {"a": "many"}}', encoding="utf-8")
    data, problem = read_model_file(path, Counts, "the counts start afresh")
    assert data == Counts() and not path.exists()
    assert (tmp_path / "c.json.bad").read_text(encoding="utf-8") == '{"counts": {"a": "many"}}'
    assert problem is not None and problem.startswith("c.json could not be read (")
    assert problem.endswith("the counts start afresh; the old file was kept as c.json.bad")
