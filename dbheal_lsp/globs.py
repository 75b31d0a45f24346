"""The one glob dialect of `include` and `exclude`: gitignore-like, as ruff and black users expect.

- Patterns are relative to the project root; a leading `./` (or `/`) is ignored.
- `*` matches within one name and never crosses `/`; `?` is one character of a name; `[abc]`,
  `[a-z]` and `[!abc]` a character class; a backslash escapes the next character.
- `**` as a whole path segment is any number of folders: `src/**/*.py` is `src/a.py` and
  `src/a/b/c.py`; `src/**` is everything under `src`.
- A pattern with no `/` (but a trailing one) matches a file or folder name at any depth
  (`tests`, `*_test.py`); one with a `/` in it is a path from the root (`src/pkg`).
- A pattern that matches a folder matches everything under it (`pkg`, `src/pkg`); a trailing
  `/` (`build/`) matches folders only.
- Case matters; `.` is the root, so everything.

Paths given to a matcher are relative to the root, with forward slashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Glob:
    """One pattern as written, and the regular expression of every path it matches."""

    text: str
    regex: re.Pattern[str]

    def matches(self, path: str, *, is_dir: bool = False) -> bool:
        """Return whether the project path `path`, or a folder above it, matches this pattern."""
        # A folder is tested with a trailing slash: "folders only" patterns need one.
        return self.regex.fullmatch(path + "/" if is_dir else path) is not None


@dataclass(frozen=True)
class GlobSet:
    """Patterns compiled once, for a walk that tests many paths."""

    globs: tuple[Glob, ...] = ()

    @classmethod
    def of(cls, patterns: Iterable[str]) -> GlobSet:
        """Return the set of `patterns`; raise ValueError naming a pattern that names nothing."""
        return cls(tuple(compile_glob(p) for p in patterns))

    def __bool__(self) -> bool:
        return bool(self.globs)

    def __len__(self) -> int:
        return len(self.globs)

    @property
    def patterns(self) -> tuple[str, ...]:
        """Return the patterns as written."""
        return tuple(g.text for g in self.globs)

    def matching(self, path: str, *, is_dir: bool = False) -> tuple[str, ...]:
        """Return the patterns that match the project path `path` (or a folder above it)."""
        return tuple(g.text for g in self.globs if g.matches(path, is_dir=is_dir))

    def matches(self, path: str, *, is_dir: bool = False) -> bool:
        """Return whether any pattern matches the project path `path` (or a folder above it)."""
        return any(g.matches(path, is_dir=is_dir) for g in self.globs)


def compile_glob(text: str) -> Glob:
    """Return the Glob of the pattern `text`, or raise ValueError if it names nothing."""
    body = re.sub(r"/{2,}", "/", text.strip())
    if not body:
        raise ValueError(f"an empty pattern {text!r} matches nothing")
    while body.startswith("./"):
        body = body[2:]
    folders_only = body.endswith("/")
    body = body.rstrip("/")
    # Like .gitignore: a slash inside the pattern anchors it at the root; without one it is a
    # name, found at any depth.
    anchored = "/" in body or text.strip().startswith("/")
    body = body.lstrip("/")
    if body in ("", "."):
        return Glob(text, re.compile(".*", re.DOTALL))  # the root: everything
    prefix = "" if anchored else "(?:.*/)?"
    # What follows a match is nothing or a path under it (the match was a folder); for
    # folders-only patterns there must be something under it (a folder is tested as "dir/").
    suffix = "/.*" if folders_only else "(?:/.*)?"
    try:
        regex = re.compile(prefix + _translate(body) + suffix, re.DOTALL)
    except re.error as exc:
        raise ValueError(f"pattern {text!r} is not a valid glob: {exc}") from None
    return Glob(text, regex)


def _translate(body: str) -> str:
    """Return the regular expression of a pattern body (no leading `./`, no trailing `/`)."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == "*":
            j = i
            while j < n and body[j] == "*":
                j += 1
            whole_segment = (i == 0 or body[i - 1] == "/") and (j == n or body[j] == "/")
            if j - i >= 2 and whole_segment:
                if j == n:
                    out.append(".*")  # `a/**`: everything under a
                else:
                    out.append("(?:.*/)?")  # `**/`: any number of folders, none included
                    j += 1
            else:
                out.append("[^/]*")  # `a**b` is `a*b`, as in .gitignore
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = _class_end(body, i)
            if end < 0:
                out.append(re.escape(c))  # no closing bracket: a literal `[`
                i += 1
            else:
                out.append(_class(body[i + 1 : end]))
                i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _class_end(body: str, start: int) -> int:
    """Return the index of the `]` that closes the class opened at `start`, or -1."""
    k = start + 1
    if k < len(body) and body[k] in "!^":
        k += 1
    if k < len(body) and body[k] == "]":
        k += 1  # `[]a]`: a leading `]` is a member
    return body.find("]", k)


def _class(inner: str) -> str:
    """Return the regular expression of a character class's members (never matching `/`)."""
    negated = inner[:1] in ("!", "^")
    if negated:
        inner = inner[1:]
    # Escape what would make a Python set operation or a nested class, as fnmatch does.
    members = re.sub(r"([\\&~|\[])", r"\\\1", inner)
    if negated:
        return f"[^/{members}]"
    return f"(?:(?!/)[{members}])"
