"""How the language server starts: `dbheal serve --tcp`, and `python -m dbheal_lsp` with arguments."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

SERVER = [sys.executable, "-m", "dbheal_lsp"]
WAIT = 120.0


def test_dbheal_serve_over_tcp(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dbheal = shutil.which("dbheal", path=str(Path(sys.executable).parent))
    command = [dbheal, "serve"] if dbheal else [*SERVER, "serve"]
    proc = subprocess.Popen(
        [*command, "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(
                        f"dbheal serve --tcp did not listen: {proc.stderr.read().decode() if proc.stderr else ''}"
                    )
                time.sleep(0.1)
        with sock:
            body = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": None, "capabilities": {}},
                }
            ).encode()
            sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            sock.settimeout(WAIT)
            answer = _response(sock, 1)
            assert answer["id"] == 1
            assert answer["result"]["serverInfo"]["name"] == "dbheal"
            assert answer["result"]["capabilities"]["textDocumentSync"]["save"] == {
                "includeText": False
            }
    finally:
        proc.kill()
        proc.wait(timeout=WAIT)


def test_python_m_with_arguments_is_still_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([*SERVER, "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("dbheal ")
    proc = subprocess.run(
        [*SERVER, "serve", "--tcp", "nonsense"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "--tcp" in proc.stderr


def _response(sock: socket.socket, wanted: int) -> dict[str, Any]:
    """Read framed messages from `sock` until the response to request `wanted`; the server may
    send notifications (window/logMessage) before or after it, in the same packets."""
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, data
            rest += chunk
        message: dict[str, Any] = json.loads(rest[:length])
        data = rest[length:]
        if message.get("id") == wanted:
            return message
