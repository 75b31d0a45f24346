"""The `dbheal admin` command: serve the admin page of a project on 127.0.0.1.

The first line it prints is the URL to open, with the session's random token in it, as Jupyter
does: `dbheal admin: http://127.0.0.1:PORT/?token=TOKEN`. It serves until interrupted.
"""

from __future__ import annotations

import argparse
import errno
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.cli import EXIT_OK, UsageError
from dbheal_lsp.cli.output import write

if TYPE_CHECKING:
    from dbheal_lsp.admin import AdminApp, AdminServer

COMMANDS = frozenset({"admin"})

DEFAULT_PORT = 8765
_TRIES = 20  # without --port, the next ports are tried when the default one is taken


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the admin command to the `dbheal` parser."""
    admin = commands.add_parser(
        "admin",
        help="serve the admin web page (issues, fixes, history, settings) on 127.0.0.1",
        description="Serve a local web app for the project around PATH: a dashboard, the "
        "issues with their fixes, the fix history with rollback, the settings, and manual "
        "fixes. It listens on 127.0.0.1 only and prints its URL with a random token; every "
        "request needs that token. See docs/admin.md.",
    )
    admin.add_argument(
        "path", nargs="?", type=Path, help="a file or folder of the project (default: .)"
    )
    admin.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"the port (default: {DEFAULT_PORT}, or the next free one; 0: any free port)",
    )
    admin.add_argument("--open", action="store_true", help="open the page in a web browser")


def run(args: argparse.Namespace) -> int:
    """Run `dbheal admin` until it is interrupted; return its exit status."""
    from dbheal_lsp.admin import AdminApp
    from dbheal_lsp.config import ConfigError, find_root
    from dbheal_lsp.fixes.state import StateError

    path: Path = args.path or Path.cwd()
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    port: int | None = args.port
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")
    root = find_root(path)
    try:
        app = AdminApp(root)
        app.store  # noqa: B018 - opens (and creates) .dbheal/state.sqlite now: errors show here
    except (ConfigError, StateError) as exc:
        raise UsageError(str(exc)) from None
    server = _listen(app, port)
    write(f"dbheal admin: {server.url}\n")
    write(f"Serving {root} on 127.0.0.1 only; press Ctrl-C to stop.\n")
    # The first scan runs while the browser opens; the first page waits for it if need be.
    threading.Thread(target=app.result, name="dbheal-admin-scan", daemon=True).start()
    if args.open:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        write("dbheal admin: stopped.\n")
    finally:
        server.server_close()
        app.close()
    return EXIT_OK


def _listen(app: AdminApp, port: int | None) -> AdminServer:
    from dbheal_lsp.admin import AdminServer

    candidates = [port] if port is not None else list(range(DEFAULT_PORT, DEFAULT_PORT + _TRIES))
    for candidate in candidates:
        try:
            return AdminServer(app, candidate)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE and candidate != candidates[-1]:
                continue
            hint = " (try --port 0 for any free port)" if exc.errno == errno.EADDRINUSE else ""
            raise UsageError(
                f"cannot listen on 127.0.0.1:{candidate}: {exc.strerror or exc}{hint}"
            ) from None
    raise UsageError("no free port")  # unreachable: the last candidate raises above
