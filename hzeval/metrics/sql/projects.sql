-- Projects family (the project data gate).

-- step: int_project_gates
-- grain: one row per fiscally funded project known at $as_of, with G2–G4 checked (第四十四条 "项目竣工
--     验收前…作为符合性审查条件", DESIGN §5b) at the acceptance request when the scheme's
--     $gate_checked_at is 'requested' (default) and the project has one by $as_of (at acceptance if
--     that came first), else at acceptance (if accepted by $as_of), else at $as_of; G4 lets 不予共享
--     with basis and filing pass when $gate_nonshare_filed_passes
create or replace temp table int_project_gates as
with projects_dated as (
    select
        *,
        case when accepted_at <= $as_of then accepted_at end as accepted_known,
        case when $gate_checked_at = 'requested' and acceptance_requested_at <= $as_of
             then acceptance_requested_at end as requested_known
    from projects
),
projects_known as (
    select
        project_id, project_name, owner_code, approved_at, data_list_submitted_at,
        accepted_known as accepted_at,
        case
            when requested_known is not null and (accepted_known is null or requested_known <= accepted_known)
                then requested_known
            when accepted_known is not null then accepted_known
            else $as_of
        end as checked_at,
        case
            when requested_known is not null and (accepted_known is null or requested_known <= accepted_known)
                then '申请验收'
            when accepted_known is not null then '验收'
        end as checked_on
    from projects_dated
    where coalesce(fiscal_funded, true)
      and coalesce(least(approved_at, data_list_submitted_at, acceptance_requested_at, accepted_at), $as_of) <= $as_of
),
snapshot_dates as (
    select distinct snapshot_date from catalog_snapshot
),
checked_snapshot as (
    select p.project_id, max(d.snapshot_date) as snapshot_date
    from projects_known as p
    left join snapshot_dates as d on d.snapshot_date <= cast(p.checked_at as date)
    group by p.project_id
),
resources as (
    select
        p.project_id,
        l.resource_code,
        coalesce(s.status = '已发布', false) as g2,
        coalesce(f.first_success_at <= p.checked_at, false) as g3,
        -- judged on the resource's catalogue entry; a resource missing from it already fails G2
        s.share_type is distinct from '不予共享'
            or ($gate_nonshare_filed_passes
                and nullif(trim(s.share_basis), '') is not null and coalesce(s.nonshare_filed, false)) as g4
    from projects_known as p
    join project_data_list as l using (project_id)
    join checked_snapshot as cs using (project_id)
    left join catalog_snapshot as s
      on s.snapshot_date = cs.snapshot_date and s.resource_code = l.resource_code
    left join stg_first_success as f on f.resource_code = l.resource_code
),
per_project as (
    select
        project_id,
        string_agg(case when not g2 then resource_code end, ',' order by resource_code) as g2_failed,
        string_agg(case when not g3 then resource_code end, ',' order by resource_code) as g3_failed,
        string_agg(case when not g4 then resource_code end, ',' order by resource_code) as g4_failed
    from resources
    group by project_id
),
judged as (
    select
        p.*,
        case
            when p.data_list_submitted_at is not null and p.data_list_submitted_at <= $as_of
                 and (p.approved_at is null or p.data_list_submitted_at <= p.approved_at) then true
            when p.approved_at is null or p.approved_at > $as_of then null
            else false
        end as g1,
        r.g2_failed, r.g3_failed, r.g4_failed
    from projects_known as p
    left join per_project as r using (project_id)
)
select
    project_id, project_name, owner_code, approved_at, accepted_at, checked_at, checked_on, g1,
    g2_failed, g3_failed, g4_failed,
    concat_ws(';',
        case when g1 = false then 'G1' end,
        case when g2_failed is not null then 'G2' end,
        case when g3_failed is not null then 'G3' end,
        case when g4_failed is not null then 'G4' end) as failed_conditions,
    concat_ws('; ',
        case when g2_failed is not null then 'G2 未编目: ' || g2_failed end,
        case when g3_failed is not null then 'G3 未汇聚: ' || g3_failed end,
        case when g4_failed is not null then 'G4 未共享: ' || g4_failed end) as failed_resources
from judged;

-- metric: project_gate
-- name: 项目数据门禁通过率
-- kind: rate
-- charged_to: owner
-- obligation: event
-- doc: 立项前提交数据清单；验收前（默认以申请验收时为准）编目、汇聚、共享
-- suggestion: 政务信息化项目立项时提交数据清单，验收前完成资源编目、汇聚和共享（{article}）。
-- ok_when: passes G1–G4 (see Project gate below), G2–G4 checked at the acceptance request (scheme
--     gate_checked_at: requested, default; accepted: at acceptance); approved in Y and not yet
--     accepted: fail if G1 failed, else pending
-- grain: one row per fiscal project accepted in the year (full gate) or approved in the year and
--     not yet accepted (only G1 decidable), charged to the owner
select
    owner_code as agency_code,
    'projects' as record_table,
    project_id as record_id,
    case
        when accepted_at is not null then case when failed_conditions = '' then 'ok' else 'fail' end
        when g1 = false then 'fail'
        else 'pending'
    end as status,
    case
        when accepted_at is not null and failed_conditions <> '' then
            '项目' || coalesce(checked_on, '验收') || '时未通过数据门禁：' || failed_conditions
            || case when failed_resources <> '' then '（' || failed_resources || '）' else '' end
        when accepted_at is null and g1 = false then '立项时未提交项目数据清单（G1）'
    end as reason,
    null::timestamp as due_at,
    accepted_at as done_at,
    null::double as num,
    null::double as den
from int_project_gates
where (accepted_at >= $year_start and accepted_at < $year_end)
   or (accepted_at is null and approved_at >= $year_start and approved_at < $year_end);
