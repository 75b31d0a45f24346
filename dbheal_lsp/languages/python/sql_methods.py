"""Methods that write SQL text: what `where, args = query.clause()` interpolates.

Applications build WHERE and ORDER BY text in their own classes (`def clause(self): return
f"{self.field} = ?", [self.value]`) and interpolate what a call returns into a statement:
`f"SELECT * FROM t WHERE {where}"`. Which class's method runs is chosen at run time, and the
names in that text come from how the objects were made; the statement cannot decide them. What
it can decide: every method of that name in the project writes SQL text (a literal with SQL in
it, an f-string, a join of such parts, another such method's text, or nothing), never hands
back a parameter or a value read from outside as it is. Such a slot is SQL the program writes:
unknown SQL, not a value someone outside can choose (issue 11, pattern 9: say nothing rather
than guess).

Each file gives, per function, whether its returns are written text, whether that text shows
SQL, and the methods its text is made from (`method_texts`); `sql_text_methods` merges them
project-wide; `written_sql` asks of one interpolated value.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeAlias

from dbheal_lsp.languages.python.bindings import (
    FUNCTIONS,
    HOLDS,
    Bound,
    function_bindings,
    inner_statements,
    return_statements,
)
from dbheal_lsp.languages.python.origins import OriginReader

if TYPE_CHECKING:
    from dbheal_lsp.languages.python.filecontext import FileContext, Scope

# One function's returned text: (name, written text, shows SQL, the methods it is made of).
MethodText: TypeAlias = "tuple[str, bool, bool, tuple[str, ...]]"
# Text read so far: (shows SQL, methods it is made of); None: not text the code writes.
_Text: TypeAlias = "tuple[bool, frozenset[str]] | None"
_MAX_DEPTH = 4
# SQL in a method's literal text: a placeholder standing alone, a comparison between spaces, or
# a keyword in capitals (a URL's `?x=1` or a repr's `fast=True` is none).
_SQL_MARK = re.compile(
    r"(?:^|[\s(,=<>])(?:\?|%s|:\w+)(?=$|[\s),])|\s(?:=|==|!=|<>|<=|>=|<|>)\s"
    r"|\b(?:SELECT|FROM|WHERE|AND|OR|NOT|NULL|IS|IN|LIKE|GLOB|CASE|WHEN|THEN|END"
    r"|ASC|DESC|COLLATE|BETWEEN|EXISTS|COALESCE|NULLIF|ORDER|GROUP|BY|LIMIT|JOIN|ON)\b"
)
# What comes just before a value in SQL: a comparison, LIKE/GLOB, `IN (`, LIMIT/OFFSET.
_VALUE_BEFORE = re.compile(
    r"(?:=|<|>|\b(?:LIKE|GLOB|REGEXP|MATCH|LIMIT|OFFSET)|\bIN\s*\()\s*$", re.IGNORECASE
)
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
# Methods of the builtin types: `request.args.get(...)` is never a project method's text.
_BUILTIN_METHODS = frozenset(
    name for t in (str, bytes, list, dict, set, tuple, int, float, object) for name in dir(t)
)


def method_texts(tree: ast.Module, reader: OriginReader) -> tuple[MethodText, ...]:
    """Return, for each method of `tree` that returns a value, whether what it returns is
    text the code writes (for a tuple, its first item), whether that text shows SQL, and
    the methods whose text it is made of; a function outside a class body never is."""
    found: list[MethodText] = []
    # Functions are statements: only statements are walked, not every expression.
    stack: list[tuple[ast.stmt, bool]] = [(s, False) for s in reversed(tree.body)]
    while stack:
        node, in_class = stack.pop()
        inner = isinstance(node, ast.ClassDef)
        stack.extend((s, inner) for s in reversed(inner_statements(node)))  # in source order
        if not isinstance(node, FUNCTIONS) or _ignored(node.name):
            continue
        if not in_class:
            # A function of a module: `mod.f()` may call it; a method's text is what is sought.
            found.append((node.name, False, False, ()))
            continue
        returns = [r.value for r in return_statements(node) if r.value is not None]
        if not returns:
            continue  # abstract, or returns nothing: says nothing against the name
        reading = _Reading(node, reader)
        texts: list[tuple[bool, frozenset[str]]] = []
        for value in returns:
            text = reading.text(_first(value), 0)
            if text is None:
                break
            texts.append(text)
        if len(texts) < len(returns):
            found.append((node.name, False, False, ()))
            continue
        marked = any(t[0] for t in texts)
        deps = frozenset[str]().union(*(t[1] for t in texts))
        found.append((node.name, True, marked, tuple(sorted(deps))))
    return tuple(found)


def sql_text_methods(entries: Iterable[MethodText]) -> frozenset[str]:
    """Return the names whose every function in the project returns written text, made only
    of other such methods' text, and of which some text shows SQL."""
    writes: dict[str, bool] = {}
    marked: dict[str, bool] = {}
    deps: dict[str, set[str]] = {}
    for name, written, mark, made_of in entries:
        writes[name] = writes.get(name, True) and written
        marked[name] = marked.get(name, False) or mark
        deps.setdefault(name, set()).update(made_of)
    names = {name for name, written in writes.items() if written}
    while True:
        kept = {name for name in names if deps[name] <= names}
        if kept == names:
            break
        names = kept
    sql = {name for name in names if marked[name]}
    while True:
        more = {name for name in names - sql if deps[name] & sql}
        if not more:
            return frozenset(sql)
        sql |= more


def written_sql(node: ast.expr, scope: Scope, ctx: FileContext, depth: int = 0) -> bool:
    """Return whether every value `node` can hold is SQL text a project method writes (see the
    module docstring), or a literal: `where or 1` with `where, args = query.clause()`."""
    methods = ctx.options.constants.sql_text_methods
    if not methods or depth > _MAX_DEPTH:
        return False
    if isinstance(node, ast.Constant):
        return depth > 0
    if isinstance(node, ast.BoolOp):
        return all(written_sql(v, scope, ctx, depth + 1) for v in node.values)
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Call)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == 0
    ):
        node = node.value  # `text, values = obj.m()`: the first item is what was read
    if isinstance(node, ast.Call):
        func = node.func
        return isinstance(func, ast.Attribute) and func.attr in methods
    if isinstance(node, ast.Name):
        return _name_written(node, scope, ctx, depth)
    return False


def _name_written(node: ast.Name, scope: Scope, ctx: FileContext, depth: int) -> bool:
    # Imported here: reaching reads the file context, which holds the project constants
    # that import this module.
    from dbheal_lsp.languages.python.reaching import reaching_values

    at = (node.lineno, node.col_offset)
    reaching = reaching_values(scope, node.id, at, ctx)
    if not reaching:
        return False
    return all(
        base is not None and not augments and written_sql(base, scope, ctx, depth + 1)
        for base, augments in reaching
    )


def _ignored(name: str) -> bool:
    return name.startswith("__") or name in _BUILTIN_METHODS


def _first(value: ast.expr) -> ast.expr:
    """A returned tuple's text is its first item (`return clause, subvals`)."""
    if isinstance(value, ast.Tuple) and value.elts:
        return value.elts[0]
    return value


def _value_parts(node: ast.JoinedStr) -> Iterator[ast.expr]:
    """Yield the parts of `node` written where SQL takes a value: inside quotes, after a
    comparison, LIKE, IN ( or LIMIT. Such a part must itself be SQL text the code writes (a
    `?`): a value there would be one that nobody binds, and reporting it falls to the statement.
    """
    before = ""
    for value in node.values:
        if isinstance(value, ast.Constant):
            before += str(value.value)
        elif isinstance(value, ast.FormattedValue):
            if before.count("'") % 2 == 1 or _VALUE_BEFORE.search(before):
                yield value.value
            before += "x"


def _marked(text: str) -> bool:
    return _SQL_MARK.search(text) is not None


class _Reading:
    """Reads the text one function returns, in that function's scope."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef, reader: OriginReader):
        self.function = function
        self.reader = reader
        args = function.args
        self.parameters = {
            a.arg
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
            if a is not None
        }

    def _bindings(self) -> dict[str, list[Bound]]:
        # Shared with the origin reader, which reads the same functions' names.
        known = self.reader.bindings.get(id(self.function))
        if known is None:
            known = self.reader.bindings[id(self.function)] = function_bindings(self.function)
        return known

    def text(self, node: ast.expr, depth: int) -> _Text:
        """Return what the text `node` is made of, or None when it is not text the code writes."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return _marked(node.value), frozenset()
            return (False, frozenset()) if node.value is None else None
        if isinstance(node, ast.JoinedStr):
            # Each interpolated part stands in as a word: `f"{url}?{query}"` is no placeholder.
            literal = "".join(
                str(v.value) if isinstance(v, ast.Constant) else "x" for v in node.values
            )
            parts = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
            if any(self.text(p, depth + 1) is None for p in _value_parts(node)):
                return None  # `f"title LIKE '%{self.pattern}%'"`: a value, not SQL text
            return self._joined(_marked(literal), parts, depth)
        if isinstance(node, ast.IfExp | ast.BoolOp):
            values = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
            return _merged(self.text(v, depth + 1) for v in values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            left = self.text(node.left, depth + 1)
            if left is None:
                return None
            if isinstance(node.left, ast.Constant) and isinstance(node.op, ast.Mod):
                # `"%s (%s)" % (a, b)`: the conversions are where parts go, not placeholders.
                left = _marked(_FORMAT_SPEC.sub("x", str(node.left.value))), left[1]
            right = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            return self._joined(left[0], right, depth, left[1])
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Name) and node.id not in self.parameters:
            return _merged(self._bound(node.id, depth))
        return None

    def _call(self, node: ast.Call, depth: int) -> _Text:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("join", "format"):
            base = self.text(func.value, depth + 1)
            if base is None:
                return None
            if func.attr == "format":
                if isinstance(func.value, ast.Constant):
                    template = _FORMAT_FIELD.sub("x", str(func.value.value))
                    base = _marked(template), base[1]
                parts = [*node.args, *(k.value for k in node.keywords)]
                return self._joined(base[0], parts, depth, base[1])
            if len(node.args) != 1:
                return None
            return self._joined(base[0], list(self._items(node.args[0])), depth, base[1])
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name is None or _ignored(name) or isinstance(func, ast.Name):
            return None  # a function's result, not a method's text
        return False, frozenset({name})

    def _bound(self, name: str, depth: int) -> Iterator[_Text]:
        values = self._bindings().get(name)
        if not values:
            yield None
            return
        for value, _checked, how in values:
            if value is None or how == HOLDS:
                yield None
            elif isinstance(value, ast.Tuple):
                # `left, right = self.field, "?"`: each name holds one of the items.
                yield self._joined(False, list(value.elts), depth)
            else:
                yield self.text(value, depth + 1)

    def _items(self, node: ast.expr) -> Iterator[ast.expr]:
        """Yield what iterating `node` gives, as far as the function shows it."""
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            yield from node.elts
        elif isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            yield node.elt
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            yield from self._items(node.left)  # `["?"] * n`
        elif isinstance(node, ast.Name) and node.id not in self.parameters:
            for value, _checked, how in self._bindings().get(node.id, []):
                if value is None:
                    continue
                if how == HOLDS:
                    yield value  # `parts.append(f"({clause})")`
                else:
                    yield from self._items(value)
        else:
            yield node

    def _joined(
        self,
        marked: bool,
        parts: list[ast.expr],
        depth: int,
        deps: frozenset[str] = frozenset(),
    ) -> _Text:
        """Text of literal pieces and `parts`: a part is written text itself, or any value
        that does not come from outside the program (it is decided where it is written)."""
        made_of = set(deps)
        for part in parts:
            found = self.text(part, depth + 1)
            if found is not None:
                marked = marked or found[0]
                made_of |= found[1]
            elif self.reader.origin_of(part, self.function) is None:
                return None
        return marked, frozenset(made_of)


def _merged(texts: Iterable[_Text]) -> _Text:
    marked = False
    made_of: set[str] = set()
    for found in texts:
        if found is None:
            return None
        marked = marked or found[0]
        made_of |= found[1]
    return marked, frozenset(made_of)
