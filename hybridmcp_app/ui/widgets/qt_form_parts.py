"""Pieces every small form dialog here has: an error line and Save / Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel


def error_label(dialog: QDialog) -> QLabel:
    """A red, wrapping line for what is wrong with the form (empty until then)."""
    label = QLabel(dialog)
    label.setProperty("role", "form-errors")
    label.setWordWrap(True)
    return label


def save_cancel(dialog: QDialog) -> QDialogButtonBox:
    """Save runs the dialog's ``accept`` (which validates), Cancel its ``reject``."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
