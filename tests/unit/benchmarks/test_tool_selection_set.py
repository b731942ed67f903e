"""The labelled tool-selection set, and how ``benchmarks.tool_selection`` scores a ranking."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from benchmarks.tool_selection import (
    DATA,
    TokenCount,
    fused,
    load_requests,
    load_tools,
    recall_at,
    set_problems,
    smallest_k,
)


def test_the_set_is_well_formed_with_150_requests_over_60_real_tools() -> None:
    tools, requests = load_tools(), load_requests()
    assert set_problems(tools, requests) == []
    assert len(tools) >= 60 and len(requests) >= 150


def test_every_tool_says_where_it_came_from_and_has_an_object_schema() -> None:
    entries = json.loads((DATA / "tools.json").read_text(encoding="utf-8"))
    assert all(entry["source"].strip() for entry in entries)
    assert all(entry["inputSchema"].get("type") == "object" for entry in entries)
    assert len({entry["server"] for entry in entries}) >= 10


def test_the_requests_cover_multi_tool_follow_up_and_exact_name_requests() -> None:
    requests = load_requests()
    tags = Counter(tag for request in requests for tag in request.tags)
    assert tags["multi"] >= 10 and tags["follow-up"] >= 10 and tags["exact"] >= 10
    assert all(len(r.tools) >= 2 for r in requests if "multi" in r.tags)
    assert all(r.history for r in requests if "follow-up" in r.tags)


def test_a_request_naming_an_unknown_tool_or_repeated_is_reported(tmp_path: Path) -> None:
    shutil.copy(DATA / "tools.json", tmp_path / "tools.json")
    lines = (DATA / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    wrong = json.loads(lines[0]) | {"id": "r999", "tools": ["nowhere__nothing"]}
    (tmp_path / "requests.jsonl").write_text("\n".join([*lines, json.dumps(wrong)]) + "\n")
    problems = set_problems(load_tools(tmp_path), load_requests(tmp_path))
    assert "r999 names nowhere__nothing, not in tools.json" in problems
    assert "a request is listed twice" in problems


def test_a_request_counts_as_recalled_only_when_all_its_tools_are_in_the_first_k() -> None:
    requests = [r for r in load_requests() if "multi" in r.tags][:1]
    needed = list(requests[0].tools)
    ranking = ["other__a", needed[0], "other__b", *needed[1:]]
    assert recall_at([ranking], requests, 2) == 0.0
    assert recall_at([ranking], requests, len(ranking)) == 1.0
    assert smallest_k({3: 0.9, 5: 0.95, 8: 1.0}) == 5
    assert smallest_k({3: 0.5, 5: 0.9}) is None


def test_offering_fewer_tools_cuts_the_definition_tokens_search_tools_included() -> None:
    tools = load_tools()
    count = TokenCount(tools)
    names = [tool.qualified_name for tool in tools]
    assert count.offered(names) == count.all_tokens  # all offered: no search_tools
    three = count.offered(names[:3])
    assert 0 < three < count.all_tokens
    assert count.cut([names], 3) == count.all_tokens / three


def test_fusion_puts_first_what_both_rankings_put_high() -> None:
    assert fused(["a", "b", "c"], ["b", "c", "a"])[0] == "b"
