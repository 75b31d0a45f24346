"""Tests of the stored rows as values (dbheal_lsp/records.py)."""

from __future__ import annotations

import pytest

from dbheal_lsp.records import FixRecord, utc_now


def test_record_values_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown fix kind"):
        FixRecord("x", utc_now(), "sql", "t")
    with pytest.raises(ValueError, match="unknown fix outcome"):
        FixRecord("x", utc_now(), "code", "t", outcome="done")
