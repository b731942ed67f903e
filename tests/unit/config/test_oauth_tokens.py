"""A remote server's sign-in in the keychain: tokens per server, registrations per issuer."""

from __future__ import annotations

import json
import time

import pytest
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from hybridmcp_app.config.oauth_tokens import (
    KeychainTokenStorage,
    client_secret_name,
    tokens_secret_name,
)
from hybridmcp_app.config.secrets import KeychainStatus, KeyOriginMismatch, SecretStore
from tests.helpers.memory_keyring import MemoryKeyring

SERVER = "https://mcp.example/mcp"
ISSUER = "https://auth.example/"


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(keyring: MemoryKeyring) -> SecretStore:
    return SecretStore(keyring, KeychainStatus(True, "memory"))


def registration(issuer: str | None = ISSUER) -> OAuthClientInformationFull:
    return OAuthClientInformationFull(
        client_id="client-1", client_secret="registered-secret",
        redirect_uris=[AnyUrl("http://127.0.0.1:5000/callback")], issuer=issuer,
    )  # fmt: skip


async def test_tokens_and_the_registration_are_kept_in_the_keychain_and_read_back(
    store: SecretStore, keyring: MemoryKeyring
) -> None:
    storage = KeychainTokenStorage(store, SERVER)
    await storage.set_client_info(registration())
    await storage.set_tokens(OAuthToken(access_token="at-1", refresh_token="rt-1", expires_in=60))

    again = KeychainTokenStorage(store, SERVER)  # a later start
    tokens = await again.get_tokens()
    assert tokens is not None and (tokens.access_token, tokens.refresh_token) == ("at-1", "rt-1")
    client = await again.get_client_info()
    assert client is not None and client.client_secret == "registered-secret"
    record = again.record()
    assert record is not None and record.issuer == ISSUER
    assert record.expires_at is not None and 0 < record.expires_at - time.time() <= 60
    names = {name for _service, name in keyring.entries}
    assert tokens_secret_name(SERVER) in names and client_secret_name(ISSUER) in names


async def test_another_server_of_the_same_issuer_shares_the_registration_not_the_tokens(
    store: SecretStore,
) -> None:
    first = KeychainTokenStorage(store, SERVER)
    await first.set_client_info(registration())
    await first.set_tokens(OAuthToken(access_token="at-1"))
    second = KeychainTokenStorage(store, "https://mcp.example/other")
    assert await second.get_tokens() is None
    await second.set_client_info(registration())
    client = await second.get_client_info()
    assert client is not None and client.client_id == "client-1"


async def test_tokens_are_bound_to_the_servers_origin(
    store: SecretStore, keyring: MemoryKeyring
) -> None:
    await KeychainTokenStorage(store, SERVER).set_tokens(OAuthToken(access_token="at-1"))
    name = tokens_secret_name(SERVER)
    assert keyring.entries[("HybridMCP", name + ".origin")] == "https://mcp.example:443"
    keyring.entries[("HybridMCP", name + ".origin")] = "https://evil.example:443"
    with pytest.raises(KeyOriginMismatch):
        store.get(name, origin="https://mcp.example:443")
    assert await KeychainTokenStorage(store, SERVER).get_tokens() is None  # refused, not sent


async def test_a_new_authorization_server_drops_the_old_tokens(store: SecretStore) -> None:
    storage = KeychainTokenStorage(store, SERVER)
    await storage.set_client_info(registration())
    await storage.set_tokens(OAuthToken(access_token="at-1"))
    await storage.set_client_info(registration("https://other-auth.example/"))
    assert await storage.get_tokens() is None


async def test_sign_out_forgets_the_tokens_and_keeps_the_registration(store: SecretStore) -> None:
    storage = KeychainTokenStorage(store, SERVER)
    await storage.set_client_info(registration())
    await storage.set_tokens(OAuthToken(access_token="at-1", refresh_token="rt-1"))
    assert storage.sign_out()
    assert await storage.get_tokens() is None
    assert await storage.get_client_info() is not None
    assert not storage.sign_out()  # nothing left to forget


async def test_a_damaged_or_unreadable_entry_counts_as_not_signed_in(
    store: SecretStore, keyring: MemoryKeyring
) -> None:
    keyring.entries[("HybridMCP", tokens_secret_name(SERVER))] = "{not json"
    assert await KeychainTokenStorage(store, SERVER).get_tokens() is None
    keyring.entries[("HybridMCP", tokens_secret_name(SERVER))] = json.dumps({"tokens": {"x": 1}})
    assert await KeychainTokenStorage(store, SERVER).get_tokens() is None
    locked = SecretStore(None, KeychainStatus(False, "none", "no keychain"))
    assert await KeychainTokenStorage(locked, SERVER).get_tokens() is None


async def test_a_wanted_scope_is_kept_until_tokens_that_hold_it_are_saved(
    store: SecretStore,
) -> None:
    storage = KeychainTokenStorage(store, SERVER)
    await storage.set_tokens(OAuthToken(access_token="at-1", refresh_token="rt-1", scope="read"))
    storage.want_scope("read files:write")
    await storage.set_tokens(OAuthToken(access_token="at-2", refresh_token="rt-2", scope="read"))
    record = storage.record()
    assert record is not None and record.wanted_scope == "read files:write"  # a refresh: not yet

    await storage.set_tokens(OAuthToken(access_token="at-3", scope="files:write read"))
    record = storage.record()
    assert record is not None and record.wanted_scope is None
    assert record.granted_scope == "files:write read"


def test_a_scope_is_not_wanted_for_a_server_with_no_sign_in(store: SecretStore) -> None:
    storage = KeychainTokenStorage(store, SERVER)
    storage.want_scope("files:write")
    assert storage.record() is None
