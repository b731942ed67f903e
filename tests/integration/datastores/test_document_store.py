"""One suite, two engines: the docstore on SQLite (embedded) and on a real PostgreSQL cluster
(started here) must give the same answers, refuse the same bad input, and say why."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.datastores.postgres_document_store import PostgresDocumentStore
from hybridmcp_app.datastores.sql_document_store import DocstoreError, SqlDocumentStore
from hybridmcp_app.datastores.sqlite_document_store import SqliteDocumentStore
from tests.helpers.docstore_data import PEOPLE, fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture
def store(docstore: SqlDocumentStore) -> SqlDocumentStore:
    """The store on each engine in turn (``docstore`` in tests/integration/conftest.py)."""
    return docstore


async def ids(store: SqlDocumentStore, filter: dict[str, Any], **options: Any) -> list[str]:
    return [document["_id"] for document in await store.find("people", filter, **options)]


async def test_documents_go_in_and_come_back_exactly(store: SqlDocumentStore) -> None:
    assert await store.insert("people", PEOPLE) == [person["_id"] for person in PEOPLE]
    [generated] = await store.insert("notes", [{"text": "ünïcödé ✓", "n": [1, {"x": None}]}])
    assert len(generated) == 32
    assert await store.get("people", "cyd") == PEOPLE[2]
    assert await store.get("notes", generated) == {"_id": generated, "text": "ünïcödé ✓",
                                                   "n": [1, {"x": None}]}  # fmt: skip
    assert await store.get("people", "nobody") is None
    assert [(c.name, c.count) for c in await store.list_collections()] == [
        ("notes", 1), ("people", 5),
    ]  # fmt: skip


async def test_a_duplicate_id_refuses_the_whole_insert(store: SqlDocumentStore) -> None:
    await store.insert("people", PEOPLE[:1])
    with pytest.raises(DocstoreError, match="already has one of these _ids; use update"):
        await store.insert("people", [PEOPLE[1], PEOPLE[0]])
    assert await store.count("people") == 1  # Bob did not go in either


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"name": "Bob"}, ["bob"]),
        ({"age": 17}, ["bob"]),  # the string "17" is not the number 17
        ({"age": "17"}, ["cyd"]),
        ({"age": {"$gt": 17}}, ["ada", "dee"]),
        ({"age": {"$gte": 17, "$lt": 50}}, ["ada", "bob"]),
        ({"name": {"$lt": "C"}}, ["ada", "bob"]),
        ({"name": {"$gt": "Dee"}}, ["eve"]),  # "É" sorts after ASCII, as code points do
        ({"age": {"$ne": 17}}, ["ada", "cyd", "dee", "eve"]),  # other values, types, missing
        ({"city.name": "Paris"}, ["bob"]),
        ({"city": None}, ["dee"]),
        ({"city": {"$exists": True}}, ["ada", "bob", "cyd", "dee"]),
        ({"active": {"$exists": False}}, ["ada", "dee"]),
        ({"active": True}, ["bob", "eve"]),
        ({"name": {"$in": ["Ada", "Eve", "Éve"]}}, ["ada", "eve"]),
        ({"name": {"$nin": ["Ada", "Bob"]}}, ["cyd", "dee", "eve"]),
        ({"$or": [{"age": {"$lt": 18}}, {"city.name": "London"}]}, ["ada", "bob"]),
        ({"$and": [{"active": True}, {"age": {"$exists": True}}]}, ["bob"]),
        ({"_id": {"$in": ["eve", "ada"]}}, ["ada", "eve"]),
        ({}, ["ada", "bob", "cyd", "dee", "eve"]),
    ],
)
async def test_the_filter_language_answers_alike_on_both_engines(
    store: SqlDocumentStore, filter: dict[str, Any], expected: list[str]
) -> None:
    await store.insert("people", PEOPLE)
    assert await ids(store, filter) == expected
    assert await store.count("people", filter) == len(expected)


async def test_sorting_groups_types_and_orders_within_them(store: SqlDocumentStore) -> None:
    await store.insert("people", PEOPLE)
    by_age = [{"field": "age", "order": "asc"}]
    # missing/null first, then numbers, then strings; insertion order breaks ties
    assert await ids(store, {}, sort=by_age) == ["eve", "bob", "ada", "dee", "cyd"]
    assert await ids(store, {}, sort=[{"field": "age", "order": "desc"}], limit=2) == [
        "cyd", "dee",
    ]  # fmt: skip
    by_name = [{"field": "name", "order": "desc"}]
    assert await ids(store, {}, sort=by_name) == ["eve", "dee", "cyd", "bob", "ada"]


async def test_update_sets_fields_of_the_matches_and_delete_removes_them(
    store: SqlDocumentStore,
) -> None:
    await store.insert("people", PEOPLE)
    assert await store.update("people", {"age": {"$lt": 18}}, {"minor": True, "age": 18}) == 1
    assert await store.get("people", "bob") == {**PEOPLE[1], "minor": True, "age": 18}
    assert await store.delete("people", {"active": True}) == 2
    assert await ids(store, {}) == ["ada", "cyd", "dee"]
    assert await store.delete("people", {"_id": {"$exists": True}}) == 3
    assert await store.count("people") == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.find("bad name!"), "not a collection name"),
        (lambda s: s.find("people", {"age": {"$regex": "1"}}), "unknown operator '$regex'"),
        (lambda s: s.find("people", {"$nor": []}), "unknown operator '$nor'"),
        (lambda s: s.find("people", {"age": {"$gt": True}}), "compares strings or numbers"),
        (lambda s: s.find("people", {"age": [1, 2]}), "compare with a string, number"),
        (lambda s: s.find("people", {"a..b": 1}), "is not a field name"),
        (lambda s: s.find("people", {"$or": []}), "non-empty list"),
        (lambda s: s.find("people", limit=0), "limit is 1 to 1000"),
        (lambda s: s.find("people", sort=[{"field": "age", "order": "up"}]), "sort items"),
        (lambda s: s.update("people", {}, {"x": 1}), "update needs a filter"),
        (lambda s: s.update("people", {"name": "Ada"}, {"_id": "x"}), "never _id"),
        (lambda s: s.delete("people", {}), "delete needs a filter"),
        (lambda s: s.insert("people", [{"_id": 5}]), "_id is a string"),
        (lambda s: s.insert("people", [{"blob": "x" * 1_000_001}]), "at most 1,000,000"),
        (lambda s: s.insert("people", []), "insert takes 1 to 1000 documents"),
    ],
)
async def test_bad_requests_are_refused_with_the_reason(
    store: SqlDocumentStore, call: Any, message: str
) -> None:
    with pytest.raises(DocstoreError, match=message.replace("$", r"\$").replace("(", r"\(")):
        await call(store)


async def test_random_filters_and_sorts_give_identical_answers_on_both_engines(
    tmp_path: Path, postgres: str
) -> None:
    rng = random.Random(11)
    values: list[Any] = [None, True, False, 0, 1, 2.5, -3, 10, "a", "B", "b", "é", "10", ""]
    documents = []
    for number in range(150):
        document: dict[str, Any] = {"_id": f"d{number:03}"}
        for name in ("x", "y", "z"):
            if rng.random() < 0.8:
                document[name] = rng.choice(values)
        if rng.random() < 0.5:
            document["nested"] = {"v": rng.choice(values)}
        documents.append(document)
    engines = [SqliteDocumentStore(tmp_path / "a.sqlite3"),
               PostgresDocumentStore(fresh_database(postgres))]  # fmt: skip
    try:
        for engine in engines:
            await engine.insert("random", documents)
        for _ in range(60):
            filter = random_filter(rng, values)
            sort = [{"field": rng.choice(["x", "y", "nested.v"]),
                     "order": rng.choice(["asc", "desc"])}]  # fmt: skip
            answers = [
                [doc["_id"] for doc in await engine.find("random", filter, sort, limit=1000)]
                for engine in engines
            ]
            assert answers[0] == answers[1], (filter, sort)
    finally:
        for engine in engines:
            await engine.close()


def random_filter(rng: random.Random, values: list[Any]) -> dict[str, Any]:
    def term() -> dict[str, Any]:
        name = rng.choice(["x", "y", "z", "nested.v"])
        operator = rng.choice(["$eq", "$ne", "$gt", "$lte", "$in", "$nin", "$exists"])
        if operator == "$exists":
            return {name: {"$exists": rng.random() < 0.5}}
        if operator in ("$in", "$nin"):
            return {name: {operator: rng.sample(values, 3)}}
        if operator in ("$gt", "$lte"):
            return {name: {operator: rng.choice([0, 2, "a", "b", 10])}}
        return {name: {operator: rng.choice(values)}}

    return {rng.choice(["$and", "$or"]): [term() for _ in range(rng.randint(1, 3))]}


async def test_an_unreachable_postgres_is_a_clear_error() -> None:
    store = PostgresDocumentStore("host=127.0.0.1 port=9 user=x dbname=x connect_timeout=2")
    with pytest.raises(DocstoreError, match="PostgreSQL cannot be reached"):
        await store.count("people")
