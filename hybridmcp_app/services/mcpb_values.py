"""A bundle's settings (``user_config``) as the user gave them, checked against the manifest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hybridmcp_app.services.mcpb_manifest import (
    BundleRefused,
    Manifest,
    UserConfigField,
    UserValue,
    substitute,
    system_variables,
)


def default_value(key: str, field: UserConfigField) -> UserValue | None:
    """The field's default with ``${HOME}`` and the like substituted."""
    variables = system_variables(Path())

    def one(value: str) -> str:
        return substitute(value, variables, where=f"the default of {key}")

    default = field.default
    if isinstance(default, list):
        return [one(v) for v in default]
    return one(default) if isinstance(default, str) else default


def check_values(manifest: Manifest, values: Mapping[str, UserValue]) -> dict[str, str | list[str]]:
    """Each setting that has a value, as text (several values for a ``multiple`` one); a
    required one left empty or a value of the wrong kind is refused, naming the setting."""
    checked: dict[str, str | list[str]] = {}
    for key, field in manifest.user_config.items():
        value = values.get(key, default_value(key, field))
        if value is None or value == "" or value == []:
            if field.required:
                raise BundleRefused(f"“{field.title}” is required")
            continue
        checked[key] = _checked(field, value)
    return checked


def _checked(field: UserConfigField, value: UserValue) -> str | list[str]:
    if field.type == "number":
        return _number(field, value)
    if field.type == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        if str(value).lower() not in ("true", "false"):
            raise BundleRefused(f"“{field.title}” must be true or false")
        return str(value).lower()
    if isinstance(value, list):
        if not field.multiple:
            raise BundleRefused(f"“{field.title}” takes one value")
        return [str(v) for v in value if str(v)]
    return [str(value)] if field.multiple else str(value)


def _number(field: UserConfigField, value: UserValue) -> str:
    if isinstance(value, bool | list):
        raise BundleRefused(f"“{field.title}” must be a number")
    try:
        number = float(value)
    except ValueError:
        raise BundleRefused(f"“{field.title}” must be a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BundleRefused(f"“{field.title}” must be a number")
    if field.min is not None and number < field.min:
        raise BundleRefused(f"“{field.title}” must be at least {field.min:g}")
    if field.max is not None and number > field.max:
        raise BundleRefused(f"“{field.title}” must be at most {field.max:g}")
    return str(int(number)) if number.is_integer() else str(number)
