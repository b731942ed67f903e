"""An elicitation's requested schema as a form: the fields a front end shows, their defaults, and
the check of an answer.

The spec allows only a flat object of primitive properties: strings (``email``, ``uri``, ``date``,
``date-time`` formats, lengths), numbers and integers (bounds), booleans, single-select enums
(``enum``, legacy ``enumNames``, titled ``oneOf``/``anyOf`` of ``const``/``title``) and
multi-select arrays of such enums (item counts). Anything else is refused, and so is a form that
asks for a secret: servers must send the user to a page of their own (URL mode) for those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ConfigDict

from hybridmcp_app.core.errors import HybridMCPError

FieldKind = Literal["string", "number", "integer", "boolean", "choice", "choices"]
FORMATS = ("email", "uri", "date", "date-time")
# Words in a string field's name or title that name a secret (also ``format: password`` and
# ``writeOnly``): such a form is refused.
SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "passcode", "secret", "secrets", "token", "apikey",
     "credential", "credentials", "pwd"}
)  # fmt: skip
SECRET_PHRASES = ("api key", "private key", "access key", "secret key", "client secret")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class SchemaRefused(HybridMCPError):
    """The requested schema is outside what the spec allows in a form, or asks for a secret."""


class Choice(BaseModel):
    """One option of an enum: the value sent back and the title shown."""

    model_config = ConfigDict(frozen=True)
    value: str
    title: str


class FormField(BaseModel):
    """One property of the requested schema, as a front end shows it."""

    model_config = ConfigDict(frozen=True)
    name: str
    title: str
    description: str = ""
    kind: FieldKind
    required: bool = False
    default: str | int | float | bool | tuple[str, ...] | None = None
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Choice, ...] = ()
    min_items: int | None = None
    max_items: int | None = None


class ElicitForm(BaseModel):
    """A server's form request: who asks, why, and the fields."""

    model_config = ConfigDict(frozen=True)
    server: str
    message: str
    fields: tuple[FormField, ...]
    requested_schema: dict[str, Any]

    def defaults(self) -> dict[str, Any]:
        """The schema's defaults, as an answer (what a form shows before the user types)."""
        return {
            field.name: list(field.default) if isinstance(field.default, tuple) else field.default
            for field in self.fields
            if field.default is not None
        }

    def errors(self, content: Mapping[str, Any]) -> dict[str, str]:
        """What is wrong with an answer, by field name (empty when it may be sent)."""
        return answer_errors(self, content)


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if word]


def asks_for_secret(name: str, spec: Mapping[str, Any]) -> bool:
    """Whether a string property looks like a password, token, key or other secret."""
    if spec.get("format") == "password" or spec.get("writeOnly") is True:
        return True
    for text in (name, str(spec.get("title", ""))):
        words = _words(text)
        joined = " ".join(words)
        if SECRET_WORDS.intersection(words) or any(p in joined for p in SECRET_PHRASES):
            return True
    return False


def _choices(name: str, spec: Mapping[str, Any]) -> tuple[Choice, ...] | None:
    """The options of a single-select enum, or None when ``spec`` is not one."""
    titled = spec.get("oneOf", spec.get("anyOf"))
    if titled is not None:
        if not isinstance(titled, list) or not titled:
            raise SchemaRefused(f"field '{name}': oneOf/anyOf must list const/title options")
        options = []
        for option in titled:
            if not isinstance(option, dict) or not isinstance(option.get("const"), str):
                raise SchemaRefused(f"field '{name}': each option needs a string const")
            title = str(option.get("title") or option["const"])
            options.append(Choice(value=option["const"], title=title))
        return tuple(options)
    values = spec.get("enum")
    if values is None:
        return None
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise SchemaRefused(f"field '{name}': enum must be a non-empty list of strings")
    names = spec.get("enumNames")
    if names is not None and (not isinstance(names, list) or len(names) != len(values)):
        raise SchemaRefused(f"field '{name}': enumNames must name each enum value")
    titles = [str(title) for title in names] if names is not None else values
    return tuple(Choice(value=v, title=t) for v, t in zip(values, titles, strict=True))


def _number(name: str, spec: Mapping[str, Any], key: str) -> float | None:
    value = spec.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise SchemaRefused(f"field '{name}': {key} must be a number")
    return value


def _count(name: str, spec: Mapping[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise SchemaRefused(f"field '{name}': {key} must be a whole number ≥ 0")
    return value


def field_of(name: str, spec: Any, required: bool) -> FormField:
    """One property as a field; ``SchemaRefused`` says why it cannot be one."""
    if not isinstance(spec, dict):
        raise SchemaRefused(f"field '{name}' is not a schema object")
    kind = spec.get("type")
    common: dict[str, Any] = {
        "name": name,
        "title": str(spec.get("title") or name),
        "description": str(spec.get("description") or ""),
        "required": required,
    }
    default = spec.get("default")
    if kind == "string":
        if asks_for_secret(name, spec):
            raise SchemaRefused(
                f"field '{name}' asks for a secret; HybridMCP never asks for secrets in a form"
                " (a server must use URL mode for them)"
            )
        fmt = spec.get("format")
        if fmt is not None and fmt not in FORMATS:
            allowed = ", ".join(FORMATS)
            raise SchemaRefused(f"field '{name}': format '{fmt}' is not one of {allowed}")
        choices = _choices(name, spec)
        if choices is not None:
            if default is not None and default not in {c.value for c in choices}:
                raise SchemaRefused(f"field '{name}': the default is not one of the options")
            return FormField(**common, kind="choice", choices=choices, default=default)
        if default is not None and not isinstance(default, str):
            raise SchemaRefused(f"field '{name}': the default must be a string")
        return FormField(
            **common, kind="string", format=fmt, default=default,
            min_length=_count(name, spec, "minLength"), max_length=_count(name, spec, "maxLength"),
        )  # fmt: skip
    if kind in ("number", "integer"):
        if default is not None and (
            isinstance(default, bool)
            or not isinstance(default, int if kind == "integer" else int | float)
        ):
            raise SchemaRefused(f"field '{name}': the default must be an {kind}")
        return FormField(
            **common, kind=kind, default=default,
            minimum=_number(name, spec, "minimum"), maximum=_number(name, spec, "maximum"),
        )  # fmt: skip
    if kind == "boolean":
        if default is not None and not isinstance(default, bool):
            raise SchemaRefused(f"field '{name}': the default must be true or false")
        return FormField(**common, kind="boolean", default=default)
    if kind == "array":
        items = spec.get("items")
        choices = _choices(name, items) if isinstance(items, dict) else None
        if (
            choices is None
            or not isinstance(items, dict)
            or items.get("type", "string") != "string"
        ):
            raise SchemaRefused(f"field '{name}': an array must be a multi-select of options")
        values = {c.value for c in choices}
        if default is not None and (
            not isinstance(default, list) or not all(item in values for item in default)
        ):
            raise SchemaRefused(f"field '{name}': the default must list some of the options")
        return FormField(
            **common, kind="choices", choices=choices,
            default=tuple(default) if default is not None else None,
            min_items=_count(name, spec, "minItems"), max_items=_count(name, spec, "maxItems"),
        )  # fmt: skip
    raise SchemaRefused(
        f"field '{name}': type {kind!r} is not allowed in a form"
        " (string, number, integer, boolean, or an array of options)"
    )


def form_of(server: str, message: str, schema: Mapping[str, Any]) -> ElicitForm:
    """The form for a requested schema; ``SchemaRefused`` says why there can be none."""
    if schema.get("type") != "object":
        raise SchemaRefused("the requested schema must be an object")
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise SchemaRefused("the requested schema's properties must be an object")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(name in properties for name in required):
        raise SchemaRefused("the requested schema requires a field it does not define")
    fields = tuple(field_of(name, spec, name in required) for name, spec in properties.items())
    return ElicitForm(server=server, message=message, fields=fields, requested_schema=dict(schema))


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


def _is_date(value: object) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and bool(date.fromisoformat(value)))


def _is_date_time(value: object) -> bool:
    # RFC 3339: a date, "T", a time with seconds and an offset ("Z" or ±hh:mm)
    pattern = r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$"
    if not isinstance(value, str):
        return True
    if not re.match(pattern, value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


_FORMATS = FormatChecker(formats=())  # the spec's four, checked as RFC 3339 / 3986 ask
for _name, _check in (("email", _is_email), ("uri", _is_uri), ("date", _is_date),
                      ("date-time", _is_date_time)):  # fmt: skip
    _FORMATS.checks(_name, raises=ValueError)(_check)


def _message(error: Any) -> str:
    if error.validator == "format":
        return f"not a valid {error.validator_value}"
    if error.validator in ("enum", "anyOf", "oneOf"):
        return "not one of the options"
    if error.validator == "type":
        wanted = error.validator_value
        return "must be a whole number" if wanted == "integer" else f"must be a {wanted}"
    if error.validator == "minLength":
        return f"at least {error.validator_value} characters"
    if error.validator == "maxLength":
        return f"at most {error.validator_value} characters"
    if error.validator == "minimum":
        return f"at least {error.validator_value:g}"
    if error.validator == "maximum":
        return f"at most {error.validator_value:g}"
    if error.validator == "minItems":
        return f"choose at least {error.validator_value}"
    if error.validator == "maxItems":
        return f"choose at most {error.validator_value}"
    return str(error.message).splitlines()[0]


def answer_errors(form: ElicitForm, content: Mapping[str, Any]) -> dict[str, str]:
    """An answer checked against the requested schema (jsonschema, with the spec's formats)."""
    known = {field.name for field in form.fields}
    problems = {name: "not asked for" for name in content if name not in known}
    for field in form.fields:
        if field.required and content.get(field.name) in (None, "", []):
            problems[field.name] = "required"
    present = {k: v for k, v in content.items() if k in known and v is not None}
    validator = Draft202012Validator(form.requested_schema, format_checker=_FORMATS)
    for error in validator.iter_errors(present):
        if error.validator == "required":
            continue  # reported above, by field
        name = str(error.path[0]) if error.path else ""
        problems.setdefault(name, _message(error))
    return problems
