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
