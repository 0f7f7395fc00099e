"""Seconds per agency report, amortised over the sample set, and where the time goes.

    .venv/bin/python benchmarks/bench_reports.py [--workers N] [--pdf]

Builds the sample warehouse in a temporary folder (data_samples/, 2025 as of 2026-01-05),
renders every report with ``hzeval.reports.render`` and prints wall time per agency report
(all agency reports / wall time of the agency phase) plus the summed per-job phases:
kernel start, notebook execution (imports, queries, papermill overhead), nbconvert + page
template, and PDF printing when asked.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--pdf", action="store_true", help="also print every report to PDF")
    args = ap.parse_args()

    from common import sample_warehouse

    from hzeval.reports import data
    from hzeval.reports.render import plan_jobs, run_jobs, timings_summary

    with tempfile.TemporaryDirectory(prefix="hzeval-bench-") as tmp:
        db = sample_warehouse(Path(tmp))
        out = Path(tmp) / "reports" / "2025"
        with data.open_run(None, 2025, db) as run:
            jobs = plan_jobs(run, out, pdf=args.pdf, kinds=("agency",))
            t0 = time.perf_counter()
            results = run_jobs(jobs, args.workers)
            wall = time.perf_counter() - t0
            others = plan_jobs(run, out, pdf=args.pdf, kinds=("bulletin", "gates"))
            t1 = time.perf_counter()
            other_results = run_jobs(others, args.workers)
            wall_other = time.perf_counter() - t1
        failed = [r for r in results + other_results if not r.ok]
        phases = timings_summary(results)
        n = len(results)
        print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, workers {args.workers}")
        print(f"agency reports: {n} in {wall:.1f} s wall -> {wall / n:.2f} s per agency report (amortised)")
        print(f"bulletin + gate report: {wall_other:.1f} s wall")
        print("per-job phases, mean seconds (jobs overlap across workers):")
        for k, v in phases.items():
            print(f"  {k:<13} {v / n:6.2f}")
        print(f"  {'job total':<13} {sum(phases.values()) / n:6.2f}")
        if failed:
            print(f"FAILED: {[(r.job.html, r.error) for r in failed]}")
            sys.exit(1)


if __name__ == "__main__":
    main()
