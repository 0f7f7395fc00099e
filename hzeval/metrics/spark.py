"""The Spark engine (DESIGN §9): the same metric SQL blocks, run by Apache Spark.

The blocks in ``sql/*.sql`` are written once, in DuckDB's dialect. For Spark each block is
parsed with sqlglot, and before it is written out in Spark's dialect:

- bound ``$params`` become literals (timestamps as ``TIMESTAMP_NTZ``, like DuckDB's naive
  ``TIMESTAMP``);
- calls of the DuckDB macros (:data:`hzeval.metrics.engine.MACROS` and the calendar macros
  :data:`hzeval.store.calendar.MACROS`) are expanded in the syntax tree: the macro's body with its
  parameters replaced by the call's arguments. The working-day calendar is therefore a table
  (``calendar``) joined like any other; no Python UDF runs on Spark;
- a ``create or replace temp table X as …`` step becomes a cached temp view ``X``.

The DuckDB side first runs :func:`hzeval.metrics.engine.compute_items` for no metric: the
macros, scheme and rule tables, the step tables and an empty ``metric_items`` (an assessment's
corrections are already in place, as temp tables shadowing the records they correct:
:func:`hzeval.assessment.adjust.compute_adjusted_items`, which also marks the excused items after). Spark
then reads the contract's tables (small ones as Arrow through the driver, large ones as Parquet
exported from the warehouse, or all of them from a lake folder: ``--lake DIR`` with
``DIR/<table>`` as a Parquet file or folder, per the contract's names), every other table a block
reads (calendar, scheme and rule tables) from the DuckDB session by name, and runs the steps and
metric blocks, one Spark job per metric block. Each block's item rows come back into
``metric_items`` (``insert … by name``, as the DuckDB engine): written by the executors as
Parquet into the work folder and read by DuckDB when this machine can read that folder (local
mode, or a shared ``workdir``), else collected as Arrow through the driver (Spark Connect, a
cluster without a shared folder). The family steps (``int_project_gates``) replace DuckDB's, so
roll-up, scoring, gates and publishing do not change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from hzeval.contract import TABLES
from hzeval.errors import SparkEngineError
from hzeval.metrics.engine import MACROS, Block, Window, check_calendar, statements
from hzeval.metrics.engine import compute_items as duckdb_compute_items
from hzeval.store import calendar

log = logging.getLogger(__name__)

#: DuckDB temp macros: ``create or replace [temp] macro name(args) as body;``
_MACRO = re.compile(
    r"create\s+or\s+replace\s+(?:temp\s+)?macro\s+(\w+)\s*\(([^)]*)\)\s+as\s+(.*?);\s*(?=create\s|\Z)",
    re.I | re.S,
)

#: warehouse tables up to this many rows travel to Spark as Arrow through the driver; larger ones
#: (the call and aggregation logs) are exported to Parquet and read by the executors
SMALL_TABLE_ROWS = 100_000

#: Spark's broadcast-join threshold for the session (Spark's default is 10 MB): the small tables of
#: a province (grants, register, calendar, rule profiles) stay broadcast under it
BROADCAST_THRESHOLD = "64MB"


# --------------------------------------------------------------------------- transpiling


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: exp.Expr


def _aggregate_scalar_subqueries(body: exp.Expr) -> exp.Expr:
    """Spark requires a correlated scalar subquery to be an aggregate: ``(select x …)`` becomes
    ``(select max(x) …)``. The same value: DuckDB's macro is an error when it yields more than
    one row, and the calendar's subqueries look up one day by its key."""

    def wrap(node):
        if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select):
            sel = node.this
            if len(sel.expressions) == 1 and not sel.args.get("group") and not sel.find(exp.AggFunc):
                col = sel.expressions[0]
                alias = col.alias_or_name if isinstance(col, exp.Alias) else None
                inner = col.this if isinstance(col, exp.Alias) else col
                agg = exp.Max(this=inner.copy())
                sel.set("expressions", [exp.alias_(agg, alias) if alias else agg])
        return node

    return body.transform(wrap, copy=True)


def parse_macros(text: str) -> dict[str, Macro]:
    """The macros of a DuckDB ``create macro`` script, bodies parsed in DuckDB's dialect."""
    macros = {}
    for m in _MACRO.finditer(text):
        params = tuple(p.strip().lower() for p in m.group(2).split(",") if p.strip())
        body = sqlglot.parse_one(m.group(3), read="duckdb")
        macros[m.group(1).lower()] = Macro(m.group(1).lower(), params, _aggregate_scalar_subqueries(body))
    return macros


@functools.cache
def all_macros() -> dict[str, Macro]:
    """The engine's temp macros and the calendar's macros (parsed once per process)."""
    return {**parse_macros(MACROS), **parse_macros(calendar.MACROS)}


def _call_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower() if node.key != "anonymous" else None
    return None


def _call_args(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    return [v for v in node.args.values() if isinstance(v, exp.Expression)]


def expand_macros(tree: exp.Expr, macros: dict[str, Macro], depth: int = 0) -> exp.Expr:
    """Replace every macro call by the macro's body with its parameters bound to the call's
    arguments (unqualified parameter names only; qualified columns belong to the body's tables)."""
    if depth > 20:
        raise SparkEngineError("宏展开层数过多（宏之间循环调用）", "macro expansion too deep (recursive macros)")
    found = False

    def expand(node):
        nonlocal found
        name = _call_name(node)
        macro = macros.get(name) if name else None
        if macro is None or not isinstance(node, exp.Anonymous):
            return node
        args = _call_args(node)
        if len(args) != len(macro.params):
            raise SparkEngineError(
                f"宏 {macro.name} 需要 {len(macro.params)} 个参数，调用给了 {len(args)} 个",
                f"macro {macro.name} takes {len(macro.params)} arguments, the call gives {len(args)}",
            )
        bound = dict(zip(macro.params, args))
        found = True

        def bind(inner):
            if isinstance(inner, exp.Column) and not inner.table and inner.name.lower() in bound:
                return exp.Paren(this=bound[inner.name.lower()].copy())
            return inner

        return exp.Paren(this=macro.body.transform(bind, copy=True))

    out = tree.transform(expand, copy=True)
    return expand_macros(out, macros, depth + 1) if found else out


def _literal(value) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("timestamp"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("date"))
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, (list, tuple)):  # e.g. $review_events: a list literal (array(...) in Spark)
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def bind_params(tree: exp.Expr, params: dict, where: str) -> exp.Expr:
    def bind(node):
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            name = node.name
            if name not in params:
                raise SparkEngineError(f"{where} 需要参数 ${name}", f"{where} needs parameter ${name}")
            return _literal(params[name])
        return node

    return tree.transform(bind, copy=True)


@dataclass(frozen=True)
class SparkStatement:
    """One block as Spark runs it: a query, and the temp view it creates (steps) or None."""

    block: Block
    view: str | None
    sql: str
    tables: frozenset[str] = frozenset()  # tables and views it reads (CTE names excluded)


def to_spark(block: Block, params: dict, macros: dict[str, Macro] | None = None) -> SparkStatement:
    """Transpile one DuckDB block into Spark SQL (params bound, macros expanded)."""
    where = f"{block.family}.sql/{block.name}"
    macros = all_macros() if macros is None else macros
    try:
        tree = sqlglot.parse_one(block.sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SparkEngineError(f"无法解析 {where}：{exc}", f"cannot parse {where}: {exc}") from exc
    view = None
    if isinstance(tree, exp.Create):
        if str(tree.args.get("kind", "")).upper() not in ("TABLE", "VIEW"):
            raise SparkEngineError(
                f"{where} 只能创建临时表", f"{where}: only 'create temp table … as' steps are supported"
            )
        view = (tree.this.this if isinstance(tree.this, exp.Schema) else tree.this).name
        tree = tree.expression
    tree = bind_params(tree, params, where)
    tree = expand_macros(tree, macros)
    tree = _spark_fixes(tree)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    tables = frozenset(
        t.name.lower()
        for t in tree.find_all(exp.Table)
        if isinstance(t.this, exp.Identifier) and t.name.lower() not in ctes
    )
    return SparkStatement(block, view, tree.sql(dialect="spark", pretty=True), tables)


def _params_key(block: Block, params: dict) -> tuple:
    # hashable for the cache: list parameters (e.g. $review_events) as tuples
    return tuple(
        sorted((k, tuple(params[k]) if isinstance(params[k], list) else params[k]) for k in block.params if k in params)
    )


@functools.lru_cache(maxsize=512)
def _to_spark_cached(block: Block, params_key: tuple) -> SparkStatement:
    return to_spark(block, dict(params_key))


def plan(window: Window, metric_ids=None, macros: dict[str, Macro] | None = None) -> list[SparkStatement]:
    """The Spark statements for ``window``, in order. For a subset of metrics only the steps
    they need (directly or through other steps) are kept; for all metrics, every step."""
    stmts = [
        to_spark(b, p, macros) if macros is not None else _to_spark_cached(b, _params_key(b, p))
        for b, p in statements(window, metric_ids)
    ]
    if metric_ids is None:
        return stmts
    needed: set[str] = set()
    for st in reversed(stmts):
        if st.view is None or st.view.lower() in needed:
            needed |= st.tables
    return [st for st in stmts if st.view is None or st.view.lower() in needed]


#: make_interval(years, months, weeks, days, hours, mins, secs) position of each interval unit
_INTERVAL_POS = {"YEAR": 0, "MONTH": 1, "WEEK": 2, "DAY": 3, "HOUR": 4, "MINUTE": 5, "SECOND": 6}
_INTERVAL_FUNCS = {
    "to_years": "YEAR",
    "to_months": "MONTH",
    "to_weeks": "WEEK",
    "to_days": "DAY",
    "to_hours": "HOUR",
    "to_minutes": "MINUTE",
    "to_seconds": "SECOND",
}
#: strftime codes as Spark datetime patterns (ISO week-based ones have no pattern: see _strftime)
_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%j": "DDD"}


def _make_interval(amount: exp.Expression, unit: str) -> exp.Expression:
    """A calendar interval (months and days in one type, as DuckDB's ``interval``): Spark's ANSI
    intervals are either year-month or day-time, and a ``case`` mixing them does not type."""
    args: list[exp.Expression] = [exp.Literal.number(0) for _ in range(7)]
    if unit not in _INTERVAL_POS:
        raise SparkEngineError(f"不支持的时间间隔单位 {unit}", f"unsupported interval unit {unit}")
    if isinstance(amount, exp.Literal) and amount.is_string:
        amount = exp.Literal.number(amount.this)
    if not (isinstance(amount, exp.Literal) or unit == "SECOND"):
        amount = exp.cast(amount, exp.DataType.build("int"))
    args[_INTERVAL_POS[unit]] = amount
    return exp.Anonymous(this="make_interval", expressions=args)


def _strftime(ts: exp.Expression, fmt: str) -> exp.Expression:
    """strftime with ISO week codes (%G year, %V week): Spark 3+ has no week-based patterns."""
    pieces: list[exp.Expression] = []
    for token in re.split(r"(%[a-zA-Z%])", fmt):
        if not token:
            continue
        if token == "%G":
            pieces.append(
                exp.cast(
                    exp.Anonymous(this="date_part", expressions=[exp.Literal.string("YEAROFWEEK"), ts.copy()]), "string"
                )
            )
        elif token == "%V":
            week = exp.cast(exp.Anonymous(this="weekofyear", expressions=[ts.copy()]), "string")
            pieces.append(
                exp.Anonymous(this="lpad", expressions=[week, exp.Literal.number(2), exp.Literal.string("0")])
            )
        elif token in _STRFTIME:
            pieces.append(
                exp.Anonymous(this="date_format", expressions=[ts.copy(), exp.Literal.string(_STRFTIME[token])])
            )
        elif token.startswith("%") and token != "%%":
            raise SparkEngineError(
                f"strftime 格式 {token} 无 Spark 对应", f"strftime code {token} has no Spark equivalent"
            )
        else:
            pieces.append(exp.Literal.string(token.replace("%%", "%")))
    return exp.Concat(expressions=pieces) if len(pieces) > 1 else pieces[0]


def _spark_fixes(tree: exp.Expr) -> exp.Expr:
    """DuckDB constructs sqlglot does not carry over to Spark with the same meaning."""

    def fix(node):
        if isinstance(node, exp.Interval) and node.args.get("unit") is not None:
            return _make_interval(node.this, node.unit.name.upper().rstrip("S"))
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _INTERVAL_FUNCS:
            return _make_interval(node.expressions[0], _INTERVAL_FUNCS[str(node.this).lower()])
        if isinstance(node, exp.TimeToStr) and isinstance(node.args.get("format"), exp.Literal):
            fmt = node.args["format"].this
            if "%G" in fmt or "%V" in fmt:
                return _strftime(node.this, fmt)
        if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
            # range(a, b) / generate_series(a, b) in FROM: a generator Spark takes as a table
            series = node.this
            end = series.args["end"]
            if series.args.get("is_end_exclusive"):
                end = exp.Sub(this=end.copy(), expression=exp.Literal.number(1))
            args = [series.args["start"].copy(), end]
            if series.args.get("step") is not None:
                args.append(series.args["step"].copy())
            gen = exp.Anonymous(this="explode", expressions=[exp.Anonymous(this="sequence", expressions=args)])
            return exp.Table(this=gen, alias=node.args.get("alias"))
        return node

    return tree.transform(fix, copy=True)


# --------------------------------------------------------------------------- session and data


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkEngineError(
            "未安装 Spark 引擎：请运行 pip install 'hzeval[spark]'",
            "the Spark engine is not installed: pip install 'hzeval[spark]'",
        ) from exc
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise SparkEngineError(
            "找不到 Java：Spark 本地模式需要 Java 17 或更高（Debian: apt-get install default-jre-headless）",
            "Java not found: Spark local mode needs Java 17+ (Debian: apt-get install default-jre-headless)",
        )


def session(
    master: str | None = None, *, remote: str | None = None, app_name: str = "hzeval", conf: dict | None = None
):
    """A SparkSession: ``remote`` (Spark Connect, ``sc://host:15002``), else ``master``
    (``local[*]`` by default, ``spark://host:7077``, ``yarn``…). Timestamps are naive
    (``TIMESTAMP_NTZ``) and the session time zone UTC, matching DuckDB's ``TIMESTAMP``."""
    _require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(master or "local[*]").config("spark.ui.showConsoleProgress", "false")
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        "spark.sql.ansi.enabled": "false",
        # the grants, register and scheme tables travel as Arrow (see SMALL_TABLE_ROWS), and Spark
        # sizes such a relation by its uncompressed rows: at the default 10 MB the ~100k grants of a
        # city were planned as a sort-merge join that shuffled the 5M calls of out_of_scope_calls;
        # 64 MB keeps them a broadcast (benchmarks/NOTES.md, "Spark engine")
        "spark.sql.autoBroadcastJoinThreshold": BROADCAST_THRESHOLD,
        **(conf or {}),
    }
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def _lake_path(lake: str, table: str) -> str | None:
    """``DIR/<table>.parquet`` or ``DIR/<table>/`` (a Parquet folder, Hive-style partitions
    allowed); None when neither exists. Non-local URIs (hdfs://, s3a://…) are taken as folders."""
    if "://" in lake and not lake.startswith("file://"):
        return f"{lake.rstrip('/')}/{table}"
    root = Path(lake.removeprefix("file://"))
    for candidate in (root / f"{table}.parquet", root / table):
        if candidate.exists():
            return str(candidate.resolve())
    return None


@dataclass
class SparkRunStats:
    """What one Spark computation cost (seconds), for logs and benchmarks."""

    export_s: float = 0.0
    spark_s: float = 0.0
    writeback_s: float = 0.0
    items: int = 0
    #: (block, seconds) of each metric block's Spark job, in plan order (steps run inside them)
    blocks: list = field(default_factory=list)
    #: how the items came back: "parquet" (written by Spark, read by DuckDB) or "arrow" (driver)
    items_via: str = ""


class SparkEngine:
    """Computes the metric items on Spark; everything before and after stays in DuckDB.

    ``master``: Spark master URL (default ``local[*]``), or ``sc://host:port`` for Spark
    Connect. ``lake``: folder (or Hadoop URI) of the contract's tables as Parquet; without it
    the warehouse's tables are exported to ``workdir`` (a temp folder by default: on a
    cluster pass a folder every executor and this machine can read; the executors also write the
    items there). ``spark``: an existing SparkSession. ``stats``: what the last run cost.
    """

    name = "spark"

    def __init__(
        self,
        master: str | None = None,
        lake: str | None = None,
        workdir: str | None = None,
        spark=None,
        conf: dict | None = None,
    ):
        self.master = master
        self.lake = str(lake) if lake else None
        self.workdir = workdir
        self._spark = spark
        self.conf = conf
        self.stats = SparkRunStats()
        if self.lake and "://" not in self.lake and not Path(self.lake).is_dir():
            raise SparkEngineError(
                f"数据湖目录 {self.lake} 不存在", f"lake folder {self.lake} does not exist", path=self.lake
            )

    @property
    def spark(self):
        if self._spark is None:
            if self.master and self.master.startswith("sc://"):
                self._spark = session(remote=self.master, conf=self.conf)
            else:
                self._spark = session(self.master, conf=self.conf)
        return self._spark

    # ------------------------------------------------------------------ inputs

    def _register_inputs(self, con, stmts: list[SparkStatement], folder: Path) -> None:
        """Temp views for the contract's tables, the calendar and the scheme's small tables
        that ``stmts`` read."""
        spark = self.spark
        reads = set().union(*(st.tables for st in stmts)) - {st.view.lower() for st in stmts if st.view}
        corrected = _shadowed_tables(con)
        for name, table in TABLES.items():
            if name not in reads:
                continue
            path = None
            if self.lake:
                path = _lake_path(self.lake, name)
                if path and name in corrected:
                    raise SparkEngineError(
                        f"表 {name} 有已批准的更正记录，但 --lake 的数据不经过更正：请去掉 --lake 或先在数据湖中更正",
                        f"table {name} has approved corrections, which do not apply to --lake data: "
                        "drop --lake or correct the lake table",
                        table=name,
                    )
                if path is None:
                    log.warning("lake %s has no table %s: read from the warehouse", self.lake, name)
            if path is None:
                rows = con.execute(f"select count(*) from {name}").fetchall()[0][0]
                if rows <= SMALL_TABLE_ROWS:  # through the driver: no file, no schema inference
                    self._from_duckdb(con, name, f"select * from {name}")
                    continue
                path = str(folder / f"{name}.parquet")
                con.execute(f"copy (select * from {name}) to '{_quote(path)}' (format parquet)")
            try:
                df = spark.read.parquet(path)
            except Exception as exc:  # pyspark's AnalysisException (PATH_NOT_FOUND …)
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise SparkEngineError(
                    f"Spark 无法读取表 {name}（{path}）：{first}",
                    f"Spark cannot read table {name} ({path}): {first}",
                    table=name,
                    path=path,
                ) from exc
            missing = [c for c in table.names if c not in df.columns]
            if missing:
                raise SparkEngineError(
                    f"数据湖表 {name}（{path}）缺少列 {', '.join(missing)}",
                    f"lake table {name} ({path}) lacks columns {', '.join(missing)}",
                    table=name,
                    path=path,
                )
            df.createOrReplaceTempView(name)
        # every other table the blocks read comes from the warehouse session, through the driver (no
        # shared folder needed on a cluster): the calendar, and whatever scheme and rule tables the
        # DuckDB side made (temp or not), by name
        known = {
            r[0].lower(): r[0]
            for r in con.execute(
                "select table_name from duckdb_tables()"
                " union all select view_name from duckdb_views() where not internal"
            ).fetchall()
        }
        unknown = sorted(n for n in reads - set(TABLES) if n not in known)
        if unknown:
            raise SparkEngineError(
                f"指标 SQL 读取未知的表 {', '.join(unknown)}",
                f"the metric SQL reads unknown tables {', '.join(unknown)}",
            )
        for name in sorted(reads - set(TABLES)):
            self._from_duckdb(con, name, f'select * from "{known[name]}"')

    def _from_duckdb(self, con, name: str, sql: str) -> None:
        arrow = con.sql(sql).to_arrow_table()
        self.spark.createDataFrame(arrow).createOrReplaceTempView(name)

    # ------------------------------------------------------------------ compute

    def compute_items(self, con, window: Window, metric_ids=None) -> None:
        """Spark's version of :func:`hzeval.metrics.engine.compute_items`: fills DuckDB's temp
        table ``metric_items`` with the same rows, and the step tables as DuckDB temp tables."""
        self.stats = SparkRunStats()
        # DuckDB side, no metric computed: macros, the scheme's and rules' temp tables (shipped to
        # Spark below), the step tables and an empty metric_items with its columns. Spark then
        # computes the steps again (from the same, or the lake's, tables) and the items.
        duckdb_compute_items(con, window, metric_ids=[])
        columns = _duckdb_columns(con, "metric_items")
        staged = {_step_name(b) for b, _ in statements(window, []) if b.family == "_staging"}
        with _workdir(self.workdir) as folder:
            t0 = time.perf_counter()
            stmts = plan(window, metric_ids)
            self._register_inputs(con, stmts, folder)
            self.stats.export_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            steps, metrics, cached = [], [], []
            for stmt in stmts:
                df = self._sql(stmt)
                if stmt.view:
                    df = df.cache()
                    cached.append(df)
                    df.createOrReplaceTempView(stmt.view)
                    if stmt.view not in staged:  # the staging steps only feed the metric blocks
                        steps.append((stmt.view, df))
                else:
                    metrics.append((stmt.block.name, df))
            via_files = self._shares_files()
            self.stats.items_via = "parquet" if via_files else "arrow"
            try:
                parts = []
                for metric_id, df in metrics:  # one job per block: its time is logged, its rows stream out
                    tb = time.perf_counter()
                    frame = self._item_frame(metric_id, df, columns)
                    if via_files:
                        parts.append(self._write(frame, folder / "items" / metric_id, metric_id))
                    else:
                        parts.append(self._collect(frame, metric_id))
                    self.stats.blocks.append((metric_id, time.perf_counter() - tb))
                    log.debug("spark: %s %.2fs", metric_id, self.stats.blocks[-1][1])
                step_frames = [(view, self._collect(df, view)) for view, df in steps]
            finally:
                for df in cached:
                    df.unpersist()
            self.stats.spark_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            self.stats.items = _write_back(con, parts, step_frames)
            self.stats.writeback_s = time.perf_counter() - t0
        log.info(
            "spark: export %.2fs, spark %.2fs, write-back %.2fs, %d items (%s)",
            self.stats.export_s,
            self.stats.spark_s,
            self.stats.writeback_s,
            self.stats.items,
            self.stats.items_via,
        )
        check_calendar(con)

    def _sql(self, stmt: SparkStatement):
        try:
            return self.spark.sql(stmt.sql)
        except Exception as exc:  # pyspark's AnalysisException and friends
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = f"{stmt.block.family}.sql/{stmt.block.name}"
            raise SparkEngineError(
                f"Spark 无法执行 {where}：{first}", f"Spark cannot run {where}: {first}", block=where
            ) from exc

    def _shares_files(self) -> bool:
        """Whether Spark's output files can be read by this process's DuckDB: local mode, or a
        ``workdir`` given (a folder the executors and this machine share). Not over Spark Connect."""
        if self.master and self.master.startswith("sc://"):
            return False
        try:
            master = self.spark.sparkContext.master
        except Exception:  # Spark Connect sessions have no SparkContext
            return False
        return master.startswith("local") or self.workdir is not None

    def _write(self, df, path: Path, what: str) -> Path:
        """``df`` written as a Parquet folder at ``path`` by the executors (nothing through the driver)."""
        try:
            df.write.mode("overwrite").parquet(str(path))
        except Exception as exc:  # a failure at run time (Py4J/JVM errors)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SparkEngineError(
                f"Spark 计算 {what} 失败：{first}", f"Spark failed computing {what}: {first}"
            ) from exc
        return path

    def _collect(self, df, what: str):
        try:
            return df.toArrow()
        except Exception as exc:  # a failure at run time (Py4J/JVM errors)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SparkEngineError(
                f"Spark 计算 {what} 失败：{first}", f"Spark failed computing {what}: {first}"
            ) from exc

    def _item_frame(self, metric_id: str, df, columns: dict[str, str]):
        """A metric's rows with metric_items' columns and types, by name (a block may yield only
        some of metric_items' columns, as DuckDB's ``insert … by name``; the others stay NULL)."""
        from pyspark.sql import functions as F

        types = {c: _spark_type(t, c) for c, t in columns.items()}
        extra = [c for c in df.columns if c not in types]
        if extra:
            raise SparkEngineError(
                f"指标 {metric_id} 的 SQL 输出了 metric_items 没有的列 {', '.join(extra)}",
                f"metric {metric_id} yields columns metric_items lacks: {', '.join(extra)}",
            )
        cols = [F.lit(metric_id).alias("metric_id")] + [
            F.col(f"`{c}`").cast(types[c]).alias(c) for c in df.columns if c != "metric_id"
        ]
        return df.select(*cols)


_DUCK_TO_SPARK = {
    "VARCHAR": "STRING",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "DOUBLE": "DOUBLE",
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "FLOAT": "FLOAT",
}


def _spark_type(duck_type: str, column: str) -> str:
    try:
        return _DUCK_TO_SPARK[duck_type.upper()]
    except KeyError:
        raise SparkEngineError(
            f"metric_items 列 {column} 的类型 {duck_type} 无 Spark 对应",
            f"metric_items column {column} has type {duck_type} without a Spark mapping",
        ) from None


def _duckdb_columns(con, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from duckdb_columns()"
        " where table_name = $t and database_name = 'temp' order by column_index",
        {"t": table},
    ).fetchall()
    return dict(rows)


def _shadowed_tables(con) -> set[str]:
    """Contract tables that ``con`` reads through a temp table of the same name (an assessment's
    corrected records): Spark must read those from the warehouse session, never from a lake."""
    rows = con.execute("select table_name from duckdb_tables() where temporary").fetchall()
    return {r[0] for r in rows} & set(TABLES)


def _quote(path: str) -> str:
    return path.replace("'", "''")


@contextlib.contextmanager
def _workdir(folder: str | None):
    if folder:
        path = Path(folder) / f"hzeval-{os.getpid()}-{time.time_ns()}"
        path.mkdir(parents=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="hzeval-spark-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _write_back(con, parts, steps) -> int:
    """Items into DuckDB's temp ``metric_items`` (made by the DuckDB side), steps as temp tables;
    returns the number of items. ``parts``: per metric, a Parquet folder Spark wrote or an Arrow
    table collected through the driver."""
    before = con.execute("select count(*) from metric_items").fetchall()[0][0]
    for part in parts:
        if isinstance(part, Path):
            files = sorted(str(f) for f in part.glob("*.parquet"))
            if not files:  # a metric without rows may leave no data file
                continue
            con.execute(
                "insert into metric_items by name select * from read_parquet($files, union_by_name = true)",
                {"files": files},
            )
        else:
            con.register("_spark_items", part)
            con.execute("insert into metric_items by name select * from _spark_items")
            con.unregister("_spark_items")
    for view, arrow in steps:
        con.register("_spark_step", arrow)
        con.execute(f"create or replace temp table {view} as select * from _spark_step")
        con.unregister("_spark_step")
    return con.execute("select count(*) from metric_items").fetchall()[0][0] - before


def _step_name(block: Block) -> str | None:
    """The temp table a step block creates (None for metric blocks)."""
    if block.kind != "step":
        return None
    tree = sqlglot.parse_one(block.sql, read="duckdb")
    if isinstance(tree, exp.Create):
        target = tree.this
        return (target.this if isinstance(target, exp.Schema) else target).name
    return None
