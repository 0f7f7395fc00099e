"""Warm kernels (issue 29 item 1): the whole HTML report stage against one agency's report alone.

    .venv/bin/python benchmarks/bench_warm_kernels.py [--repeat N] [--agency HZ021]

On the sample (2025 as of 2026-01-05), in one run, each figure a fresh process
(``hzeval.services.render_reports(formats=("html",))``, as ``hzeval report --format html``):
the whole stage (every agency report, the bulletin, the gate report, the staff notebooks'
gallery, the approval reference and the index) and ``--agency`` alone, once with warm kernels
(one per worker, reused) and once with the baseline, papermill with a cold kernel per job.
Target: whole stage ≤ 3× one agency alone. The best of ``--repeat`` runs of each is reported
(the machine is shared); the runs alternate warm and cold so that load falls on both.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from common import PY, measure, sample_warehouse, save

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--agency", default="HZ021")
    args = ap.parse_args()
    worker = str(HERE / "_report_worker.py")
    times: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="hzeval-bench-warm-") as tmp:
        db = sample_warehouse(Path(tmp))
        for i in range(args.repeat):
            for mode in ("warm", "cold"):
                for what, extra in (("all", []), ("agency", [args.agency])):
                    out = Path(tmp) / f"reports-{mode}-{what}-{i}"
                    wall, _, stdout = measure([PY, worker, str(db), str(out), mode, *extra])
                    times.setdefault(f"{mode}_{what}", []).append(wall)
                    counts[what] = int(stdout.split()[-1])
                    print(f"  {mode:<4} {what:<6} run {i + 1}: {wall:6.1f} s ({counts[what]} notebooks)", flush=True)
    best = {k: min(v) for k, v in times.items()}

    def runs(m: str) -> dict:
        return {k: [round(x, 1) for x in v] for k, v in times.items() if k.startswith(m)}

    ratios = {m: best[f"{m}_all"] / best[f"{m}_agency"] for m in ("warm", "cold")}
    print(f"machine: {os.cpu_count()} cores; sample 2025; whole stage {counts['all']} notebooks, agency {args.agency}")
    for m in ("cold", "warm"):
        print(
            f"{m:<4}: whole stage {best[m + '_all']:.1f} s, one agency {best[m + '_agency']:.1f} s"
            f" -> {ratios[m]:.2f}x  (runs: {json.dumps(runs(m))})"
        )
    print(
        f"warm kernels: whole stage {best['cold_all'] / best['warm_all']:.2f}x faster than cold; target <= 3x: "
        f"{'met' if ratios['warm'] <= 3 else 'NOT met'}"
    )
    save("warm_kernels", {"best_seconds": best, "runs": times, "ratio_all_to_agency": ratios, "notebooks": counts})


if __name__ == "__main__":
    main()
