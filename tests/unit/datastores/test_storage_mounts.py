"""Mounts from settings: each credential is looked up in the keychain by name; a missing one
makes that mount unavailable (with the reason), not the server."""

from __future__ import annotations

import pytest

from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.storage_settings import StorageMountSettings, StorageSettings
from hybridmcp_app.datastores.object_storage import ObjectStorage, StorageError
from hybridmcp_app.datastores.storage_mounts import mounts_from_settings
from tests.helpers.memory_keyring import MemoryKeyring

AWS = StorageMountSettings(name="aws", url="s3://reports", options={"endpoint_url": "http://x"},
                           credentials={"key": "aws-id", "secret": "aws-secret"})  # fmt: skip
GCP = StorageMountSettings(name="gcp", url="gs://b", credentials={"token": "gcp-key"})
DISK = StorageMountSettings(name="disk", url="memory://scratch")


def store(**values: str) -> SecretStore:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    for name, value in values.items():
        secrets.set(name.replace("_", "-"), value)
    return secrets


def test_credentials_are_filled_in_from_the_keychain() -> None:
    secrets = store(aws_id="AKIA-TEST", aws_secret="s3cr3t", gcp_key='{"type": "service_account"}')
    aws, gcp = mounts_from_settings(StorageSettings(mounts=(AWS, GCP)), secrets)
    assert aws.options == {"endpoint_url": "http://x", "key": "AKIA-TEST", "secret": "s3cr3t"}
    assert aws.unavailable is None
    assert gcp.options == {"token": {"type": "service_account"}}  # a JSON key stays an object
    assert "s3cr3t" not in repr(aws)


async def test_a_missing_secret_makes_only_that_mount_unavailable() -> None:
    mounts = mounts_from_settings(StorageSettings(mounts=(AWS, DISK)), store(aws_id="AKIA"))
    assert mounts[0].options == {}
    storage = ObjectStorage(mounts)
    with pytest.raises(StorageError, match="the keychain has no secret 'aws-secret' "
                       r"\(its secret\); store it in Settings → Storage"):  # fmt: skip
        await storage.list("aws:")
    await storage.write_bytes("disk:a.txt", b"still works")
    assert await storage.read_bytes("disk:a.txt") == b"still works"


def test_no_keychain_says_so_for_each_mount_that_needs_one() -> None:
    secrets = SecretStore(None, KeychainStatus(False, "none", "install one"))
    aws, disk = mounts_from_settings(StorageSettings(mounts=(AWS, DISK)), secrets)
    assert aws.unavailable is not None and "its credentials cannot be read" in aws.unavailable
    assert disk.unavailable is None
