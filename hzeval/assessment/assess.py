"""``hzeval assess``: one assessment run = metrics + scores + grades + gates, in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

import polars as pl

from hzeval.assessment.adjust import active as active_adjustments
from hzeval.assessment.adjust import compute_adjusted_items
from hzeval.assessment.scheme import Scheme, default_scheme_path, scheme_for
from hzeval.assessment.scoring import AgencyInfo, Incident, score_all
from hzeval.contract import TABLES, TIME_COLUMN
from hzeval.errors import AssessRefused
from hzeval.metrics import VETO_METRIC, Window, compute_items, roll_up
from hzeval.store.published import publish_run
from hzeval.store.warehouse import connect
from hzeval.util import faults
from hzeval.util.version import code_version

log = logging.getLogger(__name__)


def inputs_fingerprint(con) -> tuple[str, list[dict]]:
    """sha256 over the loaded files (table, sha256) and the list itself."""
    rows = con.execute("select table_name, sha256, file, rows_loaded from loads order by table_name, sha256").fetchall()
    listing = [{"table": t, "sha256": s, "file": f, "rows": n} for t, s, f, n in rows]
    digest = hashlib.sha256("\n".join(f"{t}:{s}" for t, s, _, _ in rows).encode()).hexdigest()
    return digest, listing


def new_run_id(year: int, started: dt.datetime) -> str:
    return f"{year}-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def counted_incidents(con) -> dict[str, list[Incident]]:
    """The year's incidents that count, per agency: the ``VETO_METRIC`` (security_incidents) items just computed
    (so the window and as-of are the metric's own) minus those excused through an approved
    adjustment (容错免责) — an excused incident neither vetoes nor deducts."""
    out: dict[str, list[Incident]] = {}
    for code, incident_id, kind, occurred_at, stage in con.execute(
        """
        select i.agency_code, i.record_id, n.kind, n.occurred_at, n.stage
        from metric_items as i
        join incidents as n on n.incident_id = i.record_id
        where i.metric_id = $veto and i.status <> 'excused'
        order by i.agency_code, n.occurred_at, i.record_id
        """,
        {"veto": VETO_METRIC},
    ).fetchall():
        out.setdefault(code, []).append(Incident(kind, incident_id, occurred_at, stage))
    return out


def record_freshness(con, run_id: str, as_of: dt.datetime, stale_after: int) -> None:
    """How fresh each input table is for this run (DESIGN §7a), into ``run_freshness``: every contract
    table's rows; for a table with an event time column (:attr:`hzeval.contract.Table.time_column`) its
    newest record at or before ``as_of`` (what the metrics could see) and, when the table expects recent
    records, whether that is older than ``stale_after`` days before ``as_of`` (or there is none)."""
    edge = as_of - dt.timedelta(days=stale_after)
    parts = []
    for t in TABLES.values():  # names from the contract, never from input
        tc = t.time_column
        newest = f"max({tc}) filter (where {tc} <= $as_of)" if tc else "null"
        recent = "true" if tc and t.expect_recent else "false"
        stale = f"coalesce({newest} < $edge, true)" if recent == "true" else "false"  # none at all: stale
        column = f"'{tc}'" if tc else "null"
        parts.append(
            f"select '{t.name}' as table_name, {column} as time_column, count(*) as rows, "
            f"cast({newest} as timestamp) as newest_at, {recent} as expect_recent, {stale} as stale from main.{t.name}"
        )
    con.execute(
        f"""insert into run_freshness
                (run_id, table_name, time_column, rows, newest_at, expect_recent, stale, stale_after)
            select $run_id, table_name, time_column, rows, newest_at, expect_recent, stale, $days
            from ({" union all ".join(parts)})""",
        {"run_id": run_id, "as_of": as_of, "edge": edge, "days": stale_after},
    )


def assess_in(con, year: int, as_of: dt.datetime, scheme: Scheme, run_id: str | None = None, engine=None) -> str:
    """Compute and write one run with ``con`` (the caller owns the transaction).

    ``engine``: None or ``"duckdb"`` (the warehouse computes the metric items), or an object
    with ``name`` and ``compute_items`` (e.g. :class:`hzeval.metrics.spark.SparkEngine`)."""
    started = dt.datetime.now()  # full precision: runs of the same second stay ordered
    run_id = run_id or new_run_id(year, started)
    window = Window.for_year(year, as_of, scheme)
    adjustments = active_adjustments(con, started)
    engine_name = "duckdb" if engine in (None, "duckdb") else engine.name
    compute_adjusted_items(con, window, adjustments, compute_items if engine_name == "duckdb" else engine.compute_items)
    values, evidence = roll_up(con, run_id, year)

    agencies = [
        AgencyInfo(code, level, bool(auth), agency_type)
        for code, level, auth, agency_type in con.execute(
            "select agency_code, level, coalesce(is_authority, false), agency_type from agencies order by agency_code"
        ).fetchall()
    ]
    vals = {(r["agency_code"], r["metric_id"]): r["value"] for r in values.iter_rows(named=True)}
    counts = {(r["agency_code"], r["metric_id"]): r["count"] for r in values.iter_rows(named=True)}
    scores, grades = score_all(scheme, agencies, vals, counts, counted_incidents(con))

    scores_df = pl.DataFrame(
        [(run_id, year, s.agency_code, s.dimension, s.indicator, s.points, s.max_points, s.basis) for s in scores],
        schema={
            "run_id": pl.String,
            "year": pl.Int32,
            "agency_code": pl.String,
            "dimension": pl.String,
            "indicator": pl.String,
            "points": pl.Float64,
            "max_points": pl.Float64,
            "basis": pl.String,
        },
        orient="row",
    )
    grades_df = pl.DataFrame(
        [
            (run_id, year, g.agency_code, g.total, g.grade, g.vetoed, g.rank, g.peer_group, g.veto_reason, g.graded)
            for g in grades
        ],
        schema={
            "run_id": pl.String,
            "year": pl.Int32,
            "agency_code": pl.String,
            "total": pl.Float64,
            "grade": pl.String,
            "vetoed": pl.Boolean,
            "rank": pl.Int32,
            "peer_group": pl.String,
            "veto_reason": pl.String,
            "graded": pl.Boolean,
        },
        orient="row",
    )
    digest, listing = inputs_fingerprint(con)
    for name, frame in (
        ("metric_values", values),
        ("evidence", evidence),
        ("scores", scores_df),
        ("grades", grades_df),
    ):
        con.register("_frame", frame.to_arrow())
        cols = ", ".join(frame.columns)
        con.execute(f"insert into {name} ({cols}) select {cols} from _frame")
        con.unregister("_frame")
    con.execute(
        """
        insert into project_gates
        select $run_id, project_id, owner_code, failed_conditions = '', nullif(failed_conditions, ''),
               accepted_at is not null and failed_conditions <> '', nullif(failed_resources, ''), checked_at
        from int_project_gates
        """,
        {"run_id": run_id},
    )
    if adjustments.height:
        con.register("_adj_ids", adjustments.select("adjustment_id").to_arrow())
        con.execute("insert into run_adjustments select $run_id, adjustment_id from _adj_ids", {"run_id": run_id})
        con.unregister("_adj_ids")
    record_freshness(con, run_id, as_of, scheme.stale_after)
    rules = window.rules.run_rows(run_id)
    con.register("_rules", rules.to_arrow())
    con.execute(f"insert into run_rules ({', '.join(rules.columns)}) select * from _rules")
    con.unregister("_rules")
    con.execute(
        """
        insert into runs (run_id, started_at, finished_at, year, as_of, scheme_sha256, inputs_sha256,
                          package_version, status, scheme_name, scheme_file, inputs, rules_sha256, engine)
        values ($run_id, $started, $finished, $year, $as_of, $scheme_sha, $inputs_sha,
                $version, 'finished', $scheme_name, $scheme_file, $inputs, $rules_sha, $engine)
        """,
        {
            "run_id": run_id,
            "started": started,
            "finished": dt.datetime.now(),
            "year": year,
            "as_of": as_of,
            "scheme_sha": scheme.sha256,
            "inputs_sha": digest,
            "version": code_version(),
            "scheme_name": scheme.name,
            "scheme_file": scheme.source,
            "inputs": json.dumps(listing, ensure_ascii=False),
            "rules_sha": window.rules.sha256,
            "engine": engine_name,
        },
    )
    log.info(
        "run %s: %d metric values, %d evidence rows, %d graded",
        run_id,
        values.height,
        evidence.height,
        grades_df.height,
    )
    return run_id


def _now() -> dt.datetime:
    """The clock the as-of guard compares with (tests set it)."""
    return dt.datetime.now()


def refuse_request(year: int, as_of: dt.datetime, scheme_path=None) -> None:
    """What ``assess`` refuses before it opens the warehouse (DESIGN §7a): a year without a packaged
    scheme of its own unless ``scheme_path`` is given, an as-of before the year begins or later than
    now. Raises :class:`AssessRefused`."""
    if scheme_path is None and not default_scheme_path(year).is_file():
        packaged = "、".join(
            sorted(p.stem for p in default_scheme_path(year).parent.glob("*.yaml") if p.stem.isdigit())
        )
        packaged_en = packaged.replace("、", ", ")
        raise AssessRefused(
            f"没有 {year} 年度的评分方案（已有：{packaged}）：请核对年度，或用 --scheme 指定方案文件",
            f"no packaged scheme for {year} (there are: {packaged_en}): check the year, or give --scheme",
            year=year,
        )
    begins = dt.datetime(year, 1, 1)
    if as_of < begins:
        raise AssessRefused(
            f"评估截至时间 {as_of:%Y-%m-%d %H:%M} 早于 {year} 年度开始（{begins:%Y-%m-%d}）：请核对 --year 与 --as-of",
            f"as-of {as_of:%Y-%m-%d %H:%M} is before {year} begins ({begins:%Y-%m-%d}): check --year and --as-of",
            year=year,
        )
    now = _now()
    if as_of > now:
        raise AssessRefused(
            f"评估截至时间 {as_of:%Y-%m-%d %H:%M} 晚于当前时间 {now:%Y-%m-%d %H:%M}：不能评估尚未发生的时间",
            f"as-of {as_of:%Y-%m-%d %H:%M} is later than now ({now:%Y-%m-%d %H:%M}): cannot assess the future",
            year=year,
        )


def refuse_empty_year(con, year: int) -> None:
    """Refuse a year in which no loaded table has an event (a mistyped year would grade every agency
    不合格 on nothing): the time column of every input table that has one (:data:`TIME_COLUMN`)."""
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    tables = [t for t in TIME_COLUMN if t in TABLES]
    # names from the constants, never from input; one scan stops at the first row found
    probe = " union all ".join(
        f"(select 1 from main.{t} where {TIME_COLUMN[t]} >= $s and {TIME_COLUMN[t]} < $e limit 1)" for t in tables
    )
    if not con.execute(f"select count(*) from ({probe})", {"s": start, "e": end}).fetchall()[0][0]:
        raise AssessRefused(
            f"已加载的数据中没有 {year} 年的任何记录：请核对年度，或先用 hzeval load 加载该年度的数据",
            f"no loaded table has an event in {year}: check the year, or load that year's data first",
            year=year,
        )


def run_assessment(db, year: int, as_of: dt.datetime, scheme_path=None, engine=None) -> str:
    """Assess ``year`` as of ``as_of`` and commit the run atomically; returns the run id.

    Refused (:class:`AssessRefused`, nothing written or published) as :func:`refuse_request` and
    :func:`refuse_empty_year` say."""
    refuse_request(year, as_of, scheme_path)
    scheme = scheme_for(year, scheme_path)
    with connect(db, create=False) as con:
        refuse_empty_year(con, year)
        con.execute("begin transaction")
        try:
            run_id = assess_in(con, year, as_of, scheme, engine=engine)
            faults.checkpoint("assess-before-commit")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        publish_run(con, run_id, db)
    return run_id


@dataclass(frozen=True)
class Ranking:
    """What ``assess`` shows of a run (:func:`hzeval.cli.console.print_ranking`)."""

    run_id: str
    year: int
    as_of: dt.datetime
    scheme_name: str
    #: graded units, by peer group (市级 first), rank, code: peer_group, rank, agency_code, agency_name,
    #: total, grade, vetoed
    rows: list[dict]
    #: (grade, units), best grade first
    grades: list[tuple[str, int]]
    #: units with points but no grade (参照执行): (code, name, total)
    ungraded: list[tuple[str, str | None, float]]


def ranking(db, run_id: str) -> Ranking:
    """The ranking of a finished run, read from the warehouse."""
    with connect(db, read_only=True) as con:
        run = con.execute("select year, as_of, scheme_name from runs where run_id = $r", {"r": run_id}).fetchall()[0]
        cur = con.execute(
            """
            select g.peer_group, g.rank, g.agency_code, a.agency_name, g.total, g.grade, g.vetoed
            from grades as g left join agencies as a using (agency_code)
            where g.run_id = $r and coalesce(g.graded, true)
            order by g.peer_group desc, g.rank, g.agency_code
            """,
            {"r": run_id},
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        dist = con.execute(
            "select grade, count(*) from grades where run_id = $r and coalesce(graded, true) group by grade "
            "order by min(total) desc",
            {"r": run_id},
        ).fetchall()
        ungraded = con.execute(
            """
            select g.agency_code, a.agency_name, g.total from grades as g left join agencies as a using (agency_code)
            where g.run_id = $r and not coalesce(g.graded, true) order by g.agency_code
            """,
            {"r": run_id},
        ).fetchall()
    return Ranking(run_id, run[0], run[1], run[2], rows, [tuple(d) for d in dist], [tuple(u) for u in ungraded])
