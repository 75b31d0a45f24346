"""The code fixes' public API (`dbheal_lsp.languages.python.codefix`): the cases every fix is tested on,
a cheap import, `apply_edits` and `unified_diff`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dbheal_lsp.languages.python.codefix import apply_edits, unified_diff
from dbheal_lsp.model import Span, TextEdit
from tests.languages.python.codefix.conftest import CASES


def test_fixture_cases_cover_the_brief() -> None:
    assert {
        "remove_cast_fstring",
        "remove_cast_params",
        "parameterize_fstring_value",
        "parameterize_fstring_quoted",
        "parameterize_fstring_two_values",
        "parameterize_fstring_existing_params",
        "parameterize_percent_tuple",
        "parameterize_percent_dict",
        "parameterize_format_positional",
        "parameterize_format_keyword",
        "parameterize_concat_quotes",
        "parameterize_psycopg",
        "parameterize_asyncpg",
        "parameterize_multiline",
        "parameterize_comment_in_call",
        "rename_column",
        "rename_table",
        "nofix_identifier_slot",
        "nofix_sql_in_variable",
    } <= set(CASES)


def test_every_case_is_run_by_the_test_of_its_fix() -> None:
    # test_remove_cast, test_rename and test_parameterize each run the cases of their prefix.
    assert all(c.startswith(("remove_cast_", "rename_", "parameterize_", "nofix_")) for c in CASES)


def test_importing_the_module_does_not_import_libcst() -> None:
    code = "import sys, dbheal_lsp.languages.python.codefix; print('libcst' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


# --- apply_edits and unified_diff --------------------------------------------------------------


def test_apply_edits_counts_code_points_after_an_emoji() -> None:
    source = "x = '🎉🎉'; y = 1\nz = 2\n"
    edit = TextEdit("f.py", Span(1, 15, 1, 16), "42")  # the "1" after two emoji
    assert apply_edits(source, [edit]) == "x = '🎉🎉'; y = 42\nz = 2\n"


def test_apply_edits_in_any_order_and_across_lines() -> None:
    source = "a = 1\r\nb = 2\r\nc = 3\r\n"
    edits = [
        TextEdit("f.py", Span(3, 5, 3, 6), "30"),
        TextEdit("f.py", Span(1, 5, 2, 6), "10\r\nb = 20"),
        TextEdit("f.py", Span(4, 1, 4, 1), "d = 4\r\n"),
    ]
    assert apply_edits(source, edits) == "a = 10\r\nb = 20\r\nc = 30\r\nd = 4\r\n"


def test_apply_edits_reads_lines_as_python_does() -> None:
    # A lone \r ends a line too (old Mac files); \f and \x1c do not, unlike str.splitlines.
    source = "a = 1\rb = 2\r\nc = '\x0c\x1c'; d = 4\n"
    edits = [TextEdit("f.py", Span(2, 5, 2, 6), "20"), TextEdit("f.py", Span(3, 15, 3, 16), "40")]
    assert apply_edits(source, edits) == "a = 1\rb = 20\r\nc = '\x0c\x1c'; d = 40\n"


def test_apply_edits_refuses_overlaps_and_positions_outside_the_text() -> None:
    source = "a = 1\nb = 2\n"
    with pytest.raises(ValueError, match="overlap"):
        apply_edits(
            source, [TextEdit("f", Span(1, 1, 1, 4), ""), TextEdit("f", Span(1, 3, 2, 1), "")]
        )
    with pytest.raises(ValueError):
        apply_edits(source, [TextEdit("f", Span(1, 9, 1, 9), "x")])
    with pytest.raises(ValueError):
        apply_edits(source, [TextEdit("f", Span(7, 1, 7, 1), "x")])


def test_unified_diff() -> None:
    diff = unified_diff("app/x.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    assert diff.splitlines()[:2] == ["--- a/app/x.py", "+++ b/app/x.py"]
    assert "-b = 2\n+b = 3\n" in diff
    assert unified_diff("app/x.py", "same\n", "same\n") == ""
    assert "\\ No newline at end of file" in unified_diff("x.py", "a", "b")
