"""A remote server's ``oauth`` entry in mcp.json: hand-registered client credentials, kept in
the keychain and sent only to the issuer they name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.mcp_references import resolved_server
from hybridmcp_app.config.secrets import KeychainStatus, KeyOriginMismatch, SecretStore
from tests.helpers.memory_keyring import MemoryKeyring

OAUTH = {"client_id": "robot", "client_secret": "${secret:ROBOT_SECRET}",
         "issuer": "https://auth.example", "scope": "read"}  # fmt: skip
ENTRY: dict[str, object] = {"url": "https://mcp.example/mcp", "oauth": OAUTH}


def test_client_credentials_resolve_from_the_keychain_bound_to_the_issuer() -> None:
    store = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    store.set("ROBOT_SECRET", "s3cret", origin="https://auth.example:443")
    resolved = resolved_server("robot", RemoteServerConfig.model_validate(ENTRY), store, {})
    assert isinstance(resolved, RemoteServerConfig) and resolved.oauth is not None
    assert resolved.oauth.client_secret == "s3cret"

    elsewhere = {**ENTRY, "oauth": {**OAUTH, "issuer": "https://evil.example"}}
    with pytest.raises(KeyOriginMismatch):
        resolved_server("robot", RemoteServerConfig.model_validate(elsewhere), store, {})


@pytest.mark.parametrize(
    ("oauth", "why"),
    [
        ({"client_id": "robot", "client_secret": "s3cret", "issuer": "https://auth.example"},
         "must be a ${secret:NAME} reference"),
        ({"client_id": "robot", "client_secret": "${secret:X}"}, "needs oauth.client_id and"),
        ({"client_metadata_url": "http://cimd.example/client.json"}, "must be an https address"),
    ],
)  # fmt: skip
def test_an_oauth_entry_that_would_leak_or_cannot_work_is_refused(
    oauth: dict[str, str], why: str
) -> None:
    with pytest.raises(ValidationError, match=why.replace("$", r"\$").replace("{", r"\{")):
        RemoteServerConfig.model_validate({"url": "https://mcp.example/mcp", "oauth": oauth})


def test_a_server_with_client_credentials_connects_with_the_client_credentials_grant() -> None:
    from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider

    from hybridmcp_app.mcp_host.oauth_sign_in import HostOAuthProvider, SignIns

    store = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    store.set("ROBOT_SECRET", "s3cret", origin="https://auth.example:443")
    resolved = resolved_server("robot", RemoteServerConfig.model_validate(ENTRY), store, {})
    assert isinstance(resolved, RemoteServerConfig)
    sign_ins = SignIns(store)
    robot = sign_ins.auth_for("robot", resolved)
    assert isinstance(robot, ClientCredentialsOAuthProvider)
    assert robot._fixed_client_info.client_secret == "s3cret"
    assert robot._issuer == "https://auth.example/"  # its secret goes to this issuer only
    plain = sign_ins.auth_for("plain", RemoteServerConfig.model_validate({"url": ENTRY["url"]}))
    assert isinstance(plain, HostOAuthProvider)
