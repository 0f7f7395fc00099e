"""Dashboard responsiveness in a real browser: page open → charts drawn, filter change → update.

    .venv/bin/python benchmarks/bench_dashboard.py [--scale 1] [--scale 10] [--repeat 3]

For each scale: builds a warehouse in a temporary folder (scale 1 = the committed
data_samples/; scale N = ``python -m hzeval.samples --scale N``), assesses 2025 as of
2026-01-05, starts ``hzeval dashboard`` and drives headless Chromium (/usr/bin/chromium)
through Playwright. Prints, per page, the median wall time from navigation (URL with ?page=)
to its charts and tables being drawn, and per interaction from the change to the updated
content. Aim (issue 5): page < 2 s, interaction < 300 ms. Timings are measured in the browser
process's wall clock as seen from Python, so they include websocket round trips.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dashboard_support import ARGS, CHROMIUM  # noqa: E402 - the tests' browser launch, one definition

#: page → selectors that must all be present when the page is drawn
PAGES = {
    "总览": [".hz-heatmap .main-svg", ".hz-trend .main-svg", ".hz-dist .main-svg", ".hz-ranking .tabulator-row"],
    "机构详情": [".hz-lost .main-svg", ".hz-agency-trend .main-svg", ".hz-evidence .tabulator-row", ".hz-indicators .tabulator-row"],
    "督办": [".hz-sup-agency .main-svg", ".hz-supervision .tabulator-row"],
    "项目门禁": [".hz-gates-chart .main-svg", ".hz-gates .tabulator-row"],
    "方案模拟": [".hz-whatif-summary", ".tabulator-row"],
}


def build(scale: int, base: Path) -> tuple[Path, Path]:
    from hzeval.assessment.assess import run_assessment
    from hzeval.dashboard.auth import add_user
    from hzeval.ingest import load_paths
    from hzeval.store.warehouse import connect

    drop = ROOT / "data_samples"
    if scale != 1:
        drop = base / f"drop{scale}"
        subprocess.run([sys.executable, "-m", "hzeval.samples", "--out", str(drop), "--scale", str(scale)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    db = base / "wh.duckdb"
    t = time.perf_counter()
    with connect(db) as con:
        load_paths(con, [drop], progress=False)
    run_assessment(db, 2025, dt.datetime(2026, 1, 5))
    print(f"  warehouse built (load + assess + publish) in {time.perf_counter() - t:.1f} s")
    users = base / "users.json"
    add_user(users, "bench", "bench-pass-1", "leader", iterations=2000)
    return db, users


def start(db: Path, users: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HZEVAL_COOKIE_SECRET": secrets.token_hex(32)}
    exe = Path(sys.executable).with_name("hzeval")
    proc = subprocess.Popen([str(exe), "--db", str(db), "dashboard", "--port", str(port), "--users", str(users)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


def wait_change(page, selector: str, old: str, timeout: float = 30.0) -> None:
    """Poll (5 ms) until the element's text differs from ``old``."""
    loc = page.locator(selector + " p").first  # the Markdown text lives in the pane's shadow root
    end = time.perf_counter() + timeout
    while loc.inner_text() == old:
        if time.perf_counter() > end:
            raise TimeoutError(f"{selector} did not change")
        page.wait_for_timeout(5)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def select_timed(page, base: str, name: str, ready: str, select: str, summary: str, pick) -> float:
    """Open page ``name``, wait for ``ready``, then time choosing ``pick(options)`` in the ``select``
    until the ``summary`` line changes."""
    page.goto(base + "/?page=" + urllib.parse.quote(name))
    page.wait_for_selector(ready, timeout=120_000)
    old = page.locator(summary + " p").first.inner_text()
    sel = page.locator(select).first
    label = pick(sel.locator("option").all_inner_texts())

    def choose():
        sel.select_option(label=label)
        wait_change(page, summary, old)
    return timed(choose)


def measure(page, base: str, repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per page from navigation to drawn, and per interaction from the change to the updated
    content, ``repeat`` times each, on a logged-in ``page`` of the dashboard at ``base``."""
    opened: dict[str, list[float]] = {k: [] for k in PAGES}
    for _ in range(repeat):
        for name, sels in PAGES.items():
            def open_page(name=name, sels=sels):
                page.goto(base + "/?page=" + urllib.parse.quote(name))
                for s in sels:
                    page.wait_for_selector(s, timeout=120_000)
            opened[name].append(timed(open_page))
    interactions = {"证据筛选（机构详情）": [], "督办机构筛选": [], "方案模拟改权重": []}
    for i in range(repeat):
        # evidence filter: the first metric in the select; supervision: the agency filter
        interactions["证据筛选（机构详情）"].append(select_timed(
            page, base, "机构详情", ".hz-evidence .tabulator-row", ".hz-ev-metric select", ".hz-ev-count",
            lambda opts: opts[1]))  # 全部指标 → the first metric
        interactions["督办机构筛选"].append(select_timed(
            page, base, "督办", ".hz-supervision .tabulator-row", ".hz-sup-filter select", ".hz-sup-summary",
            lambda opts: opts[1 + i % (len(opts) - 1)]))
        # what-if: weight change
        page.goto(base + "/?page=" + urllib.parse.quote("方案模拟"))
        page.wait_for_selector(".hz-whatif-summary:has-text('等级变化')", timeout=120_000)
        old = page.locator(".hz-whatif-summary p").first.inner_text()
        box = page.locator(".hz-weight-2 input").first

        def whatif():
            box.fill(str(60 + 10 * i))
            box.press("Enter")
            wait_change(page, ".hz-whatif-summary", old)
        interactions["方案模拟改权重"].append(timed(whatif))
    return opened, interactions


def run_scale(scale: int, repeat: int) -> None:
    from playwright.sync_api import sync_playwright

    print(f"scale {scale}×:")
    with tempfile.TemporaryDirectory() as tmp:
        db, users = build(scale, Path(tmp))
        proc, base = start(db, users)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(base + "/login")
                page.fill("#username", "bench")
                page.fill("#password", "bench-pass-1")
                page.click("#login-submit")
                page.wait_for_selector(".hz-heatmap .main-svg", timeout=120_000)
                opened, interactions = measure(page, base, repeat)
                for name, xs in opened.items():
                    print(f"  open {name:<6} → drawn: median {statistics.median(xs):.2f} s (n={len(xs)})")
                for name, xs in interactions.items():
                    print(f"  {name} → updated: median {1000 * statistics.median(xs):.0f} ms (n={len(xs)})")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, action="append", help="sample scale(s); default 1 and 10")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for scale in args.scale or [1, 10]:
        run_scale(scale, args.repeat)


if __name__ == "__main__":
    main()
