"""`dbheal serve` and `python -m dbheal_lsp.lsp`: run the language server from the command line.

A command module of `dbheal_lsp.cli` (`add_commands`, `COMMANDS`, `run`), and `main` for
`python -m dbheal_lsp.lsp`: both start the server through `run`, the one way in from a command
line. pygls is imported only when the server actually starts, so that `dbheal check` never pays
for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

COMMANDS = frozenset({"serve"})


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` command to the `dbheal` parser."""
    serve = commands.add_parser(
        "serve",
        help="run the language server (stdio by default, or --tcp HOST:PORT)",
        description="Run the dbheal language server for an editor: over stdin/stdout by "
        "default, or listening on --tcp HOST:PORT. Logs go to stderr and to the editor's "
        "output, never to stdout.",
    )
    add_serve_arguments(serve)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `dbheal serve`."""
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP port instead")
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="what goes to stderr and the editor's output (default: info)",
    )


def parse_tcp(text: str) -> tuple[str, int]:
    """Return (host, port) of "HOST:PORT" (or ":PORT", "PORT"); ValueError if malformed."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def run(args: argparse.Namespace) -> int:
    """Run the server as `args` say; exit status 2 for a malformed --tcp."""
    tcp = None
    if getattr(args, "tcp", None):
        try:
            tcp = parse_tcp(args.tcp)
        except ValueError as exc:
            print(f"dbheal: error: --tcp: {exc}", file=sys.stderr)
            return 2
    from dbheal_lsp.lsp.server import serve

    return serve(tcp=tcp, log_level=getattr(args, "log_level", "info"))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m dbheal_lsp.lsp [--tcp HOST:PORT] [--log-level LEVEL]`: run the server."""
    parser = argparse.ArgumentParser(prog="dbheal serve", description="Run the language server.")
    add_serve_arguments(parser)
    return run(parser.parse_args(argv))
