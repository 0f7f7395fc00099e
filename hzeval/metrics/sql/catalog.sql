-- Catalogue family (resource catalogue, share and open attributes, one source).
-- Every block yields one row per item: agency_code, record_table, record_id, status
-- ('ok' | 'late' | 'fail' | 'pending' | 'uncovered'), reason, due_at, done_at, num, den.

-- metric: catalog_completeness
-- name: 目录要素完整率
-- kind: rate
-- charged_to: provider
-- obligation: standing
-- doc: 已发布资源的必填要素（数据形式、共享内容、共享类型、共享条件、共享范围、开放属性、更新周期、采集/核准/提供部门）齐全
-- suggestion: 对照{article}补齐目录必填要素（数据形式、共享内容、共享类型、共享条件、共享范围、开放属性、更新周期、采集/核准/提供部门），并提交主管部门审定。
-- empty: 本机构年内无已发布资源：目录要素完整率按常设义务计 0 分；请编制并发布公共数据资源目录
-- ok_when: all of data_form, share_content, share_type, share_condition (only 有条件共享), share_scope,
--     open_type, update_frequency, collector_code, verifier_code, provider_code filled; an agency
--     with no published resource scores 0
-- grain: one row per resource published in the year's snapshot, charged to its provider
with checked as (
    select
        provider_code,
        resource_code,
        snapshot_date,
        concat_ws('、',
            case when nullif(trim(data_form), '') is null then '数据形式' end,
            case when nullif(trim(share_content), '') is null then '共享内容' end,
            case when share_type is null then '共享类型' end,
            case when share_type = '有条件共享' and nullif(trim(share_condition), '') is null then '共享条件' end,
            case when nullif(trim(share_scope), '') is null then '共享范围' end,
            case when open_type is null then '开放属性' end,
            case when update_frequency is null then '更新周期' end,
            case when nullif(trim(collector_code), '') is null then '采集部门' end,
            case when nullif(trim(verifier_code), '') is null then '核准部门' end,
            case when nullif(trim(provider_code), '') is null then '提供部门' end
        ) as missing
    from stg_published
)
select
    provider_code as agency_code,
    'catalog_snapshot' as record_table,
    resource_code as record_id,
    case when missing = '' then 'ok' else 'fail' end as status,
    case when missing <> '' then '目录缺少必填要素：' || missing || '（快照 ' || snapshot_date || '）' end as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from checked;

-- metric: catalog_share_basis
-- name: 共享依据完备率
-- kind: rate
-- charged_to: provider
-- obligation: event
-- doc: 有条件共享明确依据和条件；不予共享提供依据并备案
-- suggestion: 对有条件共享资源明确共享条件和依据；对不予共享资源提供法律、法规、规章依据并向主管部门备案（{article}）。
-- ok_when: 有条件: share_condition and share_basis; 不予: share_basis and nonshare_filed
-- grain: one row per published 有条件共享 or 不予共享 resource, charged to its provider
select
    provider_code as agency_code,
    'catalog_snapshot' as record_table,
    resource_code as record_id,
    case
        when share_type = '有条件共享'
             and nullif(trim(share_condition), '') is not null
             and nullif(trim(share_basis), '') is not null then 'ok'
        when share_type = '不予共享'
             and nullif(trim(share_basis), '') is not null
             and coalesce(nonshare_filed, false) then 'ok'
        else 'fail'
    end as status,
    case
        when share_type = '有条件共享' then '有条件共享未明确' || concat_ws('和',
            case when nullif(trim(share_condition), '') is null then '共享条件' end,
            case when nullif(trim(share_basis), '') is null then '依据' end)
        else '不予共享' || concat_ws('且',
            case when nullif(trim(share_basis), '') is null then '未提供依据' end,
            case when not coalesce(nonshare_filed, false) then '未报主管部门备案' end)
    end as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from stg_published
where share_type in ('有条件共享', '不予共享');

-- metric: catalog_open_basis
-- name: 开放依据完备率
-- kind: rate
-- charged_to: provider
-- obligation: event
-- doc: 有条件开放、不予开放资源提供依据
-- suggestion: 对有条件开放、不予开放资源补充开放依据并报主管部门（{article}）。
-- ok_when: open_basis filled
-- grain: one row per published 有条件开放 or 不予开放 resource, charged to its provider
select
    provider_code as agency_code,
    'catalog_snapshot' as record_table,
    resource_code as record_id,
    case when nullif(trim(open_basis), '') is not null then 'ok' else 'fail' end as status,
    open_type || '未向主管部门提供依据' as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from stg_published
where open_type in ('有条件开放', '不予开放');

-- metric: catalog_update_timeliness
-- name: 目录更新及时率
-- kind: rate
-- charged_to: agency
-- deadline: catalog_update
-- obligation: event
-- category: 目录更新
-- doc: 依据变化后在规定期限内提交目录更新（变化涉及的每个资源各计一项）
-- suggestion: 建立依据变化登记与目录更新联动机制，依据变化后 {deadline}内提交目录更新（{article}）。
-- ok_when: per basis change and each resource it lists: the first submission event (编制/变更/下架提交)
--     with that change_id for that resource within the catalog_update deadline of effective_date; a
--     change listing no resource needs one submission with its change_id
-- grain: one row per (basis change effective in the year, resource it lists), charged to the
--     registering agency; a change listing no resource is one row
with listed as (
    -- one row per listed code (the unnest at the top of its select, as Spark's explode needs)
    select change_id, agency_code, effective_date,
           unnest(string_split(coalesce(resource_codes, ''), ';')) as listed_code
    from basis_changes
    where effective_date >= cast($year_start as date)
      and effective_date < cast($year_end as date)
      and effective_date <= cast($as_of as date)
),
changes as (
    select l.change_id, l.agency_code, l.effective_date,
           nullif(trim(l.listed_code), '') as resource_code,
           wd_due_at(l.effective_date, r.days) as due_at,
           r.profile, r.article, r.period
    from listed as l
    join rule_deadlines as r
      on r.key = 'catalog_update' and l.effective_date >= r.valid_from and l.effective_date < r.valid_to
),
named as (
    select *, count(resource_code) over (partition by change_id) as n_named
    from changes
),
items as (
    -- a list like 'R1;;R2' or 'R1;R1' names R1 and R2 once each; a change naming none is one item
    select distinct change_id, agency_code, effective_date, resource_code, due_at, profile, article, period
    from named
    where resource_code is not null or n_named = 0
),
submissions as (
    select change_id, resource_code, event_time
    from catalog_events
    where change_id is not null
      and event_type in ('编制提交', '变更提交', '下架提交')
      and event_time <= $as_of
),
first_submission as (
    select i.change_id, i.resource_code, min(s.event_time) as done_at
    from items as i
    join submissions as s
      on s.change_id = i.change_id and (i.resource_code is null or s.resource_code = i.resource_code)
    group by i.change_id, i.resource_code
)
select
    i.agency_code,
    'basis_changes' as record_table,
    i.change_id || coalesce('/' || i.resource_code, '') as record_id,
    item_status(s.done_at, i.due_at, $as_of) as status,
    deadline_reason(item_status(s.done_at, i.due_at, $as_of), s.done_at, i.effective_date,
                    '依据变化后逾期未更新目录' || coalesce('（资源 ' || i.resource_code || '）', ''),
                    '依据变化后超过 ' || i.period || '才提交目录更新' || coalesce('（资源 ' || i.resource_code || '）', '')) as reason,
    i.due_at,
    s.done_at,
    null::double as num,
    null::double as den,
    i.profile as rule_profile,
    i.article
from items as i
left join first_submission as s
  on s.change_id = i.change_id and s.resource_code is not distinct from i.resource_code;

-- metric: catalog_review_timeliness
-- name: 目录审定及时率
-- kind: rate
-- charged_to: the 本级 authority
-- deadline: catalog_review
-- obligation: event
-- category: 目录审定
-- doc: 本级主管部门在规定期限内审定目录更新提交
-- suggestion: 主管部门应在 {deadline}内完成目录更新的审定，建议设置审定时限提醒（{article}）。
-- ok_when: update submissions only (变更提交, 下架提交; the scheme's catalog_review_events may widen
--     this): the first 审定通过/审定驳回 of the same resource after the submission, within the
--     catalog_review deadline; charged to the submitting agency's 本级 authority
-- grain: one row per update submission in the year, charged to the submitting agency's 本级 authority
--     (the 县区 authority of its region, else the 市级 one)
with submissions as (
    select e.event_id, e.resource_code, e.event_time,
           coalesce(aa.authority_code, (select agency_code from stg_authority)) as authority_code,
           wd_due_at(e.event_time, r.days) as due_at,
           r.profile, r.article, r.period
    from catalog_events as e
    left join stg_agency_authority as aa using (agency_code)
    join rule_deadlines as r
      on r.key = 'catalog_review' and cast(e.event_time as date) >= r.valid_from and cast(e.event_time as date) < r.valid_to
    where list_contains($review_events, e.event_type)
      and e.event_time >= $year_start and e.event_time < $year_end and e.event_time <= $as_of
),
reviews as (
    select resource_code, event_time
    from catalog_events
    where event_type in ('审定通过', '审定驳回') and event_time <= $as_of
),
first_review as (
    select s.event_id, min(r.event_time) as done_at
    from submissions as s
    join reviews as r on r.resource_code = s.resource_code and r.event_time >= s.event_time
    group by s.event_id
)
select
    s.authority_code as agency_code,
    'catalog_events' as record_table,
    s.event_id as record_id,
    item_status(f.done_at, s.due_at, $as_of) as status,
    deadline_reason(item_status(f.done_at, s.due_at, $as_of), f.done_at, s.event_time,
                    '资源 ' || s.resource_code || ' 的目录更新提交逾期未审定',
                    '资源 ' || s.resource_code || ' 的目录更新提交超过 ' || s.period || '才审定') as reason,
    s.due_at,
    f.done_at,
    null::double as num,
    null::double as den,
    s.profile as rule_profile,
    s.article
from submissions as s
left join first_review as f using (event_id);

-- metric: collection_list_coverage
-- name: 采集清单编目覆盖率
-- kind: rate
-- charged_to: agency
-- obligation: event
-- doc: 采集清单所列数据项已由本机构已发布资源编目（全市已报送采集清单的，未报送的机构本项为 0）
-- suggestion: 对照本机构采集清单（{article}），将清单所列数据项编入本机构公共数据资源目录并发布。
-- ok_when: a collection-list item (listed_at on or before year end, or undated) is catalogued by a
--     resource the agency provides, published in the year's snapshot: by item_code in the snapshot's
--     catalog_items when given, else by resource_code, else by item_name. Compiling the list is every
--     agency's standing duty: once any agency's list is loaded for the year, an agency (not the authority)
--     without one is one failed item "未报送采集清单" (scores 0); with no list in the city the
--     indicator is excluded
-- grain: one row per item on an agency's collection list, charged to that agency; one row per agency
--     without a list when the city has loaded any
with listed as (
    select agency_code, item_name, item_code, resource_code, listed_at
    from collection_list
    where coalesce(listed_at, date '1900-01-01') < cast($year_end as date)
      and coalesce(listed_at, date '1900-01-01') <= cast($as_of as date)
),
held as (
    -- the items each agency's published resources catalogue in the year's snapshot
    select p.provider_code, p.resource_code, i.item_code, i.item_name
    from stg_published as p
    left join stg_items as i using (resource_code)
),
by_code as (select distinct provider_code, item_code from held where item_code is not null),
by_resource as (select distinct provider_code, resource_code from held),
by_name as (select distinct provider_code, item_name from held where item_name is not null),
matched as (
    select
        l.agency_code, l.item_name, l.item_code, l.resource_code,
        case
            when l.item_code is not null then c.item_code is not null
            when l.resource_code is not null then r.resource_code is not null
            else n.item_name is not null
        end as covered
    from listed as l
    left join by_code as c on c.provider_code = l.agency_code and c.item_code = l.item_code
    left join by_resource as r on r.provider_code = l.agency_code and r.resource_code = l.resource_code
    left join by_name as n on n.provider_code = l.agency_code and n.item_name = l.item_name
)
select
    agency_code,
    'collection_list' as record_table,
    agency_code || '/' || item_name as record_id,
    case when covered then 'ok' else 'fail' end as status,
    case when not covered then '采集清单数据项“' || item_name || '”' ||
        case when item_code is not null then '（' || item_code || '）'
             when resource_code is not null then '（资源 ' || resource_code || '）' else '' end
        || '未由本机构已发布资源编目' end as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from matched
union all
-- 第十五条 "应当根据本机构的职责分工编制公共数据采集清单": a standing duty once the city has lists at all
select
    g.agency_code,
    'collection_list' as record_table,
    g.agency_code || '/(未报送采集清单)' as record_id,
    'fail' as status,
    '未报送采集清单' as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from stg_graded_agencies as g
where exists (select 1 from listed)
  and g.agency_code not in (select agency_code from listed where agency_code is not null);

-- metric: one_source_conflicts
-- name: 一数多源冲突数
-- kind: count
-- charged_to: the agencies involved whose collection list does not list the item (all of them when no
--     list settles it)
-- obligation: event
-- doc: 同一数据元被多个部门标为数源（采集清单列明该数据元的部门为数源，其余部门计；无清单可定的，各相关部门均计）
-- suggestion: 会同相关部门核定数据元的唯一数源部门，撤销重复的数源标识（{article}）。
-- ok_when: count: item_code marked is_authoritative on published resources of more than one provider
--     in the snapshot. When exactly one of them lists the item on its collection list (listed on or
--     before year end, or undated; by item_code, else by resource_code: the whole table, else by
--     item_name), the list settles the source: the others are charged, one each; otherwise every
--     agency involved is charged
-- grain: one row per (charged agency, item_code) where the item is authoritative for more than one
--     provider
with marked as (
    select distinct i.item_code, p.provider_code
    from stg_items as i
    join stg_published as p using (resource_code)
    where i.is_authoritative
),
conflicts as (
    select item_code, string_agg(provider_code, '、' order by provider_code) as providers
    from marked
    group by item_code
    having count(*) > 1
),
list_rows as (
    select agency_code, item_code, resource_code, item_name
    from collection_list
    where coalesce(listed_at, date '1900-01-01') < cast($year_end as date)
      and coalesce(listed_at, date '1900-01-01') <= cast($as_of as date)
),
listed as (
    -- what a list row names, as collection_list_coverage matches it: its item_code; else every item of
    -- its resource (a whole table, 整表); else the items of that name
    select agency_code, item_code from list_rows where item_code is not null
    union
    select l.agency_code, i.item_code
    from list_rows as l
    join stg_items as i on i.resource_code = l.resource_code
    where l.item_code is null and l.resource_code is not null
    union
    select l.agency_code, i.item_code
    from list_rows as l
    join stg_items as i on i.item_name = l.item_name
    where l.item_code is null and l.resource_code is null
),
involved as (
    select m.item_code, m.provider_code, c.providers, l.agency_code is not null as on_list
    from marked as m
    join conflicts as c using (item_code)
    left join listed as l on l.agency_code = m.provider_code and l.item_code = m.item_code
),
settled as (
    -- the list settles the source when exactly one agency involved lists the item
    select item_code, min(case when on_list then provider_code end) as source_code
    from involved
    group by item_code
    having sum(case when on_list then 1 else 0 end) = 1
)
select
    v.provider_code as agency_code,
    'catalog_items' as record_table,
    v.item_code as record_id,
    'fail' as status,
    '数据元 ' || v.item_code || ' 被多个部门标为数源：' || v.providers ||
        case when s.source_code is not null then '（采集清单列明数源为 ' || s.source_code || '）'
             else '（采集清单未能确定唯一数源）' end as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from involved as v
left join settled as s using (item_code)
where s.source_code is null or v.provider_code <> s.source_code;

-- metric: duplicate_collection
-- name: 重复采集数
-- kind: count
-- charged_to: agency
-- obligation: event
-- doc: 采集清单所列数据项已由其他部门作为数源提供（可通过共享获取），不得重复采集
-- suggestion: 可通过“一网共享”平台共享或核验获取的数据不再重复采集，将其移出本机构采集清单并改为申请共享（{article}）。
-- ok_when: count: an item_code on agency A's collection list (listed on or before year end, or
--     undated) that another agency B marks authoritative on a resource B provides, published in the
--     year's snapshot, while A does not mark it authoritative itself: one per (A, item_code)
-- grain: one row per (agency, item_code) collected by the agency while another agency is its source
with listed as (
    select distinct agency_code, item_code
    from collection_list
    where item_code is not null
      and coalesce(listed_at, date '1900-01-01') < cast($year_end as date)
      and coalesce(listed_at, date '1900-01-01') <= cast($as_of as date)
),
sources as (
    select distinct i.item_code, p.provider_code
    from stg_items as i
    join stg_published as p using (resource_code)
    where i.is_authoritative
),
duplicates as (
    select l.agency_code, l.item_code, string_agg(s.provider_code, '、' order by s.provider_code) as sources
    from listed as l
    join sources as s on s.item_code = l.item_code and s.provider_code <> l.agency_code
    where not exists (
        select 1 from sources as own where own.item_code = l.item_code and own.provider_code = l.agency_code
    )
    group by l.agency_code, l.item_code
)
select
    agency_code,
    'collection_list' as record_table,
    agency_code || '/' || item_code as record_id,
    'fail' as status,
    '采集清单数据项 ' || item_code || ' 已由 ' || sources || ' 作为数源提供，可通过共享获取，不应重复采集' as reason,
    null::timestamp as due_at,
    null::timestamp as done_at,
    null::double as num,
    null::double as den
from duplicates;
