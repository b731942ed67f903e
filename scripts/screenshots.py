"""Grab PNGs of the main window and its dialogs, offscreen, to look at the app as a user would.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py OUT_DIR [--theme dark]
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py docs/screenshots --only models

Runs in a throw-away HYBRIDMCP_HOME; nothing of the user's is read or written. The side-by-side
shot asks the embedded model and, as the provider, llama.cpp's server on 127.0.0.1 (a real turn).
``--only models`` takes the README's three: the model catalogue and a download in progress, from a
Hugging Face Hub served on 127.0.0.1 (tests/helpers/hub_server.py, over SmolLM2's real file, held
half-way so the bar shows), and a chat with the default instruct model (SmolLM2 135M Instruct).
``--only tools`` takes the local side choosing tools: our five servers on, a tool pinned in the
MCP tab, and a chat turn with tools asked of the echo provider (127.0.0.1), its meter and audit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SMOL_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"
HELD_AT = 0.5  # the download scene stops the hub's bytes here


def save(widget: Any, path: Path) -> None:
    """The widget as a PNG, compressed as far as PNG goes (screenshots live in the repo)."""
    widget.grab().save(str(path), "PNG", 0)


def model_scenes(window: Any, loop: Any, out: Path, theme: str, settle: Callable[[], None]) -> None:
    """The catalogue, a download held part-way, and SmolLM2 answering in the chat."""
    from hybridmcp_app.llm.embedded_models import smollm2_path
    from hybridmcp_app.llm.model_hub.jobs import JobState
    from hybridmcp_app.ui.settings.qt_model_catalog_dialog import QtModelCatalogDialog
    from tests.helpers.hub_server import ServedFile, ServedRepo, hub_server
    from tests.helpers.waiting import PATIENCE_S, wait_until

    context = window.context
    smol = smollm2_path(context.paths.cache_dir)
    with hub_server() as hub:
        served = ServedFile(smol, hold_at=round(smol.stat().st_size * HELD_AT))
        hub.add(ServedRepo(SMOL_REPO, {SMOL_FILE: served}, downloads=48_213))
        settings = window.open_settings()
        dialog = QtModelCatalogDialog(
            context.paths.data_dir / "models", context.tasks, context.secrets,
            endpoint=hub.endpoint, total_ram=16 * 1024**3, parent=settings,
        )  # fmt: skip
        dialog.resize(1380, 720)  # the file names in full
        dialog.show()
        loop.run_until_complete(dialog.list_files(SMOL_REPO, ["Q4_1"]))  # as picking it does
        settle()
        save(dialog, out / f"model-catalogue-{theme}.png")
        dialog.hub_search.setText("SmolLM2")
        loop.run_until_complete(dialog.search_hub())
        dialog.table.selectRow(0)
        loop.run_until_complete(wait_until(lambda: bool(dialog.files.files)))
        task = dialog.download()
        assert task is not None
        job = next(iter(dialog.jobs.values()))
        loop.run_until_complete(asyncio.to_thread(served.held.wait, PATIENCE_S))
        # The bytes sent before the hold arrive; the bar shows them (reports lag the socket).
        loop.run_until_complete(wait_until(lambda: job.fraction >= 0.25))
        loop.run_until_complete(asyncio.sleep(1.0))
        settle()
        held_state = job.state
        assert held_state is JobState.RUNNING, f"the download is {held_state}, not held part-way"
        save(dialog, out / f"model-download-{theme}.png")
        served.release.set()
        loop.run_until_complete(task)
        assert job.state is JobState.DONE, job.error
        dialog.close()
        settings.close()

    async def chat() -> None:
        from hybridmcp_app.config.settings import Settings

        settings = context.settings.model_dump()  # greedy, as benchmarks.embedded_models asks
        settings["llm"]["local"]["inference"]["parameters"]["temperature"] = 0.0
        context.settings = Settings.model_validate(settings)
        await context.local_model.load(context.settings.llm.local)  # SmolLM2, the default
        view = window.chat_view
        view.new_chat()
        view.select_strategy("local")
        view.continue_text.setChecked(False)
        view.prompt.setPlainText("What is the capital of France?")
        answer = view.send()
        assert answer is not None
        await answer

    loop.run_until_complete(chat())
    settle()
    save(window, out / f"chat-instruct-{theme}.png")


def tool_scenes(window: Any, loop: Any, out: Path, theme: str, settle: Callable[[], None]) -> None:
    """Our five servers on, a tool pinned in the MCP tab; a chat turn with tools, the meter
    and the audit (the echo provider answers with the prompt it was sent)."""
    from hybridmcp_app.config.settings import Settings
    from hybridmcp_app.documents.app_library_source import AppLibrarySource
    from hybridmcp_app.mcp_host.builtin_servers import builtin_entries
    from hybridmcp_app.mcp_host.server_status import ServerState
    from hybridmcp_app.services.app_startup import start_mcp_host
    from hybridmcp_app.ui.chat.qt_tool_picker import ALL
    from tests.helpers.echo_provider import echo_provider
    from tests.helpers.waiting import wait_until

    context = window.context
    folder = context.paths.data_dir.parent / "project"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.md").write_text("# Notes\nThe lighthouse keeper's launch code is 7-4-1.\n")
    servers = builtin_entries()
    for entry in servers.values():
        entry.pop("disabled", None)
    servers["workspace"]["args"] += ["--root", str(folder)]
    context.paths.mcp_config_file.write_text(json.dumps({"mcpServers": servers}))
    with echo_provider(api_key="shots") as echo:
        context.secrets.set("LAB_KEY", echo.api_key)
        provider = {"name": "echo", "base_url": echo.base_url, "default_model": "echo",
                    "api_key_secret": "LAB_KEY"}  # fmt: skip
        settings = context.settings.model_dump()
        settings["providers"] = {"items": [provider], "active": "echo"}
        settings["mcp"]["chosen_tools"] = 8  # of 43 tools (the default, 30, is the benchmark's)
        context.settings = Settings.model_validate(settings)
        window.tabs.setCurrentWidget(window.mcp_view)

        async def mcp_tab() -> None:
            host = await start_mcp_host(context, window.mcp_host_ready, AppLibrarySource())
            await wait_until(lambda: all(s.status.state is ServerState.READY
                                         for s in host.supervisors.values()))  # fmt: skip
            view = window.mcp_view
            view.list.setCurrentRow(sorted(view._rows).index("docstore"))
            await wait_until(lambda: view.tools.rowCount() > 0)
            pinned = view.tools.pin(host.supervisors["docstore"].status.tools[0].qualified_name,
                                    True)  # fmt: skip
            assert pinned is not None
            await pinned
            view.tools.show_pins()

        loop.run_until_complete(mcp_tab())
        settle()
        save(window, out / f"mcp-tool-pins-{theme}.png")

        async def chat() -> None:
            window.tabs.setCurrentIndex(0)
            view = window.chat_view
            view.new_chat()
            view.select_strategy("provider")
            view.tools.choose(ALL)
            view.prompt.setPlainText("Which files in my project mention the lighthouse?")
            answer = view.send()
            assert answer is not None
            await answer
            for pane in view._panes.values():
                pane.audit_button.setChecked(True)

        loop.run_until_complete(chat())
        settle()
        save(window, out / f"chat-tool-selection-{theme}.png")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--only", choices=["all", "models", "tools"], default="all")
    args = parser.parse_args()
    os.environ["HYBRIDMCP_HOME"] = tempfile.mkdtemp(prefix="hybridmcp-shots-")

    from PySide6.QtWidgets import QApplication

    from hybridmcp_app.app import shut_down
    from hybridmcp_app.config.paths import AppPaths
    from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
    from hybridmcp_app.config.settings import Settings
    from hybridmcp_app.config.settings_store import SettingsStore
    from hybridmcp_app.llm.embedded_model import embedded_model_path
    from hybridmcp_app.services.app_services import build_services
    from hybridmcp_app.services.app_startup import start_mcp_host
    from hybridmcp_app.ui.main_window import MainWindow
    from hybridmcp_app.ui.qt_about_dialog import QtAboutDialog
    from hybridmcp_app.ui.qt_event_loop import create_event_loop
    from hybridmcp_app.ui.settings.qt_settings_dialog import PAGE_INDEX
    from hybridmcp_app.ui.theme import apply_theme

    app = QApplication([])
    apply_theme(app, args.theme)
    loop = create_event_loop(app)
    from tests.helpers.llama_server import llama_server
    from tests.helpers.memory_keyring import MemoryKeyring
    from tests.helpers.waiting import wait_until

    paths = AppPaths.from_environment()
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
    context = build_services(paths, loop, verbose=False, secrets=secrets)
    window = MainWindow(context)
    window.resize(1280, 860)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)

    def settle() -> None:
        for _ in range(5):
            app.processEvents()

    settle()
    if args.only != "all":
        window.resize(1100, 640) if args.only == "models" else window.resize(1280, 800)
        scenes = model_scenes if args.only == "models" else tool_scenes
        scenes(window, loop, args.out, args.theme, settle)
        shut_down(context, loop)
        loop.close()
        print(f"screenshots in {args.out}")
        return
    window.grab().save(str(args.out / f"main-{args.theme}.png"))

    async def chat() -> None:
        await context.local_model.load(context.settings.llm.local)
        view = window.chat_view
        view.select_strategy("local")
        view.prompt.setPlainText(
            "Q: What is the capital of France?\nA: Paris\nQ: What is the capital of Japan?\nA:"
        )
        answer = view.send()
        assert answer is not None
        await answer

    loop.run_until_complete(chat())
    settle()
    window.grab().save(str(args.out / f"chat-{args.theme}.png"))
    window.log_action.trigger()
    import logging

    logging.getLogger("hybridmcp.demo").warning("Example warning shown in the log panel")
    settle()
    window.grab().save(str(args.out / f"main-log-{args.theme}.png"))
    dialog = window.open_settings()
    dialog.sections.setCurrentRow(1)
    settle()
    dialog.grab().save(str(args.out / f"settings-{args.theme}.png"))
    assert dialog.providers_page is not None
    dialog.sections.setCurrentRow(2)
    dialog.providers_page.preset.setCurrentIndex(dialog.providers_page.preset.findData("openai"))
    dialog.providers_page.add_from_preset()
    settle()
    dialog.grab().save(str(args.out / f"providers-{args.theme}.png"))
    # A provider whose address moved: its stored key is asked for again, and why is said.
    page = dialog.providers_page
    secrets.set("OPENAI_API_KEY", "sk-demo", origin="https://api.openai.com:443")
    page._select(page.list.currentRow())
    page.base_url.setText("http://192.168.1.20:8080/v1")
    page.base_url.editingFinished.emit()
    settle()
    dialog.grab().save(str(args.out / f"providers-moved-{args.theme}.png"))
    dialog.mounts.load([
        {"name": "aws", "url": "s3://reports/2026", "options": {"endpoint_url":
         "http://127.0.0.1:9000"}, "credentials": {"key": "aws-key-id", "secret": "aws-secret"}},
        {"name": "files", "url": (Path.home() / "Documents").as_uri(), "options": {},
         "credentials": {}},
    ])  # fmt: skip
    dialog.sections.setCurrentRow(PAGE_INDEX["Storage"])
    settle()
    dialog.grab().save(str(args.out / f"settings-storage-{args.theme}.png"))

    async def first_run() -> None:
        wizard = await window.open_first_run()
        for page in ("welcome", "model", "provider", "folders", "servers", "summary"):
            if page == "model":
                scan = wizard.model_page.picker.scan_button
                await wait_until(scan.isEnabled, timeout_s=30)
            if page == "provider":
                providers = wizard.provider_page.providers
                providers.preset.setCurrentIndex(providers.preset.findData("openai"))
                providers.add_from_preset()
            if page == "folders":
                wizard.folders_page.add_folder(Path.home() / "Documents")
            settle()
            wizard.grab().save(str(args.out / f"first-run-{page}-{args.theme}.png"))
            wizard.next()
        wizard.reject()

    loop.run_until_complete(first_run())
    window.show_shortcuts()
    settle()
    from hybridmcp_app.ui.qt_shortcuts_dialog import QtShortcutsDialog

    shortcuts = window.findChild(QtShortcutsDialog)
    assert shortcuts is not None
    shortcuts.grab().save(str(args.out / f"shortcuts-{args.theme}.png"))
    shortcuts.close()
    about = QtAboutDialog(window)
    about.show()
    settle()
    about.grab().save(str(args.out / f"about-{args.theme}.png"))
    about.close()
    dialog.close()
    window.log_action.trigger()  # hide the log panel again
    server_model = embedded_model_path(paths.cache_dir)
    with llama_server(server_model, api_key="shots") as server:
        keyring.set_password("HybridMCP", "LAB_KEY", server.api_key)
        provider = {"name": "llama.cpp server", "base_url": server.base_url,
                    "default_model": "gemma-3-270m", "api_key_secret": "LAB_KEY"}  # fmt: skip
        settings = context.settings.model_dump()
        settings["providers"] = {"items": [provider], "active": "llama.cpp server"}
        settings["llm"]["local"]["inference"]["parameters"].update(
            {"temperature": 0.0, "max_tokens": 160, "repeat_penalty": 1.15}
        )
        context.settings = Settings.model_validate(settings)
        SettingsStore(paths).save(context.settings)
        window.tabs.setCurrentIndex(0)

        async def side_by_side() -> None:
            view = window.chat_view
            view.new_chat()
            view.continue_text.setChecked(False)
            for strategy, prompt in (
                ("route", "Give me one tip for writing clear Python."),
                ("parallel", "Write a Python function that reverses a string, then explain it."),
            ):
                view.select_strategy(strategy)
                view.prompt.setPlainText(prompt)
                answer = view.send()
                assert answer is not None
                await answer

        loop.run_until_complete(side_by_side())
        settle()
        window.grab().save(str(args.out / f"side-by-side-{args.theme}.png"))
    mcp_servers = {
        "helper": {"command": sys.executable, "args": ["-m", "tests.helpers.mcp_test_server"],
                   "cwd": str(Path(__file__).resolve().parents[1])},
        "crashy": {"command": sys.executable, "cwd": str(Path(__file__).resolve().parents[1]),
                   "args": ["-m", "tests.helpers.mcp_test_server", "--exit-at-start"]},
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${secret:GITHUB_TOKEN}"}},
    }  # fmt: skip
    from hybridmcp_app.documents.app_library_source import AppLibrarySource
    from hybridmcp_app.mcp_host.builtin_servers import builtin_entries

    mcp_servers |= builtin_entries()
    paths.mcp_config_file.write_text(json.dumps({"mcpServers": mcp_servers}))
    window.tabs.setCurrentWidget(window.mcp_view)
    library_source = AppLibrarySource()

    async def mcp_tab() -> None:
        host = await start_mcp_host(context, window.mcp_host_ready, library_source)
        await wait_until(lambda: host.supervisors["crashy"].status.state.value == "failed")
        window.mcp_view.list.setCurrentRow(1)
        await asyncio.sleep(0.5)

    loop.run_until_complete(mcp_tab())
    settle()
    window.grab().save(str(args.out / f"mcp-servers-{args.theme}.png"))

    from hybridmcp_app.services.app_startup import start_library
    from tests.helpers.chroma_corpus import write_corpus
    from tests.helpers.documents_corpus import write_garbage, write_pdf

    corpus = paths.data_dir.parent / "documents"
    write_corpus(corpus, files=8)
    write_pdf(corpus / "handbook.pdf", pages=6, lines=8, title="Handbook")
    write_garbage(corpus / "broken.pdf")
    window.tabs.setCurrentWidget(window.library_view)

    async def library_tab() -> None:
        library = await start_library(context, window.library_ready)
        assert library is not None and context.watcher is not None
        library_source.opened(library, None)
        await context.watcher.watch(corpus)
        await window.library_view.refresh()
        window.library_view.files.table.selectRow(1)
        window.library_view.search("launch code of the lighthouse keeper")
        await asyncio.sleep(2.0)

    loop.run_until_complete(library_tab())
    settle()
    window.grab().save(str(args.out / f"library-{args.theme}.png"))

    window.tabs.setCurrentWidget(window.mcp_view)
    names = sorted(window.mcp_view._rows)
    window.mcp_view.list.setCurrentRow(names.index("documents"))
    window.mcp_view.details_tabs.setCurrentWidget(window.mcp_view.elsewhere)
    settle()
    window.grab().save(str(args.out / f"mcp-documents-{args.theme}.png"))

    soup = window.turtle_soup_view
    window.tabs.setCurrentWidget(soup)

    async def turtle_soup() -> None:
        await soup.set_host("embedding")  # offline, instant; the model hosts are benchmarked
        await soup.start(puzzle_id="the-dry-umbrella")
        for question in ("Was she wearing a hat?", "Does she have no hair at all?",
                         "Is the stock market open on Sundays?"):  # fmt: skip
            soup.page.question.setText(question)
            task = soup.ask()
            assert task is not None
            await task
        hint = soup.hint()
        assert hint is not None
        await hint

    loop.run_until_complete(turtle_soup())
    settle()
    window.grab().save(str(args.out / f"turtle-soup-{args.theme}.png"))
    shut_down(context, loop)
    loop.close()
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
