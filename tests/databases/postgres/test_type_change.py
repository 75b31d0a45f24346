"""The type change's guarded dry run on the real server: values that would not convert, or would
change, counted and shown without the cast ever raising; the plan says what it locks."""

from __future__ import annotations

from typing import Any

import pytest

from dbheal_lsp.databases.postgres.type_change import (
    change_type_plan,
    converts_expression,
    lossy_report,
)


def _values(conn: Any, values: list[str | None]) -> None:
    conn.execute("CREATE TABLE v (id serial PRIMARY KEY, x text)")
    for value in values:
        conn.execute("INSERT INTO v (x) VALUES (%s)", (value,))


@pytest.mark.parametrize(
    ("new_type", "lossy"),
    [
        ("integer", ["abc", "1.5", "99999999999", "007", " 12"]),
        ("bigint", ["abc", "1.5", "007", " 12"]),
        ("numeric", ["abc", "007", " 12"]),
        ("boolean", ["abc", "1.5", "99999999999", "007", " 12", "12", "7"]),
    ],
)
def test_the_guard_finds_every_value_that_fails_or_changes(
    pg_conn: Any, new_type: str, lossy: list[str]
) -> None:
    _values(pg_conn, ["abc", "1.5", "99999999999", "007", " 12", "12", "7", None])
    found = lossy_report(pg_conn, "public", "v", "x", new_type, 10)
    assert found.total_rows == 8
    shown = sorted(e.split(": ", 1)[1].split(" would")[0] for e in found.examples)
    assert shown == sorted(repr(v) for v in lossy)
    assert found.lossy_count == len(lossy)


def test_the_examples_say_what_each_value_would_become(pg_conn: Any) -> None:
    _values(pg_conn, ["abc", "007"])
    found = lossy_report(pg_conn, "public", "v", "x", "integer", 5)
    assert any(e.endswith("'abc' would not convert (integer)") for e in found.examples)
    assert any(e.endswith("'007' would become 7 (integer)") for e in found.examples)


def test_the_guard_never_raises_even_where_a_plain_cast_would(pg_conn: Any) -> None:
    _values(pg_conn, ["abc", "1e400", "99999999999999999999999"])
    for new_type, converts in (
        ("integer", [False, False, False]),
        ("real", [False, False, True]),  # 1e23 fits a real; 1e400 does not
        ("double precision", [False, False, True]),
        ("uuid", [False, False, False]),
        ("varchar(2)", [False, False, False]),
    ):
        guard = converts_expression("x", new_type)
        rows = pg_conn.execute(f"SELECT {guard} FROM v ORDER BY id").fetchall()
        assert [r[0] for r in rows] == converts, new_type


def test_the_plan_says_it_locks_and_rewrites_the_table(pg_conn: Any) -> None:
    _values(pg_conn, ["1", "2"])
    plan = change_type_plan(pg_conn, "public", "v", "x", "integer", lock_timeout=3)
    assert plan.title == "Change v.x from text to integer"
    assert "ACCESS EXCLUSIVE lock on v and rewrites it" in plan.description
    assert "waiting at most 3 s for the lock (lock_timeout)" in plan.description
    assert plan.sql == 'ALTER TABLE "v" ALTER COLUMN "x" TYPE integer USING "x"::integer;'
    null = change_type_plan(pg_conn, "public", "v", "x", "integer", on_lossy="null")
    assert "CASE WHEN" in null.sql and "values that would not convert become NULL" in (
        null.description
    )


def test_no_plan_for_a_type_it_cannot_check_or_a_missing_column(pg_conn: Any) -> None:
    _values(pg_conn, ["1"])
    with pytest.raises(ValueError, match="cannot check values for a change to tsvector"):
        change_type_plan(pg_conn, "public", "v", "x", "tsvector")
    with pytest.raises(ValueError, match=r"no column v\.nope"):
        change_type_plan(pg_conn, "public", "v", "nope", "integer")
