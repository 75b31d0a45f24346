"""Which decorators leave a function's callers as they are: a decorated function is an entry
point (a framework may call it with anything) unless every decorator is transparent.

Transparent: the standard library's wrappers that change how a function is bound or cached,
not who calls it (`staticmethod`, `lru_cache`, `contextmanager`, ...), and decorators the
same file defines that only mark the function or wrap it in a call-through (calibre's
`def read_api(f): cache_api[f.__name__] = False; return f`). A decorator that stores the
function itself somewhere (`ROUTES[path] = f`, `handlers.append(f)`) registers it for
someone else to call: not transparent.
"""

from __future__ import annotations

import ast

from dbheal_lsp.languages.python.bindings import FUNCTIONS, inner_statements, return_statements
from dbheal_lsp.languages.python.receivers import leaf_name

# Standard wrappers: the callers of the function are still the callers the code shows.
# (`property` and `x.setter` are left out: attribute access calls them, not a call.)
STANDARD_TRANSPARENT = frozenset(
    {
        "staticmethod",
        "classmethod",
        "lru_cache",
        "cache",
        "wraps",
        "contextmanager",
        "asynccontextmanager",
        "abstractmethod",
        "overload",
        "override",
        "final",
    }
)
_MAX_ROUNDS = 5  # decorators built from decorators (`f = api(f)`): a few levels at most


def transparent_decorators(tree: ast.Module) -> frozenset[str]:
    """Return the names of the decorators that leave callers as they are, for module `tree`:
    the standard ones and those its module-level functions define."""
    used = _decorator_names(tree)
    # Only a function the file uses as a decorator is worth reading (most files use none).
    defined = [s for s in tree.body if isinstance(s, FUNCTIONS) and s.name in used]
    known = set(STANDARD_TRANSPARENT)
    for _ in range(_MAX_ROUNDS):
        found = {d.name for d in defined if d.name not in known and _passes_through(d, known)}
        if not found:
            break
        known |= found
    return frozenset(known)


def _decorator_names(tree: ast.Module) -> set[str]:
    """Return the plain names the module's functions and classes are decorated with (and the
    names a decorator passes the function to: `f = api(f)` in `write_api`)."""
    names: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (*FUNCTIONS, ast.ClassDef)):
            for decorator in stmt.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Name):
                    names.add(target.id)
        stack.extend(inner_statements(stmt))
    if names:
        # A decorator built on another (`f = api(f)` in `write_api`): that one is read too.
        names |= {
            n.func.id
            for s in tree.body
            if isinstance(s, FUNCTIONS) and s.name in names
            for n in ast.walk(s)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
    return names


def is_entry_point(
    node: ast.FunctionDef | ast.AsyncFunctionDef, transparent: frozenset[str]
) -> bool:
    """Return whether a decorator of `node` may hand it to a caller the code does not show."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        # `obj.route(...)` is not the file's own `route`: only the standard names by attribute.
        names = transparent if isinstance(target, ast.Name) else STANDARD_TRANSPARENT
        if leaf_name(target) not in names:
            return True
    return False


def _passes_through(function: ast.FunctionDef | ast.AsyncFunctionDef, known: set[str]) -> bool:
    """Return whether decorator `function` returns its one argument, or a wrapper defined in
    it, and otherwise only reads, calls or marks that argument (never stores it)."""
    args = function.args
    if len(args.posonlyargs) + len(args.args) != 1 or args.vararg or args.kwarg:
        return False
    parameter = (args.posonlyargs or args.args)[0].arg
    inner = {s.name for s in ast.walk(function) if isinstance(s, FUNCTIONS) and s is not function}
    returns = return_statements(function)
    if not returns or not all(_returns_function(r, parameter, inner) for r in returns):
        return False
    allowed = _allowed_uses(function, parameter, known)
    return all(
        id(n) in allowed
        for n in ast.walk(function)
        if isinstance(n, ast.Name) and n.id == parameter
    )


def _returns_function(node: ast.Return, parameter: str, inner: set[str]) -> bool:
    """Return whether `return` gives back the argument or a wrapper the decorator defines."""
    if node.value is None or not isinstance(node.value, ast.Name):
        return False
    return node.value.id == parameter or node.value.id in inner


def _allowed_uses(
    function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str, known: set[str]
) -> set[int]:
    """Return the ids of the Name nodes of `parameter` used harmlessly: `f.attr`, `f(...)`,
    `return f`, `f = api(f)`, an argument of a transparent decorator (`wraps(f)`)."""
    allowed: set[int] = set()

    def is_parameter(node: ast.expr | None) -> bool:
        return isinstance(node, ast.Name) and node.id == parameter

    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and is_parameter(node.value):
            allowed.add(id(node.value))
        elif isinstance(node, ast.Call):
            if is_parameter(node.func):
                allowed.add(id(node.func))
            if leaf_name(node.func) in known:
                allowed.update(id(a) for a in node.args if is_parameter(a))
        elif isinstance(node, ast.Return) and is_parameter(node.value):
            allowed.add(id(node.value))
        elif isinstance(node, ast.Assign) and all(is_parameter(t) for t in node.targets):
            allowed.update(id(t) for t in node.targets)  # `f = api(f)`: rebinding it
    return allowed
