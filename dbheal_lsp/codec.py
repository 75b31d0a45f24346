"""JSON forms of the fix values of `dbheal_lsp.model`: one codec read off their dataclass fields.

History records and queue entries store MigrationPlan, CodeFix, VerifyReport and LossyReport
as JSON, the admin page and the editor show them again from it, and `--json` output prints
them. Every value goes to and from JSON the same way, driven by `dataclasses.fields`:

- a top-level value is a JSON object with a "type" tag (`TAGS`), so that a stored payload says
  what it is; values inside it (plan steps, edits, checks) are untagged objects;
- a `Span` is written as `[line, column, end_line, end_column]`;
- tuples are lists; strings, numbers, booleans and null are themselves.

Readers accept objects written before a field existed (the field's default is used, or the
one in `READ_DEFAULTS` for a field that has none in the dataclass), because history records
outlive the version of dbheal that wrote them; any other wrong value raises ValueError naming
the value and the key.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from dbheal_lsp.model import (
    CodeFix,
    LossyReport,
    MigrationPlan,
    PlanStep,
    Span,
    TextEdit,
    VerifyCheck,
    VerifyReport,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "TAGS",
    "Change",
    "change_from_dict",
    "change_to_dict",
    "changes_from_json",
    "changes_to_json",
    "from_dict",
    "from_json",
    "to_dict",
    "to_json",
]

Change = MigrationPlan | CodeFix

#: The "type" tag of each value that is stored on its own.
TAGS: Mapping[type, str] = MappingProxyType(
    {
        MigrationPlan: "migration_plan",
        CodeFix: "code_fix",
        VerifyReport: "verify_report",
        LossyReport: "lossy_report",
    }
)

#: How errors name each value (an item of a list is also numbered: "code fix edit 2").
_NAMES: Mapping[type, str] = MappingProxyType(
    {
        MigrationPlan: "migration plan",
        PlanStep: "migration plan step",
        CodeFix: "code fix",
        TextEdit: "code fix edit",
        VerifyReport: "verify report",
        VerifyCheck: "verify check",
        LossyReport: "lossy report",
    }
)

#: Defaults for reading fields that the dataclass requires but older JSON may lack.
READ_DEFAULTS: Mapping[type, Mapping[str, object]] = MappingProxyType(
    {
        MigrationPlan: MappingProxyType({"description": "", "expected": ""}),
        CodeFix: MappingProxyType({"issue_fingerprint": "", "source_hash": ""}),
    }
)

_Value = TypeVar("_Value", bound="DataclassInstance")
_MISSING: Any = object()


# --- writing ------------------------------------------------------------------------------------


def to_dict(value: DataclassInstance) -> dict[str, Any]:
    """Return the JSON object of a fix value (tagged with its "type" when it has one)."""
    data: dict[str, Any] = {}
    tag = TAGS.get(type(value))
    if tag is not None:
        data["type"] = tag
    for item in dataclasses.fields(value):
        data[item.name] = _plain(getattr(value, item.name))
    return data


def _plain(value: object) -> object:
    if isinstance(value, Span):
        return [value.line, value.column, value.end_line, value.end_column]
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    return value


def to_json(value: DataclassInstance) -> str:
    """Return the JSON text of a fix value."""
    return _dumps(to_dict(value))


def change_to_dict(change: Change) -> dict[str, Any]:
    """Return the JSON object of a migration plan or a code fix (tagged by "type")."""
    return to_dict(change)


def changes_to_json(changes: Sequence[Change]) -> str:
    """Return the JSON text (a list) of the plans and code fixes of one fix: what
    `FixRecord.plan_json` holds, one item for a code or schema fix, several for "both"."""
    return _dumps([to_dict(c) for c in changes])


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


# --- reading ------------------------------------------------------------------------------------


def from_dict(cls: type[_Value], data: object, what: str | None = None) -> _Value:
    """Return the `cls` value of a JSON object from `to_dict`, or raise ValueError saying which
    value and key is wrong (`what` names the value; by default its kind)."""
    reader = _Reader(data, what or _NAMES[cls], TAGS.get(cls))
    defaults = READ_DEFAULTS.get(cls, {})
    kinds = _field_types(cls)
    values: dict[str, object] = {}
    # Lists of values first: an object missing its steps or edits says that before anything.
    for item in sorted(dataclasses.fields(cls), key=lambda f: _value_list(kinds[f.name]) is None):
        default = defaults.get(item.name, _MISSING)
        if item.default is not dataclasses.MISSING:
            default = item.default
        elif item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        values[item.name] = _read_field(reader, item.name, kinds[item.name], default)
    return cls(**values)


def from_json(cls: type[_Value], text: str | bytes) -> _Value:
    """Return the `cls` value of a JSON text from `to_json`, or raise ValueError."""
    return from_dict(cls, _loads(text, _NAMES[cls]))


def change_from_dict(data: object) -> Change:
    """Return the migration plan or code fix of a JSON object from `change_to_dict`."""
    tag = data.get("type") if isinstance(data, dict) else None
    if tag == TAGS[MigrationPlan]:
        return from_dict(MigrationPlan, data)
    if tag == TAGS[CodeFix]:
        return from_dict(CodeFix, data)
    raise ValueError(f"expected a migration plan or a code fix, got type {tag!r}")


def changes_from_json(text: str | bytes) -> tuple[Change, ...]:
    """Return the plans and code fixes of a JSON text from `changes_to_json`; a single object
    (from `to_json` of a plan or a code fix) is accepted too."""
    data = _loads(text, "fix plan")
    items = data if isinstance(data, list) else [data]
    return tuple(change_from_dict(item) for item in items)


@cache
def _field_types(cls: type) -> Mapping[str, Any]:
    """The resolved annotations of `cls` (the model's are strings: `from __future__`)."""
    return MappingProxyType(typing.get_type_hints(cls))


def _read_field(reader: _Reader, key: str, kind: Any, default: Any) -> object:
    """Read `key` as a value of the annotation `kind`."""
    if kind is Span:
        span = reader.integers(key)
        if len(span) != 4:
            raise ValueError(f"{reader.what}: {key!r} should have 4 integers")
        return Span(*span)
    if kind is str:
        return reader.text(key, default)
    if kind is bool:
        return reader.boolean(key, default)
    if kind is int:
        return reader.integer(key, default)
    if isinstance(kind, types.UnionType) and set(typing.get_args(kind)) == {str, type(None)}:
        return reader.opt_text(key)
    if kind == tuple[str, ...]:
        return reader.texts(key)
    if kind == tuple[int, ...]:
        return reader.integers(key)
    item = _value_list(kind)
    if item is not None:
        # An empty tuple default is read as "no items".
        listed = reader.items(key, [] if default == () else default)
        name = _NAMES[item]
        return tuple(from_dict(item, v, f"{name} {n + 1}") for n, v in enumerate(listed))
    raise TypeError(f"the codec cannot read a field of type {kind!r}")


def _value_list(kind: Any) -> type[DataclassInstance] | None:
    """Return the item class when `kind` is a tuple of dataclass values, else None."""
    if typing.get_origin(kind) is not tuple:
        return None
    item = typing.get_args(kind)[0]
    return item if isinstance(item, type) and dataclasses.is_dataclass(item) else None


class _Reader:
    """Typed access to one JSON object, with errors that say which value is wrong."""

    def __init__(self, data: object, what: str, tag: str | None = None) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{what}: expected a JSON object, got {type(data).__name__}")
        if tag is not None and data.get("type", tag) != tag:
            raise ValueError(f"{what}: expected type {tag!r}, got {data.get('type')!r}")
        self.data: dict[str, Any] = data
        self.what = what

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise ValueError(f"{self.what}: missing {key!r}")
        return default

    def _fail(self, key: str, expected: str) -> ValueError:
        return ValueError(f"{self.what}: {key!r} should be {expected}, got {self.data[key]!r}")

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def integer(self, key: str, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def items(self, key: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        items = self.items(key, [])
        if not all(isinstance(item, str) for item in items):
            raise self._fail(key, "a list of strings")
        return tuple(items)

    def integers(self, key: str) -> tuple[int, ...]:
        items = self.items(key, [])
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
            raise self._fail(key, "a list of integers")
        return tuple(items)


def _loads(text: str | bytes, what: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what}: not valid JSON ({exc})") from exc
