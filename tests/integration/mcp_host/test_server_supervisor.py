"""Supervising real MCP servers: start, call, kill -9, crash loops, hangs, bad commands, and
nothing left running afterwards."""

from __future__ import annotations

import logging
import os
import signal
import sys

import psutil
import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.server_status import RestartPolicy, ServerState, ServerStatus
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import (
    FAST,
    REPO,
    SupervisorFactory,
    mcp_test_server,
    server_processes,
)


async def test_a_server_starts_lists_its_tools_and_answers_a_call(
    supervise: SupervisorFactory,
) -> None:
    supervisor = supervise("test", mcp_test_server())
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    status = supervisor.status
    names = {tool.name for tool in status.tools}
    assert {"echo", "add", "hang", "crash", "env", "toggle_extra"} <= names
    add = next(tool for tool in status.tools if tool.name == "add")
    assert add.read_only and add.qualified_name == "test__add"
    assert [resource.uri for resource in status.resources] == ["test://greeting"]
    assert [prompt.name for prompt in status.prompts] == ["summarise"]
    outcome = await supervisor.call_tool("add", {"a": 2, "b": 40})
    assert (outcome.text, outcome.is_error) == ("42", False)
    assert status.ready_since is not None


async def test_a_server_gets_only_the_environment_it_declares(
    supervise: SupervisorFactory,
) -> None:
    os.environ["HYBRIDMCP_TEST_LEAK"] = "should-not-pass"
    try:
        supervisor = supervise("test", mcp_test_server(env={"DECLARED": "yes"}))
        supervisor.start()
        await wait_until(lambda: supervisor.status.state is ServerState.READY)
        declared = await supervisor.call_tool("env", {"name": "DECLARED"})
        leaked = await supervisor.call_tool("env", {"name": "HYBRIDMCP_TEST_LEAK"})
    finally:
        del os.environ["HYBRIDMCP_TEST_LEAK"]
    assert declared.text == "yes"
    assert leaked.text == "<unset>"


async def test_a_killed_server_is_restarted_with_backoff(supervise: SupervisorFactory) -> None:
    supervisor = supervise("test", mcp_test_server())
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    history: list[ServerStatus] = []
    supervisor.subscribe(history.append)
    (process,) = server_processes()
    os.kill(process.pid, signal.SIGKILL)
    await wait_until(lambda: supervisor.status.restarts == 1)
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    restarting = [s for s in history if s.state is ServerState.RESTARTING]
    assert restarting[0].message == (
        "the server closed the connection (exited?); restarting in 0.2 s"
    )
    (replacement,) = server_processes()
    assert replacement.pid != process.pid
    outcome = await supervisor.call_tool("echo", {"text": "back"})
    assert outcome.text == "back"


async def test_a_server_that_keeps_crashing_ends_failed_with_its_last_stderr_lines(
    supervise: SupervisorFactory,
) -> None:
    supervisor = supervise("crashy", mcp_test_server("--exit-at-start"))
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.FAILED)
    status = supervisor.status
    assert status.message.startswith("crash loop (3 failures)")
    assert status.restarts == FAST.crash_loop_count - 1
    assert "fatal: exiting at start as asked" in status.stderr_tail
    assert server_processes() == []


async def test_a_server_that_never_answers_initialize_is_timed_out_and_killed(
    supervise: SupervisorFactory,
) -> None:
    # The short connect deadline is what this test is about: the server never answers, so it
    # always runs out, however busy the machine is.
    policy = RestartPolicy(
        connect_timeout_s=1.5, first_delay_s=0.2, crash_loop_count=2, stop_timeout_s=PATIENCE_S
    )
    supervisor = supervise("stuck", mcp_test_server("--hang-at-start"), policy)
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.FAILED)
    assert "no answer within 1.5 s" in supervisor.status.message
    await wait_until(lambda: server_processes() == [])


async def test_a_call_that_hangs_times_out_and_the_server_is_replaced(
    supervise: SupervisorFactory,
) -> None:
    # The 1 s request deadline is what this test is about. It does not bound a server's start
    # (connect_timeout_s does, patient here), only the answers of a server already running: the
    # lists while connecting and the last echo take milliseconds even on a busy machine. No pings.
    policy = RestartPolicy(
        connect_timeout_s=PATIENCE_S, request_timeout_s=1.0, ping_interval_s=3600,
        first_delay_s=0.2, stop_timeout_s=PATIENCE_S,
    )  # fmt: skip
    supervisor = supervise("test", mcp_test_server(), policy)
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    (hung,) = server_processes()
    outcome = await supervisor.call_tool("hang", {})
    assert outcome.is_error and "did not answer within 1 s" in outcome.text
    await wait_until(lambda: supervisor.status.restarts == 1)
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert not hung.is_running() or hung.status() == psutil.STATUS_ZOMBIE
    assert (await supervisor.call_tool("echo", {"text": "ok"})).text == "ok"


async def test_a_missing_command_fails_at_once_with_a_clear_error(
    supervise: SupervisorFactory,
) -> None:
    supervisor = supervise("nope", StdioServerConfig(command="/no/such/mcp-server"))
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.FAILED)
    assert supervisor.status.message == "command not found: /no/such/mcp-server"
    assert supervisor.status.restarts == 0


async def test_stopping_leaves_no_server_process_behind(supervise: SupervisorFactory) -> None:
    supervisors = [supervise(f"s{index}", mcp_test_server()) for index in range(3)]
    for supervisor in supervisors:
        supervisor.start()
    await wait_until(lambda: all(s.status.state is ServerState.READY for s in supervisors))
    assert len(server_processes()) == 3
    for supervisor in supervisors:
        await supervisor.stop()
    assert server_processes() == []
    assert all(s.status.state is ServerState.STOPPED for s in supervisors)


async def test_a_tool_list_change_is_picked_up(supervise: SupervisorFactory) -> None:
    supervisor = supervise("test", mcp_test_server())
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert "extra" not in {tool.name for tool in supervisor.status.tools}
    await supervisor.call_tool("toggle_extra", {})
    await wait_until(lambda: "extra" in {tool.name for tool in supervisor.status.tools})


async def test_stopping_ends_the_whole_process_tree(supervise: SupervisorFactory) -> None:
    wrapped = StdioServerConfig(
        command="/bin/sh",
        args=("-c", f"{sys.executable} -m tests.helpers.mcp_test_server; echo wrapper done"),
        cwd=REPO,
    )
    supervisor = supervise("wrapped", wrapped)
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert len(server_processes()) == 2  # the shell and the Python server under it
    await supervisor.stop()
    assert server_processes() == []


@pytest.mark.parametrize(
    ("raised", "state", "level"),
    [
        # What qasync does as the app closes: a pending step runs after the loop stopped.
        ("no running event loop", ServerState.STOPPED, logging.WARNING),
        ("a real bug", ServerState.FAILED, logging.ERROR),
    ],
)
async def test_supervision_ending_with_the_app_is_no_failure_but_a_bug_is(
    supervise: SupervisorFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    raised: str,
    state: ServerState,
    level: int,
) -> None:
    supervisor = supervise("test", mcp_test_server())

    async def connection_step() -> tuple[str | None, bool]:
        raise RuntimeError(raised)

    monkeypatch.setattr(supervisor, "_one_connection", connection_step)
    with caplog.at_level(logging.WARNING, logger="hybridmcp.mcp.supervisor"):
        supervisor.start()
        await wait_until(lambda: supervisor.status.state is state)
    assert max(record.levelno for record in caplog.records) == level
