"""``hybridmcp mcp``: the MCP host without the window — the servers of ``mcp.json``, one server's
tools, resources and prompts, and one tool call — over the same ``mcp.json``, keychain and
approval rules as the window (``ToolAccess``). ``sign-in SERVER`` signs in to a remote server
that asks for it (OAuth: the browser opens, the tokens go to the keychain); ``sign-out SERVER``
forgets them.

With nobody to ask, a call that needs approval runs only when ``--yes`` names the tool; tools
the window runs without asking (read-only ones, "allow always", ``mcp.approval``) run as there.
Exit codes: 0 done, 1 the tool or the server failed, 2 bad input or configuration (an unknown
or switched-off server or tool, arguments that are not a JSON object, a call not approved).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import DETECTING, SecretStore
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.services.app_services import AppServices, build_services

if TYPE_CHECKING:  # the MCP SDK is imported when a command needs it
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor
    from hybridmcp_app.orchestration.approval_policy import (
        ApprovalDecision,
        ToolApprovalRequest,
    )
    from hybridmcp_app.services.mcp_requests import UnattendedAnswer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CLOSE_TIMEOUT_S = 10.0
START_GRACE_S = 5.0  # on top of the server's own start time (mcp.init_timeout_s)


class McpUsageError(HybridMCPError):
    """Bad input or configuration: nothing was run (exit 2)."""


class McpServerFailed(HybridMCPError):
    """The server could not be started or reached (exit 1)."""


def describe_target(config: StdioServerConfig | RemoteServerConfig) -> tuple[str, str]:
    """(transport, what it runs or reaches) of an ``mcp.json`` entry, for listing."""
    if isinstance(config, StdioServerConfig):
        return "stdio", " ".join([config.command, *config.args])
    return config.transport, str(config.url)


def tool_arguments(text: str | None) -> dict[str, Any]:
    """``--json ARGS``: a JSON object (none: no arguments)."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise McpUsageError(f"--json is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise McpUsageError(f"--json must be a JSON object, not {type(value).__name__}")
    return value


async def cli_approval(allowed: Sequence[str], request: ToolApprovalRequest) -> ApprovalDecision:
    """The answer when the window would ask: allowed once if ``--yes`` names the tool (bare or
    ``server__tool``), else denied."""
    from hybridmcp_app.orchestration.approval_policy import ApprovalDecision

    named = request.tool in allowed or request.qualified_name in allowed
    return ApprovalDecision.ALLOW_ONCE if named else ApprovalDecision.DENY


async def _keychain(services: AppServices) -> None:
    """Use the system keychain when the settings say so (the store starts undecided)."""
    from hybridmcp_app.services.app_startup import detect_keychain

    await detect_keychain(services, lambda: None)


def _host(services: AppServices, elicitation: UnattendedAnswer) -> McpHost:
    """The MCP host as the window builds it (the same file, keychain, timeouts and grants),
    with the command line's answers: questions as ``elicitation`` says, sampling denied unless
    the server is always allowed in ``mcp-grants.json``."""
    from hybridmcp_app.services.app_startup import build_mcp_host
    from hybridmcp_app.services.mcp_requests import host_requests, unattended_asker
    from hybridmcp_app.services.mcp_sampling import DenyingApprover

    requests = host_requests(services, unattended_asker(elicitation), DenyingApprover())
    return build_mcp_host(services, requests)


async def _ready(supervisor: ServerSupervisor, timeout_s: float) -> None:
    """Wait until the server is ready; its first failure ends the wait (no restarts here)."""
    from hybridmcp_app.mcp_host.server_status import ServerState

    settled = asyncio.Event()
    supervisor.subscribe(
        lambda status: settled.set() if status.state is not ServerState.STARTING else None
    )
    try:
        async with asyncio.timeout(timeout_s):
            while supervisor.status.state is ServerState.STARTING:
                settled.clear()
                await settled.wait()
    except TimeoutError:
        raise McpServerFailed(f"{supervisor.name}: no answer within {timeout_s:g} s") from None
    status = supervisor.status
    if status.state is not ServerState.READY:
        why = status.message.split("; restarting in", 1)[0]
        raise McpServerFailed(f"{supervisor.name}: {why}")


@asynccontextmanager
async def running_server(
    services: AppServices, name: str, elicitation: UnattendedAnswer = "decline"
) -> AsyncIterator[McpHost]:
    """The host with only ``name`` started and ready; every server stopped at the end."""
    from hybridmcp_app.config.mcp_references import resolved_server

    host = _host(services, elicitation)
    configured = await asyncio.to_thread(host.source.read)
    config = configured.servers.get(name)
    if config is None:
        known = ", ".join(sorted(configured.servers)) or "none"
        raise McpUsageError(f"no MCP server named {name!r} in {host.source.path} (known: {known})")
    if config.disabled:
        raise McpUsageError(f"MCP server {name!r} is switched off (switch it on in the MCP tab)")
    if isinstance(config, RemoteServerConfig) or "${secret:" in config.model_dump_json():
        await _keychain(services)  # a remote server may hold a sign-in there
    resolved_server(name, config, services.secrets, os.environ)  # a missing secret: exit 2
    services.mcp_host = host
    try:
        supervisor = await host.start_only(name)
        await _ready(supervisor, services.settings.mcp.init_timeout_s + START_GRACE_S)
        yield host
    finally:
        await host.shutdown()
        services.mcp_host = None


def _era(host: McpHost, name: str) -> str | None:
    client = host.supervisors[name].client
    return client.protocol_version if client is not None else None


async def list_servers(services: AppServices, out: TextIO, err: TextIO, as_json: bool) -> int:
    """Every server of ``mcp.json``: on or off, and what it runs or reaches (none started)."""
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.mcp_host.builtin_servers import builtin_entries

    source = McpJsonFile(services.mcp_config_file, builtin_entries())
    contents = await asyncio.to_thread(source.read)
    for problem in contents.problems:
        print(f"warning: {source.path}: {problem}", file=err)
    rows = []
    for name, config in contents.servers.items():
        transport, target = describe_target(config)
        rows.append({"name": name, "enabled": not config.disabled, "transport": transport,
                     "target": target})  # fmt: skip
    if as_json:
        print(json.dumps({"config": str(source.path), "servers": rows}, indent=2), file=out)
        return EXIT_OK
    for row in rows:
        state = "on " if row["enabled"] else "off"
        print(f"{row['name']:<16} {state}  {row['transport']:<15} {row['target']}", file=out)
    if not rows:
        print(f"no MCP servers in {source.path}", file=err)
    return EXIT_OK


async def list_offers(
    services: AppServices, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """``tools``, ``resources`` or ``prompts`` of one server (started for the purpose)."""
    name, what = args.server, args.mcp_command
    async with running_server(services, name) as host:
        status = host.supervisors[name].status
        era = _era(host, name)
        if what == "tools":
            switch = host.source.tool_enabled
            items = [{**tool.model_dump(mode="json"), "enabled": switch(name, tool.name)}
                     for tool in status.tools]  # fmt: skip
        else:
            items = [item.model_dump(mode="json") for item in getattr(status, what)]
    if args.json:
        print(json.dumps({"server": name, "protocol_version": era, what: items}, indent=2),
              file=out)  # fmt: skip
        return EXIT_OK
    print(f"{name}: protocol {era}, {len(items)} {what}", file=err)
    for item in items:
        print(_line(what, item), file=out)
    return EXIT_OK


async def remote_server(services: AppServices, name: str) -> RemoteServerConfig:
    """``name``'s entry in mcp.json, with its secrets resolved: a remote server, or exit 2."""
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.config.mcp_references import resolved_server
    from hybridmcp_app.mcp_host.builtin_servers import builtin_entries

    source = McpJsonFile(services.mcp_config_file, builtin_entries())
    config = (await asyncio.to_thread(source.read)).servers.get(name)
    if config is None:
        raise McpUsageError(f"no MCP server named {name!r} in {source.path}")
    if not isinstance(config, RemoteServerConfig):
        raise McpUsageError(f"{name!r} is not a remote server: it has nothing to sign in to")
    await _keychain(services)
    if not services.secrets.available:
        raise McpUsageError(
            f"no keychain to keep the sign-in in: {services.secrets.status.help_text}"
        )
    resolved = resolved_server(name, config, services.secrets, os.environ)
    assert isinstance(resolved, RemoteServerConfig)
    return resolved


async def sign_in(services: AppServices, name: str, out: TextIO, err: TextIO) -> int:
    """Sign in to remote server ``name`` in the browser; the tokens go to the keychain."""
    from hybridmcp_app.mcp_host.oauth_sign_in import SignIns, system_browser

    config = await remote_server(services, name)

    async def open_url(url: str) -> None:
        print(f"Sign in to {name} in your browser (opening it): {url}", file=err)
        await system_browser(url)

    await SignIns(services.secrets).sign_in(name, config, open_url)
    print(f"signed in to {name}", file=out)
    return EXIT_OK


async def sign_out(services: AppServices, name: str, out: TextIO) -> int:
    """Forget ``name``'s tokens (the keychain's); nothing is sent anywhere."""
    from hybridmcp_app.mcp_host.oauth_sign_in import SignIns

    config = await remote_server(services, name)
    done = SignIns(services.secrets).sign_out(name, str(config.url))
    print(f"signed out of {name}" if done else f"{name}: not signed in", file=out)
    return EXIT_OK


def _line(what: str, item: dict[str, Any]) -> str:
    description = (item.get("description") or "").strip().splitlines()
    about = f" — {description[0]}" if description else ""
    if what == "tools":
        flags = [flag for flag, on in (("read-only", item["read_only"]),
                                       ("off", not item["enabled"])) if on]  # fmt: skip
        marks = f" [{', '.join(flags)}]" if flags else ""
        return f"{item['name']}{marks}{about}"
    if what == "resources":
        mime = f" ({item['mime_type']})" if item.get("mime_type") else ""
        return f"{item['uri']}  {item['name']}{mime}{about}"
    arguments = ", ".join(item.get("arguments") or ())
    return f"{item['name']}({arguments}){about}"


async def call_tool(
    services: AppServices, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """One call of ``server``'s ``tool``, approved as the window would, or refused."""
    from hybridmcp_app.mcp_host.mcp_items import qualified_name

    arguments = tool_arguments(args.json_arguments)
    name, tool_name = args.server, args.tool
    async with running_server(services, name, args.elicitation) as host:
        use = services.tools.for_turn(partial(cli_approval, tuple(args.yes or ())))
        assert use is not None  # the host is set
        qualified = qualified_name(name, tool_name)
        tool = host.registry.tool(qualified)
        if tool is None:
            offered = {tool.name for tool in host.supervisors[name].status.tools}
            why = "is switched off in mcp.json" if tool_name in offered else "does not exist"
            raise McpUsageError(f"tool {tool_name!r} of {name!r} {why}")
        verdict = await use.policy.decide(tool, arguments)
        if not verdict.approved:
            raise McpUsageError(
                f"{qualified} needs approval and was not run: add --yes {tool_name} to allow it"
            )
        outcome = await use.caller.call(qualified, arguments)
    if args.output == "json":
        print(json.dumps(outcome.model_dump(mode="json"), indent=2), file=out)
    elif outcome.is_error:
        print(f"hybridmcp mcp: {qualified}: {outcome.text}", file=err)
    else:
        print(outcome.text, file=out)
    return EXIT_FAILED if outcome.is_error else EXIT_OK


async def run_mcp(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    services = build_services(
        AppPaths.from_environment(), asyncio.get_running_loop(), verbose=args.verbose,
        secrets=SecretStore(None, DETECTING),
    )  # fmt: skip
    try:
        if args.mcp_command == "list":
            return await list_servers(services, out, err, args.json)
        if args.mcp_command == "call":
            return await call_tool(services, args, out, err)
        if args.mcp_command == "sign-in":
            return await sign_in(services, args.server, out, err)
        if args.mcp_command == "sign-out":
            return await sign_out(services, args.server, out)
        return await list_offers(services, args, out, err)
    finally:
        await services.close(CLOSE_TIMEOUT_S)


def main_mcp(args: argparse.Namespace) -> int:
    if args.mcp_command == "conformance-client":
        from hybridmcp_app.cli.mcp_conformance import main_conformance_client

        return main_conformance_client(args)
    try:
        return asyncio.run(run_mcp(args))
    except McpUsageError as error:
        print(f"hybridmcp mcp: {error}", file=sys.stderr)
        return EXIT_USAGE
    except HybridMCPError as error:  # the server failed, a secret is missing…
        print(f"hybridmcp mcp: {error}", file=sys.stderr)
        return EXIT_USAGE if _is_config_problem(error) else EXIT_FAILED


def _is_config_problem(error: HybridMCPError) -> bool:
    from hybridmcp_app.config.mcp_references import UnresolvedReference

    return isinstance(error, UnresolvedReference)
