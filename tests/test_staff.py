"""Staff workbench: deadline steps, snapshot differences, coverage, year over year, the tidy tables
and pickers the staff notebooks show, and the notebooks themselves run with papermill."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import insert

from hzeval import workbench
from hzeval.metrics import METRICS
from hzeval.store import calendar
from hzeval.workbench import staff

D = dt.date
ROOT = Path(__file__).resolve().parents[1]


def test_deadline_steps_show_holidays_and_make_up_days():
    cal = calendar.WorkCalendar(calendar.build())
    steps = staff.deadline_steps(cal, D(2025, 9, 26), 2)
    # Fri 09-26 event (not counted); Sat 09-27 weekend; Sun 09-28 调休 working day (1st); Mon 09-29 (2nd)
    assert steps["date"].to_list() == [D(2025, 9, 26), D(2025, 9, 27), D(2025, 9, 28), D(2025, 9, 29)]
    assert steps["kind"].to_list() == ["事件当日", "周末", "调休上班", "工作日"]
    assert steps["counted"].to_list()[2:] == ["第 1 个工作日", "第 2 个工作日"]
    steps = staff.deadline_steps(cal, D(2025, 9, 30), 2)
    assert steps.height == 11  # 09-30, the eight days of 国庆/中秋 (10-01..10-08), 10-09, 10-10
    assert steps.filter(steps["kind"] == "法定节假日").height == 8
    assert steps["holiday"].to_list()[1] == "国庆节"  # chinese_calendar's "National Day", in Chinese


def _snapshots(wh):
    base = dict(resource_name="r", provider_code="A", status="已发布", share_type="无条件共享")
    insert(
        wh,
        "catalog_snapshot",
        {**base, "snapshot_date": "2025-11-30", "resource_code": "R1"},
        {**base, "snapshot_date": "2025-11-30", "resource_code": "R2"},
        {**base, "snapshot_date": "2025-11-30", "resource_code": "R3"},
        {**base, "snapshot_date": "2025-12-31", "resource_code": "R1", "share_type": "有条件共享"},
        {**base, "snapshot_date": "2025-12-31", "resource_code": "R2", "status": "已下架"},
        {**base, "snapshot_date": "2025-12-31", "resource_code": "R4"},
    )


def test_snapshot_diff(wh):
    _snapshots(wh)
    diff = staff.snapshot_diff(wh)
    assert (diff["before"], diff["after"]) == (D(2025, 11, 30), D(2025, 12, 31))
    assert diff["added"]["resource_code"].to_list() == ["R4"]
    assert diff["withdrawn"]["resource_code"].to_list() == ["R2", "R3"]
    changed = {
        (r["resource_code"], r["field"]): (r["before_value"], r["after_value"])
        for r in diff["changed"].iter_rows(named=True)
    }
    assert changed == {("R1", "share_type"): ("无条件共享", "有条件共享"), ("R2", "status"): ("已发布", "已下架")}


def test_snapshot_view_names_the_dates_compared(wh):
    assert "目录快照只有 0 期" in staff.snapshot_view(wh)._repr_html_()
    _snapshots(wh)
    view = staff.snapshot_view(wh)
    head = view.parts[0].text
    assert head == "对比 2025-11-30 与 2025-12-31 两期目录快照：新增 1 个资源，下架或消失 2 个，字段变化 2 处。"
    changed = view.tables()[2]
    # the value columns are headed by the snapshot dates; field names are the contract's Chinese names
    assert changed.headers == ["资源代码", "字段", "2025-11-30", "2025-12-31"]
    assert sorted(changed.df["field"].to_list()) == ["共享类型", "状态"]


def test_table_is_tidy():
    df = pl.DataFrame(
        {
            "_load_id": [1, 2, 3],
            "record_table": ["t"] * 3,
            "late": [True] * 3,
            "record_id": ["S1", "S2", "S3"],
            "due_at": [dt.datetime(2025, 10, 11), None, None],
            "done_at": [None, dt.datetime(2025, 10, 11, 9, 5), None],
            "rows": [1234567, 2, 3],
        }
    )
    t = staff.Table(df, "事项", limit=2)
    assert t.headers == ["事项编号", "截止时间", "办结时间", "行数"]  # internal columns dropped, Chinese headers
    html = t._repr_html_()
    assert "显示前 2 条，共 3 条" in html
    assert "S3" not in html
    assert "2025-10-10 24:00" in html  # stored 10-11 00:00 is written the way the rules count it
    assert "2025-10-11 09:05" in html and "1,234,567" in html
    assert not re.search(r"null|None|NaN", html)
    assert "共 3 条" in staff.Table(df, limit=None)._repr_html_()
    assert "（无）" in staff.Table(df.head(0))._repr_html_()


def test_pickers_come_from_the_registry(wh):
    options = staff.metric_options()
    assert len(options) == len(METRICS)
    assert ("共享申请答复及时率（第二十四条）", "share_reply_timeliness") in options
    insert(
        wh,
        "agencies",
        {"agency_code": "B", "agency_name": "乙局", "level": "市级"},
        {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
    )
    assert staff.agency_options(wh) == [("甲局（A）", "A"), ("乙局（B）", "B")]


def test_picker_renders_first_then_on_change():
    calls = []

    def render(agency_code, record_id):
        calls.append((agency_code, record_id))
        return staff.View(staff.Text(f"{agency_code} {record_id}"))

    shown = staff.picker(render, False, agency_code=([("甲局（A）", "A")], "A"), record_id=([("S1", "S1")], "S1"))
    assert calls == [("A", "S1")] and shown.dropdowns is None
    calls.clear()
    p = staff.picker(
        render,
        True,
        refresh=lambda v: {"record_id": [(f"{v['agency_code']}-1", f"{v['agency_code']}-1")]},
        agency_code=([("甲局（A）", "A"), ("乙局（B）", "B")], "A"),
        record_id=([("S1", "S1")], "S1"),
    )
    assert calls == [("A", "S1")]
    assert p.dropdowns["agency_code"].description == "机构"
    p.dropdowns["agency_code"].value = "B"  # picking another agency refreshes its items, then re-renders once
    assert calls == [("A", "S1"), ("B", "B-1")]


def test_coverage_lists_every_agency_and_marks_gaps(wh):
    insert(
        wh,
        "agencies",
        {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
        {"agency_code": "B", "agency_name": "乙局", "level": "市级"},
    )
    insert(
        wh,
        "aggregation_log",
        {"job_id": "J1", "resource_code": "R1", "agency_code": "A", "started_at": "2025-01-05 10:00", "status": "成功"},
        {"job_id": "J2", "resource_code": "R1", "agency_code": "A", "started_at": "2025-01-20 10:00", "status": "失败"},
        {"job_id": "J3", "resource_code": "R1", "agency_code": "A", "started_at": "2025-03-02 10:00", "status": "成功"},
        {"job_id": "J4", "resource_code": "R1", "agency_code": "A", "started_at": "2024-12-30 10:00", "status": "成功"},
    )
    wh.execute(f"create table input_coverage as {staff.coverage_sql()}")
    cov = staff.coverage(wh, "aggregation_log", 2025)
    assert cov.columns == ["agency_code", "agency_name", *[f"2025-{m:02d}" for m in range(1, 13)]]
    a = cov.row(0, named=True)
    assert (a["2025-01"], a["2025-02"], a["2025-03"]) == (2, None, 1)  # J1+J2 in January, J3 in March; J4 is 2024
    b = cov.row(1, named=True)
    assert b["agency_code"] == "B" and all(b[f"2025-{m:02d}"] is None for m in range(1, 13))
    view = staff.coverage_view(wh, "aggregation_log", 2025)
    assert "全年无数据的机构 1 个" in view._repr_html_()
    assert view.tables()[0].headers[2:4] == ["1月", "2月"]


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    from hzeval.assessment.assess import run_assessment
    from hzeval.store.warehouse import connect

    db = tmp_path_factory.mktemp("yoy") / "w.duckdb"
    with connect(db) as con:
        insert(
            con,
            "agencies",
            {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
            {"agency_code": "C", "agency_name": "丙局", "level": "市级"},
        )
        insert(con, "open_plans", {"agency_code": "A", "year": 2025, "filed_at": "2025-02-01 10:00"})
        # assess refuses a year in which no table has a record (issue 24 item 2): 2024's one record is an
        # open plan of Z, an agency not in the register, so A's and C's 2024 scores rest on nothing
        insert(con, "open_plans", {"agency_code": "Z", "year": 2024, "filed_at": "2024-02-01 10:00"})
        insert(
            con,
            "share_applications",
            {
                "application_id": "S2",
                "applicant_code": "A",
                "provider_code": "C",
                "share_type": "有条件共享",
                "submitted_at": "2025-09-30 10:00",
                "replied_at": "2025-10-11 09:00",
            },
        )
        # C's basis changed Fri 2025-09-19 for resource C-R1 and no catalogue update followed: one 目录更新 item
        # with the combined id "BC1/C-R1"
        insert(
            con,
            "basis_changes",
            {"change_id": "BC1", "agency_code": "C", "effective_date": "2025-09-19", "resource_codes": "C-R1"},
        )
    run_assessment(db, 2024, dt.datetime(2025, 1, 6))
    run_assessment(db, 2025, dt.datetime(2026, 1, 5))
    return db.parent / "published"


def test_year_over_year(two_years):
    with workbench.open_run(2025, two_years) as run, workbench.open_previous(run) as prev:
        yoy = staff.year_over_year(run, prev)
        view = staff.yoy_view(run, prev)
        assert view.parts[0].text == f"对比 2025 年（运行 {run.run_id}）与 2024 年（运行 {prev.run_id}）"
        # issue 27: the dimensions in the 2025 scheme's order, deductions last (they came sorted by code point)
        wide = view.parts[3].df
        dims = [c for c in wide.columns if c not in ("agency_code", "agency_name")]
        scheme = ["目录管理", "数据汇聚与更新", "共享服务", "数据开放", "项目管理", "安全与整改", "扣分项"]
        assert dims == [d for d in scheme if d in dims] and dims[:2] == ["目录管理", "数据汇聚与更新"]
    row = yoy["totals"].filter(pl.col("agency_code") == "A").row(0, named=True)
    # standing obligations keep 目录管理 (20), 数据汇聚与更新 (25), 数据开放 (10) and 安全与整改 (10) live even
    # with nothing catalogued: 65 scaled to 100. 2024: no plan, nothing else -> 0; 2025: plan filed ->
    # 数据开放 10 × 100/65 = 15.38, the other standing obligations 0
    assert (row["total_prev"], row["total"], row["change"]) == (0.0, 15.38, 15.38)
    assert row["agency_name"] == "甲局"
    plan = (
        yoy["indicators"]
        .filter((pl.col("metric_id") == "open_plan_filed") & (pl.col("agency_code") == "A"))
        .row(0, named=True)
    )
    assert (plan["value_prev"], plan["value"], plan["metric_name"]) == (0.0, 1.0, "年度开放计划备案")


def test_year_over_year_without_the_previous_year(two_years, tmp_path):
    only = tmp_path / "published"
    only.mkdir()
    src = sorted(two_years.glob("2025-*.duckdb"))[-1]
    (only / src.name).write_bytes(src.read_bytes())
    with workbench.open_run(2025, only) as run:
        assert workbench.open_previous(run) is None
        view = staff.yoy_view(run, None)
    assert "没有已发布的 2024 年评估结果" in view.parts[0].text
    assert view.tables()[1].df["total_prev"].to_list() == [None, None]


def test_evidence_view_and_item_deadline(two_years):
    from hzeval.assessment.scheme import latest_scheme_for

    with workbench.open_run(2025, two_years) as run:
        view = staff.evidence_view(run, "C", "share_reply_timeliness")
        items = view.tables()[0]
        # S2 submitted Tue 09-30; 2 working days skip 国庆/中秋 10-01..10-08: due 10-10 24:00; replied 10-11 -> late
        assert items.df["record_id"].to_list() == ["S2"]
        html = view._repr_html_()
        assert "2025-10-10 24:00" in html and "2025-10-11 09:00" in html
        assert "本次结果 0.0%（分子 0，分母 1）" in view.parts[0].text
        detail = staff.item_view(run, "share_reply_timeliness", "S2", latest_scheme_for(2025))
        steps = detail.tables()[1].df
        assert steps["counted"].to_list()[-2:] == ["第 1 个工作日", "第 2 个工作日"]
        assert detail.tables()[0].headers[:2] == ["申请编号", "资源代码"]  # the record under the contract's names


def test_item_view_finds_a_combined_id_and_counts_its_deadline(two_years):
    """Issue 27: a 目录更新 item "BC1/C-R1" (change/resource) said the basis-change register was missing from
    the published copy (the combined id matched no change_id) and showed no day-by-day count."""
    from hzeval.assessment.scheme import latest_scheme_for

    with workbench.open_run(2025, two_years) as run:
        detail = staff.item_view(run, "catalog_update_timeliness", "BC1/C-R1", latest_scheme_for(2025))
        missing = staff.item_view(run, "catalog_update_timeliness", "BC9/C-R1", latest_scheme_for(2025))
    records, steps = detail.tables()
    assert records.headers[0] == "变化编号" and records.df.height == 1
    assert not any("未随发布副本提供" in p.text for p in detail.parts if isinstance(p, staff.Text))
    # 15 working days from Fri 2025-09-19 (the day itself not counted): 09-22..26 (1-5), Sun 09-28 调休上班 (6),
    # 09-29, 09-30 (7, 8), 10-01..10-08 国庆/中秋 not counted, 10-09, 10-10 (9, 10), Sat 10-11 调休上班 (11),
    # 10-13..10-16 (12-15): due Thu 2025-10-16 24:00
    counted = dict(zip(steps.df["date"].cast(pl.String), steps.df["counted"]))
    assert counted["2025-09-28"] == "第 6 个工作日" and counted["2025-10-11"] == "第 11 个工作日"
    assert counted["2025-10-16"] == "第 15 个工作日" and counted["2025-10-03"] == "不计"
    # a change the run has no record of: the register is there, the record is not
    texts = [p.text for p in missing.parts if isinstance(p, staff.Text)]
    assert texts == ["运行中没有事项 BC9/C-R1。"]


NOTEBOOKS = ("drop_check", "evidence_explorer", "year_over_year")


@pytest.mark.parametrize("interactive", [False, True])
def test_staff_notebooks_with_parameters(two_years, tmp_path, interactive):
    """papermill drives each staff notebook from its parameters cell, with and without pickers."""
    import nbformat
    import papermill as pm

    texts = {}
    for name in NOTEBOOKS:
        out = tmp_path / f"{name}.ipynb"
        pm.execute_notebook(
            str(ROOT / "notebooks" / f"{name}.ipynb"),
            str(out),
            kernel_name="python3",
            parameters={
                "published": str(two_years),
                "agency_code": "C",
                "metric_id": "share_reply_timeliness",
                "interactive": interactive,
            },
            progress_bar=False,
            cwd=str(tmp_path),
        )
        nb = nbformat.read(out, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        # with pickers, the views live in the Output widgets' saved state
        state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
        outputs += [
            o for w in state.values() if w["model_name"] == "OutputModel" for o in w["state"].get("outputs", [])
        ]
        texts[name] = "".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
        assert not re.search(r">\s*(null|None|NaN)\s*<", texts[name]), name
        if interactive:
            widgets = [
                o
                for c in nb.cells
                if c.cell_type == "code"
                for o in c.get("outputs", [])
                if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            ]
            assert widgets, name
    # 09-30 + 2 working days: the eight days of 国庆/中秋 are skipped, 10-09 and 10-10 count
    assert (
        "S2" in texts["evidence_explorer"]
        and "第 2 个工作日" in texts["evidence_explorer"]
        and "法定节假日" in texts["evidence_explorer"]
        and "国庆节" in texts["evidence_explorer"]
    )
    assert (
        "对比 2025 年" in texts["year_over_year"]
        and "甲局" in texts["year_over_year"]
        and "丙局" in texts["year_over_year"]
    )
    assert "已加载文件" in texts["drop_check"] and "目录快照只有 0 期" in texts["drop_check"]


def test_staff_notebooks_never_open_the_live_warehouse():
    """DESIGN §2: they read published runs through hzeval.workbench.session; nothing in them names the warehouse."""
    for name in NOTEBOOKS:
        text = (ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "workbench.open_" in text, name
        assert not re.search(r"duckdb\.connect|open_warehouse|hzeval\.duckdb|HZEVAL_DB", text), name


def test_published_copy_is_read_only_for_notebooks(two_years):
    with workbench.open_inputs(2025, two_years) as inputs, pytest.raises(duckdb.Error):
        inputs.con.execute("create table x (a int)")


def test_report_renders_the_staff_notebooks_with_code_hidden(two_years, tmp_path):
    from hzeval.services import render_reports

    result = render_reports(2025, out=tmp_path, formats=("html",), published=two_years, only=[], workers=2)
    assert not result.failures, [r.error for r in result.failures]
    out = tmp_path / "2025"
    drop = (out / "notebooks" / "drop_check.html").read_text(encoding="utf-8")
    yoy = (out / "notebooks" / "year_over_year.html").read_text(encoding="utf-8")
    assert "2025 年度数据包检查" in drop and "已加载文件" in drop and "按月份和机构的行数" in drop
    assert "对比 2025 年" in yoy and "甲局" in yoy and "丙局" in yoy
    for page in (drop, yoy):
        assert "workbench.open_" not in page and "import " not in page  # code hidden
        assert "widget-view" not in page  # static: no pickers
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="notebooks/drop_check.html"' in index and 'href="notebooks/year_over_year.html"' in index
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert "notebooks/drop_check.html" in manifest
