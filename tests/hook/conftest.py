"""The fixtures of the hook tests (tests/hook/repo.py)."""

from tests.hook.repo import hooked, repo

__all__ = ["hooked", "repo"]
