"""Load throughput (rows/s) per format, and whole-drop loads at each size.

Per format: M's two large tables (api_calls ~5M rows, aggregation_log ~1.4M rows) loaded into a
fresh warehouse as Parquet, UTF-8 CSV (English headers) and GBK CSV (Chinese headers).
Whole drops: every file of S, M, L into a fresh warehouse (kept under benchmarks/drops/ for
bench_assess.py).
Single files beside DuckDB (issue 16): M's api_calls as Parquet and as UTF-8 CSV, and (with L) one
large api_calls file of ``BENCH_L_FILE_ROWS`` rows (default 50M) as Parquet and as CSV, each loaded by ``hzeval``
and by DuckDB's own ``create table … as select * from read_…(file)`` in the same run: time and peak
RSS ratios (aims: ≤ 1.3× the time, ≤ 1.5× the memory; a 50M-row file under 2 GB).

    python benchmarks/bench_load.py            # BENCH_SIZES=S,M,L by default
    BENCH_LOAD_ONLY=single BENCH_SIZES=M,L python benchmarks/bench_load.py   # only the single files beside DuckDB
    BENCH_LOAD_REPEAT=5 …                      # alternate hzeval / DuckDB 5 times, report the medians
"""

from __future__ import annotations

import json
import os

from pathlib import Path

from common import DROPS, PY, drop, measure, save, sizes_from_env, text_drop

WORKER = str(DROPS.parent / "_load_worker.py")


def load(db, paths) -> dict:  # hzeval load in a fresh subprocess
    wall, rss, out = measure([PY, WORKER, str(db), *map(str, paths)])
    r = json.loads(out.strip().splitlines()[-1])
    r.update(wall=wall, peak_rss_mb=rss, rows_per_s=r["rows"] / r["seconds"])
    return r


def duckdb_ctas(db, path) -> dict:
    wall, rss, out = measure([PY, WORKER, "--duckdb-ctas", str(db), str(path)])
    r = json.loads(out.strip().splitlines()[-1])
    r.update(wall=wall, peak_rss_mb=rss, rows_per_s=r["rows"] / r["seconds"])
    return r


def large_file(rows: int) -> Path:
    """One api_calls Parquet file of ``rows`` rows: M's calls repeated with distinct call ids (DuckDB COPY,
    bounded memory)."""
    out = DROPS / f"L-file-{rows // 1_000_000}M" / "api_calls.parquet"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        src = drop("M") / "api_calls.parquet"
        code = (
            "import duckdb, sys; con = duckdb.connect(); "
            f"n = con.execute(\"select count(*) from read_parquet('{src}')\").fetchall()[0][0]; "
            f"k = -(-{rows} // n); "
            "con.execute(f\"copy (select * replace (call_id || '-' || r as call_id) "
            f"from read_parquet('{src}'), range({{k}}) t(r) limit {rows}) to '{out}.tmp' (format parquet)\")"
        )
        print(f"writing {rows:,}-row api_calls into {out} ...", flush=True)
        measure([PY, "-c", code])
        os.replace(f"{out}.tmp", out)
    return out


def large_csv(rows: int) -> Path:
    """The same ``rows`` rows as :func:`large_file`, as UTF-8 CSV (DuckDB COPY, header line)."""
    out = DROPS / f"L-csv-{rows // 1_000_000}M" / "api_calls.csv"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        src = large_file(rows)
        print(f"writing {rows:,}-row api_calls as CSV into {out} ...", flush=True)
        measure([PY, "-c", f"import duckdb; duckdb.connect().execute(\"copy (select * from read_parquet('{src}')) "
                           f"to '{out}.tmp' (format csv, header true)\")"])
        os.replace(f"{out}.tmp", out)
    return out


def _median(values: list[float]) -> float:
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def side_by_side(name: str, path, repeat: int | None = None) -> dict:
    """hzeval and DuckDB's CTAS on one file, alternating, ``BENCH_LOAD_REPEAT`` rounds (default 1);
    the medians of the rounds (the shared machine's noise is larger than the gap being measured)."""
    repeat = repeat or int(os.environ.get("BENCH_LOAD_REPEAT", "1"))
    db = DROPS / f"_single-{os.getpid()}.duckdb"  # other runs may share the drops folder
    hs, ds = [], []
    for i in range(repeat):
        for who in (("hzeval", "duckdb") if i % 2 == 0 else ("duckdb", "hzeval")):
            if who == "hzeval":
                hs.append(load(db, [path]))
            else:
                ds.append(duckdb_ctas(db, path))
            db.unlink(missing_ok=True)
    h = {**hs[0], **{k: _median([x[k] for x in hs]) for k in ("seconds", "wall", "peak_rss_mb", "rows_per_s")}}
    d = {**ds[0], **{k: _median([x[k] for x in ds]) for k in ("seconds", "wall", "peak_rss_mb", "rows_per_s")}}
    r = {"hzeval": h, "duckdb": d, "time_ratio": h["seconds"] / d["seconds"], "rss_ratio": h["peak_rss_mb"] / d["peak_rss_mb"],
         "rounds": repeat, "samples": {"hzeval": [(x["seconds"], x["peak_rss_mb"]) for x in hs],
                                       "duckdb": [(x["seconds"], x["peak_rss_mb"]) for x in ds]},
         "load_avg": os.getloadavg()}
    print(f"single file {name:28s} {h['rows']:>11,d} rows: hzeval {h['seconds']:7.2f} s, {h['peak_rss_mb']:6,.0f} MB; "
          f"DuckDB CTAS {d['seconds']:7.2f} s, {d['peak_rss_mb']:6,.0f} MB; ratio {r['time_ratio']:.2f}× time, "
          f"{r['rss_ratio']:.2f}× memory (median of {repeat}; load average {r['load_avg'][0]:.2f})", flush=True)
    return r


def main() -> None:
    sizes = sizes_from_env()
    only_single = os.environ.get("BENCH_LOAD_ONLY", "").strip().lower() == "single"
    out = {"formats": {}, "drops": {}, "single": {}}
    if "M" in sizes and not only_single:
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
    if "M" in sizes:
        m = drop("M")
        out["single"]["Parquet, M api_calls"] = side_by_side("Parquet, M api_calls", m / "api_calls.parquet")
        out["single"]["UTF-8 CSV, M api_calls"] = side_by_side("UTF-8 CSV, M api_calls", text_drop("csv") / "api_calls.csv")
    if "L" in sizes:
        n = int(os.environ.get("BENCH_L_FILE_ROWS", 50_000_000))
        label = f"Parquet, L single file ({n // 1_000_000}M rows)"
        out["single"][label] = side_by_side(label, large_file(n))
        label = f"UTF-8 CSV, L single file ({n // 1_000_000}M rows)"
        out["single"][label] = side_by_side(label, large_csv(n))
    for size in () if only_single else sizes:
        d = drop(size)
        r = load(DROPS / f"{size}.duckdb", [d])
        out["drops"][size] = r
        print(f"load drop {size}: {r['rows']:>11,d} rows, {r['files']} files in {r['seconds']:7.2f} s = "
              f"{r['rows_per_s']:>12,.0f} rows/s  (peak RSS {r['peak_rss_mb']:,.0f} MB)", flush=True)
    save("load", out)


if __name__ == "__main__":
    main()
