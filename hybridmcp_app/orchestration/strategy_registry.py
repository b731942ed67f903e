"""``StrategyRegistry``: strategy classes by name, in the order the window lists them.

The command line's ``--strategy`` choices, the chat's strategy combo and the savings view's labels
are all read from one registry (``orchestration.strategies.STRATEGIES``).
"""

from __future__ import annotations

from collections.abc import Iterator

from hybridmcp_app.orchestration.strategy import Strategy, StrategyKind


class StrategyRegistry:
    """The registered strategy classes; ``create_all`` makes a fresh instance of each."""

    def __init__(self, *classes: type[Strategy]) -> None:
        self._classes: dict[str, type[Strategy]] = {}
        for strategy in classes:
            if strategy.name in self._classes:
                raise ValueError(f"two strategies are named {strategy.name!r}")
            self._classes[strategy.name] = strategy

    def __iter__(self) -> Iterator[type[Strategy]]:
        return iter(self._classes.values())

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._classes)

    def label(self, name: str) -> str:
        """What the window calls ``name``; the name itself when no strategy has it (any more)."""
        strategy = self._classes.get(name)
        return strategy.label if strategy is not None else name

    def kind(self, name: str) -> StrategyKind | None:
        strategy = self._classes.get(name)
        return strategy.kind if strategy is not None else None

    def create_all(self) -> dict[str, Strategy]:
        """A fresh instance of each strategy, by name."""
        return {name: strategy() for name, strategy in self._classes.items()}
