"""`FileConstants` as JSON, for the check cache, and back."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dbheal_lsp.languages.python.constants import CallArguments, FileConstants, Given, Signature
from dbheal_lsp.languages.python.origins import Origin


def constants_to_json(found: FileConstants) -> Any:
    """Return `found` as JSON-ready data (the check cache keeps it per file content)."""
    data = asdict(found)
    data["references"] = sorted(found.references)
    data["attribute_origins"] = [(n, _origin_json(o)) for n, o in found.attribute_origins]
    for call in data["calls"]:
        call["origins"] = [_origin_json(o) for o in call["origins"]]
        call["keyword_origins"] = [(n, _origin_json(o)) for n, o in call["keyword_origins"]]
        call["item_origins"] = [(n, _origin_json(o)) for n, o in call["item_origins"]]
    return data


def _origin_json(origin: Origin) -> list[str] | None:
    return None if origin is None else sorted(origin)


def _origin_of(value: Any) -> Origin:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise ValueError(f"unexpected origin {value!r}")


def constants_from_json(data: Any) -> FileConstants:
    """Return the FileConstants that `constants_to_json` wrote; ValueError if it is not that."""
    try:
        return FileConstants(
            attributes=tuple((str(n), _given_of(v)) for n, v in data["attributes"]),
            signatures=tuple(
                Signature(
                    str(s["name"]),
                    tuple(map(str, s["parameters"])),
                    tuple((str(n), _given_of(v)) for n, v in s["defaults"]),
                    bool(s["decorated"]),
                    bool(s["method"]),
                    bool(s["variadic"]),
                    str(s["setter"]),
                    str(s["owner"]),
                )
                for s in data["signatures"]
            ),
            calls=tuple(
                CallArguments(
                    str(c["name"]),
                    tuple(_given_of(v) for v in c["positional"]),
                    tuple((str(n), _given_of(v)) for n, v in c["keywords"]),
                    bool(c["open"]),
                    tuple(_origin_of(v) for v in c["origins"]),
                    tuple((str(n), _origin_of(v)) for n, v in c["keyword_origins"]),
                    tuple((str(n), _origin_of(v)) for n, v in c["item_origins"]),
                    str(c["receiver"]),
                    str(c["caller"]),
                    tuple((str(k), str(t)) for k, t in c["numbers"]),
                )
                for c in data["calls"]
            ),
            returns=tuple((str(n), bool(b)) for n, b in data["returns"]),
            owned=tuple((str(o), str(n), _given_of(v)) for o, n, v in data["owned"]),
            bases=tuple((str(n), tuple(map(str, b))) for n, b in data["bases"]),
            references=frozenset(map(str, data["references"])),
            attribute_origins=tuple((str(n), _origin_of(v)) for n, v in data["attribute_origins"]),
            made=tuple((str(n), tuple(map(str, codes))) for n, codes in data["made"]),
            records=tuple((str(n), tuple(map(str, f))) for n, f in data["records"]),
            method_texts=tuple(
                (str(n), bool(w), bool(m), tuple(map(str, d)))
                for n, w, m, d in data["method_texts"]
            ),
            guarded_collections=tuple(map(str, data["guarded_collections"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not cached constants: {exc}") from None


def _given_of(value: Any) -> Given:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)  # True and False were stored as the ints they are
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"unexpected value {value!r}")
