"""Run every benchmark end to end and write benchmarks/RESULTS.md (`make bench`).

    python benchmarks/run_all.py                 # sizes S, M, L
    BENCH_SIZES=S,M python benchmarks/run_all.py # skip the province drop

Drops M and L are generated once under benchmarks/drops/ (git-ignored) and reused.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl

from common import DROPS, HERE, PY, ROOT, load_all, sizes_from_env

AIMS = {"assess_M": 10, "assess_L": 60, "rss_L_mb": 8 * 1024, "Parquet": 2e6, "UTF-8 CSV": 1e6, "GBK CSV": 3e5, "ratio": 1e4}


def machine() -> dict:
    mem = next((int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), 0)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "ram_gb": mem / 1024 ** 2, "python": platform.python_version(),
            "duckdb": duckdb.__version__, "polars": pl.__version__, "os": platform.platform(),
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "load": os.getloadavg()}


def drop_shapes(sizes) -> list[str]:
    lines = ["| table | " + " | ".join(sizes) + " |", "|---|" + "---:|" * len(sizes)]
    counts = {}
    for s in sizes:
        db = DROPS / f"{s}.duckdb"
        if not db.exists():
            continue
        con = duckdb.connect(str(db), read_only=True)
        for t in ("agencies", "catalog_snapshot", "aggregation_log", "share_applications", "api_calls"):
            counts.setdefault(t, {})[s] = con.execute(f"select count(*) from {t}").fetchall()[0][0]
        counts.setdefault("snapshots", {})[s] = con.execute("select count(distinct snapshot_date) from catalog_snapshot").fetchall()[0][0]
        counts.setdefault("resources", {})[s] = con.execute("select count(distinct resource_code) from catalog_snapshot").fetchall()[0][0]
        con.close()
    for t, by in counts.items():
        lines.append(f"| {t} | " + " | ".join(f"{by.get(s, 0):,}" for s in sizes) + " |")
    return lines


def write_results(sizes, extra: dict[str, str] | None = None) -> str:
    r = load_all()
    m = machine()
    out = [
        "# Benchmarks — figures", "",
        f"Written by `make bench` (`python benchmarks/run_all.py`, sizes {','.join(sizes)}) on {m['date']}.", "",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['ram_gb']:.1f} GB RAM, {m['os']}; Python {m['python']}, "
        f"DuckDB {m['duckdb']}, polars {m['polars']}. Load average at the end "
        f"{m['load'][0]:.2f} / {m['load'][1]:.2f} / {m['load'][2]:.2f} (1/5/15 min): the 2 cores were shared with other work, "
        "so figures are indicative (±30 %).", "",
        "## Drops", "",
        "S = the committed sample (`data_samples/`); M = city (`python -m hzeval.samples --size M`); "
        "L = province log volume (`--size L`: M's world with `aggregation_log` and `api_calls` ten times denser, "
        "written as 10 Parquet files each).", "",
        *drop_shapes(sizes), "",
    ]
    gen = {s: json.loads((DROPS / s / ".complete").read_text()) for s in sizes if s != "S" and (DROPS / s / ".complete").exists()}
    if gen:
        out += ["Generation: " + "; ".join(f"{s} {g['seconds']:.0f} s, peak RSS {g['peak_rss_mb']:,.0f} MB" for s, g in gen.items()), ""]
    out += ["## Figures", "", "| figure | value | aim |", "|---|---:|---:|"]
    load = r.get("load", {})
    for fmt, f in load.get("formats", {}).items():
        out.append(f"| load throughput, {fmt} (M: api_calls + aggregation_log, {f['rows']:,} rows) | "
                   f"{f['rows_per_s']:,.0f} rows/s ({f['seconds']:.2f} s, peak RSS {f['peak_rss_mb']:,.0f} MB) | > {AIMS[fmt]:,.0f} rows/s |")
    for s, f in load.get("drops", {}).items():
        out.append(f"| load whole drop {s} ({f['rows']:,} rows, {f['files']} files) | {f['seconds']:.2f} s = {f['rows_per_s']:,.0f} rows/s, "
                   f"peak RSS {f['peak_rss_mb']:,.0f} MB | |")
    for label, f in load.get("single", {}).items():
        h, d = f["hzeval"], f["duckdb"]
        aim = "≤ 1.3× time, ≤ 1.5× memory" + (", < 2 GB at 50M rows" if "L single" in label else "")
        out.append(f"| load one file beside DuckDB's CTAS, {label} ({h['rows']:,} rows) | hzeval {h['seconds']:.2f} s "
                   f"({h['rows_per_s']:,.0f} rows/s), {h['peak_rss_mb']:,.0f} MB; DuckDB {d['seconds']:.2f} s, "
                   f"{d['peak_rss_mb']:,.0f} MB; **{f['time_ratio']:.2f}× time, {f['rss_ratio']:.2f}× memory** | {aim} |")
    a = r.get("assess", {})
    for s, f in a.get("assess", {}).items():
        aim = {"M": "< 10 s", "L": "< 60 s, < 8 GB"}.get(s, "")
        out.append(f"| `assess` {s} ({f['agencies']} agencies), wall time (subprocess) | {f['wall']:.2f} s "
                   f"({f['seconds']:.2f} s in run_assessment) | {aim} |")
        out.append(f"| `assess` {s}, peak memory (RSS) | {f['peak_rss_mb']:,.0f} MB | {'< 8,192 MB' if s == 'L' else ''} |")
    d = r.get("deadline")
    if d:
        out.append(f"| deadlines for {d['items']:,} items, working-day index (SQL `wd_due_at` into a warehouse table) | {d['sql_seconds']:.3f} s "
                   f"({d['sql_items_per_s']:,.0f} items/s) | |")
        if "sql_fetch_seconds" in d:
            out.append(f"| same, fetched into Python (polars) | {d['sql_fetch_seconds']:.3f} s | |")
        out.append(f"| same, per-row `chinese_calendar` loop ({d['loop_sample']:,}-row sample, extrapolated) | "
                   f"{d['loop_seconds_extrapolated']:.0f} s ({d['loop_us_per_item']:.0f} µs/item) | |")
        out.append(f"| speed ratio index / loop (results identical on the sample) | {d['ratio']:,.0f}× "
                   f"({d.get('ratio_with_fetch', 0):,.0f}× counting the fetch) | ≥ 10,000× |")
        if "vector_seconds" in d:
            out.append(f"| same index vectorised (`WorkCalendar.due_dates` over the warehouse's calendar, numpy; "
                       f"identical to SQL on all rows) | {d['vector_seconds'] * 1000:.1f} ms = {d['ratio_vector']:,.0f}× the loop | ≥ 10,000× |")
    for name in sorted(k for k in r if k not in ("load", "assess", "deadline")):
        for label, value in r[name].items():
            out.append(f"| {name}: {label} | {value} | |")
    prof = a.get("profile")
    if prof:
        out += ["", "## Per-block profile of `compute_items` at M", "",
                "| family | block | seconds | items |", "|---|---|---:|---:|"]
        for p in sorted(prof, key=lambda p: -p["seconds"]):
            out.append(f"| {p['family']} | {p['block']} | {p['seconds']:.3f} | {'' if p['items'] is None else format(p['items'], ',')} |")
        out.append(f"| | total | {sum(p['seconds'] for p in prof):.2f} | |")
    for script, text in (extra or {}).items():
        out += ["", f"## {script}", "", "```", text.strip(), "```"]
    notes = HERE / "NOTES.md"
    if notes.exists():
        out += ["", notes.read_text(encoding="utf-8").strip()]
    text = "\n".join(out) + "\n"
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    return text


def main() -> int:
    sizes = sizes_from_env()
    env = {**os.environ, "BENCH_SIZES": ",".join(sizes), "PYTHONPATH": str(HERE)}
    for script in ("bench_deadline.py", "bench_load.py", "bench_assess.py"):
        print(f"== {script}", flush=True)
        subprocess.run([PY, str(HERE / script)], cwd=ROOT, env=env, check=True)
    extra = {}
    for script in extra_scripts():  # their printed figures go into RESULTS.md as they are
        print(f"== {script}", flush=True)
        proc = subprocess.run([PY, str(HERE / script)], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        print(proc.stdout, end="", flush=True)
        extra[script] = proc.stdout
    print(write_results(sizes, extra))
    return 0


def extra_scripts() -> list[str]:
    """Benchmarks of later modules (reports, dashboard) join here when their scripts exist."""
    return [p.name for p in sorted(HERE.glob("bench_*.py")) if p.name not in ("bench_deadline.py", "bench_load.py", "bench_assess.py")]


if __name__ == "__main__":
    sys.exit(main())
