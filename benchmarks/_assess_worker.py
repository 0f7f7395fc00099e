"""Worker: one `assess` run (metrics, scores, grades, gates, publish) on a loaded warehouse; prints JSON."""

import datetime as dt
import json
import sys
import time

from hzeval.assessment.assess import run_assessment

db, year, as_of = sys.argv[1], int(sys.argv[2]), dt.datetime.fromisoformat(sys.argv[3])
t0 = time.perf_counter()
run_id = run_assessment(db, year, as_of)
print(json.dumps({"seconds": time.perf_counter() - t0, "run_id": run_id}))
