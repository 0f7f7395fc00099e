"""Load throughput (rows/s) per format, and whole-drop loads at each size.

Per format: M's two large tables (api_calls ~5M rows, aggregation_log ~1.4M rows) loaded into a
fresh warehouse as Parquet, UTF-8 CSV (English headers) and GBK CSV (Chinese headers).
Whole drops: every file of S, M, L into a fresh warehouse (kept under benchmarks/drops/ for
bench_assess.py).

    python benchmarks/bench_load.py            # BENCH_SIZES=S,M,L by default
"""

from __future__ import annotations

import json

from common import DROPS, PY, drop, measure, save, sizes_from_env, text_drop

WORKER = str(DROPS.parent / "_load_worker.py")


def load(db, paths) -> dict:
    wall, rss, out = measure([PY, WORKER, str(db), *map(str, paths)])
    r = json.loads(out.strip().splitlines()[-1])
    r.update(wall=wall, peak_rss_mb=rss, rows_per_s=r["rows"] / r["seconds"])
    return r


def main() -> None:
    sizes = sizes_from_env()
    out = {"formats": {}, "drops": {}}
    if "M" in sizes:
        m = drop("M")
        cases = {
            "Parquet": [m / "api_calls.parquet", m / "aggregation_log.parquet"],
            "UTF-8 CSV": sorted(text_drop("csv").glob("*.csv")),
            "GBK CSV": sorted(text_drop("gbk").glob("*.csv")),
        }
        for fmt, paths in cases.items():
            r = load(DROPS / "_fmt.duckdb", paths)
            out["formats"][fmt] = r
            print(f"load {fmt:10s} {r['rows']:>10,d} rows in {r['seconds']:6.2f} s = {r['rows_per_s']:>12,.0f} rows/s"
                  f"  (peak RSS {r['peak_rss_mb']:,.0f} MB)", flush=True)
        (DROPS / "_fmt.duckdb").unlink(missing_ok=True)
    for size in sizes:
        d = drop(size)
        r = load(DROPS / f"{size}.duckdb", [d])
        out["drops"][size] = r
        print(f"load drop {size}: {r['rows']:>11,d} rows, {r['files']} files in {r['seconds']:7.2f} s = "
              f"{r['rows_per_s']:>12,.0f} rows/s  (peak RSS {r['peak_rss_mb']:,.0f} MB)", flush=True)
    save("load", out)


if __name__ == "__main__":
    main()
