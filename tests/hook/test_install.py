"""`dbheal hook install` and `uninstall`: beside any hook already there, restored byte for byte."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from tests.hook.repo import (
    CLEAN,
    CRITICAL,
    ENV,
    MARKER_HOOK,
    ROOT,
    commit,
    dbheal,
    git_ok,
    hooks,
    write,
)


def test_pre_commit_hooks_yaml_declares_the_hook() -> None:
    yaml = pytest.importorskip("yaml")
    hooks_file = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (entry,) = hooks_file
    assert entry["id"] == "dbheal"
    assert entry["name"]
    assert entry["entry"] == "dbheal hook run"
    assert entry["language"] == "python"
    assert entry["types_or"] == ["python", "sql"]
    assert entry["pass_filenames"] is True


# --- install and uninstall ----------------------------------------------------------------------


def _earlier_hook(repo: Path, marker: Path, folder: Path | None = None) -> tuple[Path, bytes]:
    hook = (folder or hooks(repo)) / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    content = MARKER_HOOK.format(marker=marker).encode()
    hook.write_bytes(content)
    hook.chmod(0o750)
    return hook, content


def test_an_existing_hook_is_chained_and_restored_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    hook, content = _earlier_hook(repo, marker)

    installed = dbheal(repo, "hook", "install")
    write(repo, "app/wish.py", CLEAN)
    git_ok(repo, "add", "app/wish.py")
    status, output = commit(repo)

    assert installed.returncode == 0, installed.stderr
    assert "runs the earlier hook first" in installed.stdout
    assert (hooks(repo) / "pre-commit.dbheal-chained").read_bytes() == content
    assert status == 0, output
    assert marker.read_text() == "ran\n"
    assert "no issues" in output

    # Both run: the earlier hook first, then dbheal, which still blocks.
    write(repo, "app/wish.py", CRITICAL)
    git_ok(repo, "add", "app/wish.py")
    status, output = commit(repo)
    assert status != 0
    assert marker.read_text() == "ran\nran\n"
    assert "nmae" in output

    removed = dbheal(repo, "hook", "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert hook.read_bytes() == content
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert not (hooks(repo) / "pre-commit.dbheal-chained").exists()


def test_a_failing_earlier_hook_still_blocks_the_commit(repo: Path) -> None:
    hook = hooks(repo) / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'the earlier hook says no' >&2\nexit 3\n")
    hook.chmod(0o755)
    assert dbheal(repo, "hook", "install").returncode == 0
    write(repo, "app/wish.py", CLEAN)
    git_ok(repo, "add", "app/wish.py")

    status, output = commit(repo)

    assert status != 0
    assert "the earlier hook says no" in output
    assert "dbheal" not in output  # it stops before dbheal runs


def test_install_twice_changes_nothing(repo: Path, tmp_path: Path) -> None:
    _, content = _earlier_hook(repo, tmp_path / "marker")

    first = dbheal(repo, "hook", "install")
    script = (hooks(repo) / "pre-commit").read_bytes()
    second = dbheal(repo, "hook", "install")

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "already installed" in second.stdout
    assert (hooks(repo) / "pre-commit").read_bytes() == script
    assert (hooks(repo) / "pre-commit.dbheal-chained").read_bytes() == content
    assert sorted(p.name for p in hooks(repo).iterdir() if not p.name.endswith(".sample")) == [
        "pre-commit",
        "pre-commit.dbheal-chained",
    ]
    # One uninstall is enough to get back to the start.
    assert dbheal(repo, "hook", "uninstall").returncode == 0
    assert (hooks(repo) / "pre-commit").read_bytes() == content


def test_uninstall_removes_the_hook_when_there_was_none(hooked: Path) -> None:
    removed = dbheal(hooked, "hook", "uninstall")
    again = dbheal(hooked, "hook", "uninstall")

    assert removed.returncode == 0
    assert not (hooks(hooked) / "pre-commit").exists()
    assert "not installed" in again.stdout
    write(hooked, "app/wish.py", CRITICAL)
    git_ok(hooked, "add", "app/wish.py")
    assert commit(hooked)[0] == 0


def test_a_foreign_hook_and_a_chained_one_are_not_overwritten(repo: Path) -> None:
    (hooks(repo) / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (hooks(repo) / "pre-commit.dbheal-chained").write_text("#!/bin/sh\nexit 0\n")

    done = dbheal(repo, "hook", "install")

    assert done.returncode == 2
    assert "move one of them away first" in done.stderr
    assert (hooks(repo) / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"


def test_core_hooks_path_is_respected(repo: Path, tmp_path: Path) -> None:
    git_ok(repo, "config", "core.hooksPath", ".githooks")
    marker = tmp_path / "marker"
    hook, content = _earlier_hook(repo, marker, repo / ".githooks")

    installed = dbheal(repo, "hook", "install")
    write(repo, "app/wish.py", CRITICAL)
    git_ok(repo, "add", "app/wish.py")
    status, output = commit(repo)

    assert installed.returncode == 0, installed.stderr
    assert "in the working tree" in installed.stdout
    assert not (hooks(repo) / "pre-commit").exists()
    assert (repo / ".githooks" / "pre-commit.dbheal-chained").read_bytes() == content
    assert status != 0 and "nmae" in output
    assert marker.read_text() == "ran\n"
    assert dbheal(repo, "hook", "uninstall").returncode == 0
    assert hook.read_bytes() == content


def test_a_worktree_shares_the_repository_hook(repo: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "feature"
    git_ok(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))

    installed = dbheal(worktree, "hook", "install")
    shutil.copy(repo / "shop.db", worktree / "shop.db")
    write(worktree, "app/wish.py", CRITICAL)
    git_ok(worktree, "add", "app/wish.py")
    status, output = commit(worktree)

    assert installed.returncode == 0, installed.stderr
    assert (hooks(repo) / "pre-commit").is_file()
    assert status != 0 and "nmae" in output


# --- the hook script's fall-backs ---------------------------------------------------------------


def test_without_its_python_the_hook_uses_dbheal_on_path(repo: Path) -> None:
    scripts = Path(sys.executable).parent
    if not (scripts / "dbheal").exists():
        pytest.skip("no dbheal script next to this Python")
    assert dbheal(repo, "hook", "install", "--python", "/nonexistent/python3").returncode == 0
    write(repo, "app/wish.py", CRITICAL)
    git_ok(repo, "add", "app/wish.py")
    env = dict(ENV, PATH=f"{scripts}{os.pathsep}{ENV['PATH']}")

    status, output = commit(repo, env=env)

    assert status != 0
    assert "nmae" in output


def test_without_python_nor_dbheal_the_hook_says_so(repo: Path) -> None:
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    path = os.pathsep.join(dict.fromkeys([str(git_dir), "/usr/bin", "/bin"]))
    if shutil.which("dbheal", path=path):
        pytest.skip("dbheal is installed system-wide")
    assert dbheal(repo, "hook", "install", "--python", "/nonexistent/python3").returncode == 0
    write(repo, "app/wish.py", CLEAN)
    git_ok(repo, "add", "app/wish.py")

    status, output = commit(repo, env=dict(ENV, PATH=path))

    assert status != 0
    assert "the pre-commit hook cannot run" in output
    assert "git commit --no-verify" in output
