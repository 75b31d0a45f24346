"""SQL_INJECTION and DYNAMIC_IDENTIFIER: non-constant values built into the SQL text.

One check reports both: an interpolated slot is a value (bind it) or a name (allow-list it).
"""

from __future__ import annotations

from collections.abc import Iterator

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import issue
from dbheal_lsp.rules.rule import Rule


def injections(facts: Facts) -> Iterator[Issue]:
    """SQL_INJECTION and DYNAMIC_IDENTIFIER: non-constant values built into the SQL text."""
    how = {
        "fstring": "an f-string",
        "percent": "% formatting",
        "format": ".format()",
        "concat": "string concatenation (+)",
        "join": "str.join()",
        "template": "a template literal",
    }
    for sr in facts.rendered.slots:
        value = sr.slot.value
        if value.constant or value.safe_identifier or value.numeric_cast or value.program_data:
            # Literal text, an allow-listed name, a number, or the program's own data: none
            # carries text someone outside the program chose.
            continue
        if sr.role == "in_string" and value.quote_escaped:
            continue  # `'{x.replace("'", "''")}'`: it cannot end the literal it is in
        start, end = sr.start, sr.end
        if sr.role == "identifier":
            yield issue(
                facts,
                DYNAMIC_IDENTIFIER,
                start,
                end,
                f"a table or column name is built into the SQL text from {value.source} with "
                f"{how[sr.slot.kind]}; pass it through an allow-list or quoting helper "
                "(see identifier-helpers in the configuration)",
                span_override=value.span,
            )
        else:
            yield issue(
                facts,
                SQL_INJECTION,
                start,
                end,
                f"{value.source} is built into the SQL text with {how[sr.slot.kind]}; "
                "pass it as a bound parameter instead",
                span_override=value.span,
            )


SQL_INJECTION = Rule(
    IssueType.SQL_INJECTION,
    "SqlInjection",
    Severity.CRITICAL,
    "SQL built from values by string formatting.",
    "A value is put into the SQL text by formatting, concatenation or an f-string instead "
    "of being passed as a bound parameter, so a crafted value can change the statement.",
    ("security", "sql", "external/cwe/cwe-089"),
    injections,
    runs_on_rejected=True,
    security_severity="8.8",
)
DYNAMIC_IDENTIFIER = Rule(
    IssueType.DYNAMIC_IDENTIFIER,
    "DynamicIdentifier",
    Severity.MEDIUM,
    "Table or column name chosen at run time.",
    "An identifier (table or column name) is put into the SQL text at run time; it cannot "
    "be a bound parameter, so it should come from a fixed allow-list, and dbheal cannot "
    "check it against the schema.",
    ("security", "sql", "external/cwe/cwe-089"),
    injections,
    runs_on_rejected=True,
    security_severity="5.3",
)
