"""Staff workbench queries: deadline steps, snapshot differences, year over year."""

from __future__ import annotations

import datetime as dt

from conftest import insert
from hzeval import calendar, staff

D = dt.date


def test_deadline_steps_show_holidays_and_make_up_days():
    cal = calendar.WorkCalendar(calendar.build())
    steps = staff.deadline_steps(cal, D(2025, 9, 26), 2)
    assert steps["date"].to_list() == [D(2025, 9, 26), D(2025, 9, 27), D(2025, 9, 28), D(2025, 9, 29)]
    assert steps["kind"].to_list() == ["事件当日", "周末", "调休上班", "工作日"]
    assert steps["counted"].to_list()[2:] == ["第 1 个工作日", "第 2 个工作日"]
    steps = staff.deadline_steps(cal, D(2025, 9, 30), 2)
    assert steps.height == 11  # 09-30, the eight days of 国庆/中秋, 10-09, 10-10
    assert steps.filter(steps["kind"] == "法定节假日").height == 8
    assert "National Day" in steps["holiday"].to_list()[1]


def test_snapshot_diff(wh):
    base = dict(resource_name="r", provider_code="A", status="已发布", share_type="无条件共享")
    insert(wh, "catalog_snapshot",
           {**base, "snapshot_date": "2025-11-30", "resource_code": "R1"},
           {**base, "snapshot_date": "2025-11-30", "resource_code": "R2"},
           {**base, "snapshot_date": "2025-11-30", "resource_code": "R3"},
           {**base, "snapshot_date": "2025-12-31", "resource_code": "R1", "share_type": "有条件共享"},
           {**base, "snapshot_date": "2025-12-31", "resource_code": "R2", "status": "已下架"},
           {**base, "snapshot_date": "2025-12-31", "resource_code": "R4"})
    diff = staff.snapshot_diff(wh)
    assert diff["added"]["resource_code"].to_list() == ["R4"]
    assert diff["withdrawn"]["resource_code"].to_list() == ["R2", "R3"]
    changed = {(r["resource_code"], r["field"]): (r["before_value"], r["after_value"]) for r in diff["changed"].iter_rows(named=True)}
    assert changed == {("R1", "share_type"): ("无条件共享", "有条件共享"), ("R2", "status"): ("已发布", "已下架")}


def test_year_over_year(tmp_path):
    from hzeval.assess import run_assessment
    from hzeval.warehouse import connect

    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        insert(con, "agencies", {"agency_code": "A", "agency_name": "甲局", "level": "市级"})
        insert(con, "open_plans", {"agency_code": "A", "year": 2025, "filed_at": "2025-02-01 10:00"})
    run_assessment(db, 2024, dt.datetime(2025, 1, 6))
    run_assessment(db, 2025, dt.datetime(2026, 1, 6))
    with connect(db, read_only=True) as con:
        yoy = staff.year_over_year(con, 2025)
    row = yoy["totals"].row(0, named=True)
    # standing obligations keep 目录管理 (20), 数据汇聚与更新 (25), 数据开放 (10) and 安全与整改 (10) live even
    # with nothing catalogued: 65 scaled to 100. 2024: no plan, nothing else -> 0; 2025: plan filed ->
    # 数据开放 10 × 100/65 = 15.38, the other standing obligations 0
    assert (row["total_prev"], row["total"], row["change"]) == (0.0, 15.38, 15.38)


def test_evidence_explorer_notebook_with_parameters(tmp_path):
    """papermill runs the staff notebook for a disputed item and shows its deadline steps."""
    import papermill as pm

    from hzeval.assess import run_assessment
    from hzeval.warehouse import connect

    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        insert(con, "agencies", {"agency_code": "A", "agency_name": "甲局", "level": "市级"})
        insert(con, "share_applications", {"application_id": "S2", "applicant_code": "B", "provider_code": "A",
                                           "share_type": "有条件共享", "submitted_at": "2025-09-30 10:00",
                                           "replied_at": "2025-10-11 09:00"})
    run_assessment(db, 2025, dt.datetime(2026, 1, 5))
    out = tmp_path / "out.ipynb"
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    pm.execute_notebook(str(root / "notebooks" / "evidence_explorer.ipynb"), str(out), kernel_name="python3",
                        parameters={"db": str(db), "agency_code": "A", "metric_id": "share_reply_timeliness"},
                        progress_bar=False)
    text = out.read_text(encoding="utf-8")
    # 09-30 + 2 working days: the eight days of 国庆/中秋 are skipped, 10-09 and 10-10 count
    assert "S2" in text and "第 2 个工作日" in text and "法定节假日" in text
