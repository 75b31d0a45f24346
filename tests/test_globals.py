"""scripts/check_globals.py: the package keeps no module-level mutable state outside
runtime/process.py, and each kind of violation is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parent.parent


check_globals = load_script("check_globals")


def test_the_package_keeps_no_module_level_mutable_state() -> None:
    assert check_globals.violations(ROOT / "dbheal_lsp") == []


@pytest.mark.parametrize(
    "source",
    [
        "CACHE = {}\n",
        "SEEN: list[str] = []\n",
        "NAMES = {n for n in 'ab'}\n",
        "import threading\nLOCK = threading.Lock()\n",
        "from collections import defaultdict\nBY = defaultdict(list)\n",
        "COUNT = 0\ndef bump():\n    global COUNT\n    COUNT += 1\n",
    ],
)
def test_each_kind_is_caught(tmp_path: Path, source: str) -> None:
    package = tmp_path / "dbheal_lsp"
    package.mkdir()
    (package / "x.py").write_text(source)
    assert len(check_globals.violations(package)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "NAMES = ('a', 'b')\n",
        "WORDS = frozenset({'a'})\n",
        "from types import MappingProxyType\nBY = MappingProxyType({'a': 1})\n",
        "__all__ = ['f']\n",
        "def f():\n    cache = {}\n    return cache\n",
    ],
)
def test_constants_pass(tmp_path: Path, source: str) -> None:
    package = tmp_path / "dbheal_lsp"
    package.mkdir()
    (package / "x.py").write_text(source)
    assert check_globals.violations(package) == []


def test_the_process_state_module_is_the_one_exception(tmp_path: Path) -> None:
    package = tmp_path / "dbheal_lsp"
    (package / "runtime").mkdir(parents=True)
    (package / "runtime" / "process.py").write_text("import threading\nLOCK = threading.Lock()\n")
    assert check_globals.violations(package) == []
