"""``GameService``: the game as the app, the command line and the MCP server use it — the bank
(shipped and the player's puzzles), the stats, and the hosts, built from whatever is available.

The local host needs the loaded local model, the provider host the active provider of the
settings (leased from the app's ``BackendRegistry``), the hybrid host both; asking for one that
is not there is a ``GameError`` that says what to set up. The embedding host always works (offline).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, get_args

from hybridmcp_app.config.paths import AppPaths, resources_dir
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
    from hybridmcp_app.llm.backend_registry import BackendRegistry

HostKind = str  # one of HOST_KINDS
HOST_KINDS: tuple[str, ...] = get_args(GameHost)


class GameService:
    """One ``GameRules`` over the app's data folder; hosts made on demand."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Callable[[], Settings],
        providers: BackendRegistry,
        local_backend: Callable[[], Awaitable[ChatBackend | None]],
        embedder: Callable[[], Embedder],
    ) -> None:
        self._paths, self._settings, self._providers = paths, settings, providers
        self._local_backend, self._embedder = local_backend, embedder
        self._rules: GameRules | None = None
        self._matcher: FactMatcher | None = None

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

    @contextlib.asynccontextmanager
    async def hosting(self, kind: HostKind) -> AsyncIterator[PuzzleHost]:
        """A host of ``kind`` for one question (or one check), or a ``GameError`` saying what
        it needs."""
        if kind == "embedding":
            yield EmbeddingHost(self.matcher())
        elif kind == "local":
            yield await self._local_host()
        elif kind == "provider":
            async with self.provider_backend() as (backend, model):
                yield LlmHost("provider", backend, self.matcher(), "json_schema", model)
        elif kind == "hybrid":
            local = await self._local_host()
            async with self.provider_backend() as (backend, model):
                provider = LlmHost("provider", backend, self.matcher(), "json_schema", model)
                yield HybridHost(local, provider, self._settings().game.hybrid_confidence)
        else:
            raise GameError(f"unknown host {kind!r} (one of {', '.join(HOST_KINDS)})")

    async def use_host(self, kind: HostKind) -> None:
        """Judge the following questions of every game with ``kind`` (checked now)."""
        async with self.hosting(kind):
            pass
        (await self.rules()).host = ChosenHost(self, kind)

    async def _local_host(self) -> LlmHost:
        backend = await self._local_backend()
        if backend is None:
            raise GameError("the local model is not loaded: load one, or choose another host")
        return LlmHost("local", backend, self.matcher(), "grammar")

    @contextlib.asynccontextmanager
    async def provider_backend(self) -> AsyncIterator[tuple[ChatBackend, str]]:
        """The active provider of the settings (from the app's ``BackendRegistry``) and its
        default model while the block runs, or a ``GameError`` saying what to set up."""
        if self._settings().providers.choose() is None:
            raise GameError("no provider is set up: add one in Settings → Providers")
        async with contextlib.AsyncExitStack() as lease:
            try:
                backend = await lease.enter_async_context(self._providers.lease())
            except HybridMCPError as error:
                raise GameError(str(error)) from None
            yield backend, backend.config.default_model

    async def close(self) -> None:
        """Nothing of its own to close: the providers' clients are the registry's."""


class ChosenHost:
    """The host of a kind, made when a question comes: the local model may load, or the
    provider change, while a game runs."""

    def __init__(self, service: GameService, kind: HostKind) -> None:
        self.service, self.name = service, kind

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement:
        async with self.service.hosting(self.name) as host:
            return await host.answer(puzzle, question)

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement:
        async with self.service.hosting(self.name) as host:
            return await host.judge_guess(puzzle, guess)
