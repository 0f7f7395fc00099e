"""Notebook jobs: what every surface hands to the renderer (:mod:`hzeval.reports.render`).

A surface plans its papermill jobs (the reports, the offline dashboards, the staff notebooks'
gallery) as :class:`Job` values; :mod:`hzeval.services` gathers them and runs them in one pool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: the private kernelspec report workers run (this very interpreter)
KERNEL = "hzeval-python3"


def notebooks_dir() -> Path:
    """The template notebooks: ``$HZEVAL_NOTEBOOKS``, else ``notebooks/`` of the source tree."""
    env = os.environ.get("HZEVAL_NOTEBOOKS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class Job:
    kind: str  # agency | bulletin | gates | dashboard | notebook
    notebook: str
    html: str
    title: str
    parameters: dict
    pdf: bool = False
    agency_code: str | None = None
    #: the notebook writes ``html`` itself (atomically); nothing to convert
    writes_itself: bool = False
