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
-- grain: one row (the authority's agency code; a placeholder when the register lacks it)
create or replace temp table stg_authority as
select coalesce(
    (select min(agency_code) from agencies where is_authority),
    '(主管部门)'
) as agency_code;

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
