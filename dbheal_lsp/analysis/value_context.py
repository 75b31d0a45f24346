"""Whether an unquoted slot of a statement plainly stands where SQL takes a value.

`render` calls a slot a value whenever no keyword says it is a name; binding a slot that is in
fact a piece of SQL, a column or a comma-joined list would change what the query does.
"""

from __future__ import annotations

import re

# Words after which an unquoted slot is plainly a value (comparisons, LIMIT, CASE arms...).
_VALUE_AFTER_WORDS = frozenset(
    {"LIKE", "GLOB", "REGEXP", "MATCH", "LIMIT", "OFFSET", "THEN", "ELSE", "WHEN", "IS", "NOT"}
)
# Words that open a clause: a parenthesis after one holds SQL, not a function's arguments.
_SQL_KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "ON",
        "HAVING",
        "WHEN",
        "THEN",
        "ELSE",
        "SET",
        "BY",
        "JOIN",
        "EXISTS",
        "CASE",
        "RETURNING",
        "AS",
        "USING",
        "UNION",
        "ALL",
        "INTERSECT",
        "EXCEPT",
        "WITH",
        "VALUES",
        "IN",
        "INTO",
        "TABLE",
        "DISTINCT",
        "LIMIT",
        "OFFSET",
        "END",
        "IS",
        "LIKE",
        "GLOB",
        "BETWEEN",
        "UPDATE",
        "DELETE",
        "INSERT",
    }
)
_VALUE_AFTER_OPS = ("<=", ">=", "<>", "!=", "==", "=", "<", ">", "||", "+", "-", "*", "/", "%")
_AND_OR_BETWEEN = re.compile(r"\b(AND|BETWEEN)\b", re.IGNORECASE)


def last_token(text: str) -> str | None:
    """Return the last token of `text` (no trailing whitespace): a word that starts with a
    letter or underscore, or one punctuation character; None otherwise. A backward scan: a
    regular expression anchored at the end retries from every position of a long word."""
    if not text:
        return None
    if not (text[-1].isalnum() or text[-1] == "_"):
        return None if text[-1].isspace() else text[-1]
    start = len(text)
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    for at in range(start, len(text)):
        if text[at] == "_" or ("a" <= text[at].lower() <= "z"):
            return text[at:]
    return None


def value_context(text: str, start: int, end: int) -> bool:
    """Return whether the slot at text[start:end] plainly stands where a value goes.

    `render` calls a slot a value whenever no keyword says it is a name, so `WHERE {cond}`,
    `SELECT a, {col}` and `IN ({ids})` are "values" too; binding those would change what the
    query does (a SQL fragment, a column, a comma-joined list would become one string).
    """
    from dbheal_lsp.analysis.sqlmask import masked

    before = masked(text[:start])
    after = masked(text[end:]).lstrip()
    if after.startswith(("(", ".")):
        return False
    stripped = before.rstrip()
    if stripped.endswith(_VALUE_AFTER_OPS):
        return True
    token = last_token(stripped)
    if token is None:
        return False
    last = token.upper()
    if last in _VALUE_AFTER_WORDS:
        return True
    if last == "AND":  # BETWEEN a AND {x}: the keyword before this AND is BETWEEN, not AND
        keywords = _AND_OR_BETWEEN.findall(stripped, 0, len(stripped) - 3)
        return bool(keywords) and keywords[-1].upper() == "BETWEEN"
    if last == "BETWEEN":
        return True
    if last in ("(", ","):
        return _in_value_group(before, after)
    return False


def _in_value_group(before: str, after: str) -> bool:
    """A slot after '(' or ',': a function argument or one of several IN / VALUES items."""
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                opener = before[:i].rstrip()
                inside_before = before[i + 1 :]
                break
            depth -= 1
    else:
        return False  # a top-level list: SELECT a, {x} or ORDER BY a, {x}
    if re.search(r"\bINTO\s+\S+\Z", opener, re.I):
        return False  # INSERT INTO t ({a}, ...): a column list
    if re.search(r"\b(?:IN|VALUES)\Z", opener, re.I) or opener.endswith(","):
        # One item alone may be a whole comma-joined list: IN ({ids}).
        depth = 0
        rest = ""
        for ch in after:
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            rest += ch
        return "," in _top_level(inside_before) or "," in _top_level(rest)
    # A function's arguments (`lower({x})`) or a value in parentheses (`= ({x})`), but not a
    # clause in parentheses (`WHERE ({cond})`).
    word = re.search(r"([A-Za-z_]\w*)\Z", opener)
    if word is not None:
        return word.group(1).upper() not in _SQL_KEYWORDS
    return opener.endswith(_VALUE_AFTER_OPS) or opener.endswith(("(", ","))


def _top_level(text: str) -> str:
    """`text` without its parenthesized parts."""
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)
