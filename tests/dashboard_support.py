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


#: Playwright's ``devices["iPhone 13"]`` (written out: the module's Playwright is already running)
PHONE = {
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/15.0 Mobile/15E148 Safari/604.1",
    "viewport": {"width": 390, "height": 664},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
#: the page measured on a phone: its width, the window's, and whether the viewport meta is there
PHONE_WIDTHS = (
    "() => [document.scrollingElement.scrollWidth, innerWidth, !!document.querySelector('meta[name=viewport]')]"
)
#: where a column heading sits on screen (left, right), read through the shadow roots
HEADING_AT = """(title) => { let found = null;
  const walk = (n) => { if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.children || []) {
      if (!found && c.classList && c.classList.contains('tabulator-col-title') && c.textContent.trim() === title) {
        const r = c.getBoundingClientRect(); found = [r.left, r.right]; }
      walk(c); } };
  walk(document.body); return found; }"""


#: the 大屏 slides on screen (data-slide numbers), read through the shadow roots
VISIBLE_SLIDE = """() => { const out = [];
  const walk = (n) => { if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.children || []) {
      if (c.classList && c.classList.contains('w-slide') && getComputedStyle(c).visibility === 'visible')
        out.push(c.dataset.slide);
      walk(c); } };
  walk(document.body); return out; }"""
#: table cells and headings whose text is cut (wider than their box), read through the shadow roots
CLIPPED = """() => { const out = [];
  const walk = (n) => { if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.children || []) {
      if (c.classList && (c.classList.contains('tabulator-cell') || c.classList.contains('tabulator-col-title'))
          && c.offsetParent !== null && c.textContent.trim() && c.scrollWidth > c.clientWidth + 1)
        out.push([c.textContent.trim().slice(0, 40), c.scrollWidth, c.clientWidth]);
      walk(c); } };
  walk(document.body); return out.slice(0, 10); }"""


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
