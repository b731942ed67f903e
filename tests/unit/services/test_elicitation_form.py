"""A requested schema as a form: the fields, the refusals (outside the spec, secrets) and the
check of an answer."""

from __future__ import annotations

from typing import Any

import pytest

from hybridmcp_app.services.elicitation_form import SchemaRefused, form_of
from tests.helpers.elicit_server import BOOKING_SCHEMA


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_every_kind_of_field_becomes_a_form_row_with_its_titles_bounds_and_defaults() -> None:
    form = form_of("diner", "Book a table?", BOOKING_SCHEMA)
    fields = {field.name: field for field in form.fields}
    assert [field.name for field in form.fields] == list(BOOKING_SCHEMA["properties"])
    assert (fields["name"].kind, fields["name"].title, fields["name"].min_length) == (
        "string",
        "Your name",
        2,
    )
    assert (fields["email"].format, fields["email"].required) == ("email", True)
    assert (fields["guests"].kind, fields["guests"].minimum, fields["guests"].maximum) == (
        "integer",
        1,
        8,
    )
    assert fields["budget"].kind == "number" and not fields["budget"].required
    assert fields["terrace"].kind == "boolean"
    assert [(c.value, c.title) for c in fields["room"].choices] == [
        ("main", "Main hall"),
        ("cellar", "Cellar"),
    ]
    assert [(c.value, c.title) for c in fields["menu"].choices] == [
        ("set", "Set menu"),
        ("carte", "À la carte"),
    ]
    assert (fields["diet"].kind, fields["diet"].max_items) == ("choices", 2)
    assert form.defaults() == {"name": "Ada", "guests": 2, "terrace": False}


def test_a_plain_enum_takes_its_values_as_titles_and_a_multi_select_default_is_a_list() -> None:
    form = form_of("s", "m", schema(
        size={"type": "string", "enum": ["s", "m"], "default": "m"},
        tags={"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "default": ["b"]},
    ))  # fmt: skip
    size = form.fields[0]
    assert [(c.value, c.title) for c in size.choices] == [("s", "s"), ("m", "m")]
    assert form.defaults() == {"size": "m", "tags": ["b"]}


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"address": {"type": "object", "properties": {}}}, "type 'object' is not allowed"),
        ({"ids": {"type": "array", "items": {"type": "integer"}}}, "multi-select of options"),
        ({"when": {"type": "string", "format": "time"}}, "format 'time' is not one of"),
        ({"n": {"type": "integer", "default": "two"}}, "the default must be an integer"),
        ({"size": {"type": "string", "enum": ["s"], "default": "xl"}}, "not one of the options"),
        ({"menu": {"type": "string", "enum": ["a", "b"], "enumNames": ["A"]}}, "enumNames"),
        ({"x": "text"}, "not a schema object"),
    ],
)
def test_a_schema_outside_what_a_form_may_ask_is_refused_with_the_reason(
    properties: dict[str, Any], reason: str
) -> None:
    with pytest.raises(SchemaRefused, match=reason):
        form_of("s", "m", schema(**properties))


def test_a_schema_that_is_not_an_object_or_requires_an_undefined_field_is_refused() -> None:
    with pytest.raises(SchemaRefused, match="must be an object"):
        form_of("s", "m", {"type": "array"})
    with pytest.raises(SchemaRefused, match="requires a field it does not define"):
        form_of("s", "m", {"type": "object", "properties": {}, "required": ["x"]})


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("password", {"type": "string"}),
        ("apiKey", {"type": "string"}),
        ("api_key", {"type": "string"}),
        ("github_token", {"type": "string"}),
        ("value", {"type": "string", "title": "Your private key"}),
        ("value", {"type": "string", "format": "password"}),
        ("value", {"type": "string", "writeOnly": True}),
        ("client-secret", {"type": "string"}),
    ],
)
def test_a_form_that_asks_for_a_secret_is_refused(name: str, spec: dict[str, Any]) -> None:
    with pytest.raises(SchemaRefused, match="never asks for secrets in a form"):
        form_of("s", "m", schema(**{name: spec}))


def test_fields_that_only_mention_such_words_in_passing_or_are_numbers_are_allowed() -> None:
    form = form_of("s", "m", schema(
        max_tokens={"type": "integer"}, keyboard={"type": "string"},
        tokenizer_name={"type": "string"},
    ))  # fmt: skip
    assert [field.name for field in form.fields] == ["max_tokens", "keyboard", "tokenizer_name"]


def test_a_valid_answer_has_no_errors() -> None:
    form = form_of("diner", "Book a table?", BOOKING_SCHEMA)
    answer = {"name": "Grace", "email": "grace@example.org", "day": "2026-08-01", "guests": 4,
              "budget": 80.5, "terrace": True, "room": "cellar", "menu": "carte",
              "diet": ["vegan"]}  # fmt: skip
    assert form.errors(answer) == {}


def test_each_wrong_value_is_reported_under_its_field() -> None:
    form = form_of("diner", "Book a table?", BOOKING_SCHEMA)
    answer = {"name": "G", "email": "grace", "day": "2026-13-01", "guests": 9, "budget": -1,
              "room": "attic", "diet": ["vegan", "nuts", "gluten"], "extra": 1}  # fmt: skip
    assert form.errors(answer) == {
        "name": "at least 2 characters",
        "email": "not a valid email",
        "day": "not a valid date",
        "guests": "at most 8",
        "budget": "at least 0",
        "room": "not one of the options",
        "diet": "not one of the options",
        "extra": "not asked for",
    }


def test_a_missing_required_field_and_a_wrong_type_are_reported() -> None:
    form = form_of("diner", "Book a table?", BOOKING_SCHEMA)
    assert form.errors({"name": "", "guests": 2.5}) == {
        "name": "required", "email": "required", "guests": "must be a whole number",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("uri", "https://example.org/a", "not a uri"),
        ("date-time", "2026-08-01T19:30:00Z", "2026-08-01 19:30"),
        ("date", "2026-02-28", "2026-02-30"),
        ("email", "a@b.io", "a@b"),
    ],
)
def test_the_spec_formats_are_checked(fmt: str, good: str, bad: str) -> None:
    form = form_of("s", "m", schema(value={"type": "string", "format": fmt}))
    assert form.errors({"value": good}) == {}
    assert form.errors({"value": bad}) == {"value": f"not a valid {fmt}"}


def test_too_many_choices_in_a_multi_select_is_reported() -> None:
    form = form_of("s", "m", schema(
        tags={"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 2, "minItems": 1},
    ))  # fmt: skip
    assert form.errors({"tags": ["a", "b", "c"]}) == {"tags": "choose at most 2"}
    assert form.errors({"tags": []}) == {"tags": "choose at least 1"}
