"""Notebook jobs: what every surface hands to the renderer (:mod:`hzeval.reports.render`).

A surface plans its papermill jobs (the reports, the offline dashboards, the staff notebooks'
gallery) as :class:`Job` values; :mod:`hzeval.services` gathers them and runs them in one pool.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: the private kernelspec report workers run (this very interpreter)
KERNEL = "hzeval-python3"


#: where an installed wheel puts the notebooks (pyproject's data-files)
INSTALLED = Path(sys.prefix) / "share" / "hzeval" / "notebooks"


def notebooks_dir() -> Path:
    """The template notebooks: ``$HZEVAL_NOTEBOOKS``, else ``notebooks/`` of the source tree (a checkout
    or an editable install), else the installed wheel's copy."""
    env = os.environ.get("HZEVAL_NOTEBOOKS")
    if env:
        return Path(env)
    source = Path(__file__).resolve().parents[2] / "notebooks"
    return source if (source / "agency_report.ipynb").is_file() else INSTALLED


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
