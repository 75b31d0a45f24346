"""A throwaway PostgreSQL cluster for the PostgreSQL benchmarks, started as the tests start one
(tests/databases/postgres/conftest.py): initdb and pg_ctl from PATH or Debian's
/usr/lib/postgresql/*/bin, a Unix socket in a temporary folder, no fsync, the `postgres` user's
when run as root (initdb refuses root)."""

from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path:
    """Return the folder of initdb and pg_ctl, or exit saying what is missing."""
    found = shutil.which("pg_ctl")
    folders = [str(Path(found).parent)] if found else []
    folders += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not folders:
        sys.exit(
            "no server: pass a URL, set DATABASE_URL or install PostgreSQL (Debian: postgresql)"
        )
    return Path(folders[0])


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster and yield the URL of its `postgres` database (trust: no password);
    stop it and remove its folder at the end."""
    binaries = server_binaries()
    base = Path(tempfile.mkdtemp(prefix="dbheal-bench-pg-"))
    root = os.geteuid() == 0
    as_user = ["runuser", "-u", "postgres", "--"] if root else []
    user = "postgres" if root else os.environ.get("USER", "postgres")
    if root:
        shutil.chown(base, "postgres")
    port = random.randint(20000, 60000)
    data = base / "data"
    initdb = [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "--no-sync", "-U", user]
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
    pg_ctl = [*as_user, str(binaries / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run([*as_user, *initdb], check=True, capture_output=True)
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(base / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://{user}@/postgres?host={base}&port={port}"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
