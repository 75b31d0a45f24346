"""`load_config` and `find_root`: what `[tool.dbheal]` in pyproject.toml, discovery and explicit
overrides (CLI flags, editor settings) make of a project, and the errors a bad setting gives.

Each test writes a real project folder under `tmp_path`; the folder gets a `.git` so that the
search for the project root never wanders above the test's own files.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dbheal_lsp.config import KNOWN_KEYS, Config, ConfigError, find_root, load_config
from dbheal_lsp.model import IssueType, Severity
from dbheal_lsp.rules import DEFAULT_SEVERITIES


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repository folder."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def pyproject(root: Path, body: str) -> Path:
    """Write root/pyproject.toml with a [project] table and `body` after it."""
    path = root / "pyproject.toml"
    path.write_text('[project]\nname = "app"\n\n' + body, encoding="utf-8")
    return path


def make_db(path: Path) -> Path:
    """Create a real SQLite database file with one table at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    return path


def make_migrations(folder: Path) -> Path:
    """Create `folder` with one migration file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "001_init.sql").write_text("CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
    return folder


# --- defaults and sources -----------------------------------------------------------------------


def test_defaults_of_an_empty_project(repo: Path) -> None:
    config = load_config(repo)

    assert config.root == repo.resolve()
    assert config.database is None
    assert config.migrations is None
    assert config.dialect == "sqlite"
    assert config.include == ()
    assert config.exclude == ()
    assert dict(config.severity) == DEFAULT_SEVERITIES
    assert config.extra_calls == ()
    assert config.identifier_helpers == ()
    assert config.cache is True
    assert config.jobs == 0
    assert config.fail_on is Severity.CRITICAL
    assert set(config.sources) == KNOWN_KEYS
    assert set(config.sources.values()) == {"default"}


def test_a_pyproject_without_dbheal_section_gives_defaults(repo: Path) -> None:
    pyproject(repo, "[tool.ruff]\nline-length = 100\n")

    config = load_config(repo)

    assert config.fail_on is Severity.CRITICAL
    assert set(config.sources.values()) == {"default"}


def test_sources_say_where_each_value_came_from(repo: Path) -> None:
    make_db(repo / "app.db")
    pyproject(repo, '[tool.dbheal]\nfail-on = "high"\njobs = 2\n')

    config = load_config(repo, {"jobs": 4, "cache": None})

    assert config.sources["fail-on"] == "pyproject.toml"
    assert config.sources["jobs"] == "override"
    assert config.sources["database"] == "discovered"
    assert config.sources["migrations"] == "default"
    assert config.sources["cache"] == "default"  # a None override is no override
    assert config.jobs == 4


# --- [tool.dbheal] ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["kebab", "snake"],
)
def test_pyproject_settings_are_read_in_kebab_or_snake_case(repo: Path, spelling: str) -> None:
    make_db(repo / "var" / "app.sqlite3")
    make_migrations(repo / "schema")

    def key(name: str) -> str:
        return name.replace("-", "_") if spelling == "snake" else name

    pyproject(
        repo,
        "[tool.dbheal]\n"
        'database = "var/app.sqlite3"\n'
        'migrations = "schema"\n'
        'include = ["app/**/*.py"]\n'
        'exclude = ["app/legacy"]\n'
        f'{key("extra-calls")} = ["run_sql"]\n'
        f'{key("identifier-helpers")} = ["quote_ident"]\n'
        f'{key("fail-on")} = "high"\n'
        "cache = false\n"
        "jobs = 3\n"
        "\n[tool.dbheal.severity]\n"
        'SELECT_STAR = "medium"\n'
        'missing-index = "low"\n',
    )

    config = load_config(repo)

    assert config.database == repo.resolve() / "var" / "app.sqlite3"
    assert config.migrations == repo.resolve() / "schema"
    assert config.include == ("app/**/*.py",)
    assert config.exclude == ("app/legacy",)
    assert config.extra_calls == ("run_sql",)
    assert config.identifier_helpers == ("quote_ident",)
    assert config.fail_on is Severity.HIGH
    assert config.cache is False
    assert config.jobs == 3
    assert config.severity[IssueType.SELECT_STAR] is Severity.MEDIUM
    assert config.severity[IssueType.MISSING_INDEX] is Severity.LOW
    assert config.severity[IssueType.MISSING_TABLE] is Severity.CRITICAL
    for name in ("database", "migrations", "include", "fail-on", "severity", "jobs"):
        assert config.sources[name] == "pyproject.toml"


def test_a_single_string_is_taken_as_a_list_of_one(repo: Path) -> None:
    pyproject(repo, '[tool.dbheal]\nextra-calls = "run_sql"\n')

    assert load_config(repo).extra_calls == ("run_sql",)


def test_overrides_win_over_pyproject(repo: Path) -> None:
    make_db(repo / "app.db")
    other = make_db(repo / "other" / "test.db")
    pyproject(repo, '[tool.dbheal]\ndatabase = "app.db"\nfail-on = "high"\njobs = 2\n')

    config = load_config(repo, {"database": str(other), "fail_on": "low", "jobs": 1})

    assert config.database == other
    assert config.fail_on is Severity.LOW
    assert config.jobs == 1
    assert config.sources["database"] == "override"
    assert config.sources["fail-on"] == "override"


def test_relative_paths_are_resolved_against_the_root(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_migrations(repo / "db" / "migrations")
    pyproject(repo, '[tool.dbheal]\ndatabase = "data/app.db"\nmigrations = "db/migrations"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = load_config(repo)

    assert config.database == repo.resolve() / "data" / "app.db"
    assert config.migrations == repo.resolve() / "db" / "migrations"
    overridden = load_config(repo, {"database": "instance/dev.db"})
    assert overridden.database == repo.resolve() / "instance" / "dev.db"


# --- paths the repository gives must stay inside it --------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            '[tool.dbheal]\ndatabase = "/dev/stdin"\n',
            "database /dev/stdin (from pyproject.toml) is outside the project; "
            "set it with --database or the editor setting to use it",
            id="dev-stdin",
        ),
        pytest.param(
            '[tool.dbheal]\ndatabase = "../neighbour/app.db"\n',
            "(from pyproject.toml) is outside the project",
            id="dot-dot",
        ),
        pytest.param(
            '[tool.dbheal]\nmigrations = "../neighbour/migrations"\n',
            "(from pyproject.toml) is outside the project; set it with --migrations",
            id="migrations",
        ),
        pytest.param(
            '[tool.dbheal]\ndatabase = "linked.data"\n',
            "linked.data (from pyproject.toml) is outside the project",
            id="link-out",
        ),
    ],
)
def test_a_path_from_pyproject_outside_the_project_is_refused(
    repo: Path, body: str, message: str
) -> None:
    neighbour = repo.parent / "neighbour"
    make_db(neighbour / "app.db")
    make_migrations(neighbour / "migrations")
    (repo / "linked.data").symlink_to(neighbour / "app.db")  # not discovered
    pyproject(repo, body)

    with pytest.raises(ConfigError) as caught:
        load_config(repo)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_discovered_database_that_links_out_is_refused(repo: Path) -> None:
    make_db(repo.parent / "neighbour" / "app.db")
    (repo / "app.db").symlink_to(repo.parent / "neighbour" / "app.db")

    with pytest.raises(ConfigError, match=r"app\.db \(found by discovery\) is outside the project"):
        load_config(repo)


def test_the_users_own_settings_may_point_outside(repo: Path) -> None:
    outside_db = make_db(repo.parent / "neighbour" / "app.db")
    outside_migrations = make_migrations(repo.parent / "neighbour" / "migrations")
    pyproject(repo, '[tool.dbheal]\ndatabase = "/dev/stdin"\n')

    config = load_config(repo, {"database": str(outside_db), "migrations": str(outside_migrations)})

    assert config.database == outside_db
    assert config.migrations == outside_migrations
    assert config.sources["database"] == config.sources["migrations"] == "override"


def test_a_pyproject_that_is_a_fifo_is_one_error_not_a_hang(repo: Path) -> None:
    os.mkfifo(repo / "pyproject.toml")
    # In a child process: if reading it blocked, the test fails by timeout, not by hanging.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\n"
            "from dbheal_lsp.config import ConfigError, find_root, load_config\n"
            "assert find_root(Path(sys.argv[1])) == Path(sys.argv[1]).resolve()\n"
            "try:\n    load_config(Path(sys.argv[1]))\n"
            "except ConfigError as exc:\n    print(exc)\n",
            str(repo),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().endswith("pyproject.toml: not a regular file")


# --- discovery (tests/test_discovery.py) and the settings above it ----------------------------


def test_configured_paths_are_not_replaced_by_discovery(repo: Path) -> None:
    make_db(repo / "app.db")
    make_migrations(repo / "migrations")
    make_migrations(repo / "schema")
    pyproject(repo, '[tool.dbheal]\ndatabase = "prod.db"\nmigrations = "schema"\n')

    config = load_config(repo)

    assert config.database == repo.resolve() / "prod.db"
    assert config.migrations == repo.resolve() / "schema"


# --- find_root ----------------------------------------------------------------------------------


def test_find_root_finds_the_nearest_pyproject_with_a_dbheal_section(repo: Path) -> None:
    pyproject(repo, "[tool.dbheal]\n")
    service = repo / "services" / "api"
    (service / "src" / "api").mkdir(parents=True)
    pyproject(service, "[tool.black]\n")  # a pyproject, but not configuring dbheal
    module = service / "src" / "api" / "views.py"
    module.write_text("x = 1\n")

    assert find_root(module) == repo.resolve()
    assert find_root(service / "src") == repo.resolve()


def test_find_root_prefers_the_inner_configured_project(repo: Path) -> None:
    pyproject(repo, "[tool.dbheal]\n")
    inner = repo / "services" / "billing"
    inner.mkdir(parents=True)
    pyproject(inner, '[tool.dbheal]\ndatabase = "billing.db"\n')

    assert find_root(inner / "handlers") == inner.resolve()
    assert find_root(inner) == inner.resolve()


def test_find_root_without_dbheal_section_falls_back_to_nearest_pyproject(repo: Path) -> None:
    pyproject(repo, "[tool.black]\n")
    (repo / "pkg").mkdir()

    assert find_root(repo / "pkg") == repo.resolve()


def test_find_root_without_any_marker_is_the_folder_itself(repo: Path) -> None:
    folder = repo / "scripts"
    folder.mkdir()

    assert find_root(folder) == repo.resolve()  # .git marks the repository


# --- invalid settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        pytest.param('[tool.dbheal]\ndatabse = "app.db"\n', "databse", id="unknown-key"),
        pytest.param(
            '[tool.dbheal.severity]\nMISSING_TABLE = "urgent"\n', "severity", id="bad-severity"
        ),
        pytest.param(
            '[tool.dbheal.severity]\nMISSING_TABEL = "high"\n', "MISSING_TABEL", id="bad-type"
        ),
        pytest.param('[tool.dbheal]\nseverity = "high"\n', "severity", id="severity-not-table"),
        pytest.param('[tool.dbheal]\nmigrations = "db/migs"\n', "migrations", id="no-migrations"),
        pytest.param("[tool.dbheal]\ninclude = 3\n", "include", id="include-not-list"),
        pytest.param('[tool.dbheal]\nexclude = ["a", 1]\n', "exclude", id="exclude-not-strings"),
        pytest.param(
            '[tool.dbheal]\nexclude = [""]\n', "exclude: an empty pattern", id="empty-glob"
        ),
        pytest.param(
            '[tool.dbheal]\ninclude = ["app/[z-a].py"]\n', "include: pattern", id="bad-glob-range"
        ),
        pytest.param('[tool.dbheal]\nfail-on = "urgent"\n', "fail-on", id="bad-fail-on"),
        pytest.param("[tool.dbheal]\njobs = -1\n", "jobs", id="negative-jobs"),
        pytest.param('[tool.dbheal]\njobs = "4"\n', "jobs", id="jobs-not-int"),
        pytest.param('[tool.dbheal]\ncache = "yes"\n', "cache", id="cache-not-bool"),
        pytest.param('[tool.dbheal]\ndialect = "oracle"\n', "dialect", id="bad-dialect"),
        pytest.param("[tool.dbheal]\ndatabase = 5\n", "database", id="database-not-path"),
        pytest.param("[tool]\ndbheal = 3\n", "[tool.dbheal]", id="section-not-table"),
        pytest.param('[tool.dbheal\ndatabase = "x.db"\n', "not valid TOML", id="invalid-toml"),
        pytest.param("[tool.dbheal]\ndatabase =\n", "not valid TOML", id="invalid-value"),
    ],
)
def test_invalid_setting_raises_a_one_line_config_error(repo: Path, body: str, named: str) -> None:
    path = pyproject(repo, body)

    with pytest.raises(ConfigError) as caught:
        load_config(repo)

    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    if "TOML" in named or "tool.dbheal" in named:
        assert str(path) in message


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"databse": "x.db"}, "databse"),
        ({"fail_on": "never"}, "fail-on"),
        ({"jobs": True}, "jobs"),
        ({"migrations": "missing"}, "migrations"),
    ],
)
def test_invalid_override_raises_config_error(
    repo: Path, overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError, match=named) as caught:
        load_config(repo, overrides)
    assert "\n" not in str(caught.value)


# --- what the settings change -------------------------------------------------------------------


def test_fingerprint_changes_with_settings_that_change_results(repo: Path) -> None:
    base = load_config(repo)
    stricter = load_config(repo, {"severity": {"SELECT_STAR": "critical"}})
    faster = load_config(repo, {"jobs": 8})

    assert isinstance(base, Config)
    assert stricter.fingerprint() != base.fingerprint()
    assert faster.fingerprint() == base.fingerprint()  # jobs cannot change what is found


def test_relative_names_files_of_the_root_with_forward_slashes(repo: Path) -> None:
    config = load_config(repo)

    assert config.relative(repo / "app" / "views.py") == "app/views.py"
    assert config.relative(Path("app/models.py")) == "app/models.py"
    outside = repo.parent / "outside.py"
    assert config.relative(outside) == outside.resolve().as_posix()


# --- a PostgreSQL server's URL ------------------------------------------------------------------


def test_a_postgres_url_names_a_server_not_a_file(repo: Path) -> None:
    make_db(repo / "app.db")  # would be discovered: the URL wins
    pyproject(repo, '[tool.dbheal]\ndatabase = "postgresql://app:pw@db.example/prod"\n')
    config = load_config(repo)
    assert config.database_url == "postgresql://app:pw@db.example/prod"
    assert config.database is None
    assert config.dialect == "postgres"


def test_database_url_from_the_environment_when_database_is_not_set(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    config = load_config(repo)
    assert config.database_url == "postgres://u@h/db"
    assert config.sources["database"] == "environment"
    # A database the project names wins; a DATABASE_URL of another kind is not read.
    make_db(repo / "app.db")
    pyproject(repo, '[tool.dbheal]\ndatabase = "app.db"\n')
    assert load_config(repo).database_url is None
    monkeypatch.setenv("DATABASE_URL", "mysql://u@h/db")
    pyproject(repo, "")
    assert load_config(repo).database_url is None
