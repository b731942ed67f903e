"""The scanner on real folder trees: ignore files, hidden and binary files, links, hashes reused."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from hybridmcp_app.config.settings import DEFAULT_DOCUMENT_EXTENSIONS
from hybridmcp_app.documents import document_scanner
from hybridmcp_app.documents.document_scanner import ScanCancelled, ScanResult, scan_documents
from tests.helpers.documents_corpus import write_pdf, write_tree

EXTENSIONS = DEFAULT_DOCUMENT_EXTENSIONS


def _found(result: ScanResult, root: Path) -> set[str]:
    return {file.path.relative_to(root).as_posix() for file in result.files}


def _reasons(result: ScanResult, root: Path) -> dict[str, str]:
    return {item.path.relative_to(root).as_posix(): item.reason for item in result.skipped}


def test_a_folder_is_scanned_with_size_mtime_extension_and_content_hash(tmp_path: Path) -> None:
    write_tree(tmp_path, {"notes.md": "# Notes\n", "src/app.py": "print('hi')\n"})
    (tmp_path / "docs").mkdir()
    write_pdf(tmp_path / "docs" / "Report.PDF")

    result = scan_documents([tmp_path], EXTENSIONS)

    assert _found(result, tmp_path) == {"notes.md", "src/app.py", "docs/Report.PDF"}
    by_name = {file.path.name: file for file in result.files}
    notes = by_name["notes.md"]
    assert notes.path == tmp_path / "notes.md" and notes.path.is_absolute()
    assert notes.size == len(b"# Notes\n")
    assert notes.mtime_ns == (tmp_path / "notes.md").stat().st_mtime_ns
    assert notes.content_hash == hashlib.sha256(b"# Notes\n").hexdigest()
    assert by_name["Report.PDF"].extension == "pdf"
    assert result.hashed == 3


def test_nested_ignore_files_apply_to_their_own_subtree_like_git(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".gitignore": "build/\nsecret*.txt\n",
            "secret1.txt": "hidden by the top file",
            "build/out.txt": "a build product",
            "kept.txt": "kept",
            "sub/.gitignore": "!secret-ok.txt\ndraft.md\nkeep.md\n",
            "sub/.ignore": "notes.txt\n!keep.md\n",
            "sub/secret-ok.txt": "re-included below",
            "sub/secret-no.txt": "still ignored from above",
            "sub/draft.md": "ignored here",
            "sub/keep.md": ".ignore overrides .gitignore at the same level",
            "sub/notes.txt": "ignored by .ignore",
            "other/draft.md": "not under sub: kept",
        },
    )

    result = scan_documents([tmp_path], EXTENSIONS)

    assert _found(result, tmp_path) == {
        "kept.txt",
        "sub/secret-ok.txt",
        "sub/keep.md",
        "other/draft.md",
    }
    reasons = _reasons(result, tmp_path)
    assert reasons["build"] == f"ignored by {tmp_path / '.gitignore'}"  # the folder, once
    assert reasons["secret1.txt"] == f"ignored by {tmp_path / '.gitignore'}"
    assert reasons["sub/secret-no.txt"] == f"ignored by {tmp_path / '.gitignore'}"
    assert reasons["sub/draft.md"] == f"ignored by {tmp_path / 'sub' / '.gitignore'}"
    assert reasons["sub/notes.txt"] == f"ignored by {tmp_path / 'sub' / '.ignore'}"
    assert not any(name.endswith("ignore") for name in reasons)  # ignore files are not news


def test_ignore_files_above_a_dropped_folder_apply_up_to_its_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(
        repo,
        {".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "*.csv\n", "data/table.csv": "a,b"},
    )
    write_tree(repo / "data", {"readme.txt": "kept"})
    write_tree(tmp_path, {".gitignore": "*.txt\n"})  # above the repository: not git's business

    result = scan_documents([repo / "data"], EXTENSIONS)

    assert _found(result, repo / "data") == {"readme.txt"}
    assert _reasons(result, repo / "data")["table.csv"] == f"ignored by {repo / '.gitignore'}"


def test_hidden_entries_and_the_git_folder_are_left_out(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".secret.md": "hidden file",
            ".cache/inside.txt": "in a hidden folder",
            ".git/config.txt": "repository internals",
            "visible.md": "shown",
        },
    )

    result = scan_documents([tmp_path], EXTENSIONS)

    assert _found(result, tmp_path) == {"visible.md"}
    assert _reasons(result, tmp_path) == {".cache": "hidden", ".secret.md": "hidden"}


def test_a_hidden_file_dropped_by_name_is_taken(tmp_path: Path) -> None:
    hidden = write_tree(tmp_path, {".notes.md": "chosen on purpose"}) / ".notes.md"
    assert _found(scan_documents([hidden], EXTENSIONS), tmp_path) == {".notes.md"}


def test_binary_files_are_skipped_but_paged_formats_are_binary_by_nature(tmp_path: Path) -> None:
    write_tree(tmp_path, {"data.txt": b"text\x00with a NUL", "late.txt": b"a" * 9000 + b"\x00"})
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 binary by nature")

    result = scan_documents([tmp_path], EXTENSIONS)

    assert _found(result, tmp_path) == {"paper.pdf", "late.txt"}  # NUL past 8 KiB: still text
    assert _reasons(result, tmp_path) == {"data.txt": "binary file"}


def test_files_over_the_size_limit_and_empty_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    write_tree(tmp_path, {"big.txt": "x" * 2048, "small.txt": "x" * 10, "empty.md": ""})

    result = scan_documents([tmp_path], EXTENSIONS, max_bytes=1024)

    assert _found(result, tmp_path) == {"small.txt"}
    reasons = _reasons(result, tmp_path)
    assert reasons["big.txt"] == "too large: 2.0 KiB (limit 1.0 KiB)"
    assert reasons["empty.md"] == "empty file"


def test_only_listed_extensions_are_taken_whatever_their_case(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.TXT": "x", "b.log": "x", "Makefile": "all:", "c.md": "x"})

    result = scan_documents([tmp_path], [".txt", "MD"])

    assert _found(result, tmp_path) == {"a.TXT", "c.md"}
    assert _reasons(result, tmp_path) == {
        "b.log": "extension .log is not in the list",
        "Makefile": "no extension",
    }


def test_a_symlink_loop_is_walked_once_and_broken_links_are_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/a.md": "a", "docs/deeper/b.md": "b"})
    (tmp_path / "docs" / "deeper" / "up").symlink_to(tmp_path / "docs")  # a loop
    (tmp_path / "docs" / "self").symlink_to(tmp_path / "docs" / "self")  # links to itself
    (tmp_path / "docs" / "gone.md").symlink_to(tmp_path / "nowhere.md")
    (tmp_path / "docs" / "alias.md").symlink_to(tmp_path / "docs" / "a.md")

    result = scan_documents([tmp_path / "docs", tmp_path / "docs"], EXTENSIONS)

    assert _found(result, tmp_path) == {"docs/a.md", "docs/deeper/b.md"}
    reasons = _reasons(result, tmp_path)
    assert reasons["docs/self"] == "broken or looping symbolic link"
    assert reasons["docs/gone.md"] == "broken or looping symbolic link"
    assert reasons["docs/alias.md"] == f"same file as {tmp_path / 'docs' / 'a.md'}"


def test_unchanged_files_reuse_their_known_hash_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {f"n{index}.txt": f"note {index}" for index in range(5)})
    first = scan_documents([tmp_path], EXTENSIONS)
    known = {file.path: (file.size, file.mtime_ns, file.content_hash) for file in first.files}

    def no_reading(path: Path, *, sniff: bool) -> tuple[str, bool]:
        raise AssertionError(f"{path} was read")

    monkeypatch.setattr(document_scanner, "_hash_file", no_reading)
    again = scan_documents([tmp_path], EXTENSIONS, known=known)

    assert again.files == first.files
    assert again.hashed == 0


def test_a_file_whose_size_or_mtime_changed_is_hashed_again(tmp_path: Path) -> None:
    note = write_tree(tmp_path, {"note.txt": "before"}) / "note.txt"
    first = scan_documents([tmp_path], EXTENSIONS)
    known = {file.path: (file.size, file.mtime_ns, file.content_hash) for file in first.files}
    note.write_text("after!")
    stat = note.stat()
    os.utime(note, ns=(stat.st_atime_ns, first.files[0].mtime_ns + 1_000_000))

    again = scan_documents([tmp_path], EXTENSIONS, known=known)

    assert again.hashed == 1
    assert again.files[0].content_hash == hashlib.sha256(b"after!").hexdigest()


def test_an_unreadable_file_is_skipped_with_a_reason_and_the_rest_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"locked.txt": "secret", "open.txt": "fine"})
    real_hash = document_scanner._hash_file

    def locked(path: Path, *, sniff: bool) -> tuple[str, bool]:
        if path.name == "locked.txt":  # as chmod 000 would, for a user who is not root
            raise PermissionError(13, "Permission denied", str(path))
        return real_hash(path, sniff=sniff)

    monkeypatch.setattr(document_scanner, "_hash_file", locked)
    result = scan_documents([tmp_path], EXTENSIONS)

    assert _found(result, tmp_path) == {"open.txt"}
    assert _reasons(result, tmp_path) == {"locked.txt": "cannot read: permission denied"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_skipped(tmp_path: Path) -> None:
    locked = write_tree(tmp_path, {"locked.txt": "secret"}) / "locked.txt"
    locked.chmod(0)
    try:
        result = scan_documents([tmp_path], EXTENSIONS)
    finally:
        locked.chmod(0o644)
    assert _reasons(result, tmp_path) == {"locked.txt": "cannot read: permission denied"}


def test_a_missing_path_is_reported_not_raised(tmp_path: Path) -> None:
    result = scan_documents([tmp_path / "absent"], EXTENSIONS)
    assert [(item.path, item.reason) for item in result.skipped] == [
        (tmp_path / "absent", "not found")
    ]


def test_progress_counts_the_files_looked_at(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.txt": "a", "b.txt": "b", "c.bin": "c"})
    seen: list[int] = []
    scan_documents([tmp_path], EXTENSIONS, progress=seen.append)
    assert seen == [1, 2, 3]


def test_a_cancelled_scan_raises_scan_cancelled(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.txt": "a"})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ScanCancelled):
        scan_documents([tmp_path], EXTENSIONS, cancel=cancel)
