"""Following a name to the text it holds where it is used: its `const`, `let` or `var`
declaration in an enclosing block, then each `name += ...` (or a new `name = ...`) written
between the declaration and the use, directly in the blocks that enclose the use.

A name assigned anywhere else in between (inside an `if`, a loop, a callback) can hold more
than one text at the use: it is not followed, and the caller reads it as unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.parse import JsSource

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["BLOCKS", "declared_parts", "enclosing_function"]

#: The nodes whose children are statements run in order.
BLOCKS = frozenset({"program", "statement_block", "switch_case", "switch_default"})
_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})
_ASSIGNMENTS = frozenset({"assignment_expression", "augmented_assignment_expression"})
_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)


def declared_parts(use: Node, source: JsSource) -> list[Node] | None:
    """Return the expressions whose texts, joined, are the value of the identifier `use`
    where it stands (its initializer, then what `+=` adds); None when that is not known."""
    name = source.text_of(use)
    chain = list(_block_chain(use))  # (block, the statement of it that holds the use)
    for level, (block, holder) in enumerate(chain):
        statements = _before(block, holder)
        for k in range(len(statements) - 1, -1, -1):
            value = _initializer(statements[k], name, source)
            if value is None:
                continue
            between = statements[k + 1 :]
            for inner_block, inner_holder in reversed(chain[:level]):
                between += _before(inner_block, inner_holder)
            return _with_updates([value], between, name, source)
        if any(_assigns(s, name, source) for s in statements):
            return None  # assigned in this block, declared further out: not followed
        if _parameter_of(block.parent, name, source):
            # A parameter: its value comes from the caller. Stopping here also keeps a check
            # linear: a parameter's name is not looked for in every statement of the file.
            return None
    return None


def _parameter_of(function: Node | None, name: str, source: JsSource) -> bool:
    """Whether `function` (a block's parent) is a function that takes a parameter `name`."""
    if function is None or function.type not in _FUNCTIONS:
        return False
    single = function.child_by_field_name("parameter")  # `name => ...`
    if single is not None:
        return source.text_of(single) == name
    parameters = function.child_by_field_name("parameters")
    if parameters is None or name not in source.text_of(parameters):
        return False
    stack = [parameters]
    while stack:
        node = stack.pop()
        named = node.type in ("identifier", "shorthand_property_identifier_pattern")
        if named and source.text_of(node) == name:
            return True
        stack.extend(node.named_children)
    return False


def _block_chain(node: Node) -> Iterator[tuple[Node, Node]]:
    """Yield each enclosing block, innermost first, with its statement that holds `node`."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in BLOCKS:
            yield parent, child
        child, parent = parent, parent.parent


def _before(block: Node, holder: Node) -> list[Node]:
    """Return the statements of `block` before its statement `holder`."""
    return [c for c in block.named_children if c.end_byte <= holder.start_byte]


def _initializer(statement: Node, name: str, source: JsSource) -> Node | None:
    """Return the value `statement` declares `name` with, if it declares it."""
    if statement.type not in _DECLARATIONS:
        return None
    for declarator in statement.named_children:
        if declarator.type != "variable_declarator":
            continue
        target = declarator.child_by_field_name("name")
        if target is not None and target.type == "identifier" and source.text_of(target) == name:
            return declarator.child_by_field_name("value")
    return None


def _with_updates(
    parts: list[Node], between: list[Node], name: str, source: JsSource
) -> list[Node] | None:
    """Return `parts` with what each statement of `between` adds to or sets `name` to."""
    for statement in between:
        if not _assigns(statement, name, source):
            continue
        assignment = statement.named_children[0] if statement.named_child_count else None
        if statement.type != "expression_statement" or assignment is None:
            return None  # assigned inside something else: an if, a loop, a declaration
        if assignment.type not in _ASSIGNMENTS or not _targets(assignment, name, source):
            return None
        right = assignment.child_by_field_name("right")
        operator = assignment.child_by_field_name("operator")
        if right is None:
            return None
        if assignment.type == "assignment_expression":
            parts = [right]
        elif operator is not None and source.text_of(operator) == "+=":
            parts = [*parts, right]
        else:
            return None
    return parts


def _targets(assignment: Node, name: str, source: JsSource) -> bool:
    left = assignment.child_by_field_name("left")
    return left is not None and left.type == "identifier" and source.text_of(left) == name


def _assigns(statement: Node, name: str, source: JsSource) -> bool:
    """Return whether `statement` assigns `name` anywhere in it (a cheap test of its text
    first)."""
    if name not in source.text_of(statement):
        return False
    stack = [statement]
    while stack:
        node = stack.pop()
        if node.type in _ASSIGNMENTS and _targets(node, name, source):
            return True
        if node.type == "update_expression":  # name++: no longer the declared value
            argument = node.child_by_field_name("argument")
            if argument is not None and source.text_of(argument) == name:
                return True
        stack.extend(node.named_children)
    return False


def enclosing_function(node: Node, source: JsSource) -> str:
    """Return the dotted names of the functions (and classes) around `node`; "" at the top."""
    names: list[str] = []
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS or parent.type in ("class_declaration", "class"):
            named = parent.child_by_field_name("name")
            if named is None and parent.parent is not None:
                named = parent.parent.child_by_field_name("name")  # const f = () => ...
            if named is not None:
                names.append(source.text_of(named))
        parent = parent.parent
    return ".".join(reversed(names))
