"""Disputes and adjustments: excuses and corrections change scores by hand-worked points,
are cited in the run's provenance, and revoking restores the score."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import insert

from hzeval.assessment import adjust
from hzeval.assessment.assess import run_assessment
from hzeval.cli.main import main
from hzeval.errors import AdjustmentError
from hzeval.store.warehouse import connect

AS_OF = dt.datetime(2026, 1, 5, 9, 0)


@pytest.fixture
def db(tmp_path):
    """Agency A with two conditional share applications: S1 answered in time, S4 late.

    Measured for A under the 2025 scheme: share_reply_timeliness (共享服务, the only measured
    indicator there), open_plan_filed (数据开放, filed in time), security_practice (安全与整改,
    nothing done) and the standing catalog_completeness (目录管理) and aggregation_coverage
    (数据汇聚与更新), which score 0 on an empty catalogue. Live weights 20 + 25 + 30 + 10 + 10 = 95
    are scaled to 100: 共享服务 30 × 100/95 = 31.58, 数据开放 10 × 100/95 = 10.53.
    Without adjustment: replies 1/2 = 0.5 = floor -> 0; plan -> 10.53; the rest 0 -> total 10.53.
    """
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        insert(
            con,
            "agencies",
            {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
            {"agency_code": "Z", "agency_name": "数据局", "level": "市级", "is_authority": True},
        )
        app = dict(applicant_code="B", provider_code="A", share_type="有条件共享")
        insert(
            con,
            "share_applications",
            {**app, "application_id": "S1", "submitted_at": "2025-09-26 10:00", "replied_at": "2025-09-29 12:00"},
            {**app, "application_id": "S4", "submitted_at": "2025-12-30 10:00"},
        )
        insert(con, "open_plans", {"agency_code": "A", "year": 2025, "filed_at": "2025-02-01 10:00"})
    return path


def grade(path, run_id):
    with connect(path, read_only=True) as con:
        total, g = con.execute(
            "select total, grade from grades where run_id = $r and agency_code = 'A'", {"r": run_id}
        ).fetchall()[0]
        used = [
            r[0]
            for r in con.execute(
                "select adjustment_id from run_adjustments where run_id = $r", {"r": run_id}
            ).fetchall()
        ]
        ev = con.execute(
            "select reason, adjustment_id from evidence where run_id = $r and record_id = 'S4'", {"r": run_id}
        ).fetchall()
    return total, g, used, ev


def test_excuse_changes_score_and_revoke_restores(db):
    r0 = run_assessment(db, 2025, AS_OF)
    assert grade(db, r0)[:3] == (10.53, "不合格", [])
    with connect(db) as con:
        adj_id = adjust.propose_excuse(
            con,
            metric_id="share_reply_timeliness",
            record_id="S4",
            agency_code="A",
            reason="平台故障致答复未留痕，经核实已电话答复",
            evaluator="评估员甲",
        )
    # proposed but not approved: not applied
    assert grade(db, run_assessment(db, 2025, AS_OF))[0] == 10.53
    with connect(db) as con:
        adjust.approve(con, adj_id, "处长乙")
    r1 = run_assessment(db, 2025, AS_OF)
    total, g, used, ev = grade(db, r1)
    assert (total, g, used) == (42.11, "不合格", [adj_id])  # replies 1/1 -> all 31.58 points of 共享服务
    assert ev[0][1] == adj_id and ev[0][0].startswith(f"已豁免（{adj_id}）")
    with connect(db) as con:
        adjust.revoke(con, adj_id, "处长乙", "复核后撤销")
        events = [
            r[0]
            for r in con.execute(
                "select action from adjustment_events where adjustment_id = $a order by acted_at, action desc",
                {"a": adj_id},
            ).fetchall()
        ]
        assert sorted(events) == ["approve", "propose", "revoke"]
        assert con.execute("select count(*) from adjustments").fetchall() == [(1,)]  # nothing deleted
    r2 = run_assessment(db, 2025, AS_OF)
    assert grade(db, r2)[:3] == (10.53, "不合格", [])
    # the earlier run still cites the adjustment it used
    assert grade(db, r1)[2] == [adj_id]


def test_correction_reads_corrected_record(db):
    with connect(db) as con:
        adj_id = adjust.propose_correction(
            con,
            table="share_applications",
            record_id="S4",
            column="replied_at",
            value="2026/1/4 16:30",
            reason="答复时间漏录",
            evaluator="评估员甲",
        )
        adjust.approve(con, adj_id, "处长乙")
    run = run_assessment(db, 2025, AS_OF)
    total, g, used, ev = grade(db, run)
    # S4 due end of 2026-01-04 (a working Sunday); replied 01-04 16:30 -> on time, 2/2
    assert (total, used) == (42.11, [adj_id])
    assert ev[0][1] == adj_id and "按更正记录计算" in ev[0][0]
    with connect(db, read_only=True) as con:  # the loaded record itself is untouched
        assert con.execute("select replied_at from share_applications where application_id = 'S4'").fetchall() == [
            (None,)
        ]


def test_adjustment_rules(db):
    with connect(db) as con:
        a = adjust.propose_excuse(con, metric_id="share_reply_timeliness", record_id="S4", reason="r", evaluator="甲")
        with pytest.raises(AdjustmentError, match="approver"):
            adjust.approve(con, a, "甲")
        with pytest.raises(AdjustmentError, match="unknown metric"):
            adjust.propose_excuse(con, metric_id="nope", record_id="S4", reason="r", evaluator="甲")
        with pytest.raises(AdjustmentError, match="composite key"):
            adjust.propose_correction(
                con,
                table="share_feedback",
                record_id="x",
                column="submitted_at",
                value="2025-01-01",
                reason="r",
                evaluator="甲",
            )
        with pytest.raises(AdjustmentError, match="cannot parse"):
            adjust.propose_correction(
                con,
                table="share_applications",
                record_id="S4",
                column="replied_at",
                value="2025-02-30",
                reason="r",
                evaluator="甲",
            )
        with pytest.raises(AdjustmentError, match="no record"):
            adjust.propose_correction(
                con,
                table="share_applications",
                record_id="S404",
                column="replied_at",
                value="2025-02-03",
                reason="r",
                evaluator="甲",
            )


def test_cli_flow(db, capsys):
    run_assessment(db, 2025, AS_OF)
    base = ["--db", str(db), "adjust"]
    main(base + ["excuse", "--metric", "share_reply_timeliness", "--record-id", "S4", "--reason", "核实", "--by", "甲"])
    main(base + ["approve", "ADJ-0001", "--by", "乙"])
    main(base + ["list"])
    main(["--db", str(db), "assess", "--year", "2025", "--as-of", "2026-01-05T09:00"])
    main(["--db", str(db), "explain", "--year", "2025", "--agency", "A"])
    out = capsys.readouterr().out
    assert "ADJ-0001" in out and "已生效" in out
    assert "42.11" in out and "已调整 ADJ-0001" in out


def test_reports_and_dashboard_show_adjusted_items(db):
    """The published run carries the adjustment: the report data and the dashboard evidence name it."""
    from hzeval.dashboard.store import Store, User
    from hzeval.reports import data
    from hzeval.store.published import published_dir

    with connect(db) as con:
        adj_id = adjust.propose_excuse(
            con, metric_id="share_reply_timeliness", record_id="S4", reason="核实", evaluator="甲"
        )
        adjust.approve(con, adj_id, "乙")
    run_id = run_assessment(db, 2025, AS_OF)
    run = data.open_run(published_dir(db), 2025)
    try:
        items = data.adjusted_items(run, "A")
        assert items.select("adjustment_id", "record_id").rows() == [(adj_id, "S4")]
    finally:
        run.close()
    ev = Store(published_dir(db), User("eva", "evaluator")).evidence(run_id, "A")
    assert ev.filter(ev["record_id"] == "S4")["adjustment_id"].to_list() == [adj_id]


def test_excused_incident_neither_vetoes_nor_deducts(db):
    """第四十六条 容错免责: an incident excused through an approved adjustment does not veto and is not
    counted in security_incidents (2 points each under the 2025 scheme). Without the excuse A is
    vetoed, with the incident, its date, kind and the scheme's basis in grades.veto_reason."""
    with connect(db) as con:
        insert(
            con,
            "incidents",
            {
                "incident_id": "IN-1",
                "agency_code": "A",
                "occurred_at": "2025-08-14 22:40",
                "kind": "数据泄露",
                "severity": "重大",
            },
        )
    r0 = run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        row = con.execute(
            "select total, grade, vetoed, veto_reason, graded from grades where run_id = $r and agency_code = 'A'",
            {"r": r0},
        ).fetchall()[0]
        lost = con.execute(
            "select points, basis from scores"
            " where run_id = $r and agency_code = 'A' and indicator = 'security_incidents'",
            {"r": r0},
        ).fetchall()[0]
    # 10.53 (see the fixture) - 2 for the incident = 8.53; vetoed whatever the points
    assert row[:3] == (8.53, "不合格", True) and row[4] is True
    assert (
        row[3] == "一票否决：IN-1（2025-08-14 数据泄露），依据《惠州市2025年度公共数据管理评估方案》否决事项第一项"
        "（实施细则未规定一票否决，属本方案的评估政策）"
    )
    assert lost == (-2.0, "《惠州市2025年度公共数据管理评估方案》扣分细则第四项")
    with connect(db) as con:
        adj_id = adjust.propose_excuse(
            con,
            metric_id="security_incidents",
            record_id="IN-1",
            agency_code="A",
            reason="创新试点中的偏差，程序合规、勤勉尽责（容错免责）",
            evaluator="评估员甲",
        )
        adjust.approve(con, adj_id, "处长乙")
    r1 = run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        row = con.execute(
            "select total, grade, vetoed, veto_reason from grades where run_id = $r and agency_code = 'A'", {"r": r1}
        ).fetchall()[0]
    assert row == (10.53, "不合格", False, None)


def test_article_46_is_cited_only_where_the_excuse_records_its_conditions(db):
    """第四十六条 (容错免责) applies when 决策符合…改革方向, 程序符合…要求, 履行了勤勉尽责义务 and 未非法牟取私利…
    all hold (DESIGN §5b): an excuse recording the four conditions cites the article; one recording none is
    the scheme's review (依《方案》复核调整); a partial record is refused."""
    from hzeval.reports import data
    from hzeval.store.published import published_dir

    with connect(db) as con:
        insert(
            con,
            "incidents",
            {"incident_id": "IN-1", "agency_code": "A", "occurred_at": "2025-08-14 22:40", "kind": "数据泄露"},
            {"incident_id": "IN-2", "agency_code": "A", "occurred_at": "2025-09-02 10:00", "kind": "数据篡改"},
        )
        with pytest.raises(AdjustmentError, match="缺少：勤勉尽责、未谋私利"):
            adjust.propose_excuse(
                con,
                metric_id="security_incidents",
                record_id="IN-1",
                reason="创新试点偏差",
                evaluator="甲",
                tolerance=["符合改革方向", "程序合规"],
            )
        with pytest.raises(AdjustmentError, match="未知的容错免责条件"):
            adjust.propose_excuse(
                con, metric_id="security_incidents", record_id="IN-1", reason="r", evaluator="甲", tolerance=["x"]
            )
        with_conditions = adjust.propose_excuse(
            con,
            metric_id="security_incidents",
            record_id="IN-1",
            reason="创新试点偏差",
            evaluator="甲",
            tolerance=list(reversed(adjust.TOLERANCE_CONDITIONS)),
        )
        without = adjust.propose_excuse(
            con, metric_id="security_incidents", record_id="IN-2", reason="已核实非本机构责任", evaluator="甲"
        )
        for a in (with_conditions, without):
            adjust.approve(con, a, "乙")
        stored = con.execute("select adjustment_id, tolerance from adjustments order by 1").fetchall()
    assert stored == [(with_conditions, "符合改革方向；程序合规；勤勉尽责；未谋私利"), (without, None)]
    run_assessment(db, 2025, AS_OF)
    run = data.open_run(published_dir(db), 2025)
    try:
        items = data.adjusted_items(run, "A").sort("record_id")
        assert items.select("record_id", "basis").rows() == [
            ("IN-1", "依第四十六条容错免责（符合改革方向、程序合规、勤勉尽责、未谋私利）"),
            ("IN-2", "依《惠州市2025年度公共数据管理评估方案》复核调整"),
        ]
    finally:
        run.close()


def test_cli_excuse_records_the_article_46_conditions(db, capsys):
    with connect(db) as con:
        insert(con, "incidents", {"incident_id": "IN-1", "agency_code": "A", "occurred_at": "2025-08-14 22:40"})
    base = ["--db", str(db), "adjust"]
    conditions = [x for c in ("符合改革方向", "程序合规", "勤勉尽责", "未谋私利") for x in ("--tolerance", c)]
    main(
        base
        + ["excuse", "--metric", "security_incidents", "--record-id", "IN-1", "--reason", "试点", "--by", "甲"]
        + conditions
    )
    main(base + ["approve", "ADJ-0001", "--by", "乙"])
    main(["--db", str(db), "assess", "--year", "2025", "--as-of", "2026-01-05T09:00"])
    main(["--db", str(db), "explain", "--year", "2025", "--agency", "A"])
    out = capsys.readouterr().out
    assert "已调整 ADJ-0001" in out and "〔依第四十六条容错免责（符合改革方向、程序合规、勤勉尽责、未谋私利）〕" in out
    # a partial record is a one-line bilingual refusal, not a traceback
    with pytest.raises(SystemExit) as exc:
        main(
            base
            + [
                "excuse",
                "--metric",
                "security_incidents",
                "--record-id",
                "IN-1",
                "--reason",
                "r",
                "--by",
                "甲",
                "--tolerance",
                "程序合规",
            ]
        )
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "容错免责须四项条件同时具备" in err and "Traceback" not in err
