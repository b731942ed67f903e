"""``GameService``: the game as the app, the command line and the MCP server use it — the bank
(shipped and the player's puzzles), the stats, and the hosts, built from whatever is available.

The local host needs the loaded local model, the provider host the active provider of the
settings (its key from the keychain), the hybrid host both; asking for one that is not there
is a ``GameError`` that says what to set up. The embedding host always works (offline).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, get_args

from hybridmcp_app.config.paths import AppPaths, resources_dir
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import GameHost, Settings
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.game.embedding_host import EmbeddingHost
from hybridmcp_app.game.fact_matcher import Embedder, FactMatcher
from hybridmcp_app.game.game_models import GuessJudgement, Judgement, PuzzleHost
from hybridmcp_app.game.game_rules import GameError, GameRules
from hybridmcp_app.game.game_stats import GameStats
from hybridmcp_app.game.llm_host import HybridHost, LlmHost
from hybridmcp_app.game.puzzle_bank import PuzzleBank
from hybridmcp_app.game.puzzle_models import Puzzle
from hybridmcp_app.llm.chat_backend import ChatBackend

if TYPE_CHECKING:
    from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

HostKind = str  # one of HOST_KINDS
HOST_KINDS: tuple[str, ...] = get_args(GameHost)


class GameService:
    """One ``GameRules`` over the app's data folder; hosts made on demand."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Callable[[], Settings],
        secrets: SecretStore,
        local_backend: Callable[[], Awaitable[ChatBackend | None]],
        embedder: Callable[[], Embedder],
    ) -> None:
        self._paths, self._settings, self._secrets = paths, settings, secrets
        self._local_backend, self._embedder = local_backend, embedder
        self._rules: GameRules | None = None
        self._matcher: FactMatcher | None = None
        self._provider: tuple[object, OpenAICompatBackend] | None = None

    async def rules(self) -> GameRules:
        """The rules, with the bank and the stats opened off the event loop the first time."""
        if self._rules is None:
            bank, stats = await asyncio.to_thread(self._open)
            self._rules = GameRules(bank, ChosenHost(self, self._settings().game.host), stats)
        return self._rules

    def _open(self) -> tuple[PuzzleBank, GameStats]:
        data = self._paths.data_dir
        bank = PuzzleBank(resources_dir() / "puzzles", data / "puzzles")
        return bank, GameStats(data / "game-stats.sqlite3")

    def matcher(self) -> FactMatcher:
        if self._matcher is None:
            self._matcher = FactMatcher(self._embedder())
        return self._matcher

    async def host(self, kind: HostKind) -> PuzzleHost:
        """A host of ``kind``, or a ``GameError`` saying what it needs."""
        if kind == "embedding":
            return EmbeddingHost(self.matcher())
        if kind == "local":
            return await self._local_host()
        if kind == "provider":
            return await self._provider_host()
        if kind == "hybrid":
            local = await self._local_host()
            return HybridHost(local, await self._provider_host(),
                              self._settings().game.hybrid_confidence)  # fmt: skip
        raise GameError(f"unknown host {kind!r} (one of {', '.join(HOST_KINDS)})")

    async def use_host(self, kind: HostKind) -> None:
        """Judge the following questions of every game with ``kind`` (checked now)."""
        await self.host(kind)
        (await self.rules()).host = ChosenHost(self, kind)

    async def _local_host(self) -> LlmHost:
        backend = await self._local_backend()
        if backend is None:
            raise GameError("the local model is not loaded: load one, or choose another host")
        return LlmHost("local", backend, self.matcher(), "grammar")

    async def _provider_host(self) -> LlmHost:
        backend, model = await self.provider_backend()
        return LlmHost("provider", backend, self.matcher(), "json_schema", model)

    async def provider_backend(self) -> tuple[ChatBackend, str]:
        """The active provider of the settings as a chat backend (kept until the provider
        changes) and its default model, or a ``GameError`` saying what to set up."""
        from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

        config = self._settings().providers.choose()
        if config is None:
            raise GameError("no provider is set up: add one in Settings → Providers")
        if self._provider is None or self._provider[0] != config:
            try:
                backend = await asyncio.to_thread(
                    OpenAICompatBackend.from_settings, config, self._secrets
                )
            except HybridMCPError as error:
                raise GameError(str(error)) from None
            if self._provider is not None:
                await self._provider[1].close()
            self._provider = (config, backend)
        return self._provider[1], config.default_model

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider[1].close()
            self._provider = None


class ChosenHost:
    """The host of a kind, made when a question comes: the local model may load, or the
    provider change, while a game runs."""

    def __init__(self, service: GameService, kind: HostKind) -> None:
        self.service, self.name = service, kind

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement:
        return await (await self.service.host(self.name)).answer(puzzle, question)

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement:
        return await (await self.service.host(self.name)).judge_guess(puzzle, guess)
