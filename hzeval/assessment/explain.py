"""``hzeval explain``: why an agency lost each point, in Chinese, with articles and records.

Data only: :func:`explanation` is given the run as a :class:`hzeval.runs.RunReader` by its caller
(the CLI opens it with :func:`hzeval.runs.open_reader`), so that points lost, the veto and the
evidence have the same definitions as in the reports and the dashboard; nothing here imports the
read layer above it. :func:`hzeval.cli.console.print_explanation` writes it out.
"""

from __future__ import annotations

import polars as pl


def explanation(run, agency: str, metric: str | None = None) -> dict:
    """Header (grade, veto), indicator rows (value, target, floor, max with its re-weighting, points,
    lost; a standing zero's sentence in ``note``), the total's arithmetic (``line``: "Σ得分 − 扣分 =
    总分") and evidence per metric, from ``run`` (a :class:`hzeval.runs.RunReader`)."""
    head = run.agency_header(agency)
    rows = run.scores(agency)
    evidence = run.evidence(agency, metric)
    if metric:
        rows = rows.filter(pl.col("metric_id") == metric)
    return {
        "head": head,
        "rows": rows,
        "evidence": evidence,
        "veto": run.vetoes(agency),
        "line": run.score_line(agency),
        "deadlines": run.deadline_texts(),
        "adjustment_basis": run.adjustment_basis(),
        # per adjustment citing 第四十六条 (its excuse records the conditions); the others cite adjustment_basis
        "adjustment_cites": run.adjustment_cites(),
    }
