"""The app serves the local OpenAI-compatible API when Settings → Local API has it on: the
``openai`` SDK gets an answer from the app's own local model with the keychain's token, the run
lands in the usage ledger, and with the setting off nothing listens."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import openai
import pytest
import qasync
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from hybridmcp_app.api_server import TOKEN_SECRET_NAME as API_TOKEN_SECRET
from hybridmcp_app.api_server.app_api import serve_api
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.settings.qt_api_access import HIDDEN
from hybridmcp_app.ui.settings.qt_settings_dialog import PAGE_INDEX, QtSettingsDialog
from tests.helpers.llama_server import free_port
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import wait_until


def api_settings(app_paths: AppPaths, enabled: bool, port: int) -> None:
    data = {"api": {"enabled": enabled, "port": port},
            "llm": {"local": {"inference": {"n_ctx": 1024,
                                            "parameters": {"temperature": 0.0}}}}}  # fmt: skip
    SettingsStore(app_paths).save(Settings.model_validate(data))


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_app_answers_openai_clients_with_its_local_model_when_the_api_is_on(
    app_paths: AppPaths, make_context: Callable[[], AppServices], qt_loop: qasync.QEventLoop
) -> None:
    port = free_port()
    api_settings(app_paths, True, port)
    context = make_context()

    async def scenario() -> tuple[str, int]:
        await context.local_model.load(context.settings.llm.local)
        serving = context.tasks.spawn(serve_api(context), name="openai-api")
        await wait_until(lambda: listening(port) or serving.done())
        assert not serving.done(), serving.result()
        token = context.secrets.get(API_TOKEN_SECRET)  # made by the API before it listens
        assert token is not None
        base_url = f"http://127.0.0.1:{port}/v1"
        async with openai.AsyncOpenAI(base_url=base_url, api_key=token.get_secret_value(),
                                      max_retries=0) as client:  # fmt: skip
            completion = await client.chat.completions.create(
                model="local", max_tokens=12,
                messages=[{"role": "user", "content": "Say hello."}],
            )  # fmt: skip
        runs = len(await context.chat.savings_history())
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        return completion.choices[0].message.content or "", runs

    text, runs = qt_loop.run_until_complete(scenario())
    assert text.strip()
    assert runs == 1  # counted like a chat turn


def test_with_the_api_off_nothing_listens(
    app_paths: AppPaths, make_context: Callable[[], AppServices], qt_loop: qasync.QEventLoop
) -> None:
    port = free_port()
    api_settings(app_paths, False, port)
    context = make_context()
    qt_loop.run_until_complete(serve_api(context))  # returns at once: off

    async def refused() -> None:
        async with openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x",
                                      max_retries=0) as client:  # fmt: skip
            with pytest.raises(openai.APIConnectionError):
                await client.models.list()

    qt_loop.run_until_complete(refused())
    assert context.secrets.get(API_TOKEN_SECRET) is None


def test_settings_show_where_clients_connect_and_give_the_token(qtbot: QtBot) -> None:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    settings = Settings.model_validate({"api": {"enabled": True, "port": 9911}})
    dialog = QtSettingsDialog(settings, secrets)
    qtbot.addWidget(dialog)
    dialog.sections.setCurrentRow(PAGE_INDEX["Local API"])
    access = dialog.api_access

    assert "http://127.0.0.1:9911/v1" in access.url.text()
    assert access.token.text() == HIDDEN  # nothing made or read until asked
    assert secrets.get(API_TOKEN_SECRET) is None
    access.reveal(copy=True)
    token = secrets.get(API_TOKEN_SECRET)
    assert token is not None and access.token.text() == token.get_secret_value()
    assert QGuiApplication.clipboard().text() == token.get_secret_value()

    no_keychain = QtSettingsDialog(settings, SecretStore(None, KeychainStatus(False, "none")))
    qtbot.addWidget(no_keychain)
    no_keychain.api_access.reveal()
    assert no_keychain.api_access.problem.text().startswith("No token: ")
    assert no_keychain.api_access.token.text() == HIDDEN


def test_a_port_already_in_use_is_explained_and_the_app_goes_on(
    app_paths: AppPaths, make_context: Callable[[], AppServices], qt_loop: qasync.QEventLoop
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        api_settings(app_paths, True, port)
        context = make_context()
        problems: list[str] = []
        qt_loop.run_until_complete(serve_api(context, problems.append))  # returns: no server
    assert len(problems) == 1
    assert f"could not listen on 127.0.0.1:{port}" in problems[0]
    assert "Settings → Local API" in problems[0]
