-- Staging and intermediate relations shared by the metric families.
-- Bound parameters: $year_start, $year_end (exclusive), $as_of, $cutoff = least($year_end, $as_of),
-- $snapshot_limit (date: min(year end, as-of day)).

-- step: stg_snapshot
-- grain: one row per resource in the latest catalogue snapshot on or before $snapshot_limit
create or replace temp table stg_snapshot as
with pick as (
    select max(snapshot_date) as snapshot_date
    from catalog_snapshot
    where snapshot_date <= $snapshot_limit
)
select s.*
from catalog_snapshot as s
join pick using (snapshot_date);

-- step: stg_published
-- grain: one row per resource published (已发布) in that snapshot
create or replace temp table stg_published as
select * from stg_snapshot where status = '已发布';

-- step: stg_items
-- grain: one row per information item of the latest catalog_items snapshot on or before $snapshot_limit
create or replace temp table stg_items as
with pick as (
    select max(snapshot_date) as snapshot_date
    from catalog_items
    where snapshot_date <= $snapshot_limit
)
select i.*
from catalog_items as i
join pick using (snapshot_date);

-- step: stg_authority
-- grain: one row (the 市级 authority's agency code — an authority of no stated level if the register
--     has no 市级 one; a placeholder when the register lacks any)
create or replace temp table stg_authority as
select coalesce(
    (select min(agency_code) from agencies where is_authority and level = '市级'),
    (select min(agency_code) from agencies where is_authority and level is null),
    '(主管部门)'
) as agency_code;

-- step: stg_agency_authority
-- grain: one row per registered agency: its 本级 authority (DESIGN §3) — for a 县区 agency the 县区
--     authority of its region, else (市级 agencies, and regions without one) the 市级 authority
create or replace temp table stg_agency_authority as
with county as (
    select region, min(agency_code) as authority_code
    from agencies
    where is_authority and level = '县区' and region is not null
    group by region
)
select
    a.agency_code,
    coalesce(case when a.level = '县区' then c.authority_code end, (select agency_code from stg_authority)) as authority_code,
    a.level = '县区' and c.authority_code is null as falls_back
from agencies as a
left join county as c on c.region = a.region;

-- step: stg_measured_agencies
-- grain: one row per registered agency, the authorities included: the standing duties every 公共管理和服务
--     机构 owes (security_practice 第四十一条, open_plan_filed 第三十六条) are measured for the authority
--     too; whether it is graded is the scheme's `graded` (DESIGN §5b)
create or replace temp table stg_measured_agencies as
select agency_code, agency_name, level
from agencies;

-- step: stg_graded_agencies
-- grain: one row per registered agency other than the authority
create or replace temp table stg_graded_agencies as
select agency_code, agency_name, level
from agencies
where not coalesce(is_authority, false);

-- step: stg_first_success
-- grain: one row per resource: the first time it was aggregated successfully
create or replace temp table stg_first_success as
select resource_code, min(coalesce(finished_at, started_at)) as first_success_at
from aggregation_log
where status = '成功'
group by resource_code;

-- step: stg_share_app_type
-- grain: one row per share application: the share type it was made under (DESIGN §5b) -- its own
--     share_type, else its resource's in the snapshot in force at submission (the latest snapshot
--     holding the resource on or before the submission day; with none, the earliest after it, up to
--     $snapshot_limit); never the year-end snapshot
create or replace temp table stg_share_app_type as
with cand as (
    select a.application_id, s.share_type, s.snapshot_date,
           s.snapshot_date <= cast(a.submitted_at as date) as in_force
    from share_applications as a
    join catalog_snapshot as s on s.resource_code = a.resource_code
    where a.share_type is null and s.snapshot_date <= $snapshot_limit
),
ranked as (
    select application_id, share_type,
           row_number() over (
               partition by application_id
               order by in_force desc,
                        case when in_force then snapshot_date else date '9999-12-31' end desc,
                        snapshot_date
           ) as rn
    from cand
)
select a.application_id, coalesce(a.share_type, r.share_type) as share_type
from share_applications as a
left join ranked as r on r.application_id = a.application_id and r.rn = 1;

-- step: stg_open_app_type
-- grain: one row per open application: its resource's open type in the snapshot in force at
--     submission (as stg_share_app_type: latest on or before the submission day, else the earliest
--     after it, up to $snapshot_limit)
create or replace temp table stg_open_app_type as
with cand as (
    select o.open_app_id, s.open_type, s.snapshot_date,
           s.snapshot_date <= cast(o.submitted_at as date) as in_force
    from open_applications as o
    join catalog_snapshot as s on s.resource_code = o.resource_code
    where s.snapshot_date <= $snapshot_limit
),
ranked as (
    select open_app_id, open_type,
           row_number() over (
               partition by open_app_id
               order by in_force desc,
                        case when in_force then snapshot_date else date '9999-12-31' end desc,
                        snapshot_date
           ) as rn
    from cand
)
select o.open_app_id, r.open_type
from open_applications as o
left join ranked as r on r.open_app_id = o.open_app_id and r.rn = 1;
