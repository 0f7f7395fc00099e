"""``python -m hzeval.metrics docs/metrics.md``: regenerate the metric table of docs/metrics.md."""

import sys

from hzeval.metrics.registry import main

raise SystemExit(main(sys.argv[1:]))
