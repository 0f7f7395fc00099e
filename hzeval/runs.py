"""The one read layer over a finished run (DESIGN §2, §7).

Reports, the workbook, the dashboard store, ``explain``, the 督办 exports and the staff
notebooks read a run only through :class:`RunReader`; nothing else queries the run tables
(``runs``, ``grades``, ``scores``, ``metric_values``, ``evidence``, ``project_gates``). What the
reader returns is data (polars frames with English column names); how it reads is
:mod:`hzeval.present`.

One definition of each thing a surface shows:

- **points lost** (``lost``): for an indicator, ``max_points − points``; for a deduction
  (``max_points = 0``, negative points), ``−points``; never below 0 (:data:`LOST_SQL`);
- **the veto**: the incident (id, date, kind) and the scheme's basis, from ``grades.veto_reason``
  when the run has it, else from the run's evidence of ``security_incidents`` (:meth:`RunReader.vetoes`);
- **the arithmetic of a score** (DESIGN §7a): per indicator its value, the scheme's target (达标值)
  and floor (起评值), its 满分 after re-weighting beside the scheme's (``nominal_max``) with the
  indicators whose exclusion moved it (``reweighted_by``); per deduction count × per, cap; per agency
  Σ points − deductions = total (:meth:`RunReader.arithmetic`). Targets, floors, per and cap come
  from the run's scheme (:meth:`RunReader.scheme`);
- **a standing zero**: a standing obligation with nothing to count (0/0) scores 0 and says why and
  what to do (the metric's declared ``empty`` sentence, in ``note``; ``standing_zero`` true);
- **lateness**: working days from the deadline to done (or to the run's as-of) from the calendar;
- **the 督办 list**: :func:`hzeval.assessment.supervise.supervision_items` at the run's as-of time, the very
  list ``hzeval supervise --as-of <as_of>`` prints.

Access control lives here: a reader bound to ``scope`` (an agency code; ``None`` = everything)
filters every agency-bearing query to that agency in SQL; asking for another agency yields no
rows (:func:`agency_param`).

Columns other parts of the project add over time (``grades.veto_reason``, ``grades.graded``,
``scores.basis``, ``evidence.rule_profile`` / ``article``) are selected when the run file has
them, so one reader reads old and new files.

A reader works on a published copy (``published/<run_id>.duckdb``, one run) — the normal case —
or on the warehouse with a ``run_id`` (every run-table query is filtered by it).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import os
import re
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hzeval.assessment.gate import GATE_CONDITIONS
from hzeval.assessment.scheme import Scheme, latest_scheme_for, load_scheme
from hzeval.assessment.scoring import LOST_EPS, AgencyInfo
from hzeval.assessment.supervise import supervision_items
from hzeval.errors import RunNotFoundError, SchemeError
from hzeval.metrics.profiles import run_metric_articles, run_suggestions, suggestion
from hzeval.metrics.registry import METRICS, STANDING, VETO_METRIC
from hzeval.present import (
    ABSENT_INPUT_NOTES,
    DONE_LABEL,
    NA_NOTE,
    NA_NOTES,
    NO_OFFICIAL_PREV,
    NOT_APPLICABLE,
    NOT_APPLICABLE_NOW,
    NOT_APPLICABLE_PREV,
    NOT_FAILING_TABLES,
    NOT_IN_PREV,
    RECORD_TIME,
    RECORD_TIME_DEFAULT,
    actual,
    deduction_text,
    freshness_line,
    grade_change,
    max_points_text,
    publication_zh,
    rank_change,
    resources_named,
    score_change,
    score_line,
    stale_text,
    table_zh,
    when_expr,
)
from hzeval.present import adjustment_basis as _adjustment_basis
from hzeval.present import tolerance_basis as _tolerance_basis
from hzeval.rules import run_deadline_texts, run_provision, run_provision_text
from hzeval.store.calendar import MACROS
from hzeval.store.published import (
    NOTIFIED_FILE,
    OFFICIAL,
    STATE,
    TRIAL,
    WITHDRAWN,
    find_published,
    publication_of,
    published_dir,
    published_runs,
    resolve_run,
    run_year,
)
from hzeval.store.warehouse import connect
from hzeval.util.frame import floats, frame

__all__ = [
    "DEDUCTIONS",
    "DENIED",
    "EXCUSED_SQL",
    "GATE_CONDITIONS",
    "GRADE_ORDER",
    "LOST_EPS",
    "LOST_SQL",
    "NOT_GRADED_GROUP",
    "VETO_METRIC",
    "RunReader",
    "agency_param",
    "connect_published",
    "find_published",
    "open_reader",
    "open_run",
    "previous_official",
    "published_dir",
    "published_runs",
    "run_year",
    "suggestions",
    "with_notified",
    "year_change",
    "dimension_change",
]

#: deduction indicators are stored under this pseudo-dimension in ``scores`` (scheme default)
DEDUCTIONS = "扣分项"
GRADE_ORDER = ("优秀", "良好", "合格", "不合格")
#: matches no agency code: what a query gets when the user may not see the agency asked for
DENIED = "\x00denied"
#: the one definition of points lost, over ``scores as s`` (rounded to 4 places, never negative)
LOST_SQL = (
    "greatest(round(case when s.max_points > 0 then s.max_points - coalesce(s.points, 0) "
    "else -least(coalesce(s.points, 0), 0) end, 4), 0)"
)
#: an evidence row (``evidence as e``) excused by an approved adjustment (容错免责): an adjustment
#: that is not a correction (a correction's reason says 按更正记录计算) — it neither vetoes nor deducts
EXCUSED_SQL = "(e.adjustment_id is not null and not coalesce(e.reason like '%按更正记录计算%', false))"
#: issue 30 item 7: the evidence reasons the metric SQL writes that name other agencies, and the
#: agency-neutral text a reader scoped to one agency (its report, its offline dashboard, the
#: dashboard of role agency:CODE) shows instead; the authority's files keep the names. After these,
#: any other agency's code or name still in a reason reads 其他部门 (:func:`own_reason`).
OWN_REASONS: tuple[tuple[str, str], ...] = (
    (r"被多个部门标为数源：[^（]*", "与其他部门冲突（多个部门标为数源）"),
    (r" 已由 [^ ]+ 作为数源提供", " 已由其他部门作为数源提供"),
    (r"由 [^ ]+ 提供，不应纳入本机构开放目录", "由其他部门提供，不应纳入本机构开放目录"),
)
OTHER_AGENCY = "其他部门"


def own_reason(reason: str | None, own: str, others: dict[str, str]) -> str | None:
    """``reason`` as agency ``own`` may read it: :data:`OWN_REASONS` applied, then any other
    agency's code (with the spaces around it; not part of a longer code such as a resource's
    ``HZ006-R004``) or name (``others``: code → name) read as :data:`OTHER_AGENCY`."""
    return own_reasoner(own, others)(reason)


def own_reasoner(own: str, others: dict[str, str]):
    """:func:`own_reason` for one agency, its patterns built once (an agency's evidence at city scale
    has hundreds of distinct reasons, each scanned for every other agency's name and code)."""
    names = sorted((n for c, n in others.items() if c != own and n), key=len, reverse=True)
    codes = sorted((c for c in others if c != own), key=len, reverse=True)
    code = (
        re.compile(r" ?(?<![A-Za-z0-9-])(?:" + "|".join(map(re.escape, codes)) + r")(?![A-Za-z0-9-]) ?")
        if codes
        else None
    )
    neutral = [(re.compile(pattern), text) for pattern, text in OWN_REASONS]

    def apply(reason: str | None) -> str | None:
        if reason is None:
            return None
        for pattern, text in neutral:
            reason = pattern.sub(text, reason)
        for name in names:
            reason = reason.replace(name, OTHER_AGENCY)
        return code.sub(OTHER_AGENCY, reason) if code is not None else reason

    return apply


#: grade text of a unit the scheme does not grade (参照执行) and the peer group it is listed under
NOT_GRADED_GROUP = "参照执行"


def agency_param(scope: str | None, requested: str | None = None) -> str | None:
    """The agency code a query may use for a user limited to ``scope``: ``requested`` when
    allowed, the user's own when nothing was asked, :data:`DENIED` for another agency."""
    if scope is None:
        return requested
    if requested is None or requested == scope:
        return scope
    return DENIED


@cache
def _empty_notes() -> dict[str, str]:
    """Metric id → its declared ``empty`` sentence (standing metrics: why 0/0 scores 0, what to do)."""
    return {m.id: m.empty for m in METRICS.values() if m.empty}


@cache
def suggestions() -> dict[str, str]:
    """整改建议 per metric id with the packaged rule profile's articles (a run's own: :meth:`RunReader.metric_meta`)."""
    return {m: suggestion(m) for m in METRICS}


# --------------------------------------------------------------------------- opening published runs
# (which run: :func:`hzeval.store.published.resolve_run`, the one resolver; re-exported here with
# :func:`find_published`, :func:`published_runs` and :func:`run_year` for the reports and notebooks)


def connect_published(path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """A read-only connection to one published run file, configured as every reader's (DuckDB refuses
    a second connection to a file opened with another configuration: a notebook holds several)."""
    threads = os.environ.get("HZEVAL_READER_THREADS")
    config: dict[str, str | bool | int | float | list[str]] = {"threads": int(threads)} if threads else {}
    return duckdb.connect(str(path), read_only=True, config=config)


def open_run(
    published: str | os.PathLike | None = None, year: int | None = None, db=None, scope: str | None = None
) -> RunReader:
    """Open a published run read-only (which one: :func:`find_published`)."""
    path = find_published(published, year, db)
    con = connect_published(path)
    try:
        reader = RunReader(con, path=path, scope=scope, owns=True)
    except BaseException:
        con.close()
        raise
    if year is not None and reader.year != year:
        reader.close()
        raise RunNotFoundError(
            f"{path.name} 是 {reader.year} 年的评估，不是 {year} 年",
            f"{path.name} is a {reader.year} run, not {year}",
            path=str(path),
        )
    return reader


@contextlib.contextmanager
def open_reader(db, year: int, run_id: str | None = None, reading=None):
    """The run ``explain`` reads, as a :class:`RunReader`.

    With ``reading`` (the CLI's reader: a context manager ``reading(db, year, run_id)`` giving a
    connection — the warehouse when free, else the published run, saying so on stderr, or, with
    nothing published, after waiting for the writer): a reader on that connection. Without it: the
    run's published copy (``published/<run_id>.duckdb``, or the latest of ``year``) when there is
    one, else the warehouse opened read-only."""
    if reading is not None:
        with reading(db, year, run_id) as con:
            yield RunReader(con, run_id=run_id, year=year)
        return
    path = resolve_run(published_dir(db), year=year, run_id=run_id)
    if path is not None:
        with open_run(path, year) as reader:
            yield reader
        return
    with connect(db, read_only=True) as con:
        yield RunReader(con, run_id=run_id, year=year)


def with_notified(items: pl.DataFrame, folder: Path | str) -> pl.DataFrame:
    """``items`` (supervision rows) with a ``notified`` column: when each was notified, per level,
    from ``<folder>/notified.parquet`` ("" when never). Adds information to the given rows only."""
    path = Path(folder) / NOTIFIED_FILE
    keys = ["metric_id", "record_table", "record_id", "agency_code"]
    if items.is_empty() or not path.exists() or not set(keys) <= set(items.columns):
        return items.with_columns(notified=pl.lit("", pl.String))
    seen = pl.read_parquet(path)

    def when(col: str, label: str) -> pl.Expr:
        return pl.when(pl.col(col).is_not_null()).then(pl.lit(label) + pl.col(col).dt.strftime("%m-%d %H:%M"))

    seen = seen.select(
        *keys,
        notified=pl.concat_str(
            [
                when("notified_soon_at", "即将到期 "),
                when("notified_overdue_at", "逾期 "),
                when("escalation_notice_at", "上报 "),
            ],
            separator="；",
            ignore_nulls=True,
        ),
    )
    return items.join(seen, on=keys, how="left").with_columns(pl.col("notified").fill_null(""))


# --------------------------------------------------------------------------- the reader


class RunReader:
    """One finished run, read-only, as seen by a user limited to ``scope`` (None = all agencies).

    ``con`` is a DuckDB connection or cursor on a published run file (or on the warehouse, then
    ``run_id`` picks the run; default the newest finished one)."""

    def __init__(
        self,
        con,
        path: Path | str | None = None,
        scope: str | None = None,
        run_id: str | None = None,
        owns: bool = False,
        year: int | None = None,
    ):
        self.con = con
        self.path = Path(path) if path else None
        self.scope = scope
        self._owns = owns
        has_state = bool(
            con.execute(
                "select count(*) from information_schema.columns where table_name = 'runs' and column_name = $c",
                {"c": "publication"},
            ).fetchall()[0][0]
        )
        state = STATE if has_state else f"'{TRIAL}'"
        # without a run id, the one rule (DESIGN §7a): the latest official run, else the latest trial run,
        # never a withdrawn one (a published copy holds one run; the warehouse holds them all)
        rows = con.execute(
            f"""select run_id, year, as_of, finished_at, scheme_name, scheme_sha256, inputs_sha256,
                      package_version, scheme_file, {state} as publication
               from runs where status = 'finished' and ($r is null or run_id = $r) and ($y is null or year = $y)
                 and ($r is not null or {state} <> '{WITHDRAWN}')
               order by {state} = '{OFFICIAL}' desc, finished_at desc, run_id desc""",
            {"r": run_id, "y": year},
        ).fetchall()
        if not rows:
            where = self.path or "warehouse"
            what = run_id or (f"（{year} 年度）" if year else "")
            raise RunNotFoundError(
                f"{where} 中没有已完成的评估运行{what}，请先运行 hzeval assess" + (f" --year {year}" if year else ""),
                f"no finished run {what} in {where}: run 'hzeval assess' first",
                path=str(where),
            )
        (
            self.run_id,
            self.year,
            self.as_of,
            self.finished_at,
            self.scheme_name,
            self.scheme_sha256,
            self.inputs_sha256,
            self.package_version,
            self.scheme_file,
            self.publication,
        ) = rows[0]

    # ---- lifecycle

    def close(self) -> None:
        if self._owns:
            self.con.close()

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- schema (tolerating columns other changes add)

    @cached_property
    def _schema(self) -> dict[str, set[str]]:
        rows = self.con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'"
        ).fetchall()
        out: dict[str, set[str]] = {}
        for t, c in rows:
            out.setdefault(t, set()).add(c)
        return out

    def has_table(self, table: str) -> bool:
        return table in self._schema

    def has_column(self, table: str, column: str) -> bool:
        return column in self._schema.get(table, set())

    def _opt(self, alias: str, table: str, column: str, type_: str = "varchar") -> str:
        """``alias.column`` when the table has it, else a typed NULL (``as column`` added)."""
        if self.has_column(table, column):
            return f"{alias}.{column} as {column}"
        return f"cast(null as {type_}) as {column}"

    def _unscoped(self) -> RunReader:
        """This reader without the agency limit, for figures that are not agency data (a city
        average, the what-if's inputs); callers filter what they return."""
        other = copy.copy(self)
        other.scope = None
        other._owns = False
        return other

    def _agency(self, requested: str | None = None) -> str | None:
        return agency_param(self.scope, requested)

    def _q(self, sql: str, agency: str | None = None, **params) -> pl.DataFrame:
        given = {"run": self.run_id, "agency": agency, **params}
        return frame(self.con, sql, {k: v for k, v in given.items() if f"${k}" in sql}, as_float=True)

    # ---- the run's rules (articles, deadlines, 整改建议 of the rule profiles it applied)

    @cached_property
    def _meta(self) -> pl.DataFrame:
        arts = run_metric_articles(self.con, self.run_id, self.year)
        sugg = run_suggestions(self.con, self.run_id, self.year)
        s = self.scheme
        # a metric the rules cite no article for (security_incidents: only some kinds of incident are
        # conduct the draft names) cites the scheme's basis it is scored under (DESIGN §5b)
        basis = {k: (s.metric_basis(k) if s is not None else None) or "" for k in METRICS}
        return pl.DataFrame(
            {
                "metric_id": list(METRICS),
                "metric_name": [m.name_zh for m in METRICS.values()],
                "metric_article": [arts.get(k) or m.article_zh or basis[k] for k, m in METRICS.items()],
                "metric_kind": [m.kind for m in METRICS.values()],
                "suggestion": [sugg.get(k, "") for k in METRICS],
            }
        )

    def metric_meta(self) -> pl.DataFrame:
        """Metric id → Chinese name, the articles the run applied (``metric_article``), kind and 整改建议."""
        return self._meta

    def adjustment_basis(self) -> str:
        """What adjusted (excused / corrected) items cite: the run's scheme, not an article of the rules."""
        return _adjustment_basis(self.scheme_name)

    def adjustment_cites(self) -> dict[str, str]:
        """Per adjustment of the run, what its items cite: an excuse recording the conditions of 第四十六条
        (``adjustments.tolerance``) cites the article (the run's provision ``tolerance``); any other
        adjustment the scheme (:meth:`adjustment_basis`), DESIGN §5b."""
        if not self.has_column("adjustments", "tolerance"):
            return {}
        rows = self._q(
            """
            select a.adjustment_id, a.tolerance from adjustments as a
            join run_adjustments as r on r.adjustment_id = a.adjustment_id and r.run_id = $run
            where a.kind = 'excuse' and nullif(trim(a.tolerance), '') is not null
            order by a.adjustment_id
            """
        )
        if rows.is_empty():
            return {}
        articles = self.rule_article("tolerance")
        return {a: _tolerance_basis(articles, t) for a, t in rows.iter_rows()}

    def adjustment_cite(self, adjustment_id: str | None) -> str:
        """What one adjusted item cites (see :meth:`adjustment_cites`)."""
        return self.adjustment_cites().get(adjustment_id or "", self.adjustment_basis())

    def rule_article(self, key: str) -> str:
        """The articles the run's rule profiles give a metric id or a provision (``disputes``, ``veto`` …)."""
        if key in METRICS:
            return run_metric_articles(self.con, self.run_id, self.year).get(key) or METRICS[key].article_zh
        return run_provision(self.con, self.run_id, self.year, key)

    def deadline_texts(self) -> dict[str, str]:
        """Per deadline key, the rule sentence(s) the run applied over its year."""
        return run_deadline_texts(self.con, self.run_id, self.year)

    @cached_property
    def scheme(self) -> Scheme | None:
        """The scheme the run was scored with: its recorded file when it still has the recorded
        SHA-256, else the packaged scheme of the year when that one has it; None when neither does
        (a surface then shows no target, floor or cap rather than another scheme's)."""
        candidates = []
        if self.scheme_file and Path(self.scheme_file).is_file():
            candidates.append(lambda: load_scheme(self.scheme_file))
        candidates.append(lambda: latest_scheme_for(self.year))
        for load in candidates:
            try:
                s = load()
            except (SchemeError, OSError, ValueError):
                continue
            if s.sha256 == self.scheme_sha256:
                return s
        return None

    # ---- run information

    def freshness(self) -> pl.DataFrame:
        """How fresh each input table was for the run (DESIGN §7a, ``run_freshness``): table_name, its
        Chinese name (``table_zh``), its event time column, rows, the newest record at or before the
        as-of (``newest_at``; NULL without a time column or a record), expect_recent, stale, stale_after
        and the warning (``stale_text``) of a stale table. Empty for a run that did not record it.
        Not agency data: the same for every reader."""
        if not self.has_table("run_freshness"):
            return pl.DataFrame(
                schema={
                    "table_name": pl.String,
                    "table_zh": pl.String,
                    "time_column": pl.String,
                    "rows": pl.Int64,
                    "newest_at": pl.Datetime("us"),
                    "expect_recent": pl.Boolean,
                    "stale": pl.Boolean,
                    "stale_after": pl.Int32,
                    "stale_text": pl.String,
                }
            )
        df = frame(
            self.con,
            """select table_name, time_column, rows, newest_at, expect_recent, stale, stale_after
               from run_freshness where run_id = $run order by rowid""",
            {"run": self.run_id},
        )
        return df.with_columns(
            table_zh=pl.col("table_name").map_elements(table_zh, return_dtype=pl.String),
            stale_text=pl.struct("table_name", "newest_at", "stale_after", "stale").map_elements(
                lambda r: stale_text(r["table_name"], r["newest_at"], r["stale_after"]) if r["stale"] else None,
                return_dtype=pl.String,
            ),
        ).select(
            "table_name",
            "table_zh",
            "time_column",
            "rows",
            "newest_at",
            "expect_recent",
            "stale",
            "stale_after",
            "stale_text",
        )

    @cached_property
    def data_through(self) -> dt.datetime | None:
        """数据截至（各表最新记录）: the earliest of the newest records of the tables that expect recent
        records and have one (every such table holds records up to at least then); None when not recorded."""
        df = self.freshness().filter(pl.col("expect_recent") & pl.col("newest_at").is_not_null())
        return df["newest_at"].min() if df.height else None  # type: ignore[return-value]

    def stale_warnings(self) -> list[str]:
        """A warning per table whose newest record is older than the scheme's ``stale_after`` days."""
        return self.freshness().filter(pl.col("stale"))["stale_text"].to_list()

    def info(self) -> dict:
        """The run a surface rests on (DESIGN §1: traceable): ids, times, scheme and input hashes, and how
        fresh the data was (``data_through``, ``stale_warnings``, DESIGN §7a)."""
        return {
            "run_id": self.run_id,
            "year": self.year,
            "data_through": self.data_through,
            "as_of": self.as_of,
            "finished_at": self.finished_at,
            "scheme_name": self.scheme_name,
            "scheme_sha256": self.scheme_sha256,
            "inputs_sha256": self.inputs_sha256,
            "package_version": self.package_version,
            "publication": self.publication,
            "published_file": self.path.name if self.path else "",
            "stale_warnings": self.stale_warnings(),
        }

    def provenance(self) -> dict:
        """:meth:`info` with times as text (for page headers)."""
        i = self.info()
        return {
            **i,
            "data_through": f"{self.data_through:%Y-%m-%d %H:%M}" if self.data_through else None,
            "as_of": f"{self.as_of:%Y-%m-%d %H:%M}",
            "finished_at": f"{self.finished_at:%Y-%m-%d %H:%M}",
            "publication": publication_zh(self.publication),
            "trial": self.publication != OFFICIAL,
            "freshness": freshness_line(self.data_through, self.as_of, self.finished_at, self.publication),
        }

    # ---- agencies, grades and the veto

    def vetoes(self, agency: str | None = None) -> pl.DataFrame:
        """One row per incident a vetoed agency's grade rests on: incident id, date, kind, basis.

        From ``grades.veto_reason`` (the scheme's basis text) when the run has it; the incidents
        are the run's unexcused ``security_incidents`` evidence (an incident excused under
        容错免责 (through an approved adjustment) neither vetoes nor deducts, so it is not listed)."""
        kind = (
            "i.kind" if self.has_column("incidents", "kind") else "regexp_extract(e.reason, '安全事件：([^（；]+)', 1)"
        )
        join = "left join incidents as i on i.incident_id = e.record_id" if self.has_table("incidents") else ""
        # 第二十二条: the stage (采集/提供/使用) the responsible agency answers for, shown with the veto
        stage = "i.stage" if self.has_column("incidents", "stage") else "regexp_extract(e.reason, '责任环节：(.+)$', 1)"
        reason = self._opt("g", "grades", "veto_reason")
        reason_col = "g.veto_reason" if self.has_column("grades", "veto_reason") else "cast(null as varchar)"
        return (
            self._q(
                f"""
            select g.agency_code, e.record_id as incident_id, cast(e.done_at as date) as occurred_on,
                   {kind} as kind, nullif({stage}, '') as stage, {reason}
            from grades as g
            join evidence as e on e.agency_code = g.agency_code and e.metric_id = $veto
                              and e.run_id = g.run_id and not {EXCUSED_SQL}
            {join}
            where g.run_id = $run and g.vetoed and ($agency is null or g.agency_code = $agency)
              -- a run that records the veto's reason names the incident(s) of the scheme's veto kinds
              and (coalesce({reason_col}, '') not like '一票否决：%' or strpos({reason_col}, e.record_id) > 0)
            order by g.agency_code, e.done_at, e.record_id
            """,
                self._agency(agency),
                veto=VETO_METRIC,
            )
            .with_columns(
                # grades.veto_reason reads "一票否决：IN-1（2025-08-14 数据泄露），依据《…》…": its basis part
                basis=pl.coalesce(
                    pl.col("veto_reason").str.extract(r"^一票否决：.*?，依据(.+)$", 1),
                    pl.col("veto_reason"),
                    pl.lit(self._veto_basis()),
                ),
            )
            .drop("veto_reason")
        )

    def _veto_basis(self) -> str:
        """The scheme's veto rule: a veto is the scheme's policy (the draft has none), so no article is cited."""
        return f"《{self.scheme_name}》一票否决规则"

    def graded_units(self) -> int:
        """参评单位: the units the run grades that the reader may see — 参照执行 units (scored for
        reference, not graded) are not counted. The one count every surface shows (issue 24 item 7)."""
        return self.grades().filter(pl.col("graded")).height

    def grades(self, agency: str | None = None) -> pl.DataFrame:
        """Every graded agency the reader may see: code, name, level, region, peer group, total,
        grade, vetoed, rank, peer_count, graded, grade_label and ``veto_text`` (incident id, date,
        kind and basis), ordered by peer group (市级 first) and rank."""
        # a unit the scheme does not grade (grades.graded false: 参照执行) has no rank and is listed
        # after the graded ones under the peer group 参照执行
        graded = "coalesce(graded, true)" if self.has_column("grades", "graded") else "true"
        df = self._q(
            f"""
            with g as (  -- the peer group's size counts every graded agency, before the agency filter
                select * replace (coalesce(peer_group, case when not {graded} then $ungraded end) as peer_group),
                       {graded} as graded_,
                       count(*) over (partition by {graded}, peer_group) as peer_count
                from grades where run_id = $run
            )
            select g.agency_code, coalesce(a.agency_name, g.agency_code) as agency_name, a.level, a.region,
                   g.peer_group, cast(g.total as double) as total, g.grade, coalesce(g.vetoed, false) as vetoed,
                   g.rank, g.peer_count, g.graded_ as graded,
                   {self._opt("g", "grades", "veto_reason")}, g.year, g.run_id
            from g left join agencies as a using (agency_code)
            where ($agency is null or g.agency_code = $agency)
            order by g.graded_ desc, g.peer_group = '市级' desc, g.peer_group, g.rank, g.total desc, g.agency_code
            """,
            self._agency(agency),
            ungraded=NOT_GRADED_GROUP,
        )
        veto = self.vetoes(agency)
        text = (
            veto.with_columns(
                one=pl.format(
                    "{} 发生{}事件（{}{}）",
                    pl.col("occurred_on").dt.strftime("%Y-%m-%d"),
                    pl.col("kind"),
                    pl.col("incident_id"),
                    pl.concat_str(pl.lit("，"), pl.col("stage"), pl.lit("环节")).fill_null(""),
                )
            )
            .group_by("agency_code", maintain_order=True)
            .agg(veto_incidents=pl.col("one").str.join("；"), veto_basis=pl.col("basis").first())
            .with_columns(veto_text=pl.format("一票否决：{}；依据：{}", pl.col("veto_incidents"), pl.col("veto_basis")))
        )
        return df.join(text, on="agency_code", how="left", maintain_order="left").with_columns(
            veto_text=pl.when(pl.col("vetoed")).then(
                pl.coalesce(pl.col("veto_text"), pl.col("veto_reason"), pl.lit(f"一票否决；依据：{self._veto_basis()}"))
            ),
            grade_label=pl.when(pl.col("vetoed")).then(pl.col("grade") + "（一票否决）").otherwise(pl.col("grade")),
        )

    def grade(self, agency: str) -> dict | None:
        """One agency's row of :meth:`grades` (None when not graded or not visible)."""
        df = self.grades(agency)
        return df.row(0, named=True) if df.height else None

    def agency_header(self, agency: str) -> dict:
        """The header of one agency's report: its grade row and the run information."""
        row = self.grade(agency)
        if row is None:
            raise RunNotFoundError(
                f"{self.year} 年评估运行 {self.run_id} 中没有机构 {agency} 的评分（未登记、为主管部门或无权查看）",
                f"agency {agency!r} is not graded in run {self.run_id}",
                agency=agency,
            )
        return {**row, **self.provenance()}

    # ---- scores

    def scores(self, agency: str | None = None) -> pl.DataFrame:
        """One row per scored indicator and deduction: value, points, max, ``lost`` (the one
        definition), applicable, is_deduction, metric name/article/suggestion, and the scheme's
        ``basis`` when the run records it. Scheme order within each agency."""
        df = self._q(
            f"""
            select s.agency_code, coalesce(a.agency_name, s.agency_code) as agency_name,
                   s.dimension, s.indicator as metric_id,
                   cast(s.points as double) as points, cast(s.max_points as double) as max_points,
                   cast(m.numerator as double) as numerator, cast(m.denominator as double) as denominator,
                   cast(m.value as double) as value, m.count,
                   cast({LOST_SQL} as double) as lost,
                   s.dimension = $ded as is_deduction,
                   (s.dimension = $ded or s.max_points > 0) as applicable,
                   {self._opt("s", "scores", "basis")}
            from scores as s
            left join metric_values as m on m.run_id = s.run_id and m.agency_code = s.agency_code
                                         and m.metric_id = s.indicator
            left join agencies as a on a.agency_code = s.agency_code
            where s.run_id = $run and ($agency is null or s.agency_code = $agency)
            order by s.agency_code, s.rowid
            """,
            self._agency(agency),
            ded=DEDUCTIONS,
        )
        df = (
            df.join(self.metric_meta(), on="metric_id", how="left", maintain_order="left")
            .rename({"metric_article": "article"})
            .join(self._scheme_terms(), on=["dimension", "metric_id"], how="left", maintain_order="left")
            .with_columns(
                # a standing obligation with nothing to count (0/0) scores 0: it says why and what to do
                standing_zero=~pl.col("is_deduction")
                & pl.col("applicable")
                & pl.col("value").is_null()
                & pl.col("metric_id").is_in(list(STANDING))
            )
        )
        return (
            self._with_reweighting(df)
            .with_columns(
                # an indicator not scored because there was nothing to measure says why
                note=pl.when(pl.col("standing_zero"))
                .then(pl.col("metric_id").replace_strict(_empty_notes(), default=None, return_dtype=pl.String))
                .when(pl.col("applicable"))
                .then(None)
                .otherwise(pl.col("metric_id").replace_strict(NA_NOTES, default=NA_NOTE, return_dtype=pl.String))
            )
            .with_columns(
                # a deduction measured on an input the city has not loaded (open catalogue): excluded, and it says so
                note=pl.when(pl.col("is_deduction") & pl.col("metric_id").is_in(list(self._absent_inputs)))
                .then(pl.col("metric_id").replace_strict(self._absent_inputs, default=None, return_dtype=pl.String))
                .otherwise(pl.col("note"))
            )
        )

    @cached_property
    def _absent_inputs(self) -> dict[str, str]:
        """Metric id → its note, for each deduction of :data:`ABSENT_INPUT_NOTES` whose input table the run
        holds no row of on or before the year's end."""
        out = {}
        for metric, (table, column, note) in ABSENT_INPUT_NOTES.items():  # names from the constant, not input
            if self.has_column(table, column):
                n = self._q(f"select count(*) as n from {table} where year({column}) <= $year", year=self.year)
                if n["n"][0]:
                    continue
            out[metric] = note
        return out

    def _scheme_terms(self) -> pl.DataFrame:
        """Per (dimension, metric) of the run's scheme: target, floor and the 满分 before re-weighting
        (``nominal_max`` = dimension weight × points / the dimension's points); per deduction ``per``
        and ``cap``. Empty (all null) without the run's scheme."""
        rows: list[tuple[str, str, float | None, float | None, float | None, float | None, float | None]] = []
        s = self.scheme
        if s is not None:
            for d in s.dimensions:
                dim_pts = sum(i.points for i in d.indicators)
                for i in d.indicators:
                    rows.append((d.name, i.metric, i.target, i.floor, d.weight * i.points / dim_pts, None, None))
            for x in s.deductions:
                rows.append((x.dimension, x.metric, None, None, None, x.per, x.cap))
        return pl.DataFrame(
            rows,
            schema={
                "dimension": pl.String,
                "metric_id": pl.String,
                "target": pl.Float64,
                "floor": pl.Float64,
                "nominal_max": pl.Float64,
                "per": pl.Float64,
                "cap": pl.Float64,
            },
            orient="row",
        )

    @staticmethod
    def _with_reweighting(df: pl.DataFrame) -> pl.DataFrame:
        """``reweighted_by`` (what moved an indicator's 满分 from the scheme's: the not-applicable
        indicators of its own dimension, and each dimension left with none, named as a dimension),
        ``max_text`` (the 满分 with its re-weighting named) and ``deduction_text`` (count × per, cap,
        points deducted), ``value_text`` (the 实际值 with its numerator and denominator)."""
        if df.is_empty():
            return df.with_columns(
                reweighted_by=pl.lit(None, pl.String),
                max_text=pl.lit(None, pl.String),
                deduction_text=pl.lit(None, pl.String),
                value_text=pl.lit(None, pl.String),
            )
        ind = df.filter(~pl.col("is_deduction"))
        name = pl.coalesce(pl.col("metric_name"), pl.col("metric_id"))
        own = ind.filter(~pl.col("applicable")).group_by("agency_code", "dimension", maintain_order=True).agg(own=name)
        live = ind.group_by("agency_code", "dimension", maintain_order=True).agg(live=pl.col("applicable").any())
        dead = (  # a dimension with no applicable indicator is named as a whole ("项目管理维度")
            live.filter(~pl.col("live"))
            .group_by("agency_code", maintain_order=True)
            .agg(dead=pl.col("dimension") + "维度")
        )
        out = (
            df.join(own, on=["agency_code", "dimension"], how="left", maintain_order="left")
            .join(dead, on="agency_code", how="left", maintain_order="left")
            .with_columns(
                moved=pl.col("applicable")
                & ~pl.col("is_deduction")
                & ((pl.col("max_points") - pl.col("nominal_max")).abs() > LOST_EPS)
            )
        )
        by = [
            None if not moved else list(dict.fromkeys([*(a or []), *(b or [])])) or None
            for moved, a, b in zip(out["moved"], out["own"].to_list(), out["dead"].to_list())
        ]
        out = out.with_columns(reweighted_by=pl.Series([("、".join(x) if x else None) for x in by], dtype=pl.String))
        rows = out.select(
            "is_deduction", "max_points", "nominal_max", "reweighted_by", "count", "per", "cap", "lost", "points"
        ).iter_rows(named=True)
        max_text: list[str | None] = []
        ded_text: list[str | None] = []
        for r in rows:
            if r["is_deduction"]:
                max_text.append(None)
                ded_text.append(deduction_text(r["count"], r["per"], r["cap"], r["lost"]))
            else:
                max_text.append(max_points_text(r["max_points"], r["nominal_max"], r["reweighted_by"]))
                ded_text.append(None)
        value_text = [
            None if d else actual(v, n, m)
            for d, v, n, m in out.select("is_deduction", "value", "numerator", "denominator").iter_rows()
        ]
        return out.drop("own", "dead", "moved").with_columns(
            max_text=pl.Series(max_text, dtype=pl.String),
            deduction_text=pl.Series(ded_text, dtype=pl.String),
            value_text=pl.Series(value_text, dtype=pl.String),
        )

    def arithmetic(self, agency: str | None = None) -> pl.DataFrame:
        """Per agency the reader may see: Σ indicator points (``earned``), points deducted
        (``deducted``), the run's ``total`` and ``line`` — "Σ得分 X − 扣分 Y = 总分 Z" (when the
        difference is below 0 the total is 0, and the line says so)."""
        s = self.scores(agency)
        sums = s.group_by("agency_code", maintain_order=True).agg(
            earned=pl.col("points").filter(~pl.col("is_deduction")).fill_null(0).sum().round(2),
            deducted=pl.col("lost").filter(pl.col("is_deduction")).sum().round(2),
        )
        g = self.grades(agency).select("agency_code", "agency_name", "total")
        out = g.join(sums, on="agency_code", how="left", maintain_order="left").with_columns(
            pl.col("earned").fill_null(0.0), pl.col("deducted").fill_null(0.0)
        )
        return out.with_columns(
            line=pl.Series(
                [score_line(e, d, t) for e, d, t in zip(out["earned"], out["deducted"], out["total"])], dtype=pl.String
            )
        )

    def score_line(self, agency: str) -> str | None:
        """One agency's "Σ得分 − 扣分 = 总分" line (:meth:`arithmetic`); None when not visible."""
        a = self.arithmetic(agency)
        return a["line"][0] if a.height else None

    def lost_by_metric(self, agency: str) -> pl.DataFrame:
        """The agency's indicators with points lost, most first, with evidence count and suggestion."""
        ind = self.scores(agency).filter(pl.col("lost") > LOST_EPS)
        ev = self.evidence(agency).group_by("metric_id").agg(evidence_rows=pl.len())
        return (
            ind.join(ev, on="metric_id", how="left")
            .with_columns(pl.col("evidence_rows").fill_null(0))
            .sort(["lost", "metric_id"], descending=[True, False])
        )

    def dimension_matrix(self, agency: str | None = None) -> pl.DataFrame:
        """Agency × dimension: points, max and rate (points / max), deductions left out.
        ``rate`` is NULL where every indicator of the dimension was not applicable."""
        return self._q(
            """
            select s.agency_code, coalesce(a.agency_name, s.agency_code) as agency_name, s.dimension,
                   cast(sum(coalesce(s.points, 0)) as double) as points,
                   cast(sum(s.max_points) as double) as max_points,
                   cast(case when sum(s.max_points) > 0 then sum(coalesce(s.points, 0)) / sum(s.max_points) end
                        as double) as rate
            from scores as s left join agencies as a using (agency_code)
            where s.run_id = $run and s.dimension <> $ded and ($agency is null or s.agency_code = $agency)
            group by all
            order by s.agency_code, min(s.rowid)
            """,
            self._agency(agency),
            ded=DEDUCTIONS,
        )

    def dimensions(self) -> list[str]:
        """The scheme's dimensions in scheme order."""
        rows = self.con.execute(
            "select dimension from scores where run_id = $run and dimension <> $d"
            " group by dimension order by min(rowid)",
            {"run": self.run_id, "d": DEDUCTIONS},
        ).fetchall()
        return [r[0] for r in rows]

    def dimension_scores(self, agency: str) -> pl.DataFrame:
        """One agency's dimension scores with the city average rate over all graded agencies
        (the average is not agency data: it is computed over every agency, then filtered)."""
        m = self._unscoped().dimension_matrix()
        avg = m.group_by("dimension").agg(city_rate=pl.col("rate").mean())
        own = self._agency(agency)
        return (
            m.filter(pl.col("agency_code") == own)
            .join(avg, on="dimension", how="left", maintain_order="left")
            .select("dimension", "points", "max_points", "rate", "city_rate")
        )

    def authority_metrics(self) -> pl.DataFrame:
        """The authorities' own measured metrics (DESIGN §5b: computed and reported whether or not the scheme
        grades them): every metric with something measured for an authority — its duties as the authority
        (目录审定及时率, 逾期整改上报) and those it owes as any agency (security_practice, open_plan_filed …)."""
        df = self._q(
            """
            select a.agency_code, a.agency_name, m.metric_id, cast(m.numerator as double) as numerator,
                   cast(m.denominator as double) as denominator, cast(m.value as double) as value, m.count
            from metric_values as m join agencies as a using (agency_code)
            where m.run_id = $run and a.is_authority
              and (coalesce(m.denominator, 0) > 0 or coalesce(m.count, 0) > 0)
              and ($agency is null or a.agency_code = $agency)
            order by a.agency_code, m.metric_id
        """,
            self._agency(),
        )
        return df.join(self.metric_meta(), on="metric_id", how="left").rename({"metric_article": "article"})

    # ---- evidence

    def evidence(self, agency: str | None = None, metric: str | None = None) -> pl.DataFrame:
        """Evidence rows of the run with the metric's name, article and suggestion, the source
        table's Chinese name (``record_table_zh``), lateness in working days (``wd_late``) and
        calendar days (``days_late``; not done → up to the as-of time), and the rule profile and
        article that applied when the run records them; ``exempt``: a row that is not a failure (a resource
        filed as not aggregable, 第十八条第二款: 已备案，免于平台汇聚)."""
        df = self._q(
            f"""
            select e.agency_code, coalesce(ag.agency_name, e.agency_code) as agency_name, e.metric_id,
                   e.record_table, e.record_id, e.reason, e.due_at, e.done_at, e.done_at is null as not_done,
                   e.adjustment_id,
                   case when e.due_at is not null then cd.wd_index - dd.wd_index end as wd_late,
                   case when e.due_at is not null then
                       date_diff('day', cast(e.due_at as date), cast(coalesce(e.done_at, $as_of) as date))
                   end as days_late,
                   {self._opt("e", "evidence", "rule_profile")}, {self._opt("e", "evidence", "article")}
            from evidence as e
            left join agencies as ag on ag.agency_code = e.agency_code
            left join calendar as dd on dd.day = cast(e.due_at - interval 1 day as date)
            left join calendar as cd on cd.day = cast(coalesce(e.done_at, $as_of) as date)
            where e.run_id = $run and ($agency is null or e.agency_code = $agency)
              and ($metric is null or e.metric_id = $metric)
            order by e.agency_code, e.metric_id, e.due_at nulls last, e.record_id
            """,
            self._agency(agency),
            metric=metric,
            as_of=self.as_of,
        )
        return (
            df.join(self.metric_meta(), on="metric_id", how="left", maintain_order="left")
            .with_columns(  # the article of the rule in force on the item's trigger day, else the metric's
                article=pl.coalesce(pl.col("article"), pl.col("metric_article")),
                record_table_zh=pl.col("record_table").replace_strict(
                    {t: table_zh(t) for t in df["record_table"].drop_nulls().unique()},
                    default=pl.col("record_table"),
                    return_dtype=pl.String,
                ),
                # 办结时间 only for an item with a deadline ("未办结" when not done); any other item's
                # time is its record's own, under its own name (发生时间 …) — issue 24 item 6
                time_label=pl.when(pl.col("due_at").is_not_null())
                .then(pl.lit(DONE_LABEL))
                .otherwise(
                    pl.col("metric_id").replace_strict(
                        RECORD_TIME, default=pl.lit(RECORD_TIME_DEFAULT), return_dtype=pl.String
                    )
                ),
                # a resource filed as not aggregable (第十八条第二款): shown, not a failure
                exempt=pl.col("record_table").is_in(list(NOT_FAILING_TABLES)),
                done_text=pl.when(pl.col("due_at").is_not_null())
                .then(pl.coalesce(when_expr("done_at"), pl.lit("未办结")))
                .otherwise(pl.lit("")),
            )
            .with_columns(
                record_time=pl.when(pl.col("due_at").is_null() & pl.col("done_at").is_not_null())
                .then(pl.concat_str([pl.col("time_label"), pl.lit(" "), when_expr("done_at")]))
                .otherwise(pl.lit("")),
            )
            .drop("metric_article")
            .pipe(self._own_reasons)
        )

    def _own_reasons(self, df: pl.DataFrame) -> pl.DataFrame:
        """A reader scoped to one agency reads reasons without other agencies (:func:`own_reason`)."""
        if not self.scope or self.scope == DENIED or df.is_empty():
            return df
        names = dict(self.con.execute("select agency_code, coalesce(agency_name, '') from agencies").fetchall())
        own = own_reasoner(self.scope, names)
        mapping = {r: own(r) for r in df["reason"].drop_nulls().unique()}
        return df.with_columns(reason=pl.col("reason").replace_strict(mapping, default=None, return_dtype=pl.String))

    def evidence_record(self, metric: str, record_id: str) -> dict | None:
        """One evidence item of ``metric`` by its record id (the first, when several agencies share
        it): the row of :meth:`evidence`, or None."""
        df = self._q(
            """
            select agency_code from evidence
            where run_id = $run and metric_id = $metric and record_id = $record
              and ($agency is null or agency_code = $agency)
            order by agency_code limit 1
            """,
            self._agency(),
            metric=metric,
            record=record_id,
        )
        if df.is_empty():
            return None
        rows = self.evidence(df["agency_code"][0], metric).filter(pl.col("record_id") == record_id)
        return rows.row(0, named=True) if rows.height else None

    def metric_values(self, agency: str | None = None, metric: str | None = None) -> pl.DataFrame:
        """Every computed metric per agency (scored or not): numerator, denominator, value, count."""
        return self._q(
            """
            select agency_code, metric_id, cast(numerator as double) as numerator,
                   cast(denominator as double) as denominator, cast(value as double) as value, count
            from metric_values
            where run_id = $run and ($agency is null or agency_code = $agency)
              and ($metric is null or metric_id = $metric)
            order by agency_code, metric_id
            """,
            self._agency(agency),
            metric=metric,
        )

    def lost_evidence(self, agency: str | None = None) -> pl.DataFrame:
        """Evidence behind every point lost, with the metric's points lost (``lost``), ordered by
        agency, points lost, metric."""
        lost = (
            self.scores(agency)
            .filter(pl.col("lost") > LOST_EPS)
            .select("agency_code", "metric_id", pl.col("lost").round(2))
        )
        return (
            self.evidence(agency)
            .join(lost, on=["agency_code", "metric_id"], how="inner", maintain_order="left")
            .sort(["agency_code", "lost", "metric_id"], descending=[False, True, False], maintain_order=True)
        )

    # ---- project gates

    def gates(self, agency: str | None = None) -> pl.DataFrame:
        """Every project (of the visible owners) with each condition G1–G4 passed or not, failed
        resources, the 带病验收 flag and ``result`` (通过 / 未通过 / 带病验收)."""
        name = (
            "(select any_value(x.project_name) from projects as x where x.project_id = p.project_id)"
            if self.has_table("projects")
            else "cast(null as varchar)"
        )
        g = self._q(
            f"""
            select p.project_id, {name} as project_name, p.owner_code,
                   coalesce(a.agency_name, p.owner_code) as owner_name,
                   p.checked_at, p.passed, coalesce(p.failed_conditions, '') as failed_conditions,
                   p.failed_resources, coalesce(p.accepted_while_failing, false) as accepted_while_failing
            from project_gates as p left join agencies as a on a.agency_code = p.owner_code
            where p.run_id = $run and ($agency is null or p.owner_code = $agency)
            order by p.accepted_while_failing desc, p.passed, p.project_id
            """,
            self._agency(agency),
        )
        names = self.resource_names()
        return g.with_columns(
            pl.col("failed_resources").map_elements(
                lambda t: resources_named(t, names), return_dtype=pl.String, skip_nulls=True
            ),
            *[pl.col("failed_conditions").str.contains(k, literal=True).not_().alias(k) for k in GATE_CONDITIONS],
            result=pl.when(pl.col("passed"))
            .then(pl.lit("通过"))
            .when(pl.col("accepted_while_failing"))
            .then(pl.lit("未通过（带病验收）"))
            .otherwise(pl.lit("未通过")),
        )

    def resource_names(self) -> dict[str, str]:
        """Resource code → its name in the newest catalogue snapshot (empty without the catalogue)."""
        if not self.has_table("catalog_snapshot"):
            return {}
        rows = self.con.execute(
            "select resource_code, arg_max(resource_name, snapshot_date) from catalog_snapshot group by resource_code"
        ).fetchall()
        return {code: name for code, name in rows if name}

    def gate_summary(self, agency: str | None = None) -> dict:
        g = self.gates(agency)
        return {
            "projects": g.height,
            "passed": g.filter(pl.col("passed")).height,
            "failed": g.filter(~pl.col("passed")).height,
            "accepted_while_failing": g.filter(pl.col("accepted_while_failing")).height,
            **{f"{k}_failed": g.filter(~pl.col(k)).height for k in GATE_CONDITIONS},
        }

    # ---- project approval reference (第四十三条, 第四十四条)

    def provision_text(self, key: str) -> str:
        """``<articles>：<sentence>`` the run's rule profiles quote for a provision (``assessment``,
        ``project_approval`` …); '' when the profile quotes none."""
        return run_provision_text(self.con, self.run_id, self.year, key)

    def approval_reference(self) -> pl.DataFrame:
        """Per graded agency the reader may see, what next year's project approvals weigh
        (第四十三条: results are a reference for next year's approvals; 第四十四条: the gate):
        grade, rank, the veto, failed project gates (``failed_projects``, ``failed_project_list``),
        projects accepted while failing (``accepted_failing``, ``accepted_failing_list``), open
        rectifications at the run's as-of (``open_rectifications``, ``overdue_rectifications``,
        ``rectification_list``; null when the file lacks the input tables) and ``attention`` (why
        it needs scrutiny). Ordered so agencies needing scrutiny come first: vetoed, then those with
        anything in ``attention`` before those without, each group by grade from 不合格 up, then by
        projects accepted while failing, failed projects, overdue and open rectifications, then by
        total score (lowest first). Units the scheme does not grade (参照执行) have no grade to weigh
        and are left out."""
        g = self.grades().filter(pl.col("graded"))
        gates = self.gates()
        failed = (
            gates.filter(~pl.col("passed"))
            .with_columns(
                item=pl.format("{}（{}）", pl.col("project_id"), pl.col("failed_conditions").str.replace_all(",", "、"))
            )
            .group_by("owner_code", maintain_order=True)
            .agg(
                failed_projects=pl.len(),
                failed_project_list=pl.col("item").str.join("；"),
                accepted_failing=pl.col("accepted_while_failing").sum().cast(pl.Int64),
                accepted_failing_list=pl.col("project_id").filter(pl.col("accepted_while_failing")).str.join("；"),
            )
            .rename({"owner_code": "agency_code"})
        )
        projects = gates.group_by("owner_code").agg(projects=pl.len()).rename({"owner_code": "agency_code"})
        sup = self.supervision()
        if sup is not None:
            rect = (
                sup.filter(pl.col("metric_id") == "rectification_on_time")
                .with_columns(
                    item=pl.when(pl.col("state") == "逾期")
                    .then(pl.format("{}（逾期 {} 个工作日）", pl.col("record_id"), pl.col("wd_overdue")))
                    .otherwise(pl.format("{}（{}）", pl.col("record_id"), pl.col("state")))
                )
                .group_by("agency_code", maintain_order=True)
                .agg(
                    open_rectifications=pl.len(),
                    overdue_rectifications=(pl.col("state") == "逾期").sum().cast(pl.Int64),
                    rectification_list=pl.col("item").str.join("；"),
                )
            )
        else:
            rect = pl.DataFrame(
                schema={
                    "agency_code": pl.String,
                    "open_rectifications": pl.Int64,
                    "overdue_rectifications": pl.Int64,
                    "rectification_list": pl.String,
                }
            )
        df = (
            g.join(projects, on="agency_code", how="left")
            .join(failed, on="agency_code", how="left")
            .join(rect, on="agency_code", how="left")
            .with_columns(
                [pl.col(c).fill_null(0).cast(pl.Int64) for c in ("projects", "failed_projects", "accepted_failing")]
                + (
                    [pl.col(c).fill_null(0) for c in ("open_rectifications", "overdue_rectifications")]
                    if sup is not None
                    else []
                ),
                grade_order=pl.col("grade").replace_strict(
                    {k: i for i, k in enumerate(GRADE_ORDER)}, default=len(GRADE_ORDER), return_dtype=pl.Int32
                ),
            )
        )
        reasons = [
            pl.when(pl.col("vetoed")).then(pl.lit("一票否决")),
            pl.when(pl.col("grade") == GRADE_ORDER[-1]).then(pl.lit("等级不合格")),
            pl.when(pl.col("accepted_failing") > 0).then(pl.format("{} 个项目带病验收", pl.col("accepted_failing"))),
            pl.when(pl.col("failed_projects") > 0).then(
                pl.format("{} 个项目未通过数据门禁", pl.col("failed_projects"))
            ),
            pl.when(pl.col("overdue_rectifications") > 0).then(
                pl.format("{} 项整改逾期未完成", pl.col("overdue_rectifications"))
            ),
        ]
        df = df.with_columns(attention=pl.concat_str(reasons, separator="；", ignore_nulls=True))
        df = df.with_columns(attention=pl.when(pl.col("attention") == "").then(None).otherwise(pl.col("attention")))
        return (
            df.with_columns(needs=pl.col("attention").is_not_null())
            .sort(
                [
                    "vetoed",
                    "needs",
                    "grade_order",
                    "accepted_failing",
                    "failed_projects",
                    "overdue_rectifications",
                    "open_rectifications",
                    "total",
                    "agency_code",
                ],
                descending=[True, True, True, True, True, True, True, False, False],
                nulls_last=True,
                maintain_order=True,
            )
            .drop("grade_order", "needs")
            .with_row_index("scrutiny_order", offset=1)
        )

    # ---- supervision

    @property
    def has_sources(self) -> bool:
        """Whether the file carries the input tables the 督办 list recomputes from."""
        return {"share_applications", "projects", "calendar"} <= set(self._schema)

    def supervision(self, as_of: dt.datetime | None = None, agency: str | None = None) -> pl.DataFrame | None:
        """The 督办 list at ``as_of`` (default: the run's as-of time): every item not done, from
        :func:`hzeval.assessment.supervise.supervision_items` — what ``hzeval supervise --as-of`` lists over the
        same inputs. None when the file lacks the input tables."""
        if not self.has_sources:
            return None
        as_of = (as_of or self.as_of).replace(second=0, microsecond=0)
        self.con.execute(MACROS.replace("create or replace macro", "create or replace temp macro"))
        return floats(supervision_items(self.con, as_of, agency=self._agency(agency)))

    # ---- previous year

    def previous(self) -> RunReader | None:
        """The latest published run of ``year − 1`` beside this one (same scope), or None: the run the
        resolver reads, official or trial (the staff notebooks' comparison)."""
        if self.path is None:
            return None
        path = resolve_run(self.path.parent, year=self.year - 1)
        return open_run(path, self.year - 1, scope=self.scope) if path is not None else None

    def previous_state(self) -> tuple[str | None, str | None]:
        """(state, run id) of the previous year's run the resolver reads beside this one — ``official``,
        ``trial`` — or (None, None) when that year has none (:func:`previous_official`)."""
        if self.path is None:
            return None, None
        path = resolve_run(self.path.parent, year=self.year - 1)
        return (publication_of(path), path.stem) if path is not None else (None, None)

    def official_previous(self) -> RunReader | None:
        """The previous year's official run beside this one (same scope), or None: what every 较上年
        compares with (:func:`previous_official`)."""
        if self.path is None:
            return None
        path = previous_official(self.path.parent, self.year)
        return open_run(path, self.year - 1, scope=self.scope) if path is not None else None

    def year_changes(self) -> pl.DataFrame:
        """Each visible agency against the previous year's official run (:func:`year_change`)."""
        prev = self.official_previous()
        if prev is None:
            return year_change(self, None)
        with prev:
            return year_change(self, prev)

    def previous_year(self, agency: str) -> pl.DataFrame | None:
        """One agency against the previous year's official run (:func:`dimension_change`); None when
        that year has no official run (the report says :data:`hzeval.present.NO_OFFICIAL_PREV`) or this
        run does not grade the agency."""
        prev = self.official_previous()
        if prev is None:
            return None
        with prev:
            return dimension_change(self, prev, agency)

    # ---- what-if inputs

    def scoring_inputs(self):
        """Metric values, counts, agencies and unexcused incident kinds of the run, as
        :func:`hzeval.assessment.scoring.score_all` takes them (the 方案模拟 re-scores these; not agency-filtered:
        the store filters the result)."""
        mv = self._q(
            "select agency_code, metric_id, cast(value as double) as value, count"
            " from metric_values where run_id = $run"
        )
        values = {(r[0], r[1]): r[2] for r in mv.iter_rows()}
        counts = {(r[0], r[1]): int(r[3] or 0) for r in mv.iter_rows()}
        ags = self._q(f"""select a.agency_code, a.level, coalesce(a.is_authority, false) as auth,
                                 {self._opt("a", "agencies", "agency_type")}
                          from agencies as a order by a.agency_code""")
        agencies = [AgencyInfo(c, lv, bool(a), t) for c, lv, a, t in ags.iter_rows()]
        kinds: dict[str, set[str]] = {}
        for code, kind in self._unscoped()._incident_kinds().iter_rows():
            kinds.setdefault(code, set()).add(kind)
        return values, counts, agencies, kinds

    def _incident_kinds(self) -> pl.DataFrame:
        """(agency, kind) of the incidents the run counted — its ``security_incidents`` evidence, less
        those excused (容错免责), which ``assess`` does not veto on; the kind from ``incidents`` when
        the file has it, else from the evidence's reason."""
        kind = "regexp_extract(e.reason, '安全事件：([^（；]+)', 1)"
        join = ""
        if self.has_column("incidents", "kind"):
            kind, join = f"coalesce(i.kind, {kind})", "left join incidents as i on i.incident_id = e.record_id"
        return self._q(
            f"""
            select distinct e.agency_code, {kind} as kind from evidence as e {join}
            where e.run_id = $run and e.metric_id = $veto and not {EXCUSED_SQL}
        """,
            veto=VETO_METRIC,
        )


# --------------------------------------------------------------------------- 较上年 (issue 24 item 7)


def previous_official(published: str | os.PathLike, year: int) -> Path | None:
    """The official run of ``year − 1`` in the folder ``published``, or None.

    The run is the one the resolver reads of that year (:func:`hzeval.store.published.resolve_run`:
    the latest official run, else the latest trial run), taken only when it is official: a year whose
    runs are all 试算 has no official result (:data:`hzeval.present.NO_OFFICIAL_PREV`), and a leader's
    comparison never reads a result nobody has confirmed (DESIGN §7a)."""
    path = resolve_run(Path(published), year=year - 1)
    return path if path is not None and publication_of(path) == OFFICIAL else None


def _dimension_points(run: RunReader, agency: str) -> dict[str, tuple[float | None, float]]:
    """Dimension (the deductions as :data:`DEDUCTIONS`) → (points, max points) of one agency in scheme
    order; points None where nothing in the dimension applied (max 0)."""
    out: dict[str, tuple[float | None, float]] = {}
    for r in run.scores(agency).iter_rows(named=True):
        pts, mx = out.get(r["dimension"], (None, 0.0))
        if r["is_deduction"] or (r["max_points"] or 0) > 0:
            pts = (pts or 0.0) + (r["points"] or 0.0)
        out[r["dimension"]] = (pts, mx + (r["max_points"] or 0.0))
    return out


def year_change(cur: RunReader, prev: RunReader | None) -> pl.DataFrame:
    """Each agency ``cur`` shows (its :meth:`RunReader.grades` order) against ``prev``, the previous year's
    official run (:func:`previous_official`; None when there is none) — the one 较上年 every surface reads
    (the bulletin, the dashboard's 总览 and its offline files).

    Columns: agency_code, agency_name, peer_group, graded, total, rank, grade; total_prev, rank_prev,
    grade_prev (null when not comparable); ``change`` (total − total_prev, 2 places), ``rank_moved``
    (rank_prev − rank: positive = up; only when both years rank the agency in the same peer group),
    ``grade_moved`` (both years grade it), ``prev_run_id``; and the texts of :mod:`hzeval.present`:
    ``change_text`` ("+3.25", "−34.66", :data:`~hzeval.present.NOT_IN_PREV`,
    :data:`~hzeval.present.NO_OFFICIAL_PREV`), ``rank_change_text`` ("↑2", "↓5", "—"),
    ``grade_change_text`` ("优秀→不合格", "—")."""
    now = cur.grades().select("agency_code", "agency_name", "peer_group", "graded", "total", "rank", "grade")
    old: dict[str, dict] = {}
    if prev is not None:
        old = {r["agency_code"]: r for r in prev.grades().iter_rows(named=True)}
    rows = []
    for r in now.iter_rows(named=True):
        o = old.get(r["agency_code"])
        same_group = o is not None and r["graded"] and o["graded"] and o["peer_group"] == r["peer_group"]
        graded_both = o is not None and r["graded"] and o["graded"]
        total_prev = o["total"] if o is not None else None
        change = round(r["total"] - total_prev, 2) if total_prev is not None and r["total"] is not None else None
        rank_prev = o["rank"] if o is not None and same_group else None
        grade_prev = o["grade"] if o is not None and graded_both else None
        if prev is None:
            text = NO_OFFICIAL_PREV
        elif o is None:
            text = NOT_IN_PREV
        else:
            text = score_change(change)
        rows.append(
            {
                **r,
                "total_prev": total_prev,
                "rank_prev": rank_prev,
                "grade_prev": grade_prev,
                "change": change,
                "rank_moved": rank_prev - r["rank"] if rank_prev is not None and r["rank"] is not None else None,
                "grade_moved": grade_prev is not None and grade_prev != r["grade"],
                "prev_run_id": prev.run_id if prev is not None else None,
                "change_text": text,
                "rank_change_text": rank_change(r["rank"], rank_prev),
                "grade_change_text": grade_change(grade_prev, r["grade"] if graded_both else None),
            }
        )
    schema: dict[str, Any] = {
        **now.schema,
        "total_prev": pl.Float64,
        "rank_prev": pl.Int64,
        "grade_prev": pl.String,
        "change": pl.Float64,
        "rank_moved": pl.Int64,
        "grade_moved": pl.Boolean,
        "prev_run_id": pl.String,
        "change_text": pl.String,
        "rank_change_text": pl.String,
        "grade_change_text": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def dimension_change(cur: RunReader, prev: RunReader, agency: str) -> pl.DataFrame | None:
    """One agency against the previous year's official run ``prev``: a row 总分 (with both grades), one
    per dimension of this year's scheme (points and rates) and one for the deductions (:data:`DEDUCTIONS`).
    None when ``cur`` does not show the agency.

    Columns: item, points_prev, points, change (points, 2 places), change_text (:func:`score_change`;
    :data:`~hzeval.present.NOT_IN_PREV` when ``prev`` has no score for the agency; 不适用 / 上年不适用 /
    本年不适用 when the dimension applied in neither year / not last year / not this year), max_points_prev,
    max_points, rate_prev, rate, rate_change, grade_prev, grade, last_run_id. A dimension's points count
    only what applied (the scheme re-weights what did not), so its points can move because its 满分
    moved: the rates sit beside them."""
    now_g = cur.grade(agency)
    if now_g is None:
        return None
    old_g = prev.grade(agency)
    now_d = _dimension_points(cur, agency)
    old_d = _dimension_points(prev, agency) if old_g is not None else {}
    items: list[tuple[str, tuple[float | None, float | None], tuple[float | None, float | None]]]
    items = [("总分", (now_g["total"], None), (old_g["total"] if old_g else None, None))]
    items += [(d, v, old_d.get(d, (None, 0.0))) for d, v in now_d.items() if d != DEDUCTIONS]
    items.append((DEDUCTIONS, now_d.get(DEDUCTIONS, (0.0, 0.0)), old_d.get(DEDUCTIONS, (0.0 if old_g else None, 0.0))))
    rows = []
    for item, (pts, mx), (pts_prev, mx_prev) in items:
        change = round(pts - pts_prev, 2) if pts is not None and pts_prev is not None else None
        # a rate for a dimension (the total and the deductions have none: max None / 0)
        rate = pts / mx if pts is not None and mx else None
        rate_prev = pts_prev / mx_prev if pts_prev is not None and mx_prev else None
        if old_g is None:
            text = NOT_IN_PREV
        elif change is not None:
            text = score_change(change)
        elif pts is None and pts_prev is None:
            text = NOT_APPLICABLE
        else:
            text = NOT_APPLICABLE_PREV if pts_prev is None else NOT_APPLICABLE_NOW
        rows.append(
            {
                "item": item,
                "points_prev": pts_prev,
                "points": pts,
                "change": change,
                "change_text": text,
                "max_points_prev": mx_prev if old_g else None,
                "max_points": mx,
                "rate_prev": rate_prev,
                "rate": rate,
                "rate_change": rate - rate_prev if rate is not None and rate_prev is not None else None,
                "grade_prev": old_g["grade"] if old_g and item == "总分" else None,
                "grade": now_g["grade"] if item == "总分" else None,
                "last_run_id": prev.run_id,
            }
        )
    schema: dict[str, Any] = {
        "item": pl.String,
        "points_prev": pl.Float64,
        "points": pl.Float64,
        "change": pl.Float64,
        "change_text": pl.String,
        "max_points_prev": pl.Float64,
        "max_points": pl.Float64,
        "rate_prev": pl.Float64,
        "rate": pl.Float64,
        "rate_change": pl.Float64,
        "grade_prev": pl.String,
        "grade": pl.String,
        "last_run_id": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
