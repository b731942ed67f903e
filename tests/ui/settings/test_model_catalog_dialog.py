"""Settings → Local model → Get models…: the catalogue, the hub's files and downloads, against a
real hub served on 127.0.0.1 (tests/helpers/hub_server.py) and a real model that loads."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.llm.embedded_models import smollm2_path
from hybridmcp_app.llm.local_model_service import LocalModelState
from hybridmcp_app.llm.model_hub.download import download_file
from hybridmcp_app.llm.model_hub.hub_client import HubClient
from hybridmcp_app.llm.model_hub.jobs import DownloadJob, JobState
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.settings.qt_model_catalog_dialog import QtModelCatalogDialog
from hybridmcp_app.ui.settings.qt_model_picker import QtModelPicker
from tests.helpers.gguf_files import write_tiny_gguf
from tests.helpers.hub_server import HubServer, ServedFile, ServedRepo, hub_server
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S, wait_until

QWEN = "unsloth/Qwen3-0.6B-GGUF"  # the catalogue's first model
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"
BIG = "tiny-Q5_K_M.gguf"
GIB = 1024**3


def _padded_gguf(path: Path, size: int) -> Path:
    write_tiny_gguf(path, name="Padded")
    with path.open("ab") as handle:
        handle.write(os.urandom(size - path.stat().st_size))
    return path


@pytest.fixture
def hub(tmp_path: Path, model_cache: Path) -> Iterator[HubServer]:
    files = tmp_path / "served"
    files.mkdir()
    with hub_server() as served:
        served.add(ServedRepo(QWEN, {
            "Qwen3-0.6B-Q2_K.gguf": ServedFile(write_tiny_gguf(files / "q2.gguf")),
            "Qwen3-0.6B-Q8_0.gguf": ServedFile(write_tiny_gguf(files / "q8.gguf")),
            "Qwen3-0.6B-Q4_K_M.gguf": ServedFile(write_tiny_gguf(files / "q4.gguf")),
            "mmproj-Qwen3-0.6B-F16.gguf": ServedFile(write_tiny_gguf(files / "mm.gguf")),
            BIG: ServedFile(_padded_gguf(files / "big.gguf", 8 * 1024 * 1024)),
        }))  # fmt: skip
        served.add(ServedRepo(SMOL, {SMOL_FILE: ServedFile(smollm2_path(model_cache))}))
        served.add(ServedRepo("google/gated-GGUF", {
            "gated-Q4_K_M.gguf": ServedFile(write_tiny_gguf(files / "gated.gguf")),
        }, gated=True))  # fmt: skip
        yield served


@pytest.fixture
def make_dialog(
    qtbot: QtBot, qt_loop: qasync.QEventLoop, app_paths: object, tmp_path: Path
) -> Iterator[Callable[..., QtModelCatalogDialog]]:
    tasks = BackgroundTasks(qt_loop)

    def factory(endpoint: str, **options: object) -> QtModelCatalogDialog:
        secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
        dialog = QtModelCatalogDialog(tmp_path / "models", tasks, secrets, endpoint=endpoint,
                                      total_ram=4 * GIB, **options)  # type: ignore[arg-type]  # fmt: skip
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    yield factory
    qt_loop.run_until_complete(tasks.shutdown(PATIENCE_S))


def _pick(dialog: QtModelCatalogDialog, loop: qasync.QEventLoop, repo_id: str) -> None:
    """Select ``repo_id`` in the table and wait for its files (or an error) to show."""
    row = [repo for repo, _ in dialog.table.repos].index(repo_id)
    dialog.table.selectRow(row)
    loop.run_until_complete(wait_until(lambda: not dialog.files.busy.isVisibleTo(dialog)))


def _search(dialog: QtModelCatalogDialog, loop: qasync.QEventLoop, words: str) -> None:
    dialog.hub_search.setText(words)
    loop.run_until_complete(dialog.search_hub())


def _job(dialog: QtModelCatalogDialog, filename: str) -> DownloadJob:
    return next(job for job in dialog.jobs.values() if job.file.filename == filename)


def _held_download(
    dialog: QtModelCatalogDialog, loop: qasync.QEventLoop, served: ServedFile
) -> asyncio.Task[object]:
    """Download ``BIG`` from the Qwen repo and return once the hub holds it at ``hold_at``."""
    _pick(dialog, loop, QWEN)
    dialog.files.table.selectRow([f.filename for f in dialog.files.files].index(BIG))
    task = dialog.download()
    assert task is not None
    loop.run_until_complete(asyncio.to_thread(served.held.wait, PATIENCE_S))
    return task


def test_the_catalogue_lists_its_models_marked_against_this_computers_memory_and_filters(
    hub: HubServer, make_dialog: Callable[..., QtModelCatalogDialog]
) -> None:
    dialog = make_dialog(hub.endpoint)  # 4 GiB of RAM
    rows = {cells[0]: cells for cells in dialog.table.row_texts()}
    assert rows["Qwen3 0.6B"][1:5] == ["Qwen3", "0.6 B", "Apache-2.0", "32,768"]
    assert rows["Qwen3 0.6B"][5] == "1 GB · fits"
    assert rows["Llama 3.2 3B Instruct"][5] == "3.5 GB · tight"
    assert rows["Gemma 3 12B it"][5] == "10 GB · too big"
    assert rows["Gemma 3 4B it"][6:] == ["yes", "", "yes"]  # chat, no tools, vision
    dialog.filter.setText("gemma")
    shown = [cells[0] for row, cells in enumerate(dialog.table.row_texts())
             if not dialog.table.isRowHidden(row)]  # fmt: skip
    assert shown == ["Gemma 3 1B it", "Gemma 3 4B it", "Gemma 3 12B it"]


def test_picking_a_model_lists_its_gguf_files_live_with_the_preferred_quantisations_first(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
) -> None:
    dialog = make_dialog(hub.endpoint)
    _pick(dialog, qt_loop, QWEN)
    names = [file.filename for file in dialog.files.files]
    assert names[:2] == ["Qwen3-0.6B-Q4_K_M.gguf", "Qwen3-0.6B-Q8_0.gguf"]  # the catalogue's order
    assert names[2:] == ["Qwen3-0.6B-Q2_K.gguf", BIG]  # then by size; no vision projector
    sizes = [item.text() if (item := dialog.files.table.item(row, 2)) else "" for row in range(4)]
    assert sizes == ["0 KB", "0 KB", "0 KB", "8.4 MB"]  # the hub's sizes: tiny test files, and
    assert hub.repos[QWEN].files[BIG].size == 8 * 1024 * 1024  # one of 8 MiB
    assert "5 GGUF" not in dialog.files.status.text()
    assert "4 GGUF file(s) at commit 01234567" in dialog.files.status.text()


def test_an_unreachable_hub_is_reported_in_one_line_in_the_files_pane(
    make_dialog: Callable[..., QtModelCatalogDialog], qt_loop: qasync.QEventLoop
) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog = make_dialog(f"http://127.0.0.1:{port}")
    _pick(dialog, qt_loop, QWEN)
    text = dialog.files.status.text()
    assert text.startswith(f"could not reach the hub for {QWEN}: ")
    assert "\n" not in text
    assert dialog.files.files == [] and not dialog.files.download_button.isEnabled()


def test_a_download_can_be_paused_and_resumed_where_it_stopped(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
) -> None:
    served = hub.repos[QWEN].files[BIG]
    served.hold_at = half = served.size // 2
    dialog = make_dialog(hub.endpoint)
    task = _held_download(dialog, qt_loop, served)  # sent half
    job = _job(dialog, BIG)
    row = dialog.rows[job.path]
    qt_loop.run_until_complete(wait_until(lambda: job.progress.done_bytes > 0))
    assert 0 < row.bar.value() <= 500 and "MB/s" in row.detail.text()
    row.pause_button.click()
    served.release.set()
    qt_loop.run_until_complete(task)
    assert job.state is JobState.PAUSED and row.pause_button.text() == "Resume"
    assert row.detail.text().startswith("paused · ")
    kept = job.path.with_name(BIG + ".part").stat().st_size
    assert 0 < kept <= half and not job.path.exists()
    row.pause_button.click()  # Resume
    qt_loop.run_until_complete(wait_until(lambda: job.state is JobState.DONE))
    assert job.path.read_bytes() == served.path.read_bytes()
    assert hub.file_requests(BIG)[-1]["range"] == f"bytes={kept}-"
    assert row.use_button.isVisible() and row.bar.value() == 1000


def test_a_download_that_stops_receiving_says_it_waits_instead_of_a_stale_time_left(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
) -> None:
    served = hub.repos[QWEN].files[BIG]
    served.hold_at = served.size // 2
    dialog = make_dialog(hub.endpoint)
    task = _held_download(dialog, qt_loop, served)
    row = dialog.rows[_job(dialog, BIG).path]
    qt_loop.run_until_complete(wait_until(lambda: "waiting for the hub" in row.detail.text()))
    assert "left" not in row.detail.text() and row.pause_button.text() == "Pause"
    served.release.set()
    qt_loop.run_until_complete(task)
    assert row.detail.text().startswith("downloaded and verified")


def test_a_download_cut_off_before_a_restart_is_listed_and_resumes(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
) -> None:
    served = hub.repos[QWEN].files[BIG]
    served.drop_after, served.drops_left = served.size // 3, 1
    client = HubClient(hub.endpoint)
    file = next(f for f in client._gguf_files(QWEN, None).files if f.filename == BIG)
    with pytest.raises(Exception, match="try again to resume"):
        download_file(client, file, tmp_path / "models", retries=0)
    dialog = make_dialog(hub.endpoint)  # as after a restart
    job = _job(dialog, BIG)
    row = dialog.rows[job.path]
    assert job.state is JobState.PAUSED and job.progress.done_bytes == served.size // 3
    assert row.detail.text().startswith("paused · 2.8 MB of 8.4 MB")
    row.pause_button.click()  # Resume
    qt_loop.run_until_complete(wait_until(lambda: job.state is JobState.DONE))
    assert job.path.read_bytes() == served.path.read_bytes()
    assert hub.file_requests(BIG)[-1]["range"] == f"bytes={served.size // 3}-"


def test_cancelling_a_paused_download_removes_what_it_had_downloaded(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
) -> None:
    served = hub.repos[QWEN].files[BIG]
    served.drop_after, served.drops_left = served.size // 2, 1
    client = HubClient(hub.endpoint)
    file = next(f for f in client._gguf_files(QWEN, None).files if f.filename == BIG)
    with pytest.raises(Exception, match="try again to resume"):
        download_file(client, file, tmp_path / "models", retries=0)
    dialog = make_dialog(hub.endpoint)
    job = _job(dialog, BIG)
    dialog.rows[job.path].cancel_button.click()
    qt_loop.run_until_complete(wait_until(lambda: job.state is JobState.CANCELLED))
    assert list(job.path.parent.iterdir()) == []
    assert not dialog.rows[job.path].pause_button.isVisibleTo(dialog)


def test_a_gated_repo_says_to_save_a_token_and_downloads_once_one_is_saved(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
) -> None:
    hub.tokens.add("hf_good")
    dialog = make_dialog(hub.endpoint)
    _search(dialog, qt_loop, "gated")
    assert dialog.table.row_texts()[0][:2] == ["google/gated-GGUF", "Hugging Face (gated)"]
    _pick(dialog, qt_loop, "google/gated-GGUF")
    assert "gated: a Hugging Face token with access is needed" in dialog.files.status.text()
    task = dialog.download()
    assert task is not None
    qt_loop.run_until_complete(task)
    message = dialog.message.text()
    assert "google/gated-GGUF is gated: accept its terms" in message
    assert "save a Hugging Face token in Settings → Local model → Get models…" in message
    assert "\n" not in message
    dialog.token.setText("hf_good")
    dialog.save_token_button.click()
    assert dialog.token.text() == "" and "Token saved" in dialog.message.text()
    task = dialog.download()
    assert task is not None
    assert qt_loop.run_until_complete(task) is not None
    assert hub.file_requests("gated-Q4_K_M.gguf")[-1]["authorization"] == "Bearer hf_good"


def test_a_download_found_on_the_hub_appears_in_the_picker_and_loads_in_one_click(
    hub: HubServer,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    window = make_window()
    settings = window.open_settings()
    picker = settings.model_picker
    assert isinstance(picker, QtModelPicker)
    picker.get_models_button.click()
    dialog = picker.findChild(QtModelCatalogDialog)
    assert isinstance(dialog, QtModelCatalogDialog) and dialog.endpoint == hub.endpoint
    _search(dialog, qt_loop, "SmolLM2-135M")
    _pick(dialog, qt_loop, SMOL)
    dialog.files.table.setFocus()
    qtbot.keyClick(dialog.files.table, Qt.Key.Key_Return)  # Enter downloads the selected file
    job = _job(dialog, SMOL_FILE)
    qt_loop.run_until_complete(wait_until(lambda: job.state is JobState.DONE))
    qt_loop.run_until_complete(wait_until(
        lambda: SMOL_FILE.removesuffix(".gguf") in [picker.table.item(r, 0).text()  # type: ignore[union-attr]
                                                    for r in range(picker.table.rowCount())]
    ))  # fmt: skip
    dialog.rows[job.path].use_button.click()
    service = window.context.local_model
    qt_loop.run_until_complete(
        wait_until(lambda: service.status.state is LocalModelState.READY, PATIENCE_S)
    )
    assert window.context.settings.llm.local.model_path == job.path
    assert service.backend is not None and service.backend.capabilities.has_chat_template


def test_closing_the_dialog_pauses_a_running_download(
    hub: HubServer,
    make_dialog: Callable[..., QtModelCatalogDialog],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    served = hub.repos[QWEN].files[BIG]
    served.hold_at = served.size // 4
    dialog = make_dialog(hub.endpoint)
    task = _held_download(dialog, qt_loop, served)
    qt_loop.run_until_complete(wait_until(lambda: _job(dialog, BIG).progress.done_bytes > 0))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    served.release.set()
    qt_loop.run_until_complete(task)
    assert _job(dialog, BIG).state is JobState.PAUSED
    kept = _job(dialog, BIG).path.with_name(BIG + ".part").stat().st_size
    assert 0 < kept <= served.size // 4
