"""`assess` on the Spark engine (local mode) beside DuckDB, same warehouse, same run.

For each size (BENCH_SIZES, default S,M,L; the warehouse is the one bench_load.py built) two
fresh subprocesses assess the same year: `_assess_worker.py` (DuckDB) and
`_spark_assess_worker.py` (Spark `local[*]`, driver memory 3 GB). Spark's wall time is split
into session start (JVM), exporting the warehouse's tables to Parquet, Spark's own work
(transpiled blocks, items collected as Arrow) and writing the items back into DuckDB. The two
runs' metric_values (every agency × metric) are then compared: they must be identical.
Peak RSS is the Python process with its reaped children (the JVM runs as its child). The load
average (1 min) at the start and end of each run is printed beside it, and the Spark run's
slowest metric-block jobs (a block's time includes the cached steps it is the first to read).
Every figure of the run is also kept in ``drops/_spark_runs.json``.

    BENCH_SIZES=S,M python benchmarks/bench_spark.py
"""

from __future__ import annotations

import json
import os
import time

import duckdb

from bench_assess import warehouse
from common import AS_OF, DROPS, HERE, PY, YEAR, measure, save, sizes_from_env


def same_values(db, duck_run: str, spark_run: str) -> bool:
    con = duckdb.connect(str(db), read_only=True)
    q = ("select agency_code, metric_id, numerator, denominator, value, count from metric_values "
         "where run_id = $r order by all")
    same = con.execute(q, {"r": duck_run}).fetchall() == con.execute(q, {"r": spark_run}).fetchall()
    con.close()
    return same


def main() -> None:
    out = {}
    print("| size | engine | wall (subprocess) | in run_assessment | Spark breakdown | peak RSS | load (start → end) | metric_values identical |")
    print("|---|---|---:|---:|---|---:|---|---|")
    for size in sizes_from_env():
        db = warehouse(size)
        load_d = os.getloadavg()[0]
        wall_d, rss_d, stdout = measure([PY, str(HERE / "_assess_worker.py"), str(db), str(YEAR), AS_OF])
        duck = json.loads(stdout.strip().splitlines()[-1])
        duck["load_start"], duck["load_end"] = load_d, os.getloadavg()[0]
        wall_s, rss_s, stdout = measure([PY, str(HERE / "_spark_assess_worker.py"), str(db), str(YEAR), AS_OF])
        spark = json.loads(stdout.strip().splitlines()[-1])
        same = same_values(db, duck["run_id"], spark["run_id"])
        out[size] = {"duckdb": {**duck, "wall": wall_d, "peak_rss_mb": rss_d},
                     "spark": {**spark, "wall": wall_s, "peak_rss_mb": rss_s}, "identical": same,
                     "at": time.strftime("%Y-%m-%d %H:%M")}
        print(f"| {size} | DuckDB | {wall_d:.1f} s | {duck['seconds']:.1f} s | | {rss_d:,.0f} MB | "
              f"{duck['load_start']:.1f} → {duck['load_end']:.1f} | |")
        print(f"| {size} | Spark local[*] | {wall_s:.1f} s | {spark['seconds']:.1f} s | session {spark['session_s']:.1f} s, "
              f"export {spark['export_s']:.1f} s, Spark {spark['spark_s']:.1f} s, write-back {spark['writeback_s']:.1f} s, "
              f"{spark['items']:,} items | {rss_s:,.0f} MB | {spark['load_start'][0]:.1f} → {spark['load_end'][0]:.1f} | "
              f"{'yes' if same else 'NO'} |", flush=True)
        slow = sorted(spark["blocks"], key=lambda b: -b[1])[:6]
        print(f"|   | slowest Spark jobs ({size}) | " + ", ".join(f"{b} {s:.1f} s" for b, s in slow) + " | | | | | |", flush=True)
        (DROPS / "_spark_runs.json").write_text(json.dumps(out, indent=1))
    # flat labels: run_all.py lists them as figure rows
    save("spark", {f"assess {size}, DuckDB / Spark local[*] wall": f"{r['duckdb']['wall']:.1f} s / {r['spark']['wall']:.1f} s "
                   f"(metric_values identical: {'yes' if r['identical'] else 'NO'})" for size, r in out.items()})


if __name__ == "__main__":
    main()
