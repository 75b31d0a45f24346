"""Fixtures of the runtime wrapper's tests: a project, and no state left between tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dbheal_lsp import runtime
from dbheal_lsp.runtime.process import state
from tests.runtime.projects import Project, make_project


@pytest.fixture(autouse=True)
def _clean_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(runtime.ENV_VAR, raising=False)
    state.recent.clear()
    yield
    state.recent.clear()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")
