"""Which values convert losslessly to a new type (`databases/sqlite/lossless.py`), and the report of those that do not."""

from __future__ import annotations

import sqlite3

import pytest

from dbheal_lsp.databases.sqlite.lossless import lossy_report

# --- lossy values -----------------------------------------------------------------------------


def _values_db(values: list[object], declared: str = "") -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(f"CREATE TABLE v (x {declared})")  # no type: every value stays as it is given
    conn.executemany("INSERT INTO v (x) VALUES (?)", [(value,) for value in values])
    return conn


@pytest.mark.parametrize(
    ("new_type", "lossless", "lossy"),
    [
        pytest.param(
            "INTEGER",
            ["42", "-5", "0", 12.0, 42, None, "9223372036854775807"],
            ["abc", "12.5", "", " 7", "007", "+5", "1e3", 12.5, b"\x00", "9223372036854775808"],
            id="integer",
        ),
        pytest.param(
            "BIGINT",
            ["42"],
            ["4 2"],
            id="integer-affinity",
        ),
        pytest.param(
            "REAL",
            ["12.5", "42", " 7", 42, 1.5, None, 2**53],
            ["abc", "", "12.5abc", "0x10", b"\x01", 2**53 + 1],
            id="real",
        ),
        pytest.param(
            "TEXT",
            ["abc", 42, 12.5, 0.1, None, ""],
            [b"\x00\x01", 0.30000000000000004],
            id="text",
        ),
        pytest.param(
            "NUMERIC",
            ["12.5", "42", 7, 1.5, None],
            ["abc", "", b"\x02"],
            id="numeric",
        ),
        pytest.param("BLOB", ["abc", 1, 1.5, b"\x00", None], [], id="blob"),
    ],
)
def test_lossy_values(new_type: str, lossless: list[object], lossy: list[object]) -> None:
    conn = _values_db(lossless + lossy)
    report = lossy_report(conn, "v", "x", new_type)
    assert report.total_rows == len(lossless) + len(lossy)
    assert report.lossy_count == len(lossy)
    first = len(lossless) + 1
    assert report.first_rowids == tuple(range(first, first + len(lossy)))[:10]
    assert report.examples == tuple(repr(v) for v in lossy)[:10]


def test_lossy_report_of_a_text_column_lists_the_first_rows_in_rowid_order() -> None:
    # An index on the column would give the scan another order; the report keeps rowid order.
    conn = _values_db(["42", "zz", "7", "aa", "", "13"] * 3, "TEXT")
    conn.execute("CREATE INDEX v_x ON v(x)")
    report = lossy_report(conn, "v", "x", "INTEGER", limit=4)
    assert report.lossy_count == 9
    assert report.first_rowids == (2, 4, 5, 8)
    assert report.examples == ("'zz'", "'aa'", "''", "'zz'")
    assert report.lossless is False


def test_lossy_report_shortens_long_examples() -> None:
    conn = _values_db(["x" * 500])
    (example,) = lossy_report(conn, "v", "x", "INTEGER").examples
    assert len(example) == 60
    assert example.endswith("...")


def test_lossy_report_of_a_without_rowid_table_uses_its_integer_key() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE w (k INTEGER PRIMARY KEY, x TEXT) WITHOUT ROWID")
    conn.executemany("INSERT INTO w VALUES (?, ?)", [(10, "1"), (20, "x"), (30, "y")])
    report = lossy_report(conn, "w", "x", "INTEGER")
    assert (report.lossy_count, report.first_rowids) == (2, (20, 30))


def test_lossy_report_refuses_unknown_names() -> None:
    conn = _values_db([1])
    with pytest.raises(ValueError, match="no such table"):
        lossy_report(conn, "nope", "x", "INTEGER")
    with pytest.raises(ValueError, match="no column"):
        lossy_report(conn, "v", "nope", "INTEGER")
