"""The Spark engine (DESIGN §9) against the DuckDB engine: identical metric items.

Both engines run on the committed sample drop and on every fixture of ``test_metrics.py``
(each of its tests runs with ``compute_items`` computing on DuckDB, then on Spark; the items
must match row for row, and the test's own hand-worked assertions then check Spark's rows).
One local SparkSession (``local[2]``, two shuffle partitions, no UI) serves the module.

Needs Java (``.ci/run`` installs Debian's ``default-jre-headless``); without it the module is
skipped, saying so. pyspark itself comes with ``make test`` (the ``spark`` extra).
"""

from __future__ import annotations

import datetime as dt
import inspect

import pytest

#: PySpark needs a Java runtime (conftest.SYSTEM: a bare machine fails, never skips)
pytestmark = pytest.mark.system("java")

import duckdb  # noqa: E402
import test_metrics as metric_tests  # noqa: E402  (its fixtures, run under both engines below)
from conftest import copy_sample, insert  # noqa: E402

from hzeval.assessment.scheme import scheme_for  # noqa: E402
from hzeval.errors import CalendarError, HzevalError, SparkEngineError  # noqa: E402
from hzeval.metrics import Window, compute_items  # noqa: E402
from hzeval.metrics.engine import Block  # noqa: E402
from hzeval.metrics.spark import SparkEngine, plan, to_spark  # noqa: E402
from hzeval.store.warehouse import connect  # noqa: E402

reg = metric_tests.reg  # the register fixture of test_metrics.py, used by its tests below

ITEMS = "select * from metric_items order by all"  # every column: ids, status, reason, due/done, num/den, rules


@pytest.fixture(scope="module")
def spark():
    from hzeval.metrics.spark import session

    s = session(
        "local[2]",
        app_name="hzeval-conformance",
        conf={
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
            "spark.sql.adaptive.coalescePartitions.enabled": "true",
            "spark.driver.memory": "1g",
        },
    )
    yield s
    s.stop()


@pytest.fixture
def engine(spark):
    return SparkEngine(spark=spark)


def items(con) -> list[tuple]:
    return con.execute(ITEMS).fetchall()


def diff(duck: list[tuple], spark: list[tuple]) -> str:
    only_d = sorted(set(duck) - set(spark), key=str)[:5]
    only_s = sorted(set(spark) - set(duck), key=str)[:5]
    return f"{len(duck)} DuckDB items, {len(spark)} Spark items; only DuckDB: {only_d}; only Spark: {only_s}"


# ------------------------------------------------------------------ the test_metrics fixtures

#: tests of test_metrics.py that check no metric items (the register's authority gaps, a scheme's gate parameters)
NOT_METRIC_ITEMS = {"test_regions_without_an_authority_are_listed", "test_gate_parameters_load_from_a_scheme"}


def metric_test_cases():
    """Every test of test_metrics.py, one case per parameter set of a parametrized one."""
    for name, test in sorted(vars(metric_tests).items()):
        if not (name.startswith("test_") and callable(test)):
            continue
        if name in NOT_METRIC_ITEMS:
            continue
        combos = [{}]
        for mark in (m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"):
            names = mark.args[0].split(",") if isinstance(mark.args[0], str) else list(mark.args[0])
            names = [n.strip() for n in names]
            values = [
                v.values if hasattr(v, "values") and hasattr(v, "marks") else (v if len(names) > 1 else (v,))
                for v in mark.args[1]
            ]
            combos = [{**c, **dict(zip(names, v))} for c in combos for v in values]
        for i, kwargs in enumerate(combos):
            yield pytest.param(name, kwargs, id=name if len(combos) == 1 else f"{name}-{i}")


@pytest.mark.parametrize(("name", "kwargs"), list(metric_test_cases()))
def test_metric_fixture_items_identical(name, kwargs, request, engine, monkeypatch):
    calls = []

    def both(con, window, metric_ids=None):
        duck_err = spark_err = None
        try:
            compute_items(con, window, metric_ids)
        except CalendarError as exc:
            duck_err = exc
        duck = None if duck_err else items(con)
        try:
            engine.compute_items(con, window, metric_ids)
        except CalendarError as exc:
            spark_err = exc
        calls.append(metric_ids)
        if duck_err or spark_err:
            assert (duck_err and duck_err.year) == (spark_err and spark_err.year), (duck_err, spark_err)
            raise spark_err
        got = items(con)
        assert got == duck, diff(duck, got)

    monkeypatch.setattr(metric_tests, "compute_items", both)
    test = getattr(metric_tests, name)
    test(**{p: kwargs[p] if p in kwargs else request.getfixturevalue(p) for p in inspect.signature(test).parameters})
    assert calls, f"{name} computed no items: nothing was compared"


# ------------------------------------------------------------------ the sample drop


def test_sample_drop_identical_items_and_run(sample_warehouse, tmp_path_factory, engine):
    db = copy_sample(sample_warehouse, tmp_path_factory, "spark_sample")
    year, as_of = 2025, dt.datetime(2026, 1, 5)
    scheme = scheme_for(year, None)
    from hzeval.assessment.assess import assess_in

    with connect(db) as con:
        (duck_run,) = con.execute("select run_id from runs where year = 2025").fetchall()[0]
        compute_items(con, Window.for_year(year, as_of, scheme))
        duck = items(con)
        con.execute("begin transaction")
        run_id = assess_in(con, year, as_of, scheme, engine=engine)
        con.execute("commit")
        got = items(con)
        assert len(duck) > 10_000 and len({r[0] for r in duck}) >= 25  # every metric family has items
        assert got == duck, diff(duck, got)
        # local mode: the executors wrote the items as Parquet and DuckDB read them; one job per block
        assert engine.stats.items_via == "parquet" and engine.stats.items == len(got)
        assert {r[0] for r in got} <= {b for b, _ in engine.stats.blocks}
        # scoring and gates downstream of the items do not change
        engines = dict(con.execute("select run_id, coalesce(engine, 'duckdb') from runs").fetchall())
        assert engines[run_id] == "spark" and engines[duck_run] == "duckdb"
        for table, cols in (
            ("metric_values", "agency_code, metric_id, numerator, denominator, value, count"),
            ("grades", "agency_code, total, grade, vetoed, rank, peer_group"),
            ("project_gates", "project_id, passed, failed_conditions, failed_resources"),
        ):
            q = f"select {cols} from {table} where run_id = $r order by all"
            assert con.execute(q, {"r": run_id}).fetchall() == con.execute(q, {"r": duck_run}).fetchall(), table


def test_items_through_the_driver_without_a_shared_folder(sample_warehouse, tmp_path_factory, spark, monkeypatch):
    """Spark Connect or a cluster whose executors do not share a folder with this machine: the
    items come back as Arrow through the driver, the same rows as DuckDB's."""
    db = copy_sample(sample_warehouse, tmp_path_factory, "spark_arrow")
    window = Window.for_year(2024, dt.datetime(2025, 1, 6), scheme_for(2024, None))
    assert SparkEngine(master="sc://nowhere:15002", spark=spark)._shares_files() is False
    monkeypatch.setattr(SparkEngine, "_shares_files", lambda self: False)
    with connect(db) as con:
        compute_items(con, window)
        duck = items(con)
        engine = SparkEngine(spark=spark)
        engine.compute_items(con, window)
        got = items(con)
    assert engine.stats.items_via == "arrow" and engine.stats.items == len(got) > 1_000
    assert got == duck, diff(duck, got)


def test_lake_of_parquet_tables(sample_warehouse, tmp_path_factory, tmp_path, spark):
    """``--lake``: the contract's tables as ``<table>.parquet`` files or ``<table>/`` folders."""
    db = copy_sample(sample_warehouse, tmp_path_factory, "spark_lake")
    lake = tmp_path / "lake"
    lake.mkdir()
    window = Window.for_year(2024, dt.datetime(2025, 1, 6), scheme_for(2024, None))
    with connect(db) as con:
        from hzeval.contract import TABLES

        for name in TABLES:
            if name == "api_calls":  # a partitioned folder, as Spark/Hive write a log
                con.execute(
                    f"copy (select *, month(called_at) as m from api_calls) to '{lake / name}' "
                    "(format parquet, partition_by (m))"
                )
            else:
                con.execute(f"copy {name} to '{lake / name}.parquet' (format parquet)")
        compute_items(con, window)
        duck = items(con)
        # the warehouse's own api_calls emptied: the lake's rows must be the ones measured
        con.execute("delete from api_calls")
        SparkEngine(spark=spark, lake=str(lake)).compute_items(con, window)
        got = items(con)
        assert any(r[0] == "out_of_scope_calls" for r in duck)
        assert got == duck, diff(duck, got)

        # a lake table without a contract column is a clear error naming table and column
        con.execute(
            f"copy (select * exclude (provider_code) from share_applications) to "
            f"'{lake / 'share_applications.parquet'}' (format parquet)"
        )
        with pytest.raises(SparkEngineError) as err:
            SparkEngine(spark=spark, lake=str(lake)).compute_items(con, window)
        assert "share_applications" in str(err.value) and "provider_code" in str(err.value)


def test_cli_engine_spark_and_options(sample_warehouse, tmp_path_factory, spark, capsys):
    from hzeval.cli import main as cli

    db = copy_sample(sample_warehouse, tmp_path_factory, "spark_cli")
    with pytest.raises(SystemExit) as ex:
        cli.main(["--db", str(db), "assess", "--year", "2025", "--lake", "/nowhere"])
    assert ex.value.code != 0 and "--engine spark" in capsys.readouterr().err
    # the module's session is the active one: getOrCreate reuses it
    cli.main(["--db", str(db), "assess", "--year", "2024", "--as-of", "2025-01-06", "--engine", "spark"])
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select engine, count(*) from runs where year = 2024 group by all order by all").fetchall()
    con.close()
    assert rows == [("duckdb", 1), ("spark", 1)]
    with pytest.raises(SystemExit) as ex:
        cli.main(
            ["--db", str(db), "assess", "--year", "2025", "--engine", "spark", "--lake", str(db.parent / "nowhere")]
        )
    assert ex.value.code != 0 and "nowhere" in capsys.readouterr().err


# ------------------------------------------------------------------ transpiling


def spark_value(spark, sql_duckdb: str, params: dict | None = None):
    st = to_spark(Block("metric", "probe", sql_duckdb, "probe"), params or {})
    return spark.sql(st.sql).collect()[0][0]


def test_iso_week_label_and_calendar_intervals(spark):
    # ISO weeks: 2025-12-29 (Mon) starts 2026-W01; 2021-01-03 (Sun) ends 2020-W53
    assert spark_value(spark, "select period_label('每周', timestamp '2025-12-29 10:00')") == "2026-W01"
    assert spark_value(spark, "select period_label('每周', timestamp '2021-01-03 10:00')") == "2020-W53"
    duck = duckdb.connect()
    from hzeval.metrics.engine import MACROS

    duck.execute(MACROS)
    for sql in (
        "select period_label('每周', timestamp '2025-12-29 10:00')",
        "select period_label('每半年', timestamp '2025-08-31 10:00')",
        "select period_label('每季度', timestamp '2025-08-31 10:00')",
    ):
        assert spark_value(spark, sql) == duck.execute(sql).fetchall()[0][0]
    # months and days in one case expression (Spark's ANSI intervals cannot mix them):
    # 2025-01-31 + 1 month = 2025-02-28 (end of month kept), + 7 days = 2025-02-07
    got = spark_value(spark, "select period_start('每半年', timestamp '2025-08-31 10:00') + period_step('每月')")
    assert got == dt.datetime(2025, 8, 1)
    assert spark_value(spark, "select timestamp '2025-01-31 00:00' + period_step('每月')") == dt.datetime(2025, 2, 28)
    assert spark_value(spark, "select timestamp '2025-01-31 00:00' + period_step('每周')") == dt.datetime(2025, 2, 7)


def test_macro_and_parameter_errors_name_the_block():
    with pytest.raises(SparkEngineError) as err:
        to_spark(Block("metric", "probe", "select known(1) as x", "fam"), {})
    assert "known" in str(err.value) and "2" in str(err.value)
    with pytest.raises(SparkEngineError) as err:
        to_spark(Block("metric", "probe", "select $missing as x", "fam"), {})
    assert "fam.sql/probe" in str(err.value) and "$missing" in str(err.value)
    assert issubclass(SparkEngineError, HzevalError)


def test_working_day_deadline_is_a_calendar_join(spark, wh):
    """wd_due_at expands into a lookup in the calendar table (no UDF): 2025-09-30 (Tue) + 2 working
    days: 10-01..08 are holidays, 10-09 (Thu) day 1, 10-10 (Fri) day 2 -> due end of 10-10."""
    engine = SparkEngine(spark=spark)
    insert(wh, "agencies", {"agency_code": "A", "agency_name": "甲局", "level": "市级"})
    insert(
        wh,
        "share_applications",
        {
            "application_id": "S1",
            "applicant_code": "A",
            "provider_code": "A",
            "share_type": "有条件共享",
            "submitted_at": "2025-09-30 16:00",
        },
    )
    window = Window.for_year(2025, dt.datetime(2026, 1, 5), scheme_for(2025, None))
    engine.compute_items(wh, window, ["share_reply_timeliness"])
    st = [s for s in plan(window, ["share_reply_timeliness"]) if s.view is None][0]
    assert "calendar" in st.tables and "wd_due_at" not in st.sql.lower()
    assert wh.execute("select record_id, status, due_at from metric_items").fetchall() == [
        ("S1", "late", dt.datetime(2025, 10, 11))
    ]


def test_adjustments_applied_around_either_engine(spark, wh, tmp_path):
    """Corrections and excuses are the assessment's (adjust.compute_adjusted_items), around whichever
    engine computes: the same items, the corrected record read and the excused item marked."""
    from hzeval.assessment import adjust

    insert(wh, "agencies", {"agency_code": "A", "agency_name": "甲局", "level": "市级"})
    app = {"applicant_code": "A", "provider_code": "A", "share_type": "有条件共享"}
    insert(
        wh,
        "share_applications",
        {**app, "application_id": "S1", "submitted_at": "2025-09-01 10:00", "replied_at": "2025-09-10 10:00"},
        {**app, "application_id": "S2", "submitted_at": "2025-09-02 10:00", "replied_at": "2025-09-20 10:00"},
    )
    fix = adjust.propose_correction(
        wh,
        table="share_applications",
        record_id="S1",
        column="replied_at",
        value="2025-09-01 12:00",
        reason="核实",
        evaluator="甲",
    )
    excuse = adjust.propose_excuse(
        wh, metric_id="share_reply_timeliness", record_id="S2", reason="核实", evaluator="甲"
    )
    for a in (fix, excuse):
        adjust.approve(wh, a, "乙")
    adjustments = adjust.active(wh)
    window = Window.for_year(2025, dt.datetime(2026, 1, 5), scheme_for(2025, None))
    got = {}
    for name, compute in (("duckdb", compute_items), ("spark", SparkEngine(spark=spark).compute_items)):

        def one_metric(con, w, compute=compute):
            compute(con, w, ["share_reply_timeliness"])

        adjust.compute_adjusted_items(wh, window, adjustments, one_metric)
        got[name] = items(wh)
    assert got["spark"] == got["duckdb"], diff(got["duckdb"], got["spark"])
    rows = wh.execute("select record_id, status, adjustment_id from metric_items order by 1").fetchall()
    assert rows == [("S1", "ok", fix), ("S2", "excused", excuse)]
    # a lake's tables do not go through the corrections: refused for the corrected table
    wh.execute(f"copy main.share_applications to '{tmp_path / 'share_applications.parquet'}' (format parquet)")
    with pytest.raises(SparkEngineError, match="share_applications"):
        lake = SparkEngine(spark=spark, lake=str(tmp_path))
        adjust.compute_adjusted_items(wh, window, adjustments, lake.compute_items)
