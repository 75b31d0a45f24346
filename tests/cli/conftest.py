"""The fixture of the `dbheal check` tests: a project with an issue of each kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.projects import CLEAN, CRITICAL, LOW, SYNTAX_ERROR, make_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with one critical issue, one low issue, a clean module and a broken one."""
    return make_project(
        tmp_path / "proj",
        {
            "app/__init__.py": "",
            "app/users.py": CRITICAL,
            "app/listing.py": LOW,
            "app/clean.py": CLEAN,
            "app/broken.py": SYNTAX_ERROR,
        },
    )


@pytest.fixture
def git_shop(tmp_path: Path) -> Path:
    """The demo shop as a git repository with one baseline commit (tests/hook/repo.py)."""
    from tests.hook.repo import baseline_repository

    return baseline_repository(tmp_path)
