"""The scheduled run's log (DESIGN §10): one JSON object a line, reopened when logrotate moves it."""

from __future__ import annotations

import json
import logging

from hzeval.scheduled import _file_logging


def test_json_lines_survive_a_logrotate_move(tmp_path):
    path = tmp_path / "logs" / "hzeval-run.log"
    handler = _file_logging(path)
    log = logging.getLogger("hzeval.run")
    try:
        log.info("load: %d files", 3, extra={"step": "load", "year": 2025, "rows": 44985, "rejected": 7})
        path.rename(path.with_suffix(".log.1"))  # what logrotate does (without copytruncate)
        log.info("run done", extra={"step": "done", "run_id": "2025-x", "seconds": 1.5, "outcome": "ok"})
    finally:
        logging.getLogger("hzeval").removeHandler(handler)
        logging.getLogger("hzeval").propagate = True
        handler.close()
    old = [json.loads(line) for line in path.with_suffix(".log.1").read_text(encoding="utf-8").splitlines()]
    new = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["step"] for r in old] == ["load"] and old[0]["rows"] == 44985 and old[0]["message"] == "load: 3 files"
    assert new == [{**new[0], "step": "done", "run_id": "2025-x", "seconds": 1.5, "outcome": "ok", "level": "INFO"}]
    assert new[0]["logger"] == "hzeval.run" and "T" in new[0]["time"]
