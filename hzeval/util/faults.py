"""Fault-injection points for the crash-safety tests (tests/test_crash.py).

``checkpoint(name)`` does nothing unless the environment variable ``HZEVAL_FAULT`` names
that point: then it writes ``HZEVAL_PAUSED <name>`` to stderr and sleeps, so a test can
``kill -9`` the process at a known place inside a transaction. Production runs never set it.
"""

from __future__ import annotations

import os
import sys
import time


def checkpoint(name: str) -> None:
    if os.environ.get("HZEVAL_FAULT") != name:
        return
    sys.stderr.write(f"HZEVAL_PAUSED {name}\n")
    sys.stderr.flush()
    time.sleep(3600)
