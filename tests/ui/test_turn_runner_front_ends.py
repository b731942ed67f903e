"""One turn, three front ends: the window's chat, ``hybridmcp ask`` (its own process) and the
local API run the same question through the app's ``TurnRunner`` and leave the same trace, cost
and savings records (before the application layer, API runs recorded no cost and no savings)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import openai
import qasync

from hybridmcp_app.api_server import TOKEN_SECRET_NAME as API_TOKEN_SECRET
from hybridmcp_app.api_server.app_api import serve_api
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import SecretStore, origin_of, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.llama_server import LlamaServer, free_port
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.ui.chat_steps import ask

QUESTION = "Name one colour of the rainbow."
MAX_TOKENS = 12
PROMPT_PRICE = 2.0  # USD per million prompt tokens; completions free, so the cost is exact
RECORDED = "strategy, provider_prompt_tokens, baseline_prompt_tokens, cost_usd, cost_saved_usd"


def configure(app_paths: AppPaths, provider: LlamaServer, api_port: int) -> None:
    parameters = {"temperature": 0.0, "max_tokens": MAX_TOKENS}
    settings = Settings.model_validate({
        "llm": {"local": {"inference": {"n_ctx": 1024, "parameters": parameters}}},
        "providers": {"items": [{"name": "lab", "base_url": provider.base_url,
                                 "default_model": "gemma", "api_key_secret": "LAB_KEY",
                                 "timeout_s": PATIENCE_S, "first_token_timeout_s": PATIENCE_S}],
                      "active": "lab"},
        "api": {"enabled": True, "port": api_port},
    })  # fmt: skip
    SettingsStore(app_paths).save(settings)
    prices = {"models": {"gemma": {"input": PROMPT_PRICE, "output": 0.0}}}
    (app_paths.config_dir / "prices.json").write_text(json.dumps(prices), encoding="utf-8")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ledger_rows(app_paths: AppPaths) -> list[tuple[Any, ...]]:
    with sqlite3.connect(app_paths.data_dir / "usage.sqlite3") as connection:
        rows = connection.execute(f"SELECT {RECORDED} FROM runs ORDER BY id").fetchall()
    connection.close()
    return rows


def through_the_api(context: AppServices, port: int, loop: qasync.QEventLoop) -> str:
    async def scenario() -> str:
        serving = context.tasks.spawn(serve_api(context), name="openai-api")
        await wait_until(lambda: listening(port) or serving.done())
        assert not serving.done(), serving.result()
        token = context.secrets.get(API_TOKEN_SECRET)
        assert token is not None
        async with openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1",
                                      api_key=token.get_secret_value(),
                                      max_retries=0) as client:  # fmt: skip
            completion = await client.chat.completions.create(
                model="provider/lab", max_tokens=MAX_TOKENS, temperature=0.0,
                messages=[{"role": "user", "content": QUESTION}],
            )  # fmt: skip
        serving.cancel()
        return completion.choices[0].message.content or ""

    answer: str = loop.run_until_complete(scenario())
    return answer


def through_the_command_line() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "ask", "--strategy", "provider", "--json",
         "--max-tokens", str(MAX_TOKENS), QUESTION],
        capture_output=True, text=True, timeout=PATIENCE_S, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_the_window_the_command_line_and_the_api_record_the_same_turn_alike(
    app_paths: AppPaths,
    provider_server: LlamaServer,
    secret_service: str,
    make_context: Callable[..., AppServices],
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
) -> None:
    port = free_port()
    configure(app_paths, provider_server, port)
    keychain = SecretStore(*system_keychain())
    keychain.set("LAB_KEY", provider_server.api_key, origin=origin_of(provider_server.base_url))
    context = make_context(secrets=keychain)
    window = make_window(context)

    ask(window, qt_loop, QUESTION, "provider")
    turn = context.chat.conversation.turns[-1]
    api_answer = through_the_api(context, port, qt_loop)
    command_line = through_the_command_line()

    window_row, api_row, command_row = ledger_rows(app_paths)
    assert window_row == api_row == command_row
    strategy, provider_tokens, baseline, cost, saved_usd = window_row
    assert strategy == "provider" and provider_tokens > 0 and baseline > 0
    assert cost == provider_tokens * PROMPT_PRICE / 1e6  # the price table reached every run
    assert saved_usd is not None
    # The window's turn and the command line's trace say what the ledger says.
    assert (turn.provider_prompt_tokens, turn.baseline_prompt_tokens, turn.cost_usd) == (
        provider_tokens, baseline, cost,
    )  # fmt: skip
    trace = command_line["trace"]
    assert (trace["strategy"], trace["provider_prompt_tokens"], trace["baseline_prompt_tokens"],
            trace["cost_usd"], trace["cost_saved_usd"]) == window_row  # fmt: skip
    assert turn.panes[0].text.strip() and api_answer.strip()
    assert command_line["answers"]["provider"].strip()
