"""Shared fixtures: copies of the bundled demo with a freshly built database, and a private
user cache directory for every test (dbheal's result cache lives there, never in ~/.cache)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"
# Seconds a dbheal command may take in a test: only the failure mode of a hang.
DBHEAL_TIMEOUT = 120


def run_dbheal(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m dbheal_lsp ARGS` in `cwd` as a user would, and return the finished process.

    No terminal (stdin is /dev/null), no colour settings from the caller's environment (`env`
    is added on top), output that must be valid UTF-8, and a run that hangs fails the test.
    """
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        timeout=DBHEAL_TIMEOUT,
        check=False,
    )


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point dbheal's user cache directory (DBHEAL_CACHE_DIR, inherited by the subprocesses a
    test starts) at a fresh temporary folder: tests never write to the real ~/.cache, and no
    test sees another one's cached results. A folder of its own, not inside `tmp_path`, so
    that a test's project tree holds only what the test put there."""
    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("DBHEAL_CACHE_DIR", str(folder))
    # A developer's or CI's own DATABASE_URL (a PostgreSQL server) must not become the tests'
    # database: the tests that want one set it themselves.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return folder


def copy_shop(dest: Path) -> Path:
    """Copy examples/shop into `dest` and build its database with its own make_db.py."""
    copy = dest / "shop"
    shutil.copytree(SHOP, copy, ignore=shutil.ignore_patterns("*.db", ".dbheal", "__pycache__"))
    subprocess.run([sys.executable, str(copy / "make_db.py")], check=True, capture_output=True)
    assert (copy / "shop.db").is_file()
    return copy


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A private copy of the demo that a test may change (fixes write to it)."""
    return copy_shop(tmp_path)


def write_app(root: Path, source: str, setting: str = "") -> Path:
    """Write a one-file project at `root`: app.py with `source`, and a pyproject.toml whose
    [tool.dbheal] names app.db (made by the caller) followed by `setting` (TOML text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "app"\n\n[tool.dbheal]\ndatabase = "app.db"\n\n{setting}',
        encoding="utf-8",
    )
    (root / "app.py").write_text(source, encoding="utf-8")
    return root


def load_script(name: str) -> ModuleType:
    """Import `scripts/<name>.py` (the checks `make lint` runs) as a module."""
    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building a class
    spec.loader.exec_module(module)
    return module
