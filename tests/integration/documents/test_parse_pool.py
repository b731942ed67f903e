"""Parsing batches in spawned worker processes: every file answered once, failures as values."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from hybridmcp_app.config.settings import DEFAULT_DOCUMENT_EXTENSIONS
from hybridmcp_app.documents import parse_pool
from hybridmcp_app.documents.document_models import ParsedDocument, ScannedFile
from hybridmcp_app.documents.document_scanner import scan_documents
from hybridmcp_app.documents.parse_errors import (
    CorruptDocument,
    DocumentParseError,
    EmptyDocument,
    EncryptedDocument,
)
from hybridmcp_app.documents.parse_pool import parse_many
from tests.helpers.documents_corpus import (
    HTML_PAGE,
    MARKDOWN_NOTES,
    write_encrypted_pdf,
    write_garbage,
    write_image_only_pdf,
    write_pdf,
    write_plain_text,
    write_tree,
    write_truncated_pdf,
)


def _mixed_folder(root: Path) -> Path:
    """Good documents next to every kind of bad one the library must survive."""
    write_tree(root, {"rules.html": HTML_PAGE, "notes.md": MARKDOWN_NOTES})
    write_pdf(root / "good.pdf", pages=3)
    write_truncated_pdf(root / "half.pdf", keep=0.5)
    write_truncated_pdf(root / "cut.pdf", keep=0.8)
    write_encrypted_pdf(root / "locked.pdf")
    write_garbage(root / "garbage.pdf")
    write_plain_text(root / "renamed.pdf")
    write_image_only_pdf(root / "scan.pdf")
    return root


def test_a_mixed_folder_is_parsed_in_worker_processes_and_bad_files_fail_alone(
    tmp_path: Path,
) -> None:
    scan = scan_documents([_mixed_folder(tmp_path)], DEFAULT_DOCUMENT_EXTENSIONS)
    assert len(scan.files) == 9

    outcomes = {file.path.name: outcome for file, outcome in parse_many(scan.files, workers=3)}

    assert sorted(outcomes) == sorted(file.path.name for file in scan.files)
    parsed = {name for name, outcome in outcomes.items() if isinstance(outcome, ParsedDocument)}
    assert parsed == {"rules.html", "notes.md", "good.pdf", "half.pdf"}
    half = outcomes["half.pdf"]
    assert isinstance(half, ParsedDocument) and half.repaired
    failures = {  # MuPDF's own words in parentheses are left out: they vary between releases
        name: (type(outcome), str(outcome).split(" (invalid")[0])
        for name, outcome in outcomes.items()
        if isinstance(outcome, DocumentParseError)
    }
    assert failures == {
        "cut.pdf": (CorruptDocument, "damaged beyond repair: MuPDF cannot open this PDF"),
        "locked.pdf": (EncryptedDocument, "needs a password: the PDF is encrypted"),
        "garbage.pdf": (CorruptDocument, "not a PDF (another kind of file renamed .pdf?)"),
        "renamed.pdf": (CorruptDocument, "not a PDF (another kind of file renamed .pdf?)"),
        "scan.pdf": (
            EmptyDocument,
            "no text: its pages are only images (a scan?), and there is no OCR",
        ),
    }
    good = outcomes["good.pdf"]
    assert isinstance(good, ParsedDocument)
    assert good.content_hash == next(
        f.content_hash for f in scan.files if f.path.name == "good.pdf"
    )


def test_a_small_batch_is_parsed_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process pool was started for three files")

    monkeypatch.setattr(parse_pool, "ProcessPoolExecutor", no_pool)
    write_tree(tmp_path, {"a.txt": "alpha", "b.txt": "beta"})
    write_garbage(tmp_path / "c.pdf")
    scan = scan_documents([tmp_path], DEFAULT_DOCUMENT_EXTENSIONS)

    outcomes = [(file.path.name, type(outcome)) for file, outcome in parse_many(scan.files)]

    assert outcomes == [
        ("a.txt", ParsedDocument),
        ("b.txt", ParsedDocument),
        ("c.pdf", CorruptDocument),
    ]


def test_a_cancelled_batch_stops_yielding(tmp_path: Path) -> None:
    write_tree(tmp_path, {f"n{index}.txt": f"note {index}" for index in range(6)})
    scan = scan_documents([tmp_path], DEFAULT_DOCUMENT_EXTENSIONS)
    cancel = threading.Event()
    seen: list[str] = []

    for file, _outcome in parse_many(scan.files, workers=2, cancel=cancel):
        seen.append(file.path.name)
        cancel.set()

    assert len(seen) == 1


def test_an_unexpected_parser_error_costs_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(file: object) -> ParsedDocument:
        raise KeyError("a parser bug")

    monkeypatch.setattr(parse_pool, "parse_document", broken)
    write_tree(tmp_path, {"a.txt": "alpha"})
    scan = scan_documents([tmp_path], DEFAULT_DOCUMENT_EXTENSIONS)

    [(_file, outcome)] = list(parse_many(scan.files))

    assert isinstance(outcome, DocumentParseError)
    assert str(outcome) == "unexpected error while reading it: KeyError"


def test_while_no_worker_has_a_result_only_unstarted_text_files_are_taken_back() -> None:
    def scanned(name: str) -> ScannedFile:
        extension = name.rsplit(".", 1)[1]
        path = Path("/docs") / name
        return ScannedFile(path=path, size=1, mtime_ns=0, content_hash="0", extension=extension)

    files = [scanned(name) for name in ("a.md", "b.pdf", "c.txt", "d.docx", "e.html")]
    futures: list[Future[parse_pool.ParseOutcome]] = [Future() for _ in files]
    futures[4].set_running_or_notify_cancel()  # a worker has started e.html
    pending = dict(zip(futures, files, strict=True))

    taken = [parse_pool._take_text_file(pending) for _ in range(3)]

    assert [file.path.name if file else None for file in taken] == ["c.txt", "a.md", None]
    assert futures[2].cancelled() and futures[0].cancelled()
    assert sorted(file.path.name for file in pending.values()) == ["b.pdf", "d.docx", "e.html"]


def test_a_file_is_said_to_start_once_a_worker_takes_it_on_not_while_it_waits(
    tmp_path: Path,
) -> None:
    paths = [write_pdf(tmp_path / f"paper-{number:02}.pdf", pages=2) for number in range(16)]
    scan = scan_documents(paths, DEFAULT_DOCUMENT_EXTENSIONS)
    told: list[Path] = []
    yielded: list[Path] = []
    most_waiting = 0  # files said to be parsing and not yet answered

    def started(file: ScannedFile) -> None:
        nonlocal most_waiting
        told.append(file.path)
        most_waiting = max(most_waiting, len(told) - len(yielded))

    for file, outcome in parse_many(scan.files, workers=2, started=started):
        assert file.path in told  # said before its outcome
        assert isinstance(outcome, ParsedDocument)
        yielded.append(file.path)

    assert sorted(told) == sorted(yielded) == sorted(paths)  # each file once
    # What the pool holds at once (two workers' files and the next three), and those it held
    # that finished since the last look: never the whole batch.
    assert most_waiting <= 2 * (2 * 2 + 1) < len(paths)
