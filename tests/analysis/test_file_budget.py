"""How long one file may take to check (`analysis/file_budget.py`): $DBHEAL_FILE_BUDGET."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.file_budget import (
    DEFAULT_FILE_BUDGET,
    FILE_BUDGET_VARIABLE,
    budget_or_default,
    file_budget,
)
from dbheal_lsp.config import ConfigError


def test_unset_or_blank_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FILE_BUDGET_VARIABLE, raising=False)
    assert file_budget() == DEFAULT_FILE_BUDGET == 10.0
    monkeypatch.setenv(FILE_BUDGET_VARIABLE, "  ")
    assert file_budget() == DEFAULT_FILE_BUDGET


@pytest.mark.parametrize(("raw", "seconds"), [("2.5", 2.5), ("0", 0.0), (" 30 ", 30.0)])
def test_a_number_of_seconds_is_the_budget(
    monkeypatch: pytest.MonkeyPatch, raw: str, seconds: float
) -> None:
    monkeypatch.setenv(FILE_BUDGET_VARIABLE, raw)
    assert file_budget() == seconds


@pytest.mark.parametrize("raw", ["ten", "-1", "nan"])
def test_anything_else_is_one_clear_error_and_the_editor_keeps_the_default(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(FILE_BUDGET_VARIABLE, raw)
    with pytest.raises(
        ConfigError, match=f"DBHEAL_FILE_BUDGET must be a number of seconds, not {raw!r}"
    ):
        file_budget()
    assert budget_or_default() == DEFAULT_FILE_BUDGET
