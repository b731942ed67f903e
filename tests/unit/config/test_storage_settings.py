"""Storage mounts in settings: credentials are keychain names, never values in the file."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hybridmcp_app.config.settings import Settings


def mounts(*entries: dict[str, Any]) -> Settings:
    return Settings.model_validate({"storage": {"mounts": list(entries)}})


def test_a_mount_keeps_its_options_and_names_its_credentials() -> None:
    settings = mounts({"name": "aws", "url": "s3://reports", "options": {"endpoint_url":
                       "http://127.0.0.1:9000", "use_ssl": False},
                       "credentials": {"key": "aws-id", "secret": "aws-secret"}})  # fmt: skip
    (mount,) = settings.storage.mounts
    assert mount.options == {"endpoint_url": "http://127.0.0.1:9000", "use_ssl": False}
    assert mount.credentials == {"key": "aws-id", "secret": "aws-secret"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"name": "a", "url": "s3://b", "options": {"secret": "plain"}}],
            "looks like a credential",
        ),
        (
            [{"name": "a", "url": "az://c", "options": {"account_key": "k"}}],
            "looks like a credential",
        ),
        (
            [{"name": "a", "url": "s3://b", "options": {"key": "x"}, "credentials": {"key": "k"}}],
            "looks like a credential",
        ),
        (
            [
                {
                    "name": "a",
                    "url": "s3://b",
                    "options": {"anon": True},
                    "credentials": {"anon": "n"},
                }
            ],
            "set twice",
        ),
        (
            [{"name": "a", "url": "s3://b", "credentials": {"secret": "not a name!"}}],
            "is not a keychain secret name",
        ),
        ([{"name": "a", "url": "s3://b"}, {"name": "a", "url": "gs://c"}], "two mounts are named"),
        ([{"name": "1st", "url": "s3://b"}], "should match pattern"),
        ([{"name": "a", "url": "  "}], "give a URL"),
        ([{"name": "a", "url": "s3://b", "options": {"bad key": 1}}], "is not an option name"),
    ],
)
def test_bad_mounts_are_refused_with_a_reason(entries: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        mounts(*entries)


def test_a_gcs_token_that_names_a_login_method_is_not_a_secret() -> None:
    (mount,) = mounts({"name": "gcp", "url": "gs://b", "options": {"token": "anon"}}).storage.mounts
    assert mount.options["token"] == "anon"
