"""The hub address: an http(s) URL with a host, a token-safe one, checked in one line."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hybridmcp_app.core.errors import describe_validation_error
from hybridmcp_app.core.hub_address import check_hub_address, is_loopback_host
from hybridmcp_app.core.llm_configs import LocalLLMConfig


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://huggingface.co", "https://huggingface.co"),
        ("  https://hf-mirror.com/  ", "https://hf-mirror.com"),
        ("https://proxy.example.com:8443/hf/", "https://proxy.example.com:8443/hf"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_a_hub_address_is_kept_without_its_trailing_slash(given: str, kept: str) -> None:
    assert check_hub_address(given) == kept


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("hf-mirror.com", "must be an http(s) URL"),
        ("ftp://hf-mirror.com", "must be an http(s) URL"),
        ("https://", "must be an http(s) URL"),
        ("http://hf-mirror.com", "must use https: plain http is allowed only to this computer"),
        ("http://10.0.0.5:8080", "must use https"),
        ("https://me:secret@hf-mirror.com", "must not hold a user name or password"),
        ("https://hf-mirror.com/?token=x", "must not have a query"),
        ("https://hf-mirror.com:99999", "invalid port"),
    ],
)
def test_a_wrong_hub_address_is_refused_in_one_line(given: str, says: str) -> None:
    with pytest.raises(ValueError, match=r"the hub address") as error:
        check_hub_address(given)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_only_this_computers_names_and_addresses_are_loopback() -> None:
    assert [is_loopback_host(h) for h in ("localhost", "127.0.0.2", "::1")] == [True] * 3
    assert [is_loopback_host(h) for h in ("example.com", "10.0.0.1", "localhost.evil")] == [
        False
    ] * 3


def test_the_settings_keep_a_checked_hub_address_and_empty_means_the_default() -> None:
    assert LocalLLMConfig().hub_endpoint is None
    assert LocalLLMConfig(hub_endpoint="  ").hub_endpoint is None
    assert LocalLLMConfig(hub_endpoint="https://hf-mirror.com/").hub_endpoint == (
        "https://hf-mirror.com"
    )
    with pytest.raises(ValidationError) as error:
        LocalLLMConfig(hub_endpoint="http://hf-mirror.com")
    [line] = describe_validation_error(error.value)
    assert line.startswith("hub_endpoint: ") and "must use https" in line
