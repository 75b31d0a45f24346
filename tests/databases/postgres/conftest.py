"""A throwaway PostgreSQL cluster for the back end's tests: a real server, no mocks.

`initdb` and `pg_ctl` (on PATH, or Debian's /usr/lib/postgresql/*/bin) start a cluster in a
temporary folder, listening on a Unix socket only, for the whole session (about a second), and
stop it at the end. initdb refuses to run as root: as root the cluster is the `postgres` user's.
Without the binaries the tests are skipped locally and fail in CI (a skipped test in CI is a
defect; .ci/run installs Debian's `postgresql`).
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg") if not os.environ.get("CI") else __import__("psycopg")


def _binaries() -> Path | None:
    """Return the folder of `initdb` and `pg_ctl`, or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "pg_ctl").exists() and Path(folder, "initdb").exists():
            return Path(folder)
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a cluster and yield the URL of its `postgres` database (no password: trust)."""
    folder = _binaries()
    if folder is None:
        message = "PostgreSQL's initdb and pg_ctl are not installed (Debian: postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="dbheal-pg-"))
    data = base / "data"
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    port = random.randint(20000, 60000)
    initdb = [str(folder / "initdb"), "-D", str(data), "-A", "trust", "--no-sync", "-U", user]
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
    start = [str(folder / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log")]
    try:
        subprocess.run(_as_server_user(initdb), check=True, capture_output=True)
        subprocess.run(_as_server_user([*start, "-w", "start"]), check=True, capture_output=True)
        yield f"postgresql://{user}@/postgres?host={base}&port={port}"
    finally:
        stop = [str(folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_server_user(stop), check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """Yield the URL of a new empty database of the session's cluster, dropped afterwards."""
    name = f"t{random.randrange(10**9)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = postgres_server.replace("/postgres?", f"/{name}?")
    try:
        yield url
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[object]:
    """Yield an autocommit connection to a new empty database."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn
