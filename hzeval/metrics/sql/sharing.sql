-- Sharing family (applications, grants, calls, feedback, objections).
-- Every block yields: agency_code, record_table, record_id, status, reason, due_at, done_at, num, den.

-- metric: share_reply_timeliness
-- name: 共享申请答复及时率
-- kind: rate
-- charged_to: provider
-- deadline: share_reply
-- obligation: event
-- category: 共享申请答复
-- doc: 有条件共享申请在规定期限内答复
-- suggestion: 有条件共享申请应在 {deadline}内答复，建议指定专人值守申请受理（{article}）。
-- ok_when: replied_at within the share_reply deadline of submitted_at (share type from the
--     application, else from the snapshot in force at submission)
-- grain: one row per 有条件共享 application in the catalogue submitted in the year, charged to the
--     provider
with apps as (
    select
        a.application_id,
        a.provider_code,
        a.submitted_at,
        known(a.replied_at, $as_of) as done_at,
        wd_due_at(a.submitted_at, r.days) as due_at,
        r.profile, r.article, r.period
    from share_applications as a
    left join stg_share_app_type as t using (application_id)
    -- the rule in force on the trigger day (DESIGN §5a)
    join rule_deadlines as r
      on r.key = 'share_reply' and cast(a.submitted_at as date) >= r.valid_from and cast(a.submitted_at as date) < r.valid_to
    where t.share_type = '有条件共享'
      and coalesce(a.in_catalog, true)
      and a.submitted_at >= $year_start and a.submitted_at < $year_end and a.submitted_at <= $as_of
)
select
    provider_code as agency_code,
    'share_applications' as record_table,
    application_id as record_id,
    item_status(done_at, due_at, $as_of) as status,
    deadline_reason(item_status(done_at, due_at, $as_of), done_at, submitted_at,
                    '有条件共享申请逾期未答复',
                    '有条件共享申请超过 ' || period || '才答复') as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from apps;

-- metric: share_implementation_timeliness
-- name: 共享实施及时率
-- kind: rate
-- charged_to: provider
-- deadline: share_implement
-- obligation: event
-- category: 共享实施
-- doc: 同意共享后在规定期限内完成实施
-- suggestion: 同意共享后 {deadline}内完成授权和实施，及时回填实施完成时间（{article}）。
-- ok_when: implemented_at within the share_implement deadline of replied_at
-- grain: one row per approved 有条件共享 application replied in the year, charged to the provider
with apps as (
    select
        a.application_id,
        a.provider_code,
        a.replied_at,
        known(a.implemented_at, $as_of) as done_at,
        wd_due_at(a.replied_at, r.days) as due_at,
        r.profile, r.article, r.period
    from share_applications as a
    left join stg_share_app_type as t using (application_id)
    join rule_deadlines as r
      on r.key = 'share_implement' and cast(a.replied_at as date) >= r.valid_from and cast(a.replied_at as date) < r.valid_to
    where t.share_type = '有条件共享'
      and coalesce(a.in_catalog, true)
      and a.decision in ('同意', '部分同意')
      and a.replied_at >= $year_start and a.replied_at < $year_end and a.replied_at <= $as_of
)
select
    provider_code as agency_code,
    'share_applications' as record_table,
    application_id as record_id,
    item_status(done_at, due_at, $as_of) as status,
    deadline_reason(item_status(done_at, due_at, $as_of), done_at, replied_at,
                    '同意共享后逾期未完成实施',
                    '同意共享后超过 ' || period || '才完成实施') as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from apps;

-- metric: refusal_basis
-- name: 拒绝共享依据率
-- kind: rate
-- charged_to: provider
-- obligation: event
-- doc: 拒绝共享提供法律、法规、规章依据
-- suggestion: 拒绝共享须说明法律、法规、规章依据，补正已拒绝申请的依据（{article}）。
-- ok_when: refusal_basis filled; only refusals of 有条件共享 applications (share type at submission,
--     stg_share_app_type): a 不予共享 resource's basis is filed in the catalogue (catalog_share_basis), a
--     无条件共享 one may not be refused (unconditional_refusals)
-- grain: one row per refused 有条件共享 application replied in the year, charged to the provider
select
    a.provider_code as agency_code,
    'share_applications' as record_table,
    a.application_id as record_id,
    case when nullif(trim(a.refusal_basis), '') is not null then 'ok' else 'fail' end as status,
    '拒绝共享未提供法律、法规、规章依据' as reason,
    null::timestamp as due_at,
    a.replied_at as done_at,
    null::double as num,
    null::double as den
from share_applications as a
join stg_share_app_type as t using (application_id)
where t.share_type = '有条件共享'
  and coalesce(a.in_catalog, true)
  and a.decision = '拒绝'
  and a.replied_at >= $year_start and a.replied_at < $year_end and a.replied_at <= $as_of;

-- metric: unconditional_refusals
-- name: 拒绝无条件共享申请数
-- kind: count
-- charged_to: provider
-- obligation: event
-- doc: 无条件共享数据按需申请并获取，数源部门不得拒绝（每次拒绝计一次）
-- suggestion: 无条件共享数据由使用机构按需申请并获取，不得擅自增设条件或拒绝；对已拒绝的申请应予提供（{article}）。
-- ok_when: count: refusals (拒绝) replied in the year of applications for data that is 无条件共享 at
--     submission (the application's own share type, else the snapshot in force at submission)
-- grain: one row per refused 无条件共享 application replied in the year, charged to the provider
select
    a.provider_code as agency_code,
    'share_applications' as record_table,
    a.application_id as record_id,
    'fail' as status,
    '拒绝无条件共享数据的申请' || coalesce('（资源 ' || a.resource_code || '）', '') as reason,
    null::timestamp as due_at,
    a.replied_at as done_at,
    null::double as num,
    null::double as den
from share_applications as a
join stg_share_app_type as t using (application_id)
where t.share_type = '无条件共享'
  and coalesce(a.in_catalog, true)
  and a.decision = '拒绝'
  and a.replied_at >= $year_start and a.replied_at < $year_end and a.replied_at <= $as_of;

-- metric: demand_confirmation_timeliness
-- name: 目录外需求确认及时率
-- kind: rate
-- charged_to: provider
-- deadline: demand_confirm
-- obligation: event
-- category: 目录外需求确认
-- doc: 未编目数据共享需求在规定期限内确认
-- suggestion: 目录外数据共享需求应在 {deadline}内确认，并及时纳入目录（{article}）。
-- ok_when: confirmed_at within the demand_confirm deadline of submitted_at
-- grain: one row per not-in-catalogue demand submitted in the year, charged to the provider
with demands as (
    select
        application_id,
        provider_code,
        submitted_at,
        known(confirmed_at, $as_of) as done_at,
        wd_due_at(submitted_at, r.days) as due_at,
        r.profile, r.article, r.period
    from share_applications
    join rule_deadlines as r
      on r.key = 'demand_confirm' and cast(submitted_at as date) >= r.valid_from and cast(submitted_at as date) < r.valid_to
    where in_catalog = false
      and submitted_at >= $year_start and submitted_at < $year_end and submitted_at <= $as_of
)
select
    provider_code as agency_code,
    'share_applications' as record_table,
    application_id as record_id,
    item_status(done_at, due_at, $as_of) as status,
    deadline_reason(item_status(done_at, due_at, $as_of), done_at, submitted_at,
                    '目录外共享需求逾期未确认',
                    '目录外共享需求超过 ' || period || '才确认') as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from demands;

-- metric: grant_minimality
-- name: 最小授权要素完整率
-- kind: rate
-- charged_to: provider
-- obligation: event
-- doc: 同意的授权核定应用场景、所需数据、共享模式、截止时间
-- suggestion: 按最小必要原则核定应用场景、所需数据、共享模式和截止时间后再授权（{article}）。
-- ok_when: scenario, requested_items, share_mode and valid_until filled
-- grain: one row per approved application replied in the year, charged to the provider
with grants as (
    select
        application_id,
        provider_code,
        replied_at,
        concat_ws('、',
            case when nullif(trim(scenario), '') is null then '应用场景' end,
            case when nullif(trim(requested_items), '') is null then '所需数据' end,
            case when nullif(trim(share_mode), '') is null then '共享模式' end,
            case when valid_until is null then '截止时间' end
        ) as missing
    from share_applications
    where decision in ('同意', '部分同意')
      and replied_at >= $year_start and replied_at < $year_end and replied_at <= $as_of
)
select
    provider_code as agency_code,
    'share_applications' as record_table,
    application_id as record_id,
    case when missing = '' then 'ok' else 'fail' end as status,
    case when missing <> '' then '授权未核定：' || missing end as reason,
    null::timestamp as due_at,
    replied_at as done_at,
    null::double as num,
    null::double as den
from grants;

-- metric: out_of_scope_calls
-- name: 超范围使用共享数据（事件数）
-- kind: count
-- charged_to: consumer
-- obligation: event
-- doc: 超出授权获取共享数据的事件：同一调用机构、同一资源、同一原因（无有效授权，或某授权已过截止时间）计一次
-- suggestion: 停止无授权或超期调用，补办共享申请或按截止时间停止调用，并核查调用系统的权限配置（{article}）。
-- ok_when: count of episodes, one per (consumer, resource, cause), over the year's calls that no
--     grant covers (same applicant = consumer and resource, granted on or before the call, valid_until
--     — a date, inclusive — empty or not before the call day); the cause is "grant G past valid_until"
--     when a grant G of that consumer and resource began before the call and had expired (the one with
--     the latest valid_until), else "no approved grant". A grant begins at its reply (同意/部分同意; at
--     submission when the reply time is missing); an application for a 无条件共享 resource (by the
--     application's share type, else the snapshot's) is a grant from its submission
-- grain: one row per (consumer, resource, cause) episode in the year, with its first and last call
--     and the number of calls, charged to the consumer
with grants as (
    select
        a.application_id, a.applicant_code, a.resource_code, a.valid_until,
        case when t.share_type = '无条件共享' then a.submitted_at
             else coalesce(a.replied_at, a.submitted_at) end as granted_at
    from share_applications as a
    left join stg_share_app_type as t using (application_id)
    where a.resource_code is not null
      and (t.share_type = '无条件共享' or a.decision in ('同意', '部分同意'))
),
live_grants as (
    select * from grants where granted_at <= $as_of
),
calls as (
    select call_id, consumer_code, resource_code, called_at
    from api_calls
    where called_at >= $year_start and called_at < $year_end and called_at <= $as_of
),
violations as (
    -- anti-join written as a left join (DuckDB plans it as a hash join on the codes; a
    -- correlated not-exists with the range predicates is ~20x slower on 5M calls)
    select c.*
    from calls as c
    left join live_grants as g
      on g.applicant_code = c.consumer_code
     and g.resource_code = c.resource_code
     and g.granted_at <= c.called_at
     and (g.valid_until is null or cast(c.called_at as date) <= g.valid_until)
    where g.applicant_code is null
),
classified as (
    -- the cause of each uncovered call: the expired grant with the latest valid_until, if any
    select
        v.call_id, v.consumer_code, v.resource_code, v.called_at,
        arg_max(g.application_id, strftime(g.valid_until, '%Y-%m-%d') || g.application_id) as grant_id,
        max(g.valid_until) as valid_until
    from violations as v
    left join live_grants as g
      on g.applicant_code = v.consumer_code
     and g.resource_code = v.resource_code
     and g.granted_at <= v.called_at
     and g.valid_until < cast(v.called_at as date)
    group by v.call_id, v.consumer_code, v.resource_code, v.called_at
),
episodes as (
    select
        consumer_code, resource_code, grant_id,
        max(valid_until) as valid_until,
        count(*) as calls,
        min(called_at) as first_at,
        max(called_at) as last_at,
        arg_min(call_id, strftime(called_at, '%Y-%m-%d %H:%M:%S') || call_id) as first_call,
        arg_max(call_id, strftime(called_at, '%Y-%m-%d %H:%M:%S') || call_id) as last_call
    from classified
    group by consumer_code, resource_code, grant_id
)
select
    consumer_code as agency_code,
    'api_calls' as record_table,
    consumer_code || '/' || resource_code || '/' || coalesce(grant_id, '无授权') as record_id,
    'fail' as status,
    case when grant_id is not null
         then '调用资源 ' || resource_code || ' 超过授权 ' || grant_id || ' 的截止时间 ' || valid_until
         else '调用资源 ' || resource_code || ' 无有效共享授权' end
    || '：' || strftime(first_at, '%Y-%m-%d %H:%M') || ' 至 ' || strftime(last_at, '%Y-%m-%d %H:%M')
    || ' 共调用 ' || calls || ' 次（首次 ' || first_call || '，末次 ' || last_call || '）' as reason,
    null::timestamp as due_at,
    last_at as done_at,
    null::double as num,
    null::double as den
from episodes;

-- metric: backflow_delivery
-- name: 数据回流交付率
-- kind: rate
-- charged_to: holder (the agency answering for the 国垂/省垂 system)
-- deadline: backflow_deliver
-- deadline_days: optional
-- obligation: event
-- category: 数据回流
-- doc: 推动本领域国垂、省垂系统公共数据回流，按申请交付
-- suggestion: 依托市级政务数据共享协调小组机制，推动本领域国垂、省垂系统数据按申请回流至申请单位（{article}）。
-- ok_when: per backflow request received in the year (requested_at in Y and ≤ T): delivered_at set and not
--     after the as-of time (and not before the request); when the rule profile in force on the request day
--     gives backflow_deliver a number of working days, within that deadline of requested_at (late otherwise,
--     open ones late once it passes); else (the draft: "积极推动", no number) an undelivered request is an open
--     督办 item without working days (pending: in no rate), never a scored failure
-- grain: one row per backflow request received in the year, charged to the holder
with received as (
    select
        b.request_id,
        b.holder_code as agency_code,
        b.requester_code,
        b.system_name,
        b.requested_at,
        case when b.delivered_at >= b.requested_at then known(b.delivered_at, $as_of) end as done_at,
        r.days,
        case when r.days is not null then wd_due_at(b.requested_at, r.days) end as due_at,
        r.profile, r.article, r.period
    from backflow_requests as b
    join rule_deadlines as r
      on r.key = 'backflow_deliver' and cast(b.requested_at as date) >= r.valid_from
     and cast(b.requested_at as date) < r.valid_to
    where b.requested_at >= $year_start and b.requested_at < $year_end and b.requested_at <= $as_of
),
judged as (
    select *,
           case when days is null and done_at is null then 'pending'
                else duty_status(done_at, due_at, days, $as_of) end as status
    from received
)
select
    agency_code,
    'backflow_requests' as record_table,
    request_id as record_id,
    status,
    case when status = 'uncovered' then cast(cast(requested_at as date) as varchar)
         when status = 'late' and done_at is null
             then requester_code || ' 申请的' || coalesce(system_name, '') || '数据逾期未回流'
         when status = 'late'
             then requester_code || ' 申请的' || coalesce(system_name, '') || '数据超过 ' || period || '才回流' end
        as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from judged;

-- metric: cross_level_filing
-- name: 跨层级申请备案率
-- kind: rate
-- charged_to: applicant
-- obligation: event
-- doc: 跨层级、跨区域申请同时向上一级和同级主管部门备案
-- suggestion: 跨层级、跨区域共享申请应同时向上一级和同级主管部门备案（{article}）。
-- ok_when: filed_upper and filed_same
-- grain: one row per cross-level application submitted in the year, charged to the applicant
select
    applicant_code as agency_code,
    'share_applications' as record_table,
    application_id as record_id,
    case when coalesce(filed_upper, false) and coalesce(filed_same, false) then 'ok' else 'fail' end as status,
    '跨层级申请未' || concat_ws('和',
        case when not coalesce(filed_upper, false) then '向上一级主管部门备案' end,
        case when not coalesce(filed_same, false) then '向同级主管部门备案' end) as reason,
    null::timestamp as due_at,
    submitted_at as done_at,
    null::double as num,
    null::double as den
from share_applications
where cross_level
  and submitted_at >= $year_start and submitted_at < $year_end and submitted_at <= $as_of;

-- metric: usage_feedback
-- name: 使用情况反馈率
-- kind: rate
-- charged_to: applicant
-- obligation: event
-- doc: 获批授权在有效的每个反馈期间（评估方案确定，默认季度）提交使用情况反馈
-- suggestion: 定期向数源部门、公共数据主管部门反馈共享数据使用情况（{article}），反馈期间按年度评估方案执行，建议纳入工作台账。
-- ok_when: a share_feedback row for every feedback period the grant was active (approved before the
--     period's end, valid_until empty or ≥ period start), submitted ≤ T. The period is the scheme's
--     feedback_period (季度 by default, 半年 or 年): a feedback for any quarter inside it counts
-- grain: one row per approved grant active in at least one feedback period of the year that ended by
--     min(year end, as-of), charged to the applicant
with quarters as (
    select
        q,
        $year_start + to_months($feedback_months * (q - 1)) as q_start,
        $year_start + to_months($feedback_months * q) as q_end
    from range(1, 5) as t(q)
    where q * $feedback_months <= 12
),
active as (
    select
        g.application_id,
        g.applicant_code,
        strftime($year_start, '%Y') || case $feedback_months when 3 then 'Q' || q.q
                                                         when 6 then 'H' || q.q else '' end as period,
        q.q_end
    from share_applications as g
    join quarters as q
      on g.replied_at < q.q_end
     and (g.valid_until is null or g.valid_until >= cast(q.q_start as date))
    where g.decision in ('同意', '部分同意')
      and g.replied_at <= $as_of
      and q.q_end <= $cutoff
),
feedback as (
    -- a feedback is labelled with a quarter (YYYYQn): it covers the feedback period holding that quarter
    select distinct
        application_id,
        substr(period, 1, 4) || case $feedback_months
            when 3 then substr(period, 5, 2)
            when 6 then case when substr(period, 6, 1) in ('1', '2') then 'H1' else 'H2' end
            else '' end as period
    from share_feedback
    where submitted_at <= $as_of
),
judged as (
    select
        a.application_id,
        a.applicant_code,
        string_agg(case when f.application_id is null then a.period end, '、' order by a.period) as missing,
        max(a.q_end) as last_quarter_end
    from active as a
    left join feedback as f using (application_id, period)
    group by a.application_id, a.applicant_code
)
select
    applicant_code as agency_code,
    'share_applications' as record_table,
    application_id as record_id,
    case when missing is null then 'ok' else 'fail' end as status,
    case when missing is not null then '未反馈使用情况：' || missing end as reason,
    last_quarter_end as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from judged;

-- metric: objection_timeliness
-- name: 数据异议处理及时率
-- kind: rate
-- charged_to: 使用机构 objections: the provider; 数据主体 objections: received_by (else the provider)
-- deadline: objection
-- obligation: event
-- category: 数据异议处理
-- doc: 收到异议后在规定期限内处理或答复；数据主体异议须作出更正或确认
-- suggestion: 收到数据异议后 {deadline}内核实处理；数据主体提出的异议由受理机构完成校核并作出更正或确认（{article}）。
-- ok_when: 使用机构 (or unstated): resolved_at within the objection deadline of raised_at; 数据主体:
--     resolved_at with an outcome (更正 or 确认) within the objection_subject deadline (its own
--     paragraph; the objection deadline when the profile has no objection_subject with days) — a
--     resolution without an outcome is not done
-- grain: one row per objection raised in the year, charged to the provider (使用机构) or to the
--     agency that received it (数据主体)
with raised as (
    select
        o.objection_id,
        case when o.raised_by = '数据主体' then coalesce(o.received_by, o.provider_code) else o.provider_code end as agency_code,
        o.raised_by,
        o.raised_at,
        known(o.resolved_at, $as_of) as resolved_at,
        case when o.raised_by = '数据主体' and o.outcome is null then null
             else known(o.resolved_at, $as_of) end as done_at,
        wd_due_at(o.raised_at, case when o.raised_by = '数据主体' and s.days is not null then s.days else r.days end)
            as due_at,
        r.profile,
        case when o.raised_by = '数据主体' and s.days is not null then s.article else r.article end as article,
        case when o.raised_by = '数据主体' and s.days is not null then s.period else r.period end as period
    from objections as o
    join rule_deadlines as r
      on r.key = 'objection' and cast(o.raised_at as date) >= r.valid_from and cast(o.raised_at as date) < r.valid_to
    -- 第二十八条第二款 (数据主体): the same profile's own key, when it has one
    left join rule_deadlines as s
      on s.key = 'objection_subject' and s.profile = r.profile and s.valid_from = r.valid_from
    where o.raised_at >= $year_start and o.raised_at < $year_end and o.raised_at <= $as_of
)
select
    agency_code,
    'objections' as record_table,
    objection_id as record_id,
    item_status(done_at, due_at, $as_of) as status,
    deadline_reason(item_status(done_at, due_at, $as_of), done_at, raised_at,
                    case when resolved_at is not null then '数据主体异议已处理但未作出更正或确认'
                         when raised_by = '数据主体' then '数据主体异议逾期未完成校核'
                         else '数据异议逾期未处理' end,
                    '数据异议超过 ' || period || '才处理') as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from raised;

-- metric: objection_notification
-- name: 异议处理结果告知率
-- kind: rate
-- charged_to: received_by (else the provider)
-- deadline: objection_notify
-- deadline_days: optional
-- obligation: event
-- category: 异议结果告知
-- doc: 数据主体异议校核处理后将结果告知异议申请人
-- suggestion: 数据主体异议校核完成后，应将更正或确认结果及时告知异议申请人并留痕（{article}）。
-- ok_when: per 数据主体 objection raised in the year and resolved with an outcome by the as-of time:
--     notified_at at or after resolved_at and not after the as-of time; when the rule profile in force
--     on the resolution day (the trigger) gives objection_notify a number of working days, within that
--     deadline of resolved_at, else (the draft: "及时", no number) at any time before the as-of time;
--     not yet told is an open 督办 item without working days
-- grain: one row per resolved 数据主体 objection (with outcome) raised in the year, charged to the
--     agency that received it
with resolved as (
    select
        o.objection_id,
        coalesce(o.received_by, o.provider_code) as agency_code,
        o.raised_at,
        o.resolved_at,
        case when o.notified_at >= o.resolved_at then known(o.notified_at, $as_of) end as done_at,
        r.days,
        case when r.days is not null then wd_due_at(o.resolved_at, r.days) end as due_at,
        r.profile, r.article, r.period
    from objections as o
    join rule_deadlines as r
      on r.key = 'objection_notify' and cast(o.resolved_at as date) >= r.valid_from and cast(o.resolved_at as date) < r.valid_to
    where o.raised_by = '数据主体' and o.outcome is not null
      and o.resolved_at <= $as_of
      and o.raised_at >= $year_start and o.raised_at < $year_end and o.raised_at <= $as_of
),
judged as (
    select *,
           duty_status(done_at, due_at, days, $as_of) as status
    from resolved
)
select
    agency_code,
    'objections' as record_table,
    objection_id as record_id,
    status,
    case when status = 'uncovered' then cast(cast(resolved_at as date) as varchar)
         when status in ('late', 'fail') and done_at is null then '异议处理结果未告知申请人'
         when status = 'late' then '异议处理结果超过 ' || period || '才告知申请人' end as reason,
    due_at,
    done_at,
    null::double as num,
    null::double as den,
    profile as rule_profile,
    article
from judged;
