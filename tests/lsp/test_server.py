"""server.py end to end: how the server ends (stdin closed, exit with or without shutdown, the
client's process gone) and what its log lines are (info is not an error, stderr stays quiet).

The real server over stdio, driven by tests/lsp/client.py (with test_clients.py's session, which
keeps the server's stderr), or by protocol messages written to its stdin.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import SERVER, WAIT, diagnostics, of_type, open_doc, until
from tests.lsp.test_clients import infos, session


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_stdin_closing_is_a_normal_exit() -> None:
    # The troubleshooting check of docs/editors.md: `python3 -m dbheal_lsp < /dev/null`.
    proc = subprocess.run(
        SERVER, stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stdout == b""  # stdout carries only the protocol


def test_exit_without_shutdown_still_exits_1() -> None:
    # The protocol's rule: the `exit` notification before `shutdown` is an error exit (1).
    messages = _frame(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": None, "capabilities": {}},
        }
    ) + _frame({"jsonrpc": "2.0", "method": "exit"})
    proc = subprocess.run(SERVER, input=messages, capture_output=True, timeout=WAIT, check=False)
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")


def test_a_shutdown_sent_without_an_id_then_exit_is_a_clean_exit() -> None:
    # Kate 22.12 sends `shutdown` with no id (a notification), then `exit`: the server must
    # stop as asked (exit code 0), with no "Unable to deserialize message" traceback.
    messages = (
        _frame(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        )
        + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + _frame({"jsonrpc": "2.0", "method": "shutdown"})
        + _frame({"jsonrpc": "2.0", "method": "exit"})
    )
    proc = subprocess.run(SERVER, input=messages, capture_output=True, timeout=WAIT, check=False)
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "Invalid Params" not in stderr, stderr


@pytest.mark.asyncio
async def test_the_server_exits_when_the_client_process_is_gone(tmp_path: Path) -> None:
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        async with session(tmp_path, process_id=editor.pid) as client:
            editor.kill()
            editor.wait(60)  # reaped: the pid no longer names a process
            server = client._server
            assert server is not None
            # The failure mode of a server that ignores processId: this wait times out.
            await asyncio.wait_for(server.wait(), 60)
            client.shut_down = True
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait(60)


@pytest.mark.asyncio
async def test_info_lines_are_not_errors(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        await until(lambda: infos(client, "workspace folder(s)"), "the start-up line")
        await until(
            lambda: (
                any(
                    v and isinstance(v[-1], lsp.WorkDoneProgressEnd)
                    for v in client.progress_reports.values()
                )
                or infos(client, "scan")
            ),
            "the start-up scan",
        )
        (started,) = infos(client, "workspace folder(s)")
        assert started.type == lsp.MessageType.Info
        errors = [m.message for m in client.log_messages if m.type == lsp.MessageType.Error]
        assert errors == []
    # Neovim files every stderr line as [ERROR]: the info lines go to the client only.
    assert not [line for line in client.stderr_lines if " INFO " in line], client.stderr_lines
