"""``hzeval explain``: why an agency lost each point, in Chinese, with articles and records.

Reads the run through :mod:`hzeval.runs` (points lost, veto, evidence: the same definitions as
the reports and the dashboard); :func:`hzeval.cli.console.print_explanation` writes it in the vocabulary of
:mod:`hzeval.present`.
"""

from __future__ import annotations

import contextlib

import polars as pl

from hzeval.errors import RunNotFoundError
from hzeval.runs import RunReader, open_run, published_dir
from hzeval.store.warehouse import connect


@contextlib.contextmanager
def open_reader(db, year: int, run_id: str | None = None, reading=None):
    """The run to explain, as a :class:`RunReader`.

    With ``reading`` (the CLI's :func:`hzeval.cli.requires.reading`): on the connection it gives — the
    warehouse when free, else the published run (saying so on stderr) or, with nothing published,
    after waiting for the writer. Without it: the run's published copy
    (``published/<run_id>.duckdb``, or the newest of ``year``) when there is one, else the
    warehouse opened read-only."""
    if reading is not None:
        with reading(db, year, run_id) as con:
            yield RunReader(con, run_id=run_id, year=year)
        return
    folder = published_dir(db)
    safe = run_id is not None and run_id.replace("-", "").replace("_", "").isalnum()  # a name, not a path
    target = folder / f"{run_id}.duckdb" if safe else None
    reader = None
    if target is not None and target.exists():
        reader = open_run(target, year)
    elif run_id is None and folder.is_dir():
        with contextlib.suppress(RunNotFoundError):
            reader = open_run(folder, year)
    if reader is not None:
        with reader:
            yield reader
        return
    with connect(db, read_only=True) as con:
        yield RunReader(con, run_id=run_id, year=year)


def explanation(run: RunReader, agency: str, metric: str | None = None) -> dict:
    """Header (grade, veto), indicator rows (value, points, max, lost) and evidence per metric."""
    head = run.agency_header(agency)
    rows = run.scores(agency)
    evidence = run.evidence(agency, metric)
    if metric:
        rows = rows.filter(pl.col("metric_id") == metric)
    return {"head": head, "rows": rows, "evidence": evidence, "veto": run.vetoes(agency),
            "deadlines": run.deadline_texts(), "disputes": run.rule_article("disputes")}
