"""The dashboard's data layer: every query the pages run, over published runs only.

Reads ``published/<run_id>.duckdb`` files (DESIGN §2), never the live warehouse, so the
dashboard keeps working while ``assess`` writes. Each file is one finished run; together they
give the run selector and the trend across years.

Access control lives here, in the queries: a :class:`Store` is bound to a :class:`User`; for a
role ``agency:<code>`` every agency-bearing query is filtered to that code on the server,
whatever agency the caller asks for (asking for another gives an empty result).

Every read goes through :class:`hzeval.runs.RunReader` (the one read layer: points lost, the
veto, evidence with Chinese table names, supervision at the run's as-of time); this module only
caches per (file, agency) and shapes for the pages. All numbers leave as float (DECIMAL is cast
to DOUBLE) so nothing reaches Bokeh as Decimal. No metric or scoring logic here: supervision is
:func:`hzeval.assessment.supervise.supervision_items`, the what-if is :func:`hzeval.assessment.scoring.score_all`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import duckdb
import panel as pn
import polars as pl

from hzeval import present
from hzeval.assessment.scheme import Scheme, latest_scheme_for, load_scheme
from hzeval.assessment.scoring import score_all
from hzeval.errors import HzevalError, RunNotFoundError
from hzeval.runs import (
    DENIED,
    NOT_GRADED_GROUP,
    RunReader,
    agency_param,  # noqa: F401 - DENIED re-exported
    previous_official,
    with_notified,
    year_change,
)
from hzeval.store.published import published_runs, resolve_run
from hzeval.util.frame import floats, frame, neutralise  # noqa: F401 - floats re-exported

log = logging.getLogger(__name__)

ROLES = ("leader", "evaluator")


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
        return agency_param(self.scope, requested)


def valid_role(role: str) -> bool:
    return role in ROLES or (role.startswith("agency:") and len(role) > len("agency:"))


# --------------------------------------------------------------------------- reading published files

_CONNECTIONS: dict[str, tuple[int | None, duckdb.DuckDBPyConnection]] = {}
_LOCK = threading.Lock()


@contextlib.contextmanager
def cursor(path: Path | str):
    """A read-only cursor on one published file (temp tables and the calendar macros available)."""
    key = str(path)
    try:  # a run made official is published again under the same name: a new file, a new connection
        ino = Path(key).stat().st_ino
    except OSError:
        ino = None
    with _LOCK:
        held = _CONNECTIONS.get(key)
        if held is not None and held[0] != ino:
            # DuckDB keeps one database per path and process while a connection to it is open: close the
            # replaced file's (its readers' cursors are short-lived), then the path opens the new file
            held[1].close()
            held = None
        if held is None:
            held = _CONNECTIONS[key] = (ino, duckdb.connect(key, read_only=True))
        con = held[1]
    cur = con.cursor()
    try:
        yield cur
    finally:
        cur.close()


@contextlib.contextmanager
def reader(path: Path | str, agency: str | None = None):
    """A :class:`RunReader` on one published file limited to ``agency`` (None = every agency;
    :data:`DENIED` = none): the caller passes what :meth:`User.agency_param` allows."""
    with cursor(path) as cur:
        yield RunReader(cur, path=path, scope=agency)


def close_all() -> None:
    with _LOCK:
        for _, con in _CONNECTIONS.values():
            con.close()
        _CONNECTIONS.clear()


def query(path: Path | str, sql: str, params: dict | None = None) -> pl.DataFrame:
    """One query on a published file, numbers as float (:func:`hzeval.util.frame.frame`)."""
    with cursor(path) as cur:
        return frame(cur, sql, params, as_float=True)


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


@pn.cache(max_items=256)
def _run_meta(path: str, mtime: float) -> dict | None:
    try:
        with reader(path) as r:
            meta = {**r.info(), "scheme_file": r.scheme_file, "status": "finished", "has_sources": r.has_sources}
    except (duckdb.Error, RunNotFoundError) as exc:  # a foreign, damaged or unfinished file: skip it
        log.warning("skipping %s: %s", path, exc)
        return None
    meta.pop("published_file", None)
    meta["path"] = path
    return meta


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
        for p in published_runs(self.folder):
            m = _run_meta(str(p), _mtime(p))
            if m and m["status"] == "finished":
                metas.append(m)
        schema = {
            "run_id": pl.String(),
            "year": pl.Int32(),
            "data_through": pl.Datetime("us"),
            "as_of": pl.Datetime("us"),
            "finished_at": pl.Datetime("us"),
            "scheme_name": pl.String(),
            "scheme_sha256": pl.String(),
            "scheme_file": pl.String(),
            "status": pl.String(),
            "publication": pl.String(),
            "path": pl.String(),
            "has_sources": pl.Boolean(),
            "stale_warnings": pl.List(pl.String()),
        }
        df = pl.DataFrame(metas, schema=schema) if metas else pl.DataFrame(schema=schema)
        return df.sort(["finished_at", "run_id"], descending=True)

    def latest_run_id(self, year: int | None = None) -> str | None:
        """The run to show by default: the latest of ``year`` (None: of the latest year) by the one
        resolver (:func:`hzeval.store.published.resolve_run`) when it is readable, else the newest
        readable run (of ``year``)."""
        runs = self.runs()
        if year is not None:
            runs = runs.filter(pl.col("year") == year)
        path = resolve_run(self.folder, year=year)
        if path is not None and path.stem in runs["run_id"].to_list():
            return path.stem
        return runs["run_id"][0] if runs.height else None

    def run_labels(self) -> dict[str, str]:
        """Selector labels → run ids: short enough to show whole in the sidebar ("2025 年度 · 正式 ·
        截至 2026-01-05"); a label two runs share ends in each run id's last six characters."""
        rows = list(self.runs().iter_rows(named=True))
        short = [
            f"{r['year']} 年度 · {present.publication_zh(r['publication'])} · 截至 {r['as_of']:%Y-%m-%d}" for r in rows
        ]
        return {
            (label if short.count(label) == 1 else f"{label} · {r['run_id'][-6:]}"): r["run_id"]
            for label, r in zip(short, rows)
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
        return {
            f"{r['agency_name'] or '（未登记）'}（{r['agency_code']}）": r["agency_code"]
            for r in df.iter_rows(named=True)
        }

    def agency_names(self, run_id: str) -> dict[str, str]:
        return dict(zip(self.agencies(run_id)["agency_code"], self.agencies(run_id)["agency_name"]))

    # ---- overview

    def grades(self, run_id: str, peer_group: str | None = None) -> pl.DataFrame:
        df = _grades(self._path(run_id), self.user.agency_param())
        return df.filter(pl.col("peer_group") == peer_group) if peer_group else df

    def peer_groups(self, run_id: str) -> list[str]:
        # 参照执行 units (not graded, no rank) are listed last
        return sorted(
            set(self.grades(run_id)["peer_group"].drop_nulls()), key=lambda g: (g == NOT_GRADED_GROUP, g != "市级", g)
        )

    def kpis(self, run_id: str, now: dt.datetime | None = None) -> dict:
        """Graded agencies, grade distribution, average, vetoed count and the items overdue at the
        run's as-of time (like every other number on the page; ``now`` is accepted and ignored)."""
        g = self.grades(run_id).filter(pl.col("graded"))  # 参照执行 units are not graded
        dist = {k: n for k, n in g.group_by("grade").len().iter_rows()}
        run = self.run(run_id)
        sup = self.supervision(run["as_of"], run_id=run_id)
        overdue = sup.filter(pl.col("state") == "逾期").height if sup is not None else None
        return {
            "graded": g.height,
            "distribution": dist,
            "average": float(cast(float, g["total"].mean())) if g.height else None,
            "vetoed": g.filter(pl.col("vetoed")).height,
            "as_of": run["as_of"],
            "overdue_now": overdue,
        }

    def year_changes(self, run_id: str) -> pl.DataFrame:
        """较上年 per agency the user may see against the previous year's official run in this folder
        (:func:`hzeval.runs.year_change`; 上年无正式结果 when that year has none)."""
        run = self.run(run_id)
        prev = previous_official(self.folder, run["year"])
        return _year_changes(
            run["path"],
            str(prev) if prev is not None else None,
            _mtime(prev) if prev is not None else None,
            self.user.agency_param(),
        )

    def previous_note(self, run_id: str) -> str:
        """Which previous-year run 较上年 compares with, or why none (:func:`hzeval.present.previous_note`)."""
        year = self.run(run_id)["year"]
        prev = resolve_run(self.folder, year=year - 1)
        meta = _run_meta(str(prev), _mtime(prev)) if prev is not None else None
        return present.previous_note(year, meta["publication"] if meta else None, prev.stem if prev else None)

    def heatmap(self, run_id: str) -> pl.DataFrame:
        """Agency × dimension score rate (points / max points, %; NULL = nothing applicable),
        deductions left out, agencies ordered by total (best first)."""
        return _heatmap(self._path(run_id), self.user.agency_param())

    def trend(self, agency: str | None = None) -> pl.DataFrame:
        """Total and grade per year from the newest published run of each year."""
        runs = self.runs()
        if runs.is_empty():
            return pl.DataFrame(
                schema={
                    "year": pl.Int32,
                    "agency_code": pl.String,
                    "agency_name": pl.String,
                    "total": pl.Float64,
                    "grade": pl.String,
                    "run_id": pl.String,
                }
            )
        latest = [self.latest_run_id(y) for y in sorted(set(runs["year"]))]
        newest = runs.filter(pl.col("run_id").is_in(latest)).sort("year")
        param = self.user.agency_param(agency)
        frames = [
            _grades(r["path"], param).select("year", "agency_code", "agency_name", "total", "grade", "run_id")
            for r in newest.iter_rows(named=True)
        ]
        return pl.concat(frames).sort(["agency_code", "year"])

    # ---- one agency

    def grade(self, run_id: str, agency: str) -> dict | None:
        df = _grades(self._path(run_id), self.user.agency_param(agency))
        return df.row(0, named=True) if df.height else None

    def indicators(self, run_id: str, agency: str) -> pl.DataFrame:
        """The agency's indicator and deduction rows with value, points and points lost (most lost first)."""
        return _indicators(self._path(run_id), self.user.agency_param(agency))

    def score_line(self, run_id: str, agency: str) -> str | None:
        """The agency's "Σ得分 − 扣分 = 总分" line (None when not visible)."""
        return _score_line(self._path(run_id), self.user.agency_param(agency))

    def article(self, run_id: str, key: str) -> str:
        """The articles the run's rule profiles give a metric or a provision."""
        return _article(self._path(run_id), key)

    def evidence(self, run_id: str, agency: str, metric: str | None = None, text: str | None = None) -> pl.DataFrame:
        df = _evidence(self._path(run_id), self.user.agency_param(agency))
        if metric:
            df = df.filter(pl.col("metric_id") == metric)
        if text:
            df = df.filter(
                pl.col("record_id").str.contains(text, literal=True)
                | pl.col("reason").fill_null("").str.contains(text, literal=True)
            )
        return df

    def evidence_csv(self, run_id: str, agency: str, metric: str | None = None, text: str | None = None) -> bytes:
        """Evidence as CSV (UTF-8 with BOM, formula-neutralised): evaluators only."""
        if not self.user.can_export:
            raise PermissionError("只有评估人员可以导出证据 / only evaluators may export evidence")
        df = self.evidence(run_id, agency, metric, text)
        labels = {
            "metric_name": "指标",
            "article": "条款",
            "agency_code": "机构代码",
            "record_table_zh": "来源表",
            "record_id": "记录编号",
            "reason": "原因",
            "deadline": "截止时间",
            "done_text": "办结时间",
            "record_time": "记录时间",
            "adjustment_id": "争议调整",
        }
        df = df.with_columns(deadline=present.deadline_expr("due_at"))
        out = (
            df.select(list(labels))
            .with_columns([neutralise(pl.col(c)).alias(c) for c in labels if df.schema[c] == pl.String])
            .rename(labels)
        )
        return b"\xef\xbb\xbf" + out.write_csv().encode("utf-8")

    # ---- supervision and gates

    def sources_run(self) -> dict | None:
        """The newest published file that carries the input tables supervision needs."""
        runs = self.runs().filter(pl.col("has_sources"))
        return runs.row(0, named=True) if runs.height else None

    def supervision(
        self, as_of: dt.datetime, agency: str | None = None, run_id: str | None = None
    ) -> pl.DataFrame | None:
        """``hzeval supervise`` as of ``as_of`` on the newest published data (or on ``run_id``'s
        file); None if it does not publish the inputs."""
        src = self.run(run_id) if run_id else self.sources_run()
        if src is None or not src["has_sources"]:
            return None
        as_of = as_of.replace(second=0, microsecond=0)
        # one cached list of the whole city, filtered here to what the user may see: the 督办 list of
        # one agency is the city's rows of that agency in the same order (supervision_items computes
        # every item and filters by agency_code last), and 305 offline agency files then compute it
        # once, not once each (issue 29 item 2); with when each item was notified (hzeval notify)
        items = _supervision(src["path"], as_of, None)
        code = agency if self.user.scope is None else self.user.agency_param(agency)
        if code is not None:
            items = items.filter(pl.col("agency_code") == code)
        return with_notified(items, self.folder)

    def gates(self, run_id: str) -> pl.DataFrame:
        return _gates(self._path(run_id), self.user.agency_param())

    # ---- what-if

    def scheme(self, run_id: str) -> Scheme:
        """The run's scheme: its file when it still has the recorded sha256, else the packaged one for the year."""
        r = self.run(run_id)
        f = r["scheme_file"]
        return _scheme(f, _mtime(Path(f)) if f and Path(f).exists() else None, r["scheme_sha256"], r["year"], run_id)

    def whatif(
        self, run_id: str, weights: dict[str, float] | None = None, bands: dict[str, float] | None = None
    ) -> pl.DataFrame:
        """Re-score the run's metric values with changed dimension weights and band minimums (not saved).

        ``weights``: dimension → weight (any non-negative numbers, rescaled to sum to 100);
        ``bands``: grade → minimum score (the lowest band stays at 0). Returns official and
        simulated total, grade and rank per agency the user may see.
        """
        base = self.scheme(run_id)
        scheme = modified_scheme(base, weights or {}, bands or {})
        values, counts, agencies, kinds = _scoring_inputs(self._path(run_id))
        _, grades = score_all(scheme, agencies, values, counts, kinds)
        sim = pl.DataFrame(
            [(g.agency_code, g.total, g.grade, g.rank) for g in grades],
            schema={"agency_code": pl.String, "sim_total": pl.Float64, "sim_grade": pl.String, "sim_rank": pl.Int32},
            orient="row",
        )
        official = self.grades(run_id).select(
            "agency_code", "agency_name", "peer_group", "total", "grade", "rank", "vetoed"
        )
        out = official.join(sim, on="agency_code", how="left").with_columns(
            (pl.col("sim_total") - pl.col("total")).round(2).alias("delta"),
            (pl.col("sim_grade") != pl.col("grade")).alias("grade_changed"),
        )
        # agencies whose grade changed first, then by group and simulated rank
        return out.sort(
            ["grade_changed", "peer_group", "sim_rank", "agency_code"], descending=[True, True, False, False]
        )


@pn.cache(max_items=32)
def _scheme(file: str | None, mtime: float | None, sha256: str, year: int, run_id: str) -> Scheme:
    """The run's scheme (cached per file version): its file when it still has the recorded sha256,
    else the packaged one for the year."""
    if file and mtime is not None:
        s = load_scheme(file)
        if s.sha256 == sha256:
            return s
        log.warning("scheme file %s changed since run %s", file, run_id)
    return latest_scheme_for(year)


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
    new_bands = [
        b.model_copy(update={"min": m, "max": None if i == 0 else mins[i - 1]})
        for i, (b, m) in enumerate(zip(ordered, mins))
    ]
    return base.model_copy(update={"dimensions": dims, "grades": new_bands})


# --------------------------------------------------------------------------- cached queries
# Every cached function takes the agency parameter, so one user's rows never serve another.


@pn.cache(max_items=512)
def _agencies(path: str, agency: str | None) -> pl.DataFrame:
    with reader(path, agency) as r:  # the agency selector lists agencies by group and code
        return (
            r.grades()
            .select("agency_code", "agency_name", "level", "peer_group")
            .sort(["peer_group", "agency_code"], descending=[True, False])
        )


@pn.cache(max_items=512)
def _grades(path: str, agency: str | None) -> pl.DataFrame:
    with reader(path, agency) as r:
        return floats(r.grades())


@pn.cache(max_items=512)
def _year_changes(path: str, prev: str | None, prev_mtime: float | None, agency: str | None) -> pl.DataFrame:
    # prev_mtime keys the cache: a run made official is published again under the same name
    with reader(path, agency) as cur:
        if prev is None:
            return year_change(cur, None)
        with reader(prev, agency) as old:
            return year_change(cur, old)


@pn.cache(max_items=512)
def _heatmap(path: str, agency: str | None) -> pl.DataFrame:
    with reader(path, agency) as r:
        order = r.grades().select("agency_code", "total", "grade_label", "vetoed")
        m = r.dimension_matrix()
    return (
        m.join(order, on="agency_code", how="inner")
        .with_columns((pl.col("rate") * 100).alias("rate"))
        .sort(["total", "agency_code"], descending=[True, False], maintain_order=True)
    )


@pn.cache(max_items=512)
def _indicators(path: str, agency: str | None) -> pl.DataFrame:
    if agency is None:  # one agency's page: never all agencies at once
        agency = DENIED
    with reader(path, agency) as r:
        df = r.scores(agency)
    return (
        floats(df)
        .with_columns(pl.col("count").cast(pl.Float64))
        .sort(["lost", "dimension", "metric_id"], descending=[True, False, False], maintain_order=True)
    )


@pn.cache(max_items=512)
def _score_line(path: str, agency: str | None) -> str | None:
    if agency is None:
        agency = DENIED
    with reader(path, agency) as r:
        return r.score_line(agency)


@pn.cache(max_items=512)
def _evidence(path: str, agency: str | None) -> pl.DataFrame:
    if agency is None:
        agency = DENIED
    with reader(path, agency) as r:
        return r.evidence(agency)


@pn.cache(max_items=256)
def _article(path: str, key: str) -> str:
    with reader(path) as r:
        return r.rule_article(key)


@pn.cache(max_items=64, ttl=60)
def _supervision(path: str, as_of: dt.datetime, agency: str | None) -> pl.DataFrame:
    with reader(path, agency) as r:
        return floats(r.supervision(as_of))


@pn.cache(max_items=128)
def _gates(path: str, agency: str | None) -> pl.DataFrame:
    with reader(path, agency) as r:
        return r.gates()


@pn.cache(max_items=64)
def _scoring_inputs(path: str):
    """Metric values, counts, agencies and incident kinds of the run, as :func:`score_all` takes them."""
    with reader(path) as r:
        return r.scoring_inputs()


def evidence_buffer(store: Store, run_id: str, agency: str, metric: str | None, text: str | None) -> io.BytesIO:
    return io.BytesIO(store.evidence_csv(run_id, agency, metric, text))
