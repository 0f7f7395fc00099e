"""Worker: one `assess --engine spark` run (Spark local mode) on a loaded warehouse; prints JSON.

    python benchmarks/_spark_assess_worker.py DB YEAR AS_OF [MASTER]

Besides the engine's stage times it reports each metric block's Spark job (seconds, plan order)
and the load average when the run starts and ends.
"""

import datetime as dt
import json
import os
import sys
import time

from hzeval.assessment.assess import run_assessment
from hzeval.metrics.spark import SparkEngine, session

db, year, as_of = sys.argv[1], int(sys.argv[2]), dt.datetime.fromisoformat(sys.argv[3])
master = sys.argv[4] if len(sys.argv) > 4 else "local[*]"
load_start = os.getloadavg()
t0 = time.perf_counter()
spark = session(master, conf={"spark.driver.memory": "3g", "spark.ui.enabled": "false"})
started = time.perf_counter() - t0
engine = SparkEngine(spark=spark)
t1 = time.perf_counter()
run_id = run_assessment(db, year, as_of, engine=engine)
seconds = time.perf_counter() - t1
s = engine.stats
print(json.dumps({"session_s": started, "seconds": seconds, "run_id": run_id, "export_s": s.export_s,
                  "spark_s": s.spark_s, "writeback_s": s.writeback_s, "items": s.items, "items_via": s.items_via,
                  "blocks": s.blocks, "load_start": load_start, "load_end": os.getloadavg()}))
spark.stop()
