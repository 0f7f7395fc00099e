"""Files leaders receive offline (issue 17): the project approval reference.

Checked on the sample drop (2025, as of 2026-01-05) against ``hzeval gate`` (the gate
evaluation at the run's as-of time), the run's grades and the sample's hand-built cases
(samples.py): HZ009's 数据泄露 IN-2025-001 of 2025-08-14 vetoes it; ZG-E03 (HZ102) was due
2025-12-15 and is open; ZG-E02 (HZ105) is due 2026-01-19 and is open.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from conftest import copy_sample

from hzeval.assessment.gate import evaluate_gates
from hzeval.errors import HzevalError
from hzeval.reports import approval as leader
from hzeval.runs import open_run
from hzeval.services import render_reports

AS_OF = dt.datetime(2026, 1, 5)
SEED = Path(__file__).resolve().parents[1] / "hzeval" / "rules" / "huizhou-draft-2022.yaml"


@pytest.fixture(scope="module")
def warehouse(sample_warehouse, tmp_path_factory):
    db = copy_sample(sample_warehouse, tmp_path_factory, "leader_wh")
    return db, db.parent / "published"


@pytest.fixture(scope="module")
def reference(warehouse):
    _, pub = warehouse
    with open_run(pub, 2025) as run:
        return run.approval_reference(), leader.quotes(run), run.run_id


@pytest.fixture(scope="module")
def rendered(warehouse, tmp_path_factory):
    _, pub = warehouse
    out = tmp_path_factory.mktemp("leader_out")
    return render_reports(2025, out=out, formats=("html", "xlsx"), published=pub, only=["HZ009"], workers=2)


def test_gates_match_hzeval_gate(warehouse, reference):
    """Per agency, the failed projects and the projects accepted while failing are exactly those
    ``hzeval gate --as-of 2026-01-05`` lists for it."""
    db, _ = warehouse
    df, _, _ = reference
    with duckdb.connect(str(db), read_only=True) as con:
        gates = evaluate_gates(con.cursor(), AS_OF)
    graded = set(df["agency_code"])
    failed = gates.filter(~pl.col("passed") & pl.col("owner_code").is_in(graded))
    assert failed.height > 0 and failed.filter(pl.col("accepted_while_failing")).height > 0  # the sample has both
    for row in df.iter_rows(named=True):
        mine = failed.filter(pl.col("owner_code") == row["agency_code"])
        assert row["failed_projects"] == mine.height, row["agency_code"]
        listed = re.findall(r"([^；（]+)（", row["failed_project_list"] or "")
        assert sorted(listed) == sorted(mine["project_id"]), row["agency_code"]
        accepted = sorted(mine.filter(pl.col("accepted_while_failing"))["project_id"])
        assert row["accepted_failing"] == len(accepted)
        assert sorted((row["accepted_failing_list"] or "").split("；") if accepted else []) == accepted
    assert df["failed_projects"].sum() == failed.height


def test_grades_and_ranks_are_the_runs(warehouse, reference):
    db, _ = warehouse
    df, _, run_id = reference
    with duckdb.connect(str(db), read_only=True) as con:
        # the graded agencies only: 参照执行 units (HZ013, HZ029) have no grade for approvals to weigh
        rows = con.execute(
            "select agency_code, grade, rank, vetoed from grades where run_id = ? and coalesce(graded, true)", [run_id]
        ).fetchall()
    assert {r[0]: (r[1], r[2], bool(r[3])) for r in rows} == {
        r["agency_code"]: (r["grade"], r["rank"], r["vetoed"]) for r in df.iter_rows(named=True)
    }


def test_scrutiny_order_and_veto(reference):
    df, _, _ = reference
    first = df.row(0, named=True)
    # the only 2025 veto (samples.py: HZ009, 数据泄露 IN-2025-001 on 2025-08-14) comes first
    assert first["agency_code"] == "HZ009" and first["vetoed"] and first["scrutiny_order"] == 1
    assert (
        "IN-2025-001" in first["veto_text"] and "2025-08-14" in first["veto_text"] and "数据泄露" in first["veto_text"]
    )
    assert first["attention"].startswith("一票否决")
    assert df.filter(pl.col("vetoed")).height == 1
    # every agency with something to scrutinise comes before every agency with nothing
    flags = df["attention"].is_not_null().to_list()
    assert flags == sorted(flags, reverse=True)
    # within each group (not vetoed), 不合格 before 合格 before 良好 before 优秀
    order = {"不合格": 0, "合格": 1, "良好": 2, "优秀": 3}
    for needs in (True, False):
        seq = [order[g] for g in df.filter(~pl.col("vetoed") & (pl.col("attention").is_not_null() == needs))["grade"]]
        assert seq == sorted(seq)
    assert not df.filter(pl.col("attention").is_null())["grade"].is_in(["不合格"]).any()
    assert not df["agency_code"].is_in(["HZ013", "HZ029"]).any()  # 参照执行、不参与评级: not in the reference


def test_open_rectifications(reference):
    df, _, _ = reference
    by = {r["agency_code"]: r for r in df.iter_rows(named=True)}
    # ZG-E03 (HZ102): deadline 2025-12-15, open at 2026-01-05 → overdue. Working days after the
    # deadline up to the as-of day: 12-16..19 (4) + 12-22..26 (5) + 12-29..31 (3) + 2026-01-04
    # (Sunday, make-up working day after the 元旦 holiday 01-01..03) + 01-05 (1) = 14.
    e03 = by["HZ102"]
    assert "ZG-E03（逾期 14 个工作日）" in e03["rectification_list"]
    assert e03["overdue_rectifications"] >= 1 and "整改逾期未完成" in e03["attention"]
    # ZG-E02 (HZ105): deadline 2026-01-19, open at 2026-01-05 → not yet due, not overdue
    e02 = by["HZ105"]
    assert "ZG-E02（未到期）" in e02["rectification_list"]
    # ZG-E01 (HZ016) was completed on its deadline day: not open
    assert "ZG-E01" not in (by["HZ016"]["rectification_list"] or "")


def test_quotes_come_from_the_rule_profile(reference):
    _, quotes, _ = reference
    seed = SEED.read_text(encoding="utf-8")
    assert len(quotes) == 2
    assert quotes[0].startswith("第四十三条：") and "作为下一年度政务信息化项目审批的重要参考依据" in quotes[0]
    assert quotes[1].startswith("第四十四条：") and "不得批准立项或者开展验收活动" in quotes[1]
    for q in quotes:
        assert q.split("：", 1)[1] in seed
    # and no article sentence is written in the code
    import hzeval.runs

    for module in (leader, hzeval.runs):
        code = Path(module.__file__).read_text(encoding="utf-8")
        assert "不得批准立项" not in code and "重要参考依据" not in code


def test_page_workbook_and_index(rendered, reference):
    df, quotes, _ = reference
    out = rendered.out_dir
    page = (out / "approval_reference.html").read_text(encoding="utf-8")
    for q in quotes:
        assert q.split("：", 1)[1] in page
    # rows in scrutiny order: HZ009 appears before every other agency code
    pos = [page.index(f"<td>{c}</td>") for c in df["agency_code"]]
    assert pos == sorted(pos)
    assert "approval_reference.html" in (out / "index.html").read_text(encoding="utf-8")
    assert not list(out.glob(".*.tmp"))
    wb = openpyxl.load_workbook(out / "workbook.xlsx", read_only=True)
    ws = wb["项目审批参考"]
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    assert head[1] == "机构代码" and head[-1].startswith("依据")
    assert [r[1] for r in rows[1:]] == df["agency_code"].to_list()
    assert rows[1][head.index("一票否决说明")].startswith("一票否决")
    assert rows[1][-1] == quotes[0] and rows[2][-1] == quotes[1]


def test_output_path_stays_inside(tmp_path):
    from hzeval.util.paths import inside  # the one output-path check the reference is written through

    with pytest.raises(HzevalError):
        inside(tmp_path / "reports", "..", "elsewhere.html")
    assert inside(tmp_path, "a.html").resolve() == (tmp_path / "a.html").resolve()
