"""The nightly run at city scale (issue 29 item 5): load, assess, every report and every offline dashboard.

    .venv/bin/python benchmarks/bench_night.py [--drop benchmarks/drops/M] [--workers 2] [--work DIR]

Runs the four stages of the night one after the other, each the CLI in a fresh process over one new
warehouse (``--work``, default a temporary folder; nothing outside it is written):

1. ``load``: the drop (``benchmarks/drops/M``: 305 agencies, 5M API calls);
2. ``assess --year 2025 --as-of 2026-01-05``;
3. ``report --format html,xlsx``: every agency's report, the bulletin, the gate report, the staff
   notebooks' gallery, the approval reference, the index and the workbook;
4. ``report --format dashboard``: the city's offline dashboard and one per agency.

Per stage: wall time, peak memory of the whole process tree (the CLI, its pool workers and their
kernels: the sum of their resident sizes, sampled every 0.2 s), and the files written. The load
average before and after is printed: the machine is shared, and the figures mean little without it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import AS_OF, DROPS, PY, ROOT, YEAR, save

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(statm.split()[1]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def stage(name: str, cmd: list[str], cwd: Path) -> dict:
    """Run one stage; wall time, peak tree RSS, peak single-process RSS, load averages."""
    load_before = os.getloadavg()
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {' '.join(cmd[3:])}", flush=True)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(p.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if p.returncode != 0:
        raise RuntimeError(f"{name} failed ({p.returncode}):\n{out[-2000:]}\n{err[-3000:]}")
    r = {"stage": name, "wall": wall, "peak_tree_mb": peak[0] / 2**20,
         "load_before": load_before, "load_after": os.getloadavg(), "tail": out.strip().splitlines()[-1:]}
    print(f"    {wall:7.1f} s, peak {r['peak_tree_mb']:,.0f} MB (process tree), load "
          f"{load_before[0]:.1f} → {r['load_after'][0]:.1f}", flush=True)
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--drop", type=Path, default=DROPS / "M")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=None, help="folder for the warehouse and reports (default: temporary)")
    args = ap.parse_args()
    if not (args.drop / ".complete").exists() and args.drop.parent == DROPS:
        raise SystemExit(f"{args.drop} is not complete (no .complete): generate it with bench_load.py first")
    work = args.work or Path(tempfile.mkdtemp(prefix="hzeval-night-"))
    work.mkdir(parents=True, exist_ok=True)
    db, out = work / "night.duckdb", work / "reports"
    cli = [PY, "-m", "hzeval.cli", "--db", str(db)]
    w = ["--workers", str(args.workers)]
    started = time.perf_counter()
    stages = [
        stage("load", cli + ["load", str(args.drop.resolve())], work),
        stage("assess", cli + ["assess", "--year", str(YEAR), "--as-of", AS_OF], work),
        stage("reports (html, xlsx)", cli + ["report", "--year", str(YEAR), "--format", "html,xlsx",
                                             "--out", str(out)] + w, work),
        stage("offline dashboards", cli + ["report", "--year", str(YEAR), "--format", "dashboard",
                                           "--out", str(out)] + w, work),
    ]
    total = time.perf_counter() - started
    folder = out / str(YEAR)
    files = {
        "agency reports": len(list((folder / "agencies").glob("*.html"))),
        "agency dashboards": len(list((folder / "dashboards").glob("*.html"))),
        "city dashboard MB": round((folder / "dashboard.html").stat().st_size / 1e6, 1),
        "workbook MB": round((folder / "workbook.xlsx").stat().st_size / 1e6, 1),
        "all files": sum(1 for f in folder.rglob("*") if f.is_file()),
    }
    failures = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["failures"]
    print()
    if failures:
        print(f"FAILED: {len(failures)} file(s): {failures[:3]}")
    print(f"drop {args.drop.name}, {args.workers} workers, {os.cpu_count()} cores; total {total:.0f} s "
          f"({total / 60:.1f} min); files: {files}")
    print("| stage | wall | peak memory (process tree) | load average before → after (1 min) |")
    print("|---|---:|---:|---|")
    for s in stages:
        print(f"| {s['stage']} | {s['wall']:.1f} s | {s['peak_tree_mb']:,.0f} MB | "
              f"{s['load_before'][0]:.1f} → {s['load_after'][0]:.1f} |")
    print(f"| **the night** | **{total:.0f} s** | {max(s['peak_tree_mb'] for s in stages):,.0f} MB | |")
    save("night", {"drop": str(args.drop), "workers": args.workers, "stages": stages, "total": total,
                   "files": files, "failures": failures})
    print(f"work folder: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
