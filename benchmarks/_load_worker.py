"""Worker: load files/folders into a fresh warehouse; prints JSON {seconds, rows, files}."""

import json
import sys
import time
from pathlib import Path

from hzeval.ingest import load_paths
from hzeval.warehouse import connect

db = Path(sys.argv[1])
for p in (db, db.with_name(db.name + ".wal")):
    p.unlink(missing_ok=True)
with connect(db) as con:
    t0 = time.perf_counter()
    r = load_paths(con, [Path(p) for p in sys.argv[2:]], progress=False)
    secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "rows": r.rows_loaded, "rejected": r.rows_rejected, "files": len(r.files)}))
