"""The sign-in states the MCP tab shows: what a failure message tells, and what
``SignIns`` reads from the keychain before any connection is tried."""

from __future__ import annotations

import time

import pytest
from mcp.shared.auth import OAuthToken

from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.oauth_tokens import StoredSignIn
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.mcp_host.oauth_sign_in import SignIns
from hybridmcp_app.mcp_host.oauth_state import (
    SignInNeed,
    SignInRequired,
    SignInState,
    sign_in_state_of,
)
from tests.helpers.memory_keyring import MemoryKeyring

NAME, URL, ISSUER = "remote", "https://mcp.example/mcp", "https://auth.example"


@pytest.fixture
def sign_ins() -> SignIns:
    return SignIns(SecretStore(MemoryKeyring(), KeychainStatus(True, "memory")))


def remote(oauth: dict[str, str] | None = None) -> RemoteServerConfig:
    return RemoteServerConfig.model_validate({"url": URL, "oauth": oauth})


def store(sign_ins: SignIns, record: StoredSignIn) -> None:
    sign_ins.storage(URL)._save(record)


def tokens(*, refresh: bool = True) -> dict[str, str]:
    token = OAuthToken(access_token="at", refresh_token="rt" if refresh else None)
    return token.model_dump(mode="json", exclude_none=True)


def test_each_failure_that_asks_the_user_names_its_state_first() -> None:
    cases = {
        SignInRequired(NAME): SignInState.NEEDS_SIGN_IN,
        SignInRequired(NAME, expired=True): SignInState.EXPIRED,
        SignInRequired(NAME, expired=True, scope="read files:write"): SignInState.MORE_PERMISSION,
    }
    for error, state in cases.items():
        assert error.state is state and sign_in_state_of(str(error)) is state
        assert state.asks_user
    step_up = SignInRequired(NAME, expired=True, scope="read files:write")
    assert "read files:write" in str(step_up) and step_up.need.scope == "read files:write"
    assert sign_in_state_of("connection refused") is SignInState.NONE
    assert not SignInState.SIGNED_IN.asks_user and not SignInState.NONE.asks_user


async def test_stored_tokens_read_as_signed_in_before_any_connection(sign_ins: SignIns) -> None:
    store(sign_ins, StoredSignIn(issuer=ISSUER, tokens=tokens(), expires_at=time.time() + 600))
    assert await sign_ins.read_need(NAME, remote()) == SignInNeed(state=SignInState.SIGNED_IN)


async def test_an_expired_token_reads_as_expired_only_when_it_cannot_be_refreshed(
    sign_ins: SignIns,
) -> None:
    past = time.time() - 1
    store(sign_ins, StoredSignIn(issuer=ISSUER, tokens=tokens(), expires_at=past))
    assert (await sign_ins.read_need(NAME, remote())).state is SignInState.SIGNED_IN
    store(sign_ins, StoredSignIn(issuer=ISSUER, tokens=tokens(refresh=False), expires_at=past))
    assert (await sign_ins.read_need(NAME, remote())).state is SignInState.EXPIRED


async def test_a_server_known_to_sign_in_reads_as_needing_one_without_tokens(
    sign_ins: SignIns,
) -> None:
    assert (await sign_ins.read_need(NAME, remote())).state is SignInState.NONE  # never tried
    declared = remote({"client_metadata_url": "https://app.example/client.json"})
    assert (await sign_ins.read_need(NAME, declared)).state is SignInState.NEEDS_SIGN_IN
    store(sign_ins, StoredSignIn(issuer=ISSUER))  # registered once, then signed out
    assert (await sign_ins.read_need(NAME, remote())).state is SignInState.NEEDS_SIGN_IN
    machine = remote({"client_id": "c", "client_secret": "${secret:S}", "issuer": ISSUER})
    assert (await sign_ins.read_need(NAME, machine)).state is SignInState.NONE  # no user needed


async def test_a_wanted_scope_reads_as_needing_more_permission_not_as_expired(
    sign_ins: SignIns,
) -> None:
    store(
        sign_ins,
        StoredSignIn(issuer=ISSUER, tokens=tokens(refresh=False), expires_at=time.time() - 1,
                     wanted_scope="read files:write"),
    )  # fmt: skip
    need = await sign_ins.read_need(NAME, remote())
    assert need == SignInNeed(state=SignInState.MORE_PERMISSION, scope="read files:write")


async def test_what_a_connection_found_out_wins_until_a_sign_in_and_tells_listeners(
    sign_ins: SignIns,
) -> None:
    heard: list[str] = []
    sign_ins.subscribe(heard.append)
    store(sign_ins, StoredSignIn(issuer=ISSUER, tokens=tokens(), expires_at=time.time() + 600))
    sign_ins._changed(NAME, SignInRequired(NAME, expired=True).need)
    assert (await sign_ins.read_need(NAME, remote())).state is SignInState.EXPIRED
    sign_ins.signed_in(NAME)
    assert (await sign_ins.read_need(NAME, remote())).state is SignInState.SIGNED_IN
    assert heard == [NAME, NAME]
