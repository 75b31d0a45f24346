"""The names a class declares in collections: a set or dict display in its body, set arithmetic
over another class's (`(Album._field_names - {"artpath"}) | {...}`), and a class property that
gives the keys of another of the class's own attributes (`{f: T[f] for f in cls._field_names}`).

beets' models declare their columns so; `Model.store` then writes the dirty ones in an UPDATE's
SET list. The property is read per class (see ProjectConstants.class_attribute_values): each
model's fields are its own set's."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from dbheal_lsp.languages.python.bindings import inner_statements
from dbheal_lsp.languages.python.class_texts import (
    CLASS_VALUE_TAG,
    TEMPLATE_TAG,
    property_return,
    text_property,
)
from dbheal_lsp.languages.python.constants import KEYS, SELF_TAG, Given, dict_keys
from dbheal_lsp.languages.python.receivers import leaf_name

# The tags of what a class property gives, read per class (never a set of names here).
PER_CLASS_TAGS = frozenset({SELF_TAG, TEMPLATE_TAG, CLASS_VALUE_TAG})
# Calls that give the same names as their one argument, in some order or container.
_SAME_NAMES = frozenset({"sorted", "set", "frozenset", "list", "tuple"})


def class_collections(tree: ast.Module) -> dict[tuple[str, str], Given]:
    """Return (class, attribute) -> the names the class body gives the attribute, for the
    module's classes, read in source order (a class may use an earlier one's set)."""
    found: dict[tuple[str, str], Given] = {}
    for cls in _classes(tree):
        for stmt in cls.body:
            target, value = _single_assignment(stmt)
            if target is not None and value is not None:
                names = _names_of(value, cls.name, found)
                if names is not None:
                    found[(cls.name, target)] = names
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                attribute = _keys_property(stmt)
                if attribute is not None:
                    found[(cls.name, stmt.name)] = (SELF_TAG, attribute)
                elif (text := text_property(stmt)) is not None:
                    found[(cls.name, stmt.name)] = text  # read per class (class_texts.py)
    return found


def _classes(tree: ast.Module) -> Iterator[ast.ClassDef]:
    """The module's classes (nested ones too), in source order."""
    nodes: list[ast.ClassDef] = []
    # A class is a statement: only statements' bodies are walked, not every expression.
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.ClassDef):
            nodes.append(stmt)
        stack.extend(inner_statements(stmt))
    return iter(sorted(nodes, key=lambda n: (n.lineno, n.col_offset)))


def _single_assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return (target.id, stmt.value) if isinstance(target, ast.Name) else (None, None)
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def _names_of(
    node: ast.expr, owner: str, found: dict[tuple[str, str], Given]
) -> tuple[str, ...] | None:
    """The names a set display, a dict display's keys or set arithmetic over them give (a
    dict's marked as keys, see KEYS), else None."""
    names = _name_set(node, owner, found)
    if names is None or not names:
        return None
    if isinstance(node, ast.Dict):
        return (KEYS, *(str(k.value) for k in node.keys if isinstance(k, ast.Constant)))
    return tuple(sorted(names))


def _name_set(
    node: ast.expr, owner: str, found: dict[tuple[str, str], Given]
) -> frozenset[str] | None:
    if isinstance(node, (ast.Set, ast.Dict)):
        items = node.elts if isinstance(node, ast.Set) else node.keys
        texts = [i.value for i in items if isinstance(i, ast.Constant)]
        if len(texts) != len(items) or not all(isinstance(t, str) for t in texts):
            return None
        return frozenset(str(t) for t in texts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.Sub, ast.BitAnd)):
        left = _name_set(node.left, owner, found)
        right = _name_set(node.right, owner, found)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.BitOr):
            return left | right
        return left - right if isinstance(node.op, ast.Sub) else left & right
    if isinstance(node, ast.Call) and leaf_name(node.func) in _SAME_NAMES and len(node.args) == 1:
        return _name_set(node.args[0], owner, found)
    # `Album._field_names` (a class read earlier), or a name the class body bound above.
    key: tuple[str, str] | None = None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        key = (node.value.id, node.attr)
    elif isinstance(node, ast.Name):
        key = (owner, node.id)
    value = found.get(key) if key is not None else None
    if not isinstance(value, tuple) or (value and value[0] in PER_CLASS_TAGS):
        return None
    names = dict_keys(value) or value
    return frozenset(str(n) for n in names)


def _keys_property(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Return X when `method` is a decorated property-like method whose one statement
    returns the names of its class's own attribute X: `{f: T[f] for f in sorted(cls.X)}`,
    `[f for f in cls.X]`, `set(cls.X)`, `cls.X`."""
    returned = property_return(method)
    return None if returned is None else _names_of_own(*returned)


def _names_of_own(node: ast.expr, receiver: str) -> str | None:
    if isinstance(node, (ast.DictComp, ast.SetComp, ast.ListComp, ast.GeneratorExp)):
        if len(node.generators) != 1 or node.generators[0].ifs:
            return None
        loop = node.generators[0]
        item = node.key if isinstance(node, ast.DictComp) else node.elt
        if not (
            isinstance(loop.target, ast.Name)
            and isinstance(item, ast.Name)
            and item.id == loop.target.id
        ):
            return None
        return _names_of_own(loop.iter, receiver)
    if isinstance(node, ast.Call) and leaf_name(node.func) in _SAME_NAMES and len(node.args) == 1:
        return _names_of_own(node.args[0], receiver)
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == receiver
    ):
        return node.attr
    return None
