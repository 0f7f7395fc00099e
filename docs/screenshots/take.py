"""Regenerate docs/screenshots/: the staff notebooks as an evaluator sees them in JupyterLab.

    make lab-screenshots        (or: .venv/bin/python docs/screenshots/take.py)

Builds a private warehouse from data_samples/ (assessed for 2024 and 2025, as `make demo` does),
starts JupyterLab the way `hzeval lab` does (127.0.0.1, a token, the hzeval kernel) on a free
port, opens each notebook in headless Chromium (Playwright, the system's /usr/bin/chromium), runs
all cells and takes a screenshot. Nothing outside this folder is written; everything started is
stopped.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
NOTEBOOKS = ("drop_check", "evidence_explorer", "year_over_year")
VIEWPORT = {"width": 1440, "height": 2000}


def build_warehouse(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import SAMPLE_RUNS, sample_warehouse

    return sample_warehouse(folder, SAMPLE_RUNS, name="hzeval.duckdb").parent / "published"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(published: Path, notebooks: Path, folder: Path) -> tuple[subprocess.Popen, str]:
    from hzeval.workbench import lab_command, lab_environment

    port, token = free_port(), secrets.token_hex(32)
    settings = folder / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {**lab_environment(published, token), "JUPYTERLAB_SETTINGS_DIR": str(folder / "lab-settings"),
           "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    argv = [*lab_command(notebooks, port, "127.0.0.1", browser=False),
            "--LabApp.expose_app_in_browser=True", "--ServerApp.log_level=WARN"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "lab.log", "w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            return proc, f"{base}|{token}"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"JupyterLab exited: {(folder / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("JupyterLab did not start in 120 s")


def shoot(page, base: str, token: str, name: str) -> Path:
    page.goto(f"{base}/lab/tree/{name}.ipynb?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=60_000)
    page.wait_for_function("""() => { const k = window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel;
                                      return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""",
                           timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const p = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')];
                   return p.length && p.every(x => !x.textContent.includes('*'))
                          && p.some(x => /\\[\\d+\\]/.test(x.textContent)); }""", timeout=60_000)
    page.wait_for_selector(".jp-OutputArea-output table.data", timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.evaluate("""() => { const n = document.querySelector('.jp-WindowedPanel-outer'); if (n) n.scrollTop = 0; }""")
    time.sleep(1.5)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
    if errors:
        raise SystemExit(f"{name}: a cell failed in JupyterLab")
    path = OUT / f"lab_{name}.png"
    page.screenshot(path=str(path))
    return path


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="hzeval-shots-") as tmp:
        folder = Path(tmp)
        print("building the sample warehouse …", flush=True)
        published = build_warehouse(folder)
        notebooks = folder / "notebooks"  # a copy: JupyterLab saves what it opens, the committed ones stay clean
        notebooks.mkdir()
        for name in NOTEBOOKS:
            shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", notebooks)
        proc, where = start_lab(published, notebooks, folder)
        base, token = where.split("|")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
                for name in NOTEBOOKS:
                    print(f"{name} …", flush=True)
                    try:
                        print(shoot(page, base, token, name).relative_to(ROOT))
                    except Exception:  # keep what the page and the server showed, outside the temp folder
                        kept = Path(tempfile.gettempdir()) / f"hzeval-screenshot-{name}-failed"
                        kept.mkdir(exist_ok=True)
                        page.screenshot(path=str(kept / "page.png"))
                        shutil.copy(folder / "lab.log", kept / "lab.log")
                        print(f"failed: see {kept}", file=sys.stderr)
                        raise
                browser.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
