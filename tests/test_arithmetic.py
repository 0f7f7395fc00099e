"""A score shows its arithmetic (issue 24 items 4–5, DESIGN §7a) on every surface.

Hand-worked figures from the sample drop and ``hzeval/schemes/2025.yaml``:

- 目录管理 weight 20, indicator points 6+4+4+3+7 = 24; 数据汇聚与更新 25, 8+10+7 = 25; 共享服务 30,
  6+5+3+3+4+3+3+3+2 = 32; 数据开放 10; 项目管理 5; 安全与整改 10;
- deductions: one_source_conflicts 1.00 each, cap 3; out_of_scope_calls 1.00 each, cap 4;
  open_catalog_foreign_data 1.00, cap 2; security_incidents 2.00, cap 4.
"""

from __future__ import annotations

import pytest
from conftest import copy_sample
from surface_scan import visible_text

from hzeval import present
from hzeval.reports import data

CATALOG_EMPTY = "本机构年内无已发布资源：目录要素完整率按常设义务计 0 分；请编制并发布公共数据资源目录"
AGGREGATION_EMPTY = (
    "本机构年内无已发布资源：数据汇聚覆盖率按常设义务计 0 分；请编制并发布公共数据资源目录，并按目录完成数据汇聚"
)
HZ105_LINE = "Σ得分 5.00 − 扣分 5.00 = 总分 0.00"


@pytest.fixture(scope="module")
def pub(sample_warehouse, tmp_path_factory):
    db = copy_sample(sample_warehouse, tmp_path_factory, "arith")
    return db, db.parent / "published"


# --------------------------------------------------------------------------- the vocabulary


def test_words_of_the_arithmetic():
    # 满分 10.53 where the scheme says 10.00, moved by an indicator that did not apply
    assert present.max_points_text(10.5263, 10.0, "异议处理结果告知率") == (
        "10.53（因本单位 异议处理结果告知率 不适用按比例调整，原 10.00）"
    )
    assert present.max_points_text(10.0, 10.0, None) == "10.00"  # the scheme's own: nothing to say
    assert present.max_points_text(0.0, 10.0, None) == "—"  # not applicable
    # 6 violations at 1.00 = 6.00, capped at 4.00
    assert present.deduction_text(6, 1.0, 4.0, 4.0) == "6 次 × 1.00 分 = 6.00 分，上限 4.00 分，扣 4.00 分"
    assert present.deduction_text(6, None, None, 4.0) == "6 次，扣 4.00 分"  # without the run's scheme
    assert present.score_line(45.86, 3.0, 42.86) == "Σ得分 45.86 − 扣分 3.00 = 总分 42.86"
    # 3.00 − 5.00 = −2.00: the total is never below 0, and the line says so
    assert present.score_line(3.0, 5.0, 0.0) == "Σ得分 3.00 − 扣分 5.00 = -2.00，总分不低于 0 分：总分 0.00"
    assert present.actual(0.75, 3, 4) == "75.0%（3/4）" and present.actual(None, 0, 0) == "无可计事项（0/0）"
    assert present.COLUMNS["target"] == "达标值" and present.COLUMNS["floor"] == "起评值"


# --------------------------------------------------------------------------- the read layer


@pytest.mark.parametrize("year", [2024, 2025])
def test_every_total_is_its_arithmetic_to_the_cent(pub, year):
    """For every scored agency: Σ得分 − 扣分 = 总分 to the cent, 扣分 = Σ min(count × per, cap) from
    the scheme, and the line prints those three figures."""
    with data.open_run(pub[1], year) as run:
        a = run.arithmetic()
        s = run.scores()
        assert a.height == run.grades().height > 30
        for r in a.iter_rows(named=True):
            rows = s.filter(s["agency_code"] == r["agency_code"])
            ded = rows.filter(rows["is_deduction"])
            recomputed = sum(min((c or 0) * p, cap) for c, p, cap in zip(ded["count"], ded["per"], ded["cap"]))
            assert r["deducted"] == pytest.approx(round(recomputed, 2), abs=1e-9), r
            earned = sum(p or 0 for p in rows.filter(~rows["is_deduction"])["points"])
            assert r["earned"] == pytest.approx(round(earned, 2), abs=1e-9), r
            assert round(max(r["earned"] - r["deducted"], 0), 2) == pytest.approx(r["total"], abs=1e-9), r
            assert r["line"].endswith(f"总分 {present.points(r['total'])}"), r
            assert f"Σ得分 {present.points(r['earned'])} − 扣分 {present.points(r['deducted'])}" in r["line"]


def test_hz105_scores_zero_as_five_earned_less_five_deducted(pub):
    """HZ105 (2025): earned 0.83 + 1.67 + 2.50 = 5.00 —
    目录要素完整率 4/6 = 66.7%, floor 60%, target 100%: 20 × 6/24 = 5.00 × (0.667 − 0.6)/0.4 = 0.83;
    采集清单编目覆盖率 9/12 = 75%, floor 50%: 20 × 4/24 = 3.33 × 0.5 = 1.67; 开放依据完备率 3/3: 20 × 3/24 = 2.50;
    everything else 0. Deducted: 一数多源冲突 1 × 1.00 = 1.00 (cap 3) + 超范围使用 6 × 1.00 = 6.00 capped at 4.00
    = 5.00. Total 5.00 − 5.00 = 0.00."""
    with data.open_run(pub[1], 2025) as run:
        assert run.score_line("HZ105") == HZ105_LINE
        s = {r["metric_id"]: r for r in run.scores("HZ105").iter_rows(named=True)}
    assert s["out_of_scope_calls"]["deduction_text"] == "6 次 × 1.00 分 = 6.00 分，上限 4.00 分，扣 4.00 分"
    assert s["one_source_conflicts"]["deduction_text"] == "1 次 × 1.00 分 = 1.00 分，上限 3.00 分，扣 1.00 分"
    # 汇聚数据质量 78.6% is below its floor 90% (target 99%): 0.00 of 25 × 7/25 = 7.00, not re-weighted
    q = s["aggregation_quality"]
    assert (q["target"], q["floor"]) == (0.99, 0.9)
    assert q["value_text"] == "78.6%（90,314/114,941）" and q["max_text"] == "7.00" and q["points"] == 0
    c = s["catalog_completeness"]
    assert (c["target"], c["floor"], c["nominal_max"]) == (1.0, 0.6, 5.0) and c["points"] == pytest.approx(0.8333)
    # 共享服务: 拒绝共享依据率 (3), 目录外需求确认及时率 (3), 异议处理结果告知率 (2) do not apply, so
    # 共享申请答复及时率 is worth 30 × 6/(32 − 8) = 7.50 instead of 30 × 6/32 = 5.625
    r = s["share_reply_timeliness"]
    assert r["max_points"] == pytest.approx(7.5) and r["nominal_max"] == pytest.approx(5.625)
    assert r["reweighted_by"] == "拒绝共享依据率、目录外需求确认及时率、异议处理结果告知率"
    assert r["max_text"] == (
        f"7.50（因本单位 拒绝共享依据率、目录外需求确认及时率、异议处理结果告知率 不适用按比例调整，"
        f"原 {present.points(5.625)}）"
    )


def test_hz028_standing_zeros_say_why_and_what_to_do(pub):
    """HZ028 has no published resource in 2025: 目录要素完整率 and 数据汇聚覆盖率 are 0/0 and, being
    standing obligations, score 0. 项目管理 has no project (the whole dimension gives its 5 to the
    others: live weight 95), so 目录管理 (20 × 100/95 = 21.05) is shared by the two indicators that
    apply (6 + 4 = 10): 目录要素完整率 is worth 21.05 × 6/10 = 12.63; 数据汇聚与更新 (25 × 100/95 =
    26.32) has only 数据汇聚覆盖率 left: 26.32."""
    with data.open_run(pub[1], 2025) as run:
        s = {r["metric_id"]: r for r in run.scores("HZ028").iter_rows(named=True)}
        lost = {r["metric_id"]: r for r in data.lost_by_metric(run, "HZ028").iter_rows(named=True)}
    cat, agg = s["catalog_completeness"], s["aggregation_coverage"]
    assert cat["standing_zero"] and cat["note"] == CATALOG_EMPTY and cat["lost"] == pytest.approx(12.6316)
    assert agg["standing_zero"] and agg["note"] == AGGREGATION_EMPTY and agg["lost"] == pytest.approx(26.3158)
    assert cat["value_text"] == "无可计事项（0/0）"
    assert cat["max_text"].startswith("12.63（因本单位 ") and "项目管理维度" in cat["max_text"]
    assert cat["max_text"].endswith("不适用按比例调整，原 5.00）")  # 20 × 6/24
    # an event-driven 0/0 is not counted and says so; never the standing sentence
    assert not s["catalog_share_basis"]["standing_zero"] and s["catalog_share_basis"]["note"] == present.NA_NOTE
    assert lost["catalog_completeness"]["standing_zero"]


# --------------------------------------------------------------------------- the surfaces


def test_explain_shows_the_arithmetic_and_the_standing_zero(pub, capsys):
    from hzeval.cli.main import main

    main(["--db", str(pub[0]), "explain", "--year", "2025", "--agency", "HZ105"])
    out = capsys.readouterr().out
    assert f"总分计算：{HZ105_LINE}" in out
    assert "达标值" in out and "起评值" in out and "每次扣分" in out and "上限" in out
    assert "扣 4.00 分：6 次 × 1.00 分 = 6.00 分，上限 4.00 分，扣 4.00 分" in out
    main(["--db", str(pub[0]), "explain", "--year", "2025", "--agency", "HZ028"])
    out = capsys.readouterr().out
    assert CATALOG_EMPTY in out and AGGREGATION_EMPTY in out
    # no advice written for an agency with published resources under the standing zeros
    assert "补齐目录必填要素" not in out and "对已发布但年内未成功汇聚" not in out


def test_report_and_workbook_show_the_arithmetic(pub, tmp_path):
    import openpyxl

    from hzeval.services import render_reports

    result = render_reports(
        2025, out=tmp_path, formats=("html", "xlsx"), published=pub[1], only=["HZ028", "HZ105"], workers=1
    )
    assert not result.failures
    hz105 = visible_text((result.out_dir / "agencies" / "HZ105.html").read_text(encoding="utf-8"))
    assert HZ105_LINE in hz105
    for word in ("实际值", "达标值", "起评值", "满分", "得分", "失分", "次数", "每次扣分", "上限", "扣分"):
        assert word in hz105, word
    assert "7.50（因本单位 拒绝共享依据率、目录外需求确认及时率、异议处理结果告知率 不适用按比例调整" in hz105
    hz028 = visible_text((result.out_dir / "agencies" / "HZ028.html").read_text(encoding="utf-8"))
    assert CATALOG_EMPTY in hz028 and AGGREGATION_EMPTY in hz028
    assert "补齐目录必填要素" not in hz028 and "对已发布但年内未成功汇聚" not in hz028
    wb = openpyxl.load_workbook(result.out_dir / "workbook.xlsx", read_only=True)
    rows = list(wb["总分与等级"].iter_rows(values_only=True))
    by_code = {r[rows[0].index("机构代码")]: r for r in rows[1:]}
    assert by_code["HZ105"][rows[0].index("总分计算")] == HZ105_LINE
    ind = list(wb["指标得分"].iter_rows(values_only=True))
    h = ind[0]
    q = next(
        r for r in ind[1:] if r[h.index("机构代码")] == "HZ105" and r[h.index("指标代码")] == "aggregation_quality"
    )
    assert (q[h.index("达标值")], q[h.index("起评值")]) == (0.99, 0.9)
    c = next(
        r for r in ind[1:] if r[h.index("机构代码")] == "HZ028" and r[h.index("指标代码")] == "catalog_completeness"
    )
    assert c[h.index("说明")] == CATALOG_EMPTY
    wb.close()


def test_dashboard_agency_page_shows_the_arithmetic(pub):
    from test_dashboard import page_text

    from hzeval.dashboard import views
    from hzeval.dashboard.store import Store, User

    store = Store(pub[1], User("boss", "leader"))
    run = store.latest_run_id()
    text = page_text(views.agency_page(store, run, "HZ105"))
    assert HZ105_LINE in text and "达标值" in text and "起评值" in text and "每次扣分" in text
    text = page_text(views.agency_page(store, run, "HZ028"))
    assert CATALOG_EMPTY in text and AGGREGATION_EMPTY in text
