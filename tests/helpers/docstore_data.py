"""Shared by the docstore tests: a few people, and a new database per test on the cluster."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

PEOPLE: list[dict[str, Any]] = [
    {"_id": "ada", "name": "Ada", "age": 36, "city": {"name": "London"}, "tags": ["math"]},
    {"_id": "bob", "name": "Bob", "age": 17, "city": {"name": "Paris"}, "active": True},
    {"_id": "cyd", "name": "Cyd", "age": "17", "city": {"name": "Zürich"}, "active": False},
    {"_id": "dee", "name": "Dee", "age": 52.5, "city": None},
    {"_id": "eve", "name": "Éve", "active": True},
]


def fresh_database(conninfo: str) -> str:
    """A new, empty database on the cluster; its connection string."""
    name = f"docstore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return conninfo.replace("dbname=postgres", f"dbname={name}")
