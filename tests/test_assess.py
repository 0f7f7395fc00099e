"""``assess`` runs, ``supervise`` lists and ``gate`` results on small warehouses."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import insert

from hzeval.assessment import assess as assess_mod
from hzeval.assessment.assess import run_assessment
from hzeval.assessment.gate import evaluate_gates
from hzeval.assessment.scheme import load_scheme
from hzeval.assessment.supervise import supervision_items
from hzeval.errors import CalendarError
from hzeval.present import write_supervision
from hzeval.store.warehouse import connect

AS_OF = dt.datetime(2026, 1, 5, 9, 0)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        insert(
            con,
            "agencies",
            {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
            {"agency_code": "B", "agency_name": "乙局", "level": "市级"},
            {"agency_code": "C", "agency_name": "惠城区", "level": "县区"},
            {"agency_code": "Z", "agency_name": "数据局", "level": "市级", "is_authority": True},
        )
        app = dict(applicant_code="B", provider_code="A", share_type="有条件共享")
        insert(
            con,
            "share_applications",
            {**app, "application_id": "S1", "submitted_at": "2025-09-26 10:00", "replied_at": "2025-09-29 12:00"},
            {**app, "application_id": "S4", "submitted_at": "2025-12-30 10:00"},
            {**app, "application_id": "S5", "submitted_at": "2025-12-31 10:00"},
            {**app, "application_id": "S0", "submitted_at": "2024-06-03 10:00"},
        )
        insert(
            con,
            "objections",
            {"objection_id": "O1", "resource_code": "R1", "provider_code": "C", "raised_at": "2025-12-29 15:00"},
        )
        insert(
            con,
            "incidents",
            {"incident_id": "I1", "agency_code": "B", "occurred_at": "2025-07-01 10:00", "kind": "数据泄露"},
        )
        insert(con, "open_plans", {"agency_code": "A", "year": 2025, "filed_at": "2025-02-01 10:00"})
    return path


def test_assess_writes_one_complete_run(db):
    run_id = run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        run = con.execute(
            "select year, as_of, status, length(scheme_sha256), length(inputs_sha256), package_version "
            "from runs where run_id = $r",
            {"r": run_id},
        ).fetchall()[0]
        assert run[:5] == (2025, AS_OF, "finished", 64, 64)
        grades = {
            r[0]: r[1:]
            for r in con.execute(
                "select agency_code, grade, vetoed, peer_group, rank from grades where run_id = $r", {"r": run_id}
            ).fetchall()
        }
        assert set(grades) == {"A", "B", "C"}  # the authority is not graded
        assert grades["B"][:2] == ("不合格", True)
        assert grades["C"][2:] == ("县区", 1)
        # share replies of A: S1 ok, S4 late, S5 pending -> 1/2
        mv = con.execute(
            "select numerator, denominator, value, count from metric_values where run_id = $r "
            "and agency_code = 'A' and metric_id = 'share_reply_timeliness'",
            {"r": run_id},
        ).fetchall()
        assert mv == [(1.0, 2.0, 0.5, 1)]
        ev = con.execute(
            "select record_id, due_at from evidence where run_id = $r and metric_id = 'share_reply_timeliness'",
            {"r": run_id},
        ).fetchall()
        assert ev == [("S4", dt.datetime(2026, 1, 5))]
        # total = sum of the indicator rows (deductions included)
        tot = con.execute(
            "select g.total, round(sum(s.points), 2) from grades g join scores s using (run_id, agency_code) "
            "where run_id = $r and agency_code = 'A' group by g.total",
            {"r": run_id},
        ).fetchall()[0]
        assert tot[0] == pytest.approx(tot[1])


def test_veto_goes_to_the_responsible_agency_with_its_stage(db):
    # 第二十二条: I2 (数据泄露) was logged at A but B, the 数源部门, answers for it (提供): the 2025 scheme's
    # 数据泄露 veto falls on B, its reason names the stage; A, where it was logged, is not vetoed
    with connect(db) as con:
        con.execute("delete from incidents")
        insert(
            con,
            "incidents",
            {
                "incident_id": "I2",
                "agency_code": "A",
                "responsible_code": "B",
                "stage": "提供",
                "occurred_at": "2025-07-01 10:00",
                "kind": "数据泄露",
            },
        )
    run_id = run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        grades = dict(
            (r[0], r[1:])
            for r in con.execute(
                "select agency_code, vetoed, veto_reason from grades where run_id = $r", {"r": run_id}
            ).fetchall()
        )
    assert grades["A"] == (False, None)
    assert grades["B"][0] is True
    assert grades["B"][1].startswith("一票否决：I2（2025-07-01 数据泄露，提供环节），依据《")


def test_rerun_gives_the_same_numbers(db):
    r1 = run_assessment(db, 2025, AS_OF)
    r2 = run_assessment(db, 2025, AS_OF)
    assert r1 != r2
    with connect(db, read_only=True) as con:
        q = "select agency_code, total, grade, rank from grades where run_id = $r order by 1"
        assert con.execute(q, {"r": r1}).fetchall() == con.execute(q, {"r": r2}).fetchall()
        q = "select inputs_sha256, scheme_sha256 from runs where run_id = $r"
        assert con.execute(q, {"r": r1}).fetchall() == con.execute(q, {"r": r2}).fetchall()


def test_failed_assess_leaves_no_partial_run(db, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("scoring exploded")

    monkeypatch.setattr(assess_mod, "score_all", boom)
    with pytest.raises(RuntimeError):
        run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        for table in ("runs", "metric_values", "evidence", "scores", "grades", "project_gates"):
            assert con.execute(f"select count(*) from {table}").fetchall() == [(0,)]


def test_assess_stops_on_uncovered_year(db, monkeypatch):
    with connect(db) as con:
        insert(
            con,
            "share_applications",
            {
                "application_id": "S9",
                "applicant_code": "B",
                "provider_code": "A",
                "share_type": "有条件共享",
                "submitted_at": "2026-12-30 10:00",
            },
        )
    # the clock set to 2027-01-10 (the as-of guard refuses an as-of later than now)
    monkeypatch.setattr(assess_mod, "_now", lambda: dt.datetime(2027, 1, 10))
    with pytest.raises(CalendarError) as err:
        run_assessment(db, 2026, dt.datetime(2027, 1, 10), scheme_path=load_scheme(year=2025).source)
    assert err.value.year == 2027
    with connect(db, read_only=True) as con:
        assert con.execute("select count(*) from runs").fetchall() == [(0,)]


def test_supervision_list(db, tmp_path):
    with connect(db) as con:
        items = supervision_items(con, AS_OF)
    rows = {r["record_id"]: r for r in items.iter_rows(named=True)}
    assert set(rows) == {"S4", "S5", "S0", "O1"}  # S1 was answered; open items of any year are listed
    # S4 due end of 2026-01-04 (a working Sunday): one working day (01-05) overdue at 01-05 09:00
    assert (rows["S4"]["state"], rows["S4"]["due_date"], rows["S4"]["wd_overdue"]) == ("逾期", dt.date(2026, 1, 4), 1)
    # S5 due end of 01-05: today is the last day
    assert (rows["S5"]["state"], rows["S5"]["wd_left"]) == ("即将到期", 0)
    # O1 12-29 + 10 wd: 12-30, 12-31, 01-04, 05, 06, 07, 08, 09, 12, 13 -> 6 working days left after 01-05
    assert (rows["O1"]["state"], rows["O1"]["due_date"], rows["O1"]["wd_left"]) == ("未到期", dt.date(2026, 1, 13), 6)
    assert rows["O1"]["article"] == "第二十八条" and rows["S4"]["agency_name"] == "甲局"
    out = tmp_path / "list.csv"
    write_supervision(items, out)
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("事项类别,条款,机构代码")
    assert "S4" in text
    # the export writes the deadline as the end of its day and the source table in Chinese
    s4 = next(line for line in text.splitlines() if ",S4," in line)
    assert "2026-01-04 24:00" in s4 and "共享申请" in s4 and "share_applications" not in text


def test_export_neutralises_formulas(db, tmp_path):
    with connect(db) as con:
        insert(
            con,
            "share_applications",
            {
                "application_id": '=HYPERLINK("x")',
                "applicant_code": "B",
                "provider_code": "A",
                "share_type": "有条件共享",
                "submitted_at": "2025-12-31 11:00",
            },
        )
        items = supervision_items(con, AS_OF)
    out = tmp_path / "list.xlsx"
    write_supervision(items, out)
    import openpyxl

    ws = openpyxl.load_workbook(out)["督办清单"]
    cell = next(c for c in ws["F"] if c.value == '=HYPERLINK("x")')
    # a text cell shown as written (no added apostrophe), quote-prefixed so it never becomes a formula
    assert cell.data_type == "s" and cell.quotePrefix


def test_gate_at_acceptance_or_now(db):
    with connect(db) as con:
        insert(
            con,
            "catalog_snapshot",
            {
                "snapshot_date": "2025-12-31",
                "resource_code": "R1",
                "resource_name": "r",
                "provider_code": "A",
                "status": "已发布",
                "share_type": "无条件共享",
            },
        )
        insert(
            con,
            "projects",
            {
                "project_id": "P1",
                "project_name": "一网统管",
                "owner_code": "A",
                "approved_at": "2025-03-01 10:00",
                "data_list_submitted_at": "2025-02-01 10:00",
            },
            {
                "project_id": "P2",
                "project_name": "智慧交通",
                "owner_code": "C",
                "approved_at": "2025-03-01 10:00",
                "accepted_at": "2025-12-01 10:00",
            },
        )
        insert(
            con,
            "project_data_list",
            {"project_id": "P1", "resource_code": "R1"},
            {"project_id": "P2", "resource_code": "R1"},
        )
        gates = {r["project_id"]: r for r in evaluate_gates(con, AS_OF).iter_rows(named=True)}
    # P1 not accepted: checked now; R1 catalogued and shared, never aggregated
    assert (gates["P1"]["passed"], gates["P1"]["failed_conditions"], gates["P1"]["accepted_while_failing"]) == (
        False,
        "G3",
        False,
    )
    # P2 accepted 12-01: no data list (G1), R1 not in any snapshot by then (G2), not aggregated (G3)
    assert (gates["P2"]["failed_conditions"], gates["P2"]["accepted_while_failing"]) == ("G1;G2;G3", True)


def test_finished_run_is_published_for_readers(db):
    from hzeval.store.published import latest_published

    run_id = run_assessment(db, 2025, AS_OF)
    pub = latest_published(db)
    assert pub.name == f"{run_id}.duckdb"
    import duckdb

    # a reader opens the published copy while the warehouse stays open for writing
    with connect(db) as writer:
        reader = duckdb.connect(str(pub), read_only=True)
        assert reader.execute("select count(distinct run_id), count(*) from grades").fetchall() == [(1, 3)]
        assert reader.execute("select count(*) from agencies").fetchall() == [(4,)]
        reader.close()
        assert writer.execute("select count(*) from runs").fetchall() == [(1,)]


def test_cli_calendar_message_for_uncovered_year(db, monkeypatch, capsys):
    """Through the CLI in this process, the clock set to 2027-01-10 (the as-of guard refuses an
    as-of later than now; a subprocess would see the machine's clock)."""
    from hzeval.cli.main import main

    monkeypatch.setattr(assess_mod, "_now", lambda: dt.datetime(2027, 1, 10))
    with connect(db) as con:
        insert(
            con,
            "share_applications",
            {
                "application_id": "S9",
                "applicant_code": "B",
                "provider_code": "A",
                "share_type": "有条件共享",
                "submitted_at": "2026-12-30 10:00",
            },
        )
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), "assess", "--year", "2026", "--as-of", "2027-01-10"])
    err = capsys.readouterr().err
    assert exit_.value.code == 5
    assert "2027" in err and "calendar_overrides" in err and "Traceback" not in err
    # with the 2027 notice loaded as overrides the same command succeeds
    overrides = db.parent / "calendar_overrides_2027.csv"
    overrides.write_text("date,is_workday,note\n2027-01-01,否,元旦\n", encoding="utf-8")
    for args in (["load", "--quiet", str(overrides)], ["assess", "--year", "2026", "--as-of", "2027-01-10"]):
        main(["--db", str(db), *args])  # no SystemExit: exit status 0
    with connect(db, read_only=True) as con:
        assert con.execute("select count(*) from runs where year = 2026").fetchall() == [(1,)]


def test_reference_units_get_scores_but_no_grade_or_rank(db):
    """第四十三条 grades 行政机关; a 第五十一条 unit (参照执行) keeps its metrics and points, with grade
    参照执行、不参与评级, no rank, graded = false, and takes no place in its peer group's ranking."""
    with connect(db) as con:
        insert(
            con,
            "agencies",
            {"agency_code": "R", "agency_name": "某事业单位", "level": "市级", "agency_type": "参照执行"},
        )
    run_id = run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        g = {
            r[0]: r[1:]
            for r in con.execute(
                "select agency_code, grade, rank, graded, peer_group from grades where run_id = $r", {"r": run_id}
            ).fetchall()
        }
        n_scores = con.execute(
            "select count(*) from scores where run_id = $r and agency_code = 'R'", {"r": run_id}
        ).fetchall()[0][0]
        ranks = sorted(r for code, (_, r, graded, _) in g.items() if graded)
    assert g["R"] == ("参照执行、不参与评级", None, False, None)
    assert g["A"][2] is True and n_scores > 0
    assert ranks == [1, 1, 2]  # 市级 A, B (B vetoed, after A) and 县区 C: R is not counted


def test_old_warehouse_gains_the_new_columns(tmp_path):
    """A warehouse made before issue 11 (grades without veto_reason/graded, scores without basis,
    agencies without agency_type) gains the columns when opened for writing; old rows keep NULL."""
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "create table grades (run_id varchar, year integer, agency_code varchar, total double, grade varchar, "
        "vetoed boolean, rank integer, peer_group varchar)"
    )
    con.execute("insert into grades values ('r0', 2024, 'A', 91, '优秀', false, 1, '市级')")
    con.execute(
        "create table scores (run_id varchar, year integer, agency_code varchar, dimension varchar, "
        "indicator varchar, points double, max_points double)"
    )
    con.execute(
        "create table agencies (agency_code varchar, agency_name varchar, level varchar, region varchar, "
        "is_authority boolean, _load_id bigint, _line bigint)"
    )
    con.close()
    with connect(path) as con:
        cols = {
            (t, c)
            for t, c in con.execute(
                "select table_name, column_name from information_schema.columns where table_schema = 'main'"
            ).fetchall()
        }
        assert {
            ("grades", "veto_reason"),
            ("grades", "graded"),
            ("scores", "basis"),
            ("agencies", "agency_type"),
            ("objections", "received_by"),
        } <= cols
        assert con.execute("select grade, veto_reason, graded from grades").fetchall() == [("优秀", None, None)]


def test_supervision_lists_unfiled_plans_and_unescalated_rectifications(db):
    """After the scheme's date (03-31) an unfiled open plan is 督办; an overdue rectification not yet
    escalated to the government (第四十七条 上报本级人民政府) is listed as the authority's own item."""
    with connect(db) as con:
        insert(
            con,
            "rectifications",
            {"notice_id": "N1", "agency_code": "B", "issued_at": "2025-02-10 10:00", "deadline": "2025-03-14"},
            {
                "notice_id": "N2",
                "agency_code": "C",
                "issued_at": "2025-02-10 10:00",
                "deadline": "2025-03-14",
                "escalated_at": "2025-03-20 10:00",
            },
            {"notice_id": "N3", "agency_code": "A", "issued_at": "2025-03-10 10:00", "deadline": "2025-04-30"},
        )
        items = supervision_items(con, dt.datetime(2025, 4, 2, 10, 0))
    rows = [
        (r["category"], r["agency_code"], r["record_id"], r["state"], r["wd_overdue"])
        for r in items.iter_rows(named=True)
        if r["record_table"] in ("rectifications", "open_plans")
    ]
    # plans due end of 03-31; 04-01 and 04-02 are working days -> 2 overdue. A filed on 02-01.
    # N1/N2 due end of 03-14 (Fri): 03-17..21, 03-24..28, 03-31, 04-01, 04-02 -> 13 working days overdue
    assert sorted(rows) == sorted(
        [
            ("开放计划未备案", "B", "B/2025", "逾期", 2),
            ("开放计划未备案", "C", "C/2025", "逾期", 2),
            ("开放计划未备案", "Z", "Z/2025", "逾期", 2),  # the authority owes its own plan (DESIGN §5b)
            ("限期整改", "B", "N1", "逾期", 13),
            ("限期整改", "C", "N2", "逾期", 13),
            ("限期整改", "A", "N3", "未到期", None),
            ("逾期整改未上报政府", "Z", "N1", "逾期", 13),  # N2 was escalated; N3 is not overdue
        ]
    )
    # every item cites its article; the authority's own escalation duty cites 第四十七条 (上报本级人民政府)
    # and 第四十九条 (the authority's own liability), the articles of rectification_escalation (issue 27)
    articles = {(r["category"], r["record_id"]): r["article"] for r in items.iter_rows(named=True)}
    assert all(articles.values()), articles
    assert articles[("逾期整改未上报政府", "N1")] == "第四十七条、第四十九条"
    assert articles[("限期整改", "N1")] == "第四十七条"
    # before the scheme's date, no plan is listed
    with connect(db) as con:
        early = supervision_items(con, dt.datetime(2025, 3, 20, 10, 0))
    assert early.filter(early["record_table"] == "open_plans").is_empty()


def test_the_authority_is_measured_and_reported_and_graded_only_by_the_scheme(db, tmp_path):
    """DESIGN §5b: the authority Z's own metrics are computed and reported; the scheme's ``graded`` decides
    whether it gets a grade (default [行政机关]: no; with 主管部门: yes)."""
    import yaml

    from hzeval.reports import data as report_data
    from hzeval.store.published import published_dir

    run_id = run_assessment(db, 2025, AS_OF)
    with connect(db, read_only=True) as con:
        assert con.execute(
            "select count(*) from grades where run_id = $r and agency_code = 'Z'", {"r": run_id}
        ).fetchall() == [(0,)]
    run = report_data.open_run(published_dir(db), 2025)
    try:
        auth = {r["metric_id"]: r for r in report_data.authority_timeliness(run).iter_rows(named=True)}
    finally:
        run.close()
    # Z keeps no security records: 0 of 安全检查 2 + 数据备份 4 + 风险评估 1 = 0 / 7; no open plan for 2025,
    # due end of 03-31 and the as-of 2026-01-05 is past it -> 0 / 1 (late)
    assert (auth["security_practice"]["numerator"], auth["security_practice"]["denominator"]) == (0, 7)
    assert (
        auth["open_plan_filed"]["numerator"],
        auth["open_plan_filed"]["denominator"],
        auth["open_plan_filed"]["count"],
    ) == (0, 1, 1)
    assert auth["security_practice"]["metric_name"] and auth["security_practice"]["article"] == "第四十一条"

    data = yaml.safe_load(open(load_scheme(year=2025).source, encoding="utf-8"))
    f = tmp_path / "graded.yaml"
    f.write_text(yaml.safe_dump({**data, "graded": ["行政机关", "主管部门"]}, allow_unicode=True), "utf-8")
    run_id = run_assessment(db, 2025, AS_OF, scheme_path=f)
    with connect(db, read_only=True) as con:
        row = con.execute(
            "select total, grade, graded, peer_group from grades where run_id = $r and agency_code = 'Z'", {"r": run_id}
        ).fetchall()
    # every indicator measured for Z is a standing duty left undone (catalogue and aggregation: nothing
    # published; open plan, security records: 0), the event-driven ones have nothing to measure -> 0.00 不合格
    assert row == [(0.0, "不合格", True, "市级")]
