"""Tests mirror the package: every module `dbheal_lsp/a/b.py` has its `tests/a/test_b.py`."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_has_its_test_file() -> None:
    package = ROOT / "dbheal_lsp"
    missing = [
        module.relative_to(package).as_posix()
        for module in sorted(package.rglob("*.py"))
        if module.name not in ("__init__.py", "__main__.py")
        and not (
            ROOT
            / "tests"
            / module.parent.relative_to(package)
            / f"test_{module.stem.lstrip('_')}.py"
        ).exists()
    ]
    assert missing == []
