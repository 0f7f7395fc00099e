"""Unresolved references and 县区 authority gaps, as data (DESIGN §3 "listed by validation"), and the load
summary's labels; :mod:`hzeval.cli.console` shows them."""

from __future__ import annotations

from hzeval.contract import TABLES

#: where each kind of reference must resolve: (table, column)
REF_TARGETS = {"agency": ("agencies", "agency_code"), "resource": ("catalog_snapshot", "resource_code")}

STATUS_TEXT = {"loaded": "已加载 loaded", "unchanged": "相同内容已跳过 unchanged"}
FORMAT_TEXT = {"csv": "CSV", "xlsx": "XLSX", "parquet": "Parquet", "jsonl": "JSONL"}


def ref_columns(present=None):
    """(table, column, target table, target key) of every referencing column (agency or resource
    code) of the contract's tables (those in ``present`` when given)."""
    for t in TABLES.values():
        if present is not None and t.name not in present:
            continue
        for c in t.columns:
            if c.ref:
                target, key = REF_TARGETS[c.ref]
                yield t.name, c.name, target, key


def unresolved_sql(present=None, order: bool = True) -> str | None:
    """Each referencing value that does not resolve, with its rows (table_name, column_name, value,
    rows); None when no table of ``present`` references anything. Names come from the contract."""
    parts = [
        f"select '{t}' as table_name, '{c}' as column_name, x.{c} as value, count(*) as rows "
        f"from {t} x anti join (select distinct {key} as k from {target}) r on x.{c} = r.k "
        f"where x.{c} is not null group by x.{c}"
        for t, c, target, key in ref_columns(present)
    ]
    if not parts:
        return None
    return " union all ".join(parts) + (" order by table_name, column_name, rows desc, value" if order else "")


def unresolved_count(con) -> int:
    """``len(unresolved_references(con))`` without sorting or fetching the values (what ``load``
    reports after every call)."""
    return int(con.execute(f"select count(*) from ({unresolved_sql(order=False)})").fetchall()[0][0] or 0)


def unresolved_references(con) -> list[dict]:
    """Every referencing value (agency or resource code) that does not resolve.

    Agency codes must exist in ``agencies.agency_code``; resource codes in
    ``catalog_snapshot.resource_code`` of any snapshot. Rows stay in the warehouse.
    """
    cur = con.execute(unresolved_sql())
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return [
        {("table" if n == "table_name" else "column" if n == "column_name" else n): v for n, v in zip(names, r)}
        for r in rows
    ]


def authority_gaps(con) -> list[dict]:
    """县区 regions without a 县区 authority of their own (DESIGN §3 本级): their agencies' catalogue
    reviews are charged to the 市级 authority. One row per region (None = 县区 agencies without a
    region) with its number of agencies and the authority they fall back to."""
    cur = con.execute(
        """
        with county as (
            select distinct region from agencies where is_authority and level = '县区' and region is not null
        ),
        city as (
            select coalesce(min(agency_code) filter (where level = '市级'), min(agency_code)) as code
            from agencies where is_authority
        )
        select a.region, count(*) as agencies, (select code from city) as authority
        from agencies as a
        where a.level = '县区' and not coalesce(a.is_authority, false)
          and (a.region is null or a.region not in (select region from county))
        group by a.region
        order by a.region nulls last
        """
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def rejected_rows(con, load_ids: tuple[int, ...] = (), limit: int | None = None) -> tuple[list[dict], int]:
    """The rows a load refused (``rejects``: file, line, column, value, reason) and how many there are.

    ``load_ids`` chooses the loads; none means each file's latest load (a file loaded again after a
    fix shows what its new load refused, not the old one's rows). Rows come in load, file and line order; at most
    ``limit`` of them (the count is of all).
    """
    if load_ids:
        where, args = f"r.load_id in ({', '.join('?' for _ in load_ids)})", [int(i) for i in load_ids]
    else:
        where, args = "r.load_id in (select max(load_id) from loads group by file)", []
    total = int(con.execute(f"select count(*) from rejects r where {where}", args).fetchall()[0][0])
    cur = con.execute(
        f"select r.load_id, r.file, r.table_name, r.line, r.column_name, r.value, r.reason from rejects r "
        f"where {where} order by r.load_id, r.file, r.line, r.column_name" + (" limit ?" if limit is not None else ""),
        args + ([int(limit)] if limit is not None else []),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()], total
