"""Shared steps of the chat tests: settings with or without a provider, asking, waiting."""

from pathlib import Path

import qasync

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.ui.chat.qt_chat_view import QtChatView
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.llama_server import LlamaServer
from tests.helpers.waiting import PATIENCE_S, wait_until

FEW_SHOT = (
    "Q: What is the capital of France?\nA: Paris\n"
    "Q: What is the capital of Germany?\nA: Berlin\n"
    "Q: What is the capital of Italy?\nA:"
)


def save_settings(
    app_paths: AppPaths, provider: LlamaServer | None = None, *, model: Path | None = None
) -> None:
    """Short greedy answers; ``model`` is the local GGUF (None: the default, the chat model).
    Tests that send ``FEW_SHOT`` pass Gemma base's file: continuing a pattern is its job."""
    parameters = {"temperature": 0.0, "max_tokens": 8, "stop": ["\n"]}
    local: dict[str, object] = {"inference": {"n_ctx": 1024, "parameters": parameters}}
    if model is not None:
        local["model_path"] = str(model)
    data: dict[str, object] = {"llm": {"local": local}}
    if provider is not None:
        data["providers"] = {
            "items": [{"name": "lab", "base_url": provider.base_url, "default_model": "gemma",
                       "api_key_secret": "LAB_KEY", "timeout_s": PATIENCE_S,
                       "first_token_timeout_s": PATIENCE_S}],
            "active": "lab",
        }  # fmt: skip
    SettingsStore(app_paths).save(Settings.model_validate(data))


def use_parameters(window: MainWindow, **parameters: object) -> None:
    settings = window.context.settings
    inference = settings.llm.local.inference.model_copy(
        update={"parameters": ModelParameters.model_validate(parameters)}
    )
    local = settings.llm.local.model_copy(update={"inference": inference})
    llm = settings.llm.model_copy(update={"local": local})
    window.context.settings = settings.model_copy(update={"llm": llm})


def load_model(window: MainWindow, loop: qasync.QEventLoop) -> None:
    loop.run_until_complete(window.context.local_model.load(window.context.settings.llm.local))


def ask(window: MainWindow, loop: qasync.QEventLoop, text: str, strategy: str = "local") -> None:
    view = window.chat_view
    view.select_strategy(strategy)
    view.prompt.setPlainText(text)
    task = view.send()
    assert task is not None
    loop.run_until_complete(wait_until(lambda: not view.answering))


def start_a_long_local_answer(window: MainWindow, loop: qasync.QEventLoop) -> QtChatView:
    """Load the model, ask for a long story and wait until some of it has streamed."""
    load_model(window, loop)
    view = window.chat_view
    use_parameters(window, max_tokens=500)
    view.select_strategy("local")
    view.prompt.setPlainText("Once upon a time")
    view.send()
    loop.run_until_complete(
        wait_until(lambda: "local" in view._panes and len(view._panes["local"].answer) > 20)
    )
    return view
