"""Shared by the dashboard tests: a published sample warehouse (2024 and 2025 runs), users, the
real server, and headless Chromium (one launch per module, text read through shadow roots)."""

from __future__ import annotations

import contextlib
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
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: the browser tests need Debian's Chromium and CJK fonts (conftest.SYSTEM: a bare machine fails, never skips)
needs_chromium = pytest.mark.system("chromium", "fonts")

#: text from the page including open shadow roots (Panel renders components in shadow DOM), and
#: the values of input fields
DEEP_TEXT = """() => {
  const out = [];
  const walk = (n) => {
    if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.childNodes) {
      if (c.nodeType === Node.TEXT_NODE) out.push(c.textContent);
      else if (c.nodeType === Node.ELEMENT_NODE && c.tagName !== 'SCRIPT' && c.tagName !== 'STYLE') {
        if (c.tagName === 'INPUT') out.push(c.value || '');
        walk(c);
      }
    }
  };
  walk(document.body);
  return out.join('');
}"""


def deep_text(page) -> str:
    return page.evaluate(DEEP_TEXT)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from Debian (never ``playwright install``), one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def published(sample_warehouse, tmp_path_factory):
    """(published folder, users file, warehouse path): a copy of the session's sample warehouse."""
    from conftest import copy_sample

    from hzeval.dashboard.auth import add_user
    from hzeval.store.published import published_dir

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
    cmd = [
        str(exe) if exe.exists() else shutil.which("hzeval"),
        "--db",
        str(db),
        "dashboard",
        "--port",
        str(port),
        "--users",
        str(users),
    ]
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
