"""Signatures and call arguments: what each function takes, and what each call gives it."""

from __future__ import annotations

import ast
from collections.abc import Mapping

from dbheal_lsp.languages.python.bindings import FUNCTIONS
from dbheal_lsp.languages.python.constants import (
    CLASS_TAG,
    KEYS,
    PARAMETER_TAG,
    CallArguments,
    Given,
    Literal,
    Signature,
    read_given,
)
from dbheal_lsp.languages.python.decorators import STANDARD_TRANSPARENT, is_entry_point
from dbheal_lsp.languages.python.number_values import NumberReader
from dbheal_lsp.languages.python.origins import BUILTINS, Origin, OriginReader
from dbheal_lsp.languages.python.receivers import leaf_name


def _argument(
    value: ast.expr,
    module: Mapping[str, Literal],
    enclosing: Function | None,
    dicts: Mapping[tuple[int, str], Given],
) -> Given:
    given = read_given(value, module)
    if given is None:
        given = keys_of_display(value)
    if given is None and isinstance(value, ast.Name):
        given = dicts.get((id(enclosing), value.id))
    if given is None:
        given = _passed_on(value, enclosing)
    if given is None and isinstance(value, ast.Name) and _class_like(value.id):
        given = (CLASS_TAG, value.id)  # the project's class, if it is one (project_constants.py)
    return given


def _class_like(name: str) -> bool:
    """A CapWords name (`Album`), as classes are spelled; not a CONSTANT."""
    return name[:1].isupper() and not name.isupper()


def keys_of_display(value: ast.expr) -> Given:
    """`insert({"url": u, "title": t})`: a dict display whose keys are all literal text gives
    its keys, marked (see KEYS): what iterating or joining the dict gives, never the dict."""
    if (
        isinstance(value, ast.Dict)
        and value.keys
        and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys)
    ):
        return (KEYS, *(str(k.value) for k in value.keys if isinstance(k, ast.Constant)))
    return None


def _passed_on(value: ast.expr, enclosing: Function | None) -> Given:
    """`SqlTable(self, name)` inside `def table(self, name)`: what table's callers pass."""
    if enclosing is None or not isinstance(value, ast.Name):
        return None
    args = enclosing.args
    if value.id in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
        return (PARAMETER_TAG, f"{enclosing.name}.{value.id}")
    return None


def first_base_name(owner: ast.ClassDef) -> str | None:
    """Return the last name of the first base of class `owner`, if it has one."""
    return last_base_name(owner.bases[0]) if owner.bases else None


def record_signature(node: ast.ClassDef, module: Mapping[str, Literal]) -> Signature | None:
    """Return the constructor a named tuple or dataclass gets from its fields (`name: str`,
    `columns: tuple = ()`), or None for another class or one that writes its `__init__`."""
    record = any(last_base_name(b) == "NamedTuple" for b in node.bases) or any(
        leaf_name(d.func if isinstance(d, ast.Call) else d) == "dataclass"
        for d in node.decorator_list
    )
    if not record or any(isinstance(s, FUNCTIONS) and s.name == "__init__" for s in node.body):
        return None
    fields: list[str] = []
    defaults: list[tuple[str, Given]] = []
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if "ClassVar" in ast.unparse(stmt.annotation):
            continue  # a class attribute, not a field
        fields.append(stmt.target.id)
        if stmt.value is not None:
            defaults.append((stmt.target.id, read_given(stmt.value, module)))
    return Signature(node.name, tuple(fields), tuple(defaults)) if fields else None


def last_base_name(base: ast.expr) -> str | None:
    """Return the last name of a base class: `Model` of `dbcore.Model[Library]` too."""
    return leaf_name(base.value if isinstance(base, ast.Subscript) else base)


Function = ast.FunctionDef | ast.AsyncFunctionDef
# Calls that are never the project's own functions in practice: builtins, and methods of str,
# list, dict, connections and cursors that code calls everywhere.
NOT_THE_PROJECTS = BUILTINS | frozenset(
    {
        "append",
        "extend",
        "join",
        "format",
        "items",
        "keys",
        "values",
        "split",
        "strip",
        "replace",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "encode",
        "decode",
        "fetchone",
        "fetchall",
        "fetchmany",
        "execute",
        "executemany",
        "executescript",
    }
)


def signature_of(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    method: bool,
    module: Mapping[str, Literal],
    owner: str,
    transparent: frozenset[str] = STANDARD_TRANSPARENT,
) -> Signature:
    """Return the signature of function `node` (`method`: defined in a class body; its
    decorators named in `transparent` leave its callers as they are)."""
    args = node.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
    if method and not static and positional:
        positional = positional[1:]  # self or cls: the receiver, not an argument
    defaults: list[tuple[str, Given]] = []
    tail = positional[len(positional) - len(args.defaults) :] if args.defaults else []
    for name, default in zip(tail, args.defaults, strict=False):
        defaults.append((name, read_given(default, module)))
    for kw, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        defaults.append((kw.arg, read_given(kw_default, module)))
    keyword_only = [a.arg for a in args.kwonlyargs]
    setter = next(
        (
            d.value.id
            for d in node.decorator_list
            if isinstance(d, ast.Attribute) and d.attr == "setter" and isinstance(d.value, ast.Name)
        ),
        "",
    )
    return Signature(
        node.name,
        (*positional, *keyword_only),
        tuple(defaults),
        is_entry_point(node, transparent),
        method,
        args.vararg is not None or args.kwarg is not None,
        setter,
        owner if method else "",
    )


def call_arguments(
    node: ast.Call,
    module: Mapping[str, Literal],
    enclosing: Function | None,
    dicts: Mapping[tuple[int, str], Given],
    reader: OriginReader,
    numbers: NumberReader | None = None,
) -> CallArguments | None:
    """Return what call `node` passes and where each argument comes from (None: no name);
    with `numbers`, which arguments are certainly numbers."""
    name = leaf_name(node.func)
    if name is None:
        return None
    positional: list[Given] = []
    origins: list[Origin] = []
    # Not a function of the project's (a builtin, a method of str, list or dict): where its
    # arguments come from is not worth reading. Unread, they count as outside text.
    wanted = name not in NOT_THE_PROJECTS
    open_ = False
    item_origins: list[tuple[str, Origin]] = []

    def note_items(key: str, value: ast.expr, whole: Origin) -> None:
        items = reader.items_of(value, enclosing) if wanted else None
        if items != whole:
            item_origins.append((key, items))

    for index, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            open_ = True
            break
        positional.append(_argument(arg, module, enclosing, dicts))
        origins.append(reader.origin_of(arg, enclosing) if wanted else None)
        note_items(str(index), arg, origins[-1])
    keywords: list[tuple[str, Given]] = []
    keyword_origins: list[tuple[str, Origin]] = []
    for kw in node.keywords:
        if kw.arg is None:
            open_ = True
        else:
            keywords.append((kw.arg, _argument(kw.value, module, enclosing, dicts)))
            origin = reader.origin_of(kw.value, enclosing) if wanted else None
            keyword_origins.append((kw.arg, origin))
            note_items(kw.arg, kw.value, origin)
    return CallArguments(
        name,
        tuple(positional),
        tuple(keywords),
        open_,
        tuple(origins),
        tuple(keyword_origins),
        tuple(item_origins),
        numbers=_numbers_passed(node, enclosing, numbers) if wanted and numbers else (),
    )


def _numbers_passed(
    node: ast.Call, enclosing: Function | None, numbers: NumberReader
) -> tuple[tuple[str, str], ...]:
    """Return the arguments of `node` that are certainly numbers, keyed as CallArguments.numbers."""
    found: list[tuple[str, str]] = []
    given = [(str(i), a) for i, a in enumerate(node.args)]
    given += [(kw.arg, kw.value) for kw in node.keywords if kw.arg is not None]
    for key, value in given:
        if isinstance(value, ast.Starred):
            break
        kind = numbers.number_type(value, enclosing)
        if kind is not None:
            found.append((key, kind))
    return tuple(found)
