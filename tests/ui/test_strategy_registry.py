"""A strategy written and registered once shows everywhere: on the command line, in the chat's
strategy combo and in the savings view, with the label and kind it carries."""

import pytest
import qasync
from pytestqt.qtbot import QtBot

from hybridmcp_app.cli.main import build_parser
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.events import HybridTrace
from hybridmcp_app.orchestration.run_context import RunContext
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.orchestration.strategy import Strategy
from hybridmcp_app.orchestration.strategy_registry import StrategyRegistry
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from hybridmcp_app.ui.chat.qt_chat_view import QtChatView
from hybridmcp_app.ui.chat.qt_savings_view import QtSavingsView
from tests.ui.conftest import ContextFactory


class ShortcutStrategy(Strategy):
    """Made up for this test: the provider answers a shortened prompt."""

    name = "shortcut"
    label = "Shortcut (fewer prompt tokens)"
    kind = "hybrid"
    needs_local = False

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.provider is not None
        leg = await context.leg("provider", context.provider, "answer", request)
        return "provider" if leg.response is not None else None


REGISTRY = StrategyRegistry(*STRATEGIES, ShortcutStrategy)


def test_a_registered_strategy_shows_on_the_command_line_in_the_chat_and_in_the_savings(
    make_context: ContextFactory,
    app_paths: AppPaths,
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The command line offers it, and only where it is registered.
    assert build_parser(REGISTRY).parse_args(["ask", "--strategy", "shortcut", "q"]).strategy == (
        "shortcut"
    )
    with pytest.raises(SystemExit):
        build_parser(STRATEGIES).parse_args(["ask", "--strategy", "shortcut", "q"])
    assert "invalid choice: 'shortcut'" in capsys.readouterr().err

    UsageLedger(app_paths.data_dir / "usage.sqlite3").record(
        HybridTrace(
            strategy="shortcut",
            provider_prompt_tokens=40,
            baseline_prompt_tokens=100,
            saving="fewer_tokens",
        )
    )
    context = make_context()

    # The chat's combo lists every registered strategy by its label, in the registry's order.
    chat = QtChatView(
        context.chat,
        context.local_model,
        context.tasks,
        local_config=lambda: context.settings.llm.local,
        default_strategy="shortcut",
        open_settings=lambda: None,
        strategies=REGISTRY,
    )
    qtbot.addWidget(chat)
    entries = [
        (chat.strategy.itemText(index), chat.strategy.itemData(index))
        for index in range(chat.strategy.count())
    ]
    assert entries == [(strategy.label, strategy.name) for strategy in REGISTRY]
    assert entries[-1] == ("Shortcut (fewer prompt tokens)", "shortcut")
    assert chat.strategy_name == "shortcut"

    # The savings view names its row and its curve with the label, without the explanation.
    savings = QtSavingsView(context.chat, context.tasks, strategies=REGISTRY)
    qtbot.addWidget(savings)
    savings.show()
    assert savings.refresh_task is not None
    qt_loop.run_until_complete(savings.refresh_task)
    first = savings.table.item(0, 0)
    assert first is not None and first.text() == "Shortcut"
    assert savings.token_curves["shortcut"].name() == "Shortcut"
