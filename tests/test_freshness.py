"""How fresh a run's data is (issue 24 item 3, DESIGN §7a): each run records every input table's newest
record (at or before the as-of) and row count; every header reads "数据截至（各表最新记录）… · 评估截至 … ·
评估于 … · 正式/试算" and names a table older than the scheme's ``stale_after`` (45 days) as a warning.

The fixture's newest records, as-of 2026-01-05 00:00; 45 days before is 2025-11-21 00:00
(2026-01-05 − 5 days = 2025-12-31, − 31 days = 2025-11-30, − 9 days = 2025-11-21):

- api_calls 2026-01-04 23:34 (a call on 2026-01-06 is after the as-of: not counted as newest);
- security_records 2025-11-21 00:00: exactly 45 days, not older than 45 days → no warning;
- aggregation_log 2025-11-20 23:59: 45 days and 1 minute → the warning;
- incidents 2025-07-01 (records only when something happens: never a warning).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from conftest import insert

from hzeval import pages
from hzeval.assessment.assess import run_assessment
from hzeval.assessment.scheme import default_scheme_path
from hzeval.contract import TABLES, TIME_COLUMN
from hzeval.dashboard import views
from hzeval.dashboard.store import Store, User
from hzeval.runs import open_run
from hzeval.store.published import published_dir
from hzeval.store.warehouse import connect

AS_OF = dt.datetime(2026, 1, 5)
STALE_AGG = "汇聚日志表最新记录为 2025-11-20 23:59，早于评估截至 45 天以上"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        insert(
            con,
            "agencies",
            {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
            {"agency_code": "Z", "agency_name": "数据局", "level": "市级", "is_authority": True},
        )
        snap = {"snapshot_date": "2025-12-31", "resource_code": "R1", "provider_code": "A"}
        insert(con, "catalog_snapshot", {**snap, "resource_name": "资源一", "status": "已发布"})
        insert(con, "catalog_items", {**snap, "item_code": "I1", "item_name": "项一"})
        insert(
            con,
            "catalog_events",
            {"event_id": "E1", "resource_code": "R1", "agency_code": "A", "event_type": "变更提交"}
            | {"event_time": "2025-12-20 10:00"},
        )
        job = {"resource_code": "R1", "agency_code": "A", "status": "成功"}
        insert(
            con,
            "aggregation_log",
            {**job, "job_id": "J1", "started_at": "2025-11-20 23:59"},
            {**job, "job_id": "J0", "started_at": "2025-03-01 08:00"},
        )
        app = {"applicant_code": "A", "provider_code": "A", "resource_code": "R1"}
        insert(con, "share_applications", {**app, "application_id": "S1", "submitted_at": "2025-12-30 10:00"})
        insert(con, "share_feedback", {"application_id": "S1", "period": "2025Q4", "submitted_at": "2026-01-02 10:00"})
        call = {"consumer_code": "A", "resource_code": "R1"}
        insert(
            con,
            "api_calls",
            {**call, "call_id": "C1", "called_at": "2026-01-04 23:34"},
            {**call, "call_id": "C2", "called_at": "2026-01-06 09:00"},  # after the as-of
            {**call, "call_id": "C3", "called_at": "2025-06-01 09:00"},
        )
        insert(
            con,
            "open_applications",
            {"open_app_id": "OA1", "resource_code": "R1", "agency_code": "A", "submitted_at": "2025-12-22 14:58"},
        )
        insert(con, "security_records", {"agency_code": "A", "record_type": "安全检查", "done_at": "2025-11-21 00:00"})
        insert(
            con,
            "incidents",
            {"incident_id": "I1", "agency_code": "A", "occurred_at": "2025-07-01 10:00", "kind": "系统故障"},
        )
    return path


def fresh(db, year=2025):
    with open_run(published_dir(db), year) as run:
        return run.freshness(), run.provenance(), run.stale_warnings(), run.data_through


def test_each_run_records_every_input_tables_newest_record_and_rows(db):
    run_assessment(db, 2025, AS_OF)
    df, prov, warnings, through = fresh(db)
    assert df["table_name"].to_list() == list(TABLES)  # every contract table, in contract order
    got = {r["table_name"]: (r["rows"], r["newest_at"], r["stale"]) for r in df.iter_rows(named=True)}
    t = dt.datetime.fromisoformat
    assert got["api_calls"] == (3, t("2026-01-04 23:34"), False)  # 3 rows; C2 (01-06) is after the as-of
    assert got["security_records"] == (1, t("2025-11-21 00:00"), False)  # exactly 45 days: not stale
    assert got["aggregation_log"] == (2, t("2025-11-20 23:59"), True)  # 45 days and a minute: stale
    assert got["catalog_snapshot"] == (1, t("2025-12-31 00:00"), False)  # a date: 00:00 of the day
    assert got["share_feedback"] == (1, t("2026-01-02 10:00"), False)
    assert got["incidents"] == (1, t("2025-07-01 10:00"), False)  # sporadic: old is no warning
    assert got["agencies"] == (2, None, False)  # a register: rows only
    assert got["projects"] == (0, None, False)  # sporadic and empty: no warning
    assert set(df.filter(pl.col("time_column").is_not_null())["table_name"]) == set(TIME_COLUMN)
    assert df["stale_after"].unique().to_list() == [45]
    # the earliest newest record of the tables that expect recent ones: aggregation_log's
    assert through == t("2025-11-20 23:59")
    assert warnings == [STALE_AGG]
    assert prov["freshness"] == (
        f"数据截至（各表最新记录）2025-11-20 23:59 · 评估截至 2026-01-05 00:00 · 评估于 {prov['finished_at']} · 试算"
    )


def test_the_header_says_it_and_names_the_stale_table(db):
    run_assessment(db, 2025, AS_OF)
    _, prov, _, _ = fresh(db)
    head = pages.masthead("2025 年度评估报告", prov)
    assert f'<div class="fresh">{prov["freshness"]}</div>' in head
    assert f"<li>{STALE_AGG}</li>" in head and 'class="stale"' in head
    assert "<b>评估截至</b> 2026-01-05 00:00" in head and "<b>数据截至</b>" not in head
    # the dashboard (live and offline) reads the same line from the published copy
    store = Store(published_dir(db), User("boss", "leader"))
    run_id = store.latest_run_id(2025)
    assert views.freshness_line(store, run_id) == prov["freshness"]
    html = views.run_header(store, run_id).object
    assert prov["freshness"] in html and STALE_AGG in html


def test_no_warning_one_minute_inside_the_edge(db):
    # as of 2026-01-04 23:59 the edge is 2025-11-20 23:59: aggregation_log's newest is exactly 45 days old
    run_assessment(db, 2025, dt.datetime(2026, 1, 4, 23, 59))
    df, prov, warnings, through = fresh(db)
    assert warnings == [] and not df["stale"].any()
    assert 'class="stale"' not in pages.masthead("x", prov)
    assert prov["freshness"].startswith("数据截至（各表最新记录）2025-11-20 23:59 · 评估截至 2026-01-04 23:59 · ")
    assert views.run_header(Store(published_dir(db), User("b", "leader")), prov["run_id"]).object.count("<li>") == 0


def test_an_empty_table_is_named_and_the_scheme_sets_the_days(db, tmp_path):
    with connect(db) as con:
        con.execute("delete from share_feedback")
    scheme = tmp_path / "s.yaml"
    text = default_scheme_path(2025).read_text(encoding="utf-8")
    assert "\nstale_after: 45 " in text
    scheme.write_text(text.replace("\nstale_after: 45 ", "\nstale_after: 10 "), encoding="utf-8")
    run_assessment(db, 2025, AS_OF, scheme_path=scheme)
    _, _, warnings, _ = fresh(db)
    # 10 days before 2026-01-05 00:00 is 2025-12-26 00:00: older are aggregation_log (11-20), security_records
    # (11-21), catalog_events (12-20) and open_applications (12-22); share_feedback has no record at all
    assert warnings == [
        "目录变更日志表最新记录为 2025-12-20 10:00，早于评估截至 10 天以上",
        "汇聚日志表最新记录为 2025-11-20 23:59，早于评估截至 10 天以上",
        "使用情况反馈表在评估截至前无记录",
        "开放申请表最新记录为 2025-12-22 14:58，早于评估截至 10 天以上",
        "安全记录表最新记录为 2025-11-21 00:00，早于评估截至 10 天以上",
    ]


def test_stale_after_is_bounded(tmp_path):
    from hzeval.assessment.scheme import load_scheme
    from hzeval.errors import SchemeError

    text = default_scheme_path(2025).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\nstale_after: 45 ", "\nstale_after: 0 "), encoding="utf-8")
    with pytest.raises(SchemeError, match="stale_after"):
        load_scheme(bad)


def test_explain_prints_the_line_and_the_warning(db):
    from rich.console import Console

    from hzeval.assessment.explain import explanation
    from hzeval.cli.console import print_explanation

    run_assessment(db, 2025, AS_OF)
    console = Console(record=True, width=200)
    with open_run(published_dir(db), 2025) as run:
        print_explanation(explanation(run, "A"), console)
        line = run.provenance()["freshness"]
    text = console.export_text()
    assert line in text and f"数据时效提示：{STALE_AGG}" in text
