"""Dashboard pages built server-side (no browser): session start, page open, interactions — the
Python part of what a leader waits for, side by side with a baseline checkout.

    .venv/bin/python benchmarks/bench_pages.py [--baseline /path/to/other/checkout] [--repeat 5]

Builds the sample warehouse (2024 and 2025 assessed) once in a temporary folder, then times in a
fresh process per checkout: a new session (``Dashboard(store)``), opening each page (after the
first session, as a second user would), and the what-if weight change. Medians of ``--repeat``.
Browser timings (websocket and drawing included) are in ``benchmarks/screenshots.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time
from hzeval.dashboard.app import Dashboard
from hzeval.dashboard.store import Store, User
from hzeval.dashboard import views
folder, repeat = sys.argv[1], int(sys.argv[2])
out = {}
Dashboard(Store(folder, User("warm", "leader")))  # first session fills the caches
t = []
for i in range(repeat):
    s = time.perf_counter(); d = Dashboard(Store(folder, User(f"u{i}", "leader"))); t.append(time.perf_counter() - s)
out["新会话（总览）"] = t
for page in views.PAGES:
    t = []
    for _ in range(repeat):
        d.page_select.value = "机构详情" if page != "机构详情" else "总览"
        s = time.perf_counter(); d.page_select.value = page; t.append(time.perf_counter() - s)
    out["打开 " + page] = t
run = d.run_select.value
store = d.store
t = []
for i in range(repeat):
    s = time.perf_counter(); store.whatif(run, weights={"共享服务": 60 + 10 * i}); t.append(time.perf_counter() - s)
out["方案模拟改权重（重新评分）"] = t
print(json.dumps({k: statistics.median(v) for k, v in out.items()}))
"""


def build(base: Path) -> Path:
    from common import SAMPLE_RUNS, sample_warehouse

    return sample_warehouse(base, SAMPLE_RUNS).parent / "published"


def measure(checkout: Path, folder: Path, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(repeat)], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(Path(tmp))
        this = measure(ROOT, folder, args.repeat)
        base = measure(args.baseline, folder, args.repeat) if args.baseline else {}
    load = os.getloadavg()[0]
    print(f"server-side page build, median of {args.repeat} (load average {load:.1f} on {os.cpu_count()} cores):")
    for k, v in this.items():
        b = f"   baseline {1000 * base[k]:6.0f} ms" if k in base else ""
        print(f"  {k:<16} {1000 * v:6.0f} ms{b}")


if __name__ == "__main__":
    main()
