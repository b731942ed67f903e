"""The local model's second pass over the tool selection: its merge rule, its answer's reading,
its request, and what happens without a local model."""

from __future__ import annotations

import itertools

import pytest

from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.services.tool_check import (
    LocalToolCheck,
    check_request,
    merge_checked,
    one_line,
    parse_picks,
)
from hybridmcp_app.services.tool_index import ToolIndex
from hybridmcp_app.services.tool_selection import ToolSelector

TOOLS = [
    McpTool(server="files", name="read_file", description="Read the contents of a file."),
    McpTool(server="git", name="git_commit", description="Record changes to the repository."),
    McpTool(server="fetch", name="fetch", description="Fetch a URL from the internet."),
    McpTool(server="time", name="get_current_time", description="Current time in a timezone."),
    McpTool(server="mail", name="send_email", description="Send an email message."),
]
RANKED = [(f"s__t{i}", round(1 - i / 10, 2)) for i in range(8)]  # t0 best … t7 worst


def names(ranked: list[tuple[str, float]]) -> list[str]:
    return [name for name, _ in ranked]


def test_picks_from_the_first_2k_come_first_and_push_out_the_rankings_last() -> None:
    merged, promoted = merge_checked(RANKED, ["s__t4", "s__t1"], k=3)
    assert names(merged)[:3] == ["s__t4", "s__t1", "s__t0"]  # t2 is pushed out of the top 3
    assert names(merged)[3:] == ["s__t2", "s__t3", "s__t5", "s__t6", "s__t7"]
    assert promoted == ("s__t4",)  # t1 was offered already
    assert dict(merged) == dict(RANKED)  # every tool keeps its score


def test_picks_beyond_the_first_2k_unknown_or_repeated_change_nothing() -> None:
    merged, promoted = merge_checked(RANKED, ["s__t6", "s__t7", "nope", "s__t0", "s__t0"], k=3)
    assert names(merged) == names(RANKED) and promoted == ()


def test_the_pass_never_offers_fewer_tools_than_the_ranking_whatever_it_picks() -> None:
    k = 3
    window = names(RANKED)[: 2 * k]
    for count in range(len(window) + 1):
        for picks in itertools.permutations(window, count):
            merged, promoted = merge_checked(RANKED, picks, k)
            assert sorted(names(merged)) == sorted(names(RANKED))  # nothing lost or added
            head = names(merged)[:k]
            assert len(set(head)) == k and set(head) <= set(window)
            assert set(promoted) == set(head) - set(names(RANKED)[:k])


def test_an_empty_answer_leaves_the_ranking_as_it_was() -> None:
    assert merge_checked(RANKED, [], k=3) == (RANKED, ())


@pytest.mark.parametrize("answer", ["", "not json", '{"tools": ["s__t1"]}', '["s__t1", 3]', "[["])
def test_an_answer_that_is_not_a_json_list_of_names_is_refused(answer: str) -> None:
    with pytest.raises(ValueError, match="the answer is not"):
        parse_picks(answer, ["s__t1"], k=3)


def test_an_answers_names_are_kept_in_order_once_among_the_candidates_and_at_most_k() -> None:
    candidates = ["a__x", "b__y", "c__z", "d__w"]
    answer = '["c__z", "ghost__tool", "a__x", "c__z", "d__w", "b__y"]'
    assert parse_picks(answer, candidates, k=3) == ("c__z", "a__x", "d__w")
    assert parse_picks("[]", candidates, k=3) == ()


def test_the_request_lists_each_candidate_in_one_line_and_holds_the_answer_to_their_names() -> None:
    request = check_request(TOOLS[:3], "Commit my changes, please.", k=2)
    prompt = request.messages[-1].content
    for tool in TOOLS[:3]:
        assert f"{tool.qualified_name}: {one_line(tool)}" in prompt
    assert prompt.endswith("Request: Commit my changes, please.")
    schema = request.response_format.json_schema
    assert request.response_format.type == "json_schema" and schema is not None
    assert schema["items"]["enum"] == [tool.qualified_name for tool in TOOLS[:3]]
    assert schema["maxItems"] == 2 and request.parameters.temperature == 0.0


def test_a_description_becomes_its_first_sentence_cut_to_one_short_line() -> None:
    long = McpTool(server="s", name="t", description="Reads a file.\nIt also " + "x" * 200)
    assert one_line(long) == "Reads a file"
    wordy = McpTool(server="s", name="t", description="y" * 200)
    assert len(one_line(wordy)) == 80 and one_line(wordy).endswith("…")


async def test_without_a_local_model_the_ranking_alone_chooses_and_the_note_says_why() -> None:
    result = await LocalToolCheck(lambda: None).pick(TOOLS, "What time is it?", k=2)
    assert result.picks == () and "no local model is loaded" in result.note


async def test_a_selection_asking_for_the_check_without_a_model_offers_what_the_ranking_does() -> (
    None
):
    embedder = OnnxEmbedder(threads=2)
    selector = ToolSelector(ToolIndex(embedder), LocalToolCheck(lambda: None))
    asked = ["What time is it in Tokyo right now?"]
    alone = await selector.select(TOOLS, asked, k=2)
    checked = await selector.select(TOOLS, asked, k=2, check=True)
    assert checked.offered == alone.offered and checked.left_out == alone.left_out
    assert alone.note == "" and "the ranking alone chose" in checked.note
