"""``hzeval supervise``: the authority's 督办 list of open items as of a time.

The items come from the very metric SQL that grades agencies (the deadline metrics of
:data:`hzeval.metrics.DEADLINE_METRICS`), run over every trigger up to the as-of time, so
the list and the assessment can never disagree. Each item's article is the one of the rule profile
in force on its trigger day. An item is listed while it is not done at
the as-of time: overdue (逾期) once the as-of time passes its deadline, due soon (即将到期)
when at most one working day is left, otherwise open (未到期). An item whose rule sets no number of days
(the draft's "及时" for telling a 数据主体 the result, 第二十八条) and is not done is listed without
working days, in its own state (:data:`NO_DEADLINE_STATE`: 未告知; a 数据回流 request of 第二十九条 not yet
delivered: 未回流).

Two more duties are listed, from the same items: open plans of the as-of year not filed once the
scheme's date has passed (``open_plan_filed``), and — the authority's own duties — rectifications
overdue and not yet escalated to the government (上报本级人民政府), charged to the
agency's 本级 authority, and each data item marked authoritative by several agencies
(``one_source_conflicts``, 第十五条 "有且只有一个法定数源部门"), charged to the 市级 authority, which settles
the source (state 待核定, no working days).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from hzeval.assessment.scheme import latest_scheme_for
from hzeval.metrics import DEADLINE_METRICS, SUPERVISION_CATEGORY, Window, compute_items
from hzeval.util.frame import frame

#: 督办 category per metric, from the metrics' declarations (``-- category:``)
CATEGORY = SUPERVISION_CATEGORY
#: the standing open-plan obligation, listed once the scheme's date has passed
OPEN_PLAN_CATEGORY = "开放计划未备案"
#: the authority's duty on overdue rectifications
ESCALATION_CATEGORY = "逾期整改未上报政府"
#: the state of an open item whose rule gives no number of days, per metric (else NO_DEADLINE_DEFAULT)
NO_DEADLINE_STATE = {"objection_notification": "未告知", "one_source": "待核定", "backflow_delivery": "未回流"}
#: one source per data item (第十五条): a conflict is the authority's to settle
ONE_SOURCE_CATEGORY = "一数多源待核定"
NO_DEADLINE_DEFAULT = "未办结"


def supervision_items(con, as_of: dt.datetime, agency: str | None = None, scheme=None) -> pl.DataFrame:
    """Every item not done at ``as_of``: one row per item with deadline and working days."""
    scheme = scheme or latest_scheme_for(as_of.year)
    window = Window(
        start=dt.datetime(1900, 1, 1),
        end=as_of + dt.timedelta(microseconds=1),
        as_of=as_of,
        rules=scheme.ruleset,
        open_plan_due=scheme.open_plan_due_at(as_of.year),
        security_required={},
    )
    compute_items(con, window, metric_ids=(*DEADLINE_METRICS, "open_plan_filed", "one_source_conflicts"))
    categories = {**CATEGORY, "open_plan_filed": OPEN_PLAN_CATEGORY, "one_source": ONE_SOURCE_CATEGORY}
    meta = pl.DataFrame(
        {
            "metric_id": list(categories),
            "category": list(categories.values()),
            "no_deadline_state": [NO_DEADLINE_STATE.get(m, NO_DEADLINE_DEFAULT) for m in categories],
        }
    )
    con.register("_meta", meta.to_arrow())
    out = frame(
        con,
        """
        with items as (
            -- the open plan is listed once the scheme's date has passed, not before
            select * from metric_items where metric_id <> 'open_plan_filed' or status = 'late'
            union all
            -- an overdue, unfinished rectification the 本级 authority has not yet escalated: the authority's
            -- own duty, citing the articles of its escalation metric (第四十七条, and 第四十九条 on its duties)
            select i.* replace (
                       coalesce(aa.authority_code, (select agency_code from stg_authority)) as agency_code,
                       'escalation' as metric_id,
                       (select string_agg(article, '、' order by article) from rule_articles_now
                        where metric_id = 'rectification_escalation') as article)
            from metric_items as i
            join rectifications as r on r.notice_id = i.record_id
            left join stg_agency_authority as aa on aa.agency_code = i.agency_code
            where i.metric_id = 'rectification_on_time' and i.status = 'late' and i.done_at is null
              and (r.escalated_at is null or r.escalated_at > $as_of)
            union all
            -- a data item with several sources: one item of the 市级 authority per item_code
            select distinct i.* replace (
                       (select agency_code from stg_authority) as agency_code,
                       'one_source' as metric_id,
                       (select string_agg(article, '、') from rule_articles_now
                        where metric_id = 'one_source_conflicts') as article)
            from metric_items as i
            where i.metric_id = 'one_source_conflicts'
        ),
        meta as (
            select * from _meta
            union all
            select 'escalation', $escalation, $no_deadline
        ),
        open_items as (
            select
                m.category, m.no_deadline_state, coalesce(i.article, r.article) as article, i.metric_id,
                i.agency_code, a.agency_name, i.record_table, i.record_id,
                cast(i.due_at - interval 1 day as date) as due_date,
                i.due_at,
                $as_of > i.due_at as overdue,
                wd_between(cast(i.due_at - interval 1 day as date), cast($as_of as date)) as wd_since_due
            from items as i
            join meta as m using (metric_id)
            left join rule_articles_now as r using (metric_id)
            left join agencies as a using (agency_code)
            -- not done: late or pending; or failed with no deadline (a rule without a number of days)
            where i.done_at is null
              and (i.status in ('late', 'pending') or (i.status = 'fail' and i.due_at is null))
              and ($agency is null or i.agency_code = $agency)
        )
        select
            category, article, metric_id, agency_code, agency_name, record_table, record_id, due_date, due_at,
            case when due_at is null then no_deadline_state
                 when overdue then '逾期' when -wd_since_due <= 1 then '即将到期' else '未到期' end as state,
            case when overdue then wd_since_due end as wd_overdue,
            case when not overdue then -wd_since_due end as wd_left
        from open_items
        order by overdue desc, due_at, agency_code, record_id
        """,
        {"as_of": as_of, "agency": agency, "escalation": ESCALATION_CATEGORY, "no_deadline": NO_DEADLINE_DEFAULT},
    )
    con.unregister("_meta")
    return out
