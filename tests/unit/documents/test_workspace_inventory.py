"""The file registry (JSON, versioned, the next scan's memory) and the readable inventory report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hybridmcp_app.config.settings import DEFAULT_DOCUMENT_EXTENSIONS
from hybridmcp_app.documents.document_models import ScannedFile, SkippedFile
from hybridmcp_app.documents.document_scanner import ScanResult, scan_documents
from hybridmcp_app.documents.workspace_inventory import (
    inventory_report,
    read_known_files,
    write_file_registry,
)
from tests.helpers.documents_corpus import write_tree


def _scan(root: Path) -> ScanResult:
    write_tree(
        root,
        {
            "guide.md": "# Guide\n" * 100,
            "src/main.py": "print(1)\n",
            "src/util.py": "x = 1\n" * 10,
            "logo.png": b"\x89PNG\r\n",
            "a|b.txt": "pipe in the name",
        },
    )
    return scan_documents([root], DEFAULT_DOCUMENT_EXTENSIONS)


def test_the_registry_lists_every_file_with_size_mtime_hash_and_extension(tmp_path: Path) -> None:
    result = _scan(tmp_path / "work")
    registry = tmp_path / "state" / "file_registry.json"

    write_file_registry(result, registry)

    data = json.loads(registry.read_text(encoding="utf-8"))
    assert (data["format"], data["version"]) == ("hybridmcp.file_registry", 1)
    assert isinstance(data["written_at"], float)
    guide = next(entry for entry in data["files"] if entry["path"].endswith("guide.md"))
    scanned = next(file for file in result.files if file.path.name == "guide.md")
    assert guide == {
        "path": str(scanned.path),
        "size": scanned.size,
        "mtime_ns": scanned.mtime_ns,
        "content_hash": scanned.content_hash,
        "extension": "md",
    }
    assert data["skipped"] == [
        {"path": str(tmp_path / "work" / "logo.png"), "reason": "extension .png is not in the list"}
    ]
    assert not list(registry.parent.glob("*.partial"))


def test_the_registry_read_back_is_the_next_scans_known_files(tmp_path: Path) -> None:
    result = _scan(tmp_path / "work")
    registry = tmp_path / "file_registry.json"
    write_file_registry(result, registry)

    known = read_known_files(registry)

    assert known == {
        file.path: (file.size, file.mtime_ns, file.content_hash) for file in result.files
    }
    again = scan_documents([tmp_path / "work"], DEFAULT_DOCUMENT_EXTENSIONS, known=known)
    assert again.hashed == 0 and again.files == result.files


def test_a_missing_registry_means_nothing_is_known(tmp_path: Path) -> None:
    assert read_known_files(tmp_path / "none.json") == {}


@pytest.mark.parametrize(
    "content",
    ['{"format": "hybridmcp.file_registry", "version": 99, "written_at": 0}', "not json {"],
)
def test_an_unusable_registry_is_ignored_with_a_warning(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = tmp_path / "file_registry.json"
    registry.write_text(content, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="hybridmcp.documents.inventory"):
        assert read_known_files(registry) == {}
    assert "every file will be hashed again" in caplog.text


def test_the_report_gives_totals_per_extension_the_largest_files_and_what_was_left_out(
    tmp_path: Path,
) -> None:
    report = inventory_report(_scan(tmp_path / "work"))

    assert report.startswith("# Workspace inventory\n")
    assert f"Folder: `{tmp_path / 'work'}`" in report
    assert "- **4** files to index, 885 B in all" in report
    assert "- **1** left out" in report
    assert "| .py | 2 | 69 B |" in report
    assert "| .md | 1 | 800 B |" in report
    largest = report.split("## Largest files")[1].split("##")[0]
    assert largest.index("guide.md") < largest.index("src/util.py") < largest.index("src/main.py")
    assert "| a\\|b.txt | 16 B |" in report  # a pipe in a name does not break the table
    assert "| extension .png is not in the list | 1 |" in report
    assert "| logo.png | extension .png is not in the list |" in report


def test_the_report_groups_reasons_that_name_a_file_or_a_size() -> None:
    skipped = tuple(
        SkippedFile(path=Path(f"/w/{name}"), reason=reason)
        for name, reason in [
            ("a.txt", "too large: 120.0 MiB (limit 100.0 MiB)"),
            ("b.txt", "too large: 300.0 MiB (limit 100.0 MiB)"),
            ("c.txt", "ignored by /w/.gitignore"),
        ]
    )
    file = ScannedFile(path=Path("/w/d.md"), size=3, mtime_ns=1, content_hash="h", extension="md")

    report = inventory_report(ScanResult(files=(file,), skipped=skipped))

    assert "| too large | 2 |" in report
    assert "| ignored by | 1 |" in report
    assert "| a.txt | too large: 120.0 MiB (limit 100.0 MiB) |" in report


def test_an_empty_scan_reports_nothing_found() -> None:
    report = inventory_report(ScanResult())
    assert "- **0** files to index, 0 B in all" in report
    assert "## " not in report
