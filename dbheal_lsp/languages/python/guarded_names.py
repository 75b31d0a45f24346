"""The names SQL text a project method writes can hold: the members of a class's field collection
that decides which objects write it.

Applications build WHERE and ORDER BY text in query and sort objects (`clause()`,
`order_clause()`: languages/python/sql_methods.py), from a name the user typed. What they spell
in SQL is only a name that passed a membership test in a collection the model class declares:

    fast = field in cls.all_db_fields            # or: elif field in model_cls._fields:
    return query_cls(field, pattern, fast)       #         sort_cls = FixedFieldSort
                                                 #     return sort_cls(field, ascending)

with `clause()` writing `f"{self.field} = ?"` only `if self.fast`. Such a test, whose outcome
decides a call given the tested name first (passed along as a flag, or the call made or the
class chosen in the test's branch), marks the collection (`all_db_fields`, `_fields`) as one
whose members SQL text may name (`guarded_collections`, per file; merged project-wide).

A statement read once per model class (`_get_results(model_cls, ...)` for Item and Album) that
interpolates such text then names the members of every marked collection the class declares as
names (a dict or set display, or a class property giving another of its attributes' names, read
per class as every class attribute is; a union with another class's collection, such as
`all_db_fields` over the related model, is not read, so only the class's own table's fields are
spelled). `member_text` spells the slot as `COALESCE(a, b, ...)`: no comparison, no filter an
index could serve, valid in WHERE and ORDER BY alike; qualified with the first table of the FROM
clause of its SELECT (`WHERE items.a`: never ambiguous beside a joined table), plain when that
FROM reads a subquery (`SELECT * FROM (SELECT ...) ORDER BY a`, whose columns have no table). A
declared field its table lacks is then MISSING_COLUMN where the text is interpolated, as SQLite
says when a query or sort on that field runs. The link from a collection to the text is
project-wide, not followed through each writing class's constructor and its `if self.fast:`:
every written-SQL slot of a statement read per class is spelled with every marked collection
that class declares. What is not seen: which member a run names; a collection whose test
decides nothing the file shows (a class chosen elsewhere), or the text of a statement not read
per class, stays unknown SQL as before.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece
from dbheal_lsp.languages.python.class_values import PER_CLASS_TAGS
from dbheal_lsp.languages.python.constants import KEYS

if TYPE_CHECKING:
    from dbheal_lsp.languages.python.filecontext import FileContext
    from dbheal_lsp.languages.python.project_constants import ProjectConstants

# How many members a slot may spell out (a model of a few hundred fields still is one).
MAX_MEMBERS = 400
_NAME = re.compile(r"[A-Za-z_]\w*")
_WORD = re.compile(r"[A-Za-z_]\w*|[()]")


Function: TypeAlias = "ast.FunctionDef | ast.AsyncFunctionDef"


def guarded_collections(tests: Iterable[tuple[ast.Compare, Function | None]]) -> tuple[str, ...]:
    """Return the attributes `K` of the `name in P.K` tests among `tests` (each with the
    innermost function it is in; P a parameter of it that holds a class) whose outcome decides
    a call given `name` first (see the module docstring)."""
    found: set[str] = set()
    walked: dict[int, tuple[dict[int, ast.AST], list[ast.Call]]] = {}
    for test, function in tests:
        if function is None or not _membership(test, _classes(function)):
            continue
        if id(function) not in walked:
            nodes = list(ast.walk(function))
            parents = {id(c): n for n in nodes for c in ast.iter_child_nodes(n)}
            walked[id(function)] = parents, [n for n in nodes if isinstance(n, ast.Call) and n.args]
        parents, calls = walked[id(function)]
        assert isinstance(test.left, ast.Name) and isinstance(test.comparators[0], ast.Attribute)
        if _decides_call(test, test.left.id, parents.get(id(test)), calls):
            found.add(test.comparators[0].attr)
    return tuple(sorted(found))


def comparisons(tree: ast.Module) -> list[tuple[ast.Compare, Function | None]]:
    """Return the module's comparisons with the innermost function each is in (file_constants
    collects them in its own walk; this is for one module read alone)."""
    found: list[tuple[ast.Compare, Function | None]] = []
    stack: list[tuple[ast.AST, Function | None]] = [(tree, None)]
    while stack:
        node, function = stack.pop()
        if isinstance(node, ast.Compare):
            found.append((node, function))
        inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return found


def _classes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The parameters that hold a class: a class method's first, or one annotated
    `type[...]` (a model's collection is the class's, not an instance's state)."""
    args = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    found = {a.arg for a in args if _is_type(a.annotation)}
    decorators = {d.id for d in function.decorator_list if isinstance(d, ast.Name)}
    if args and "classmethod" in decorators:
        found.add(args[0].arg)
    return found


def _is_type(annotation: ast.expr | None) -> bool:
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value  # type[Model]
    return isinstance(annotation, ast.Name) and annotation.id in ("type", "Type")


def _membership(node: ast.AST, parameters: set[str]) -> bool:
    """`name in P.K`, P a parameter of the function that holds a class (see `_classes`)."""
    if not (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.In)
        and isinstance(node.left, ast.Name)
    ):
        return False
    right = node.comparators[0]
    return (
        isinstance(right, ast.Attribute)
        and isinstance(right.value, ast.Name)
        and right.value.id in parameters
    )


def _decides_call(
    test: ast.Compare, name: str, parent: ast.AST | None, calls: Sequence[ast.Call]
) -> bool:
    """Whether a call given `name` first also takes the test's outcome: a name bound to it
    (`fast = name in P.K`, then `f(name, ..., fast)`), or runs in the test's branch, or calls
    a class the branch chooses (`sort_cls = FixedFieldSort`, then `sort_cls(name, ...)`)."""
    given = [c for c in calls if isinstance(c.args[0], ast.Name) and c.args[0].id == name]
    if not given:
        return False
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        flag = parent.targets[0]
        if not isinstance(flag, ast.Name):
            return False
        return any(_passes(c, flag.id) for c in given)
    if not (isinstance(parent, ast.If) and parent.test is test):
        return False
    branch = [n for stmt in parent.body for n in ast.walk(stmt)]
    inside = {id(n) for n in branch}
    chosen = {
        target.id
        for n in branch
        if isinstance(n, ast.Assign) and isinstance(n.value, (ast.Name, ast.Attribute))
        for target in n.targets
        if isinstance(target, ast.Name)
    }
    return any(
        id(c) in inside or (isinstance(c.func, ast.Name) and c.func.id in chosen) for c in given
    )


def _passes(call: ast.Call, flag: str) -> bool:
    values = [*call.args[1:], *(k.value for k in call.keywords)]
    return any(isinstance(v, ast.Name) and v.id == flag for v in values)


def class_members(
    collections: frozenset[str], cls: str, constants: ProjectConstants
) -> tuple[str, ...]:
    """Return the members of the marked `collections` that class `cls` declares (a dict's
    keys, a set's names, a class property giving them, read for `cls` as every class
    attribute is: ProjectConstants.class_attribute_values), sorted; () when none is read."""
    names: set[str] = set()
    for attribute in sorted(collections):
        for value in constants.class_attribute_values(attribute, cls) or ():
            if isinstance(value, tuple) and value and value[0] not in PER_CLASS_TAGS:
                names.update(str(v) for v in value if v != KEYS and _NAME.fullmatch(str(v)))
    return tuple(sorted(names)) if len(names) <= MAX_MEMBERS else ()


def spell_members(pieces: list[Piece], ctx: FileContext) -> list[Piece]:
    """Return `pieces` with each slot of SQL text a project method writes, read for one model
    class, spelled as the members that class declares (see the module docstring)."""
    if not ctx.member_slots:
        return pieces
    out = list(pieces)
    for i, piece in enumerate(pieces):
        marked = ctx.member_slots.get(id(piece)) if isinstance(piece, Slot) else None
        if marked is None or marked[0] is not piece:
            continue
        constants = ctx.options.constants
        members = class_members(constants.guarded_collections, marked[1], constants)
        text = member_text(pieces, i, members)
        if text is not None:
            out[i] = text
    return out


def member_text(pieces: Sequence[Piece], at: int, members: tuple[str, ...]) -> TextPiece | None:
    """Return the text standing for slot `pieces[at]` that names `members` (see the module
    docstring), at the slot's place in the file; None when its SELECT's FROM is not seen."""
    slot = pieces[at]
    assert isinstance(slot, Slot)
    before = "".join(p.text for p in pieces[:at] if isinstance(p, TextPiece))
    table = _from_of(before)
    if table is None or not members:
        return None
    prefix = "" if table == "" else f"{table}."
    names = [f"{prefix}{m}" for m in members]
    text = f"COALESCE({', '.join(names)}{', NULL' if len(names) == 1 else ''})"
    span = slot.value.span
    return TextPiece(text, ((span.line, span.column),) * (len(text) + 1))


def _from_of(text: str) -> str | None:
    """The first table of the FROM clause of the SELECT that `text` (the SQL before a slot)
    ends in: "" when it reads a subquery, None when there is none or it is not a plain name."""
    words = _WORD.findall(text)
    depth = 0
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if word == ")":
            depth += 1
        elif word == "(":
            if depth == 0 and i + 1 < len(words) and words[i + 1].upper() == "SELECT":
                return None  # the slot's own SELECT ended without a FROM before the slot
            depth = max(depth - 1, 0)
        elif depth == 0 and word.upper() == "FROM":
            rest = [w for w in words[i + 1 :] if w != "("]
            if not rest:
                return None
            return "" if rest[0].upper() == "SELECT" else rest[0]
    return None
