"""Evaluation staff's workbench: queries and views behind the staff notebooks.

``notebooks/drop_check.ipynb``, ``evidence_explorer.ipynb`` and ``year_over_year.ipynb`` are thin:
they open a published run with :mod:`hzeval.workbench.session` (never the live warehouse, DESIGN §2) and
display what these functions return. No metric logic lives here or in the notebooks: items,
values and scores are the run's own rows; the deadline table recounts one item's working days
the way the rules count them, from the warehouse calendar.

Views are :class:`View` objects (HTML: tidy tables with Chinese headers, no internal columns, no
"null" cells, every count shown in full or as "显示前 N 条，共 M 条"); :func:`picker` wraps a
view in ipywidgets dropdowns in JupyterLab and displays it plainly under papermill.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from hzeval import pages as report_html
from hzeval import present
from hzeval.contract import TABLES
from hzeval.ingest.report import unresolved_sql
from hzeval.metrics import METRICS
from hzeval.metrics.profiles import run_metric_articles
from hzeval.runs import DEDUCTIONS
from hzeval.store.calendar import WorkCalendar
from hzeval.store.published import AGENCY_COLUMN, COVERAGE_TABLES, TIME_COLUMN, coverage_sql  # noqa: F401 - the drop check's
from hzeval.util.frame import frame

#: columns never shown to staff (bookkeeping, or raw codes already shown by a name)
INTERNAL = {"load_id", "record_table", "metric_id", "late", "ok", "num", "den", "sha256", "run_id_prev", "source"}
#: how many rows a view shows before "显示前 N 条，共 M 条"
DEFAULT_LIMIT = 50

CSS = """<style>
.hz-view h3 { font-size: 15px; margin: 14px 0 4px; border-left: 4px solid #b3000c; padding-left: 6px; }
.hz-view p.hz-note { color: #555; font-size: 12.5px; margin: 2px 0 6px; }
.hz-view table.data { border-collapse: collapse; margin: 4px 0 12px; font-size: 12.5px; }
.hz-view table.data th { background: #f2e6e6; border: 1px solid #c9b3b3; padding: 3px 6px; text-align: left;
                         white-space: nowrap; }
.hz-view table.data td { border: 1px solid #d9d9d9; padding: 2px 6px; text-align: left; }
.hz-view table.data td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.hz-view table.data td.empty { color: #777; text-align: center; }
.hz-view table.data tr.bad td { background: #fff1f0; }
</style>"""


# --------------------------------------------------------------------------- presentation


esc = present.escape  # the one escaping helper (hzeval.util.escape)
deadline_text = present.deadline  # "YYYY-MM-DD 24:00" (DESIGN §7)


def cell_text(v) -> str:
    """One cell as staff read it: no "null"/"None"/"NaN", times to the minute, numbers trimmed."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def count_note(shown: int, total: int, unit: str = "条") -> str:
    return f"共 {total:,} {unit}" if shown >= total else f"显示前 {shown:,} {unit}，共 {total:,} {unit}"


def _points(v) -> str:
    return f"{v:.2f}"


#: columns with a fixed way of writing them (years and ranks without thousands separators)
DEFAULT_FORMATS: dict[str, Callable] = {
    "due_at": deadline_text,
    "year": str,
    "rank": str,
    "rank_prev": str,
    "example_line": str,
    "total": _points,
    "total_prev": _points,
    "points": _points,
    "points_prev": _points,
}


@dataclass
class Table:
    """One tidy table: Chinese headers (:data:`hzeval.present.COLUMNS`, or the contract's names of
    input columns), internal columns dropped, at most ``limit`` rows."""

    df: pl.DataFrame
    title: str = ""
    labels: Mapping[str, str] | None = None
    limit: int | None = DEFAULT_LIMIT
    note: str = ""
    formats: Mapping[str, Callable] | None = None
    bad: Callable[[dict], bool] | None = None

    @property
    def columns(self) -> list[str]:
        labels = {**present.COLUMNS, **(self.labels or {})}  # the one label table
        return [
            c
            for c in self.df.columns
            if c not in INTERNAL and not c.startswith("_") and (c in labels or not c.isascii())
        ]

    @property
    def headers(self) -> list[str]:
        labels = {**present.COLUMNS, **(self.labels or {})}  # the one label table
        return [labels.get(c, c) for c in self.columns]

    @property
    def shown(self) -> int:
        return self.df.height if self.limit is None else min(self.limit, self.df.height)

    def _repr_html_(self) -> str:
        cols, fmts = self.columns, {**DEFAULT_FORMATS, **(self.formats or {})}
        head = "".join(f"<th>{esc(h)}</th>" for h in self.headers)
        body = []
        for row in self.df.head(self.shown).iter_rows(named=True):
            cells = []
            for c in cols:
                v = row[c]
                text = (fmts[c](v) if v is not None else "—") if c in fmts else cell_text(v)
                cls = ' class="num"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
                cells.append(f"<td{cls}>{esc(text)}</td>")
            css = ' class="bad"' if self.bad and self.bad(row) else ""
            body.append(f"<tr{css}>{''.join(cells)}</tr>")
        if not body:
            body.append(f'<tr><td colspan="{max(len(cols), 1)}" class="empty">（无）</td></tr>')
        title = f"<h3>{esc(self.title)}</h3>" if self.title else ""
        notes = "；".join(n for n in (self.note, count_note(self.shown, self.df.height)) if n)
        return (
            f'{title}<p class="hz-note">{esc(notes)}</p><table class="data"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )


@dataclass
class Text:
    text: str
    title: str = ""

    def _repr_html_(self) -> str:
        title = f"<h3>{esc(self.title)}</h3>" if self.title else ""
        return f'{title}<p class="hz-note">{esc(self.text)}</p>'


class View:
    """A stack of tables and notes shown as one HTML output."""

    def __init__(self, *parts):
        self.parts = [p for p in parts if p is not None]

    def _repr_html_(self) -> str:
        return CSS + '<div class="hz-view">' + "".join(p._repr_html_() for p in self.parts) + "</div>"

    def __repr__(self) -> str:  # text/plain beside the HTML: titles and counts
        lines = []
        for p in self.parts:
            if isinstance(p, Table):
                lines.append(
                    f"{p.title}：{count_note(p.shown, p.df.height)}" if p.title else count_note(p.shown, p.df.height)
                )
            elif isinstance(p, Text):
                lines.append(" ".join(x for x in (p.title, p.text) if x))
        return "\n".join(lines)

    def tables(self) -> list[Table]:
        return [p for p in self.parts if isinstance(p, Table)]


@dataclass
class Masthead:
    """The reports' page head (issuer, title, the run it rests on), for the static gallery pages."""

    subtitle: str
    provenance: Mapping

    def _repr_html_(self) -> str:
        return report_html.masthead(self.subtitle, self.provenance)

    def __repr__(self) -> str:
        return self.subtitle


def show_masthead(subtitle: str, run, interactive: bool) -> None:
    """Show the page head in static output (papermill, the gallery); nothing in JupyterLab."""
    if not interactive:
        from IPython.display import display

        display(Masthead(f"{run.year} 年度{subtitle}", run.provenance()))


@dataclass
class Picker:
    """What :func:`picker` showed (already displayed: showing it again does nothing)."""

    view: View
    dropdowns: dict | None = None
    output: object = None
    widget: object = None

    def _ipython_display_(self) -> None:
        pass


def picker(
    render: Callable[..., View],
    interactive: bool = True,
    refresh: Callable[[dict], dict[str, list]] | None = None,
    **choices: tuple[Sequence[tuple[str, object]], object],
):
    """Show ``render(**values)``; in JupyterLab with one dropdown per choice (label, value) that
    re-renders on change. ``choices`` maps a parameter to (options, initial value); ``refresh(values)``
    gives new options for dependent dropdowns (e.g. the items of the chosen agency and metric). The
    initial view is rendered before any widget exists, so an error stops the notebook (papermill,
    nbval) instead of vanishing into a widget."""
    from IPython.display import display

    values = {k: v for k, (_, v) in choices.items()}
    first = render(**values)
    if not interactive:
        display(first)
        return Picker(first)
    import ipywidgets as widgets

    dropdowns = {}
    for name, (options, value) in choices.items():
        options = list(options)
        if value not in [v for _, v in options]:
            options = [(f"{value}（不在列表中）", value), *options]
        dropdowns[name] = widgets.Dropdown(
            options=options,
            value=value,
            description=PICKER_LABELS.get(name, name),
            style={"description_width": "initial"},
            layout=widgets.Layout(width="max-content", min_width="320px"),
        )
    out = widgets.Output()
    out.append_display_data(first)

    busy: list[int] = []

    def changed(change):
        if busy:
            return
        busy.append(1)
        try:
            if refresh is not None:
                for name, options in refresh({k: d.value for k, d in dropdowns.items()}).items():
                    if change.owner is not dropdowns[name]:
                        dropdowns[name].options = options
                        dropdowns[name].value = options[0][1] if options else None
        finally:
            busy.clear()
        out.clear_output(wait=True)
        with out:  # an error here is shown in the output area
            display(render(**{k: d.value for k, d in dropdowns.items()}))

    for d in dropdowns.values():
        d.observe(changed, names="value")
    box = widgets.VBox([widgets.HBox(list(dropdowns.values())), out])
    display(box)
    return Picker(first, dropdowns, out, box)


PICKER_LABELS = {
    "metric_id": "指标",
    "agency_code": "机构",
    "record_id": "事项",
    "table": "数据表",
    "before": "对比快照（前）",
    "after": "对比快照（后）",
}


# --------------------------------------------------------------------------- pickers from the registry


def metric_options(ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(“目录更新及时率（第十二条）”, metric id) for every registered metric (or ``ids``)."""
    return [(f"{m.name_zh}（{m.article_zh}）", m.id) for m in METRICS.values() if ids is None or m.id in ids]


def agency_options(con) -> list[tuple[str, str]]:
    """(“市公安局（HZ007）”, code) for every agency in the register, by code."""
    rows = con.execute("select agency_code, agency_name from agencies order by agency_code").fetchall()
    return [(f"{name}（{code}）", code) for code, name in rows]


def agency_names(con) -> dict[str, str]:
    return dict(con.execute("select agency_code, agency_name from agencies").fetchall())


def table_options() -> list[tuple[str, str]]:
    """Every input table with a coverage view (the published ``input_coverage`` covers them all,
    api_calls included)."""
    return [(f"{TABLES[t].zh}（{t}）", t) for t in COVERAGE_TABLES]


# --------------------------------------------------------------------------- drop check


def loads(con, last: int | None = None) -> pl.DataFrame:
    """Files loaded (newest first): table, rows loaded / rejected / replaced, when."""
    return frame(
        con,
        """
        select load_id, file, table_name, file_format, encoding, rows_loaded, rows_rejected, rows_replaced, loaded_at
        from loads order by load_id desc limit coalesce($n, 1000000)
    """,
        {"n": last},
    )


def rejects_by_reason(con) -> pl.DataFrame:
    return frame(
        con,
        """
        select table_name, column_name, reason as reject_reason, count(*) as rows, min(file) as example_file,
               min(line) as example_line
        from rejects group by all order by rows desc, table_name, column_name
    """,
    )


def unresolved(con, present: Sequence[str]) -> pl.DataFrame:
    """Agency and resource codes that do not resolve (as ``hzeval validate``), over the tables present."""
    sql = unresolved_sql(present)
    return frame(con, sql).rename({"value": "unresolved_value"}) if sql else pl.DataFrame()


def _zh_tables(df: pl.DataFrame) -> pl.DataFrame:
    """Chinese table and column names for rows that name an input table and column."""
    if df.is_empty():
        return df
    zh = {t.name: t.zh for t in TABLES.values()}
    out = df.with_columns(pl.col("table_name").replace_strict(zh, default=pl.col("table_name")).alias("table_zh"))
    if "column_name" in df.columns:
        cols = pl.DataFrame(
            [(t.name, c.name, c.zh) for t in TABLES.values() for c in t.columns],
            schema=["table_name", "column_name", "column_zh"],
            orient="row",
        )
        out = (
            out.join(cols, on=["table_name", "column_name"], how="left", maintain_order="left")
            .with_columns(pl.coalesce("column_zh", "column_name").alias("column_name"))
            .drop("column_zh")
        )
    return out.select("table_zh", *[c for c in out.columns if c not in ("table_name", "table_zh")])


def coverage(con, table: str, year: int | None = None) -> pl.DataFrame:
    """Rows per agency (row) and month (column) of one input table, from ``input_coverage``; every
    agency of the register appears (a row of dashes is an agency that exported nothing)."""
    if table not in COVERAGE_TABLES:
        raise KeyError(f"no coverage view for {table}")
    cov = frame(
        con,
        """
        select a.agency_code, a.agency_name, c.month, c.rows
        from agencies a left join input_coverage c
          on c.agency_code = a.agency_code and c.table_name = $t and ($y is null or c.month like $y || '-%')
        order by a.agency_code
    """,
        {"t": table, "y": str(year) if year else None},
    )
    months = sorted(m for m in cov["month"].unique().to_list() if m is not None)
    if year:
        months = [f"{year}-{m:02d}" for m in range(1, 13)]
    wide = cov.filter(pl.col("month").is_not_null()).pivot(on="month", index="agency_code", values="rows")
    base = cov.select("agency_code", "agency_name").unique().sort("agency_code")
    out = base.join(wide, on="agency_code", how="left")
    for m in months:
        if m not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Int64).alias(m))
    return out.select("agency_code", "agency_name", *months)


def snapshot_dates(con) -> list[dt.date]:
    return [r[0] for r in con.execute("select distinct snapshot_date from catalog_snapshot order by 1").fetchall()]


def snapshot_diff(con, before: dt.date | None = None, after: dt.date | None = None) -> dict:
    """Resources added, withdrawn (status change or gone) and fields changed between two snapshots
    (default: the last two); ``before``/``after`` name the dates compared (None when there are
    fewer than two snapshots)."""
    dates = snapshot_dates(con)
    if len(dates) < 2 and (before is None or after is None):
        empty = pl.DataFrame()
        return {
            "before": None,
            "after": dates[-1] if dates else None,
            "added": empty,
            "withdrawn": empty,
            "changed": empty,
        }
    before = before or dates[-2]
    after = after or dates[-1]
    fields = [c.name for c in TABLES["catalog_snapshot"].columns if c.name not in ("snapshot_date", "resource_code")]
    p = {"b": before, "a": after}
    added = frame(
        con,
        """
        select n.resource_code, n.resource_name, n.provider_code, n.status from catalog_snapshot n
        where n.snapshot_date = $a
          and n.resource_code not in (select resource_code from catalog_snapshot where snapshot_date = $b)
        order by 1""",
        p,
    )
    withdrawn = frame(
        con,
        """
        select o.resource_code, o.resource_name, o.provider_code,
               coalesce(n.status, '（快照中已无此资源）') as now_status
        from catalog_snapshot o
        left join catalog_snapshot n on n.resource_code = o.resource_code and n.snapshot_date = $a
        where o.snapshot_date = $b and o.status = '已发布' and (n.resource_code is null or n.status <> '已发布')
        order by 1""",
        p,
    )
    unpivot = ", ".join(f"cast({f} as varchar) as {f}" for f in fields)
    changed = frame(
        con,
        f"""
        with o as (unpivot (select resource_code, {unpivot} from catalog_snapshot where snapshot_date = $b)
                   on {", ".join(fields)} into name field value before_value),
             n as (unpivot (select resource_code, {unpivot} from catalog_snapshot where snapshot_date = $a)
                   on {", ".join(fields)} into name field value after_value)
        select resource_code, field, before_value, after_value
        from o full join n using (resource_code, field)
        where before_value is distinct from after_value
          and resource_code in (select resource_code from catalog_snapshot where snapshot_date = $b)
          and resource_code in (select resource_code from catalog_snapshot where snapshot_date = $a)
        order by resource_code, field""",
        p,
    )
    return {"before": before, "after": after, "added": added, "withdrawn": withdrawn, "changed": changed}


def snapshot_view(con, before=None, after=None, limit: int = DEFAULT_LIMIT) -> View:
    diff = snapshot_diff(con, before, after)
    if diff["before"] is None:
        only = f"（{diff['after']}）" if diff["after"] else ""
        return View(Text(f"目录快照只有 {len(snapshot_dates(con))} 期{only}，没有可对比的两期快照。", "目录快照差异"))
    zh = {c.name: c.zh for c in TABLES["catalog_snapshot"].columns}
    changed = diff["changed"].with_columns(pl.col("field").replace_strict(zh, default=pl.col("field")))
    b, a = diff["before"], diff["after"]
    head = (
        f"对比 {b:%Y-%m-%d} 与 {a:%Y-%m-%d} 两期目录快照：新增 {diff['added'].height} 个资源，"
        f"下架或消失 {diff['withdrawn'].height} 个，字段变化 {changed.height} 处。"
    )
    return View(
        Text(head, f"目录快照差异（{b:%Y-%m-%d} → {a:%Y-%m-%d}）"),
        Table(diff["added"], f"新增资源（{a:%Y-%m-%d} 有、{b:%Y-%m-%d} 无）", limit=limit),
        Table(diff["withdrawn"], f"下架或消失的资源（{b:%Y-%m-%d} 已发布）", limit=limit),
        Table(
            changed, "字段变化", labels={"before_value": f"{b:%Y-%m-%d}", "after_value": f"{a:%Y-%m-%d}"}, limit=limit
        ),
    )


def drop_check_view(inputs, limit: int = DEFAULT_LIMIT) -> View:
    """Files, rejects, unresolved codes and coverage, from the inputs published with a run."""
    con = inputs.con
    files = loads(con)
    rejects = _zh_tables(rejects_by_reason(con))
    unres = _zh_tables(unresolved(con, inputs.tables))
    skipped = [TABLES[t].zh for t in TABLES if t not in inputs.tables and any(c.ref for c in TABLES[t].columns)]
    unres_note = f"未随发布副本提供、未检查：{'、'.join(skipped)}（用 hzeval validate 检查全部）" if skipped else ""
    return View(
        Text(inputs.note()),
        Table(_zh_tables(files), "已加载文件（最新在前）", limit=limit),
        Table(
            rejects,
            "拒收行（按原因）",
            limit=limit,
            note=f"拒收 {rejects['rows'].sum() if not rejects.is_empty() else 0:,} 行",
        ),
        Table(unres, "无法对应的代码（数据已保留，名录或目录到位后自动对应）", limit=limit, note=unres_note),
    )


def coverage_view(con, table: str, year: int | None) -> View:
    """One input table's rows per agency and month: every agency listed, gaps marked."""
    cov = coverage(con, table, year)
    months = [c for c in cov.columns if c[:4].isdigit()]
    gaps = cov.filter(pl.all_horizontal(pl.col(m).is_null() for m in months)).height if months else cov.height
    labels = {m: f"{int(m[5:])}月" for m in months}
    return View(
        Table(
            cov,
            f"{TABLES[table].zh}：按月份和机构的行数（{year or '全部'}年）",
            labels=labels,
            limit=None,
            note=f"全年无数据的机构 {gaps} 个（整行为 —，标红）",
            bad=lambda r: all(r[m] is None for m in months),
        )
    )


# --------------------------------------------------------------------------- evidence explorer


def metric_summary(run, agency: str, metric: str) -> pl.DataFrame:
    return run.metric_values(agency, metric).select("numerator", "denominator", "value", "count")


def evidence(run, agency: str, metric: str) -> pl.DataFrame:
    """The run's evidence items of one agency and metric (failed, late, or adjusted), by deadline."""
    return run.evidence(agency, metric).select(
        "record_table", "record_id", "reason", "due_at", "done_text", "record_time", "adjustment_id"
    )


#: chinese_calendar names its holidays in English
HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def deadline_steps(cal: WorkCalendar, start: dt.date | dt.datetime, n: int) -> pl.DataFrame:
    """The days from the event to its deadline, one row each, showing which count (DESIGN §4)."""
    import chinese_calendar as cc

    d0 = start.date() if isinstance(start, dt.datetime) else start
    due = cal.due_date(d0, n)
    days = cal.frame.filter((pl.col("day") >= d0) & (pl.col("day") <= due))
    rows = []
    counted = 0
    for day, is_work, source in days.select("day", "is_workday", "source").iter_rows():  # ≤ a few dozen days
        weekend = day.weekday() >= 5
        name = None
        if source == "chinese_calendar":
            _, name = cc.get_holiday_detail(day)
        if day == d0:
            kind, note = "事件当日", "当日不计"
        elif is_work:
            counted += 1
            kind, note = ("调休上班" if weekend else "工作日"), f"第 {counted} 个工作日"
        else:
            kind, note = ("法定节假日" if name else ("周末" if weekend else "调整休息日")), "不计"
        rows.append(
            {
                "date": day,
                "weekday": "一二三四五六日"[day.weekday()],
                "kind": kind,
                "holiday": HOLIDAY_ZH.get(name, name) if name else "",
                "counted": note,
                "source": source,
            }
        )
    return pl.DataFrame(rows)


#: the record and column whose day starts each working-day deadline
TRIGGER = {
    "catalog_update_timeliness": ("basis_changes", "change_id", "effective_date"),
    "catalog_review_timeliness": ("catalog_events", "event_id", "event_time"),
    "share_reply_timeliness": ("share_applications", "application_id", "submitted_at"),
    "share_implementation_timeliness": ("share_applications", "application_id", "replied_at"),
    "demand_confirmation_timeliness": ("share_applications", "application_id", "submitted_at"),
    "objection_timeliness": ("objections", "objection_id", "raised_at"),
    "open_reply_timeliness": ("open_applications", "open_app_id", "submitted_at"),
}


def deadline_explained(con, metric_id: str, record_id: str, scheme) -> pl.DataFrame:
    """Step-by-step deadline of one item of a working-day metric (empty for other metrics)."""
    if metric_id not in TRIGGER:
        return pl.DataFrame()
    table, key, column = TRIGGER[metric_id]  # names from the constant above, never from input
    rows = con.execute(
        f"select {column} from {table} where {key} in (select unnest($ids)) order by {key} = $ids[1] desc limit 1",
        {"ids": record_keys(record_id)},
    ).fetchall()
    if not rows or rows[0][0] is None:
        return pl.DataFrame()
    # the rule in force on the trigger day (DESIGN §5a)
    days = scheme.ruleset.in_force(rows[0][0]).deadlines[METRICS[metric_id].deadline].days
    return deadline_steps(WorkCalendar.from_warehouse(con), rows[0][0], days)


def record_keys(record_id: str) -> list[str]:
    """What an item's record id may name in its table, most exact first: the id itself, its first word,
    and, for a combined id (``<change_id>/<resource_code>`` of 目录更新, ``<agency>/<item>``), its first part."""
    keys = [record_id, record_id.split(" ")[0], record_id.split("/")[0]]
    return [k for i, k in enumerate(keys) if k and k not in keys[:i]]


def records_for(con, table: str, record_id: str) -> pl.DataFrame | None:
    """The input record(s) behind an evidence item (by the table's first key column, the most exact of
    :func:`record_keys` that matches), with the contract's Chinese column names; None when the table is
    not in the published copy, empty when it has no such record."""
    t = TABLES[table]
    present = con.execute(
        "select count(*) from information_schema.tables where table_name = $t", {"t": table}
    ).fetchall()
    if not present[0][0]:
        return None
    key = "resource_code" if table == "catalog_snapshot" else t.key[0]
    df = pl.DataFrame()
    for k in record_keys(record_id):
        df = frame(con, f"select * from {table} where {key} = $id", {"id": k})
        if not df.is_empty():
            break
    return df.select([c for c in df.columns if c in t.names]).rename(
        {c.name: c.zh for c in t.columns if c.name in df.columns}
    )


def item_options(items: pl.DataFrame) -> list[tuple[str, str]]:
    return [(f"{r['record_id']}（{(r['reason'] or '')[:30]}）", r["record_id"]) for r in items.iter_rows(named=True)]


def evidence_view(run, agency: str, metric: str, limit: int = DEFAULT_LIMIT) -> View:
    """What the run charged one agency for one metric: its value and every evidence item."""
    m = METRICS[metric]
    names = agency_names(run.con)
    summary = metric_summary(run, agency, metric)
    items = evidence(run, agency, metric)
    if summary.is_empty():
        head = f"{names.get(agency, agency)} 在运行 {run.run_id} 中没有“{m.name_zh}”的指标值。"
    else:
        s = summary.row(0, named=True)
        value = (
            ("—" if s["value"] is None else f"{s['value'] * 100:.1f}%") if m.kind == "rate" else cell_text(s["count"])
        )
        article = run_metric_articles(run.con, run.run_id, run.year).get(metric) or m.article_zh
        head = (
            f"{names.get(agency, agency)} · {m.name_zh}（{article}）：{m.doc}。"
            f"本次结果 {value}（分子 {cell_text(s['numerator'])}，分母 {cell_text(s['denominator'])}）。"
        )
    return View(
        Text(f"{head} 数据来源：已发布的评估运行 {run.run_id}（{run.provenance()['freshness']}）。"),
        Table(
            items,
            "失分和已调整的事项",
            limit=limit,
            bad=lambda r: r["adjustment_id"] is None,
            labels={"done_text": "办结时间", "record_time": "记录时间"},
        ),
    )


def item_view(run, metric: str, record_id: str | None, scheme) -> View:
    """One evidence item: the records behind it and its deadline counted day by day."""
    if not record_id:
        return View(Text("该机构此指标没有失分事项。", "事项详情"))
    item = run.evidence_record(metric, record_id)
    if item is None:
        return View(Text(f"运行中没有事项 {record_id}。", "事项详情"))
    table, reason = item["record_table"], item["reason"]
    records = records_for(run.con, table, record_id)
    parts: list[Text | Table] = [Text(reason or "", f"事项 {record_id}")]
    if records is None:
        parts.append(Text(f"{TABLES[table].zh}（{table}）未随发布副本提供，原始记录请在数据仓库中查询。"))
    elif records.is_empty():
        parts.append(Text(f"{TABLES[table].zh}（{table}）中没有编号为 {record_id} 的记录。"))
    else:
        parts.append(Table(records, f"原始记录（{TABLES[table].zh}）", labels={c: c for c in records.columns}))
    steps = deadline_explained(run.con, metric, record_id, scheme)
    if not steps.is_empty():
        days = steps.filter(pl.col("counted").str.starts_with("第")).height  # the rule in force on the trigger day
        parts.append(
            Table(
                steps,
                f"期限逐日计算（{days} 个工作日：事件当日不计，节假日不计，调休上班日计入，"
                f"截止于最后一个工作日 24:00）",
                limit=None,
                bad=lambda r: r["counted"] == "不计",
            )
        )
    return View(*parts)


# --------------------------------------------------------------------------- year over year


def _yoy_frames(run) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    totals = run.grades().select("agency_code", "agency_name", "peer_group", "total", "grade", "rank")
    dims = run.scores().group_by("agency_code", "dimension").agg(pl.col("points").sum())
    inds = run.metric_values().select("agency_code", "metric_id", "value", "count")
    return totals, dims, inds


def year_over_year(cur, prev=None) -> dict[str, pl.DataFrame]:
    """Totals, dimensions and indicators of two published runs (``cur`` and the year before's
    ``prev``, each a :class:`~hzeval.runs.RunReader`; ``prev`` None leaves the previous columns empty)."""
    totals, dims, inds = _yoy_frames(cur)
    if prev is not None:
        p_tot, p_dim, p_ind = _yoy_frames(prev)
        p_tot = p_tot.select("agency_code", total_prev="total", grade_prev="grade", rank_prev="rank")
        p_dim = p_dim.rename({"points": "points_prev"})
        p_ind = p_ind.rename({"value": "value_prev", "count": "count_prev"})
    else:
        p_tot = pl.DataFrame(
            schema={"agency_code": pl.String, "total_prev": pl.Float64, "grade_prev": pl.String, "rank_prev": pl.Int32}
        )
        p_dim = pl.DataFrame(schema={"agency_code": pl.String, "dimension": pl.String, "points_prev": pl.Float64})
        p_ind = pl.DataFrame(
            schema={"agency_code": pl.String, "metric_id": pl.String, "value_prev": pl.Float64, "count_prev": pl.Int64}
        )
    totals = (
        totals.join(p_tot, on="agency_code", how="left")
        .with_columns((pl.col("total") - pl.col("total_prev")).alias("change"))
        .select(
            "agency_code",
            "agency_name",
            "peer_group",
            "total_prev",
            "total",
            "change",
            "grade_prev",
            "grade",
            "rank_prev",
            "rank",
        )
        .sort("change", "agency_code", nulls_last=True)
    )
    # dimensions in this year's scheme order, the deductions last (as the reports and the dashboard show them)
    order = {d: i for i, d in enumerate([*cur.dimensions(), DEDUCTIONS])}
    dims = (
        dims.join(p_dim, on=["agency_code", "dimension"], how="left")
        .with_columns((pl.col("points") - pl.col("points_prev")).alias("change"))
        .select("agency_code", "dimension", "points_prev", "points", "change")
        .sort("agency_code", pl.col("dimension").replace_strict(order, default=len(order), return_dtype=pl.Int32))
    )
    names = {k: m.name_zh for k, m in METRICS.items()}
    inds = (
        inds.join(p_ind, on=["agency_code", "metric_id"], how="left")
        .with_columns(
            (pl.col("value") - pl.col("value_prev")).alias("change"),
            pl.col("metric_id").replace_strict(names, default=pl.col("metric_id")).alias("metric_name"),
        )
        .select("agency_code", "metric_id", "metric_name", "value_prev", "value", "change", "count_prev", "count")
        .sort("agency_code", "metric_id")
    )
    return {"totals": totals, "dimensions": dims, "indicators": inds}


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _signed(v) -> str:
    return "—" if v is None else f"{v:+.2f}"


def yoy_view(run, prev, limit: int = DEFAULT_LIMIT) -> View:
    """Year over year for staff: the two runs compared, then totals, dimensions and indicators."""
    y = year_over_year(run, prev)
    names = agency_names(run.con)
    runs = [run] + ([prev] if prev else [])
    runs_df = pl.DataFrame(
        {
            "year": [r.year for r in runs],
            "run_id": [r.run_id for r in runs],
            "as_of": [r.as_of for r in runs],
            "finished_at": [r.finished_at for r in runs],
        }
    )
    head = (
        f"对比 {run.year} 年（运行 {run.run_id}）与 {prev.year} 年（运行 {prev.run_id}）"
        if prev
        else f"没有已发布的 {run.year - 1} 年评估结果，只列出 {run.year} 年"
        f"（先运行 hzeval assess --year {run.year - 1}）"
    )
    dims = y["dimensions"]
    wide = (
        dims.with_columns(
            pl.col("agency_code").replace_strict(names, default=pl.col("agency_code")).alias("agency_name")
        )
        .pivot(on="dimension", index=["agency_code", "agency_name"], values="change")  # in scheme order
        .sort("agency_code")
    )
    moved = y["indicators"].filter(pl.col("change").is_not_null() & (pl.col("change") != 0))
    moved = (
        moved.with_columns(
            pl.col("agency_code").replace_strict(names, default=pl.col("agency_code")).alias("agency_name")
        )
        .sort(pl.col("change").abs(), "agency_code", descending=[True, False])
        .select("agency_code", "agency_name", "metric_name", "value_prev", "value", "change")
    )
    rate = {"value_prev": _pct, "value": _pct, "change": lambda v: f"{v * 100:+.1f} 个百分点"}
    return View(
        Text(head, "对比的评估运行"),
        Table(runs_df, limit=None),
        Table(
            y["totals"],
            "总分与等级（降幅最大的在前）",
            labels=present.THIS_YEAR,
            limit=limit,
            formats={"change": _signed},
            bad=lambda r: (r["change"] or 0) < 0,
        ),
        Table(
            wide,
            "各维度得分变化（本年 − 上年）",
            labels={c: c for c in wide.columns if not c.isascii()},
            formats={c: _signed for c in wide.columns if not c.isascii()},
            limit=limit,
        ),
        Table(moved, "变化最大的指标（比率类，按变化幅度）", formats=rate, limit=limit, labels=present.THIS_YEAR),
    )


def yoy_agency_view(run, prev, agency_code: str) -> View:
    """Every indicator of one agency against the year before (rates as percentages, counts as counts)."""
    y = year_over_year(run, prev)
    names = agency_names(run.con)
    ind = y["indicators"].filter(pl.col("agency_code") == agency_code)
    kinds = {k: m.kind for k, m in METRICS.items()}
    ind = ind.with_columns(
        pl.col("metric_id").replace_strict(kinds, default="rate").alias("_kind"),
        pl.col("metric_id")
        .replace_strict(run_metric_articles(run.con, run.run_id, run.year), default="")
        .alias("article"),
    )
    rates = ind.filter(pl.col("_kind") == "rate").select("metric_name", "article", "value_prev", "value", "change")
    counts = ind.filter(pl.col("_kind") == "count").select("metric_name", "article", "count_prev", "count")
    rate = {"value_prev": _pct, "value": _pct, "change": lambda v: f"{v * 100:+.1f} 个百分点"}
    return View(
        Table(
            rates,
            f"{names.get(agency_code, agency_code)}：比率类指标",
            formats=rate,
            limit=None,
            labels=present.THIS_YEAR,
            bad=lambda r: (r["change"] or 0) < 0,
        ),
        Table(counts, f"{names.get(agency_code, agency_code)}：次数类指标", labels=present.THIS_YEAR, limit=None),
    )


def explorer(
    run,
    scheme,
    agency_code: str,
    metric_id: str,
    record_id: str = "",
    interactive: bool = True,
    limit: int = DEFAULT_LIMIT,
):
    """The evidence explorer: pick an agency and a metric (by name), see what the run charged and
    why; pick an item to see its records and its deadline counted day by day."""

    def first_item(agency_code, metric_id, record_id=""):
        ids = evidence(run, agency_code, metric_id)["record_id"].to_list()
        return record_id if record_id in ids else (ids[0] if ids else "")

    def render(agency_code, metric_id, record_id):
        rid = first_item(agency_code, metric_id, record_id)
        return View(
            *evidence_view(run, agency_code, metric_id, limit).parts, *item_view(run, metric_id, rid, scheme).parts
        )

    def refresh(values):
        return {
            "record_id": item_options(evidence(run, values["agency_code"], values["metric_id"]))
            or [("（无失分事项）", "")]
        }

    record_id = first_item(agency_code, metric_id, record_id)
    items = refresh({"agency_code": agency_code, "metric_id": metric_id})["record_id"]
    return picker(
        render,
        interactive,
        refresh=refresh,
        agency_code=(agency_options(run.con), agency_code),
        metric_id=(metric_options(), metric_id),
        record_id=(items, record_id),
    )
