"""The remove_cast fix: a cast that makes a TYPE_MISMATCH is dropped.

In a parameters tuple, list, dict or asyncpg argument the cast is simply removed. Inside the SQL
text it is what keeps the value from carrying SQL, so there it goes only together with binding
the value as a parameter (`parameterize`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.languages.python.codefix.call import (
    Candidate,
    Context,
    call_of,
    find_call,
    node_code,
    parse_call,
    range_span,
    shorten,
    with_positions,
)
from dbheal_lsp.languages.python.codefix.parameterize import apply_plan, plan_parameterize
from dbheal_lsp.languages.python.codefix.placeholders import Preference
from dbheal_lsp.model import Span

if TYPE_CHECKING:
    import libcst as cst

CASTS = frozenset({"int", "float", "str", "bool", "Decimal"})


def remove_cast(ctx: Context, preference: Preference) -> Candidate | None:
    """The remove_cast candidate for a TYPE_MISMATCH made by a cast, or None."""
    import libcst as cst

    issue = ctx.issue
    helper = issue.helper or ""
    target = ctx.relative(issue.span)
    call = parse_call(ctx)
    if call is None:
        return None
    where = f" ({issue.table}.{issue.column_name} is {issue.db_type})" if issue.table else ""
    slot_spans = [s.value.span for s in ctx.statement.slots]
    if target in slot_spans:
        # The cast is inside the SQL text, where it is what keeps SQL out of the value:
        # drop it only together with binding the value as a parameter.
        cast = _find_cast(call, target, helper)
        if cast is None:
            return None
        override = {slot_spans.index(target): cast.args[0].value}
        plan = plan_parameterize(ctx, call, preference, override)
        if plan is None:
            return None
        new_call = apply_plan(call, plan)
        shown = shorten(node_code(cast.args[0].value))
        return Candidate(
            "remove_cast",
            f"remove_cast:{issue.fingerprint}",
            f"Remove the {helper}() cast and pass {shown} as a bound parameter{where}",
            node_code(new_call, ctx.newline),
        )
    params = ctx.statement.parameters or ()
    if target not in [p.value.span for p in params]:
        return None  # neither an interpolated value nor a bound parameter
    module, positions = with_positions(call)

    class RemoveCast(cst.CSTTransformer):
        """Replace the one cast call at the issue's span by its argument."""

        def __init__(self) -> None:
            super().__init__()
            self.replaced = 0

        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            pos = positions.get(original_node)
            if pos is None or range_span(pos) != target or not _is_cast(original_node, helper):
                return updated_node
            self.replaced += 1
            return updated_node.args[0].value

    transformer = RemoveCast()
    new_call = call_of(module.visit(transformer))
    if transformer.replaced != 1 or "#" in node_code(find_call(positions, target) or call):
        return None  # not exactly our cast, or one with a comment inside that would be lost
    return Candidate(
        "remove_cast",
        f"remove_cast:{issue.fingerprint}",
        f"Remove the {helper}() cast{where}",
        node_code(new_call, ctx.newline),
    )


def _is_cast(node: cst.Call, helper: str) -> bool:
    import libcst as cst

    func = node.func
    name = func.value if isinstance(func, cst.Name) else None
    if isinstance(func, cst.Attribute):
        name = func.attr.value
    if name != helper or len(node.args) != 1:
        return False
    arg = node.args[0]
    # int(x, 16) or int(*xs) is not a plain cast: removing it would change the value.
    return arg.keyword is None and arg.star == ""


def _find_cast(call: cst.Call, target: Span, helper: str) -> cst.Call | None:
    """The plain cast call at `target`, unless a comment inside it would be lost."""
    _, positions = with_positions(call)
    node = find_call(positions, target)
    if node is not None and _is_cast(node, helper) and "#" not in node_code(node):
        return node
    return None
