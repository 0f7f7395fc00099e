-- Aggregation family (collection and updating of catalogued data).
-- Every block yields: agency_code, record_table, record_id, status, reason, due_at, done_at, num, den.

-- step: int_aggregation_exempt
-- grain: one row per resource published in the year's snapshot whose provider filed it with the authority as
--     not aggregable by interface, 前置机 or file upload (第十八条第二款, aggregation_exemptions) on or before
--     $snapshot_limit (the year's last day and the as-of day): the earliest such filing
create or replace temp table int_aggregation_exempt as
select p.provider_code, p.resource_code, min(x.filed_at) as filed_at
from stg_published as p
join aggregation_exemptions as x on x.resource_code = p.resource_code and x.agency_code = p.provider_code
where x.filed_at <= $snapshot_limit
group by p.provider_code, p.resource_code;

-- metric: aggregation_coverage
-- name: 数据汇聚覆盖率
-- kind: rate
-- charged_to: provider
-- obligation: standing
-- doc: 已发布资源年内至少一次成功汇聚
-- suggestion: 对已发布但年内未成功汇聚的资源完成接口对接或前置机推送，确保按目录全量汇聚（{article}）。
-- empty: 本机构年内无已发布资源：数据汇聚覆盖率按常设义务计 0 分；请编制并发布公共数据资源目录，并按目录完成数据汇聚
-- ok_when: ≥1 成功 job whose finished_at (else started_at) falls in Y and ≤ T; an agency with no
--     published resource scores 0. A resource its provider filed as not aggregable (汇聚备案,
--     int_aggregation_exempt) is in no rate: its row (status exempt) says 已备案，免于平台汇聚
-- grain: one row per resource published in the year's snapshot, charged to its provider
with aggregated as (
    select resource_code, max(coalesce(finished_at, started_at)) as last_success_at
    from aggregation_log
    where status = '成功'
      and coalesce(finished_at, started_at) >= $year_start
      and coalesce(finished_at, started_at) < $year_end
      and coalesce(finished_at, started_at) <= $as_of
    group by resource_code
)
select
    p.provider_code as agency_code,
    case when x.resource_code is not null then 'aggregation_exemptions' else 'catalog_snapshot' end as record_table,
    p.resource_code as record_id,
    case when x.resource_code is not null then 'exempt' when a.resource_code is not null then 'ok' else 'fail' end
        as status,
    case when x.resource_code is not null
             then '已备案，免于平台汇聚（备案日期 ' || cast(x.filed_at as varchar) || '）'
         when a.resource_code is null then '已发布资源年内无成功汇聚' end as reason,
    null::timestamp as due_at,
    case when x.resource_code is not null then cast(x.filed_at as timestamp) else a.last_success_at end as done_at,
    null::double as num,
    null::double as den
from stg_published as p
left join aggregated as a using (resource_code)
left join int_aggregation_exempt as x using (resource_code);

-- metric: update_timeliness
-- name: 数据更新及时率
-- kind: rate
-- charged_to: provider
-- obligation: event
-- doc: 按目录更新周期，每个已结束周期内有成功汇聚
-- suggestion: 按目录声明的更新周期按时汇聚更新数据，排查失败任务并建立监控告警（{article}）。
-- ok_when: a 成功 job with finished_at inside the period (每周 = ISO Mon–Sun; periods from the one
--     holding max(published_date, Y-01-01) to the last ended by min(Y end, T)); only resources the
--     agency shares (无条件共享 or 有条件共享), 不予共享 ones are not measured; a resource filed as not
--     aggregable (汇聚备案, int_aggregation_exempt) has no period, only one row (status exempt)
--     saying 已备案，免于平台汇聚
-- grain: one row per (published 无条件共享/有条件共享 resource, update period) that ended by min(year
--     end, as-of); 实时 is counted as the scheme's realtime_as (default 每日), 不定期 and empty
--     frequencies are not measured; one row per such resource filed as not aggregable
with measured as (
    select
        provider_code,
        resource_code,
        case update_frequency when '实时' then $realtime_as else update_frequency end as freq,
        greatest(coalesce(cast(published_date as timestamp), $year_start), $year_start) as anchor
    from stg_published
    where update_frequency in ('实时', '每日', '每周', '每月', '每季度', '每半年', '每年')
      and share_type in ('无条件共享', '有条件共享')
),
resources as (
    select * from measured where resource_code not in (select resource_code from int_aggregation_exempt)
),
periods as (
    select
        provider_code,
        resource_code,
        freq,
        unnest(generate_series(
            period_start(freq, anchor),
            $cutoff - period_step(freq),
            period_step(freq)
        )) as period_start
    from resources
    where anchor < $cutoff
),
successes as (
    select distinct
        l.resource_code,
        period_start(r.freq, coalesce(l.finished_at, l.started_at)) as period_start
    from aggregation_log as l
    join resources as r using (resource_code)
    where l.status = '成功'
      and coalesce(l.finished_at, l.started_at) <= $cutoff
)
select
    p.provider_code as agency_code,
    'catalog_snapshot' as record_table,
    p.resource_code || ' ' || period_label(p.freq, p.period_start) as record_id,
    case when s.resource_code is not null then 'ok' else 'fail' end as status,
    case when s.resource_code is null
         then period_label(p.freq, p.period_start) || '（' || p.freq || '）期间无成功汇聚' end as reason,
    p.period_start + period_step(p.freq) as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from periods as p
left join successes as s using (resource_code, period_start)
union all
select
    m.provider_code as agency_code,
    'aggregation_exemptions' as record_table,
    m.resource_code as record_id,
    'exempt' as status,
    '已备案，免于平台汇聚（备案日期 ' || cast(x.filed_at as varchar) || '）' as reason,
    null::timestamp as due_at,
    cast(x.filed_at as timestamp) as done_at,
    null::double as num,
    null::double as den
from measured as m
join int_aggregation_exempt as x using (resource_code)
where m.anchor < $cutoff;

-- metric: aggregation_quality
-- name: 汇聚数据质量
-- kind: rate
-- charged_to: provider
-- obligation: event
-- doc: 1 − 拒收行数 / 接收行数
-- suggestion: 在源头开展数据质量校验，整改被拒收数据，降低拒收率（{article}）。
-- ok_when: numerator = Σ(received − rejected), denominator = Σ received; evidence = jobs with
--     rejects
-- grain: one row per aggregation job started in the year that received rows, charged to the pushing
--     agency
select
    agency_code,
    'aggregation_log' as record_table,
    job_id as record_id,
    case when coalesce(rows_rejected, 0) > 0 then 'fail' else 'ok' end as status,
    case when coalesce(rows_rejected, 0) > 0
         then '资源 ' || resource_code || ' 拒收 ' || rows_rejected || ' / ' || rows_received || ' 行' end as reason,
    null::timestamp as due_at,
    finished_at as done_at,
    cast(rows_received - least(coalesce(rows_rejected, 0), rows_received) as double) as num,
    cast(rows_received as double) as den
from aggregation_log
where started_at >= $year_start and started_at < $year_end and started_at <= $as_of
  and rows_received > 0;
