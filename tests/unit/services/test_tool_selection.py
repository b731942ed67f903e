"""Ranking and choosing tools with the real offline embedder (MiniLM)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.services.tool_index import ToolIndex
from hybridmcp_app.services.tool_selection import (
    ToolSelector,
    rank_tools,
    recent_turns,
    tool_text,
)


def tool(server: str, name: str, description: str, **parameters: str) -> McpTool:
    properties = {
        key: {"type": "string", "description": about} for key, about in parameters.items()
    }
    return McpTool(
        server=server,
        name=name,
        description=description,
        input_schema={"type": "object", "properties": properties},
    )


TOOLS = [
    tool("files", "read_file", "Read the contents of a file.", path="Path of the file to read"),
    tool("git", "git_commit", "Record changes to the repository.", message="Commit message"),
    tool("fetch", "fetch", "Fetch a URL from the internet as markdown.", url="The web address"),
    tool("time", "get_current_time", "Current time in a timezone.", timezone="IANA zone name"),
    tool("mail", "send_email", "Send an email message.", to="Recipient", body="Message text"),
    tool("db", "query", "Run a read-only SQL query on the SQLite database.", sql="SELECT"),
    tool("weather", "forecast", "Weather forecast for a city.", city="City name"),
    tool("calc", "add", "Add two integers."),
]


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=2)


def names(ranked: Sequence[tuple[str, float]]) -> list[str]:
    return [name for name, _ in ranked]


def texts() -> dict[str, str]:
    return {t.qualified_name: tool_text(t) for t in TOOLS}


def test_a_tools_text_has_its_name_as_words_its_description_and_its_parameter_names() -> None:
    text = tool_text(TOOLS[3])
    assert text.splitlines() == [
        "time: get current time",
        "Current time in a timezone.",
        "parameters: timezone",
    ]


@pytest.mark.parametrize(
    ("request_text", "best"),
    [
        ("What time is it in Tokyo right now?", "time__get_current_time"),
        ("Will it rain in Paris tomorrow?", "weather__forecast"),
        ("Show me what's in notes/todo.txt", "files__read_file"),
        ("Mail the report to Alice", "mail__send_email"),
        ("How many rows does the orders table have?", "db__query"),
    ],
)
def test_the_tool_that_serves_a_request_ranks_among_the_first_two(
    embedder: OnnxEmbedder, request_text: str, best: str
) -> None:
    ranked = rank_tools(texts(), [request_text], embedder.embed_sync)
    assert best in names(ranked)[:2]
    assert sorted(names(ranked)) == sorted(texts())  # every tool, once
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)


def test_the_last_turn_weighs_more_than_the_ones_before_it(embedder: OnnxEmbedder) -> None:
    weather, mail = "Will it rain in Paris tomorrow?", "Mail the report to Alice"
    assert names(rank_tools(texts(), [weather, mail], embedder.embed_sync))[0] == "mail__send_email"
    assert (
        names(rank_tools(texts(), [mail, weather], embedder.embed_sync))[0] == "weather__forecast"
    )


def test_no_turns_rank_every_tool_alike_and_no_tools_rank_nothing(embedder: OnnxEmbedder) -> None:
    assert {score for _, score in rank_tools(texts(), [" "], embedder.embed_sync)} == {0.0}
    assert rank_tools({}, ["anything"], embedder.embed_sync) == []


def test_recent_turns_are_the_users_last_requests_oldest_first() -> None:
    messages = [
        ChatMessage(role="system", content="You are terse."),
        ChatMessage(role="user", content="one"),
        ChatMessage(role="assistant", content="two"),
        ChatMessage(role="user", content="three"),
        ChatMessage(role="assistant", content="", tool_calls=()),
        ChatMessage(role="tool", tool_call_id="c", content="result"),
    ]
    assert recent_turns(messages) == ["one", "three"]
    assert recent_turns(messages, count=1) == ["three"]


async def test_selection_offers_the_k_best_and_the_pinned_tools_and_leaves_out_the_rest(
    embedder: OnnxEmbedder,
) -> None:
    selector = ToolSelector(ToolIndex(embedder))
    selection = await selector.select(
        TOOLS, ["What time is it in Tokyo right now?"], k=2, pinned=["calc__add", "gone__tool"]
    )
    offered = [(t.name, t.reason) for t in selection.offered]
    assert offered[0] == ("calc__add", "pinned")  # a pin of a tool that is not there is skipped
    assert offered[1] == ("time__get_current_time", "ranked")
    assert len(offered) == 3 and all(t.score is not None for t in selection.offered[1:])
    assert len(selection.left_out) == len(TOOLS) - 3 and selection.search
    assert not {t.name for t in selection.offered} & set(selection.left_out)


async def test_the_chooser_sends_every_tool_when_there_are_few_enough(
    embedder: OnnxEmbedder,
) -> None:
    selector = ToolSelector(ToolIndex(embedder))
    asked = [ChatMessage(role="user", content="Will it rain in Paris tomorrow?")]
    assert await selector.chooser(3, (), above=len(TOOLS)).choose(TOOLS, asked) is None
    chosen = await selector.chooser(3, (), above=4).choose(TOOLS, asked)
    assert chosen is not None and chosen.offered[0].name == "weather__forecast"
    assert len(chosen.offered) == 3 and chosen.note == ""  # no local model check asked for


async def test_search_ranks_the_candidates_for_the_providers_query(embedder: OnnxEmbedder) -> None:
    chooser = ToolSelector(ToolIndex(embedder)).chooser(2, (), above=0)
    found = await chooser.search("send a message by e-mail", TOOLS[2:], limit=2)
    assert len(found) == 2 and found[0][0] == "mail__send_email"
