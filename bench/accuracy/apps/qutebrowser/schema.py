"""Build qutebrowser's history database by running qutebrowser's own code.

Usage: ``python schema.py CHECKOUT OUT_DB`` (run with an interpreter that has PyQt6: qutebrowser
talks to SQLite only through QtSql, so its schema code cannot run without Qt; the runner's
interpreter is dbheal's venv, which must stay free of PyQt6, so this script re-runs itself under
``$DBHEAL_QT_PYTHON`` or ``/tmp/qb-venv/bin/python`` when PyQt6 is missing, e.g. after
``python3 -m venv /tmp/qb-venv && /tmp/qb-venv/bin/pip install PyQt6 PyYAML jinja2``;
PyYAML and jinja2 are qutebrowser's own import-time dependencies).

What runs is what ``qutebrowser.browser.history.init`` runs on a first start: ``sql.Database``
opens the file (PRAGMA user_version, WAL), ``WebHistory`` creates History, CompletionHistory and
CompletionMetaInfo through ``SqlTable._create_table``, their indexes through ``create_index``, the
default meta rows, the v2.0 clean-up, and stamps the user version. Only two things are stubbed:
the configuration singleton (``config.instance``), whose real set-up needs qutebrowser's whole
YAML/autoconfig start-up, answers the one setting read here with its default (an empty pattern
list); and the QtWebEngine/QtWebKit hook at the end of ``init`` is skipped (no browser engine).

The result has no HistoryIndex/HistoryAtimeIndex: WebHistory.__init__ stamps the user version
(upgrade_user_version) before it calls create_index for History, and create_index does nothing
once the version is current, so a new qutebrowser profile has them neither (labels.toml).
"""

import os
import subprocess
import sys
import types


def _reexec_under_qt(checkout: str, out_db: str) -> int:
    """Run this script again under an interpreter that has PyQt6 (never dbheal's own venv)."""
    python = os.environ.get("DBHEAL_QT_PYTHON", "/tmp/qb-venv/bin/python")
    if not os.path.exists(python):
        print(
            f"schema.py: PyQt6 is not importable and {python} does not exist; "
            "create it with: python3 -m venv /tmp/qb-venv && "
            "/tmp/qb-venv/bin/pip install PyQt6 PyYAML jinja2",
            file=sys.stderr,
        )
        return 2
    env = dict(os.environ, DBHEAL_QT_CHILD="1")
    return subprocess.run([python, os.path.abspath(__file__), checkout, out_db], env=env).returncode


def build(checkout: str, out_db: str) -> None:
    """Create OUT_DB with qutebrowser's own WebHistory start-up code."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QUTE_QT_WRAPPER"] = "PyQt6"
    sys.path.insert(0, os.path.abspath(checkout))

    from qutebrowser.qt.widgets import QApplication  # type: ignore[import-not-found]

    app = QApplication([])  # QProgressDialog/processEvents in history need a GUI application
    from qutebrowser.browser import history  # type: ignore[import-not-found]
    from qutebrowser.config import config  # type: ignore[import-not-found]
    from qutebrowser.misc import sql  # type: ignore[import-not-found]

    # Stub: the configuration singleton (see the module docstring). Default of
    # completion.web_history.exclude is an empty list, which get_str renders as ''.
    config.instance = types.SimpleNamespace(get_str=lambda _name: "")

    if os.path.exists(out_db):
        os.remove(out_db)
    database = sql.Database(out_db)
    web_history = history.WebHistory(database=database, progress=history.HistoryProgress())
    # WAL mode (set by sql.Database) keeps the schema in the -wal file until a checkpoint;
    # dbheal opens the file read-only, so fold it back and return to a single-file database.
    database.query("PRAGMA wal_checkpoint(TRUNCATE)").run()
    database.query("PRAGMA journal_mode=DELETE").run()
    del web_history
    database.close()
    del app


def main() -> int:
    """Entry point: ``schema.py CHECKOUT OUT_DB``."""
    if len(sys.argv) != 3:
        print("usage: schema.py CHECKOUT OUT_DB", file=sys.stderr)
        return 2
    checkout, out_db = sys.argv[1], os.path.abspath(sys.argv[2])
    try:
        import PyQt6.QtSql  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        if os.environ.get("DBHEAL_QT_CHILD"):
            print("schema.py: PyQt6 is not importable", file=sys.stderr)
            return 2
        return _reexec_under_qt(checkout, out_db)
    build(checkout, out_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
