"""What ``HttpGuard`` lets through: the names a Host header may give each reached address, the
bearer scheme in any case, and which binds must have a token."""

from __future__ import annotations

import pytest
from starlette.types import Receive, Scope, Send

from hybridmcp_app.http_serving.http_guard import (
    LOOPBACK_NAMES,
    HttpGuard,
    bearer_matches,
    host_names,
    token_required,
)


@pytest.mark.parametrize(
    ("address", "names"),
    [
        ("127.0.0.1", LOOPBACK_NAMES),
        ("::1", LOOPBACK_NAMES),
        ("::ffff:127.0.0.1", LOOPBACK_NAMES),  # a dual-stack socket reached over IPv4
        ("127.0.0.2", ("127.0.0.2",)),
        ("192.168.1.5", ("192.168.1.5",)),
        ("fe80::1", ("[fe80::1]",)),
        ("not-an-address", ()),
    ],
)
def test_a_host_header_may_name_the_reached_address(address: str, names: tuple[str, ...]) -> None:
    assert host_names(address) == names


def test_the_bearer_scheme_is_read_in_any_case_and_the_token_must_match() -> None:
    assert bearer_matches(b"Bearer s3cret", "s3cret")
    assert bearer_matches(b"bearer s3cret", "s3cret")
    assert bearer_matches(b"BEARER   s3cret ", "s3cret")
    assert not bearer_matches(b"Bearer s3cre", "s3cret")
    assert not bearer_matches(b"Basic s3cret", "s3cret")
    assert not bearer_matches(b"s3cret", "s3cret")
    assert not bearer_matches(b"", "s3cret")


def test_only_the_three_loopback_names_are_served_without_a_token() -> None:
    assert [token_required(bind) for bind in ("127.0.0.1", "localhost", "::1")] == [False] * 3
    assert all(token_required(bind) for bind in ("127.0.0.2", "0.0.0.0", "::", "192.168.1.5"))


async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that answers nothing."""


def test_an_empty_token_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="empty bearer token"):
        HttpGuard(nothing, token="")
