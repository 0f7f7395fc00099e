"""``--json`` for scripts (DESIGN §8): the same rows as the tables, deadlines written "… 24:00", UTF-8.

Sample facts (hzeval/samples/generator.py EDGES), as of 2026-01-05 00:00:
- SA-E11: a not-in-catalogue demand received Wed 2025-12-31 16:00; 5 working days to confirm
  (第二十四条): 2026-01-01..03 are the 元旦 holiday, Sun 01-04 is a 调休 working day, so the days are
  01-04, 01-05, 01-06, 01-07, 01-08 → due end of 2026-01-08 ("2026-01-08 24:00"), not yet due (未到期).
- OB-E01: a 数据主体 objection received by HZ101 on Fri 2025-12-19, 10 working days (第二十八条):
  12-22..26 (5), 12-29..31 (8), 01-04 (9), 01-05 (10) → due end of 2026-01-05, one day left (即将到期).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import copy_sample

from hzeval.cli.main import cli, main
from hzeval.errors import ExitCode


@pytest.fixture(scope="module")
def db(sample_warehouse, tmp_path_factory):
    return copy_sample(sample_warehouse, tmp_path_factory, "json_wh")


def run(db, *args):
    result = CliRunner().invoke(cli, ["--db", str(db), *args], terminal_width=400)
    return result


def as_json(db, *args):
    result = run(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_supervise_json_has_the_tables_rows_and_deadlines(db):
    doc = as_json(db, "supervise", "--as-of", "2026-01-05")
    items = {i["record_id"]: i for i in doc["items"]}
    assert items["SA-E11"]["due_date"] == "2026-01-08 24:00" and items["SA-E11"]["state"] == "未到期"
    assert items["OB-E01"]["due_date"] == "2026-01-05 24:00" and items["OB-E01"]["state"] == "即将到期"
    # a 数据主体 objection is timed by 第二十八条's second paragraph (DESIGN §5b)
    assert items["OB-E01"]["agency_code"] == "HZ101" and items["OB-E01"]["article"] == "第二十八条第二款"
    table = run(db, "supervise", "--as-of", "2026-01-05").output
    assert f"共 {len(doc['items'])} 项" in table or str(len(doc["items"])) in table
    # every deadline as the table writes it; items with no number of days (未告知, 待核定, and 未回流: the draft
    # gives 数据回流 no deadline, issue 26) have none
    assert all(i["due_date"].endswith("24:00") for i in doc["items"] if i["due_date"] is not None)
    assert {i["state"] for i in doc["items"] if i["due_date"] is None} <= {"未告知", "待核定", "未回流"}
    assert any(i["state"] == "未回流" for i in doc["items"])


def test_gate_validate_rules_explain_notify_json(db):
    gates = as_json(db, "gate", "--as-of", "2026-01-05")["gates"]
    assert gates and {"project_id", "passed", "accepted_while_failing"} <= set(gates[0])
    found = as_json(db, "validate")
    assert len(found["unresolved"]) == 1 and found["contact_gaps"]
    rules = as_json(db, "rules", "--year", "2025")
    assert rules["year"] == 2025 and any(d["key"] == "share_reply" for d in rules["deadlines"])
    exp = as_json(db, "explain", "--year", "2025", "--agency", "HZ009")
    assert exp["head"]["agency_code"] == "HZ009" and exp["veto"]  # the 2025 数据泄露 veto
    notices = as_json(db, "notify", "--as-of", "2026-01-05", "--dry-run")
    assert notices["dry_run"] and notices["notices"] and all(n["status"] == "dry-run" for n in notices["notices"])
    assert "http" not in json.dumps(notices)  # robot URLs (the addresses) are never shown


def test_validate_strict_exits_with_bad_input_on_findings(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), "validate", "--strict"])
    assert exit_.value.code == ExitCode.BAD_INPUT == 3  # the sample has 1 unresolved code
    assert "1 unresolved codes" in capsys.readouterr().err


def test_assess_json(db):
    doc = as_json(db, "assess", "--year", "2025", "--as-of", "2026-01-05")
    # the sample's 2025 grades (README): 优秀 14, 良好 4, 合格 8, 不合格 12, and 2 units 参照执行
    assert doc["grades"] == {"优秀": 14, "良好": 4, "合格": 8, "不合格": 12}
    assert {u["agency_code"] for u in doc["not_graded"]} == {"HZ013", "HZ029"}
