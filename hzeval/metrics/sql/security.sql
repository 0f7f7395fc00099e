-- Security family. The required counts come from the scheme
-- (temp table scheme_security_required: record_type, required).

-- metric: security_practice
-- name: 安全检查、备份与风险评估完成率
-- kind: rate
-- charged_to: agency
-- obligation: standing
-- doc: 按评估方案要求的次数开展安全检查、数据备份和风险评估（细则只要求“定期”，次数为方案规定）
-- suggestion: 按评估方案要求的次数定期开展安全检查、数据备份和风险评估，并留存记录（{article}）。
-- empty: 本机构年内无应开展的安全检查、数据备份或风险评估：安全检查、备份与风险评估完成率按常设义务计 0 分；请按评估方案要求的次数开展并留存记录
-- ok_when: numerator = Σ min(done in Y ≤ T, required), denominator = Σ required, per record type the
--     scheme requires (security_required, e.g. 安全检查 2, 数据备份 4, 风险评估 1: the draft says only
--     定期, so the counts are the scheme's policy, printed with its security_basis)
-- grain: one row per registered agency (the authority included) and required record type
with done as (
    select agency_code, record_type, count(*) as n
    from security_records
    where done_at >= $year_start and done_at < $year_end and done_at <= $as_of
    group by agency_code, record_type
)
select
    a.agency_code,
    'security_records' as record_table,
    a.agency_code || '/' || r.record_type as record_id,
    case when coalesce(d.n, 0) >= r.required then 'ok' else 'fail' end as status,
    case when coalesce(d.n, 0) < r.required
         then r.record_type || '完成 ' || coalesce(d.n, 0) || ' 次，评估方案要求至少 ' || r.required || ' 次' end as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    cast(least(coalesce(d.n, 0), r.required) as double) as num,
    cast(r.required as double) as den
from stg_measured_agencies as a
cross join scheme_security_required as r
left join done as d on d.agency_code = a.agency_code and d.record_type = r.record_type
where r.required > 0;

-- metric: rectification_on_time
-- name: 限期整改完成率
-- kind: rate
-- charged_to: agency
-- obligation: event
-- category: 限期整改
-- doc: 整改通知在期限内完成
-- suggestion: 在整改通知规定期限内完成整改并报送整改结果（{article}）。
-- ok_when: completed_at by the end of the deadline date
-- grain: one row per rectification notice issued in the year, due by the end of its deadline date
with notices as (
    select
        notice_id,
        agency_code,
        issued_at,
        cast(deadline as timestamp) + interval 1 day as due_at,
        known(completed_at, $as_of) as done_at
    from rectifications
    where issued_at >= $year_start and issued_at < $year_end and issued_at <= $as_of
)
select
    agency_code,
    'rectifications' as record_table,
    notice_id as record_id,
    item_status(done_at, due_at, $as_of) as status,
    deadline_reason(item_status(done_at, due_at, $as_of), done_at, issued_at,
                    '整改逾期未完成', '整改超过期限才完成') as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den
from notices;

-- metric: security_incidents
-- name: 安全事件数
-- kind: count
-- charged_to: the responsible agency (responsible_code), else the agency where the incident was logged
-- obligation: event
-- doc: 年内发生的安全事件，计入责任单位（数据泄露等由评分方案一票否决）
-- suggestion: 开展安全事件复盘，落实数据安全责任制和防护措施，杜绝数据泄露。
-- ok_when: count (the scheme's veto rules read the kinds, e.g. 数据泄露 → 不合格). The 数源部门
--     answers for 采集、核准和提供, the using agency for 使用, "与数源部门、公共数据主管部门存在明确
--     关联或者责任的除外": an incident with responsible_code is charged (deduction and veto) to that
--     agency, its stage (采集/提供/使用) shown in the reason; without one, to agency_code
--     An incident of a kind the rule profile in force on its day names (kind_articles: in the draft's,
--     数据泄露 → the clause on 违规泄露, 擅自更改/删除 → the clause on 擅自更改或者删除) cites that clause;
--     any other kind cites the metric's articles (none in the draft's profile), so surfaces cite the
--     scheme's basis
-- grain: one row per security incident that occurred in the year, charged to its responsible agency
select
    coalesce(i.responsible_code, i.agency_code) as agency_code,
    'incidents' as record_table,
    i.incident_id as record_id,
    'fail' as status,
    '安全事件：' || i.kind || coalesce('（' || i.severity || '）', '')
        || coalesce('；责任环节：' || i.stage, '') as reason,
    null::timestamp as due_at,
    i.occurred_at as done_at,
    null::double as num,
    null::double as den,
    k.profile as rule_profile,
    k.article
from incidents as i
left join rule_kind_articles as k
  on k.metric_id = 'security_incidents' and k.kind = trim(i.kind)
 and cast(i.occurred_at as date) >= k.valid_from and cast(i.occurred_at as date) < k.valid_to
where i.occurred_at >= $year_start and i.occurred_at < $year_end and i.occurred_at <= $as_of;

-- metric: rectification_escalation
-- name: 逾期整改上报率
-- kind: rate
-- charged_to: the 本级 authority
-- deadline: rectification_escalate
-- deadline_days: optional
-- obligation: event
-- doc: 逾期未完成整改的，本级主管部门上报本级人民政府纳入督查督办
-- suggestion: 对逾期未完成整改的事项，主管部门应及时上报本级人民政府纳入督查督办（{article}）。
-- ok_when: per rectification whose deadline date ended in the year (and by the as-of time) without
--     completion: escalated_at at or after the end of the deadline date and not after the as-of
--     time; when the rule profile in force on the deadline date gives rectification_escalate a number
--     of working days, within that deadline of the deadline date, else (the draft: "及时", no number)
--     at any time before the as-of time
-- grain: one row per rectification overdue in the year, charged to the agency's 本级 authority
with overdue as (
    select
        x.notice_id,
        coalesce(aa.authority_code, (select agency_code from stg_authority)) as authority_code,
        x.agency_code,
        cast(x.deadline as timestamp) + interval 1 day as overdue_at,
        case when x.escalated_at >= cast(x.deadline as timestamp) + interval 1 day
             then known(x.escalated_at, $as_of) end as done_at,
        r.days,
        case when r.days is not null then wd_due_at(cast(x.deadline as timestamp), r.days) end as due_at,
        r.profile, r.article, r.period
    from rectifications as x
    left join stg_agency_authority as aa using (agency_code)
    join rule_deadlines as r
      on r.key = 'rectification_escalate' and x.deadline >= r.valid_from and x.deadline < r.valid_to
    where x.deadline >= cast($year_start as date) and x.deadline < cast($year_end as date)
      and cast(x.deadline as timestamp) + interval 1 day <= $as_of
      and (x.completed_at is null or x.completed_at >= cast(x.deadline as timestamp) + interval 1 day)
),
judged as (
    select *,
           duty_status(done_at, due_at, days, $as_of) as status
    from overdue
)
select
    authority_code as agency_code,
    'rectifications' as record_table,
    notice_id as record_id,
    status,
    case when status = 'uncovered' then cast(cast(overdue_at as date) as varchar)
         when status in ('late', 'fail') and done_at is null
             then agency_code || ' 的整改逾期未完成，未上报本级人民政府'
         when status = 'late' then agency_code || ' 的整改逾期后超过 ' || period || '才上报本级人民政府' end as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from judged;
