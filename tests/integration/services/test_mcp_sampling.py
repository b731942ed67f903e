"""A real MCP server (``tests.helpers.sampling_server``, a stdio subprocess) asks the host for
completions and roots; the embedded SmolLM2 instruct model answers, greedy, and a scripted
approver stands in for the user. Both eras: 2026-07-28 (the request inside the tool's result)
and the 2025 handshake (a server-to-client request)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import mcp.types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext

from hybridmcp_app.config.mcp_grants import McpGrantsStore, SamplingGrant, ServerGrants
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.services.mcp_roots import McpRoots
from hybridmcp_app.services.mcp_sampling import (
    McpSampler,
    SamplingDecision,
    SamplingReview,
)
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
SERVER = "sampler"
QUESTION = "What is the capital of France?"
SYSTEM = "You answer in one short sentence."


@dataclass
class ScriptedApprover:
    """Answers the request with ``decision`` and the answer with ``send``; keeps what it saw."""

    decision: SamplingDecision = "once"
    send: bool = True
    requests: list[SamplingReview] = field(default_factory=list)
    answers: list[SamplingReview] = field(default_factory=list)

    async def review_request(self, review: SamplingReview) -> SamplingDecision:
        self.requests.append(review)
        return self.decision

    async def review_answer(self, review: SamplingReview) -> bool:
        self.answers.append(review)
        return self.send


@pytest.fixture(scope="module")
def smollm2(model_cache: Path) -> Iterator[LlamaCppBackend]:
    """The default chat model, SmolLM2 135M Instruct (its own template: no tools)."""
    backend = asyncio.run(
        LlamaCppBackend.open(SMOLLM2.locate(model_cache), InferenceSettings(n_ctx=2048))
    )
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


@pytest.fixture
def grants(tmp_path: Path) -> McpGrantsStore:
    return McpGrantsStore(tmp_path / "mcp-grants.json")


def sampler_over(
    backend: LlamaCppBackend, grants: McpGrantsStore, approver: ScriptedApprover
) -> McpSampler:
    async def local() -> LlamaCppBackend:
        return backend

    return McpSampler(grants, local, None, approver)


@contextlib.asynccontextmanager
async def connected(
    sampler: McpSampler | None = None, roots: McpRoots | None = None, *, mode: str = "auto"
) -> AsyncIterator[Client]:
    """The SDK's client on the sampling server, its callbacks calling the host's handlers."""

    async def sampling(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        assert sampler is not None
        return await sampler(SERVER, params)

    async def listing(context: ClientRequestContext) -> types.ListRootsResult:
        assert roots is not None
        return types.ListRootsResult(roots=await roots(SERVER))

    server = StdioServerParameters(
        command=sys.executable, args=["-m", "tests.helpers.sampling_server"], cwd=REPO
    )
    async with Client(
        server,
        mode=mode,
        sampling_callback=sampling if sampler else None,
        list_roots_callback=listing if roots else None,
        sampling_capabilities=types.SamplingCapability(tools=types.SamplingToolsCapability()),
    ) as client:
        yield client


def params(**fields: Any) -> str:
    """A ``sampling/createMessage`` request as the server's ``sample`` tool takes it."""
    return json.dumps(
        {
            "messages": [{"role": "user", "content": {"type": "text", "text": QUESTION}}],
            "systemPrompt": SYSTEM,
            "maxTokens": 32,
            "temperature": 0.0,
            **fields,
        }
    )


async def sample(client: Client, **fields: Any) -> dict[str, Any]:
    result = await client.call_tool("sample", {"params_json": params(**fields)})
    assert not result.is_error, result
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    answer: dict[str, Any] = json.loads(block.text)
    return answer


async def direct(backend: LlamaCppBackend, max_tokens: int = 32) -> str:
    """The same messages completed by the model itself, greedy."""
    request = InferenceRequest(
        messages=(
            ChatMessage(role="system", content=SYSTEM),
            ChatMessage(role="user", content=QUESTION),
        ),
        parameters=ModelParameters(temperature=0.0, max_tokens=max_tokens),
    )
    return (await backend.complete(request)).text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_local_model_answers_a_servers_sampling_request_the_user_approved_both_ways(
    smollm2: LlamaCppBackend, grants: McpGrantsStore, mode: str
) -> None:
    approver = ScriptedApprover()
    async with connected(sampler_over(smollm2, grants, approver), mode=mode) as client:
        answer = await sample(client)
    assert answer["role"] == "assistant" and answer["model"] == smollm2.model_name
    assert answer["stopReason"] in ("endTurn", "maxTokens")
    assert answer["content"] == {"type": "text", "text": await direct(smollm2)}
    assert answer["content"]["text"].strip()
    (seen,) = approver.requests
    assert seen.server == SERVER and seen.model == smollm2.model_name and seen.max_tokens == 32
    assert [m.content for m in seen.messages] == [SYSTEM, QUESTION] and seen.answer is None
    (shown,) = approver.answers
    assert shown.answer is not None and shown.answer.text == answer["content"]["text"]


async def test_a_denied_request_never_reaches_the_model_and_the_server_hears_the_refusal(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover(decision="deny")
    async with connected(sampler_over(smollm2, grants, approver), mode="legacy") as client:
        answer = await sample(client)
    assert answer == {"error": {"code": -1, "message": "the user declined the sampling request"}}
    assert approver.answers == []


async def test_an_answer_the_user_withholds_is_not_sent_and_a_2026_call_fails_saying_so(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover(send=False)
    async with connected(sampler_over(smollm2, grants, approver)) as client:
        with pytest.raises(Exception, match="declined to send the answer"):
            await client.call_tool("sample", {"params_json": params()})
    assert len(approver.answers) == 1


async def test_always_is_remembered_per_server_and_later_requests_are_not_shown(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover(decision="always")
    async with connected(sampler_over(smollm2, grants, approver)) as client:
        first = await sample(client)
        second = await sample(client)
    assert first == second and first["content"]["text"].strip()
    assert len(approver.requests) == 1 and approver.answers == []
    assert grants.grants_for(SERVER).sampling.approval == "always"
    assert McpGrantsStore(grants.path).grants_for("another").sampling.approval == "ask"


async def test_never_is_remembered_and_refuses_without_asking(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover(decision="never")
    async with connected(sampler_over(smollm2, grants, approver), mode="legacy") as client:
        first = await sample(client)
        second = await sample(client)
    assert first["error"]["code"] == -1 and second["error"]["code"] == -1
    assert "refused in HybridMCP" in second["error"]["message"]
    assert len(approver.requests) == 1


async def test_max_tokens_is_cut_to_the_servers_limit_and_the_answer_says_it_stopped_there(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    grants.save(SERVER, ServerGrants(sampling=SamplingGrant(max_tokens=3)))
    approver = ScriptedApprover()
    async with connected(sampler_over(smollm2, grants, approver)) as client:
        answer = await sample(client, maxTokens=200)
    assert answer["stopReason"] == "maxTokens"
    assert answer["content"]["text"] == await direct(smollm2, max_tokens=3)
    (seen,) = approver.requests
    assert seen.max_tokens == 3 and seen.requested_max_tokens == 200
    assert any("limit 3" in note for note in seen.notes)


async def test_include_context_is_treated_as_none_and_the_user_is_told(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover()
    async with connected(sampler_over(smollm2, grants, approver), mode="legacy") as client:
        answer = await sample(client, includeContext="allServers")
    assert answer["content"]["text"] == await direct(smollm2)
    assert any("includeContext 'allServers'" in note for note in approver.requests[0].notes)


async def test_an_image_is_refused_with_a_clear_error_before_the_user_is_asked(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    image = {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}
    approver = ScriptedApprover()
    async with connected(sampler_over(smollm2, grants, approver), mode="legacy") as client:
        answer = await sample(client, messages=[{"role": "user", "content": image}])
    assert answer["error"]["code"] == types.INVALID_PARAMS
    assert (
        "image content" in answer["error"]["message"] and "text only" in answer["error"]["message"]
    )
    assert approver.requests == []


async def test_tools_offered_to_a_model_that_cannot_call_tools_get_an_error_saying_so(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    tool = {"name": "add", "inputSchema": {"type": "object", "properties": {}}}
    approver = ScriptedApprover()
    async with connected(sampler_over(smollm2, grants, approver), mode="legacy") as client:
        answer = await sample(client, tools=[tool])
    assert "cannot call tools" in answer["error"]["message"]
    assert "toolChoice 'required'" in answer["error"]["message"]
    assert approver.requests == []


async def test_a_tool_result_in_the_conversation_reaches_a_model_whose_template_takes_tools(
    tool_template_model: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    tool = {
        "name": "add",
        "description": "Add two integers.",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        },
    }
    messages = [
        {"role": "user", "content": {"type": "text", "text": "What is 17 plus 25?"}},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "c1", "name": "add", "input": {"a": 17, "b": 25}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "toolUseId": "c1",
                    "content": [{"type": "text", "text": "4217"}],
                }
            ],
        },
    ]
    approver = ScriptedApprover()
    async with connected(sampler_over(tool_template_model, grants, approver)) as client:
        answer = await sample(
            client, messages=messages, tools=[tool], toolChoice={"mode": "none"}, maxTokens=48
        )
    text = (
        answer["content"][0]["text"]
        if isinstance(answer["content"], list)
        else answer["content"]["text"]
    )
    assert "4217" in text
    assert answer["stopReason"] in ("endTurn", "maxTokens")
    assert approver.requests[0].tools == ("add",)


ADD_TOOL = {
    "name": "add",
    "description": "Add two integers.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}
WEATHER_TOOL = {
    "name": "weather",
    "description": "The weather in a city.",
    "inputSchema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TOOLS = {tool["name"]: tool for tool in (ADD_TOOL, WEATHER_TOOL)}
# At temperature 0 SmolLM2 answers each of these in text when it may choose (checked below).
TOOL_PROMPTS = ("What is 17 plus 25?", "Please add 17 and 25.", "What's the weather in Paris?")


def asking(prompt: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": {"type": "text", "text": prompt}}]


def blocks(answer: dict[str, Any]) -> list[dict[str, Any]]:
    content = answer["content"]
    return content if isinstance(content, list) else [content]


def assert_one_valid_call(answer: dict[str, Any]) -> None:
    """The answer is one tool_use naming an offered tool, its input valid against the tool's
    schema, and the stop reason says so."""
    (call,) = blocks(answer)
    assert call["type"] == "tool_use" and call["name"] in TOOLS, answer
    jsonschema.validate(call["input"], TOOLS[call["name"]]["inputSchema"])
    assert answer["stopReason"] == "toolUse"


async def test_tool_choice_required_makes_the_local_model_call_an_offered_tool_in_its_format(
    tool_template_model: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover(decision="always")
    tools = [ADD_TOOL, WEATHER_TOOL]
    async with connected(sampler_over(tool_template_model, grants, approver)) as client:
        for prompt in TOOL_PROMPTS:
            free = await sample(client, messages=asking(prompt), tools=tools, maxTokens=64)
            assert [block["type"] for block in blocks(free)] == ["text"], (prompt, free)
            none = await sample(
                client, messages=asking(prompt), tools=tools, toolChoice={"mode": "none"},
                maxTokens=64,
            )  # fmt: skip
            assert [block["type"] for block in blocks(none)] == ["text"], (prompt, none)
            required = await sample(
                client, messages=asking(prompt), tools=tools, toolChoice={"mode": "required"},
                maxTokens=64,
            )  # fmt: skip
            assert_one_valid_call(required)


async def test_a_required_call_cut_off_at_max_tokens_reaches_the_server_as_an_error_not_a_call(
    tool_template_model: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover(decision="always")
    async with connected(
        sampler_over(tool_template_model, grants, approver), mode="legacy"
    ) as client:
        answer = await sample(
            client, messages=asking(TOOL_PROMPTS[0]), tools=[ADD_TOOL],
            toolChoice={"mode": "required"}, maxTokens=12,
        )  # fmt: skip
    assert set(answer) == {"error"}, answer
    assert answer["error"]["code"] == types.INTERNAL_ERROR
    assert "maxTokens" in answer["error"]["message"]


async def test_a_model_without_tools_in_its_template_makes_a_required_call_forced_by_a_grammar(
    smollm2: LlamaCppBackend, grants: McpGrantsStore
) -> None:
    approver = ScriptedApprover()
    async with connected(sampler_over(smollm2, grants, approver)) as client:
        answer = await sample(
            client, messages=asking("What's the weather in Paris?"), tools=[ADD_TOOL, WEATHER_TOOL],
            toolChoice={"mode": "required"}, maxTokens=64,
        )  # fmt: skip
        none = await sample(
            client, messages=asking("Hello!"), tools=[ADD_TOOL], toolChoice={"mode": "none"}
        )
    assert_one_valid_call(answer)
    assert any("forced by a grammar" in note for note in approver.requests[0].notes)
    assert [block["type"] for block in blocks(none)] == ["text"]
    assert blocks(none)[0]["text"].strip()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_server_sees_only_the_folders_granted_to_it_as_file_uris(
    grants: McpGrantsStore, tmp_path: Path, mode: str
) -> None:
    granted = tmp_path / "my notes"
    granted.mkdir()
    roots = McpRoots(grants)
    async with connected(roots=roots, mode=mode) as client:
        before = await client.call_tool("roots", {})
        await roots.grant(SERVER, [granted])
        await roots.grant("another", [tmp_path])
        after = await client.call_tool("roots", {})
    assert isinstance(before.content[0], types.TextContent)
    assert isinstance(after.content[0], types.TextContent)
    assert json.loads(before.content[0].text) == []
    assert json.loads(after.content[0].text) == [granted.as_uri()]


async def test_a_change_of_grant_is_announced_to_a_2025_server_as_roots_list_changed(
    grants: McpGrantsStore, tmp_path: Path
) -> None:
    roots = McpRoots(grants)
    async with connected(roots=roots, mode="legacy") as client:

        async def announce(server: str) -> None:
            assert server == SERVER
            with warnings.catch_warnings():  # roots are deprecated in 2026-07-28
                warnings.simplefilter("ignore")
                await client.send_roots_list_changed()

        roots.subscribe(announce)
        await roots.grant(SERVER, [tmp_path])
        await roots.grant(SERVER, [tmp_path])  # no change: nothing announced
        heard = await client.call_tool("roots_changes", {})
    assert heard.structured_content == {"result": 1}


async def test_through_the_hosts_mcp_client_the_server_gets_the_local_answer_and_its_roots(
    smollm2: LlamaCppBackend, grants: McpGrantsStore, tmp_path: Path
) -> None:
    from hybridmcp_app.config.mcp_config import StdioServerConfig
    from hybridmcp_app.mcp_host.host_requests import HostRequests
    from hybridmcp_app.mcp_host.mcp_client import MCPClient

    approver = ScriptedApprover()
    roots = McpRoots(grants)
    (granted,) = await roots.grant(SERVER, [tmp_path])
    config = StdioServerConfig(
        command=sys.executable, args=("-m", "tests.helpers.sampling_server"), cwd=REPO
    )
    requests = HostRequests(sample=sampler_over(smollm2, grants, approver), roots=roots)
    client = MCPClient(SERVER, config, requests=requests, request_timeout_s=PATIENCE_S)
    await client.connect()
    try:
        sampled = await client.call_tool("sample", {"params_json": params()})
        listed = await client.call_tool("roots", {})
    finally:
        await client.cleanup()
    assert not sampled.is_error, sampled
    assert json.loads(sampled.text)["content"]["text"] == await direct(smollm2)
    assert json.loads(listed.text) == [granted.as_uri()]
    assert approver.requests[0].server == SERVER
