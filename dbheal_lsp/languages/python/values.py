"""What the code says about one value (a constant, a cast, a helper's result), and the
parameters a database call binds when they are written out."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType

from dbheal_lsp.analysis.statement import Parameter, ValueInfo
from dbheal_lsp.languages.python.calls import call_name_span, keyword_value
from dbheal_lsp.languages.python.filecontext import FileContext, owning_class
from dbheal_lsp.languages.python.number_values import NumberReader
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.model import Span

# asyncpg passes parameters as extra positional arguments: conn.fetch(sql, a, b).
_ARGS_STYLE_CALLS = frozenset({"fetch", "fetchrow", "fetchval"})
_CAST_TYPES = MappingProxyType(
    {
        "int": "INTEGER",
        "float": "REAL",
        "str": "TEXT",
        "bool": "INTEGER",
        "Decimal": "NUMERIC",
    }
)
_NUMERIC_CASTS = frozenset({"int", "float", "Decimal", "bool"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def value_info(node: ast.expr, ctx: FileContext) -> ValueInfo:
    """Return what the code evidently says about the value `node` (read once per node)."""
    known = ctx.values.get(id(node))
    if known is None:
        known = ctx.values[id(node)] = _read_value_info(node, ctx)
    return known


def _read_value_info(node: ast.expr, ctx: FileContext) -> ValueInfo:
    span = span_of(ctx.lines, node)
    source = _source_of(ctx.lines, span)
    if isinstance(node, ast.Constant):
        code_type = _constant_type(node.value)
        return ValueInfo(source, span, code_type, None, None, constant=True)
    if isinstance(node, ast.JoinedStr):
        return ValueInfo(
            source,
            span,
            "TEXT",
            constant=not any(isinstance(v, ast.FormattedValue) for v in node.values),
        )
    if isinstance(node, (ast.Name, ast.Attribute)):
        leaf = node.id if isinstance(node, ast.Name) else node.attr
        literal = isinstance(node, ast.Attribute) and ctx.options.constants.names_from_code(
            leaf, owning_class(node, ctx)
        )
        return ValueInfo(source, span, constant=(leaf.isupper() and len(leaf) > 1) or literal)
    if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
        # SORTS[key]: a lookup in a module constant is an allow-list, not user input.
        leaf = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
        return ValueInfo(source, span, constant=leaf.isupper() and len(leaf) > 1)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return ValueInfo(source, span, _constant_type(node.operand.value), constant=True)
    if isinstance(node, ast.Call):
        name = leaf_name(node.func)
        if name in ctx.options.identifier_helpers:
            return ValueInfo(source, span, safe_identifier=True)
        if name == "str" and len(node.args) == 1 and isinstance(node.args[0], ast.Call):
            inner = leaf_name(node.args[0].func)
            if inner in ("int", "float"):
                # str(int(x)) spells a number: as safe in SQL text as int(x) itself.
                return ValueInfo(source, span, _CAST_TYPES[inner], inner, numeric_cast=True)
        if name is not None and name in _CAST_TYPES and len(node.args) <= 2:
            return ValueInfo(
                source,
                span,
                _CAST_TYPES[name],
                name,
                call_name_span(node.func, ctx.lines),
                numeric_cast=name in _NUMERIC_CASTS,
            )
    return ValueInfo(source, span)


def _constant_type(value: object) -> str | None:
    if isinstance(value, (bool, int)):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str):
        return "TEXT"
    if isinstance(value, bytes):
        return "BLOB"
    return None


def _source_of(lines: Sequence[str], span: Span) -> str:
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    first = lines[span.line - 1][span.column - 1 :]
    middle = "".join(lines[span.line : span.end_line - 1])
    last = lines[span.end_line - 1][: span.end_column - 1]
    return first + middle + last


def call_parameters(call: ast.Call, name: str, ctx: FileContext) -> tuple[Parameter, ...] | None:
    """Return the parameters the call binds, when they are written out as a literal."""
    function = ctx.scope.node if ctx.scope is not None else None
    numbers = NumberReader()
    if name in _ARGS_STYLE_CALLS or (name == "execute" and len(call.args) > 2):
        return tuple(
            Parameter(i, None, typed_value(arg, function, numbers, ctx))
            for i, arg in enumerate(call.args[1:])
            if not isinstance(arg, ast.Starred)
        )
    params = (
        call.args[1]
        if len(call.args) > 1
        else keyword_value(call, ("parameters", "params", "seq_of_parameters", "args"))
    )
    if params is None:
        return ()
    if name == "executemany":
        if isinstance(params, (ast.List, ast.Tuple)) and params.elts:
            params = params.elts[0]
        else:
            return None
    return literal_parameters(params, ctx, function, numbers)


def literal_parameters(
    params: ast.expr,
    ctx: FileContext,
    function: ast.AST | None = None,
    numbers: NumberReader | None = None,
) -> tuple[Parameter, ...] | None:
    """Return the parameters a tuple, list, dict display or `dict(...)` call binds, else None;
    values read in `function` (see typed_value)."""
    numbers = numbers or NumberReader()

    def typed(node: ast.expr) -> ValueInfo:
        return typed_value(node, function, numbers, ctx)

    if isinstance(params, (ast.Tuple, ast.List)):
        return tuple(
            Parameter(i, None, typed(elt))
            for i, elt in enumerate(params.elts)
            if not isinstance(elt, ast.Starred)
        )
    if isinstance(params, ast.Dict):
        out = []
        for key, value in zip(params.keys, params.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out.append(Parameter(None, key.value, typed(value)))
        return tuple(out)
    if isinstance(params, ast.Call) and leaf_name(params.func) == "dict" and not params.args:
        return tuple(Parameter(None, kw.arg, typed(kw.value)) for kw in params.keywords if kw.arg)
    return None


def typed_value(
    node: ast.expr, function: ast.AST | None, numbers: NumberReader, ctx: FileContext
) -> ValueInfo:
    """Return what the code says about value `node` read in `function`, with the number type
    of a value certainly a number there (`key = int(raw)`, `len(x)`, `start - 60`), or of a
    parameter every caller in the project fills with one (languages/python/number_values.py)."""
    info = value_info(node, ctx)
    if info.code_type is not None or not isinstance(function, _FUNCTIONS):
        return info
    kind = numbers.number_type(node, function)
    if (
        kind is None
        and isinstance(node, ast.Name)
        and _is_parameter(node.id, function)
        and not numbers.binds(node.id, function)
    ):
        kind = ctx.options.constants.number_parameter(function.name, node.id)
    return info if kind is None else replace(info, code_type=kind)


def _is_parameter(name: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = function.args
    return name in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
