"""The SQLite back end names its driver's errors once."""

from __future__ import annotations

import sqlite3

import pytest

from dbheal_lsp.databases.sqlite import DRIVER_ERRORS


def test_driver_errors_catch_a_failed_statement() -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(DRIVER_ERRORS):
        conn.execute("SELECT nothing FROM no_such_table")
