"""Shared fixtures: copies of the bundled demo with a freshly built database."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"


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
