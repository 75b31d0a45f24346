"""What class the receiver of a helper's call is an instance of, when the caller's file says
so plainly (languages/python/call_sites.py): `self`, `self.x` that the class only ever sets to
`C(...)`, a name bound only to `C(...)` or `cast("C", ...)`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.receivers import leaf_name


def receiver_class(node: ast.expr, scope: Scope, ctx: FileContext) -> str:
    """Return the project class the call's receiver is an instance of, "" when not known:
    `self` in a method, `self.x` that the class's methods only ever make a `C(...)`, a name
    the module only ever binds to `C(...)` (or `cast("C", ...)`)."""
    constants = ctx.options.constants
    in_method = ctx.class_node is not None and scope.node is not ctx.module.node
    if isinstance(node, ast.Name) and node.id == "self":
        return ctx.class_node.name if in_method and ctx.class_node is not None else ""
    values: list[ast.expr] = []
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and in_method
        and ctx.class_node is not None
    ):
        values = list(_assigned(ctx.class_node, node.attr, self_attribute=True))
    elif isinstance(node, ast.Name) and scope.node is not ctx.module.node:
        function = scope.node
        local = isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            isinstance(n, ast.Name) and n.id == node.id and not isinstance(n.ctx, ast.Load)
            for n in ast.walk(function)
        )
        if local and any(isinstance(n, ast.Global) for n in ast.walk(function)):
            return ""
        where = function if local else ctx.module.node
        values = list(_assigned(where, node.id, self_attribute=False))
        if local and len(values) != sum(
            isinstance(n, ast.Name) and n.id == node.id and not isinstance(n.ctx, ast.Load)
            for n in ast.walk(function)
        ):
            return ""  # bound otherwise too (a loop, a `with`): not only what is assigned
    classes = {_made_class(v) for v in values if not _is_none(v)}
    if len(classes) != 1:
        return ""
    cls = classes.pop()
    known = cls in constants.class_files or cls in constants.hierarchy.up
    return cls if cls and known else ""


def _assigned(root: ast.AST, name: str, *, self_attribute: bool) -> Iterator[ast.expr]:
    """Yield every value assigned to `self.<name>` (or the name `name`) under `root`."""
    for node in ast.walk(root):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if self_attribute:
                hit = (
                    isinstance(target, ast.Attribute)
                    and target.attr == name
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                )
            else:
                hit = isinstance(target, ast.Name) and target.id == name
            if hit:
                yield node.value


def _made_class(value: ast.expr) -> str:
    """Return the class `C(...)` or `cast("C", x)` makes, "" for anything else."""
    if not isinstance(value, ast.Call):
        return ""
    called = leaf_name(value.func)
    if called == "cast" and value.args:
        kind = value.args[0]
        if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
            return kind.value.rpartition(".")[2]
        return leaf_name(kind) or ""
    return called if called and called[:1].isupper() and not called.isupper() else ""


def _is_none(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value is None
