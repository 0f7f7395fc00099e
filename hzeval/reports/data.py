"""Read side of the reports: polars frames over one *published* run (DESIGN §2, §7).

Report workers and notebooks never open the live warehouse: they open
``published/<run_id>.duckdb`` (see :mod:`hzeval.publish`) read-only. Every function here
takes a :class:`Run` (an open published run) and returns a polars frame or a dict; the
notebooks only call these and display the result — no metric logic lives in a notebook.

Previous-year comparison: a published file holds one run, so the previous year's figures
come from the newest published run of year-1 in the same ``published/`` folder (publish
one with ``hzeval assess --year Y-1``); without one the comparison is simply absent.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from hzeval.errors import RunNotFoundError
from hzeval.metrics.registry import METRICS
from hzeval.publish import published_dir
from hzeval.sqlutil import frame

#: deduction indicators are stored under this pseudo-dimension in ``scores``
DEDUCTIONS = "扣分项"
GRADE_ORDER = ("优秀", "良好", "合格", "不合格")
GATE_CONDITIONS = {
    "G1": "立项时提交数据清单",
    "G2": "数据已编目",
    "G3": "数据已汇聚",
    "G4": "数据已共享",
}
#: evidence rows shown per metric in an agency report (the workbook has them all)
EVIDENCE_ROWS_SHOWN = 15


@cache
def suggestions() -> dict[str, str]:
    """整改建议 per metric id, declared in the metric's SQL header, articles and deadlines from the
    packaged rule profile (a run's own: :func:`_metric_meta`)."""
    from hzeval.rules import suggestion

    return {m: suggestion(m) for m in METRICS}


def rule_article(run: Run, key: str) -> str:
    """The articles the run's rule profiles give a metric id or a provision (``disputes``, ``veto`` ...)."""
    from hzeval.rules import run_metric_articles, run_provision

    if key in METRICS:
        return run_metric_articles(run.con, run.run_id, run.year)[key]
    return run_provision(run.con, run.run_id, run.year, key)


def _metric_meta(run: Run) -> pl.DataFrame:
    """Name, kind, and the articles and 整改建议 of the rule profiles the run applied (``run_rules``)."""
    from hzeval.rules import run_metric_articles, run_suggestions

    arts = run_metric_articles(run.con, run.run_id, run.year)
    sugg = run_suggestions(run.con, run.run_id, run.year)
    return pl.DataFrame({
        "metric_id": list(METRICS),
        "metric_name": [m.name_zh for m in METRICS.values()],
        "article": [arts.get(k, "") for k in METRICS],
        "metric_kind": [m.kind for m in METRICS.values()],
        "suggestion": [sugg.get(k, "") for k in METRICS],
    })


# --------------------------------------------------------------------------- finding runs

def _run_year(path: Path) -> int | None:
    head = path.name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def published_runs(folder: Path, year: int | None = None) -> list[Path]:
    """Published run files in ``folder`` (of ``year``), oldest first (run ids sort by start time)."""
    files = [p for p in folder.glob("*.duckdb") if not p.name.startswith(".")]
    return sorted(p for p in files if year is None or _run_year(p) == year)


def find_published(published: str | os.PathLike | None = None, year: int | None = None, db=None) -> Path:
    """Resolve which published run to read.

    ``published`` may be a run file, a ``published/`` folder, or empty: then ``$HZEVAL_PUBLISHED``
    (file or folder), else the ``published/`` folder beside the warehouse (``--db`` / ``$HZEVAL_DB``).
    In a folder, ``LATEST`` wins when it is of ``year``; otherwise the newest run of ``year``.
    """
    target = Path(published or os.environ.get("HZEVAL_PUBLISHED") or published_dir(db))
    if target.is_file():
        return target
    if not target.is_dir():
        raise RunNotFoundError(f"没有已发布的评估结果：{target}", f"no published runs at {target}", path=str(target))
    pointer = target / "LATEST"
    if pointer.exists():
        latest = target / pointer.read_text(encoding="utf-8").strip()
        if latest.exists() and (year is None or _run_year(latest) == year):
            return latest
    runs = published_runs(target, year)
    if not runs:
        what = f"{year} 年" if year else ""
        raise RunNotFoundError(
            f"{target} 中没有{what}已发布的评估结果，请先运行 hzeval assess --year {year or 'Y'}",
            f"no published {year or ''} run in {target}: run 'hzeval assess --year {year or 'Y'}' first",
            path=str(target),
        )
    return runs[-1]


@dataclass
class Run:
    """One open published run (read-only) and its provenance."""

    path: Path
    con: duckdb.DuckDBPyConnection
    run_id: str
    year: int
    as_of: dt.datetime
    finished_at: dt.datetime
    scheme_name: str
    scheme_sha256: str
    inputs_sha256: str
    package_version: str

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def provenance(self) -> dict:
        return {
            "run_id": self.run_id, "year": self.year, "as_of": f"{self.as_of:%Y-%m-%d %H:%M}",
            "finished_at": f"{self.finished_at:%Y-%m-%d %H:%M}", "scheme_name": self.scheme_name,
            "scheme_sha256": self.scheme_sha256, "inputs_sha256": self.inputs_sha256,
            "package_version": self.package_version, "published_file": self.path.name,
        }


def open_run(published: str | os.PathLike | None = None, year: int | None = None, db=None) -> Run:
    """Open a published run read-only (see :func:`find_published`)."""
    path = find_published(published, year, db)
    config = {"threads": int(os.environ["HZEVAL_READER_THREADS"])} if os.environ.get("HZEVAL_READER_THREADS") else {}
    con = duckdb.connect(str(path), read_only=True, config=config)
    rows = con.execute(
        """select run_id, year, as_of, finished_at, scheme_name, scheme_sha256, inputs_sha256, package_version
           from runs where status = 'finished' order by finished_at desc"""
    ).fetchall()
    if not rows:
        con.close()
        raise RunNotFoundError(f"{path} 中没有已完成的评估运行", f"no finished run in {path}", path=str(path))
    run = Run(path, con, *rows[0])
    if year is not None and run.year != year:
        con.close()
        raise RunNotFoundError(
            f"{path.name} 是 {run.year} 年的评估，不是 {year} 年", f"{path.name} is a {run.year} run, not {year}",
            path=str(path),
        )
    return run


def previous_run(run: Run) -> Run | None:
    """The newest published run of ``run.year - 1`` beside ``run``, or None."""
    runs = published_runs(run.path.parent, run.year - 1)
    return open_run(runs[-1], run.year - 1) if runs else None


# --------------------------------------------------------------------------- agencies

def graded_agencies(run: Run) -> pl.DataFrame:
    """Every graded agency: code, name, level, total, grade, vetoed, rank, peer group and its size."""
    return frame(
        run.con,
        """
        select g.agency_code, coalesce(a.agency_name, g.agency_code) as agency_name, a.level, a.region,
               g.total, g.grade, g.vetoed, g.rank, g.veto_reason,
               coalesce(g.peer_group, case when g.graded = false then '参照执行' end) as peer_group,
               g.grade || case when g.vetoed then '（一票否决）' else '' end as grade_label,
               count(*) over (partition by g.peer_group) as peer_count,
               coalesce(g.graded, true) as graded
        from grades as g left join agencies as a using (agency_code)
        order by coalesce(g.graded, true) desc, g.peer_group desc, g.rank, g.agency_code
        """,
    )


def agency_header(run: Run, agency_code: str) -> dict:
    """The header of one agency's report (raises if the agency is not graded in the run)."""
    rows = graded_agencies(run).filter(pl.col("agency_code") == agency_code)
    if rows.is_empty():
        raise RunNotFoundError(
            f"{run.year} 年评估运行 {run.run_id} 中没有机构 {agency_code} 的评分",
            f"agency {agency_code!r} is not graded in run {run.run_id}",
            agency=agency_code,
        )
    return {**rows.row(0, named=True), **run.provenance()}


#: what a report says for an indicator that is not scored because there was nothing to measure
NA_NOTES = {"collection_list_coverage": "未报送采集清单，本项不计"}
NA_NOTE = "本年度无可评估事项，本项不计"


def indicator_table(run: Run, agency_code: str | None = None) -> pl.DataFrame:
    """One row per scored indicator and deduction: value, points, max, points lost
    (``agency_code=None`` → every graded agency, with its code and name)."""
    scores = frame(
        run.con,
        """
        select s.agency_code, coalesce(a.agency_name, s.agency_code) as agency_name,
               s.dimension, s.indicator as metric_id, s.points, s.max_points, s.basis,
               m.numerator, m.denominator, m.value, m.count
        from scores as s
        left join metric_values as m on m.agency_code = s.agency_code and m.metric_id = s.indicator
        left join agencies as a on a.agency_code = s.agency_code
        where $a is null or s.agency_code = $a
        order by s.agency_code, s.rowid
        """,
        {"a": agency_code},
    )
    deduction = pl.col("dimension") == DEDUCTIONS
    return (
        scores.join(_metric_meta(run), on="metric_id", how="left", maintain_order="left")
        .with_columns(
            applicable=deduction | (pl.col("max_points") > 0),
            lost=pl.when(deduction).then(-pl.col("points")).otherwise(pl.col("max_points") - pl.col("points")),
        )
        .with_columns(
            pl.col("lost").round(4).clip(lower_bound=0.0),
            note=pl.when(pl.col("applicable")).then(None)
            .otherwise(pl.col("metric_id").replace_strict(NA_NOTES, default=NA_NOTE, return_dtype=pl.String)),
        )
        .select("agency_code", "agency_name", "dimension", "metric_id", "metric_name", "article", "metric_kind",
                "numerator", "denominator", "value", "count", "points", "max_points", "lost", "applicable",
                "suggestion", "note", "basis")
    )


def lost_points(run: Run, agency_code: str | None = None) -> pl.DataFrame:
    """Evidence behind every point lost: metric, article, points lost, record, reason, due, done,
    how late, and the metric's rectification suggestion. ``agency_code=None`` → all agencies."""
    lost = (
        indicator_table(run, agency_code)
        .filter(pl.col("lost") > 0.00005)
        .select("agency_code", "metric_id", pl.col("lost").round(2))
    )
    ev = evidence_rows(run, agency_code)
    return ev.join(lost, on=["agency_code", "metric_id"], how="inner", maintain_order="left").sort(
        ["agency_code", "lost", "metric_id"], descending=[False, True, False], maintain_order=True
    )


def lost_by_metric(run: Run, agency_code: str) -> pl.DataFrame:
    """Per metric with points lost: lost, evidence rows, suggestion (ordered by points lost)."""
    ind = indicator_table(run, agency_code).filter(pl.col("lost") > 0.00005)
    ev = lost_points(run, agency_code).group_by("metric_id").agg(evidence_rows=pl.len())
    return (
        ind.join(ev, on="metric_id", how="left")
        .with_columns(pl.col("evidence_rows").fill_null(0))
        .sort("lost", descending=True)
        .select("dimension", "metric_id", "metric_name", "article", "lost", "evidence_rows", "suggestion")
    )


def adjusted_items(run: Run, agency_code: str) -> pl.DataFrame:
    """Evidence items of the agency that an approved adjustment (dispute) excused or corrected."""
    return evidence_rows(run, agency_code).filter(pl.col("adjustment_id").is_not_null())


def evidence_for(run: Run, agency_code: str, metric_id: str, limit: int | None = EVIDENCE_ROWS_SHOWN) -> tuple[pl.DataFrame, int]:
    """The evidence rows of one agency and metric (at most ``limit``) and the total count."""
    ev = lost_points(run, agency_code).filter(pl.col("metric_id") == metric_id)
    return (ev if limit is None else ev.head(limit)), ev.height


# --------------------------------------------------------------------------- dimensions

def dimension_matrix(run: Run) -> pl.DataFrame:
    """Agency × dimension: points, max and rate (points / max) for every graded agency."""
    return frame(
        run.con,
        """
        select s.agency_code, coalesce(a.agency_name, s.agency_code) as agency_name, s.dimension,
               sum(coalesce(s.points, 0)) as points, sum(s.max_points) as max_points,
               case when sum(s.max_points) > 0 then sum(coalesce(s.points, 0)) / sum(s.max_points) end as rate,
               min(s.rowid) as ord
        from scores as s left join agencies as a using (agency_code)
        where s.dimension <> $ded
        group by all
        order by s.agency_code, ord
        """,
        {"ded": DEDUCTIONS},
    ).drop("ord")


def dimensions(run: Run) -> list[str]:
    """The scheme's dimensions in scheme order."""
    rows = run.con.execute(
        "select dimension from scores where dimension <> $d group by dimension order by min(rowid)", {"d": DEDUCTIONS}
    ).fetchall()
    return [r[0] for r in rows]


def dimension_scores(run: Run, agency_code: str) -> pl.DataFrame:
    """One agency's dimension scores with the city average rate (over graded agencies)."""
    m = dimension_matrix(run)
    avg = m.group_by("dimension").agg(city_rate=pl.col("rate").mean())
    out = m.filter(pl.col("agency_code") == agency_code).join(avg, on="dimension", how="left", maintain_order="left")
    return out.select("dimension", "points", "max_points", "rate", "city_rate")


def previous_year(run: Run, agency_code: str) -> pl.DataFrame | None:
    """This year against the newest published run of the year before, or None without one."""
    prev = previous_run(run)
    if prev is None:
        return None
    with prev:
        now_dim = dimension_matrix(run).filter(pl.col("agency_code") == agency_code)
        old_dim = dimension_matrix(prev).filter(pl.col("agency_code") == agency_code)
        now_g = graded_agencies(run).filter(pl.col("agency_code") == agency_code)
        old_g = graded_agencies(prev).filter(pl.col("agency_code") == agency_code)
        if old_g.is_empty():
            return None
    rows = [("总分", now_g["total"][0], old_g["total"][0], now_g["grade"][0], old_g["grade"][0])]
    old_rate = dict(zip(old_dim["dimension"], old_dim["rate"]))
    rows += [(d, r, old_rate.get(d), None, None) for d, r in zip(now_dim["dimension"], now_dim["rate"])]
    out = pl.DataFrame(rows, schema={"item": pl.String, "this_year": pl.Float64, "last_year": pl.Float64,
                                     "grade": pl.String, "last_grade": pl.String}, orient="row")
    return out.with_columns(change=pl.col("this_year") - pl.col("last_year"), last_run_id=pl.lit(prev.run_id))


# --------------------------------------------------------------------------- bulletin

def grade_distribution(run: Run) -> pl.DataFrame:
    """Number of agencies per grade, per peer group and in total."""
    g = graded_agencies(run).filter(pl.col("graded"))
    groups = list(dict.fromkeys(g["peer_group"].drop_nulls()))
    rows = []
    for grade in GRADE_ORDER:
        sel = g.filter(pl.col("grade") == grade)
        rows.append({"grade": grade, **{p: sel.filter(pl.col("peer_group") == p).height for p in groups},
                     "合计": sel.height})
    return pl.DataFrame(rows)


def common_violations(run: Run) -> pl.DataFrame:
    """Metrics ordered by how many agencies lost points on them, with points lost and evidence."""
    ev = frame(
        run.con,
        """
        select indicator as metric_id,
               count(*) filter (where (case when dimension = $ded then -points else max_points - points end) > 0.00005) as agencies,
               sum(case when dimension = $ded then -points else max_points - points end) as points_lost
        from scores group by indicator
        """,
        {"ded": DEDUCTIONS},
    )
    n_ev = frame(run.con, "select metric_id, count(*) as evidence_rows from evidence group by metric_id")
    return (
        ev.filter(pl.col("agencies") > 0)
        .join(n_ev, on="metric_id", how="left")
        .join(_metric_meta(run), on="metric_id", how="left")
        .with_columns(pl.col("points_lost").round(2), pl.col("evidence_rows").fill_null(0))
        .sort(["agencies", "points_lost"], descending=True)
        .select("metric_id", "metric_name", "article", "agencies", "points_lost", "evidence_rows", "suggestion")
    )


def authority_timeliness(run: Run) -> pl.DataFrame:
    """The authority's own measured metrics (e.g. 目录审定及时率); it is not graded."""
    out = frame(
        run.con,
        """
        select a.agency_code, a.agency_name, m.metric_id, m.numerator, m.denominator, m.value, m.count
        from metric_values as m join agencies as a using (agency_code)
        where a.is_authority and m.metric_id = 'catalog_review_timeliness'
        """,
    )
    return out.join(_metric_meta(run), on="metric_id", how="left")


# --------------------------------------------------------------------------- project gates

def project_gates(run: Run) -> pl.DataFrame:
    """Every project with each condition (G1–G4) passed or not, failed resources and the flag."""
    has_projects = run.con.execute(
        "select count(*) from information_schema.tables where table_name = 'projects'"
    ).fetchall()[0][0]
    name = "(select any_value(x.project_name) from projects as x where x.project_id = p.project_id)" if has_projects else "null"
    g = frame(
        run.con,
        f"""
        select p.project_id, {name} as project_name, p.owner_code, coalesce(a.agency_name, p.owner_code) as owner_name,
               p.checked_at, p.passed, coalesce(p.failed_conditions, '') as failed_conditions,
               p.failed_resources, p.accepted_while_failing
        from project_gates as p left join agencies as a on a.agency_code = p.owner_code
        order by p.accepted_while_failing desc, p.passed, p.project_id
        """,
    )
    return g.with_columns(
        [pl.col("failed_conditions").str.contains(k, literal=True).not_().alias(k) for k in GATE_CONDITIONS]
    )


def gate_summary(run: Run) -> dict:
    g = project_gates(run)
    return {
        "projects": g.height,
        "passed": g.filter(pl.col("passed")).height,
        "failed": g.filter(~pl.col("passed")).height,
        "accepted_while_failing": g.filter(pl.col("accepted_while_failing")).height,
        **{f"{k}_failed": g.filter(~pl.col(k)).height for k in GATE_CONDITIONS},
    }


# --------------------------------------------------------------------------- supervision

def supervision_list(run: Run) -> pl.DataFrame:
    """督办清单 from the run's evidence: deadline items still not done at the run's as-of time.

    (The live ``hzeval supervise`` also lists items not yet due; a published run keeps only the
    failed items, so this list holds the overdue ones.)"""
    return evidence_rows(run).filter(pl.col("not_done") & pl.col("due_at").is_not_null()).sort(
        ["wd_late", "agency_code"], descending=[True, False], nulls_last=True
    )


def evidence_rows(run: Run, agency_code: str | None = None) -> pl.DataFrame:
    """Evidence rows of the run (lost points or not) with article, suggestion and lateness in
    working days (``wd_late``) and calendar days (``days_late``; not done → up to the as-of time)."""
    # the article of the rule in force on the item's trigger day (runs made before rule profiles lack it)
    has_article = run.con.execute(
        "select count(*) from information_schema.columns where table_name = 'evidence' and column_name = 'article'"
    ).fetchall()[0][0]
    ev = frame(
        run.con,
        """
        select e.agency_code, coalesce(ag.agency_name, e.agency_code) as agency_name, e.metric_id,
               e.record_table, e.record_id, e.reason, e.due_at, e.done_at, e.done_at is null as not_done,
               e.adjustment_id, {item_article} as item_article,
               case when e.due_at is not null then cd.wd_index - dd.wd_index end as wd_late,
               case when e.due_at is not null then
                   date_diff('day', cast(e.due_at as date), cast(coalesce(e.done_at, r.as_of) as date)) end as days_late
        from evidence as e
        cross join (select max(as_of) as as_of from runs) as r
        left join agencies as ag on ag.agency_code = e.agency_code
        left join calendar as dd on dd.day = cast(e.due_at - interval 1 day as date)
        left join calendar as cd on cd.day = cast(coalesce(e.done_at, r.as_of) as date)
        where $a is null or e.agency_code = $a
        order by e.agency_code, e.metric_id, e.due_at nulls last, e.record_id
        """.replace("{item_article}", "e.article" if has_article else "null::varchar"),
        {"a": agency_code},
    )
    return (
        ev.join(_metric_meta(run), on="metric_id", how="left", maintain_order="left")
        .with_columns(article=pl.coalesce("item_article", "article"))
        .drop("item_article")
    )
