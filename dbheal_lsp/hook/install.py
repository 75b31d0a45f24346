"""Installing and removing the pre-commit hook beside any hook already there.

`install` writes a small shell script as the repository's `pre-commit` hook, in the folder that
`git rev-parse --git-path hooks` names (so `core.hooksPath` and worktrees are respected). A hook
already there is not replaced but chained: it moves to `pre-commit.dbheal-chained` (bytes, mode
and all), and the script runs it first and stops the commit when it fails. `uninstall` puts back
exactly what was there. The script runs `<the Python that installed it> -m dbheal_lsp hook run`,
or `dbheal hook run` from PATH when that Python is gone.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dbheal_lsp.files import atomic_write
from dbheal_lsp.hook.git import HookError, hooks_dir, repository
from dbheal_lsp.hook.staged import BYPASS

HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.dbheal-chained"
MARKER = "# dbheal-pre-commit-hook"
# --- install and uninstall ------------------------------------------------------------------


@dataclass(frozen=True)
class InstallResult:
    """What `install` did: `installed`, `updated` (a new script) or `unchanged`."""

    hook: Path
    action: Literal["installed", "updated", "unchanged"]
    chained: Path | None = None  # the earlier hook that ours runs first
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UninstallResult:
    """What `uninstall` did: `restored` the chained hook, `removed` ours, or `not-installed`."""

    hook: Path
    action: Literal["restored", "removed", "not-installed"]
    notes: tuple[str, ...] = ()


def hook_script(python: str) -> str:
    """Return the pre-commit hook: run the chained hook, then dbheal with `python` (or PATH's).

    `PYTHONSAFEPATH` keeps `python -m` from importing the repository's own modules (a `json.py`
    at its top, say) in place of the standard library's, on Python 3.11 and later.
    """
    quoted = shlex.quote(python) if python else "''"
    return f"""#!/bin/sh
{MARKER}: written by `dbheal hook install`.
# `dbheal hook uninstall` removes it and puts back the hook it chains, if any.
# Bypass it once with `{BYPASS}`.
chained="$(dirname "$0")/{CHAINED_NAME}"
if [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi
python={quoted}
if [ -n "$python" ] && [ -x "$python" ] && PYTHONSAFEPATH=1 "$python" -c 'import dbheal_lsp' 2>/dev/null; then
    PYTHONSAFEPATH=1 exec "$python" -m dbheal_lsp hook run
fi
if command -v dbheal >/dev/null 2>&1; then
    exec dbheal hook run
fi
echo "dbheal: the pre-commit hook cannot run: $python no longer runs dbheal and there is no 'dbheal' on PATH." >&2
echo "dbheal: reinstall it with 'dbheal hook install', remove it with 'dbheal hook uninstall', or commit with '{BYPASS}'." >&2
exit 1
"""


def is_dbheal_hook(path: Path) -> bool:
    """Return whether `path` is a hook script that `install` wrote."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as file:
            head = file.read(1024)
    except OSError:
        return False
    return MARKER.encode() in head


def install(cwd: Path, python: str | None = None) -> InstallResult:
    """Install the pre-commit hook of the repository at `cwd`, chaining the hook already there.

    A second install leaves the chained hook alone and only rewrites the script if it changed
    (a different `python`). Raises HookError when a foreign hook and a chained one both exist.
    """
    git = repository(cwd)
    folder = hooks_dir(git)
    hook, chained = folder / HOOK_NAME, folder / CHAINED_NAME
    script = hook_script(sys.executable if python is None else python)
    notes: list[str] = []
    if _inside(folder, git.cwd) and not _inside(folder, git.cwd / ".git"):
        notes.append(f"the hooks folder {folder} is in the working tree: git status shows this")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if is_dbheal_hook(hook):
            if hook.read_text(encoding="utf-8", errors="replace") == script:
                action: Literal["installed", "updated", "unchanged"] = "unchanged"
            else:
                _write_script(hook, script)
                action = "updated"
        else:
            moved = False
            if os.path.lexists(hook):
                if os.path.lexists(chained):
                    raise HookError(
                        f"{hook} is not dbheal's and {chained} already exists: "
                        "move one of them away first"
                    )
                if not os.access(hook, os.X_OK):
                    notes.append(
                        f"the existing hook is not executable: git ignored it, and so will "
                        f"dbheal's (it is kept as {chained.name})"
                    )
                os.replace(hook, chained)  # its bytes and mode, a symbolic link stays one
                moved = True
            elif os.path.lexists(chained):
                notes.append(f"{chained.name} (left by an earlier install) runs first")
            try:
                _write_script(hook, script)
            except OSError:
                if moved:
                    os.replace(chained, hook)
                raise
            action = "installed"
    except OSError as exc:
        raise HookError(f"cannot install the hook in {folder}: {exc.strerror or exc}") from None
    return InstallResult(hook, action, chained if os.path.lexists(chained) else None, tuple(notes))


def uninstall(cwd: Path) -> UninstallResult:
    """Remove dbheal's pre-commit hook and put back the hook it chained (exactly), if any."""
    git = repository(cwd)
    folder = hooks_dir(git)
    hook, chained = folder / HOOK_NAME, folder / CHAINED_NAME
    if not is_dbheal_hook(hook):
        notes: tuple[str, ...] = ()
        if os.path.lexists(chained):
            notes = (f"{chained} is left as it is: {hook} is not dbheal's hook",)
        return UninstallResult(hook, "not-installed", notes)
    try:
        if os.path.lexists(chained):
            os.replace(chained, hook)
            return UninstallResult(hook, "restored")
        hook.unlink()
    except OSError as exc:
        raise HookError(f"cannot remove the hook {hook}: {exc.strerror or exc}") from None
    return UninstallResult(hook, "removed")


def _write_script(hook: Path, script: str) -> None:
    atomic_write(hook, script.encode("utf-8"), mode=0o755)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True
