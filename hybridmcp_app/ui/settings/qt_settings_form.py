"""A form generated from a pydantic model's schema: one editor per field, groups for sub-models.

Field types map to editors (bool → check box, bounded int/float → spin box, Literal → combo,
str/Path/URL → line edit, tuple of str or Path → comma-separated line edit). Fields of other
shapes are left out of the form and keep their current values.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Union

import annotated_types
from pydantic import AnyUrl, BaseModel
from pydantic.fields import FieldInfo
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

_INT_LIMIT = 2_000_000_000


def humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    for short, long in ((" s", " (s)"), (" kb", " (KB)"), (" usd", " (USD)")):
        if text.endswith(short):
            text = text[: -len(short)] + long
    return text[:1].upper() + text[1:]


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _bounds(info: FieldInfo) -> tuple[float | None, float | None, bool]:
    low = high = None
    exclusive_low = False
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            low, exclusive_low = float(item.gt), True  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            high = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            high = float(item.lt)  # type: ignore[arg-type]
    return low, high, exclusive_low


class _FieldEditor:
    """One editor widget with a getter, a setter and the dotted path of its field."""

    def __init__(
        self,
        path: str,
        widget: QWidget,
        get: Callable[[], Any],
        put: Callable[[Any], None],
    ) -> None:
        self.path, self.widget, self.get, self.put = path, widget, get, put


def _editor_for(path: str, info: FieldInfo, parent: QWidget) -> _FieldEditor | None:
    annotation, optional = _unwrap_optional(info.annotation)
    if annotation is bool:
        box = QCheckBox(parent)
        return _FieldEditor(path, box, box.isChecked, lambda v: box.setChecked(bool(v)))
    if typing.get_origin(annotation) is Literal:
        combo = QComboBox(parent)
        choices = [str(choice) for choice in typing.get_args(annotation)]
        combo.addItems(choices)
        return _FieldEditor(path, combo, combo.currentText, lambda v: combo.setCurrentText(str(v)))
    if annotation in (int, float) and not optional:
        return _number_editor(path, info, annotation, parent)
    if annotation in (int, float, str, Path) or (
        isinstance(annotation, type) and issubclass(annotation, AnyUrl)
    ):
        return _text_editor(path, parent, optional)
    if typing.get_origin(annotation) is tuple and typing.get_args(annotation)[:1] in (
        (str,),
        (Path,),
    ):
        line = QLineEdit(parent)
        line.setPlaceholderText("comma-separated")
        return _FieldEditor(
            path,
            line,
            lambda: [part.strip() for part in line.text().split(",") if part.strip()],
            lambda v: line.setText(", ".join(str(part) for part in v)),
        )
    return None


def _choice_editor(path: str, options: Sequence[tuple[str, str]], parent: QWidget) -> _FieldEditor:
    """A combo that shows labels and holds values (a value it does not list is shown as is)."""
    combo = QComboBox(parent)
    for value, label in options:
        combo.addItem(label, value)

    def put(value: Any) -> None:
        index = combo.findData(str(value))
        if index < 0:
            combo.addItem(str(value), str(value))
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    return _FieldEditor(path, combo, lambda: combo.currentData(), put)


def _number_editor(path: str, info: FieldInfo, kind: type, parent: QWidget) -> _FieldEditor:
    low, high, exclusive_low = _bounds(info)
    spin: QSpinBox | QDoubleSpinBox
    if kind is int:
        spin = QSpinBox(parent)
        spin.setRange(int(low if low is not None else -_INT_LIMIT),
                      int(high if high is not None else _INT_LIMIT))  # fmt: skip
    else:
        spin = QDoubleSpinBox(parent)
        spin.setDecimals(3)
        spin.setSingleStep(0.05)
        bottom = (low if low is not None else -1e9) + (0.001 if exclusive_low else 0.0)
        spin.setRange(bottom, high if high is not None else 1e9)
    spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
    return _FieldEditor(path, spin, spin.value, lambda v: spin.setValue(v))


def _text_editor(path: str, parent: QWidget, optional: bool) -> _FieldEditor:
    line = QLineEdit(parent)
    if optional:
        line.setPlaceholderText("(not set)")
        line.setClearButtonEnabled(True)

    def read() -> str | None:
        text = line.text().strip()
        return None if optional and not text else text

    return _FieldEditor(path, line, read, lambda v: line.setText("" if v is None else str(v)))


class QtSettingsForm(QWidget):
    """Editors for every supported field of ``model_type``; ``values()`` returns a nested dict."""

    def __init__(
        self,
        model_type: type[BaseModel],
        *,
        path: str,
        hidden: frozenset[str] = frozenset(),
        choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``choices``: fields (by dotted path) offered as a list of (value, label)."""
        super().__init__(parent)
        self.path = path
        self.editors: dict[str, _FieldEditor] = {}
        self._choices = dict(choices or {})
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build(model_type, path, layout, hidden)
        layout.addStretch(1)

    def _build(
        self, model_type: type[BaseModel], prefix: str, layout: QVBoxLayout, hidden: frozenset[str]
    ) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        layout.addLayout(form)
        for name, info in model_type.model_fields.items():
            path = f"{prefix}.{name}" if prefix else name
            if path in hidden:
                continue
            annotation, _ = _unwrap_optional(info.annotation)
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                group = QGroupBox(info.title or humanize(name), self)
                inner = QVBoxLayout(group)
                self._build(annotation, path, inner, hidden)
                layout.addWidget(group)
                continue
            options = self._choices.get(path)
            editor = (
                _choice_editor(path, options, self)
                if options is not None
                else _editor_for(path, info, self)
            )
            if editor is None:
                continue
            if info.description:
                editor.widget.setToolTip(info.description)
            editor.widget.setObjectName(path)
            form.addRow(info.title or humanize(name), editor.widget)
            self.editors[path] = editor

    def load(self, data: dict[str, Any]) -> None:
        """Put the values of a nested dict (rooted like ``path``) into the editors."""
        for path, editor in self.editors.items():
            editor.put(_dig(data, self._relative(path)))
            self.mark_invalid(path, False)

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for path, editor in self.editors.items():
            _plant(result, self._relative(path), editor.get())
        return result

    def mark_invalid(self, path: str, invalid: bool) -> None:
        editor = self.editors.get(path)
        if editor is None:
            return
        editor.widget.setProperty("invalid", invalid)
        editor.widget.style().unpolish(editor.widget)
        editor.widget.style().polish(editor.widget)

    def _relative(self, path: str) -> list[str]:
        parts = path.split(".")
        return parts[len(self.path.split(".")) :] if self.path else parts


def _dig(data: dict[str, Any], keys: list[str]) -> Any:
    value: Any = data
    for key in keys:
        value = value[key]
    return value


def _plant(data: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value
