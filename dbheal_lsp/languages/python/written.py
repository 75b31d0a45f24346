"""Names written elsewhere in the code, read as SQL text: attributes and parameters that the
project only ever gives literals (languages/python/project_constants.py), pinned where they are used."""

from __future__ import annotations

import ast
import re

from dbheal_lsp.analysis.statement import TextPiece
from dbheal_lsp.languages.python.class_texts import sql_text
from dbheal_lsp.languages.python.constants import Literal as GivenLiteral
from dbheal_lsp.languages.python.constants import dict_keys
from dbheal_lsp.languages.python.filecontext import FileContext, Scope, Variants, owning_class
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.languages.python.reaching import collect_assignments, reaching_name


def attribute_values(node: ast.Attribute, ctx: FileContext) -> frozenset[GivenLiteral] | None:
    """Return the literals attribute `node` holds: for `self.x` read as one class (see
    per_class_variants), that class's; else every value its class family gives it (noting
    `self.x` with several, which one read per class may tell apart)."""
    constants = ctx.options.constants
    owner = owning_class(node, ctx)
    if owner is not None and ctx.call_site and node.attr in ctx.own_attributes:
        ctx.given = True  # what the receiver's constructors give it
        return frozenset({ctx.own_attributes[node.attr]})
    if owner is not None and ctx.as_class is not None:
        found = constants.class_attribute_values(node.attr, ctx.as_class)
        ctx.given = ctx.given or ctx.call_site
        return found
    if owner is None and isinstance(node.value, ast.Name) and ctx.scope is not None:
        classes = _classes_passed(ctx.scope, node.value.id, ctx)
        if classes and ctx.as_argument is not None and ctx.as_argument[0] == node.value.id:
            return constants.class_attribute_values(node.attr, ctx.as_argument[1])
        if classes:
            ctx.class_arguments[node.value.id] = classes  # read once per class passed
    if owner is None and constants.record_fields:
        function = ctx.scope.node if ctx.scope is not None else None
        cls = ctx.origins.class_of(node.value, function)
        if (cls, node.attr) in constants.record_fields:
            # `index.name` on an Index: what `Index(...)` calls pass, not any `name`.
            return constants.parameter_values(cls, node.attr)
    values = constants.attribute_values(node.attr, owner)
    if owner is not None and values is not None and len(values) > 1:
        ctx.per_class.add(node.attr)
    return values


# A literal that can be put in the SQL text for a name: a name or type, not a piece of SQL.
NAME_TEXT = re.compile(r"[A-Za-z_][\w]*(?: [A-Za-z_]\w*)?")


def pinned(
    values: frozenset[GivenLiteral] | None, node: ast.expr, ctx: FileContext
) -> Variants | None:
    """The text of a name written elsewhere in the code (`self.TABLE`, a parameter every caller
    gives the same literal), as a text piece pinned to `node`: issues point where it is used."""
    if not values or len(values) != 1:
        # Several: which goes with which other name (a table with its columns) is not known,
        # and checking every combination would report the ones no caller makes.
        return None
    text = sql_text(next(iter(values)))
    if text is not None:
        return [[text_at(text, node, ctx)]]  # a class property's SQL, spelled for its class
    texts = sorted(v for v in values if isinstance(v, str))
    if len(texts) != len(values) or not all(NAME_TEXT.fullmatch(t) for t in texts):
        return None
    return [[text_at(t, node, ctx)] for t in texts]


def text_at(text: str, node: ast.expr, ctx: FileContext) -> TextPiece:
    """Return `text`, written elsewhere (or built from names written elsewhere), as a piece
    whose characters all point at `node`: an issue on any name in it spans the whole `node`
    (each name's first character maps to its start, every other character to its end)."""
    span = span_of(ctx.lines, node)
    first, last = (span.line, span.column), (span.end_line, max(span.column, span.end_column - 1))
    end = (span.end_line, span.end_column)
    positions = [
        first if _is_word(c) and (i == 0 or not _is_word(text[i - 1])) else last
        for i, c in enumerate(text)
    ]
    return TextPiece(text, (*positions, end))


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def names_tuple(node: ast.expr, scope: Scope, ctx: FileContext) -> tuple[str, ...] | None:
    """Return the tuple of names `node` holds when the code writes it: a module constant, a
    class attribute, or a parameter every caller (or this caller) gives one such tuple."""
    values: frozenset[GivenLiteral] | None = None
    if isinstance(node, ast.Attribute):
        values = attribute_values(node, ctx)
    elif isinstance(node, ast.Name) and (found := reaching_name(node, scope, ctx)):
        candidate, reaching = found
        if len(reaching) != 1 or reaching[0][1]:
            return None
        base = reaching[0][0]
        if base is not None:
            # A tuple: a list may have been appended to since it was assigned.
            literal = _tuple_literal(base) if isinstance(base, ast.Tuple) else None
            values = None if literal is None else frozenset({literal})
        else:
            values = caller_literals(candidate, node.id, ctx)
    if not values or len(values) != 1:
        return None
    value = next(iter(values))
    value = dict_keys(value) or value  # joining a dict joins its keys
    if not isinstance(value, tuple) or not value:
        return None
    return value if all(NAME_TEXT.fullmatch(v) for v in value) else None


def _tuple_literal(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, (ast.Tuple, ast.List)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(str(e.value) for e in node.elts if isinstance(e, ast.Constant))
    return None


def _classes_passed(scope: Scope, name: str, ctx: FileContext) -> frozenset[str]:
    """Return the project's classes callers pass as parameter `name` of the function `scope`
    (`model_cls` of `_get_results(model_cls, ...)`), when it is never bound otherwise."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return frozenset()
    if scope.assignments is None:
        scope.assignments = collect_assignments(scope.node, scope.owners)
    if len(scope.assignments.get(name, ())) != 1:
        return frozenset()
    return ctx.options.constants.classes_passed(node.name, name)


def parameter_values(scope: Scope, name: str, ctx: FileContext) -> frozenset[GivenLiteral] | None:
    """Return the literals every caller passes as parameter `name` of the function `scope`,
    when the function never binds that name otherwise; None when not known."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if scope.assignments is None:
        scope.assignments = collect_assignments(scope.node, scope.owners)
    if len(scope.assignments.get(name, ())) != 1:
        return None  # rebound in the body: the parameter is not all it holds
    args = node.args
    if name not in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
        return None
    return ctx.options.constants.parameter_values(node.name, name)


def _unbound(scope: Scope, name: str) -> bool:
    """Return whether the function `scope` binds parameter `name` nowhere but in its list."""
    if scope.assignments is None:
        scope.assignments = collect_assignments(scope.node, scope.owners)
    return len(scope.assignments.get(name, ())) == 1


def caller_literals(scope: Scope, name: str, ctx: FileContext) -> frozenset[GivenLiteral] | None:
    """Return the literals every caller passes as parameter `name` of the function `scope`;
    while one caller's statements are read (per_caller_variants), only that caller's. Several
    literals mark the statement as worth reading once per caller."""
    if ctx.call_site and name in ctx.environment and scope.node is ctx.environment_of:
        ctx.given = True
        return frozenset({ctx.environment[name]}) if _unbound(scope, name) else None
    values = parameter_values(scope, name, ctx)
    if values is not None and len(values) > 1:
        ctx.several = True
        if name in ctx.environment and scope.node is ctx.environment_of:
            return frozenset({ctx.environment[name]})
    return values
