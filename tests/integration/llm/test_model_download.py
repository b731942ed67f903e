"""Searching the hub and downloading GGUF files from a real hub server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.config.secrets import KeychainStatus, SecretStore, origin_of
from hybridmcp_app.llm.gguf_metadata import read_model_context
from hybridmcp_app.llm.model_hub.download import (
    DownloadCancelled,
    DownloadProgress,
    ModelDownloader,
    ModelDownloadError,
    PartialDownload,
    download_file,
    partial_downloads,
)
from hybridmcp_app.llm.model_hub.hub_client import (
    HF_TOKEN_SECRET,
    HubClient,
    HubFile,
    ModelHubError,
    hub_token,
)
from hybridmcp_app.llm.model_hub.jobs import DownloadJob, JobState, describe_progress
from hybridmcp_app.llm.model_scanner import known_model_folders, scan_for_models
from tests.helpers.gguf_files import write_tiny_gguf
from tests.helpers.hub_server import HubServer, ServedFile, ServedRepo, hub_server
from tests.helpers.memory_keyring import MemoryKeyring

REPO = "ggml-org/tiny-chat-GGUF"
NAME = "tiny-chat-Q4_K_M.gguf"


def _gguf_of_size(path: Path, size: int) -> Path:
    """A real GGUF header followed by padding up to ``size`` bytes (so it streams in chunks)."""
    write_tiny_gguf(path, name="Tiny Chat")
    with path.open("ab") as handle:
        handle.write(os.urandom(size - path.stat().st_size))
    return path


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    files = tmp_path / "served"
    files.mkdir()
    with hub_server() as served:
        served.add(ServedRepo(REPO, {
            NAME: ServedFile(_gguf_of_size(files / NAME, 4 * 1024 * 1024)),
            "tiny-chat-Q8_0.gguf": ServedFile(write_tiny_gguf(files / "q8.gguf")),
            "README.md": ServedFile(files / NAME),
        }, downloads=10))  # fmt: skip
        served.add(ServedRepo("someone/not-a-gguf", {}, tags=["safetensors"]))
        yield served


def _models(tmp_path: Path) -> Path:
    return tmp_path / "data" / "models"


async def _file(client: HubClient, name: str = NAME, repo: str = REPO) -> HubFile:
    listing = await client.gguf_files(repo)
    return next(f for f in listing.files if f.filename == name)


def _offered(tmp_path: Path) -> list[str]:
    """What the model picker would offer from the app's models folder."""
    folders = known_model_folders(tmp_path / "home", _models(tmp_path))[:1]
    return [found.path.name for found in scan_for_models(folders, None)]


async def test_search_finds_gguf_repos_by_name_and_leaves_others_out(hub: HubServer) -> None:
    client = HubClient(hub.endpoint)
    assert [r.repo_id for r in await client.search("tiny")] == [REPO]
    assert await client.search("not-a-gguf") == []
    with pytest.raises(ModelHubError, match="type a few letters"):
        await client.search("  ")


async def test_model_info_lists_the_gguf_files_with_the_hubs_sizes_and_hashes(
    hub: HubServer,
) -> None:
    listing = await HubClient(hub.endpoint).gguf_files(REPO)
    served = hub.repos[REPO]
    assert listing.commit == served.commit
    assert {f.filename for f in listing.files} == {NAME, "tiny-chat-Q8_0.gguf"}
    for file in listing.files:
        assert file.size == served.files[file.filename].size
        assert file.sha256 == served.files[file.filename].sha256
    assert {f.quantization for f in listing.files} == {"Q4_K_M", "Q8_0"}


async def test_an_unknown_repo_is_reported_in_one_line(hub: HubServer) -> None:
    with pytest.raises(ModelHubError, match="the hub has no model nobody/nothing") as caught:
        await HubClient(hub.endpoint).gguf_files("nobody/nothing")
    assert "\n" not in str(caught.value)


async def test_a_download_reports_progress_and_offers_only_the_verified_file(
    hub: HubServer, tmp_path: Path
) -> None:
    client = HubClient(hub.endpoint)
    seen: list[DownloadProgress] = []
    path = await ModelDownloader(client, _models(tmp_path)).download(
        await _file(client), seen.append
    )
    assert path == _models(tmp_path) / "ggml-org" / "tiny-chat-GGUF" / NAME
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.repos[REPO].files[NAME].sha256
    assert read_model_context(path).identification.name == "Tiny Chat"
    assert seen and seen[-1].done_bytes == seen[-1].total_bytes == path.stat().st_size
    assert sorted(p.name for p in path.parent.iterdir()) == [NAME]  # no .part left behind
    assert _offered(tmp_path) == [NAME]


async def test_a_dropped_connection_is_resumed_with_a_range_request(
    hub: HubServer, tmp_path: Path
) -> None:
    served = hub.repos[REPO].files[NAME]
    served.drop_after, served.drops_left = served.size // 2, 1
    client = HubClient(hub.endpoint)
    path = await ModelDownloader(client, _models(tmp_path)).download(await _file(client))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == served.sha256
    assert [r["range"] for r in hub.file_requests(NAME)] == [None, f"bytes={served.size // 2}-"]


async def test_a_download_cut_off_resumes_where_it_stopped_after_a_restart(
    hub: HubServer, tmp_path: Path
) -> None:
    served = hub.repos[REPO].files[NAME]
    served.drop_after, served.drops_left = served.size // 2, 1
    client = HubClient(hub.endpoint)
    file = await _file(client)
    with pytest.raises(ModelDownloadError, match=r"stopped at 2\.1 MB of 4\.2 MB") as caught:
        await asyncio.to_thread(download_file, client, file, _models(tmp_path), retries=0)
    assert "\n" not in str(caught.value)
    assert _offered(tmp_path) == []  # the half-written part is never offered
    # a new client and downloader, as after the app restarted
    again = HubClient(hub.endpoint)
    path = await ModelDownloader(again, _models(tmp_path)).download(file)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == served.sha256
    assert hub.file_requests(NAME)[-1]["range"] == f"bytes={served.size // 2}-"


async def test_a_paused_download_keeps_its_part_and_resumes_later(
    hub: HubServer, tmp_path: Path
) -> None:
    client = HubClient(hub.endpoint)
    file = await _file(client)
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled, match="paused"):
        await asyncio.to_thread(download_file, client, file, _models(tmp_path),
                                on_progress=lambda _: cancel.set(), cancel=cancel)  # fmt: skip
    folder = _models(tmp_path) / "ggml-org" / "tiny-chat-GGUF"
    kept = (folder / f"{NAME}.part").stat().st_size
    assert 0 < kept < file.size
    assert _offered(tmp_path) == []
    path = await ModelDownloader(client, _models(tmp_path)).download(file)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
    assert hub.file_requests(NAME)[-1]["range"] == f"bytes={kept}-"


async def test_wrong_bytes_are_refused_and_removed(hub: HubServer, tmp_path: Path) -> None:
    hub.repos[REPO].files[NAME].wrong_bytes = True
    client = HubClient(hub.endpoint)
    with pytest.raises(ModelDownloadError, match="arrived corrupt") as caught:
        await ModelDownloader(client, _models(tmp_path)).download(await _file(client))
    assert "\n" not in str(caught.value)
    folder = _models(tmp_path) / "ggml-org" / "tiny-chat-GGUF"
    assert list(folder.iterdir()) == []
    assert _offered(tmp_path) == []


async def test_a_file_bigger_than_the_free_space_is_refused_before_anything_is_written(
    hub: HubServer, tmp_path: Path
) -> None:
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    hub.repos[REPO].files[NAME].claimed_size = free + 1024**3
    client = HubClient(hub.endpoint)
    with pytest.raises(ModelDownloadError, match="not enough free disk space"):
        await ModelDownloader(client, _models(tmp_path)).download(await _file(client))
    assert hub.file_requests(NAME) == []
    folder = _models(tmp_path) / "ggml-org" / "tiny-chat-GGUF"
    assert not list(folder.glob("*.gguf*"))


def _gated(hub: HubServer, tmp_path: Path) -> str:
    served = hub.add(ServedRepo("google/gated-GGUF", {
        "gated-Q4_K_M.gguf": ServedFile(write_tiny_gguf(tmp_path / "gated.gguf")),
    }, gated=True))  # fmt: skip
    return served.repo_id


async def test_a_gated_repo_without_a_token_says_to_save_one(
    hub: HubServer, tmp_path: Path
) -> None:
    repo = _gated(hub, tmp_path)
    client = HubClient(hub.endpoint)
    file = await _file(client, "gated-Q4_K_M.gguf", repo)
    with pytest.raises(ModelDownloadError, match=r"is gated: .* save a Hugging Face token"):
        await ModelDownloader(client, _models(tmp_path)).download(file)
    assert hub.file_requests("gated-Q4_K_M.gguf")[-1]["authorization"] is None
    assert _offered(tmp_path) == []


async def test_a_gated_repo_downloads_with_the_token_from_the_keychain(
    hub: HubServer, tmp_path: Path
) -> None:
    repo = _gated(hub, tmp_path)
    hub.tokens.add("hf_good")
    store = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    store.set(HF_TOKEN_SECRET, "hf_good", origin=origin_of(hub.endpoint))
    client = HubClient(hub.endpoint, hub_token(store, hub.endpoint))
    file = await _file(client, "gated-Q4_K_M.gguf", repo)
    path = await ModelDownloader(client, _models(tmp_path)).download(file)
    assert path.is_file()
    assert hub.file_requests("gated-Q4_K_M.gguf")[-1]["authorization"] == "Bearer hf_good"


async def test_a_token_without_access_to_a_gated_repo_says_so(
    hub: HubServer, tmp_path: Path
) -> None:
    repo = _gated(hub, tmp_path)
    store = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    store.set(HF_TOKEN_SECRET, "hf_other", origin=origin_of(hub.endpoint))
    client = HubClient(hub.endpoint, hub_token(store, hub.endpoint))
    file = await _file(client, "gated-Q4_K_M.gguf", repo)
    with pytest.raises(ModelDownloadError, match="token has no access"):
        await ModelDownloader(client, _models(tmp_path)).download(file)


def test_a_token_saved_for_another_hub_is_not_sent_to_this_one(hub: HubServer) -> None:
    store = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    store.set(HF_TOKEN_SECRET, "hf_good", origin="https://huggingface.co:443")
    assert hub_token(store, hub.endpoint) is None


async def test_a_models_folder_reached_through_a_link_is_refused(
    hub: HubServer, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _models(tmp_path).mkdir(parents=True)
    (_models(tmp_path) / "ggml-org").symlink_to(elsewhere)
    client = HubClient(hub.endpoint)
    with pytest.raises(ModelDownloadError, match="not a plain folder"):
        await ModelDownloader(client, _models(tmp_path)).download(await _file(client))
    assert list(elsewhere.iterdir()) == []


async def test_the_embedded_model_downloads_from_the_hub_and_reads_as_gguf(
    tmp_path: Path, embedded_model: Path
) -> None:
    with hub_server() as hub:
        hub.add(ServedRepo("google/gemma-3-270m-GGUF", {
            "gemma-3-270m-Q4_K_M.gguf": ServedFile(embedded_model),
        }))  # fmt: skip
        client = HubClient(hub.endpoint)
        file = await _file(client, "gemma-3-270m-Q4_K_M.gguf", "google/gemma-3-270m-GGUF")
        path = await ModelDownloader(client, _models(tmp_path)).download(file)
    assert file.size == path.stat().st_size == embedded_model.stat().st_size  # noqa: ASYNC240
    assert read_model_context(path).identification.architecture == "gemma3"
    assert _offered(tmp_path) == ["gemma-3-270m-Q4_K_M.gguf"]


async def test_an_unfinished_download_is_listed_after_a_restart_and_cancelling_removes_it(
    hub: HubServer, tmp_path: Path
) -> None:
    served = hub.repos[REPO].files[NAME]
    served.drop_after, served.drops_left = served.size // 4, 1
    client = HubClient(hub.endpoint)
    file = await _file(client)
    with pytest.raises(ModelDownloadError, match="try again to resume"):
        await asyncio.to_thread(download_file, client, file, _models(tmp_path), retries=0)
    damaged = _models(tmp_path) / "ggml-org" / "tiny-chat-GGUF" / "old.gguf.part.json"
    damaged.write_text('{"repo_id": "ggml-org/tiny-chat-GGUF"}')  # an older state: not offered
    assert partial_downloads(_models(tmp_path)) == [
        PartialDownload(file=file, done_bytes=served.size // 4)
    ]
    job = DownloadJob(file, _models(tmp_path), served.size // 4)
    await job.cancel()
    assert job.state is JobState.CANCELLED and job.progress.done_bytes == 0
    assert partial_downloads(_models(tmp_path)) == []
    assert sorted(p.name for p in damaged.parent.iterdir()) == ["old.gguf.part.json"]


async def test_a_job_reports_progress_on_the_event_loop_and_ends_with_the_verified_file(
    hub: HubServer, tmp_path: Path
) -> None:
    client = HubClient(hub.endpoint)
    job = DownloadJob(await _file(client), _models(tmp_path))
    loop_thread = threading.get_ident()
    seen: list[tuple[JobState, int, int]] = []
    job.subscribe(lambda j: seen.append((j.state, j.progress.done_bytes, threading.get_ident())))
    path = await job.run(client)
    assert path == job.path and job.state is JobState.DONE and job.fraction == 1.0
    assert seen[0][0] is JobState.RUNNING and seen[-1][:2] == (JobState.DONE, job.file.size)
    assert {thread for _, _, thread in seen} == {loop_thread}
    assert "MB of 4.2 MB" in describe_progress(job.progress)
