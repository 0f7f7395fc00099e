"""Each metric is declared once, beside its SQL block; everything else that lists metrics is derived."""

from __future__ import annotations

from pathlib import Path

import pytest

from hzeval.errors import DeclarationError
from hzeval.metrics import registry
from hzeval.metrics.registry import (
    DEADLINE_KEYS,
    DEADLINE_METRICS,
    METRICS,
    STANDING,
    SUPERVISION_CATEGORY,
    parse_family,
)

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
-- Test family.

-- metric: demo_rate
-- name: 演示率
-- kind: rate
-- charged_to: provider
-- deadline: share_reply
-- obligation: event
-- category: 演示
-- doc: 演示
-- suggestion: 在{deadline}内完成（{article}）。
-- ok_when: done in time,
--     and nothing else
-- grain: one row per thing
select 1 as x;

-- step: stg_demo
-- grain: one row
create or replace temp table stg_demo as select 1;
"""


def test_docs_metrics_md_is_generated():
    doc = ROOT / "docs" / "metrics.md"
    text = doc.read_text(encoding="utf-8")
    assert text == registry.render_markdown(text), "docs/metrics.md is stale: run `make docs`"
    for m in METRICS:
        assert f"| {m} |" in text


def test_header_parses_with_continuation_lines():
    blocks = parse_family(GOOD, "demo")
    assert [(b.kind, b.name) for b in blocks] == [("metric", "demo_rate"), ("step", "stg_demo")]
    h = blocks[0].header
    assert h["ok_when"] == "done in time, and nothing else"
    assert blocks[0].sql == "select 1 as x"
    assert blocks[1].sql == "create or replace temp table stg_demo as select 1"
    m = registry.build_metrics({"demo": blocks})["demo_rate"]
    assert (m.family, m.kind, m.deadline, m.category, m.obligation) == ("demo", "rate", "share_reply", "演示", "event")


@pytest.mark.parametrize(
    "text, needle",
    [
        # SQL with no header before it
        ("-- Family.\nselect 1;\n", "line 2: SQL without"),
        # a header whose block is empty (the next block starts at once)
        (GOOD.replace("select 1 as x;\n", ""), "demo_rate: header without a SQL block"),
        # a misspelt key
        (GOOD.replace("-- charged_to:", "-- charged:"), "unknown header key 'charged'"),
        # a required key missing
        (GOOD.replace("-- obligation: event\n", ""), "header lacks obligation"),
        (GOOD.replace("-- kind: rate", "-- kind: ratio"), "kind must be rate or count"),
        (GOOD.replace("-- obligation: event", "-- obligation: sometimes"), "obligation must be standing or event"),
        # headers name no article: the rule profile maps metrics to articles
        (GOOD.replace("-- doc: 演示", "-- doc: 第二十四条"), "headers name no article"),
        (
            GOOD.replace("-- step: stg_demo\n-- grain: one row", "-- step: stg_demo\n-- kind: rate"),
            "step stg_demo: unknown header key",
        ),
        (GOOD.replace("-- metric: demo_rate", "-- metric: Demo-Rate"), "invalid metric id"),
        # a standing obligation says what nothing to count means (DESIGN §7a); an event metric does not
        (GOOD.replace("-- obligation: event", "-- obligation: standing"), "a standing metric declares empty"),
        (GOOD.replace("-- doc: 演示", "-- doc: 演示\n-- empty: 无事项：计 0 分"), "a standing metric declares empty"),
    ],
)
def test_bad_declarations_fail_naming_file_and_line(text, needle):
    with pytest.raises(DeclarationError) as exc:
        parse_family(text, "demo")
    assert "hzeval/metrics/sql/demo.sql" in exc.value.message
    assert needle in exc.value.en


def test_a_standing_metric_declares_its_empty_sentence():
    text = GOOD.replace(
        "-- obligation: event", "-- obligation: standing\n-- empty: 本机构年内无演示事项：演示率按常设义务计 0 分"
    )
    m = registry.build_metrics({"demo": parse_family(text, "demo")})["demo_rate"]
    assert m.standing and m.empty == "本机构年内无演示事项：演示率按常设义务计 0 分"
    # every packaged standing metric has one, naming itself, the 0 points and what to do
    for m in METRICS.values():
        assert bool(m.empty) == m.standing, m.id
        if m.standing:
            assert f"{m.name_zh}按常设义务计 0 分；请" in m.empty, m.id


def test_a_metric_declared_twice_fails():
    blocks = parse_family(GOOD, "demo")
    with pytest.raises(DeclarationError, match="already declared in demo.sql"):
        registry.build_metrics({"demo": blocks, "other": blocks})


def test_derived_lists():
    # DESIGN §5 marks exactly these four as standing obligations
    assert set(STANDING) == {"catalog_completeness", "aggregation_coverage", "open_plan_filed", "security_practice"}
    # the deadline keys the SQL uses are those of DESIGN §5a that a metric needs
    assert set(DEADLINE_KEYS) == {
        "catalog_update",
        "catalog_review",
        "share_reply",
        "share_implement",
        "demand_confirm",
        "objection",
        "objection_notify",
        "open_reply",
        "rectification_escalate",  # issue 25 item 11: rectification_escalation (第四十七条 "及时", no number)
        "backflow_deliver",  # issue 26: backflow_delivery (第二十九条 "积极推动", no number)
    }
    # supervision lists every metric with a working-day deadline, plus rectification notices (dated deadline);
    # rectification_escalation has no category: supervise lists that duty itself (逾期整改未上报政府)
    deadline_metrics = {m for m in METRICS if METRICS[m].deadline} - {"rectification_escalation"}
    assert deadline_metrics | {"rectification_on_time"} == set(DEADLINE_METRICS)
    assert SUPERVISION_CATEGORY["share_reply_timeliness"] == "共享申请答复"
    assert all(m.family in registry.FAMILIES for m in METRICS.values())


def test_every_block_is_a_registered_metric_and_the_reverse():
    names = {b.name for fam in registry.FAMILIES for b in registry.load_blocks(fam) if b.kind == "metric"}
    assert names == set(METRICS)


def test_suggestions_use_only_known_placeholders():
    for m in METRICS.values():
        text = m.suggestion.format(article="A", deadline="D")
        # a metric the shipped profile cites no article for (security_incidents) names none in its advice
        assert "{" not in text and ("A" in text) == bool(m.articles), m.id
        assert ("D" in text) == ("{deadline}" in m.suggestion)
        if "{deadline}" in m.suggestion:
            assert m.deadline, f"{m.id}: a suggestion with {{deadline}} needs a deadline key"


def test_unknown_metric_id_is_an_error_not_skipped(wh):
    import datetime as dt

    from hzeval.assessment.scheme import load_scheme
    from hzeval.metrics import Window, compute_items

    window = Window.for_year(2025, dt.datetime(2026, 1, 5), load_scheme(year=2025))
    with pytest.raises(KeyError, match="share_reply_timelines"):
        compute_items(wh, window, metric_ids=["share_reply_timelines"])


def test_the_shipped_profile_maps_every_metric_to_its_articles():
    from hzeval.rules import default_profile

    profile = default_profile()
    assert set(profile.articles) == set(METRICS)
    assert METRICS["share_reply_timeliness"].article_zh == "第二十四条"
    assert METRICS["catalog_open_basis"].article_zh == "第三十二条、第三十三条"
    # issue 25 item 12: 第七条（二） "依法制定本机构公共数据采集清单" and 第十五条 "编制公共数据采集清单"; 第十八条
    # "完整、准确地…汇聚" (第二十条 is 数据治理)
    assert METRICS["collection_list_coverage"].article_zh == "第七条（二）、第十五条"
    assert METRICS["aggregation_quality"].article_zh == "第十八条"
    # issue 25 item 12: an incident is not a breach of 第四十一条 / 第四十七条 as such: only the kinds 第四十七条
    # names cite it, by clause ((五) 违规泄露、出售或者非法提供; (六) 擅自更改或者删除); other kinds the scheme
    assert METRICS["security_incidents"].article_zh == ""
    kinds = profile.kind_articles["security_incidents"]
    assert kinds["数据泄露"] == ["第四十七条（五）"] and kinds["擅自删除数据"] == ["第四十七条（六）"]
    assert "网络攻击" not in kinds and "数据篡改未遂" not in kinds
    # every deadline key a metric needs is in the profile
    assert set(DEADLINE_KEYS) <= set(profile.deadlines)


def test_deadline_days_header():
    blocks = parse_family(
        GOOD.replace("-- obligation: event", "-- deadline_days: optional\n-- obligation: event"), "demo"
    )
    assert registry.build_metrics({"demo": blocks})["demo_rate"].deadline_days_required is False
    assert registry.build_metrics({"demo": parse_family(GOOD, "demo")})["demo_rate"].deadline_days_required is True
    with pytest.raises(DeclarationError, match="deadline_days must be required or optional"):
        parse_family(GOOD.replace("-- obligation: event", "-- deadline_days: maybe\n-- obligation: event"), "demo")
    with pytest.raises(DeclarationError, match="deadline_days without a deadline key"):
        parse_family(GOOD.replace("-- deadline: share_reply", "-- deadline_days: optional"), "demo")


def test_the_registry_is_built_on_first_use_not_at_import():
    import subprocess
    import sys

    code = (
        "import hzeval.metrics, hzeval.assessment.assess, hzeval.runs\n"
        "from hzeval.metrics import registry as r\n"
        "assert r.registry.cache_info().currsize == 0 and r.load_blocks.cache_info().currsize == 0\n"
        "assert 'share_reply_timeliness' in r.METRICS and r.registry.cache_info().currsize == 1\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the names users import are views of registry(): equal to its collections
    built = registry.registry()
    assert dict(METRICS) == built.metrics and registry.FAMILIES == built.families
    assert STANDING == built.standing and DEADLINE_KEYS == built.deadline_keys
    assert dict(SUPERVISION_CATEGORY) == built.supervision_category and DEADLINE_METRICS == built.deadline_metrics
