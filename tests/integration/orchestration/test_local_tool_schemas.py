"""Local tool calls with real servers' schemas: every tool that npm's reference server and our
five built-in servers publish gets a grammar llama.cpp accepts, the embedded model writes
arguments that fit the tool's own schema under it, and a forced call reaches the real server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.config.paths import HOME_ENV_VAR
from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, ResponseFormat, TextDelta
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.llama_generation import request_grammar
from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS
from hybridmcp_app.mcp_host.mcp_client import tool_of
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.mcp_host.mcp_registry import McpRegistry
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor
from hybridmcp_app.orchestration.approval_policy import ApprovalPolicy
from hybridmcp_app.orchestration.events import DecisionNote, LegEvent
from hybridmcp_app.orchestration.tool_arguments import check_arguments
from hybridmcp_app.orchestration.tool_call_grammar import (
    call_schema,
    tool_instruction,
    with_note_on_last_user_turn,
)
from hybridmcp_app.orchestration.tool_events import (
    ToolCallFinished,
    ToolCallStarted,
    ToolLoopCompleted,
    ToolLoopEvent,
)
from hybridmcp_app.orchestration.tool_loop import ToolLoop
from tests.helpers.npm_packages import npm_binary
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import EVERYTHING_VERSION, FAST

if TYPE_CHECKING:
    from llama_cpp import Llama

pytestmark = pytest.mark.integration
SERVERS = ("everything", *BUILTIN_SERVERS)
REPO = Path(__file__).resolve().parents[3]


def everything_binary() -> Path:
    return npm_binary(
        "@modelcontextprotocol/server-everything", EVERYTHING_VERSION, "mcp-server-everything"
    )


async def _listed(name: str, server: StdioServerParameters) -> list[McpTool]:
    async with Client(server) as client:
        return [tool_of(name, tool) for tool in (await client.list_tools()).tools]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[McpTool]]:
    """Each server's tools as it lists them over stdio (ours with a fresh, empty home; the
    workspace server with a folder of its own)."""
    home = tmp_path_factory.mktemp("home")
    environment = {**os.environ, HOME_ENV_VAR: str(home)}
    options = {"workspace": ["--root", str(tmp_path_factory.mktemp("workspace"))]}
    servers = {"everything": StdioServerParameters(command=str(everything_binary()))}
    for name, builtin in BUILTIN_SERVERS.items():
        arguments = ["-m", builtin.module, *options.get(name, [])]
        servers[name] = StdioServerParameters(
            command=sys.executable, args=arguments, env=environment, cwd=REPO
        )

    async def list_all() -> dict[str, list[McpTool]]:
        return {name: await _listed(name, server) for name, server in servers.items()}

    return asyncio.run(list_all())


@pytest.fixture(scope="module")
def vocabulary(embedded_model: Path) -> Iterator[Llama]:
    """The embedded model's vocabulary alone: llama.cpp parses grammars against it."""
    from llama_cpp import Llama

    llama = Llama(model_path=str(embedded_model), vocab_only=True, verbose=False)
    yield llama
    llama.close()


def forced(tools: list[McpTool]) -> InferenceRequest:
    schema = call_schema(tools)
    return InferenceRequest(
        messages=(ChatMessage(role="user", content="x"),),
        response_format=ResponseFormat(type="json_schema", json_schema=schema),
    )


@pytest.mark.parametrize("server", SERVERS)
def test_every_tool_of_the_server_gets_a_grammar_llama_cpp_accepts(
    published: dict[str, list[McpTool]], vocabulary: Llama, server: str
) -> None:
    tools = published[server]
    assert tools and (server != "everything" or len(tools) == 13)
    refused = {}
    for tool in tools:
        try:
            request_grammar(vocabulary, forced([tool]))
        except BackendError as error:
            refused[tool.name] = str(error)
    assert refused == {}


def test_all_the_tools_together_get_one_grammar(
    published: dict[str, list[McpTool]], vocabulary: Llama
) -> None:
    everything = [tool for tools in published.values() for tool in tools]
    assert len(everything) > 50
    assert request_grammar(vocabulary, forced(everything)) is not None


REQUESTS = {
    "everything__echo": "Echo the words: good morning",
    "everything__get-sum": "Add 17 and 25.",
    "documents__search": "Search my documents for invoices from March.",
    "workspace__write_file": "Write the text 'hello' to the file notes.txt.",
    "storage__read_text": "Read the file reports/summary.txt from my files.",
}


@pytest.mark.parametrize("qualified", REQUESTS)
async def test_the_embedded_model_writes_arguments_that_fit_the_tools_own_schema(
    published: dict[str, list[McpTool]], gemma: LlamaCppBackend, qualified: str
) -> None:
    server = qualified.split("__")[0]
    (tool,) = [tool for tool in published[server] if tool.qualified_name == qualified]
    question = ChatMessage(role="user", content=REQUESTS[qualified])
    request = forced([tool]).model_copy(
        update={
            "messages": with_note_on_last_user_turn((question,), tool_instruction([tool])),
            "parameters": ModelParameters(temperature=0.0, max_tokens=256),
        }
    )
    response = await gemma.complete(request)
    call = json.loads(response.text)
    assert call["tool"] == qualified
    checked = check_arguments(json.dumps(call["arguments"]), tool.input_schema)
    assert checked.error is None, checked.error


def fixed(config: StdioServerConfig) -> Callable[[], StdioServerConfig]:
    return lambda: config


@pytest.fixture
async def enabled_tools(tmp_path: Path) -> AsyncIterator[McpRegistry]:
    """npm's reference server and our turtle-soup server in our MCP host, as the chat reaches
    them (with these two on, every local call once fell back and failed)."""
    registry = McpRegistry()
    configs = {
        "everything": StdioServerConfig(command=str(everything_binary())),
        "turtle_soup": StdioServerConfig(
            command=sys.executable,
            args=("-m", BUILTIN_SERVERS["turtle_soup"].module),
            env={HOME_ENV_VAR: str(tmp_path / "home")},
            cwd=REPO,
        ),
    }
    supervisors = [
        ServerSupervisor(name, fixed(config), tmp_path / f"{name}.log", FAST)
        for name, config in configs.items()
    ]
    for supervisor in supervisors:
        registry.attach(supervisor)
        supervisor.start()
    try:
        await wait_until(lambda: all(s.status.state is ServerState.READY for s in supervisors))
        yield registry
    finally:
        for supervisor in supervisors:
            await supervisor.stop()


def ask(text: str) -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        parameters=ModelParameters(temperature=0.0, max_tokens=48),
    )


def answer_text(events: list[ToolLoopEvent]) -> str:
    return "".join(
        e.event.text for e in events if isinstance(e, LegEvent) and isinstance(e.event, TextDelta)
    )


def fell_back(events: list[ToolLoopEvent]) -> bool:
    return any(isinstance(e, DecisionNote) and "could not be used" in e.text for e in events)


async def test_a_forced_local_call_of_the_reference_servers_echo_runs_on_it(
    gemma: LlamaCppBackend, enabled_tools: McpRegistry
) -> None:
    loop = ToolLoop(gemma, enabled_tools, ApprovalPolicy())
    request = ask("Echo the words: good morning")
    events = [event async for event in loop.run(request, force_tool="everything__echo")]
    assert not fell_back(events)
    (started,) = [e for e in events if isinstance(e, ToolCallStarted)]
    (finished,) = [e for e in events if isinstance(e, ToolCallFinished)]
    message = json.loads(started.arguments)["message"]
    assert finished.approval == "auto" and finished.outcome.text == f"Echo: {message}"
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted) and completed.response is not None
    assert (
        answer_text(events) == completed.response.text and '"tool"' not in completed.response.text
    )


async def test_with_all_their_tools_enabled_the_local_model_calls_one_under_their_grammar(
    gemma: LlamaCppBackend, enabled_tools: McpRegistry
) -> None:
    assert len(enabled_tools.tools()) == 20
    loop = ToolLoop(gemma, enabled_tools, ApprovalPolicy())
    events = [event async for event in loop.run(ask("Add 17 and 25."))]
    assert not fell_back(events)  # once, every call fell back to "any object" and failed
    (started,) = [e for e in events if isinstance(e, ToolCallStarted)]
    assert started.server in ("everything", "turtle_soup")
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted) and completed.response is not None
    assert '"tool"' not in completed.response.text
