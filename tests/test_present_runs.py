"""The one read layer (hzeval.runs) and the one vocabulary (hzeval.present), on hand-built runs.

Every expected value is worked out by hand from the rules (DESIGN §4, §6, §7), not copied from
the code's output.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from conftest import insert

from hzeval import present
from hzeval.runs import DENIED, RunReader, agency_param

RUN = "2025-TEST"
AS_OF = dt.datetime(2026, 1, 5, 9, 0)


# --------------------------------------------------------------------------- vocabulary


def test_deadline_is_the_end_of_the_working_day():
    # DESIGN §7: due_at 2026-01-01 00:00 is the end (24:00) of 2025-12-31
    assert present.deadline(dt.datetime(2026, 1, 1, 0, 0)) == "2025-12-31 24:00"
    # DESIGN §4: received Fri 2025-09-26, 2 working days → end of Mon 2025-09-29 (Sun 28th worked),
    # stored as 2025-09-30 00:00
    assert present.deadline(dt.datetime(2025, 9, 30)) == "2025-09-29 24:00"
    assert present.deadline(dt.date(2024, 1, 24)) == "2024-01-24 24:00"
    assert present.deadline(None) == ""
    assert present.due_date(dt.datetime(2026, 1, 1)) == dt.date(2025, 12, 31)


def test_numbers_read_one_way():
    assert present.integer(12.0) == "12"
    assert present.integer(1766193.0) == "1,766,193"
    assert present.points(-0.0001) == "0.00" and present.points(-0.0) == "0.00"
    assert present.points(97.385) in ("97.39", "97.38")  # binary rounding of .385; two decimals either way
    assert present.points(100) == "100.00"
    assert present.percent(0.9549) == "95.5%" and present.percent(-0.00001) == "0.0%"
    assert present.signed_points(0.654) == "+0.65" and present.signed_points(-0.001) == "0.00"
    assert present.number(95.0) == "95" and present.number(95.49) == "95.49"
    assert present.integer(None) == present.DASH and present.percent(float("nan")) == present.DASH


def test_chinese_names_for_tables_and_cells():
    assert present.table_zh("share_applications") == "共享申请"
    assert present.table_zh("incidents") == "安全事件"
    assert present.table_zh("aggregation_log") == "汇聚日志"
    assert present.cell("record_table", "rectifications") == "整改通知"
    assert present.cell("count", 12.0) == "12"
    assert present.cell("lost", -0.0) == "0.00"
    assert present.cell("due_at", dt.datetime(2024, 1, 25)) == "2024-01-24 24:00"
    assert present.cell("passed", False) == "未通过"
    assert present.escape("<b>") == "&lt;b&gt;"


# --------------------------------------------------------------------------- a hand-built run


@pytest.fixture
def run_wh(wh):
    """Two graded agencies (A vetoed for a 数据泄露 on 2025-08-14, B not) and one authority."""
    insert(
        wh,
        "agencies",
        {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
        {"agency_code": "B", "agency_name": "乙局", "level": "市级"},
        {"agency_code": "Z", "agency_name": "数据局", "level": "市级", "is_authority": True},
    )
    insert(
        wh,
        "incidents",
        {"incident_id": "IN-1", "agency_code": "A", "occurred_at": "2025-08-14 10:00", "kind": "数据泄露"},
    )
    wh.execute(
        """insert into runs (run_id, started_at, finished_at, year, as_of, scheme_sha256, inputs_sha256,
                  package_version, status, scheme_name) values
                  ($r, $t, $t, 2025, $a, 's', 'i', '0', 'finished', '测试方案')""",
        {"r": RUN, "t": AS_OF, "a": AS_OF},
    )
    wh.execute(
        """insert into grades (run_id, year, agency_code, total, grade, vetoed, rank, peer_group) values
                  ($r, 2025, 'A', 94.5, '不合格', true, 2, '市级'), ($r, 2025, 'B', 80.0, '良好', false, 1, '市级')""",
        {"r": RUN},
    )
    # A: an indicator 7.5 of 10 (lost 2.5), a deduction of 3 (lost 3), one not applicable (0 of 0: lost 0)
    wh.execute(
        """insert into scores (run_id, year, agency_code, dimension, indicator, points, max_points) values
                  ($r, 2025, 'A', '共享服务', 'share_reply_timeliness', 7.5, 10),
                  ($r, 2025, 'A', '项目管理', 'project_gate', 0, 0),
                  ($r, 2025, 'A', '扣分项', 'out_of_scope_calls', -3, 0),
                  ($r, 2025, 'B', '共享服务', 'share_reply_timeliness', 10, 10),
                  ($r, 2025, 'B', '扣分项', 'out_of_scope_calls', -0.0, 0)""",
        {"r": RUN},
    )
    wh.execute(
        """insert into metric_values (run_id, year, agency_code, metric_id, numerator, denominator, value, count) values
                  ($r, 2025, 'A', 'share_reply_timeliness', 3, 4, 0.75, 1),
                  ($r, 2025, 'A', 'out_of_scope_calls', null, null, null, 3)""",
        {"r": RUN},
    )
    wh.execute(
        """insert into evidence (run_id, metric_id, agency_code, record_table, record_id, reason, due_at, done_at,
                                 adjustment_id) values
                  ($r, 'share_reply_timeliness', 'A', 'share_applications', 'S1', '逾期答复',
                   timestamp '2025-09-30 00:00', timestamp '2025-10-09 15:00', null),
                  ($r, 'security_incidents', 'A', 'incidents', 'IN-1', '安全事件：数据泄露', null,
                   timestamp '2025-08-14 10:00', null)""",
        {"r": RUN},
    )
    return wh


def test_points_lost_has_one_definition(run_wh):
    s = {r["metric_id"]: r for r in RunReader(run_wh).scores("A").iter_rows(named=True)}
    assert s["share_reply_timeliness"]["lost"] == pytest.approx(2.5)  # 10 − 7.5
    assert s["out_of_scope_calls"]["lost"] == pytest.approx(3.0)  # a deduction of −3 loses 3
    assert s["out_of_scope_calls"]["is_deduction"] and s["out_of_scope_calls"]["applicable"]
    assert s["project_gate"]["lost"] == 0 and not s["project_gate"]["applicable"]  # 0 of 0: not applicable
    b = RunReader(run_wh).scores("B")
    assert b["lost"].to_list() == [0, 0]  # a −0.0 deduction loses nothing (and never prints "-0.00")
    assert present.points(b["lost"][1]) == "0.00"


def test_veto_named_with_incident_date_kind_and_basis(run_wh):
    g = RunReader(run_wh).grade("A")
    assert g["grade_label"] == "不合格（一票否决）"
    # a run without a recorded basis: the scheme's veto rule alone -- the draft has no 一票否决 (a veto is the
    # scheme's policy), so no article is cited (issue 25 item 12; it printed 一票否决规则（第四十七条）)
    assert g["veto_text"] == "一票否决：2025-08-14 发生数据泄露事件（IN-1）；依据：《测试方案》一票否决规则"
    # an agency's challenge of its own items is the scheme's procedure, not 第四十五条 (disputes between agencies)
    assert RunReader(run_wh).adjustment_basis() == "依《测试方案》复核调整"
    assert present.adjustment_basis(None) == "依评估方案复核调整"
    assert RunReader(run_wh).grade("B")["veto_text"] is None
    # a run that records the scheme's basis (grades.veto_reason) prints that basis
    run_wh.execute("alter table grades add column if not exists veto_reason varchar")
    run_wh.execute("update grades set veto_reason = '《2025年度评估方案》第五项' where agency_code = 'A'")
    g = RunReader(run_wh).grade("A")
    assert g["veto_text"].endswith("依据：《2025年度评估方案》第五项") and "IN-1" in g["veto_text"]


def test_excused_incident_neither_vetoes_nor_is_named(run_wh):
    run_wh.execute("update evidence set adjustment_id = 'ADJ-1' where record_id = 'IN-1'")
    assert RunReader(run_wh).vetoes("A").is_empty()


def test_evidence_lateness_and_chinese_table_name(run_wh):
    e = RunReader(run_wh).evidence("A", "share_reply_timeliness").row(0, named=True)
    assert e["record_table_zh"] == "共享申请"
    assert present.deadline(e["due_at"]) == "2025-09-29 24:00"
    # deadline end of Mon 2025-09-29; done Thu 2025-10-09. Working days after the 29th up to the 9th:
    # Tue 09-30 (1), 10-01..10-08 国庆/中秋 holiday, Thu 10-09 (2) → 2 working days late
    assert e["wd_late"] == 2
    assert e["days_late"] == 9  # calendar days 2025-09-30 → 2025-10-09
    assert e["metric_name"] == "共享申请答复及时率" and e["article"] == "第二十四条"


def test_agency_scope_filters_in_the_queries(run_wh):
    assert agency_param("A", None) == "A" and agency_param("A", "B") == DENIED and agency_param(None, "B") == "B"
    a = RunReader(run_wh, scope="A")
    assert a.grades()["agency_code"].to_list() == ["A"]
    assert a.grades("B").is_empty() and a.scores("B").is_empty() and a.evidence("B").is_empty()
    assert a.vetoes("B").is_empty()
    assert set(a.scores()["agency_code"]) == {"A"}
    everyone = RunReader(run_wh)
    assert everyone.grades()["agency_code"].to_list() == ["B", "A"]  # by rank within the peer group


def test_reader_tolerates_new_columns(run_wh):
    """Columns other changes add (grades.graded, scores.basis, evidence.rule_profile/article) are read when present."""
    before = RunReader(run_wh)
    assert before.grades()["graded"].to_list() == [True, True]
    assert before.scores("A")["basis"].is_null().all()
    run_wh.execute("alter table grades add column if not exists graded boolean")
    run_wh.execute("update grades set graded = (agency_code = 'A')")
    run_wh.execute("alter table scores add column if not exists basis varchar")
    run_wh.execute("update scores set basis = '方案第三项' where indicator = 'out_of_scope_calls'")
    run_wh.execute("alter table evidence add column if not exists article varchar")
    run_wh.execute("alter table evidence add column if not exists rule_profile varchar")
    run_wh.execute("update evidence set article = '第二十五条', rule_profile = 'p-2025' where record_id = 'S1'")
    after = RunReader(run_wh)
    assert dict(zip(after.grades()["agency_code"], after.grades()["graded"])) == {"A": True, "B": False}
    assert after.scores("A").filter(metric_id="out_of_scope_calls")["basis"][0] == "方案第三项"
    e = after.evidence("A", "share_reply_timeliness").row(0, named=True)
    assert e["article"] == "第二十五条" and e["rule_profile"] == "p-2025"


def test_incidents_cite_their_clause_or_the_schemes_basis(sample_warehouse):
    """Issue 25 item 12: the sample's 数据泄露 (IN-2025-001, HZ009) cites 第四十七条（五）; an incident of another
    kind (网络攻击, 系统故障 …) is no conduct the draft names, so it and the deduction line cite the basis the
    2025 scheme deducts under, never "第四十一条、第四十七条"."""
    from hzeval.store.warehouse import connect

    basis = "《惠州市2025年度公共数据管理评估方案》扣分细则第四项"
    with connect(sample_warehouse, read_only=True) as con:
        r = RunReader(con, year=2025)
        ev = r.evidence(metric="security_incidents")
        cited = dict(zip(ev["record_id"], ev["article"]))
        assert cited["IN-2025-001"] == "第四十七条（五）"
        others = ev.filter(~pl.col("reason").str.contains("数据泄露"))
        assert others.height > 0 and set(others["article"]) == {basis}
        line = r.scores("HZ009").filter(metric_id="security_incidents").row(0, named=True)
        assert line["article"] == basis


def test_explain_names_the_veto_and_writes_deadlines_one_way(sample_warehouse, capsys):
    """`hzeval explain` reads the published run: HZ009's veto (IN-2025-001, 2025-08-14, 数据泄露, basis)
    and every deadline as "YYYY-MM-DD 24:00"."""
    import re

    from hzeval.cli.main import main

    main(["--db", str(sample_warehouse), "explain", "--year", "2025", "--agency", "HZ009", "--limit", "50"])
    out = capsys.readouterr().out
    assert "不合格（一票否决）" in out
    # the sample's leak names its stage (第二十二条: HZ009 answers for it as the provider)
    assert "一票否决：2025-08-14 发生数据泄露事件（IN-2025-001，提供环节）；依据：" in out
    assert "00:00:00" not in out and "-0.00" not in out
    assert "share_applications" not in out and "incidents " not in out
    for deadline in re.findall(r"期限 (\S+ \S+?)，", out):
        assert deadline.endswith("24:00"), deadline


def test_stored_veto_reason_names_only_the_vetoing_incident(run_wh):
    """grades.veto_reason as assess stores it ("一票否决：IN-1（2025-08-14 数据泄露），依据…"): the veto text
    names IN-1 only (IN-2, a 病毒感染 of the same agency, deducts but does not veto) and the basis once."""
    run_wh.execute(
        """insert into evidence (run_id, metric_id, agency_code, record_table, record_id, reason, due_at, done_at)
                      values ($r, 'security_incidents', 'A', 'incidents', 'IN-2', '安全事件：病毒感染', null,
                              timestamp '2025-02-25 09:00')""",
        {"r": RUN},
    )
    run_wh.execute("alter table grades add column if not exists veto_reason varchar")
    run_wh.execute(
        "update grades set veto_reason = '一票否决：IN-1（2025-08-14 数据泄露），依据《测试方案》否决事项第一项'"
        " where agency_code = 'A'"
    )
    g = RunReader(run_wh).grade("A")
    assert g["veto_text"] == "一票否决：2025-08-14 发生数据泄露事件（IN-1）；依据：《测试方案》否决事项第一项"


def test_excused_incident_is_not_in_the_what_if_but_a_corrected_one_is(run_wh):
    """容错免责 (an excuse: reason 已豁免…) takes the incident out of the what-if's veto kinds; a
    correction (按更正记录计算) does not. Agency types reach the what-if (AgencyInfo.agency_type)."""
    _, _, agencies, kinds = RunReader(run_wh).scoring_inputs()
    assert kinds == {"A": {"数据泄露"}}
    run_wh.execute(
        "update evidence set adjustment_id = 'ADJ-2', reason = reason || '；按更正记录计算（ADJ-2）' "
        "where record_id = 'IN-1'"
    )
    assert RunReader(run_wh).scoring_inputs()[3] == {"A": {"数据泄露"}}
    run_wh.execute(
        "update evidence set adjustment_id = 'ADJ-1', reason = '已豁免（ADJ-1）：安全事件：数据泄露' "
        "where record_id = 'IN-1'"
    )
    assert RunReader(run_wh).scoring_inputs()[3] == {}
    run_wh.execute("update agencies set agency_type = '参照执行单位' where agency_code = 'B'")
    _, _, agencies, _ = RunReader(run_wh).scoring_inputs()
    assert {a.code: a.agency_type for a in agencies}["B"] == "参照执行单位"


def test_ungraded_unit_has_no_rank_and_na_indicator_says_why(run_wh):
    """A 参照执行 unit (grades.graded false, no rank, no peer group) is listed after the graded ones
    under 参照执行 and left out of the peer group's size; a not-applicable indicator carries its note."""
    run_wh.execute("alter table grades add column if not exists graded boolean")
    run_wh.execute(
        """insert into grades (run_id, year, agency_code, total, grade, vetoed, rank, peer_group, graded)
                      values ($r, 2025, 'Z', 70.0, '参照执行、不参与评级', false, null, null, false)""",
        {"r": RUN},
    )
    g = RunReader(run_wh).grades()
    assert g["agency_code"].to_list() == ["B", "A", "Z"]
    z = g.row(2, named=True)
    assert (z["peer_group"], z["rank"], z["graded"], z["grade_label"]) == (
        "参照执行",
        None,
        False,
        "参照执行、不参与评级",
    )
    assert g.row(0, named=True)["peer_count"] == 2  # 市级: A and B
    notes = dict(zip(*RunReader(run_wh).scores("A").select("metric_id", "note")))
    assert notes == {
        "share_reply_timeliness": None,
        "project_gate": "本年度无可评估事项，本项不计",
        "out_of_scope_calls": None,
    }
    assert present.NA_NOTES["collection_list_coverage"] == "本年度全市未报送采集清单，本项不计"


def test_deadline_and_when_expressions_match_the_scalar_vocabulary():
    """The vectorised forms used on whole evidence and 督办 frames write what present.deadline/when write."""
    import datetime as dt

    import polars as pl

    from hzeval import present

    values = [dt.datetime(2026, 1, 1), dt.datetime(2025, 10, 11, 9, 0), None, dt.datetime(2025, 3, 1)]
    df = pl.DataFrame({"t": values}, schema={"t": pl.Datetime("us")})
    got = df.select(d=present.deadline_expr("t"), w=present.when_expr("t"))
    # 2026-01-01 00:00 is the end of 2025-12-31; 2025-03-01 00:00 the end of February (not a leap year)
    assert got["d"].to_list() == ["2025-12-31 24:00", "2025-10-11 09:00", None, "2025-02-28 24:00"]
    assert got["d"].to_list() == [present.deadline(v) if v else None for v in values]  # null: an empty cell
    assert got["w"].to_list() == ["2026-01-01 00:00", "2025-10-11 09:00", None, "2025-03-01 00:00"]


def test_open_catalogue_deduction_says_when_the_city_has_none(run_wh):
    """第三十六条 is measured on the open catalogue: a run whose city loaded none says so on the deduction's row
    (本项不计); one open-catalogue row listed by the year's end and the note goes."""
    run_wh.execute(
        """insert into scores (run_id, year, agency_code, dimension, indicator, points, max_points)
                      values ($r, 2025, 'A', '扣分项', 'open_catalog_foreign_data', 0, 0)""",
        {"r": RUN},
    )
    note = lambda: dict(zip(*RunReader(run_wh).scores("A").select("metric_id", "note")))["open_catalog_foreign_data"]  # noqa: E731
    assert note() == "本年度全市未报送开放目录，本项不计"
    run_wh.execute(
        "insert into open_catalogue (agency_code, resource_code, listed_at) values ('B', 'R9', '2026-01-02')"
    )
    assert note() == "本年度全市未报送开放目录，本项不计"  # a 2026 listing is not the 2025 catalogue
    run_wh.execute(
        "insert into open_catalogue (agency_code, resource_code, listed_at) values ('B', 'R9b', '2025-06-01')"
    )
    assert note() is None
