"""One HTML report stage in this process, for ``bench_warm_kernels.py``: ``<db> <out> warm|cold [agency]``.

``cold`` is the baseline: the same render with a kernel started for every job (``run_jobs(warm=False)``)."""

import functools
import sys
from pathlib import Path

from hzeval.reports import render
from hzeval.services import render_reports


def main() -> None:  # the pool's workers import this file again (forkserver): nothing at import
    db, out, mode = sys.argv[1:4]
    agency = sys.argv[4] if len(sys.argv) > 4 else None
    if mode == "cold":
        render.run_jobs = functools.partial(render.run_jobs, warm=False)
    result = render_reports(2025, out=Path(out), formats=("html",), agency=agency, db=db)
    if result.failures:
        sys.exit(f"failed: {[(r.job.html, r.error) for r in result.failures]}")
    print(len(result.results))


if __name__ == "__main__":
    main()
