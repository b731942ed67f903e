"""Each hub gets its own Hugging Face token and no other: two real hubs on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.config.secrets import KeychainStatus, SecretStore, origin_of
from hybridmcp_app.llm.model_hub.hub_client import (
    HF_TOKEN_SECRET,
    HubClient,
    ModelHubError,
    hub_endpoint,
    hub_token,
    hub_token_name,
    save_hub_token,
)
from hybridmcp_app.llm.model_hub.jobs import DownloadJob, JobState
from tests.helpers.gguf_files import write_tiny_gguf
from tests.helpers.hub_server import HubServer, ServedFile, ServedRepo, hub_server
from tests.helpers.memory_keyring import MemoryKeyring

REPO = "ggml-org/tiny-GGUF"
NAME = "tiny-Q4_K_M.gguf"


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[tuple[HubServer, HubServer]]:
    served = write_tiny_gguf(tmp_path / "tiny.gguf")
    with hub_server() as first, hub_server() as second:
        for hub in (first, second):
            hub.add(ServedRepo(REPO, {NAME: ServedFile(served)}))
        yield first, second


def _store() -> SecretStore:
    return SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))


async def _search_list_and_download(hub: HubServer, store: SecretStore, models: Path) -> None:
    client = HubClient(hub.endpoint, hub_token(store, hub.endpoint))
    assert [repo.repo_id for repo in await client.search("tiny")] == [REPO]
    listing = await client.gguf_files(REPO)
    job = DownloadJob(listing.files[0], models)
    await job.run(client)
    assert job.state is JobState.DONE, job.error


async def test_a_token_saved_for_one_hub_is_never_sent_to_another_on_another_port(
    hubs: tuple[HubServer, HubServer], tmp_path: Path
) -> None:
    first, second = hubs
    assert origin_of(first.endpoint) != origin_of(second.endpoint)  # same host, other port
    store = _store()
    save_hub_token(store, first.endpoint, "hf_first")
    await _search_list_and_download(first, store, tmp_path / "a")
    await _search_list_and_download(second, store, tmp_path / "b")
    assert {r["authorization"] for r in first.requests} == {"Bearer hf_first"}
    assert {r["authorization"] for r in second.requests} == {None}
    assert {r["method"] for r in second.requests} >= {"GET"} and len(second.requests) >= 3


async def test_each_hub_keeps_its_own_token_side_by_side(
    hubs: tuple[HubServer, HubServer], tmp_path: Path
) -> None:
    first, second = hubs
    store = _store()
    save_hub_token(store, first.endpoint, "hf_first")
    save_hub_token(store, second.endpoint, "hf_second")  # does not replace the first one's
    await _search_list_and_download(first, store, tmp_path / "a")
    await _search_list_and_download(second, store, tmp_path / "b")
    assert {r["authorization"] for r in first.requests} == {"Bearer hf_first"}
    assert {r["authorization"] for r in second.requests} == {"Bearer hf_second"}
    assert hub_token_name(first.endpoint) != hub_token_name(second.endpoint)


def test_huggingface_co_keeps_the_token_name_it_always_had() -> None:
    assert hub_token_name("https://huggingface.co/") == HF_TOKEN_SECRET
    assert hub_token_name("https://hf-mirror.com") == "huggingface.token.https_hf-mirror.com_443"


def test_a_token_saved_before_tokens_were_kept_per_hub_still_serves_its_own_hub(
    hubs: tuple[HubServer, HubServer],
) -> None:
    first, second = hubs
    store = _store()
    store.set(HF_TOKEN_SECRET, "hf_old", origin=origin_of(first.endpoint))
    token = hub_token(store, first.endpoint)
    assert token is not None and token.get_secret_value() == "hf_old"
    assert hub_token(store, second.endpoint) is None


def test_the_hub_address_comes_from_the_setting_then_hf_endpoint_then_huggingface_co(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert hub_endpoint(None) == "https://huggingface.co"
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com/")
    assert hub_endpoint(None) == "https://hf-mirror.com"
    assert hub_endpoint("https://proxy.example.com/hf") == "https://proxy.example.com/hf"
    monkeypatch.setenv("HF_ENDPOINT", "http://hf-mirror.com")
    with pytest.raises(ModelHubError, match=r"must use https.*\(from HF_ENDPOINT\)$"):
        hub_endpoint(None)
    with pytest.raises(ModelHubError, match=r"must use https.*token$"):
        HubClient("http://example.com")


async def test_only_the_chosen_hub_is_reached_not_hf_endpoint_nor_another(
    hubs: tuple[HubServer, HubServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = hubs
    monkeypatch.setenv("HF_ENDPOINT", first.endpoint)  # as huggingface_hub read it at import:
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", first.endpoint)
    monkeypatch.setattr("huggingface_hub.constants.HUGGINGFACE_CO_URL_TEMPLATE",
                        first.endpoint + "/{repo_id}/resolve/{revision}/{filename}")  # fmt: skip
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_DISABLE_TELEMETRY", False)
    monkeypatch.setattr("huggingface_hub.utils._detect_agent._registry", None)
    await _search_list_and_download(second, _store(), tmp_path)
    assert first.requests == []  # huggingface_hub's telemetry asked it for /api/agent-harnesses
