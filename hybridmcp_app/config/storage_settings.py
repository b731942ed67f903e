"""The storage server's mounts as settings: a name, a URL, fsspec options, and credentials that
stay in the keychain (each credential is the *name* of a keychain secret, never its value)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.llm_configs import SECRET_NAME_PATTERN

MOUNT_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
OPTION_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# fsspec options that hold credentials (s3fs, adlfs, gcsfs): these belong in ``credentials``.
SECRET_OPTION_WORDS = ("secret", "password", "key", "token", "connection_string", "credential")
# gcsfs's ``token`` may also name a way to log in rather than hold a credential.
NON_SECRET_VALUES = frozenset({"anon", "google_default", "cloud", "browser"})
OptionValue = str | int | float | bool


def looks_secret(option: str) -> bool:
    """True for option names that carry credentials (``secret``, ``account_key``, ``token``…)."""
    words = option.lower()
    return any(word in words for word in SECRET_OPTION_WORDS)


class StorageMountSettings(FrozenModel):
    """One mount of the storage server, e.g. ``aws`` → ``s3://reports`` with an endpoint."""

    name: str = Field(pattern=MOUNT_NAME_PATTERN, description="Used in paths: name:folder/file.")
    url: str = Field(
        min_length=1,
        max_length=2048,
        description="file:///folder, memory://scratch, s3://bucket/prefix, az://container/prefix "
        "or gs://bucket/prefix.",
    )
    options: dict[str, OptionValue] = Field(
        default_factory=dict,
        description="fsspec options that are not secret (endpoint_url, account_name, project…).",
    )
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="fsspec option → the name of the keychain secret holding its value "
        "(key, secret, connection_string, account_key, token…).",
    )

    @field_validator("url")
    @classmethod
    def _has_scheme_or_path(cls, url: str) -> str:
        url = url.strip()
        if not url:
            raise ValueError("give a URL such as s3://bucket or file:///home/me/files")
        return url

    @field_validator("options", "credentials")
    @classmethod
    def _option_names(cls, values: dict[str, object]) -> dict[str, object]:
        for key in values:
            if not re.fullmatch(OPTION_KEY_PATTERN, key):
                raise ValueError(f"{key!r} is not an option name (letters, digits, _)")
        return values

    @model_validator(mode="after")
    def _secrets_stay_in_keychain(self) -> StorageMountSettings:
        plain = [key for key, value in self.options.items()
                 if looks_secret(key) and value not in NON_SECRET_VALUES]  # fmt: skip
        if plain:
            raise ValueError(
                f"mount {self.name!r}: {', '.join(plain)} looks like a credential; store it in "
                "the keychain and name it under credentials instead of options"
            )
        both = set(self.options) & set(self.credentials)
        if both:
            raise ValueError(f"mount {self.name!r}: {', '.join(sorted(both))} is set twice")
        for option, secret in self.credentials.items():
            if not re.fullmatch(SECRET_NAME_PATTERN, secret):
                raise ValueError(f"mount {self.name!r}: {secret!r} (for {option}) is not a "
                                 "keychain secret name")  # fmt: skip
        return self


class StorageSettings(FrozenModel):
    """The storage server's mounts and size limits (used when it is started without --mount)."""

    mounts: tuple[StorageMountSettings, ...] = Field(
        (),
        description="Named storage locations; none: the folder the server is started in.",
    )
    max_read_mb: int = Field(
        10, ge=1, le=4096, title="Max read (MB)", description="Largest file read in one call."
    )
    max_write_mb: int = Field(
        10, ge=1, le=4096, title="Max write (MB)", description="Largest part written in one call."
    )

    @field_validator("mounts")
    @classmethod
    def _unique_names(
        cls, mounts: tuple[StorageMountSettings, ...]
    ) -> tuple[StorageMountSettings, ...]:
        seen: set[str] = set()
        for mount in mounts:
            if mount.name in seen:
                raise ValueError(f"two mounts are named {mount.name!r}")
            seen.add(mount.name)
        return mounts
