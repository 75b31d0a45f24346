"""Following names: each value a name can hold where it is used, in a function or the module
(assignments, `+=` parts, branches that exclude each other)."""

from __future__ import annotations

import ast
import bisect

from dbheal_lsp.languages.python.bindings import blocks_of
from dbheal_lsp.languages.python.filecontext import (
    MAX_NAME_DEPTH,
    MAX_VARIANTS,
    Binding,
    FileContext,
    Reaching,
    Scope,
)

# How many values a name may hold in branches before it counts as unreadable: like
# MAX_VARIANTS, it keeps a file of many branches linear.
_MAX_BRANCH_VALUES = 16
# Bindings looked at while reading one call's SQL: past it, names count as not read. Real code
# needs a few dozen; a function of thousands of branches would otherwise be quadratic.
_WORK_PER_CALL = 2_000


def reaching_name(node: ast.Name, scope: Scope, ctx: FileContext) -> tuple[Scope, Reaching] | None:
    """Return the scope that binds the name `node` reads (the function's, else the module's)
    and the values it can hold there; None when neither binds it."""
    at = (node.lineno, node.col_offset)
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        reaching = reaching_values(candidate, node.id, at, ctx)
        if reaching is not None:
            return candidate, reaching
    return None


def reaching_values(
    scope: Scope, name: str, at: tuple[int, int], ctx: FileContext
) -> Reaching | None:
    """Return each value `name` can hold at `at` (None: not a name of `scope`), read once per call."""
    key = (id(scope.node), name, at)
    if key in ctx.reached:
        return ctx.reached[key]
    if ctx.work > _WORK_PER_CALL:
        return [(None, [])]  # out of patience: a value not read
    found = ctx.reached[key] = _read_reaching(scope, name, at, ctx)
    return found


def _read_reaching(
    scope: Scope, name: str, at: tuple[int, int], ctx: FileContext
) -> Reaching | None:
    """Return each value `name` can hold at `at`, with the `+=` parts added to it since.

    The values are the last assignment that every path to `at` goes through (one in a block
    enclosing `at`; a parameter counts, at the function's start) and the assignments in
    branches after it, less those replaced later in a block enclosing theirs. A value is None
    where the name is bound by something not read (a parameter, a for loop, an import).
    """
    if scope.assignments is None:
        scope.assignments = collect_assignments(scope.node, scope.owners)
    entries = scope.assignments.get(name)
    if not entries:
        return None
    end = bisect.bisect_left(entries, at, key=lambda b: b.at)
    use: tuple[int, ...] = ()
    if end == 0:
        if not isinstance(scope.node, ast.Module):
            return None
        end = len(entries)  # a module-level name used inside a function, assigned below it
    else:
        use = _use_path(scope.node, at)
    # The last value every path to `at` goes through, looking back over a bounded number of
    # values in branches (a function of a thousand `if`s stays linear).
    plain: list[int] = []
    for i in range(end - 1, -1, -1):
        entry = entries[i]
        if entry.augmented:
            continue
        plain.append(i)
        if _encloses(entry.path, use) or len(plain) > _MAX_BRANCH_VALUES:
            break
    plain.reverse()
    out: list[tuple[ast.expr | None, list[ast.expr]]] = []
    if len(plain) > _MAX_BRANCH_VALUES and not _encloses(entries[plain[0]].path, use):
        out.append((None, []))  # more values than we read: the name is not fully known
        plain = plain[1:]
    # A value replaced later in its own block or an enclosing one never reaches `at`.
    kept = [
        i
        for n, i in enumerate(plain)
        if not any(_encloses(entries[j].path, entries[i].path) for j in plain[n + 1 :])
    ]
    ctx.work += len(plain) ** 2 + len(kept) * (end - kept[0] if kept else 0)
    for n, i in enumerate(kept):
        augments = [
            entries[a]
            for a in range(i + 1, end)
            if entries[a].augmented
            and not any(
                i < j < a and _encloses(entries[j].path, entries[a].path) for j in kept[n + 1 :]
            )
        ]
        ctx.work += len(augments) * MAX_VARIANTS
        for chosen in _branch_choices(augments, scope.owners):
            out.append((entries[i].value, [b.value for b in chosen if b.value is not None]))
    return out


def _branch_choices(augments: list[Binding], owners: dict[int, int]) -> list[list[Binding]]:
    """Split `+=` parts made in exclusive branches (`if: sql += A` / `else: sql += B`) into
    one sequence per choice of branch, at most MAX_VARIANTS; all in one when too many."""
    if len({b.path for b in augments}) <= 1 or len(augments) > _MAX_BRANCH_VALUES:
        return [augments]
    choices: list[list[Binding]] = [[]]
    for part in augments:
        grown: list[list[Binding]] = []
        for choice in choices:
            if any(_exclusive(part.path, b.path, owners) for b in choice):
                grown.append(choice)
                fork = [b for b in choice if not _exclusive(part.path, b.path, owners)]
                fork.append(part)
                if fork not in grown:
                    grown.append(fork)
            else:
                choice.append(part)
                if choice not in grown:
                    grown.append(choice)
        choices = grown[:MAX_VARIANTS]
    return choices


def _exclusive(first: tuple[int, ...], second: tuple[int, ...], owners: dict[int, int]) -> bool:
    """Return whether two blocks never both run: the `if` and `else` of one statement, two
    `except` handlers or two `case`s of one statement, or blocks nested in those."""
    for a, b in zip(first, second, strict=False):
        if a != b:
            owner = owners.get(a)
            return owner is not None and owner == owners.get(b)
    return False


def _encloses(outer: tuple[int, ...], inner: tuple[int, ...]) -> bool:
    return inner[: len(outer)] == outer


def _use_path(scope_node: ast.AST, at: tuple[int, int]) -> tuple[int, ...]:
    """Return the statement lists enclosing position `at`, outermost first (by bisection)."""
    path: list[int] = []
    block: list[ast.stmt] = getattr(scope_node, "body", [])
    while block:
        i = bisect.bisect_right(block, at, key=lambda s: (s.lineno, s.col_offset)) - 1
        if i < 0:
            break
        inner = None
        for sub in blocks_of(block[i]):
            last = sub[-1]
            if (
                (sub[0].lineno, sub[0].col_offset)
                <= at
                <= (
                    last.end_lineno or last.lineno,
                    last.end_col_offset or 0,
                )
            ):
                inner = sub
                break
        if inner is None:
            break
        path.append(id(inner))
        block = inner
    return tuple(path)


def collect_assignments(scope_node: ast.AST, owners: dict[int, int]) -> dict[str, list[Binding]]:
    """Return name -> bindings in source order, nested defs excluded.

    Assignments are statements, so only statement lists are walked, never expressions: this
    runs for every function that sends a query held in a variable.
    """
    found: dict[str, list[Binding]] = {}

    def bind(name: str, at: tuple[int, int], value: ast.expr | None, path: tuple[int, ...]) -> None:
        found.setdefault(name, []).append(Binding(at, value, False, path))

    if isinstance(scope_node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = scope_node.args
        start = (scope_node.lineno, scope_node.col_offset)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                bind(arg.arg, start, None, ())
    stack: list[tuple[ast.stmt, tuple[int, ...]]] = [
        (s, ()) for s in reversed(getattr(scope_node, "body", []))
    ]
    while stack:
        node, path = stack.pop()
        at = (node.lineno, node.col_offset)
        # A name is bound once its value is computed: `slots = [s for s in slots if ...]` reads
        # the slots bound before it.
        done = (node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name, value in _target_names(target, node.value):
                    bind(name, done, value, path)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None and isinstance(node.target, ast.Name):
                bind(node.target.id, done, node.value, path)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name):
                if isinstance(node.op, ast.Add):
                    found.setdefault(node.target.id, []).append(Binding(at, node.value, True, path))
                else:
                    bind(node.target.id, at, None, path)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).split(".")[0], at, None, path)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name, at, None, path)
            continue
        if isinstance(node, (ast.For, ast.AsyncFor)):
            elements = _elements_bound(node.target, node.iter)
            for name, _value in _target_names(node.target, None):
                bind(name, at, elements.get(name), path)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    # `with sqlite3.connect(...) as c`, `with session() as c`: c is followed to
                    # learn which database it opens; a value of any other kind is not read.
                    context = item.context_expr
                    value = context if isinstance(context, ast.Call) else None
                    for name, _value in _target_names(item.optional_vars, None):
                        bind(name, at, value, path)
        if isinstance(node, ast.If):
            owners[id(node.body)] = owners[id(node.orelse)] = id(node)
        for exclusive in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            owners[id(exclusive.body)] = id(node)
        for block in reversed(blocks_of(node)):
            inner = (*path, id(block))
            stack.extend((s, inner) for s in reversed(block))
        for handler in getattr(node, "handlers", ()):
            if handler.name and handler.body:
                bind(handler.name, at, None, (*path, id(handler.body)))
    for entries in found.values():
        entries.sort(key=lambda e: e.at)
    return found


def _elements_bound(target: ast.expr, iterable: ast.expr) -> dict[str, ast.expr]:
    """Return, for a loop's target names, an `ast.Starred` standing for "an element of" what
    they iterate over (`for k in kwargs`, `for k, v in d.items()`: k takes the keys of d)."""

    def element(of: ast.expr) -> ast.Starred:
        node = ast.Starred(value=of, ctx=ast.Load())
        return ast.copy_location(node, target)

    if isinstance(target, ast.Name):
        return {target.id: element(iterable)}
    if (
        isinstance(target, ast.Tuple)
        and target.elts
        and isinstance(target.elts[0], ast.Name)
        and isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "items"
    ):
        return {target.elts[0].id: element(iterable.func.value)}
    return {}


def _target_names(
    target: ast.expr, value: ast.expr | None, depth: int = 0
) -> list[tuple[str, ast.expr | None]]:
    """Return (name, value) for each name an assignment target binds: `a = v`, `a, b = x, y`
    (pairwise), `a, b = f()` (each `f()[i]`, read through what f returns; see slots.py)."""
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value, None, depth + 1)
    if not isinstance(target, (ast.Tuple, ast.List)) or depth > MAX_NAME_DEPTH:
        return []
    values: list[ast.expr | None] = [None] * len(target.elts)
    if (
        isinstance(value, (ast.Tuple, ast.List))
        and len(value.elts) == len(target.elts)
        and not any(isinstance(e, ast.Starred) for e in (*value.elts, *target.elts))
    ):
        values = list(value.elts)
    elif isinstance(value, ast.Call) and not any(isinstance(e, ast.Starred) for e in target.elts):
        values = [
            ast.copy_location(ast.Subscript(value=value, slice=ast.Constant(i), ctx=ast.Load()), e)
            for i, e in enumerate(target.elts)
        ]
    out: list[tuple[str, ast.expr | None]] = []
    for element, element_value in zip(target.elts, values, strict=True):
        out.extend(_target_names(element, element_value, depth + 1))
    return out
