"""The docstore's filter language, checked, and compiled to SQL for SQLite and PostgreSQL.

A filter is a JSON object, the shape MongoDB made familiar:

- ``{"field": value}`` — equal (``field`` may be dotted: ``"address.city"``);
- ``{"field": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": value}}`` — compared;
- ``{"field": {"$in"|"$nin": [value, ...]}}`` — one of / none of;
- ``{"field": {"$exists": true|false}}`` — present (JSON null counts as present) or not;
- ``{"$and": [filter, ...]}``, ``{"$or": [filter, ...]}``; several keys in one object: all hold.

Values are JSON scalars (string, number, boolean, null). A comparison matches only values of
the same JSON type as the one given (``{"age": {"$gt": 3}}`` never matches ``"age": "10"``), so
both engines answer alike: SQLite and PostgreSQL order mixed types differently. ``$ne`` and
``$nin`` match documents whose field holds another value or another type, or is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Scalar = str | int | float | bool | None
Kind = Literal["string", "number", "boolean", "null"]
COMPARISONS = {"$eq": "=", "$ne": "<>", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
FIELD_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,7}$")
MAX_DEPTH = 8
MAX_TERMS = 100


class FilterError(ValueError):
    """A filter that is not of the language; the message says where and why."""


def kind_of(value: Scalar) -> Kind:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def check_field(name: str) -> list[str]:
    if name == "_id":
        return ["_id"]
    if not FIELD_PATTERN.fullmatch(name):
        raise FilterError(
            f"{name!r} is not a field name: letters, digits, '_' and '-', dotted for nested fields"
        )
    return name.split(".")


SqlPart = tuple[str, list[Any]]


@dataclass
class Dialect:
    """How one engine tests a field of the ``doc`` column; ``placeholder`` is its parameter."""

    placeholder: str
    kind_test: Callable[[list[str], Kind], SqlPart]  # the field holds a value of that kind
    exists: Callable[[list[str]], SqlPart]
    compare: Callable[[list[str], str, Scalar, Kind], SqlPart]  # field op value (same kind)
    order_by: Callable[[list[str]], list[SqlPart]]  # the expressions to sort on, in turn


@dataclass
class Compiled:
    sql: str
    params: list[Any] = field(default_factory=list)


def compile_filter(spec: Mapping[str, Any], dialect: Dialect) -> Compiled:
    """SQL (a boolean expression over ``doc`` and ``id``) and its parameters."""
    if not isinstance(spec, Mapping):
        raise FilterError("a filter is a JSON object")
    counter = [0]
    sql, params = _object(spec, dialect, 0, counter)
    return Compiled(sql, params)


def _object(
    spec: Mapping[str, Any], dialect: Dialect, depth: int, counter: list[int]
) -> tuple[str, list[Any]]:
    if depth > MAX_DEPTH:
        raise FilterError(f"filters nest at most {MAX_DEPTH} levels")
    if not spec:
        return "1 = 1", []
    parts: list[str] = []
    params: list[Any] = []
    for key, value in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise FilterError(f"{key} takes a non-empty list of filters")
            inner = [_object(_mapping(item, key), dialect, depth + 1, counter) for item in value]
            joiner = " AND " if key == "$and" else " OR "
            parts.append("(" + joiner.join(sql for sql, _ in inner) + ")")
            params += [param for _, inner_params in inner for param in inner_params]
        elif key.startswith("$"):
            raise FilterError(f"unknown operator {key!r} (use $and, $or, or a field name)")
        else:
            sql, field_params = _field(check_field(key), value, dialect, counter)
            parts.append(sql)
            params += field_params
    return "(" + " AND ".join(parts) + ")", params


def _mapping(item: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise FilterError(f"each item of {where} is a filter object")
    return item


def _field(
    path: list[str], condition: Any, dialect: Dialect, counter: list[int]
) -> tuple[str, list[Any]]:
    if not isinstance(condition, Mapping):
        return _compare(path, "$eq", condition, dialect, counter)
    if not condition:
        raise FilterError(f"{'.'.join(path)}: an empty condition")
    parts, params = [], []
    for operator, operand in condition.items():
        if operator == "$exists":
            if not isinstance(operand, bool):
                raise FilterError("$exists takes true or false")
            sql, more = ("1 = 1", []) if path == ["_id"] else dialect.exists(path)
            parts.append(sql if operand else f"NOT ({sql})")
        elif operator in ("$in", "$nin"):
            if not isinstance(operand, list) or not operand or len(operand) > MAX_TERMS:
                raise FilterError(f"{operator} takes a list of 1 to {MAX_TERMS} values")
            terms = [_compare(path, "$eq", value, dialect, counter) for value in operand]
            sql = "(" + " OR ".join(term for term, _ in terms) + ")"
            more = [param for _, term_params in terms for param in term_params]
            parts.append(sql if operator == "$in" else f"NOT COALESCE({sql}, FALSE)")
        elif operator in COMPARISONS:
            sql, more = _compare(path, operator, operand, dialect, counter)
            parts.append(sql)
        else:
            raise FilterError(f"unknown operator {operator!r} for {'.'.join(path)}")
        params += more
    return "(" + " AND ".join(parts) + ")", params


def _compare(
    path: list[str], operator: str, value: Any, dialect: Dialect, counter: list[int]
) -> SqlPart:
    counter[0] += 1
    if counter[0] > MAX_TERMS:
        raise FilterError(f"a filter has at most {MAX_TERMS} conditions")
    if not isinstance(value, str | int | float | bool) and value is not None:
        raise FilterError(f"{'.'.join(path)}: compare with a string, number, boolean or null")
    kind = kind_of(value)
    if operator in ("$gt", "$gte", "$lt", "$lte") and kind not in ("string", "number"):
        raise FilterError(f"{operator} compares strings or numbers, not {kind}")
    if path == ["_id"]:
        if kind != "string":
            raise FilterError("_id is a string")
        return f"id {COMPARISONS[operator]} {dialect.placeholder}", [value]
    if operator == "$ne":  # another value, another type, or missing
        equal, params = _compare(path, "$eq", value, dialect, counter)
        return f"NOT COALESCE({equal}, FALSE)", params
    kind_sql, kind_params = dialect.kind_test(path, kind)
    if kind == "null":
        return kind_sql, kind_params
    compared, compare_params = dialect.compare(path, COMPARISONS[operator], value, kind)
    return f"({kind_sql} AND {compared})", [*kind_params, *compare_params]


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sort_keys(sort: Sequence[Mapping[str, Any]] | None) -> list[tuple[list[str], bool]]:
    """``[{"field": "age", "order": "desc"}, ...]`` → (path, descending) pairs."""
    keys = []
    for item in sort or ():
        name = item.get("field")
        order = item.get("order", "asc")
        if not isinstance(name, str) or order not in ("asc", "desc"):
            raise FilterError('sort items look like {"field": "age", "order": "asc"|"desc"}')
        keys.append((check_field(name), order == "desc"))
    return keys
