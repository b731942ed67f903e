"""A registry ``server.json`` as catalogue entries: what maps, and what is left out with its
reason (never raised): hostile names and values, secrets where others can read them."""

from __future__ import annotations

from typing import Any

import pytest

from hybridmcp_app.services.mcp_registry_entries import Unmappable, server_from_json


def npm(**package: Any) -> dict[str, Any]:
    base = {"registryType": "npm", "identifier": "good-mcp", "version": "1.0.0",
            "transport": {"type": "stdio"}}  # fmt: skip
    return {"name": "io.github.someone/good", "description": "Good.", "version": "1.0.0",
            "packages": [{**base, **package}]}  # fmt: skip


def remote(**transport: Any) -> dict[str, Any]:
    base = {"type": "streamable-http", "url": "https://mcp.good.example/mcp"}
    return {"name": "io.github.someone/good", "description": "Good.", "version": "1.0.0",
            "remotes": [{**base, **transport}]}  # fmt: skip


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (npm(identifier="-rf"), "is not a valid npm package name"),
        (npm(version="1.0 && curl x"), "is not a plain version"),
        (npm(transport={"type": "streamable-http", "url": "http://localhost:3000"}),
         "only stdio packages"),
        (npm(runtimeArguments=[{"type": "named", "name": "-v", "value": "/:/host"}]),
         "needs arguments for npx itself"),
        (npm(packageArguments=[{"type": "named", "name": "--token", "isSecret": True}]),
         "passes a secret on the command line"),
        (npm(packageArguments=[{"type": "positional", "value": "--key={k}",
                                "variables": {"k": {"isSecret": True}}}]),
         "passes a secret on the command line"),
        (npm(packageArguments=[{"type": "named", "name": "; rm -rf ~", "value": "x"}]),
         "is not a plain --flag"),
        (npm(environmentVariables=[{"name": "BAD NAME"}]), "is not an environment variable"),
        (npm(environmentVariables=[{"name": "A", "value": "{missing}"}]),
         "uses {missing}, which it does not define"),
        (npm(environmentVariables=[{"name": "A", "value": "x\ny"}]), "control characters"),
        (remote(url="http://mcp.good.example/mcp"), "is not a plain https:// URL"),
        (remote(url="https://mcp.good.example/{key}",
                variables={"key": {"isSecret": True}}), "its address holds a secret"),
        (remote(type="websocket"), "remote transport 'websocket' is unknown"),
        (remote(headers=[{"name": "Bad Header", "value": "x"}]), "is not a header name"),
        (npm(transport="stdio"), "transport"),
    ],
)  # fmt: skip
def test_a_way_to_run_that_cannot_be_mapped_is_left_out_with_the_reason(
    document: dict[str, Any], reason: str
) -> None:
    server = server_from_json(document)
    assert server.entries == ()
    (skipped,) = server.skipped
    assert reason in skipped and "\n" not in skipped


def test_an_optional_input_is_left_out_whole_while_empty_and_a_default_is_kept() -> None:
    server = server_from_json(npm(packageArguments=[
        {"type": "named", "name": "--port", "default": "8080"},
        {"type": "positional", "value": "--root={dir}", "variables": {"dir": {}}},
        {"type": "positional", "value": "--stdio"},
    ]))  # fmt: skip
    (entry,) = server.entries
    assert entry.run.args == (("--port", "{port}"), ("--root={dir}",), "--stdio")
    assert entry.setting("port").default == "8080" and not entry.setting("dir").required


def test_a_header_with_a_fixed_value_and_no_variables_is_kept_as_written() -> None:
    server = server_from_json(remote(headers=[{"name": "X-Client", "value": "hybridmcp"}]))
    (entry,) = server.entries
    assert entry.run.headers == {"X-Client": "hybridmcp"} and entry.settings == ()


@pytest.mark.parametrize(
    "document",
    [{"name": "no-slash", "description": "x"}, {"name": "a/b", "packages": "npm"}, {"x": 1}],
)
def test_a_malformed_document_is_unmappable_in_one_line(document: dict[str, Any]) -> None:
    with pytest.raises(Unmappable) as caught:
        server_from_json(document)
    assert "\n" not in str(caught.value)


def test_a_server_with_nothing_to_run_says_so() -> None:
    server = server_from_json({"name": "io.github.x/empty", "description": "Nothing."})
    assert server.entries == () and server.skipped == (
        "it names no package and no remote: nothing to run",
    )
