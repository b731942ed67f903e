"""Settings → Storage: mounts edited in a table, credentials kept in the keychain by name only."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.storage_settings import StorageMountSettings, StorageSettings
from hybridmcp_app.ui.settings.qt_settings_dialog import PAGE_INDEX, QtSettingsDialog
from hybridmcp_app.ui.settings.qt_storage_mounts_editor import (
    CREDENTIALS,
    NAME,
    OPTIONS,
    URL,
    QtStorageMountsEditor,
)
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_MS

MINIO_SECRET = "minio-secret-value-4f1c"


@pytest.fixture
def secrets(memory_keyring: MemoryKeyring) -> SecretStore:
    return SecretStore(memory_keyring, KeychainStatus(True, "memory"))


def open_storage(
    qtbot: QtBot, secrets: SecretStore, settings: Settings | None = None
) -> tuple[QtSettingsDialog, QtStorageMountsEditor]:
    dialog = QtSettingsDialog(settings or Settings.model_validate({}), secrets)
    qtbot.addWidget(dialog)
    dialog.sections.setCurrentRow(PAGE_INDEX["Storage"])
    return dialog, dialog.mounts


def edit(editor: QtStorageMountsEditor, row: int, column: int, text: str) -> None:
    item = editor.table.item(row, column)
    assert item is not None
    item.setText(text)


def cell(editor: QtStorageMountsEditor, row: int, column: int) -> str:
    item = editor.table.item(row, column)
    assert item is not None
    return item.text()


def save(qtbot: QtBot, dialog: QtSettingsDialog) -> Settings:
    with qtbot.waitSignal(dialog.saved, timeout=PATIENCE_MS) as blocker:
        dialog.save()
    settings = blocker.args[0] if blocker.args else None
    assert isinstance(settings, Settings)
    return settings


def two_mounts() -> Settings:
    return Settings.model_validate({}).model_copy(
        update={
            "storage": StorageSettings(
                mounts=(
                    StorageMountSettings(name="files", url="file:///srv/files"),
                    StorageMountSettings(
                        name="aws",
                        url="s3://reports",
                        options={"endpoint_url": "http://127.0.0.1:9000"},
                        credentials={"key": "minio-key", "secret": "minio-secret"},
                    ),
                )
            )
        }
    )


def test_a_mount_added_in_the_table_is_saved_with_typed_options(
    qtbot: QtBot, secrets: SecretStore
) -> None:
    dialog, editor = open_storage(qtbot, secrets)
    assert editor.stack.currentWidget() is editor.empty
    editor.add_mount()
    assert editor.stack.currentWidget() is editor.table
    assert cell(editor, 0, NAME) == "files"
    assert cell(editor, 0, URL) == Path.home().as_uri()
    edit(editor, 0, URL, "s3://reports/2024")
    edit(editor, 0, OPTIONS, "endpoint_url=http://127.0.0.1:9000; max_concurrency=4; anon=true")

    settings = save(qtbot, dialog)

    (mount,) = settings.storage.mounts
    assert mount.name == "files"
    assert mount.url == "s3://reports/2024"
    assert mount.options == {
        "endpoint_url": "http://127.0.0.1:9000",
        "max_concurrency": 4,
        "anon": True,
    }
    assert type(mount.options["max_concurrency"]) is int
    assert type(mount.options["anon"]) is bool


def test_added_mounts_get_unique_default_names(qtbot: QtBot) -> None:
    editor = QtStorageMountsEditor()
    qtbot.addWidget(editor)
    for _ in range(3):
        editor.add_mount()
    assert editor.names() == ["files", "files2", "files3"]


def test_a_stored_credential_lands_in_the_keychain_and_only_its_name_in_settings(
    qtbot: QtBot, secrets: SecretStore, memory_keyring: MemoryKeyring
) -> None:
    dialog, editor = open_storage(qtbot, secrets)
    editor.add_mount()
    edit(editor, 0, NAME, "minio")
    edit(editor, 0, URL, "s3://reports")
    edit(editor, 0, OPTIONS, "endpoint_url=http://127.0.0.1:9000")
    editor.table.selectRow(0)
    credential = editor.store_credential()
    assert credential is not None
    assert credential.option.findText("secret") >= 0  # offered for s3://
    credential.option.setCurrentText("secret")
    assert credential.secret.text() == "minio-secret"  # suggested from mount and option
    credential.value.setText(MINIO_SECRET)
    credential.accept()
    assert cell(editor, 0, CREDENTIALS) == "secret=minio-secret"
    assert MINIO_SECRET not in cell(editor, 0, CREDENTIALS)
    assert memory_keyring.entries == {}  # nothing stored before Save

    settings = save(qtbot, dialog)

    assert settings.storage.mounts[0].credentials == {"secret": "minio-secret"}
    assert memory_keyring.entries[("HybridMCP", "minio-secret")] == MINIO_SECRET
    assert MINIO_SECRET not in settings.model_dump_json()


def test_a_credential_that_cannot_be_stored_keeps_the_dialog_open(qtbot: QtBot) -> None:
    no_keychain = SecretStore(None, KeychainStatus(False, "none", "No keychain here."))
    dialog, editor = open_storage(qtbot, no_keychain)
    editor.add_mount()
    editor.add_credential(0, "secret", "files-secret", MINIO_SECRET)
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save()
    assert dialog.errors.text().startswith("Not saved — the credential could not be stored:")
    assert MINIO_SECRET not in dialog.errors.text()


def test_a_secret_typed_as_an_option_is_refused_and_its_row_marked(
    qtbot: QtBot, secrets: SecretStore
) -> None:
    dialog, editor = open_storage(qtbot, secrets)
    editor.add_mount()
    edit(editor, 0, OPTIONS, "secret=abc")
    dialog.sections.setCurrentRow(0)
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save()
    assert dialog.errors.isVisibleTo(dialog)
    assert "storage.mounts.0" in dialog.errors.text()
    assert "credential" in dialog.errors.text()
    assert "abc" not in dialog.errors.text()
    assert dialog.sections.currentRow() == PAGE_INDEX["Storage"]
    assert editor.invalid_rows() == [0]
    edit(editor, 0, OPTIONS, "")  # editing the row clears its mark
    assert editor.invalid_rows() == []


def test_duplicate_mount_names_are_refused(qtbot: QtBot, secrets: SecretStore) -> None:
    dialog, editor = open_storage(qtbot, secrets)
    editor.add_mount()
    editor.add_mount()
    edit(editor, 1, NAME, "files")
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save()
    assert "storage.mounts.1.name: another mount is already named 'files'" in dialog.errors.text()
    assert editor.invalid_rows() == [1]


def test_options_that_are_not_key_value_pairs_are_refused(
    qtbot: QtBot, secrets: SecretStore
) -> None:
    dialog, editor = open_storage(qtbot, secrets)
    editor.add_mount()
    edit(editor, 0, OPTIONS, "endpoint_url=http://127.0.0.1:9000; hunter2")
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save()
    assert "storage.mounts.0.options: part 2 is not option=value" in dialog.errors.text()
    assert "hunter2" not in dialog.errors.text()


def test_loaded_mounts_are_shown_and_remove_then_save_drops_one(
    qtbot: QtBot, secrets: SecretStore
) -> None:
    dialog, editor = open_storage(qtbot, secrets, two_mounts())
    assert editor.names() == ["files", "aws"]
    assert cell(editor, 1, OPTIONS) == "endpoint_url=http://127.0.0.1:9000"
    assert cell(editor, 1, CREDENTIALS) == "key=minio-key; secret=minio-secret"
    editor.table.selectRow(0)
    editor.remove_button.click()

    settings = save(qtbot, dialog)

    assert [mount.name for mount in settings.storage.mounts] == ["aws"]
    assert settings.storage.mounts[0] == two_mounts().storage.mounts[1]


def test_the_delete_key_removes_the_selected_mount(qtbot: QtBot, secrets: SecretStore) -> None:
    _, editor = open_storage(qtbot, secrets, two_mounts())
    editor.table.selectRow(1)
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    assert editor.names() == ["files"]


def test_restore_defaults_on_the_storage_page_empties_the_table(
    qtbot: QtBot, secrets: SecretStore
) -> None:
    dialog, editor = open_storage(qtbot, secrets, two_mounts())
    dialog.restore_page_defaults()
    assert editor.table.rowCount() == 0
    assert editor.stack.currentWidget() is editor.empty
    assert save(qtbot, dialog).storage.mounts == ()


def test_option_text_round_trips_numbers_booleans_and_quoted_text(qtbot: QtBot) -> None:
    editor = QtStorageMountsEditor()
    qtbot.addWidget(editor)
    options = {"port": "9000", "ratio": 0.5, "anon": False, "note": "a;b", "region": "eu"}
    editor.load([{"name": "s", "url": "memory://s", "options": options, "credentials": {}}])
    assert cell(editor, 0, OPTIONS) == ('port="9000"; ratio=0.5; anon=false; note="a;b"; region=eu')
    assert editor.value()[0]["options"] == options


def test_credential_names_are_shown_as_they_are(qtbot: QtBot) -> None:
    editor = QtStorageMountsEditor()
    qtbot.addWidget(editor)
    credentials = {"key": "2024", "secret": "aws.secret-1"}
    editor.load([{"name": "s", "url": "s3://b", "options": {}, "credentials": credentials}])
    assert cell(editor, 0, CREDENTIALS) == "key=2024; secret=aws.secret-1"
    assert editor.value()[0]["credentials"] == credentials
