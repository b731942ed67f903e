"""The architecture's import rules are enforced by import-linter: prove they can fail."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "hybridmcp_app",
        tmp_path / "hybridmcp_app",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold_for_the_code_as_it_is(tree_copy: Path) -> None:
    result = _lint(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_qt_import_under_core_breaks_the_contract(tree_copy: Path) -> None:
    (tree_copy / "hybridmcp_app" / "core" / "sneaky_widget.py").write_text(
        "from PySide6.QtWidgets import QWidget\n"
    )
    result = _lint(tree_copy)
    assert result.returncode != 0
    assert "hybridmcp_app.core is not allowed to import PySide6" in result.stdout
    assert "hybridmcp_app.core.sneaky_widget -> PySide6" in result.stdout


def test_config_importing_the_ui_breaks_the_layers(tree_copy: Path) -> None:
    (tree_copy / "hybridmcp_app" / "config" / "upward.py").write_text(
        "from hybridmcp_app.ui import main_window\n"
    )
    result = _lint(tree_copy)
    assert result.returncode != 0
    assert "hybridmcp_app.config.upward -> hybridmcp_app.ui.main_window" in result.stdout


def test_the_indexer_importing_the_library_service_breaks_the_documents_layers(
    tree_copy: Path,
) -> None:
    indexer = tree_copy / "hybridmcp_app" / "documents" / "library_indexer.py"
    upward = "\nfrom hybridmcp_app.documents.library_service import LibraryService  # noqa\n"
    indexer.write_text(indexer.read_text() + upward)
    result = _lint(tree_copy)
    assert result.returncode != 0
    report = " ".join(result.stdout.split())  # the report wraps long lines
    assert "library_indexer -> hybridmcp_app.documents.library_service" in report


def test_no_layer_is_optional() -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = [
        layer for c in contracts["contracts"] if c["type"] == "layers" for layer in c["layers"]
    ]
    assert layers and not [layer for layer in layers if "(" in layer]


def test_a_server_importing_the_host_breaks_the_servers_contract(tree_copy: Path) -> None:
    (tree_copy / "hybridmcp_app" / "mcp_servers" / "leaning.py").write_text(
        "from hybridmcp_app.mcp_host import mcp_host_service  # noqa\n"
    )
    result = _lint(tree_copy)
    assert result.returncode != 0
    report = " ".join(result.stdout.split())
    assert "hybridmcp_app.mcp_servers.leaning -> hybridmcp_app.mcp_host.mcp_host_service" in report


def test_a_command_importing_the_ui_breaks_the_qt_contract(tree_copy: Path) -> None:
    (tree_copy / "hybridmcp_app" / "cli" / "windowed.py").write_text(
        "from hybridmcp_app.ui import theme  # noqa\n"
    )
    result = _lint(tree_copy)
    assert result.returncode != 0
    assert "hybridmcp_app.cli is not allowed to import PySide6" in result.stdout
