"""``STRATEGIES``: each strategy is written and registered once, with its label and kind."""

import subprocess
import sys
from typing import get_args

import pytest

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.run_context import RunContext
from hybridmcp_app.orchestration.strategies import STRATEGIES, available_strategies
from hybridmcp_app.orchestration.strategies.single import LocalOnlyStrategy
from hybridmcp_app.orchestration.strategy import Strategy, StrategyKind
from hybridmcp_app.orchestration.strategy_registry import StrategyRegistry


class EchoStrategy(Strategy):
    name = "echo"
    label = "Echo (the local answer, twice)"
    kind = "hybrid"
    needs_provider = False

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None
        leg = await context.leg("local", context.local, "answer", request)
        return "local" if leg.response is not None else None


def test_every_registered_strategy_has_a_name_a_label_and_a_kind() -> None:
    for strategy in STRATEGIES:
        assert strategy.name and strategy.label
        assert strategy.kind in get_args(StrategyKind)


def test_only_the_single_models_and_side_by_side_are_not_hybrid() -> None:
    plain = {strategy.name: strategy.kind for strategy in STRATEGIES if strategy.kind != "hybrid"}
    assert plain == {"local": "local", "provider": "provider", "parallel": "side_by_side"}


def test_each_call_makes_fresh_strategies_by_name() -> None:
    first, second = available_strategies(), available_strategies()
    assert tuple(first) == STRATEGIES.names
    assert all(first[name] is not second[name] for name in first)
    assert all(first[name].name == name for name in first)


def test_a_registered_strategy_is_listed_last_with_its_label_and_kind() -> None:
    registry = StrategyRegistry(*STRATEGIES, EchoStrategy)
    assert registry.names == (*STRATEGIES.names, "echo")
    assert "echo" in registry and len(registry) == len(STRATEGIES) + 1
    assert (registry.label("echo"), registry.kind("echo")) == (
        "Echo (the local answer, twice)",
        "hybrid",
    )
    assert isinstance(registry.create_all()["echo"], EchoStrategy)


def test_a_strategy_no_longer_registered_is_shown_by_its_name_and_has_no_kind() -> None:
    assert STRATEGIES.label("retired") == "retired"
    assert STRATEGIES.kind("retired") is None
    assert "retired" not in STRATEGIES


def test_two_strategies_with_one_name_are_refused() -> None:
    class AnotherLocal(LocalOnlyStrategy):
        label = "Local, again"

    with pytest.raises(ValueError, match="two strategies are named 'local'"):
        StrategyRegistry(LocalOnlyStrategy, AnotherLocal)


def test_listing_the_strategies_loads_neither_numpy_nor_a_model_library() -> None:
    heavy = ("numpy", "openai", "llama_cpp", "onnxruntime", "mcp", "PySide6")
    probe = (
        "import sys\n"
        "from hybridmcp_app.orchestration.strategies import STRATEGIES\n"
        "assert STRATEGIES.names\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
