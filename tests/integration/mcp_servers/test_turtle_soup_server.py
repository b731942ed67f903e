"""The turtle_soup MCP server: a whole game in memory with the SDK (the embedding host, offline),
as a stdio subprocess over ``$HYBRIDMCP_HOME`` with the real local model judging, and through
the MCP Inspector's CLI. The view never carries the bottom until the game ends."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths, resources_dir
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.game.game_service import GameService
from hybridmcp_app.llm.backend_registry import BackendRegistry
from hybridmcp_app.mcp_servers.turtle_soup import TurtleSoupServer
from tests.helpers.mcp_inspector import InspectorCli
from tests.helpers.mcp_results import assert_refused, structured_of
from tests.helpers.memory_keyring import MemoryKeyring

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
MODULE = "hybridmcp_app.mcp_servers.turtle_soup"
UMBRELLA = "the-dry-umbrella"
TOOLS = {  # name: (readOnlyHint, destructiveHint, idempotentHint)
    "list_puzzles": (True, False, True),
    "new_game": (False, False, False),
    "ask": (False, False, False),
    "guess": (False, False, False),
    "hint": (False, False, False),
    "reveal": (False, True, False),
    "stats": (True, False, True),
}


async def no_local_model() -> None:
    return None


def embedding_service(paths: AppPaths) -> GameService:
    settings = Settings.model_validate({"game": {"host": "embedding"}})
    embedder = OnnxEmbedder(threads=2)
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    providers = BackendRegistry(lambda: settings.providers, secrets, resources_dir())
    return GameService(paths, lambda: settings, providers, no_local_model, lambda: embedder)


async def test_in_memory_a_whole_game_is_played_and_the_bottom_shows_only_at_the_end(
    app_paths: AppPaths,
) -> None:
    server = TurtleSoupServer(embedding_service(app_paths.ensure()))
    async with Client(server.build()) as client:
        tools = (await client.list_tools()).tools
        listed = structured_of(await client.call_tool("list_puzzles", {"difficulty": "easy"}))
        game = structured_of(await client.call_tool("new_game", {"puzzle_id": UMBRELLA}))
        game_id = game["game_id"]
        question = {"game_id": game_id, "question": "Does she have no hair?"}
        asked = structured_of(await client.call_tool("ask", question))
        again = await client.call_tool("ask", {**question, "question": "does she have no hair"})
        hinted = structured_of(await client.call_tool("hint", {"game_id": game_id}))
        revealed = structured_of(await client.call_tool("reveal", {"game_id": game_id}))
        late = await client.call_tool("ask", {"game_id": game_id, "question": "Is it wet?"})
        stats = structured_of(await client.call_tool("stats", {}))
        custom = structured_of(await client.call_tool("new_game", {
            "surface": "Every clock in the house stopped at noon.",
            "bottom": "A power cut at noon stopped the electric clocks."}))  # fmt: skip
        half = await client.call_tool("new_game", {"surface": "Only a surface, no bottom."})

    hints = {t.name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
             for t in tools if (a := t.annotations) is not None}  # fmt: skip
    assert hints == TOOLS
    assert UMBRELLA in {p["id"] for p in listed["puzzles"]}
    assert all("bottom" not in p for p in listed["puzzles"])
    assert game["bottom"] is None and "downpour" in game["surface"]
    assert asked["turn"]["answer"] == "yes" and 0 in asked["game"]["facts_uncovered"]
    assert asked["game"]["bottom"] is None
    assert_refused(again, "You already asked that (question 1: Yes).")
    assert hinted["hint"].startswith("Read the surface")
    assert revealed["state"] == "revealed" and "chemotherapy" in revealed["bottom"]
    assert_refused(late, "This game is over (revealed); start a new one.")
    assert (stats["played"], stats["revealed"]) == (1, 1)
    assert custom["title"].startswith("Every clock") and custom["facts_total"] == 0
    assert_refused(half, "bottom: Field required")


async def test_as_a_subprocess_the_local_model_judges(app_paths: AppPaths) -> None:
    paths = app_paths.ensure()
    SettingsStore(paths).save(Settings.model_validate({"game": {"host": "local"}}))
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", MODULE], cwd=REPO,
        env={**os.environ, HOME_ENV_VAR: str(paths.data_dir.parent)},
    )  # fmt: skip
    async with asyncio.timeout(180), Client(parameters) as client:
        game = structured_of(await client.call_tool("new_game", {"puzzle_id": UMBRELLA}))
        question = {"game_id": game["game_id"], "question": "Did her head get wet?"}
        asked = structured_of(await client.call_tool("ask", question))
        solution = {"game_id": game["game_id"], "solution": "She is bald: no hair to get wet."}
        guessed = structured_of(await client.call_tool("guess", solution))

    assert asked["turn"]["answer"] in ("yes", "no", "irrelevant", "partly")
    assert guessed["outcome"]["verdict"] in ("correct", "close", "incorrect")
    if guessed["game"]["state"] == "playing":
        assert "chemotherapy" not in guessed["outcome"]["message"]


def test_the_inspector_lists_the_tools_and_starts_a_game(
    inspector_script: Path, app_paths: AppPaths
) -> None:
    paths = app_paths.ensure()
    command = [sys.executable, "-m", MODULE, "--game-host", "embedding"]
    inspector = InspectorCli(inspector_script, command, cwd=REPO)

    tools = inspector.list_tools()
    started = inspector.call_tool("new_game", puzzle_id=UMBRELLA)

    assert {tool["name"] for tool in tools} == set(TOOLS)
    assert started["structuredContent"]["puzzle_id"] == UMBRELLA
    assert started["structuredContent"]["bottom"] is None
    assert paths.data_dir.is_dir()
