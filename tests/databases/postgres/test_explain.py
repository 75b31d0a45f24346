"""Plans read in SQLite's words, from a real server's EXPLAIN and from plan documents."""

from __future__ import annotations

from typing import Any

from dbheal_lsp.databases.postgres.explain import plan_lines, query_plan
from dbheal_lsp.databases.postgres.params import dollar_text


def test_plan_nodes_in_sqlite_words() -> None:
    node = {
        "Node Type": "Sort",
        "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "t", "Alias": "a"},
            {"Node Type": "Index Scan", "Alias": "u", "Index Name": "u_pkey", "Index Cond": "x"},
            {"Node Type": "Index Scan", "Alias": "v", "Index Name": "v_pkey"},
            {
                "Node Type": "Bitmap Heap Scan",
                "Alias": "w",
                "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "w_i"}],
            },
        ],
    }
    assert list(plan_lines(node)) == [
        "USE TEMP B-TREE FOR ORDER BY",
        "SCAN a",
        "SEARCH u USING INDEX u_pkey (x)",
        "SCAN v USING INDEX v_pkey",
        "SEARCH w USING INDEX w_i ()",
    ]


def test_small_table_with_an_index_is_searched_and_nothing_is_left(pg_conn: Any) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text, code text)")
    pg_conn.execute("CREATE INDEX t_code ON t (code)")
    # Plain EXPLAIN reads a tiny table in full; with sequential scans off the index shows.
    assert query_plan(pg_conn, dollar_text("SELECT id FROM t WHERE code = ?"))[0].startswith(
        "SEARCH t USING INDEX t_code"
    )
    assert query_plan(pg_conn, dollar_text("SELECT id FROM t WHERE name = ?")) == ["SCAN t"]
    assert query_plan(pg_conn, dollar_text("SELECT FROM nope")) == []
    assert pg_conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    assert pg_conn.info.transaction_status == 0  # idle: rolled back
