"""${secret:…} and ${env:…} in remote headers, and what happens without a keychain."""

import re

import pytest

from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.mcp_references import UnresolvedReference, resolved_server
from hybridmcp_app.config.secrets import KeychainStatus, KeyOriginMismatch, SecretStore
from tests.helpers.memory_keyring import MemoryKeyring

REMOTE = RemoteServerConfig.model_validate(
    {
        "url": "http://127.0.0.1:9/mcp",
        "headers": {"Authorization": "Bearer ${secret:TEAM_TOKEN}", "X-User": "${env:USER}"},
    }
)


def test_header_references_resolve_inside_a_longer_value() -> None:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    secrets.set("TEAM_TOKEN", "t0k3n")
    resolved = resolved_server("docs", REMOTE, secrets, {"USER": "me"})
    assert isinstance(resolved, RemoteServerConfig)
    assert resolved.headers == {"Authorization": "Bearer t0k3n", "X-User": "me"}
    assert REMOTE.headers["Authorization"] == "Bearer ${secret:TEAM_TOKEN}"


def test_an_unknown_secret_names_the_header_and_never_shows_a_value() -> None:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    with pytest.raises(UnresolvedReference, match=r"^docs.headers.Authorization: no secret"):
        resolved_server("docs", REMOTE, secrets, {"USER": "me"})


def test_without_a_keychain_a_secret_reference_says_so() -> None:
    secrets = SecretStore(None, KeychainStatus(False, "none"))
    with pytest.raises(UnresolvedReference, match="no keychain to read secret TEAM_TOKEN"):
        resolved_server("docs", REMOTE, secrets, {"USER": "me"})


def test_a_remote_servers_secret_is_refused_once_its_entry_points_elsewhere() -> None:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    secrets.set("TEAM_TOKEN", "t0k3n")
    resolved_server("docs", REMOTE, secrets, {"USER": "me"})  # first use binds it
    assert secrets.origin("TEAM_TOKEN") == "http://127.0.0.1:9"
    moved = REMOTE.model_copy(update={"url": "https://evil.example/mcp"})
    with pytest.raises(
        KeyOriginMismatch, match=re.escape("not send it to https://evil.example:443")
    ):
        resolved_server("docs", moved, secrets, {"USER": "me"})
