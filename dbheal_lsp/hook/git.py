"""git plumbing for the hook: the repository, its hooks folder, index entries, blobs and trees.

Every git call goes through `Git.run`, so a failure is one `HookError` line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_REGULAR_MODES = frozenset({"100644", "100755"})
_PATHSPEC_CHUNK = 500


class HookError(Exception):
    """git failed, or the hook cannot be installed, removed or run; the message is one line."""


# --- git ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Git:
    """Runs git in one folder (the top of the working tree once `repository` found it).

    The environment is inherited on purpose: inside a hook, git's GIT_INDEX_FILE names the
    index that is being committed (`git commit -a` and `git commit PATH` use a temporary one).
    """

    cwd: Path

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        """Return the standard output of `git ARGS`, or raise HookError with git's message."""
        try:
            done = subprocess.run(
                ["git", "--literal-pathspecs", *args],
                cwd=self.cwd,
                input=stdin,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError:
            raise HookError("git is not installed (or not on PATH)") from None
        except OSError as exc:
            raise HookError(f"cannot run git: {exc.strerror or exc}") from None
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            why = lines[-1] if lines else f"exit status {done.returncode}"
            raise HookError(f"git {args[0]} failed: {why.removeprefix('fatal: ')}")
        return done.stdout


def repository(cwd: Path) -> Git:
    """Return a Git runner at the top of the working tree that contains `cwd`."""
    try:
        out = Git(cwd).run("rev-parse", "--show-toplevel")
    except HookError as exc:
        raise HookError(f"not inside a git working tree ({cwd}): {exc}") from None
    return Git(Path(os.fsdecode(out.rstrip(b"\n"))))


def hooks_dir(git: Git) -> Path:
    """Return the folder git runs hooks from (`core.hooksPath` when set; shared by worktrees)."""
    out = os.fsdecode(git.run("rev-parse", "--git-path", "hooks").rstrip(b"\n"))
    return Path(os.path.abspath(git.cwd / out))


@dataclass(frozen=True)
class IndexEntry:
    """One file of the index: its path from the top of the working tree, mode and blob id."""

    path: str
    mode: str
    blob: str

    @property
    def regular(self) -> bool:
        """Return whether this is a plain file (not a symbolic link, submodule or sparse dir)."""
        return self.mode in _REGULAR_MODES


def index_entries(git: Git, pathspecs: Sequence[str]) -> dict[str, IndexEntry]:
    """Return the merged (stage 0) index entries under `pathspecs` (literal paths), by path."""
    found: dict[str, IndexEntry] = {}
    for start in range(0, len(pathspecs), _PATHSPEC_CHUNK):
        chunk = pathspecs[start : start + _PATHSPEC_CHUNK]
        out = git.run("ls-files", "--stage", "-z", "--full-name", "--", *chunk)
        for record in out.split(b"\0"):
            info, tab, raw_path = record.partition(b"\t")
            fields = info.decode("ascii", "replace").split()
            if not tab or len(fields) != 3 or fields[2] != "0":
                continue
            path = os.fsdecode(raw_path)
            found[path] = IndexEntry(path, fields[0], fields[1])
    return found


def read_blobs(git: Git, blobs: Iterable[str]) -> dict[str, bytes]:
    """Return the content of each blob id, read with one `git cat-file --batch`."""
    ids = list(dict.fromkeys(blobs))
    if not ids:
        return {}
    out = git.run("cat-file", "--batch", stdin=("\n".join(ids) + "\n").encode("ascii"))
    contents: dict[str, bytes] = {}
    pos = 0
    for blob in ids:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3:  # "<id> missing" (or ambiguous): nothing follows
            continue
        size = int(header[2])
        contents[blob] = out[pos : pos + size]
        pos += size + 1
    return contents


def staged_paths(git: Git) -> list[str]:
    """Return the paths (from the top) that the index adds, copies, modifies or renames."""
    out = git.run("diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z")
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def staged_deletions(git: Git) -> list[str]:
    """Return the paths (from the top) that the index deletes."""
    out = git.run("diff", "--cached", "--name-only", "--diff-filter=D", "-z")
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def tree_entries(git: Git, commit: str, pathspec: str) -> list[IndexEntry] | None:
    """Return the files of `commit` under `pathspec` (None when there is no such commit)."""
    try:
        git.run("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    except HookError:
        return None
    out = git.run("ls-tree", "-r", "-z", "--full-name", commit, "--", pathspec)
    found: list[IndexEntry] = []
    for record in out.split(b"\0"):
        info, tab, raw_path = record.partition(b"\t")
        fields = info.decode("ascii", "replace").split()
        if tab and len(fields) == 3 and fields[1] == "blob":
            found.append(IndexEntry(os.fsdecode(raw_path), fields[0], fields[2]))
    return found
