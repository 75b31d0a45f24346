"""How the language server starts: `dbheal serve --tcp`, and `python -m dbheal_lsp` with arguments."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

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
            data = b""
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
                data.split(b"Content-Length: ")[1].split(b"\r\n")[0]
            ):
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
            answer = json.loads(data.split(b"\r\n\r\n", 1)[1])
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
