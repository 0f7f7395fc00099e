"""较上年 (issue 24 item 7, DESIGN §7a): each agency against the previous year's official run — score
change, rank change, grade change — computed once (:func:`hzeval.runs.year_change`) and read by the
bulletin, the dashboard's 总览 (and its offline file) and, per dimension, the agency report; with
上年无正式结果 when the previous year has only trial runs or none.

The sample: 2024 assessed as of 2025-01-06, 2025 as of 2026-01-05. The totals, ranks and grades
below are the two runs' own (``grades``); the changes are worked out from them by hand."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from conftest import copy_sample
from surface_scan import visible_text
from test_dashboard import page_text

from hzeval import present
from hzeval.dashboard import offline, views
from hzeval.dashboard.store import Store, User
from hzeval.reports import data
from hzeval.runs import open_run, previous_official
from hzeval.services import render_reports
from hzeval.store.publication import make_official, withdraw
from hzeval.store.warehouse import connect


def _run_id(pub, year: int) -> str:
    with open_run(pub, year) as run:
        return run.run_id


@pytest.fixture(scope="module")
def official(sample_warehouse, tmp_path_factory):
    """The sample with its 2024 run made official (2025 stays a trial run)."""
    db = copy_sample(sample_warehouse, tmp_path_factory, "yoy_official")
    pub = db.parent / "published"
    with connect(db) as con:
        make_official(con, _run_id(pub, 2024), "tester", "yoy test", db=db)
    return db, pub


@pytest.fixture(scope="module")
def trial_only(sample_warehouse, tmp_path_factory):
    """The sample as assessed: both years are trial runs."""
    db = copy_sample(sample_warehouse, tmp_path_factory, "yoy_trial")
    return db, db.parent / "published"


# --------------------------------------------------------------------------- the words


def test_change_texts():
    assert present.score_change(59.34 - 94.00) == "−34.66"  # U+2212, as a leader's table prints it
    assert present.score_change(3.25) == "+3.25"
    assert present.score_change(-0.004) == "0.00" and present.score_change(None) == "—"
    assert present.rank_change(19, 10) == "↓9"  # 10th → 19th: down nine places
    assert present.rank_change(1, 2) == "↑1"
    assert present.rank_change(3, 3) == "—" and present.rank_change(None, 3) == "—"
    assert present.grade_change("优秀", "不合格") == "优秀→不合格"
    assert present.grade_change("良好", "良好") == "—" and present.grade_change(None, "良好") == "—"


# --------------------------------------------------------------------------- the frame


def test_hz006_fell_from_excellent_to_failing(official):
    _, pub = official
    with open_run(pub, 2025) as run:
        yoy = run.year_changes()
    assert yoy.height == 40  # every agency the run scores: 38 graded + 2 参照执行
    r = yoy.filter(pl.col("agency_code") == "HZ006").row(0, named=True)
    # 2024: 94.00, 10th of 市级, 优秀; 2025: 59.34, 19th of 市级, 不合格
    assert (r["total_prev"], r["rank_prev"], r["grade_prev"]) == (94.00, 10, "优秀")
    assert (r["total"], r["rank"], r["grade"]) == (59.34, 19, "不合格")
    # 59.34 − 94.00 = −34.66; 10 − 19 = −9 places (down 9)
    assert r["change"] == pytest.approx(-34.66) and r["rank_moved"] == -9 and r["grade_moved"]
    assert (r["change_text"], r["rank_change_text"], r["grade_change_text"]) == ("−34.66", "↓9", "优秀→不合格")
    assert r["prev_run_id"].startswith("2024-")
    # HZ101 (县区): 94.68 (2nd) → 96.88 (1st): +2.20, ↑1, 优秀 both years
    r = yoy.filter(pl.col("agency_code") == "HZ101").row(0, named=True)
    assert (r["change_text"], r["rank_change_text"], r["grade_change_text"]) == ("+2.20", "↑1", "—")
    # HZ013 (参照执行, not graded either year): 93.45 → 96.21 = +2.76; no rank, no grade to compare
    r = yoy.filter(pl.col("agency_code") == "HZ013").row(0, named=True)
    assert (r["change_text"], r["rank_change_text"], r["grade_change_text"]) == ("+2.76", "—", "—")
    assert r["rank_prev"] is None and r["grade_prev"] is None


def test_hz006_per_dimension(official):
    _, pub = official
    with open_run(pub, 2025, scope="HZ006") as run:
        dims = run.previous_year("HZ006")
    by = {r["item"]: r for r in dims.iter_rows(named=True)}
    assert list(by)[0] == "总分" and list(by)[-1] == "扣分项"
    assert (by["总分"]["grade_prev"], by["总分"]["grade"], by["总分"]["change_text"]) == ("优秀", "不合格", "−34.66")
    # 目录管理 19.0959 → 11.4762: −7.6197 → −7.62; 共享服务 28.3122 → 17.7190: −10.5932 → −10.59
    assert by["目录管理"]["change_text"] == "−7.62" and by["共享服务"]["change_text"] == "−10.59"
    # 数据开放 8.4210 (all of its 8.421) → 0.00 of 10: −8.42, rate 100% → 0%
    assert by["数据开放"]["change_text"] == "−8.42" and by["数据开放"]["rate_change"] == pytest.approx(-1.0)
    # 项目管理 had nothing to assess in 2024 (满分 0 after re-weighting), 0.00 of 5 in 2025
    assert by["项目管理"]["change_text"] == present.NOT_APPLICABLE_PREV
    # deductions: none in 2024, −2.00 in 2025
    assert by["扣分项"]["change_text"] == "−2.00"
    # the parts add up to the total's change (to the cent): −7.6197 − 0.5361 − 10.5932 − 8.4210 − 5.4887
    # − 2.0000 = −34.6587 ≈ −34.66
    parts = sum(r["points"] - r["points_prev"] for i, r in by.items() if i != "总分" and r["points_prev"] is not None)
    assert parts == pytest.approx(-34.66, abs=0.01)


def test_no_official_result_when_last_year_is_only_trial(trial_only):
    _, pub = trial_only
    with open_run(pub, 2025) as run:
        assert previous_official(pub, 2025) is None
        yoy = run.year_changes()
        assert set(yoy["change_text"]) == {present.NO_OFFICIAL_PREV}
        assert set(yoy["rank_change_text"]) == {"—"} and yoy["total_prev"].null_count() == yoy.height
        assert run.previous_year("HZ006") is None
        assert data.previous_note(run) == "上年无正式结果：2024 年度只有试算结果，尚未确认为正式结果，不作比较。"


def test_no_official_result_when_last_year_is_absent(official, tmp_path):
    _, pub = official
    only = tmp_path / "published"
    only.mkdir()
    shutil.copy(data.find_published(pub, 2025), only)
    with open_run(only, 2025) as run:
        assert set(run.year_changes()["change_text"]) == {present.NO_OFFICIAL_PREV}
        assert data.previous_note(run) == "上年无正式结果：2024 年度没有已发布的评估结果，不作比较。"


def test_withdrawn_official_run_is_not_compared(sample_warehouse, tmp_path_factory):
    """An official 2024 run withdrawn: the resolver reads the other 2024 runs only (none here)."""
    db = copy_sample(sample_warehouse, tmp_path_factory, "yoy_withdrawn")
    pub = db.parent / "published"
    run_2024 = _run_id(pub, 2024)
    with connect(db) as con:
        make_official(con, run_2024, "tester", db=db)
        assert previous_official(pub, 2025).stem == run_2024
        withdraw(con, run_2024, "tester", "wrong as-of", db=db)
    assert previous_official(pub, 2025) is None
    with open_run(pub, 2025) as run:
        assert set(run.year_changes()["change_text"]) == {present.NO_OFFICIAL_PREV}


def test_a_scoped_reader_compares_its_own_agency_only(official):
    _, pub = official
    with open_run(pub, 2025, scope="HZ006") as run:
        yoy = run.year_changes()
    assert yoy["agency_code"].to_list() == ["HZ006"] and yoy["change_text"][0] == "−34.66"


# --------------------------------------------------------------------------- the surfaces


def test_dashboard_overview_and_offline_file(official, trial_only):
    _, pub = official
    store = Store(pub, User("boss", "leader"))
    run_id = store.latest_run_id(2025)
    yoy = store.year_changes(run_id)
    assert yoy.filter(pl.col("agency_code") == "HZ006")["change_text"][0] == "−34.66"
    text = page_text(views.overview_page(store, run_id))
    for heading in present.YEAR_CHANGE_COLUMNS.values():
        assert heading in text
    assert "−34.66" in text and "↓9" in text and "优秀→不合格" in text
    assert "与 2024 年度正式评估结果" in text
    assert "−34.66" in page_text(offline.dashboard_layout(pub, run_id))  # the offline file's 总览 is the same page
    # an agency user's 总览 compares its own agency only
    own = Store(pub, User("hz006", "agency:HZ006"))
    assert own.year_changes(run_id)["agency_code"].to_list() == ["HZ006"]
    # 2024 only a trial run: the columns say so
    _, tpub = trial_only
    tstore = Store(tpub, User("boss", "leader"))
    text = page_text(views.overview_page(tstore, tstore.latest_run_id(2025)))
    assert present.NO_OFFICIAL_PREV in text and "−34.66" not in text


def test_bulletin_and_agency_report(official, tmp_path):
    _, pub = official
    result = render_reports(2025, out=tmp_path, formats=("html",), published=pub, only=["HZ006"], workers=2)
    bulletin = visible_text((result.out_dir / "bulletin.html").read_text(encoding="utf-8"))
    for heading in present.YEAR_CHANGE_COLUMNS.values():
        assert heading in bulletin
    row = bulletin[bulletin.index("惠州市生态环境局") :][:200]
    assert "59.34" in row and "−34.66" in row and "↓9" in row and "优秀→不合格" in row
    assert "与 2024 年度正式评估结果" in bulletin
    report = visible_text((result.out_dir / "agencies" / "HZ006.html").read_text(encoding="utf-8"))
    assert "上年度总分 94.00（优秀），本年度 59.34（不合格），较上年 −34.66 分" in report
    assert "−7.62" in report and "−10.59" in report and present.NOT_APPLICABLE_PREV in report
