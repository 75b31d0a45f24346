"""What one file's extraction carries: the options, the scopes names are read in, and the
per-file context every reader of the SQL argument shares."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from dbheal_lsp.analysis.statement import Piece, Slot, Statement, ValueInfo
from dbheal_lsp.languages.python.calls import DEFAULT_CALLS
from dbheal_lsp.languages.python.constants import Literal as GivenLiteral
from dbheal_lsp.languages.python.origins import OriginReader
from dbheal_lsp.languages.python.project_constants import ProjectConstants
from dbheal_lsp.languages.python.results import FunctionRows

if TYPE_CHECKING:
    from dbheal_lsp.config import CallShape
    from dbheal_lsp.languages.python.helper_receivers import HelperFiles

MAX_NAME_DEPTH = 8
# How many variants of one statement are checked: it keeps a file of many branches linear.
MAX_VARIANTS = 8
Variants: TypeAlias = "list[list[Piece]]"
# Each value a name can hold: (the assigned expression or None when not read, its `+=` parts).
Reaching: TypeAlias = "list[tuple[ast.expr | None, list[ast.expr]]]"


@dataclass(frozen=True)
class ExtractOptions:
    """What counts as a database call, and which helpers make an identifier safe."""

    calls: frozenset[str] = DEFAULT_CALLS
    identifier_helpers: frozenset[str] = frozenset()
    # Functions whose result cannot carry SQL (a number, an allow-listed word): `safe-helpers`.
    safe_helpers: frozenset[str] = frozenset()
    # Helpers that carry SQL in their own shape ([tool.dbheal.calls]); their names are calls too.
    shapes: tuple[CallShape, ...] = ()
    # Receivers whose database the code does not show ([tool.dbheal.databases]): (text, path).
    receivers: tuple[tuple[str, str], ...] = ()
    # The literals each attribute and parameter holds across the project (project_constants.py).
    constants: ProjectConstants = field(default_factory=ProjectConstants, compare=False)


@dataclass(frozen=True)
class Binding:
    """One binding of a name: where, to what (None: a value not read), inside which blocks."""

    at: tuple[int, int]
    value: ast.expr | None
    augmented: bool  # `name += value`
    path: tuple[int, ...]  # ids of the statement lists enclosing it, outermost first


@dataclass
class Scope:
    """Assignments of one function (or the module), collected on first use."""

    node: ast.AST
    qualname: str
    assignments: dict[str, list[Binding]] | None = None
    # Block id -> the statement whose exclusive branches it is one of (if/else, handlers, cases).
    owners: dict[int, int] = field(default_factory=dict)


@dataclass
class FileContext:
    """What reading one file's statements shares: its lines, the options, and what was read."""

    lines: Sequence[str]
    options: ExtractOptions
    candidate_lines: frozenset[int]
    module: Scope
    deadline: float = float("inf")  # time.monotonic() after which no statement is read
    statements: list[Statement] = field(default_factory=list)
    # Calls already handled as the argument of an outer call (text() inside execute()).
    consumed: set[int] = field(default_factory=set)
    # The scope of the call being read, to follow names that slots interpolate.
    scope: Scope | None = None
    # Slots are numbered within their statement, so that stand-in names (and the fingerprints
    # of issues) do not change when code above the statement moves.
    slots: int = 0
    # What each expression node says about its value, read once: `.format(*args)` and `%`
    # give every field the same node, and copying its source text per field is quadratic.
    values: dict[int, ValueInfo] = field(default_factory=dict)
    # Reading a part of a larger string: a name must be read in every value it can hold.
    strict: bool = False
    # The module's functions that return a number, read on first need.
    number_functions: frozenset[str] | None = None
    # The module's functions and methods by name, read on first need.
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] | None = None
    # Bindings looked at for the current call (see reaching.py), and the values found.
    work: int = 0
    reached: dict[tuple[int, str, tuple[int, int]], Reaching | None] = field(default_factory=dict)
    # Inside the body of a `try` that handles the database error (see extract.py).
    guarded: bool = False
    # The class whose body is being read: `self.conn` is looked up in its methods.
    class_node: ast.ClassDef | None = None
    # The database each `self.<attribute>` of a class opens (see connections.py).
    attributes: dict[tuple[int, str], str | None] = field(default_factory=dict)
    method_scopes: dict[int, Scope] = field(default_factory=dict)
    # The database the connection of the call being read opens (None: the main one).
    database: str | None = None
    # Whether the file can say which database a connection opens (see extract.py).
    opens_databases: bool = True
    # The call being read is a helper of [tool.dbheal.calls] (see shapes.py).
    shaped: bool = False
    # Comprehension variables that hold only names the code writes (see slots.py).
    safe_names: frozenset[str] = frozenset()
    # For each name read in several values within the statement being read: where each value's
    # text starts. A variant must take the same value wherever the name is used.
    alternatives: dict[tuple[int, str], list[frozenset[tuple[int, int]]]] = field(
        default_factory=dict
    )
    # One caller's literals for the parameters of the function being read (see
    # per_caller_variants), and the names a comprehension binds to one literal each turn.
    environment: dict[str, GivenLiteral] = field(default_factory=dict)
    environment_of: ast.AST | None = None
    bound: dict[str, GivenLiteral] = field(default_factory=dict)
    # A parameter with several literal values was met: each caller's may be read on its own.
    several: bool = False
    # `self.x` attributes that hold one literal per subclass (`_table`): the statement is read
    # once per class (see per_class_variants), as an instance of `as_class`.
    per_class: set[str] = field(default_factory=set)
    as_class: str | None = None
    # Parameters the callers give classes (`model_cls._table` with `_fetch(Album, ...)`): the
    # statement is read once per class (see per_argument_variants), `as_argument` its turn's.
    class_arguments: dict[str, frozenset[str]] = field(default_factory=dict)
    as_argument: tuple[str, str] | None = None
    # Slots of SQL text a project method writes, read for one class (the slot itself, kept
    # so that its id stays its own, and the class): spelled by guarded_names.spell_members.
    member_slots: dict[int, tuple[Slot, str]] = field(default_factory=dict)
    # Reading a helper's SQL for one call of it (languages/python/call_sites.py): `environment`
    # holds what that call passes, whatever other callers pass; `given` notes that the text
    # read took something from the call (an argument, the receiver's class).
    call_site: bool = False
    given: bool = False
    own_attributes: dict[str, GivenLiteral] = field(default_factory=dict)
    # The files of the helpers calls reach, parsed once per extractor (call_sites.py).
    helper_files: HelperFiles | None = None
    # What each class, function or the module assigns, and each function binds, read once
    # for the receivers of helper calls (helper_receivers.py).
    call_site_assigned: dict[tuple[int, bool], dict[str, list[ast.expr]]] = field(
        default_factory=dict
    )
    call_site_stored: dict[int, tuple[dict[str, int], bool, dict[str, list[ast.expr]]]] = field(
        default_factory=dict
    )
    call_site_attributes: dict[str, dict[str, GivenLiteral]] = field(default_factory=dict)
    # What each function does with query rows (languages/python/results.py), by id of the function.
    rows: dict[int, FunctionRows] = field(default_factory=dict)
    # Where values come from (languages/python/origins.py): each function's bindings, read once.
    origins: OriginReader = field(default_factory=OriginReader)


def owning_class(node: ast.Attribute, ctx: FileContext) -> str | None:
    """Return the class whose attribute `self.x` (or `cls.x`) reads, in one of its methods."""
    if (
        isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
        and ctx.class_node is not None
    ):
        return ctx.class_node.name
    return None
