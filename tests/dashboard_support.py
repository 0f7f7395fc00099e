"""Shared by the dashboard tests: a published sample warehouse (2024 and 2025 runs) and users."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORDS = {"boss": "leader-pass-1", "eva": "evaluator-pass-1", "hz101": "agency-pass-101"}
ROLES = {"boss": "leader", "eva": "evaluator", "hz101": "agency:HZ101"}
OWN, OTHER = "HZ101", "HZ102"


@pytest.fixture(scope="session")
def published(sample_warehouse, tmp_path_factory):
    """(published folder, users file, warehouse path): a copy of the session's sample warehouse."""
    from conftest import copy_sample
    from hzeval.dashboard.auth import add_user
    from hzeval.publish import published_dir

    db = copy_sample(sample_warehouse, tmp_path_factory, "dash")
    base = db.parent
    users = base / "users.json"
    for name, pw in PASSWORDS.items():
        add_user(users, name, pw, ROLES[name], iterations=2_000)
    return published_dir(db), users, db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard_server(db: Path, users: Path, env: dict[str, str] | None = None, log_name: str = "dashboard.log"):
    """The real ``hzeval dashboard`` in a subprocess; yields its base URL, stops it afterwards
    (``env`` adds to the environment; a None value removes the variable)."""
    port = free_port()
    exe = Path(sys.executable).with_name("hzeval")
    cmd = [str(exe) if exe.exists() else shutil.which("hzeval"), "--db", str(db), "dashboard",
           "--port", str(port), "--users", str(users)]
    log_path = db.parent / log_name
    with open(log_path, "w") as log:
        full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
        proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                pytest.fail("dashboard did not start: " + log_path.read_text())
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)
