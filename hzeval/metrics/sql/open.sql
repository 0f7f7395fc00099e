-- Open-data family (open plans, open catalogue, open applications).
-- Every block yields: agency_code, record_table, record_id, status, reason, due_at, done_at, num, den.

-- metric: open_plan_filed
-- name: 年度开放计划备案
-- kind: rate
-- charged_to: agency
-- obligation: standing
-- doc: 按方案规定日期备案年度开放计划
-- suggestion: 按评估方案规定日期编制并备案年度数据开放计划（{article}）。
-- empty: 本机构年内无应备案的年度开放计划：年度开放计划备案按常设义务计 0 分；请按评估方案规定日期编制并备案年度数据开放计划
-- ok_when: open_plans row for Y filed by the scheme's date (open_plan_due, e.g. 03-31); not filed
--     and date not yet passed = pending
-- grain: one row per registered agency (the authority included): its open plan for the year, due by the
--     scheme's date
with plans as (
    select agency_code, min(filed_at) as filed_at
    from open_plans
    where year = $year and filed_at <= $as_of
    group by agency_code
)
select
    a.agency_code,
    'open_plans' as record_table,
    a.agency_code || '/' || $year as record_id,
    item_status(p.filed_at, $open_plan_due, $as_of) as status,
    case item_status(p.filed_at, $open_plan_due, $as_of)
        when 'late' then case when p.filed_at is null then $year || ' 年度开放计划未备案'
                              else $year || ' 年度开放计划逾期备案' end
    end as reason,
    $open_plan_due as due_at,
    p.filed_at as done_at,
    null::double as num,
    null::double as den
from stg_measured_agencies as a
left join plans as p using (agency_code);

-- metric: open_catalog_foreign_data
-- name: 开放非本机构数据数
-- kind: count
-- charged_to: agency
-- obligation: event
-- doc: 通过共享获得的数据不得纳入本机构开放目录（全市已报送开放目录的，未报送的机构计 1 次）
-- suggestion: 将通过共享获得的非本机构数据移出本机构开放目录（{article}）。
-- ok_when: count: distinct resource on the agency's open catalogue (open_catalogue, listed_at on or
--     before year end and the as-of day) whose provider in the year's snapshot is another agency.
--     Compiling the open catalogue is every agency's standing duty once the city has loaded any: an
--     agency (not the authority) that lists nothing is one violation "未报送开放目录"; with no open
--     catalogue in the city the indicator is excluded (the report says 未报送开放目录)
-- grain: one row per (agency, resource) the agency lists while another agency provides it; one row
--     per agency listing nothing when the city has loaded any open catalogue
with listed as (
    select agency_code, resource_code, listed_at
    from open_catalogue
    where listed_at < cast($year_end as date) and listed_at <= cast($as_of as date)
)
select
    l.agency_code,
    'open_catalogue' as record_table,
    l.resource_code as record_id,
    'fail' as status,
    '开放目录所列资源 ' || l.resource_code || ' 由 ' || s.provider_code || ' 提供，不应纳入本机构开放目录' as reason,
    null::timestamp as due_at,
    cast(l.listed_at as timestamp) as done_at,
    null::double as num,
    null::double as den
from listed as l
join stg_snapshot as s using (resource_code)
where s.provider_code <> l.agency_code
union all
select
    g.agency_code,
    'open_catalogue' as record_table,
    g.agency_code || '/(未报送开放目录)' as record_id,
    'fail' as status,
    '未报送开放目录' as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from stg_graded_agencies as g
where exists (select 1 from listed)
  and g.agency_code not in (select agency_code from listed where agency_code is not null);

-- metric: open_reply_timeliness
-- name: 开放申请答复及时率
-- kind: rate
-- charged_to: agency
-- deadline: open_reply
-- obligation: event
-- category: 开放申请答复
-- doc: 开放申请在规定期限内答复
-- suggestion: 开放申请应在 {deadline}内答复（{article}）。
-- ok_when: replied_at within the open_reply deadline of submitted_at; only applications for data
--     that is 有条件开放 in the snapshot in force at submission (stg_open_app_type)
-- grain: one row per open application for 有条件开放 data submitted in the year, charged to the
--     receiving agency
with apps as (
    select
        open_app_id,
        agency_code,
        submitted_at,
        known(replied_at, $as_of) as done_at,
        wd_due_at(submitted_at, r.days) as due_at,
        r.profile, r.article, r.period
    from open_applications
    join stg_open_app_type as t using (open_app_id)
    join rule_deadlines as r
      on r.key = 'open_reply' and cast(submitted_at as date) >= r.valid_from and cast(submitted_at as date) < r.valid_to
    where t.open_type = '有条件开放'
      and submitted_at >= $year_start and submitted_at < $year_end and submitted_at <= $as_of
)
select
    agency_code,
    'open_applications' as record_table,
    open_app_id as record_id,
    item_status(done_at, due_at, $as_of) as status,
    deadline_reason(item_status(done_at, due_at, $as_of), done_at, submitted_at,
                    '开放申请逾期未答复',
                    '开放申请超过 ' || period || '才答复') as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from apps;

-- metric: open_agreement
-- name: 开放利用协议签订率
-- kind: rate
-- charged_to: agency
-- obligation: event
-- doc: 获取有条件开放数据签订利用协议
-- suggestion: 提供有条件开放数据前与申请人签订数据利用协议（{article}）。
-- ok_when: agreement_signed_at ≤ T; only applications for data that is 有条件开放 in the snapshot
--     in force at submission
-- grain: one row per approved open application for 有条件开放 data replied in the year, charged to the
--     agency
select
    agency_code,
    'open_applications' as record_table,
    open_app_id as record_id,
    case when agreement_signed_at <= $as_of then 'ok' else 'fail' end as status,
    case when not coalesce(agreement_signed_at <= $as_of, false) then '同意开放但未签订公共数据利用协议' end as reason,
    null::timestamp as due_at,
    known(agreement_signed_at, $as_of) as done_at,
    null::double as num,
    null::double as den
from open_applications
join stg_open_app_type as t using (open_app_id)
where t.open_type = '有条件开放'
  and decision in ('同意', '部分同意')
  and replied_at >= $year_start and replied_at < $year_end and replied_at <= $as_of;

-- metric: open_refusal_reason
-- name: 开放申请拒绝说明理由率
-- kind: rate
-- charged_to: agency
-- obligation: event
-- doc: 未通过审核的开放申请明确理由
-- suggestion: 对未通过审核的开放申请，应在答复中明确不予开放的理由（{article}）。
-- ok_when: refused (拒绝) open applications replied in the year with a non-empty reason; only
--     applications for data that is 有条件开放 in the snapshot in force at submission
-- grain: one row per open application for 有条件开放 data refused by a reply in the year, charged to
--     the agency
select
    agency_code,
    'open_applications' as record_table,
    open_app_id as record_id,
    case when nullif(trim(reason), '') is not null then 'ok' else 'fail' end as status,
    case when nullif(trim(reason), '') is null then '拒绝开放申请未说明理由' end as reason,
    null::timestamp as due_at,
    replied_at as done_at,
    null::double as num,
    null::double as den
from open_applications
join stg_open_app_type as t using (open_app_id)
where t.open_type = '有条件开放'
  and decision = '拒绝'
  and replied_at >= $year_start and replied_at < $year_end and replied_at <= $as_of;
