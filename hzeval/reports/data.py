"""What the report notebooks and the workbook show, shaped from :mod:`hzeval.runs` (DESIGN §2, §7).

No SQL here: every figure comes from a :class:`~hzeval.runs.RunReader` over a published run
(``published/<run_id>.duckdb``); this module only groups, orders and picks rows for a report.
The notebooks call these functions and display the result — no metric logic lives in a notebook.

Previous-year comparison (较上年, issue 24 item 7): a published file holds one run, so the previous
year's figures come from the run of year−1 in the same ``published/`` folder that the one resolver
reads, and only when it is official (:func:`hzeval.runs.previous_official`); without one the bulletin
and the agency report say 上年无正式结果 (:data:`hzeval.present.NO_OFFICIAL_PREV`).
"""

from __future__ import annotations

import polars as pl

from hzeval import present
from hzeval.errors import RunNotFoundError  # noqa: F401 - re-exported
from hzeval.runs import (  # noqa: F401 - re-exported for the notebooks and the renderer
    DEDUCTIONS,
    GATE_CONDITIONS,
    GRADE_ORDER,
    LOST_EPS,
    RunReader,
    find_published,
    open_run,
    published_runs,
    suggestions,
)

#: an open published run (the read layer's reader)
Run = RunReader
#: evidence rows shown per metric in an agency report (the workbook has them all)
EVIDENCE_ROWS_SHOWN = 15


def rule_article(run: RunReader, key: str) -> str:
    """The articles the run's rule profiles give a metric id or a provision (``disputes``, ``veto`` …)."""
    return run.rule_article(key)


def adjustment_basis(run: RunReader) -> str:
    """What adjusted items cite: the run's scheme (an agency's challenge of its own items is the scheme's
    procedure, not 第四十五条)."""
    return run.adjustment_basis()


def previous_run(run: RunReader) -> RunReader | None:
    return run.previous()


def year_changes(run: RunReader) -> pl.DataFrame:
    """较上年 per agency against the previous year's official run (:func:`hzeval.runs.year_change`)."""
    return run.year_changes()


def previous_note(run: RunReader) -> str:
    """Which previous-year run 较上年 compares with, or 上年无正式结果 and why."""
    state, run_id = run.previous_state()
    return present.previous_note(run.year, state, run_id)


def graded_agencies(run: RunReader) -> pl.DataFrame:
    return run.grades()


def graded_units(run: RunReader) -> int:
    """参评单位: graded units only (参照执行 units are scored for reference, not graded)."""
    return run.graded_units()


def agency_header(run: RunReader, agency_code: str) -> dict:
    return run.agency_header(agency_code)


def indicator_table(run: RunReader, agency_code: str | None = None) -> pl.DataFrame:
    return run.scores(agency_code)


def score_line(run: RunReader, agency_code: str) -> str | None:
    """ "Σ得分 X − 扣分 Y = 总分 Z" of one agency (:meth:`RunReader.arithmetic`)."""
    return run.score_line(agency_code)


def arithmetic(run: RunReader, agency_code: str | None = None) -> pl.DataFrame:
    """Per agency Σ indicator points, points deducted, total and the line (:meth:`RunReader.arithmetic`)."""
    return run.arithmetic(agency_code)


def evidence_rows(run: RunReader, agency_code: str | None = None) -> pl.DataFrame:
    return run.evidence(agency_code)


def lost_points(run: RunReader, agency_code: str | None = None) -> pl.DataFrame:
    return run.lost_evidence(agency_code)


def lost_by_metric(run: RunReader, agency_code: str) -> pl.DataFrame:
    return run.lost_by_metric(agency_code)


def evidence_columns(ev: pl.DataFrame, metric_id: str) -> dict[str, str]:
    """The columns (and headings) of one metric's evidence table in the agency report: 截止时间, 办结时间
    ("未办结" when not done) and 逾期工作日 for a metric whose items have deadlines; otherwise the
    record's own time under its own name (发生时间 for an incident …), never 办结 (issue 24 item 6)."""
    cols = {"record_table": "来源表", "record_id": "事项编号", "article": "条款", "reason": "问题"}
    if ev["due_at"].is_not_null().any():
        return {**cols, "due_at": "截止时间", "done_text": present.DONE_LABEL, "wd_late": "逾期工作日"}
    if ev["done_at"].is_not_null().any():
        return {**cols, "done_at": present.time_label(metric_id, False)}
    return cols


def adjusted_items(run: RunReader, agency_code: str) -> pl.DataFrame:
    """Evidence items of the agency that an approved adjustment (dispute) excused or corrected, each with
    what it cites (``basis``: 第四十六条 only where the excuse records its conditions, else the scheme)."""
    adj = run.evidence(agency_code).filter(pl.col("adjustment_id").is_not_null())
    cites, scheme = run.adjustment_cites(), run.adjustment_basis()
    return adj.with_columns(basis=pl.col("adjustment_id").replace_strict(cites, default=scheme, return_dtype=pl.String))


def evidence_for(
    run: RunReader, agency_code: str, metric_id: str, limit: int | None = EVIDENCE_ROWS_SHOWN
) -> tuple[pl.DataFrame, int]:
    """The evidence rows of one agency and metric with points lost (at most ``limit``) and the total."""
    ev = run.lost_evidence(agency_code).filter(pl.col("metric_id") == metric_id)
    return (ev if limit is None else ev.head(limit)), ev.height


def dimension_matrix(run: RunReader) -> pl.DataFrame:
    return run.dimension_matrix()


def dimensions(run: RunReader) -> list[str]:
    return run.dimensions()


def dimension_scores(run: RunReader, agency_code: str) -> pl.DataFrame:
    return run.dimension_scores(agency_code)


def previous_year(run: RunReader, agency_code: str) -> pl.DataFrame | None:
    return run.previous_year(agency_code)


def heat_rows(run: RunReader) -> tuple[list[str], list[str], list[list[float | None]]]:
    """The heat map of the bulletin and the dashboard: agencies ordered by total (best first),
    dimensions in scheme order, rates 0..1 (None = nothing applicable)."""
    g = run.grades().sort(["total", "agency_code"], descending=[True, False])
    m = run.dimension_matrix()
    dims = run.dimensions()
    lookup = {(r["agency_code"], r["dimension"]): r["rate"] for r in m.iter_rows(named=True)}
    codes = g["agency_code"].to_list()
    return codes, dims, [[lookup.get((c, d)) for d in dims] for c in codes]


def grade_distribution(run: RunReader) -> pl.DataFrame:
    """Number of agencies per grade, per peer group and in total (参照执行 units are not graded)."""
    g = run.grades().filter(pl.col("graded"))
    groups = list(dict.fromkeys(g["peer_group"].drop_nulls()))
    rows = []
    for grade in GRADE_ORDER:
        sel = g.filter(pl.col("grade") == grade)
        rows.append(
            {"grade": grade, **{p: sel.filter(pl.col("peer_group") == p).height for p in groups}, "合计": sel.height}
        )
    return pl.DataFrame(rows)


def common_violations(run: RunReader) -> pl.DataFrame:
    """Metrics ordered by how many agencies lost points on them, with points lost and evidence."""
    s = run.scores()
    per = s.group_by("metric_id").agg(
        agencies=(pl.col("lost") > LOST_EPS).sum(), points_lost=pl.col("lost").sum().round(2)
    )
    n_ev = run.evidence().filter(~pl.col("exempt")).group_by("metric_id").agg(evidence_rows=pl.len())
    return (
        per.filter(pl.col("agencies") > 0)
        .join(n_ev, on="metric_id", how="left")
        .join(run.metric_meta().rename({"metric_article": "article"}), on="metric_id", how="left")
        .with_columns(pl.col("evidence_rows").fill_null(0))
        .sort(["agencies", "points_lost", "metric_id"], descending=[True, True, False])
        .select("metric_id", "metric_name", "article", "agencies", "points_lost", "evidence_rows", "suggestion")
    )


def authority_timeliness(run: RunReader) -> pl.DataFrame:
    """The authority's own measured metrics (目录审定及时率, 安全记录, 开放计划 …), graded or not."""
    return run.authority_metrics()


def project_gates(run: RunReader) -> pl.DataFrame:
    return run.gates()


def gate_summary(run: RunReader) -> dict:
    return run.gate_summary()


def supervision_list(run: RunReader) -> pl.DataFrame:
    """督办清单 at the run's as-of time: the very list ``hzeval supervise --as-of <as_of>`` prints
    (every open item, every year, overdue first). Empty when the file lacks the input tables."""
    items = run.supervision()
    if items is None:
        return pl.DataFrame(
            schema={
                "category": pl.String,
                "article": pl.String,
                "metric_id": pl.String,
                "agency_code": pl.String,
                "agency_name": pl.String,
                "record_table": pl.String,
                "record_id": pl.String,
                "due_date": pl.Date,
                "due_at": pl.Datetime("us"),
                "state": pl.String,
                "wd_overdue": pl.Int64,
                "wd_left": pl.Int64,
            }
        )
    return items
