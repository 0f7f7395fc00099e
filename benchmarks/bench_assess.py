"""`assess` wall time and peak memory at S, M, L, and a per-metric profile at M.

Each size's warehouse is the one bench_load.py built (benchmarks/drops/<size>.duckdb; loaded
here if missing). `assess` runs in a fresh subprocess: wall time includes interpreter start,
metrics, scoring, writing the run and publishing the read-only copy; peak RSS is the child's.

    python benchmarks/bench_assess.py          # BENCH_SIZES=S,M,L by default
"""

from __future__ import annotations

import json

from common import AS_OF, DROPS, PY, YEAR, drop, measure, save, sizes_from_env

HERE = DROPS.parent


def warehouse(size: str):
    db = DROPS / f"{size}.duckdb"
    if not db.exists():
        measure([PY, str(HERE / "_load_worker.py"), str(db), str(drop(size))])
    return db


def main() -> None:
    out = {"assess": {}, "profile": None}
    for size in sizes_from_env():
        db = warehouse(size)
        agencies = measure([PY, "-c", f"import duckdb; c = duckdb.connect('{db}', read_only=True); "
                                      "print(c.execute('select count(*) from agencies').fetchall()[0][0])"])[2]
        wall, rss, stdout = measure([PY, str(HERE / "_assess_worker.py"), str(db), str(YEAR), AS_OF])
        r = json.loads(stdout.strip().splitlines()[-1])
        r.update(wall=wall, peak_rss_mb=rss, agencies=int(agencies))
        out["assess"][size] = r
        print(f"assess {size}: {wall:6.2f} s wall ({r['seconds']:.2f} s in run_assessment), peak RSS {rss:,.0f} MB, "
              f"{r['agencies']} agencies", flush=True)
        if size == "M":
            _, _, stdout = measure([PY, str(HERE / "_metric_profile.py"), str(db), str(YEAR), AS_OF])
            prof = json.loads(stdout.strip().splitlines()[-1])
            out["profile"] = prof
            print("per-block profile at M (compute_items):")
            for p in sorted(prof, key=lambda p: -p["seconds"])[:12]:
                items = "" if p["items"] is None else f"{p['items']:>9,d} items"
                print(f"  {p['family']:12s} {p['block']:35s} {p['seconds']:7.3f} s {items}")
            print(f"  total {sum(p['seconds'] for p in prof):.2f} s")
    save("assess", out)


if __name__ == "__main__":
    main()
