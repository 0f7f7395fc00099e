"""Screenshots of every dashboard page (1440 px and a 390 px phone) and of three reports, into
docs/screenshots/; with page-open and interaction times at the sample size.

    make screenshots          (= .venv/bin/python benchmarks/screenshots.py)

Builds the committed sample drop in a temporary folder (assess 2024 and 2025), renders the
reports, starts ``hzeval dashboard`` and drives headless Chromium (/usr/bin/chromium) through
Playwright. Also scans each page's text for what no page may show (raw table names, raw
datetimes, "-0.00", English pagination) and prints what it finds. Timings go to stdout as one
benchmark line per page / interaction; sizes of the agency report with inline SVG charts and
with plotly.js embedded are printed too.

HZ028 (an empty catalogue: standing zeros explained) and HZ105 (0.00 = 5.00 earned − 5.00
deducted) are shot too, report and dashboard agency page, for a score's arithmetic (issue 24);
``--arithmetic`` shoots only those.

On an emulated iPhone 13 (390 px, device scale 3, touch; issue 27): phone_<page>.png of the login
page and the dashboard pages, phone_report_agency.png (HZ009's report), and wall.png, the 大屏
(``/?mode=wall``) at 1920×1080; ``--phone`` shoots only those.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_dashboard import ARGS, CHROMIUM, PAGES, measure, start  # noqa: E402
from dashboard_support import DEEP_TEXT as DEEP_TEXT_JOINED  # noqa: E402
from dashboard_support import PHONE  # noqa: E402
from surface_scan import problems  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"1440": (1440, 900), "390": (390, 844)}
#: agencies whose report and dashboard page show a score's arithmetic (issue 24 items 4–5)
ARITHMETIC = ("HZ028", "HZ105")
SLUG = {"总览": "overview", "机构详情": "agency", "督办": "supervision", "项目门禁": "gates", "方案模拟": "whatif"}
#: the page's text through shadow roots, words apart (the scan looks for stray tokens between cells)
DEEP_TEXT = DEEP_TEXT_JOINED.replace("out.join('')", "out.join(' ')")


def build(base: Path) -> tuple[Path, Path]:
    from common import SAMPLE_RUNS, sample_warehouse

    from hzeval.dashboard.auth import add_user

    db = sample_warehouse(base, SAMPLE_RUNS)
    users = base / "users.json"
    add_user(users, "leader", "shot-pass-1", "leader", iterations=2000)
    add_user(users, "hz101", "shot-pass-2", "agency:HZ101", iterations=2000)
    return db, users


def report_sizes(base: Path, db: Path) -> Path:
    """Render the reports; print the agency report's size with inline SVG and with plotly.js embedded."""
    import plotly

    from hzeval.services import render_reports

    result = render_reports(2025, out=base / "reports", formats=("html",), published=db.parent / "published",
                            only=["HZ009", *ARITHMETIC], workers=2)
    assert not result.failures, result.failures
    report = result.out_dir / "agencies" / "HZ009.html"
    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    svg = report.stat().st_size
    print(f"agency report HZ009: inline SVG {svg / 1024:.0f} KB; with plotly.js embedded once it would be "
          f"{(svg + js.stat().st_size) / 1024 / 1024:.2f} MB (plotly.min.js {js.stat().st_size / 1024 / 1024:.2f} MB) "
          f"→ SVG chosen (limit 3 MB)")
    return result.out_dir


def full_height(page, width: int, height: int) -> None:
    """Grow the viewport to the page's content (the template scrolls inside its main area, so a
    full-page screenshot alone would stop at the window)."""
    tall = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": width, "height": max(height, min(int(tall) + 80, 7000))})
    page.wait_for_timeout(400)


def login(page, base: str, user: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_selector(".hz-main", timeout=120_000)


def arithmetic_shots(browser, base: str, reports: Path) -> list[str]:
    """HZ028's and HZ105's dashboard agency page and report at both widths; the text problems found."""
    found: list[str] = []
    for label, (w, h) in WIDTHS.items():
        ctx = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
        page = ctx.new_page()
        login(page, base, "leader", "shot-pass-1")
        for code in ARITHMETIC:
            page.goto(base + "/?page=" + urllib.parse.quote("机构详情") + f"&agency={code}")
            for sel in (".hz-indicators .tabulator-row", ".hz-score-line"):
                page.wait_for_selector(sel, timeout=120_000)
            page.wait_for_timeout(600)
            full_height(page, w, h)
            page.screenshot(path=str(OUT / f"dashboard_agency_{code}_{label}.png"), full_page=True)
            found += problems(page.evaluate(DEEP_TEXT), f"机构详情 {code} {label}px")
            page.set_viewport_size({"width": w, "height": h})
        for code in ARITHMETIC:
            page.goto((reports / "agencies" / f"{code}.html").as_uri())
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / f"report_agency_{code}_{label}.png"), full_page=True)
        ctx.close()
    return found


def phone_shots(browser, base: str, reports: Path) -> None:
    """The phone layout as a phone gets it (device emulation, not a narrow window), and the 大屏."""
    ctx = browser.new_context(**PHONE, locale="zh-CN")
    page = ctx.new_page()
    page.goto(base + "/login")
    page.wait_for_selector("#username")
    page.screenshot(path=str(OUT / "phone_login.png"))
    login(page, base, "leader", "shot-pass-1")
    for name, sels in PAGES.items():
        page.goto(base + "/?page=" + urllib.parse.quote(name) + ("&agency=HZ009" if name == "机构详情" else ""))
        for s in sels:
            page.wait_for_selector(s, timeout=120_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / f"phone_{SLUG[name]}.png"))
    page.goto((reports / "agencies" / "HZ009.html").as_uri())
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "phone_report_agency.png"))
    ctx.close()
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = ctx.new_page()
    login(page, base, "leader", "shot-pass-1")
    page.goto(base + "/?mode=wall")
    page.wait_for_selector(".hz-wall .w-slide", timeout=120_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(OUT / "wall.png"))
    ctx.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    only_arithmetic = "--arithmetic" in sys.argv[1:]
    only_phone = "--phone" in sys.argv[1:]

    OUT.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = Path(tmp)
        db, users = build(base_dir)
        reports = report_sizes(base_dir, db)
        proc, base = start(db, users)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                phone_shots(browser, base, reports)
                if only_phone:
                    browser.close()
                    return report_found(found)
                found += arithmetic_shots(browser, base, reports)
                if only_arithmetic:
                    browser.close()
                    return report_found(found)
                for label, (w, h) in WIDTHS.items():
                    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
                    page = ctx.new_page()
                    login(page, base, "leader", "shot-pass-1")
                    for name, sels in PAGES.items():
                        page.goto(base + "/?page=" + urllib.parse.quote(name) + ("&agency=HZ009" if name == "机构详情" else ""))
                        for s in sels:
                            page.wait_for_selector(s, timeout=120_000)
                        page.wait_for_timeout(600)
                        full_height(page, w, h)
                        page.screenshot(path=str(OUT / f"dashboard_{SLUG[name]}_{label}.png"), full_page=True)
                        found += problems(page.evaluate(DEEP_TEXT), f"{name} {label}px")
                    ctx.close()
                # an agency user with no project: the empty state in words
                ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
                page = ctx.new_page()
                login(page, base, "hz101", "shot-pass-2")
                page.goto(base + "/?page=" + urllib.parse.quote("项目门禁"))
                page.wait_for_selector(".hz-main", timeout=60_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(OUT / "dashboard_gates_agency_user_1440.png"), full_page=True)
                ctx.close()
                # reports: agency (vetoed HZ009), bulletin, gates
                for label, (w, h) in WIDTHS.items():
                    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
                    page = ctx.new_page()
                    for rel, slug in (("agencies/HZ009.html", "agency_HZ009"), ("bulletin.html", "bulletin"),
                                      ("gates.html", "gates")):
                        page.goto((reports / rel).as_uri())
                        page.wait_for_timeout(300)
                        page.screenshot(path=str(OUT / f"report_{slug}_{label}.png"), full_page=True)
                    ctx.close()
                timings(browser, base)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    return report_found(found)


def report_found(found: list[str]) -> int:
    for line in found:
        print("TEXT PROBLEM", line)
    print(f"screenshots in {OUT}")
    return 1 if found else 0


def timings(browser, base: str, repeat: int = 3) -> None:
    """Benchmark lines: page open → drawn, and the interactions → updated (median of ``repeat``),
    measured as ``bench_dashboard.measure`` does."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    login(page, base, "leader", "shot-pass-1")
    opened, interactions = measure(page, base, repeat)
    for name, xs in opened.items():
        print(f"bench page-open {name}: median {statistics.median(xs):.2f} s (n={len(xs)})")
    for name, xs in interactions.items():
        print(f"bench interaction {name}: median {1000 * statistics.median(xs):.0f} ms (n={len(xs)})")
    ctx.close()

if __name__ == "__main__":
    sys.exit(main())
