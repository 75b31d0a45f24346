"""Python's backslash escapes in string and bytes literals, decoded as the compiler decodes them
(what the literal scanner of literals.py and the code fixes' SQL argument read)."""

from __future__ import annotations

import unicodedata
from types import MappingProxyType

__all__ = ["decode_escape"]

_OCTAL = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_ESCAPE_SIZES = MappingProxyType({"x": 2, "u": 4, "U": 8})
_SIMPLE_ESCAPES = MappingProxyType(
    {
        "\\": "\\",
        "'": "'",
        '"': '"',
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "n": "\n",
        "r": "\r",
        "t": "\t",
        "v": "\v",
    }
)


def decode_escape(src: str, j: int, *, is_bytes: bool = False) -> tuple[str, int] | None:
    """Decode the escape whose backslash is src[j] in a literal that is not raw.

    Return what it stands for and the offset just past it, or None if it is malformed (cut
    short, a code point out of range, an unknown character name). A line continuation stands
    for ""; an unknown escape for its backslash alone, the next character being read as usual
    (in an f-string "\\{" is a backslash followed by a field). `\\N{...}` gives whatever
    `unicodedata.lookup` does, which for a named sequence is several characters.
    """
    if j + 1 >= len(src):
        return None
    char = src[j + 1]
    if char in "\r\n":
        return "", j + 3 if src.startswith("\r\n", j + 1) else j + 2
    simple = _SIMPLE_ESCAPES.get(char)
    if simple is not None:
        return simple, j + 2
    if char in _OCTAL:
        k = j + 2
        limit = min(j + 4, len(src))
        while k < limit and src[k] in _OCTAL:
            k += 1
        return chr(int(src[j + 1 : k], 8)), k
    size = _HEX_ESCAPE_SIZES.get(char)
    if size is not None and (char == "x" or not is_bytes):
        digits = src[j + 2 : j + 2 + size]
        if len(digits) != size or not _HEX.issuperset(digits):
            return None
        code = int(digits, 16)
        return (chr(code), j + 2 + size) if code <= 0x10FFFF else None
    if char == "N" and not is_bytes:
        close = src.find("}", j + 3) if src.startswith("{", j + 2) else -1
        if close < 0:
            return None
        try:
            return unicodedata.lookup(src[j + 3 : close]), close + 1
        except KeyError:
            return None
    return "\\", j + 1
