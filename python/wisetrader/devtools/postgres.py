"""A throwaway PostgreSQL cluster from Debian's ``postgresql`` package, on 127.0.0.1 and a free port.

Used by the test suite; also ``python -m wisetrader.devtools.postgres`` prints a DSN and keeps a cluster
running until interrupted. As root the server runs as the ``postgres`` system user (initdb refuses root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise PostgresUnavailable("PostgreSQL binaries not found: apt-get install -y postgresql")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Start a new cluster, yield an asyncpg SQLAlchemy URL to a fresh database, then stop and delete it."""
    bindir = _bindir()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    tmp = Path(tempfile.mkdtemp(prefix="wt-pg-"))
    data = tmp / "data"
    try:
        if as_root:
            shutil.chown(tmp, "postgres", "postgres")
        subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "wt", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        port = _free_port()
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(tmp / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            subprocess.run(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "wt", "wisetrader"],
                check=True,
                capture_output=True,
            )
            yield f"postgresql+asyncpg://wt@127.0.0.1:{port}/wisetrader"
        finally:
            subprocess.run(
                [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import time

    with cluster() as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
