"""Fixtures of the fixes tests: a real project folder with a database (tests/fixes/recorded_fixes.py)."""

from tests.fixes.recorded_fixes import project

__all__ = ["project"]
