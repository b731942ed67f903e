"""The official MCP conformance suite (``@modelcontextprotocol/conformance``, pinned in
``conformance/``) in ``make test``, through ``scripts/conformance.py``: the server scenarios
against each of our five servers and the client scenarios against ``hybridmcp mcp
conformance-client``, at both revisions. Each run is checked against its baseline
(``conformance/baselines/<name>-<revision>.yml``): a failure not listed there fails the test, and
so does a listed failure that now passes (a stale entry).

Select them with ``-m conformance``; they need the suite installed (``make setup`` runs
``scripts/conformance.py install``, which needs npm's registry once) and take about 1.5 min for
the servers and 3 min for the clients here. ``conformance/README.md`` explains the baselines.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS

REPO = Path(__file__).resolve().parents[2]
REVISIONS = ("2025-11-25", "2026-07-28")
# Generous: a server run takes seconds and a client run about 1.5 min on a quiet machine; the
# suite's own per-scenario limits are inside scripts/conformance.py.
SERVER_TIMEOUT_S = 900
CLIENT_TIMEOUT_S = 1800
ENTRY = re.compile(r"^  - (?P<key>\S+)")

pytestmark = [pytest.mark.integration, pytest.mark.conformance]


def _load_runner() -> ModuleType:
    """``scripts/conformance.py`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "conformance_runner", REPO / "scripts" / "conformance.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    return _load_runner()


@pytest.fixture(scope="module")
def suite(runner: ModuleType) -> Path:
    """The suite's CLI; installed now if ``make setup`` has not (npm's registry needed)."""
    try:
        cli: Path = runner.install()
    except SystemExit as error:  # the runner's one-line reason (offline, npm failed)
        pytest.fail(str(error), pytrace=False)
    return cli


def baseline_entries(path: Path) -> set[str]:
    return {m["key"] for line in path.read_text().splitlines() if (m := ENTRY.match(line))}


def assert_matches_baseline(runner: ModuleType, run: object, name: str, revision: str) -> None:
    """The run failed exactly the checks its baseline lists, and the suite agreed."""
    scenarios = run.scenarios  # type: ignore[attr-defined]
    assert scenarios, f"the suite reported no scenario for {name} at {revision}"
    failing = {
        f"{scenario.name}:{check.id}"
        for scenario in scenarios
        for check in scenario.checks
        if check.failing
    }
    expected = baseline_entries(runner.baseline_path(name, revision))
    new, stale = sorted(failing - expected), sorted(expected - failing)
    log = runner.RESULTS / name / revision / "suite.txt"
    assert (new, stale) == ([], []), (
        f"{name} at {revision}: new failures {new}, stale baseline entries {stale} "
        f"(the suite's output: {log})"
    )
    assert run.suite_exit == 0, f"the suite exited {run.suite_exit}: {log}"  # type: ignore[attr-defined]
    assert any(scenario.passed for scenario in scenarios)


@pytest.mark.timeout(SERVER_TIMEOUT_S)
@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("server", sorted(BUILTIN_SERVERS))
def test_our_server_fails_only_the_checks_its_baseline_lists(
    runner: ModuleType, suite: Path, server: str, revision: str
) -> None:
    run = runner.measure(suite, server, revision, use_baseline=True)
    assert_matches_baseline(runner, run, server, revision)


@pytest.mark.timeout(CLIENT_TIMEOUT_S)
@pytest.mark.parametrize("revision", REVISIONS)
def test_our_client_fails_only_the_checks_its_baseline_lists(
    runner: ModuleType, suite: Path, revision: str
) -> None:
    run = runner.measure_client(suite, revision, use_baseline=True)
    assert_matches_baseline(runner, run, runner.CLIENT, revision)
