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
-- grain: one row per graded agency and required record type
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
from stg_graded_agencies as a
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
-- charged_to: agency
-- obligation: event
-- doc: 年内发生的安全事件（数据泄露等由评分方案一票否决）
-- suggestion: 开展安全事件复盘，落实数据安全责任制和防护措施，杜绝数据泄露（{article}）。
-- ok_when: count (the scheme's veto rules read the kinds, e.g. 数据泄露 → 不合格)
-- grain: one row per security incident that occurred in the year, charged to the agency
select
    agency_code,
    'incidents' as record_table,
    incident_id as record_id,
    'fail' as status,
    '安全事件：' || kind || coalesce('（' || severity || '）', '') as reason,
    null::timestamp as due_at,
    occurred_at as done_at,
    null::double as num,
    null::double as den
from incidents
where occurred_at >= $year_start and occurred_at < $year_end and occurred_at <= $as_of;
