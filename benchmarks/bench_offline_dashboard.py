"""The offline leader dashboards (issue 17): file size, build time and opening time in Chromium.

    .venv/bin/python benchmarks/bench_offline_dashboard.py [--opens N]

Builds the sample warehouse in a temporary folder (data_samples/, 2025 as of 2026-01-05) and,
side by side in the same run:

- ``dashboard.html`` as shipped (the server's pages, charts as inline SVG) and, as the baseline,
  the same file with the server's plotly charts (plotly.js embedded, what ``save(embed=True)``
  gives without the offline charts);
- one agency's file ``dashboards/HZ009.html`` the same two ways.

Each file is opened ``--opens`` times from ``file://`` in headless Chromium with every request
refused; "open" is the time from navigation to the last section (the project-gate table) drawn,
the median is reported. The aims: under 20 MB, open in under 3 s.

``--per-file N`` (issue 29 item 2) measures instead, side by side in one run, N agencies' files
``dashboards/<code>.html`` rendered as the report stage renders them (``render.run_jobs``, 2 workers):
the baseline a cold papermill kernel per file (kernel start, imports of hzeval and Panel, the
run's queries, Bokeh's resources, every file), then the workers' warm kernels (all of that once per
worker, the run's queries cached and shared by scope).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dashboard_support import ARGS, CHROMIUM  # noqa: E402

FIGURES = ("heatmap_figure", "trend_figure", "distribution_figure", "lost_points_figure", "overdue_by_agency_figure",
           "gate_conditions_figure")


def server_charts() -> None:
    """The baseline: every figure function returns its plotly figure even on an offline page."""
    import inspect

    from hzeval.dashboard import views

    def plotly_always(original):
        signature = inspect.signature(original)

        def figure(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.arguments["offline"] = False
            return original(*bound.args, **bound.kwargs)
        return figure

    for name in FIGURES:
        setattr(views, name, plotly_always(getattr(views, name)))


def build(published: Path, out: Path, target: str, run_id: str, agency: str | None) -> tuple[Path, float]:
    from hzeval.dashboard.offline import save_dashboard

    t0 = time.perf_counter()
    path = save_dashboard(published, out, target, run_id, agency)
    return path, time.perf_counter() - t0


def open_times(path: Path, n: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 900})
        target = path.resolve().as_uri()
        ctx.route("**/*", lambda r: r.continue_() if r.request.url == target else r.abort())
        for _ in range(n):
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(target)
            page.wait_for_selector(".hz-gates-page .tabulator-row, .hz-gates-page .hz-empty", timeout=120_000)
            times.append(time.perf_counter() - t0)
            page.close()
        browser.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=5)
    ap.add_argument("--per-file", type=int, default=0, help="N agency files cold vs warm (issue 29 item 2)")
    args = ap.parse_args()
    if args.per_file:
        per_file(args.per_file)
        return

    from common import SAMPLE_RUNS, sample_warehouse

    from hzeval.store.published import published_dir
    from hzeval.runs import open_run

    with tempfile.TemporaryDirectory(prefix="hzeval-bench-") as tmp:
        db = sample_warehouse(Path(tmp), SAMPLE_RUNS)
        pub = published_dir(db)
        with open_run(pub, 2025) as run:
            run_id = run.run_id
        rows = []
        for variant in ("shipped (SVG charts)", "baseline (plotly charts)"):
            if variant.startswith("baseline"):
                server_charts()
            out = Path(tmp) / variant.split()[0]
            for label, target, agency in (("dashboard.html (40 agencies)", "dashboard.html", None),
                                          ("dashboards/HZ009.html", "dashboards/HZ009.html", "HZ009")):
                path, seconds = build(pub, out, target, run_id, agency)
                opens = open_times(path, args.opens)
                rows.append((label, variant, path.stat().st_size / 1e6, seconds, statistics.median(opens), min(opens),
                             max(opens)))
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min); "
              f"open = navigation to the last section drawn, file://, every request refused, median of {args.opens}")
        print()
        print("| file | charts | size | build (layout + embed + inline) | open, median (min–max) |")
        print("|---|---|---:|---:|---:|")
        for label, variant, mb, seconds, med, lo, hi in rows:
            print(f"| {label} | {variant} | {mb:.1f} MB | {seconds:.1f} s | {med:.2f} s ({lo:.2f}–{hi:.2f}) |")


def per_file(n: int) -> None:
    from common import SAMPLE_RUNS, sample_warehouse

    from hzeval.dashboard.offline import dashboard_jobs
    from hzeval.reports import render
    from hzeval.runs import open_run
    from hzeval.store.published import published_dir

    with tempfile.TemporaryDirectory(prefix="hzeval-bench-") as tmp:
        db = sample_warehouse(Path(tmp), SAMPLE_RUNS)
        pub = published_dir(db)
        rows = []
        for label, warm in (("baseline: a cold kernel per file", False), ("warm kernels, one per worker", True)):
            out = Path(tmp) / ("warm" if warm else "cold")
            with open_run(pub, 2025) as run:
                codes = run.con.execute("select agency_code from grades order by agency_code").fetchall()
                jobs = dashboard_jobs(run, out, [c for (c,) in codes[:n]], whole_city=False)
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            results = render.run_jobs(jobs, 2, warm=warm)
            wall = time.perf_counter() - t0
            assert all(r.ok for r in results), [r.error for r in results if not r.ok]
            rows.append((label, len(jobs), wall, load, os.getloadavg()[0]))
        print(f"machine: {os.cpu_count()} cores; sample, 2025 as of 2026-01-05, 2 workers")
        print()
        print("| agency files | render | wall | per file | load average (1 min) before → after |")
        print("|---:|---|---:|---:|---|")
        for label, k, wall, l0, l1 in rows:
            print(f"| {k} | {label} | {wall:.1f} s | {wall / k:.2f} s | {l0:.1f} → {l1:.1f} |")
        print(f"\nwarm / cold: {rows[1][2] / rows[0][2]:.2f}")


if __name__ == "__main__":
    main()
