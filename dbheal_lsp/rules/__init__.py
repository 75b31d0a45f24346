"""The rules: one module per issue type (ruff and sqlglot style), and `RULES`, their registry.

A rule module holds its check, a pure function of a statement's `Facts`
(`analysis/oracle.py`), and the `Rule` record (`rules/rule.py`) of each issue type it reports.
`RULES` lists them in the order the checker runs them and SARIF lists them; `RULE_OF` and
`DEFAULT_SEVERITIES` are read from it. Adding a rule: a module here, its record in `RULES`, its
section in docs/rules.md and its fixture in tests/rules/fixtures/ (tests/rules checks all four).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dbheal_lsp.model import IssueType, Severity
from dbheal_lsp.rules import (
    missing_column,
    missing_index,
    missing_table,
    parameter_mismatch,
    schema_drift,
    select_star,
    sql_injection,
    sql_syntax,
    type_mismatch,
)
from dbheal_lsp.rules.rule import Rule

RULES: tuple[Rule, ...] = (
    missing_table.RULE,
    missing_column.RULE,
    sql_syntax.RULE,
    type_mismatch.RULE,
    missing_index.RULE,
    sql_injection.SQL_INJECTION,
    sql_injection.DYNAMIC_IDENTIFIER,
    select_star.RULE,
    schema_drift.RULE,
    parameter_mismatch.RULE,
)

RULE_OF: Mapping[IssueType, Rule] = MappingProxyType({rule.type: rule for rule in RULES})

# The severity of each issue type unless the configuration overrides it.
DEFAULT_SEVERITIES: Mapping[IssueType, Severity] = MappingProxyType(
    {rule.type: rule.severity for rule in RULES}
)
