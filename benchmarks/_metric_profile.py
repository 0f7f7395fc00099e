"""Worker: time every staging step and metric block of compute_items on a loaded warehouse (rolled back)."""

import datetime as dt
import json
import sys
import time

from hzeval.metrics.engine import ITEM_COLUMNS, Block, Window, load_blocks, prepare, run_block
from hzeval.metrics.registry import FAMILIES
from hzeval.assessment.scheme import load_scheme
from hzeval.store.warehouse import connect

db, year, as_of = sys.argv[1], int(sys.argv[2]), dt.datetime.fromisoformat(sys.argv[3])
window = Window.for_year(year, as_of, load_scheme(None, year=year))
params = window.params()
rows = []
with connect(db, create=False) as con:
    con.execute("begin")
    t0 = time.perf_counter()
    prepare(con, window)
    rows.append({"family": "_staging", "block": "(staging steps, macros)", "seconds": time.perf_counter() - t0, "items": None})
    con.execute("create or replace temp table _prof_items as select * from (select null::varchar as metric_id, "
                + ", ".join(f"null::varchar as {c}" if c not in ("due_at", "done_at", "num", "den") else
                            f"null::{'timestamp' if c in ('due_at', 'done_at') else 'double'} as {c}" for c in ITEM_COLUMNS)
                + ") where false")
    cols = ", ".join(ITEM_COLUMNS)
    for fam in FAMILIES:
        for b in load_blocks(fam):
            t = time.perf_counter()
            if b.kind == "step":
                run_block(con, b, params)
                n = None
            else:
                ins = Block(b.kind, b.name, f"insert into _prof_items (metric_id, {cols}) select $metric_id, {cols} from (\n{b.sql}\n)", b.family)
                run_block(con, ins, {**params, "metric_id": b.name})
                n = con.execute("select count(*) from _prof_items where metric_id = $m", {"m": b.name}).fetchall()[0][0]
            rows.append({"family": fam, "block": b.name, "seconds": time.perf_counter() - t, "items": n})
    con.execute("rollback")
print(json.dumps(rows))
