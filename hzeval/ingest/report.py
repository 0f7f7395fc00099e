"""Load summary and unresolved-reference listing (DESIGN §3 "listed by validation")."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

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
    parts = [f"select '{t}' as table_name, '{c}' as column_name, x.{c} as value, count(*) as rows "
             f"from {t} x anti join (select distinct {key} as k from {target}) r on x.{c} = r.k "
             f"where x.{c} is not null group by x.{c}" for t, c, target, key in ref_columns(present)]
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
    return [{("table" if n == "table_name" else "column" if n == "column_name" else n): v for n, v in zip(names, r)} for r in rows]


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


def print_authority_gaps(rows: list[dict], console: Console) -> None:
    if not rows:
        return
    t = RichTable(title="没有本级主管部门的县区 / 县区 regions without their own authority")
    for h in ("所属区域\nregion", "机构数\nagencies", "由市级主管部门审定\nreviewed by"):
        t.add_column(h, overflow="fold")
    for r in rows:
        t.add_row(r["region"] or "（未填所属区域）", str(r["agencies"]), r["authority"] or "（未登记主管部门）")
    console.print(t)
    console.print(
        f"{len(rows)} 个县区没有登记本级主管部门，其机构的目录审定计入市级主管部门 / "
        f"{len(rows)} regions have no 县区 authority: their agencies' reviews are charged to the 市级 authority"
    )


def print_unresolved(rows: list[dict], console: Console, limit: int | None = 200) -> None:
    if not rows:
        console.print("所有机构代码和资源代码均可对应 / all references resolve")
        return
    shown = rows if limit is None else rows[:limit]
    t = RichTable(title="无法对应的引用 / unresolved references")
    for h in ("表\ntable", "列\ncolumn", "值\nvalue", "行数\nrows"):
        t.add_column(h, justify="right" if h.startswith("行数") else "left", overflow="fold")
    for r in shown:
        t.add_row(r["table"], r["column"], str(r["value"]), f"{r['rows']:,}")
    console.print(t)
    total_rows = sum(r["rows"] for r in rows)
    more = f"（仅显示前 {len(shown)} 项 / first {len(shown)} shown）" if len(shown) < len(rows) else ""
    console.print(
        f"共 {len(rows)} 个代码、{total_rows:,} 行无法对应{more}；数据已保留，待机构名录或目录到位后会自动对应 / "
        f"{len(rows)} unresolved codes in {total_rows:,} rows; rows are kept and resolve once the register or catalogue arrives"
    )


def print_summary(result, console: Console) -> None:
    """The per-file table, totals, rejects hint and unresolved count of a load."""
    t = RichTable(title="加载结果 / load summary")
    t.add_column("文件\nfile", overflow="fold")
    t.add_column("表\ntable", overflow="fold")
    t.add_column("格式/编码\nformat", overflow="fold")
    for h in ("加载\nloaded", "拒收\nrejected", "替换\nreplaced"):
        t.add_column(h, justify="right", no_wrap=True)
    t.add_column("状态\nstatus", overflow="fold")
    for f in result.files:
        fmt = FORMAT_TEXT.get(f.file_format, f.file_format)
        if f.encoding:
            fmt += f" / {f.encoding}"
        t.add_row(f.file, f.table, fmt, f"{f.rows_loaded:,}", f"{f.rows_rejected:,}", f"{f.rows_replaced:,}",
                  STATUS_TEXT.get(f.status, f.status))
    console.print(t)
    n_loaded = sum(1 for f in result.files if f.status == "loaded")
    console.print(
        f"合计 / total：{len(result.files)} 个文件（{n_loaded} 个已加载），加载 {result.rows_loaded:,} 行，"
        f"拒收 {result.rows_rejected:,} 行，替换 {result.rows_replaced:,} 行 / "
        f"{len(result.files)} files ({n_loaded} loaded), {result.rows_loaded:,} rows loaded, "
        f"{result.rows_rejected:,} rejected, {result.rows_replaced:,} replaced"
    )
    for f in result.files:
        for w in f.warnings:
            console.print(f"[yellow]提示 / warning[/yellow] {f.file}: {w}", markup=True, highlight=False)
    for s in result.skipped:
        console.print(f"[yellow]提示 / warning[/yellow] 跳过不支持的文件 / skipped unsupported file: {s}")
    if result.rows_rejected:
        ids = ", ".join(str(i) for i in result.load_ids)
        console.print(
            f"有 {result.rows_rejected:,} 行被拒收，原因见 rejects 表 / {result.rows_rejected:,} rows rejected, see table rejects: "
            f"select * from rejects where load_id in ({ids}) order by file, line"
        )
    if result.unresolved:
        console.print(
            f"有 {result.unresolved:,} 个机构/资源代码无法对应（数据已保留），运行 hzeval validate 查看 / "
            f"{result.unresolved:,} unresolved agency/resource codes (rows kept): run 'hzeval validate'"
        )
