"""The code fixes' public API (`dbheal_lsp.languages.python.codefix`): the cases every fix is tested on,
and a cheap import."""

from __future__ import annotations

import subprocess
import sys

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
