"""What the Meltano project tests share: Meltano itself, a copy of the project of its own, and
a throwaway PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.project.pipeline import ROOT, copy_project


@pytest.fixture(scope="session")
def meltano() -> str:
    path = Path(os.environ.get("MELTANO_BIN") or ROOT / ".venv-meltano" / "bin" / "meltano")
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail("Meltano is not installed; CI runs `make test`, which installs it")
        pytest.skip("Meltano is not installed: run `make test`, which installs it")
    return str(path)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what configures Meltano, the plugins or the demo
    (``MELTANO_*``, ``TAP_TWITTER_ENGAGEMENT_*``, ``TARGET_*``, ``DBT_*``, ``SANDBOX_URL``), then
    ``extra``: a test's Meltano sees only what the test sets, not the developer's shell."""
    prefixes = ("MELTANO_", "TAP_TWITTER_ENGAGEMENT_", "TARGET_", "DBT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k != "SANDBOX_URL"}
    return {**env, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}


@dataclass(frozen=True)
class MeltanoProject:
    """A Meltano project in a directory of its own, and how to run Meltano in it."""

    root: Path
    meltano: str

    def run(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``meltano <args>`` in the project with ``clean_env(**env)``, output captured."""
        return subprocess.run(
            [self.meltano, *args],
            cwd=self.root,
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


@pytest.fixture(scope="session")
def project_copy(meltano: str, tmp_path_factory: pytest.TempPathFactory) -> MeltanoProject:
    """A copy of the checkout's Meltano project (``copy_project``) for the tests that only read
    it: shared by the session, so tests must not change it."""
    return MeltanoProject(copy_project(tmp_path_factory.mktemp("meltano") / "project"), meltano)


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[int]:
    """A throwaway PostgreSQL on loopback, from the machine's binaries (as postgres when root)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; CI must run the PostgreSQL test")
        pytest.skip("PostgreSQL is not installed (no pg_ctl): the PostgreSQL test needs it")
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="tap-twitter-engagement-pg-"))
    data, port = base / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        base.chmod(0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "server.log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield port
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
