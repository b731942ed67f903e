"""``hybridmcp library`` as a user runs it: the real command in a subprocess, on real files,
with the real embedder and an embedded Chroma under a temporary ``--home``."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.documents.library_lock import LibraryLock
from tests.helpers.documents_corpus import write_pdf, write_png_named
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
ATLAS_PAGES = (
    "Sourdough bread needs a lively starter, flour, water and salt. The dough rises slowly "
    "overnight and is baked in a very hot oven until the crust is dark.",
    "Comets travel on long elliptical orbits around the Sun. As a comet comes close, its ice "
    "turns to gas and forms a glowing tail that always points away from the Sun.",
    "The saxophone is at the heart of jazz. Charlie Parker and John Coltrane improvised fast "
    "bebop lines over quickly changing chords.",
)


def library(
    home: Path, *args: str, cwd: Path, timeout: float = PATIENCE_S
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "--home", str(home), "library", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def write_topic_pdf(path: Path, pages: tuple[str, ...]) -> Path:
    document = pymupdf.open()
    for text in pages:
        page = document.new_page()
        assert page.insert_textbox(pymupdf.Rect(72, 72, 520, 770), text, fontsize=11) >= 0
    document.save(path)
    document.close()
    return path


def write_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    notes = folder / "notes.md"
    notes.write_text(
        "# Volcanoes\n\nLava erupts when magma rises through cracks in the crust.\n",
        encoding="utf-8",
    )
    recipes = folder / "recipes.txt"
    recipes.write_text("Boil the pasta in plenty of salted water for nine minutes.\n", "utf-8")
    return {
        "notes": notes,
        "recipes": recipes,
        "atlas": write_topic_pdf(folder / "atlas.pdf", ATLAS_PAGES),
        "broken": write_png_named(folder / "broken.pdf"),
    }


def status_by_name(home: Path, cwd: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    result = library(home, "status", "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    return {Path(item["path"]).name: item for item in payload["files"]}, payload["totals"]


def test_added_files_can_be_listed_searched_and_removed(tmp_path: Path) -> None:
    home, corpus = tmp_path / "cli-home", write_corpus(tmp_path / "corpus")

    added = library(home, "add", "corpus", cwd=tmp_path)
    assert added.returncode == 1, added.stderr  # one file failed; the others are indexed
    assert "indexed 3 file(s)" in added.stdout
    assert "failed 1" in added.stdout
    assert "corpus/broken.pdf: " in added.stdout
    assert AppPaths.under(home).data_dir.is_dir()  # --home wins over HYBRIDMCP_HOME

    files, totals = status_by_name(home, tmp_path)
    assert {name: item["state"] for name, item in files.items()} == {
        "notes.md": "indexed",
        "recipes.txt": "indexed",
        "atlas.pdf": "indexed",
        "broken.pdf": "failed",
    }
    assert files["broken.pdf"]["reason"]
    assert files["atlas.pdf"]["chunks"] >= 1
    assert files["atlas.pdf"]["indexed_at"] is not None
    assert (totals["files"], totals["indexed"], totals["failed"]) == (4, 3, 1)

    found = library(
        home,
        "search",
        "the glowing tail of a comet near the Sun",
        "-k",
        "3",
        "--json",
        cwd=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert len(hits) == 3
    assert (hits[0]["path"], hits[0]["page"]) == (str(corpus["atlas"]), 2)
    assert "Comets travel" in hits[0]["text"]
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert set(hits[0]) == {
        "chunk_id", "score", "path", "page", "first_line", "last_line", "heading", "text",
    }  # fmt: skip

    failed_only = library(home, "status", "--failed", cwd=tmp_path)
    assert failed_only.returncode == 0
    listed = [line for line in failed_only.stdout.splitlines() if line.startswith("failed ")]
    assert len(listed) == 1
    assert "corpus/broken.pdf — " in listed[0]
    assert "4 file(s): 3 indexed, 1 failed, 0 pending" in failed_only.stdout

    removed = library(home, "remove", "corpus/notes.md", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "removed 1 file(s)" in removed.stdout
    assert corpus["notes"].exists()
    files, totals = status_by_name(home, tmp_path)
    assert set(files) == {"recipes.txt", "atlas.pdf", "broken.pdf"}
    again = library(home, "remove", "corpus/notes.md", cwd=tmp_path)
    assert again.returncode == 1
    assert "nothing in the library" in again.stderr


def test_adding_an_unchanged_folder_again_indexes_nothing(tmp_path: Path) -> None:
    home, corpus = tmp_path / "cli-home", write_corpus(tmp_path / "corpus")
    corpus["broken"].unlink()
    assert library(home, "add", "corpus", cwd=tmp_path).returncode == 0

    again = library(home, "add", "corpus", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["indexed"], report["unchanged"], report["failed"], report["chunks"]) == (
        0,
        3,
        0,
        0,
    )
    assert report["resumed"] is None
    text = library(home, "add", "corpus", cwd=tmp_path)
    assert "indexed 0 file(s) (0 chunks), failed 0, without text 0, unchanged 3" in text.stdout


def test_progress_goes_to_stderr_and_stdout_stays_json(tmp_path: Path) -> None:
    home, folder = tmp_path / "cli-home", tmp_path / "pdfs"
    folder.mkdir()
    for number in range(5):
        write_pdf(folder / f"report-{number}.pdf", pages=3, lines=5)
    write_png_named(folder / "photo.pdf")

    result = library(home, "add", "pdfs", "--json", cwd=tmp_path)
    assert result.returncode == 1  # photo.pdf is not a PDF
    report = json.loads(result.stdout)  # nothing but the JSON document on stdout
    assert (report["indexed"], report["failed"]) == (5, 1)
    assert [Path(item["path"]).name for item in report["failures"]] == ["photo.pdf"]
    assert report["failures"][0]["reason"]
    progress = [line for line in result.stderr.splitlines() if line.startswith("indexing: ")]
    assert progress[-1].startswith("indexing: 6/6 files")
    assert "\r" not in result.stderr  # not a terminal: plain lines, no bar


def test_a_path_that_does_not_exist_is_refused_and_nothing_is_indexed(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    write_corpus(tmp_path / "corpus")
    result = library(home, "add", "corpus", "no-such-folder", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "hybridmcp library add: no such file or folder: no-such-folder"
    assert result.stdout == ""
    files, totals = status_by_name(home, tmp_path)
    assert files == {}
    assert totals["chunks"] == 0


def test_an_empty_query_is_refused(tmp_path: Path) -> None:
    result = library(tmp_path / "cli-home", "search", "  ", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "hybridmcp library search: the query is empty"


def test_searching_an_empty_library_says_so_even_with_broken_settings(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text("{not json", encoding="utf-8")
    result = library(home, "search", "anything", "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout) == []
    warning, message = result.stderr.strip().splitlines()
    assert warning.startswith("warning: Your settings file could not be used")
    assert message.startswith("nothing found: the library holds no indexed text")


def test_a_library_open_elsewhere_is_one_line_on_stderr(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    lock = LibraryLock(home / "data")
    lock.acquire()
    try:
        result = library(home, "status", cwd=tmp_path)
    finally:
        lock.release()
    assert result.returncode == 3
    assert result.stderr.startswith("hybridmcp library status: the library is open in ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_chroma_server_is_one_line_on_stderr(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path / "cli-home"
    (home / "config").mkdir(parents=True)
    settings = {"documents": {"chroma_mode": "http", "chroma_url": f"http://127.0.0.1:{port}"}}
    (home / "config" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    result = library(home, "search", "anything", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.startswith(
        f"hybridmcp library search: the library's storage at http://127.0.0.1:{port}"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def _wait_for_line(stream: Any, prefix: str, timeout_s: float = PATIENCE_S) -> str:
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            line: str = stream.readline()
            if not line or line.startswith(prefix):
                return line
    raise AssertionError(f"no line starting with {prefix!r} within {timeout_s} s")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX only")
def test_ctrl_c_cancels_cleanly_and_the_next_add_finishes_the_run(tmp_path: Path) -> None:
    home, folder = tmp_path / "cli-home", tmp_path / "pdfs"
    folder.mkdir()
    for number in range(12):
        write_pdf(folder / f"book-{number}.pdf", pages=10, lines=30)
    command = [sys.executable, "-m", "hybridmcp_app", "--home", str(home), "library", "add", "pdfs"]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert _wait_for_line(process.stderr, "indexing: ").startswith("indexing: 0/12")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=PATIENCE_S)
    assert process.returncode == 130, stderr
    assert "hybridmcp library add: cancelled" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""

    files, totals = status_by_name(home, tmp_path)
    assert totals["pending"] >= 1
    assert all(item["state"] in ("queued", "indexed") for item in files.values())

    finished = library(home, "add", "pdfs", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert f"finishing {totals['pending']} file(s) an interrupted run left" in finished.stderr
    assert "finished an interrupted run: indexed" in finished.stdout
    files, totals = status_by_name(home, tmp_path)
    assert {item["state"] for item in files.values()} == {"indexed"}
    assert (totals["files"], totals["pending"]) == (12, 0)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX only")
def test_watch_follows_a_folder_until_ctrl_c_and_the_window_keeps_following_it(
    tmp_path: Path,
) -> None:
    home, folder = tmp_path / "cli-home", tmp_path / "notes"
    write_corpus(folder)
    command = [sys.executable, "-m", "hybridmcp_app", "--home", str(home), "library", "watch",
               "notes"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = _wait_for_line(process.stdout, "notes: ")
        assert first.startswith("notes: 3 indexed, 0 removed, 1 failed"), first
        assert _wait_for_line(process.stderr, "watching ").startswith("watching notes")
        (folder / "otters.md").write_text("# Otters\n\nOtters hold hands when they sleep.\n")
        (folder / "recipes.txt").unlink()
        changed = _wait_for_line(process.stdout, "notes: ")
        # The broken PDF, unchanged, is not tried again.
        assert changed.startswith("notes: 1 indexed, 1 removed, 0 failed"), changed
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=PATIENCE_S)
    finally:
        stop(process)
    assert process.returncode == 0, stderr
    assert "hybridmcp library watch: stopped" in stderr

    files, _totals = status_by_name(home, tmp_path)
    assert "otters.md" in files and "recipes.txt" not in files
    settings = json.loads(AppPaths.under(home).settings_file.read_text(encoding="utf-8"))
    assert settings["documents"]["watch_folders"] == [str(folder)]
    # Without PATH, `watch --once` syncs the folders already watched.
    (folder / "late.md").write_text("# Late\n\nWritten while nobody watched.\n")
    once = library(home, "watch", "--once", cwd=tmp_path)
    assert once.returncode == 0, once.stderr
    assert once.stdout.startswith("notes: 1 indexed, 0 removed, 0 failed")


def test_watch_refuses_what_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder\n")
    result = library(tmp_path / "home", "watch", "file.txt", "missing", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a folder: file.txt, missing" in result.stderr
    nothing = library(tmp_path / "home", "watch", "--once", cwd=tmp_path)
    assert nothing.returncode == 2 and "no folder to watch" in nothing.stderr
