"""The dashboard's data layer: every query the pages run, over published runs only.

Reads ``published/<run_id>.duckdb`` files (DESIGN §2), never the live warehouse, so the
dashboard keeps working while ``assess`` writes. Each file is one finished run; together they
give the run selector and the trend across years.

Access control lives here, in the queries: a :class:`Store` is bound to a :class:`User`; for a
role ``agency:<code>`` every agency-bearing query is filtered to that code on the server,
whatever agency the caller asks for (asking for another gives an empty result).

All numbers leave as float (DECIMAL is cast to DOUBLE) so nothing reaches Bokeh as Decimal.
No metric or scoring logic here: supervision is :func:`hzeval.supervise.supervision_items`,
the what-if is :func:`hzeval.scoring.score_all`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import panel as pn
import polars as pl

from hzeval.calendar import MACROS as CALENDAR_MACROS
from hzeval.errors import HzevalError
from hzeval.metrics.registry import METRICS
from hzeval.scheme import Scheme, latest_scheme_for, load_scheme
from hzeval.scoring import AgencyInfo, score_all
from hzeval.sqlutil import neutralise

log = logging.getLogger(__name__)

ROLES = ("leader", "evaluator")
#: matches no agency code: what a query gets when the user may not see the agency asked for
DENIED = "\x00denied"


# --------------------------------------------------------------------------- users and roles


@dataclass(frozen=True)
class User:
    name: str
    role: str  # leader | evaluator | agency:<code>

    @property
    def scope(self) -> str | None:
        """The one agency this user may see, or None for all."""
        return self.role.split(":", 1)[1] if self.role.startswith("agency:") else None

    @property
    def is_agency(self) -> bool:
        return self.scope is not None

    @property
    def can_export(self) -> bool:
        return self.role == "evaluator"

    def agency_param(self, requested: str | None = None) -> str | None:
        """The agency code a query may use: ``requested`` when allowed, the user's own when
        nothing was asked, :data:`DENIED` for another agency."""
        if self.scope is None:
            return requested
        if requested is None or requested == self.scope:
            return self.scope
        return DENIED


def valid_role(role: str) -> bool:
    return role in ROLES or (role.startswith("agency:") and len(role) > len("agency:"))


# --------------------------------------------------------------------------- reading published files

_CONNECTIONS: dict[str, duckdb.DuckDBPyConnection] = {}
_LOCK = threading.Lock()


@contextlib.contextmanager
def cursor(path: Path | str):
    """A read-only cursor on one published file (temp tables and the calendar macros available)."""
    key = str(path)
    with _LOCK:
        con = _CONNECTIONS.get(key)
        if con is None:
            con = _CONNECTIONS[key] = duckdb.connect(key, read_only=True)
    cur = con.cursor()
    try:
        yield cur
    finally:
        cur.close()


def close_all() -> None:
    with _LOCK:
        for con in _CONNECTIONS.values():
            con.close()
        _CONNECTIONS.clear()


def floats(df: pl.DataFrame) -> pl.DataFrame:
    """DECIMAL columns → Float64 (Bokeh cannot serialise Decimal)."""
    dec = [c for c, t in df.schema.items() if isinstance(t, pl.Decimal)]
    return df.with_columns([pl.col(c).cast(pl.Float64) for c in dec]) if dec else df


def query(path: Path | str, sql: str, params: dict | None = None) -> pl.DataFrame:
    with cursor(path) as cur:
        return floats(pl.from_arrow(cur.sql(sql, params=params or None).to_arrow_table()))


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


@pn.cache(max_items=256)
def _run_meta(path: str, mtime: float) -> dict | None:
    try:
        rows = query(path, "select run_id, year, as_of, finished_at, scheme_name, scheme_sha256, scheme_file, status from runs")
        tables = {r[0] for r in duckdb_tables(path)}
    except duckdb.Error as exc:  # a foreign or damaged file: skip it, the others still show
        log.warning("skipping %s: %s", path, exc)
        return None
    if rows.height != 1:
        return None
    meta = rows.row(0, named=True)
    meta["path"] = path
    meta["has_sources"] = {"share_applications", "projects"} <= tables
    return meta


def duckdb_tables(path: str) -> list[tuple]:
    with cursor(path) as cur:
        return cur.execute("select table_name from information_schema.tables where table_schema = 'main'").fetchall()


# --------------------------------------------------------------------------- the store


class Store:
    """Queries over the published runs in ``folder``, as seen by ``user``."""

    def __init__(self, folder: Path | str, user: User):
        self.folder = Path(folder)
        self.user = user

    # ---- runs

    def runs(self) -> pl.DataFrame:
        """Every published finished run, newest first (run metadata is not agency data)."""
        metas = []
        for p in sorted(self.folder.glob("*.duckdb")):
            if p.name.startswith("."):
                continue
            m = _run_meta(str(p), _mtime(p))
            if m and m["status"] == "finished":
                metas.append(m)
        schema = {"run_id": pl.String, "year": pl.Int32, "as_of": pl.Datetime("us"), "finished_at": pl.Datetime("us"),
                  "scheme_name": pl.String, "scheme_sha256": pl.String, "scheme_file": pl.String, "status": pl.String,
                  "path": pl.String, "has_sources": pl.Boolean}
        df = pl.DataFrame(metas, schema=schema) if metas else pl.DataFrame(schema=schema)
        return df.sort(["finished_at", "run_id"], descending=True)

    def latest_run_id(self) -> str | None:
        pointer = self.folder / "LATEST"
        runs = self.runs()
        if pointer.exists():
            name = pointer.read_text(encoding="utf-8").strip().removesuffix(".duckdb")
            if name in runs["run_id"].to_list():
                return name
        return runs["run_id"][0] if runs.height else None

    def run_labels(self) -> dict[str, str]:
        """Selector labels → run ids."""
        return {
            f"{r['year']} 年度（截至 {r['as_of']:%Y-%m-%d}，运行 {r['run_id']}）": r["run_id"]
            for r in self.runs().iter_rows(named=True)
        }

    def run(self, run_id: str) -> dict:
        runs = self.runs().filter(pl.col("run_id") == run_id)
        if runs.is_empty():
            raise HzevalError(f"未找到已发布的评估运行 {run_id}", f"no published run {run_id}")
        return runs.row(0, named=True)

    def _path(self, run_id: str) -> str:
        return self.run(run_id)["path"]

    # ---- agencies

    def agencies(self, run_id: str) -> pl.DataFrame:
        """Graded agencies of the run the user may see (code, name, level, peer group)."""
        return _agencies(self._path(run_id), self.user.agency_param())

    def agency_options(self, run_id: str) -> dict[str, str]:
        df = self.agencies(run_id)
        return {f"{r['agency_name'] or '（未登记）'}（{r['agency_code']}）": r["agency_code"] for r in df.iter_rows(named=True)}

    def agency_names(self, run_id: str) -> dict[str, str]:
        return dict(zip(self.agencies(run_id)["agency_code"], self.agencies(run_id)["agency_name"]))

    # ---- overview

    def grades(self, run_id: str, peer_group: str | None = None) -> pl.DataFrame:
        df = _grades(self._path(run_id), self.user.agency_param())
        return df.filter(pl.col("peer_group") == peer_group) if peer_group else df

    def peer_groups(self, run_id: str) -> list[str]:
        return sorted(set(self.grades(run_id)["peer_group"].drop_nulls()), key=lambda g: (g != "市级", g))

    def kpis(self, run_id: str, now: dt.datetime | None = None) -> dict:
        g = self.grades(run_id)
        dist = {k: n for k, n in g.group_by("grade").len().iter_rows()}
        sup = self.supervision(now or dt.datetime.now().replace(microsecond=0))
        overdue = sup.filter(pl.col("state") == "逾期").height if sup is not None else None
        return {
            "graded": g.height,
            "distribution": dist,
            "average": float(g["total"].mean()) if g.height else None,
            "overdue_now": overdue,
        }

    def heatmap(self, run_id: str) -> pl.DataFrame:
        """Agency × dimension score rate (points / max points, %), deductions left out."""
        return _heatmap(self._path(run_id), self.user.agency_param())

    def trend(self, agency: str | None = None) -> pl.DataFrame:
        """Total and grade per year from the newest published run of each year."""
        runs = self.runs()
        if runs.is_empty():
            return pl.DataFrame(schema={"year": pl.Int32, "agency_code": pl.String, "agency_name": pl.String,
                                        "total": pl.Float64, "grade": pl.String, "run_id": pl.String})
        newest = runs.sort("finished_at", descending=True).unique("year", keep="first").sort("year")
        param = self.user.agency_param(agency)
        frames = [_grades(r["path"], param).select("year", "agency_code", "agency_name", "total", "grade", "run_id")
                  for r in newest.iter_rows(named=True)]
        return pl.concat(frames).sort(["agency_code", "year"])

    # ---- one agency

    def grade(self, run_id: str, agency: str) -> dict | None:
        df = _grades(self._path(run_id), self.user.agency_param(agency))
        return df.row(0, named=True) if df.height else None

    def indicators(self, run_id: str, agency: str) -> pl.DataFrame:
        """The agency's indicator and deduction rows with value, points and points lost."""
        df = _indicators(self._path(run_id), self.user.agency_param(agency))
        articles = _articles(self._path(run_id))
        names = pl.DataFrame({
            "indicator": list(METRICS), "metric_name": [m.name_zh for m in METRICS.values()],
            "article": [articles.get(m, "") for m in METRICS],
        })
        return df.join(names, on="indicator", how="left")

    def article(self, run_id: str, metric_id: str) -> str:
        """The articles the run's rule profiles give a metric."""
        return _articles(self._path(run_id)).get(metric_id, "")

    def evidence(self, run_id: str, agency: str, metric: str | None = None, text: str | None = None) -> pl.DataFrame:
        df = _evidence(self._path(run_id), self.user.agency_param(agency))
        if metric:
            df = df.filter(pl.col("metric_id") == metric)
        if text:
            df = df.filter(pl.col("record_id").str.contains(text, literal=True)
                           | pl.col("reason").fill_null("").str.contains(text, literal=True))
        return df

    def evidence_csv(self, run_id: str, agency: str, metric: str | None = None, text: str | None = None) -> bytes:
        """Evidence as CSV (UTF-8 with BOM, formula-neutralised): evaluators only."""
        if not self.user.can_export:
            raise PermissionError("只有评估人员可以导出证据 / only evaluators may export evidence")
        df = self.evidence(run_id, agency, metric, text)
        labels = {"metric_name": "指标", "article": "条款", "agency_code": "机构代码", "record_table": "来源表",
                  "record_id": "记录编号", "reason": "原因", "due_at": "截止时间", "done_at": "办结时间",
                  "adjustment_id": "争议调整"}
        out = df.select(list(labels)).with_columns(
            [neutralise(pl.col(c)).alias(c) for c in labels if df.schema[c] == pl.String]
        ).rename(labels)
        return b"\xef\xbb\xbf" + out.write_csv().encode("utf-8")

    # ---- supervision and gates

    def sources_run(self) -> dict | None:
        """The newest published file that carries the input tables supervision needs."""
        runs = self.runs().filter(pl.col("has_sources"))
        return runs.row(0, named=True) if runs.height else None

    def supervision(self, as_of: dt.datetime, agency: str | None = None) -> pl.DataFrame | None:
        """``hzeval supervise`` as of ``as_of`` on the newest published data; None if none publishes the inputs."""
        src = self.sources_run()
        if src is None:
            return None
        as_of = as_of.replace(second=0, microsecond=0)
        from hzeval.notify import with_notified  # when each item was notified (hzeval notify)

        if self.user.scope is None and agency is not None:  # leaders: one cached list, filtered
            items = _supervision(src["path"], as_of, None)
            return with_notified(items.filter(pl.col("agency_code") == agency), self.folder)
        return with_notified(_supervision(src["path"], as_of, self.user.agency_param(agency)), self.folder)

    def gates(self, run_id: str) -> pl.DataFrame:
        return _gates(self._path(run_id), self.user.agency_param(), self.run(run_id)["has_sources"])

    # ---- what-if

    def scheme(self, run_id: str) -> Scheme:
        """The run's scheme: its file when it still has the recorded sha256, else the packaged one for the year."""
        r = self.run(run_id)
        f = r["scheme_file"]
        if f and Path(f).exists():
            s = load_scheme(f)
            if s.sha256 == r["scheme_sha256"]:
                return s
            log.warning("scheme file %s changed since run %s", f, run_id)
        return latest_scheme_for(r["year"])

    def whatif(self, run_id: str, weights: dict[str, float] | None = None,
               bands: dict[str, float] | None = None) -> pl.DataFrame:
        """Re-score the run's metric values with changed dimension weights and band minimums (not saved).

        ``weights``: dimension → weight (any non-negative numbers, rescaled to sum to 100);
        ``bands``: grade → minimum score (the lowest band stays at 0). Returns official and
        simulated total, grade and rank per agency the user may see.
        """
        base = self.scheme(run_id)
        scheme = modified_scheme(base, weights or {}, bands or {})
        values, counts, agencies, kinds = _scoring_inputs(
            self._path(run_id), self.run(run_id)["year"], base.veto[0].incident_kind if base.veto else None)
        _, grades = score_all(scheme, agencies, values, counts, kinds)
        sim = pl.DataFrame(
            [(g.agency_code, g.total, g.grade, g.rank) for g in grades],
            schema={"agency_code": pl.String, "sim_total": pl.Float64, "sim_grade": pl.String, "sim_rank": pl.Int32},
            orient="row",
        )
        official = self.grades(run_id).select("agency_code", "agency_name", "peer_group", "total", "grade", "rank", "vetoed")
        out = official.join(sim, on="agency_code", how="left").with_columns(
            (pl.col("sim_total") - pl.col("total")).round(2).alias("delta"),
            (pl.col("sim_grade") != pl.col("grade")).alias("grade_changed"),
        )
        return out.sort(["peer_group", "sim_rank", "agency_code"], descending=[True, False, False])


def modified_scheme(base: Scheme, weights: dict[str, float], bands: dict[str, float]) -> Scheme:
    """``base`` with new dimension weights (rescaled to 100) and band minimums; validated."""
    raw = {d.name: float(weights.get(d.name, d.weight)) for d in base.dimensions}
    if any(w < 0 for w in raw.values()) or sum(raw.values()) <= 0:
        raise ValueError("维度权重须为非负数且不能全为 0 / weights must be non-negative and not all zero")
    total = sum(raw.values())
    dims = [d.model_copy(update={"weight": raw[d.name] * 100.0 / total}) for d in base.dimensions]
    ordered = sorted(base.grades, key=lambda b: -b.min)
    mins = [0.0 if i == len(ordered) - 1 else float(bands.get(b.grade, b.min)) for i, b in enumerate(ordered)]
    if any(hi <= lo for hi, lo in zip(mins, mins[1:])) or mins[0] > 100:
        raise ValueError("等级分数线须自高到低严格递减且不超过 100 / band minimums must strictly decrease")
    new_bands = [b.model_copy(update={"min": m, "max": None if i == 0 else mins[i - 1]})
                 for i, (b, m) in enumerate(zip(ordered, mins))]
    return base.model_copy(update={"dimensions": dims, "grades": new_bands})


# --------------------------------------------------------------------------- cached queries
# Every cached function takes the agency parameter, so one user's rows never serve another.

_AGENCY = "($agency is null or {col} = $agency)"


@pn.cache(max_items=512)
def _agencies(path: str, agency: str | None) -> pl.DataFrame:
    return query(path, f"""
        select g.agency_code, a.agency_name, a.level, g.peer_group
        from grades as g left join agencies as a using (agency_code)
        where {_AGENCY.format(col='g.agency_code')}
        order by g.peer_group desc, g.agency_code
    """, {"agency": agency})


@pn.cache(max_items=512)
def _grades(path: str, agency: str | None) -> pl.DataFrame:
    # a run published before veto reasons were stored has no veto_reason column
    reason = "g.veto_reason" if "veto_reason" in query(path, "select * from grades limit 0").columns else "null::varchar"
    return query(path, f"""
        select g.run_id, g.year, g.agency_code, a.agency_name, g.peer_group,
               cast(g.total as double) as total, g.grade, g.vetoed, g.rank, {reason} as veto_reason
        from grades as g left join agencies as a using (agency_code)
        where {_AGENCY.format(col='g.agency_code')}
        order by g.peer_group desc, g.rank, g.agency_code
    """, {"agency": agency})


@pn.cache(max_items=512)
def _heatmap(path: str, agency: str | None) -> pl.DataFrame:
    return query(path, f"""
        select s.agency_code, a.agency_name, s.dimension,
               cast(sum(s.points) as double) as points, cast(sum(s.max_points) as double) as max_points,
               cast(case when sum(s.max_points) > 0 then 100 * sum(s.points) / sum(s.max_points) end as double) as rate
        from scores as s left join agencies as a using (agency_code)
        where s.max_points > 0 and {_AGENCY.format(col='s.agency_code')}
        group by all
        order by s.agency_code, s.dimension
    """, {"agency": agency})


@pn.cache(max_items=512)
def _indicators(path: str, agency: str | None) -> pl.DataFrame:
    if agency is None:  # one agency's page: never all agencies at once
        agency = DENIED
    return query(path, """
        select s.dimension, s.indicator, cast(v.value as double) as value,
               cast(v.numerator as double) as numerator, cast(v.denominator as double) as denominator,
               cast(v.count as double) as count,
               cast(s.points as double) as points, cast(s.max_points as double) as max_points,
               cast(case when s.max_points > 0 then s.max_points - coalesce(s.points, 0)
                         else -coalesce(s.points, 0) end as double) as lost
        from scores as s
        left join metric_values as v on v.agency_code = s.agency_code and v.metric_id = s.indicator
        where s.agency_code = $agency
        order by lost desc, s.dimension, s.indicator
    """, {"agency": agency})


@pn.cache(max_items=512)
def _evidence(path: str, agency: str | None) -> pl.DataFrame:
    if agency is None:
        agency = DENIED
    df = query(path, """
        select * from evidence where agency_code = $agency
        order by metric_id, due_at, record_id
    """, {"agency": agency})
    # each item's article is the rule's in force on its trigger day; else the run's articles for the metric
    item_article = pl.col("article") if "article" in df.columns else pl.lit(None, pl.String)
    df = df.select("metric_id", "agency_code", "record_table", "record_id", "reason", "due_at", "done_at",
                   "adjustment_id", item_article.alias("item_article"))
    articles = _articles(path)
    names = pl.DataFrame({"metric_id": list(METRICS), "metric_name": [m.name_zh for m in METRICS.values()],
                          "article": [articles.get(m, "") for m in METRICS]})
    return (df.join(names, on="metric_id", how="left")
            .with_columns(article=pl.coalesce("item_article", "article")).drop("item_article"))


@pn.cache(max_items=64)
def _articles(path: str) -> dict[str, str]:
    """Per metric, the articles of the rule profiles the published run applied."""
    from hzeval.rules import run_metric_articles

    with cursor(path) as cur:
        run_id, year = cur.execute("select run_id, year from runs order by finished_at desc limit 1").fetchall()[0]
        return run_metric_articles(cur, run_id, year)


@pn.cache(max_items=64, ttl=60)
def _supervision(path: str, as_of: dt.datetime, agency: str | None) -> pl.DataFrame:
    from hzeval.supervise import supervision_items

    with cursor(path) as cur:
        cur.execute(CALENDAR_MACROS.replace("create or replace macro", "create or replace temp macro"))
        return floats(supervision_items(cur, as_of, agency=agency))


@pn.cache(max_items=128)
def _gates(path: str, agency: str | None, has_projects: bool) -> pl.DataFrame:
    name = "p.project_name" if has_projects else "cast(null as varchar)"
    join = "left join projects as p using (project_id)" if has_projects else ""
    return query(path, f"""
        select g.project_id, {name} as project_name, g.owner_code, a.agency_name as owner_name, g.passed,
               g.failed_conditions, g.failed_resources, g.accepted_while_failing, g.checked_at
        from project_gates as g {join}
        left join agencies as a on a.agency_code = g.owner_code
        where {_AGENCY.format(col='g.owner_code')}
        order by g.accepted_while_failing desc, g.passed, g.project_id
    """, {"agency": agency})


@pn.cache(max_items=64)
def _scoring_inputs(path: str, year: int, veto_kind: str | None):
    """Metric values, counts, agencies and incident kinds of the run, as :func:`score_all` takes them."""
    mv = query(path, "select agency_code, metric_id, cast(value as double) as value, count from metric_values")
    values = {(r[0], r[1]): r[2] for r in mv.iter_rows()}
    counts = {(r[0], r[1]): int(r[3] or 0) for r in mv.iter_rows()}
    tables = {r[0] for r in duckdb_tables(path)}
    has_type = "agency_type" in query(path, "select * from agencies limit 0").columns
    ags = query(path, "select agency_code, level, coalesce(is_authority, false) as auth, "
                + ("agency_type" if has_type else "null::varchar") + " as agency_type from agencies order by agency_code")
    agencies = [AgencyInfo(c, lv, bool(a), t) for c, lv, a, t in ags.iter_rows()]
    kinds: dict[str, set[str]] = {}
    if "incidents" in tables and "adjustment_id" in query(path, "select * from evidence limit 0").columns:
        # the incidents the run counted: its security_incidents evidence, less those excused (容错免责)
        inc = query(path, """
            select distinct e.agency_code, n.kind from evidence as e join incidents as n on n.incident_id = e.record_id
            where e.metric_id = 'security_incidents' and not coalesce(e.reason like '已豁免%', false)
        """)
        for code, kind in inc.iter_rows():
            kinds.setdefault(code, set()).add(kind)
    elif "incidents" in tables:
        run = query(path, "select as_of from runs").row(0)[0]
        inc = query(path, """
            select distinct agency_code, kind from incidents
            where occurred_at >= $s and occurred_at < $e and occurred_at <= $t
        """, {"s": dt.datetime(year, 1, 1), "e": dt.datetime(year + 1, 1, 1), "t": run})
        for code, kind in inc.iter_rows():
            kinds.setdefault(code, set()).add(kind)
    else:  # an older published file: the official veto flags stand in for the incidents
        vetoed = query(path, "select agency_code from grades where vetoed")
        kinds = {c: {veto_kind} for c in vetoed["agency_code"]} if veto_kind else {}
    return values, counts, agencies, kinds


def evidence_buffer(store: Store, run_id: str, agency: str, metric: str | None, text: str | None) -> io.BytesIO:
    return io.BytesIO(store.evidence_csv(run_id, agency, metric, text))
