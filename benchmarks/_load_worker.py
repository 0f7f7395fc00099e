"""Worker: load files/folders into a fresh warehouse; prints JSON {seconds, rows, files}.

    python _load_worker.py DB PATH...            # hzeval's load (load_paths)
    python _load_worker.py --duckdb-ctas DB FILE # baseline: DuckDB's own create table … as select * from read_…(FILE)
"""

import json
import sys
import time
from pathlib import Path

ctas = sys.argv[1] == "--duckdb-ctas"
args = sys.argv[2:] if ctas else sys.argv[1:]
db = Path(args[0])
for p in (db, db.with_name(db.name + ".wal")):
    p.unlink(missing_ok=True)
if ctas:
    import duckdb

    src = args[1]
    reader = "read_parquet(?)" if src.endswith(".parquet") else "read_csv(?)"
    con = duckdb.connect(str(db))
    t0 = time.perf_counter()
    con.execute(f"create table t as select * from {reader}", [src])
    rows = con.execute("select count(*) from t").fetchall()[0][0]
    secs = time.perf_counter() - t0
    con.close()
    print(json.dumps({"seconds": secs, "rows": rows, "rejected": 0, "files": 1}))
    sys.exit(0)

from hzeval.ingest import load_paths  # noqa: E402
from hzeval.store.warehouse import connect  # noqa: E402

with connect(db) as con:
    t0 = time.perf_counter()
    r = load_paths(con, [Path(p) for p in args[1:]], progress=False)
    secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "rows": r.rows_loaded, "rejected": r.rows_rejected, "files": len(r.files)}))
