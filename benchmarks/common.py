"""Shared helpers for the benchmark scripts: drops, subprocess timing with peak RSS, results.

Every figure is measured in a fresh subprocess (``measure``): wall time from the parent,
peak resident memory (``ru_maxrss`` of that child via ``os.wait4``), so runs do not share
caches or memory. Results are appended as JSON to ``benchmarks/drops/_results/`` and
collected into ``benchmarks/RESULTS.md`` by ``run_all.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DROPS = HERE / "drops"
RESULTS = DROPS / "_results"
PY = sys.executable
YEAR = 2025
AS_OF = "2026-01-05"


def drop(size: str) -> Path:
    """The folder of a named drop: S is the committed sample, M/L are generated on demand."""
    if size == "S":
        return ROOT / "data_samples"
    out = DROPS / size
    if not (out / ".complete").exists():
        print(f"generating drop {size} into {out} ...", flush=True)
        wall, rss, _ = measure([PY, "-m", "hzeval.samples", "--out", str(out), "--size", size])
        (out / ".complete").write_text(json.dumps({"seconds": wall, "peak_rss_mb": rss}))
        print(f"  drop {size}: generated in {wall:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    return out


def text_drop(fmt: str) -> Path:
    """M's large tables (api_calls, aggregation_log) as UTF-8 CSV (``csv``) or GBK CSV with Chinese headers (``gbk``)."""
    out = DROPS / f"M-{fmt}"
    if not (out / ".complete").exists():
        src = drop("M")
        code = (
            "import polars as pl, sys; from hzeval import samples; "
            f"fr = {{t: pl.read_parquet('{src}/' + t + '.parquet') for t in ('api_calls', 'aggregation_log')}}; "
            f"samples.write_drop(fr, '{out}', fmt='{fmt}')"
        )
        print(f"writing M's large tables as {fmt} into {out} ...", flush=True)
        measure([PY, "-c", code])
        (out / ".complete").write_text("ok")
    return out


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, peak RSS MB of the child, stdout). Raises on failure."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                         env={**os.environ, **(env or {})}, text=True)
    # read pipes before reaping so a chatty child cannot block
    out, err = p.stdout.read(), p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{err[-3000:]}")
    return wall, ru.ru_maxrss / 1024, out


def save(name: str, payload: dict) -> None:
    """Store figures; per-size entries merge with earlier runs (so BENCH_SIZES=L adds to S, M)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    for k, v in payload.items():
        if isinstance(v, dict) and isinstance(old.get(k), dict):
            old[k].update(v)
        elif v is not None or k not in old:
            old[k] = v
    path.write_text(json.dumps(old, ensure_ascii=False, indent=1))


def load_all() -> dict:
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))} if RESULTS.exists() else {}


def sizes_from_env(default: str = "S,M,L") -> list[str]:
    return [s.strip() for s in os.environ.get("BENCH_SIZES", default).split(",") if s.strip()]


#: the sample's two assessed years, as the demo and the tests assess them
SAMPLE_RUNS = ((2024, "2025-01-06"), (2025, "2026-01-05"))


def sample_warehouse(folder: Path, runs=((2025, "2026-01-05"),), name: str = "bench.duckdb") -> Path:
    """The committed sample drop loaded into ``folder/name`` and assessed for each (year, as-of)
    of ``runs`` (published beside it); returns the warehouse path."""
    import datetime as dt

    from hzeval.assessment.assess import run_assessment
    from hzeval.ingest import load_paths
    from hzeval.store.warehouse import connect

    db = Path(folder) / name
    with connect(db) as con:
        load_paths(con, [ROOT / "data_samples"], progress=False)
    for year, as_of in runs:
        run_assessment(db, year, dt.datetime.fromisoformat(as_of))
    return db
