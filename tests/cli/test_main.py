"""The `dbheal` command itself, as a user runs it: `--version`."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_dbheal


def test_version_names_the_sqlglot_build_and_the_install_brings_the_compiled_one(
    tmp_path: Path,
) -> None:
    """Where sqlglot has compiled wheels, a plain install of dbheal brings them, at sqlglot's own
    version (they overlay its modules), and `--version` says the compiled build runs."""
    from importlib import metadata

    from packaging.requirements import Requirement

    done = run_dbheal(tmp_path, "--version")
    sqlglot_version = metadata.version("sqlglot")
    match = re.fullmatch(r"dbheal \S+ \(sqlglot (\S+), (compiled|pure Python)\)\n", done.stdout)
    assert match, done.stdout
    assert match.group(1) == sqlglot_version
    wanted = [
        Requirement(r) for r in metadata.requires("dbheal-lsp") or () if r.startswith("sqlglot[c]")
    ]
    assert wanted, "the compiled build is a dependency"
    if wanted[0].marker is None or wanted[0].marker.evaluate():
        assert metadata.version("sqlglotc") == sqlglot_version
        assert match.group(2) == "compiled"
