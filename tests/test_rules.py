"""Rule profiles (DESIGN §5a): deadlines and articles from the profile in force on each item's trigger day.

Calendar facts used: August 2025 has no holidays or 调休 days; 2025-08-02/03, 09/10, 16/17 are
weekends. 2025-07-30 is a Wednesday, 2025-08-05 a Tuesday.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import yaml
from conftest import insert
from rich.console import Console

from hzeval.assessment.assess import run_assessment
from hzeval.assessment.explain import explanation
from hzeval.assessment.scheme import default_scheme_path, load_scheme
from hzeval.cli.console import print_explanation
from hzeval.errors import RuleError, SchemeError
from hzeval.metrics.profiles import load_profile, year_overview
from hzeval.rules import packaged_profile_path
from hzeval.runs import open_reader
from hzeval.store.warehouse import connect

AS_OF = dt.datetime(2026, 1, 5, 9, 0)


def renumbered_profile(folder: Path) -> Path:
    """The draft with share_reply renumbered to 第十九条 and lengthened to 10 working days."""
    data = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    data["title"] = "测试用规则（2025-08-01 起）"
    data["deadlines"]["share_reply"] = {
        "days": 10,
        "article": "第十九条",
        "text": "数源部门应当在 10 个工作日内予以答复（测试文本）",
    }
    data["articles"]["share_reply_timeliness"] = ["第十九条"]
    path = folder / "national-2025-08.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def scheme_with(folder: Path, rules: list[dict], name: str = "scheme.yaml") -> Path:
    data = yaml.safe_load(default_scheme_path(2025).read_text(encoding="utf-8"))
    data["rules"] = rules
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, default_flow_style=False), encoding="utf-8")
    return path


@pytest.fixture
def two_profiles(tmp_path) -> Path:
    renumbered_profile(tmp_path)
    # the second profile by a path relative to the scheme file
    return scheme_with(
        tmp_path,
        [
            {"profile": "huizhou-draft-2022", "from": dt.date(2022, 1, 1)},
            {"profile": "./national-2025-08.yaml", "from": dt.date(2025, 8, 1)},
        ],
    )


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        insert(
            con,
            "agencies",
            {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
            {"agency_code": "B", "agency_name": "乙局", "level": "市级"},
            {"agency_code": "Z", "agency_name": "数据局", "level": "市级", "is_authority": True},
        )
        app = dict(applicant_code="B", provider_code="A", share_type="有条件共享", resource_code="R1")
        insert(
            con,
            "share_applications",
            # received Wed 07-30 under the draft (2 wd): due end of Fri 08-01; replied after 3 wd
            # (07-31, 08-01, Mon 08-04) -> late, although the 10-day profile is in force by then
            {**app, "application_id": "X1", "submitted_at": "2025-07-30 10:00", "replied_at": "2025-08-04 10:00"},
            # received Tue 08-05 under the renumbered profile (10 wd): 08-06,07,08,11,12,13,14,15,18,19
            # -> due end of 08-19; replied after 8 wd (Fri 08-15) -> on time (late under 2 wd)
            {**app, "application_id": "X2", "submitted_at": "2025-08-05 10:00", "replied_at": "2025-08-15 10:00"},
        )
    return path


def test_deadline_and_article_come_from_the_profile_on_the_trigger_day(db, two_profiles):
    run_id = run_assessment(db, year=2025, as_of=AS_OF, scheme_path=two_profiles)
    with connect(db, read_only=True) as con:
        ev = con.execute(
            "select record_id, rule_profile, article, reason, due_at from evidence "
            "where run_id = $r and metric_id = 'share_reply_timeliness'",
            {"r": run_id},
        ).fetchall()
        value = con.execute(
            "select numerator, denominator from metric_values where run_id = $r and agency_code = 'A' "
            "and metric_id = 'share_reply_timeliness'",
            {"r": run_id},
        ).fetchall()
        rules_sha = con.execute("select rules_sha256 from runs where run_id = $r", {"r": run_id}).fetchall()[0][0]
        # an item without a deadline: the metric's articles under the profile in force at the year's end
        plan = con.execute(
            "select rule_profile, article from evidence where run_id = $r and metric_id = 'open_plan_filed'"
            " and agency_code = 'A'",
            {"r": run_id},
        ).fetchall()
    # only X1 is late; X2 is on time
    assert value == [(1.0, 2.0)]
    assert ev == [
        ("X1", "huizhou-draft-2022", "第二十四条", "有条件共享申请超过 2 个工作日才答复", dt.datetime(2025, 8, 2))
    ]
    assert re.fullmatch(r"[0-9a-f]{64}", rules_sha)
    assert plan == [("national-2025-08", "第三十六条")]
    assert rules_sha == load_scheme(two_profiles).ruleset.sha256 != load_scheme(year=2025).ruleset.sha256

    # explain cites 第二十四条 for X1 (its evidence line) and 第十九条 for the rule X2 was judged by
    with open_reader(db, 2025, run_id) as run:
        exp = explanation(run, "A", metric="share_reply_timeliness")
    out = io.StringIO()
    print_explanation(exp, Console(file=out, width=300, highlight=False))
    text = out.getvalue()
    assert "共享申请答复及时率（第二十四条（至 2025-07-31）；第十九条（2025-08-01 起））" in text
    # the rule sentences quoted from each profile, with the day the second took over
    assert (
        "依据：第二十四条：有条件共享的公共数据，由公共管理和服务机构通过市“一网共享”平台向数源部门提出共享申请，"
        "数源部门应当在 2 个工作日内予以答复（至 2025-07-31）；"
        "第十九条：数源部门应当在 10 个工作日内予以答复（测试文本）（2025-08-01 起）"
    ) in text
    line = next(ln for ln in text.splitlines() if "X1" in ln)
    assert "〔第二十四条〕" in line and "第十九条" not in line

    # the agency report's data: the indicator row cites both, the evidence row of X1 the draft's article,
    # and the suggestion uses the length in force at the year's end (10 working days, 第十九条)
    from hzeval.reports import data
    from hzeval.store.published import published_dir

    with data.open_run(published_dir(db) / f"{run_id}.duckdb", 2025) as run:
        ind = (
            data.indicator_table(run, "A")
            .filter(data.pl.col("metric_id") == "share_reply_timeliness")
            .row(0, named=True)
        )
        ev_rows, total = data.evidence_for(run, "A", "share_reply_timeliness")
    assert ind["article"] == "第二十四条（至 2025-07-31）；第十九条（2025-08-01 起）"
    assert ind["suggestion"] == "有条件共享申请应在 10 个工作日内答复，建议指定专人值守申请受理（第十九条）。"
    assert total == 1 and ev_rows.row(0, named=True)["article"] == "第二十四条"


def test_supervise_uses_the_rule_of_each_items_trigger_day(db, two_profiles):
    from hzeval.assessment.supervise import supervision_items

    with connect(db) as con:
        insert(
            con,
            "share_applications",
            {
                "application_id": "Y1",
                "applicant_code": "B",
                "provider_code": "A",
                "share_type": "有条件共享",
                "submitted_at": "2025-08-05 10:00",
            },
        )
        # as of Mon 08-11 09:00: 08-06,07,08,11 counted so far -> 6 of 10 wd left until end of 08-19
        items = supervision_items(con, dt.datetime(2025, 8, 11, 9, 0), scheme=load_scheme(two_profiles))
    row = items.filter(items["record_id"] == "Y1").row(0, named=True)
    assert (row["article"], str(row["due_date"]), row["state"], row["wd_left"]) == (
        "第十九条",
        "2025-08-19",
        "未到期",
        6,
    )


def test_rules_command_shows_a_change_inside_the_year(two_profiles):
    from click.testing import CliRunner

    from hzeval.cli.main import cli

    deadlines, metrics = year_overview(load_scheme(two_profiles).ruleset, 2025)
    share = (
        deadlines.filter(deadlines["key"] == "share_reply").select("profile", "from", "to", "days", "article").rows()
    )
    assert share == [
        ("huizhou-draft-2022", dt.date(2025, 1, 1), dt.date(2025, 7, 31), 2, "第二十四条"),
        ("national-2025-08", dt.date(2025, 8, 1), dt.date(2025, 12, 31), 10, "第十九条"),
    ]
    # an unchanged key still lists both periods, each with the draft's numbers
    objection = deadlines.filter(deadlines["key"] == "objection").select("days", "article").rows()
    assert objection == [(10, "第二十八条"), (10, "第二十八条")]
    # a year wholly inside one profile shows one period
    d2024, _ = year_overview(load_scheme(two_profiles).ruleset, 2024)
    assert d2024.filter(d2024["key"] == "share_reply").select("profile", "days").rows() == [("huizhou-draft-2022", 2)]

    result = CliRunner().invoke(cli, ["rules", "--year", "2025", "--scheme", str(two_profiles)], terminal_width=400)
    assert result.exit_code == 0, result.output
    rows = [ln for ln in result.output.splitlines() if "share_reply " in ln or "share_reply│" in ln.replace(" ", "")]
    assert any("2025-07-31" in ln and "2 个工作日" in ln and "第二十四条" in ln for ln in rows), result.output
    assert any("2025-08-01" in ln and "10 个工作日" in ln and "第十九条" in ln for ln in rows), result.output


# ---------------------------------------------------------------------- validation


def test_profile_missing_a_deadline_key_a_scored_metric_needs(tmp_path):
    data = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    del data["deadlines"]["open_reply"]
    (tmp_path / "short.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    path = scheme_with(tmp_path, [{"profile": "short.yaml", "from": dt.date(2022, 1, 1)}])
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    msg = str(err.value)
    assert (
        "scheme.yaml" in msg
        and "short.yaml" in msg
        and "deadlines.open_reply" in msg
        and "open_reply_timeliness" in msg
    )


@pytest.mark.parametrize(
    "starts",
    [
        [dt.date(2025, 8, 1), dt.date(2022, 1, 1)],  # unordered
        [dt.date(2025, 8, 1), dt.date(2025, 8, 1)],  # overlapping (same start)
    ],
)
def test_unordered_or_overlapping_start_dates(tmp_path, starts):
    renumbered_profile(tmp_path)
    path = scheme_with(
        tmp_path,
        [{"profile": "huizhou-draft-2022", "from": starts[0]}, {"profile": "national-2025-08.yaml", "from": starts[1]}],
    )
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    assert "scheme.yaml" in str(err.value) and "rules.1.from" in str(err.value)


@pytest.mark.parametrize(
    "edit, key",
    [
        (
            lambda d: d["deadlines"].update(share_answer={"days": 2, "article": "第二十四条", "text": "x"}),
            "deadlines.share_answer",
        ),
        (lambda d: d.update(extra_key=1), "extra_key"),
        (lambda d: d["deadlines"]["share_reply"].update(weeks=1), "deadlines.share_reply.weeks"),
        (lambda d: d["articles"].update(no_such_metric=["第一条"]), "articles.no_such_metric"),
        (lambda d: d["deadlines"]["share_reply"].update(article="24"), "deadlines.share_reply.article"),
    ],
)
def test_unknown_or_bad_profile_keys_name_file_and_key(tmp_path, edit, key):
    data = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "bad-profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_profile(str(path))
    assert "bad-profile.yaml" in str(err.value) and key in str(err.value)


def test_unknown_key_in_a_scheme_rules_entry_and_missing_profile(tmp_path):
    path = scheme_with(
        tmp_path, [{"profile": "huizhou-draft-2022", "from": dt.date(2022, 1, 1), "until": dt.date(2030, 1, 1)}]
    )
    with pytest.raises(SchemeError, match=r"rules\.0\.until"):
        load_scheme(path)
    path = scheme_with(tmp_path, [{"profile": "no-such-profile", "from": dt.date(2022, 1, 1)}], name="s2.yaml")
    with pytest.raises(RuleError, match="no-such-profile"):
        load_scheme(path)


def test_the_shipped_profile_quotes_the_draft():
    """Every deadline sentence and number is in the draft's text (line breaks and spaces aside)."""
    # a copy of seeds/huizhou-public-data-rules-draft.txt
    seed = Path(__file__).resolve().parent / "fixtures" / "rules" / "huizhou-public-data-rules-draft.txt"
    text = re.sub(r"\s+", "", seed.read_text(encoding="utf-8"))
    profile = load_profile("huizhou-draft-2022")
    assert {k: r.days for k, r in profile.deadlines.items()} == {
        "catalog_update": 15,
        "catalog_review": 5,
        "share_reply": 2,
        "share_implement": 3,
        "demand_confirm": 5,
        "objection": 10,
        "objection_subject": 10,  # 第二十八条第二款 (数据主体), its own sentence (issue 25 item 6)
        "objection_notify": None,
        "open_reply": 20,
        "rectification_escalate": None,  # 第四十七条 "及时": no number (issue 25 item 11)
        "backflow_deliver": None,  # 第二十九条 "积极推动…回流": no number (issue 26)
    }
    for key, r in profile.deadlines.items():
        sentence = re.sub(r"\s+", "", r.text)
        assert sentence in text, key
        # the article heading precedes the sentence in the draft
        at = text.index(sentence)
        heading = text.rfind("条【", 0, at)
        # (an article naming its paragraph, 第二十八条第二款, is under the heading of 第二十八条)
        assert text[: heading + 1].endswith(re.sub(r"第[一二三四五六七八九十]+款$", "", r.article)), key


# ---------------------------------------------------------------------- warehouse and entry points


def test_an_older_warehouse_gets_the_new_columns(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    # the evidence and runs tables as released before rule profiles
    con.execute(
        "create table evidence (run_id varchar, metric_id varchar, agency_code varchar, record_table varchar,"
        " record_id varchar, reason varchar, due_at timestamp, done_at timestamp, adjustment_id varchar)"
    )
    con.execute(
        "insert into evidence values"
        " ('r1', 'share_reply_timeliness', 'A', 'share_applications', 'S1', 'x', null, null, null)"
    )
    con.execute(
        "create table runs (run_id varchar primary key, started_at timestamp, finished_at timestamp, year integer,"
        " as_of timestamp, scheme_sha256 varchar, inputs_sha256 varchar, package_version varchar, status varchar,"
        " scheme_name varchar, scheme_file varchar, inputs json)"
    )
    con.close()
    with connect(path) as con:
        cols = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_name = 'evidence'"
            ).fetchall()
        }
        run_cols = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_name = 'runs'"
            ).fetchall()
        }
        kept = con.execute("select record_id, rule_profile, article from evidence").fetchall()
    assert {"rule_profile", "article"} <= cols and "rules_sha256" in run_cols
    assert kept == [("S1", None, None)]


def test_scheduled_job_does_not_import_the_cli():
    import ast

    import hzeval.scheduled as scheduled

    tree = ast.parse(Path(scheduled.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert "hzeval.cli.main" not in imported and "hzeval.services" in imported


def test_a_deadline_without_days_is_refused_for_a_metric_that_needs_a_number(tmp_path):
    data = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    data["deadlines"]["share_reply"]["days"] = None  # e.g. a text saying only "及时"
    (tmp_path / "vague.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    path = scheme_with(tmp_path, [{"profile": "vague.yaml", "from": dt.date(2022, 1, 1)}])
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    assert "vague.yaml" in str(err.value) and "deadlines.share_reply.days" in str(err.value)


def test_the_subject_paragraph_must_name_its_own_article(tmp_path):
    """objection_subject items are told apart from objection ones by their article (notices quote the paragraph
    that applies): a profile giving both the same article is refused, naming file and key."""
    data = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    data["deadlines"]["objection_subject"]["article"] = "第二十八条"
    path = tmp_path / "same-article.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_profile(str(path))
    assert "same-article.yaml" in str(err.value) and "deadlines.objection_subject.article" in str(err.value)


def test_a_profile_without_unit_counts_in_working_days(tmp_path):
    """Issue 25 item 13: a profile written as DESIGN §5a shows (no `unit`) loads; the unit defaults to 个工作日,
    as every deadline of the draft is counted in working days."""
    data = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    del data["unit"]
    path = tmp_path / "no-unit.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.unit == "个工作日"
    # share_reply: 2 days in the draft -> "2 个工作日"
    assert profile.period("share_reply") == "2 个工作日"
