"""The files of one `dbheal check`: each read at most once and parsed at most once, and an
unchanged file known by its stat alone, without reading it.

A check goes over the project's files up to three times (their constants, the DDL that makes
the schema when it comes from the code, their statements). `FileTexts` keeps what one pass read
and parsed for the next. Across runs it remembers, in the user's cache folder, each file's
content hashes with the size, mtime (nanoseconds) and inode it had: a file whose stat is the
same is not opened again and its hashes answer the result caches. As for every such cache
(ruff's, git's index), a file rewritten with the same size, mtime and inode looks unchanged; a
file written in the last `SETTLE_SECONDS` is never remembered by its stat, so a write within
the file system's timestamp granularity of the check is still seen.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.analysis.result_cache import PerFileCache
from dbheal_lsp.files import SourceNotText, read_regular_file, text_hash
from dbheal_lsp.languages import LANGUAGES, language_for
from dbheal_lsp.languages.language import Language

__all__ = ["SETTLE_SECONDS", "FileDigests", "FileTexts"]

#: A file modified this recently may change again within the same mtime: it is re-read.
SETTLE_SECONDS = 2.0

_Tree = TypeVar("_Tree")


@dataclass(frozen=True)
class FileDigests:
    """The content hashes of one file."""

    data: str  # of its bytes (the key of its cached result)
    text: str | None  # of its text as its language decodes it (`text_hash`); None: not text


class FileTexts:
    """The files of one run, by relative path: their hashes, texts and trees (each file decoded
    and parsed by its language among `languages`)."""

    def __init__(
        self, root: Path, *, use_cache: bool, languages: Sequence[Language] = LANGUAGES
    ) -> None:
        self._languages = tuple(languages)
        self._store = PerFileCache.for_project(root, "hashes.json") if use_cache else None
        self._digests: dict[str, FileDigests] = {}
        self._sources: dict[str, str] = {}
        # Each tree with the text it was parsed from; a check takes both (it is the last pass).
        self._trees: dict[str, tuple[str, object]] = {}

    def digests(self, file: Path, rel: str) -> FileDigests:
        """Return the hashes of `file`: remembered when its stat is unchanged, else read.

        Raises what `read_regular_file` raises (FileRefused, OSError) when it must be read.
        """
        known = self._digests.get(rel)
        if known is not None:
            return known
        stamp = _stamp(file)
        cached = self._store.get(rel, stamp) if self._store is not None and stamp else None
        if isinstance(cached, list) and len(cached) == 2 and isinstance(cached[0], str):
            known = FileDigests(cached[0], cached[1] if isinstance(cached[1], str) else None)
        else:
            known = self._read(file, rel, stamp)
        self._digests[rel] = known
        return known

    def source(self, file: Path, rel: str) -> str:
        """Return the text of `file` as its language decodes it, read once per run.

        Raises FileRefused, OSError, or SourceNotText when it is not text.
        """
        text = self._sources.get(rel)
        if text is None:
            self._read(file, rel, _stamp(file))
            text = self._sources.get(rel)
        if text is None:
            raise SourceNotText("not text")
        return text

    def read_source(self, rel: str) -> str | None:
        """Return the text of `rel` if this run read it (and it is text), else None;
        it is then forgotten (the check that takes it is the run's last pass)."""
        return self._sources.pop(rel, None)

    def tree(self, file: Path, rel: str, parse: Callable[[str, str], _Tree]) -> _Tree:
        """Return the tree of `file`, parsed once per run by `parse(text, filename)` (what it
        raises passes through); a file's language always parses it with the same `parse`."""
        known = self._trees.get(rel)
        if known is None:
            source = self.source(file, rel)
            known = self._trees[rel] = (source, parse(source, str(file)))
        return cast(_Tree, known[1])

    def parsed(self, rel: str, source: str) -> object | None:
        """Return the tree parsed this run from exactly `source`, if there is one, and forget
        it (the check that takes it is the run's last pass)."""
        known = self._trees.pop(rel, None)
        return known[1] if known is not None and known[0] == source else None

    def decode(self, rel: str, data: bytes) -> str:
        """Return the text of the bytes of file `rel` as its language decodes them (the first
        language's for a name none of them claims); SourceNotText when they are not text."""
        return (language_for(rel, self._languages) or self._languages[0]).decode(data)

    def save(self) -> None:
        """Remember the stat and hashes of every file of this run (in the user's cache)."""
        if self._store is not None:
            self._store.save(set(self._digests))

    def _read(self, file: Path, rel: str, stamp: str) -> FileDigests:
        data = read_regular_file(file, max_bytes=MAX_FILE_BYTES)
        text: str | None = None
        with contextlib.suppress(SourceNotText):
            text = self.decode(rel, data)
        digests = FileDigests(
            hashlib.blake2b(data, digest_size=16).hexdigest(),
            text_hash(text) if text is not None else None,
        )
        # A binary file is not kept: its check reads it again to say so (`check_file`).
        if text is not None and b"\x00" not in data[:8192]:
            self._sources[rel] = text
        self._trees.pop(rel, None)
        self._digests[rel] = digests
        if self._store is not None:
            if stamp:
                self._store.put(rel, stamp, [digests.data, digests.text])
            else:
                self._store.forget(rel)
        return digests


def _stamp(file: Path) -> str:
    """Return the file's size, mtime and inode as one string; "" when it cannot be trusted
    (it cannot be stat'ed, or was modified too recently to tell a later write apart)."""
    try:
        info = os.stat(file)
    except OSError:
        return ""
    if time.time_ns() - info.st_mtime_ns < SETTLE_SECONDS * 1e9:
        return ""
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
