"""The dashboard's pages, for leaders at a glance. Views only read the
:class:`~hzeval.dashboard.store.Store` (itself over :mod:`hzeval.runs`) and write values in the
vocabulary of :mod:`hzeval.present`; no SQL, no metric or scoring logic here.

Each page is a :class:`pn.viewable.Viewer` whose inputs are parameters and whose dynamic parts are
``@param.depends`` methods (no hand-wired watchers); ``*_page`` functions build one as a plain
layout, so a page can be built and inspected without a server (tests do).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any, cast

import pandas as pd
import panel as pn
import param
import plotly.graph_objects as go
import polars as pl

from hzeval import pages as report_html
from hzeval import present
from hzeval.assessment.gate import GATE_CONDITIONS, conditions_text
from hzeval.dashboard.store import Store
from hzeval.errors import HzevalError
from hzeval.util.escape import html_text, markdown_text

log = logging.getLogger(__name__)

PAGES = ("总览", "机构详情", "督办", "项目门禁", "方案模拟")
AGENCY_PAGES = ("机构详情", "督办", "项目门禁")
#: the one colour table and rate scale (:mod:`hzeval.present`), as the reports and offline files use them
GRADE_COLOURS, VETO_COLOUR, NA_COLOUR = present.GRADE_COLOURS, present.VETO_COLOUR, present.NA_COLOUR
#: rows of a long list an offline file carries (evidence per agency, 督办 items): the most late first;
#: every row is in the agency's report and the workbook. Bounds the file at city scale (one
#: precomputed state per agency).
OFFLINE_ROWS = 200
FONT = dict(family="Noto Sans CJK SC, Microsoft YaHei, sans-serif")
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
#: Tabulator in Chinese (pagination and its tooltips)
TABULATOR_ZH = {
    "locale": "zh-cn",
    "langs": {
        "zh-cn": {
            "pagination": {
                "first": "首页",
                "first_title": "首页",
                "last": "末页",
                "last_title": "末页",
                "prev": "上一页",
                "prev_title": "上一页",
                "next": "下一页",
                "next_title": "下一页",
                "all": "全部",
                "page_size": "每页",
                "page_title": "第",
                "counter": {"showing": "显示", "of": "共", "rows": "行", "pages": "页"},
            },
            "data": {"loading": "加载中", "error": "出错"},
        }
    },
}
#: page CSS for the template (responsive: at phone width the cards stack and tables scroll in place)
PAGE_CSS = """
@media (max-width: 700px) {
  /* phone: the sidebar starts collapsed (the ☰ button opens it above the page), the page takes the width */
  #content { flex-direction: column; flex-wrap: nowrap; height: auto; }
  #sidebar { max-width: none !important; width: 100% !important; height: auto; border-right: 0;
             border-bottom: 1px solid var(--bs-border-color); }
  #sidebar.show { display: none; }
  #sidebar:not(.show):not(.collapsing) { display: block; }
  #main { width: 100%; max-width: 100%; padding: 6px; }
  a.title { font-size: 17px !important; white-space: normal !important; }
}
"""
VIEWPORT = "width=device-width, initial-scale=1"
#: inside every table's shadow root: headings wrap whole rather than end in "…"
TABLE_CSS = """
.tabulator .tabulator-header .tabulator-col .tabulator-col-title { white-space: normal; text-overflow: clip; }
.tabulator .tabulator-row .tabulator-cell { white-space: normal; overflow-wrap: anywhere; text-overflow: clip; }
"""


#: print (every live page and offline file, issue 27): no sidebar, header or widgets, the page full width,
#: each table whole (Tabulator prints every row as a plain table: :data:`PRINT_TABLE`), sections on new pages
PRINT_CSS = """
@media print {
  #header, #sidebar, #sidebar-button { display: none !important; }
  html, body, #container, #content, #main, .main-content { height: auto !important; overflow: visible !important; }
  #main, .main-content { width: 100% !important; max-width: none !important; margin: 0 !important;
                         padding: 0 !important; flex: none !important; }
}
"""
#: a widget's own stylesheet (Panel draws each in a shadow root): left out of print
NOT_PRINTED = "@media print { :host { display: none !important; } }"
#: a section heading's own stylesheet: each section starts a printed page
SECTION_PRINT = "@media print { :host { break-before: page; } }"
#: Tabulator's print setting: on print (Ctrl+P or 打印本页) a table is replaced by all its rows, not one page
PRINT_TABLE = {"printAsHtml": True, "printRowRange": "all", "printStyled": False}


def print_button() -> pn.widgets.Button:
    """The "打印本页" button: the browser's print, under :data:`PRINT_CSS` (it is itself not printed)."""
    button = pn.widgets.Button(
        name="打印本页", button_type="light", width=110, css_classes=["hz-print"], stylesheets=[NOT_PRINTED]
    )
    button.js_on_click(code="window.print()")
    return button


CARDS_CSS = """<style>
.cards { display: flex; flex-wrap: wrap; gap: 10px; font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.card { flex: 1 1 160px; min-width: 140px; border: 1px solid #d9d9d9; border-radius: 6px; padding: 8px 14px;
        background: #fafafa; }
.card .k { color: #555; font-size: 13px; } .card .v { font-size: 26px; font-weight: 700; line-height: 1.3; }
.card.bad .v { color: #c62828; } .card.veto { border-color: #6a1b9a; } .card.veto .v { color: #6a1b9a; }
.veto-box { border: 2px solid #6a1b9a; background: #f3e5f5; color: #2b0a3d; border-radius: 6px; padding: 6px 12px;
            font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.veto-box b { color: #6a1b9a; }
</style>"""


def pages_for(store: Store) -> tuple[str, ...]:
    return AGENCY_PAGES if store.user.is_agency else PAGES


def freshness_line(store: Store, run_id: str) -> str:
    """The header line of every page (DESIGN §7a): "数据截至（各表最新记录）… · 评估截至 … · 评估于 … · 正式/试算"."""
    r = store.run(run_id)
    return present.freshness_line(r["data_through"], r["as_of"], r["finished_at"], r["publication"])


def run_header(store: Store, run_id: str) -> pn.pane.HTML:
    """The freshness line over every page, with a warning per input table older than the scheme's
    ``stale_after`` (DESIGN §7a)."""
    stale = store.run(run_id)["stale_warnings"] or []
    items = "".join(f"<li>{present.escape(w)}</li>" for w in stale)
    warn = f'<div class="hz-stale-list"><b>数据时效提示</b><ul>{items}</ul></div>' if items else ""
    return pn.pane.HTML(
        f'<div class="hz-fresh-line">{present.escape(freshness_line(store, run_id))}</div>{warn}',
        sizing_mode="stretch_width",
        css_classes=["hz-fresh"] + (["hz-stale"] if items else []),
        styles={"font-weight": "600"},
    )


def trial_banner(store: Store, run_id: str) -> pn.pane.Alert | None:
    """The 试算 banner over every page of a trial run (DESIGN §7a); None for an official run."""
    if store.run(run_id)["publication"] == "official":
        return None
    return pn.pane.Alert(f"**试算** {present.TRIAL_BANNER}", alert_type="danger", css_classes=["hz-trial"])


def empty_note(text: str = "无可显示的数据。") -> pn.pane.Alert:
    return pn.pane.Alert(text, alert_type="light", css_classes=["hz-empty"])


def cards(items: list[tuple[str, str, str]]) -> pn.pane.HTML:
    """KPI cards (label, value text, css class) that wrap and stack on a narrow screen."""
    body = "".join(
        f'<div class="card {cls}"><div class="k">{present.escape(k)}</div>'
        f'<div class="v">{present.escape(v)}</div></div>'
        for k, v, cls in items
    )
    return pn.pane.HTML(
        CARDS_CSS + f'<div class="cards">{body}</div>', sizing_mode="stretch_width", css_classes=["hz-kpis"]
    )


def veto_box(rows: pl.DataFrame) -> pn.pane.HTML | None:
    """The veto of every vetoed agency shown: incident id, date, kind, basis (DESIGN §6)."""
    vetoed = rows.filter(pl.col("vetoed"))
    if vetoed.is_empty():
        return None
    lines = "".join(
        f"<div><b>{present.escape(r['agency_name'])}（{present.escape(r['agency_code'])}）"
        f"{present.escape(present.grade_label(r['grade'], True))}</b>："
        f"{present.escape(str(r['veto_text'] or '').removeprefix('一票否决：'))}</div>"
        for r in vetoed.iter_rows(named=True)
    )
    return pn.pane.HTML(
        CARDS_CSS + f'<div class="veto-box">{lines}</div>', sizing_mode="stretch_width", css_classes=["hz-veto"]
    )


def display_frame(df: pl.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """The columns of ``titles`` as text in the one vocabulary (deadlines, points, integers,
    Chinese table names), with Chinese headers."""
    cols = [c for c in titles if c in df.columns]
    data = {titles[c]: [present.cell(c, v) for v in df[c].to_list()] for c in cols}
    return pd.DataFrame(data, columns=[titles[c] for c in cols])


#: columns never broken inside (ids, codes, times: "BC20240054-HZ007-R001" and "2025-11-22 24:00" stay whole)
WHOLE = (
    "record_id",
    "agency_code",
    "project_id",
    "due_at",
    "deadline",
    "checked_at",
    "as_of",
    "resource_id",
    "value_text",  # "91.4%（391,726/428,701）": a rate with its counts, never broken inside a number
)
#: the key column pinned at the left while a table scrolls sideways inside its own box
KEY = "agency_name"
#: the narrowest a wrapping text column gets (a phone scrolls the table instead of one character a line)
TEXT_MIN = 120


def text_width(text: str) -> int:
    """Pixels ``text`` takes in a table cell, with the padding and a little to spare (a CJK character
    15 px, any other 10 px: "BC20240054/HZ016-R001" measures 215 px in Chromium, this gives 226)."""
    return 16 + sum(15 if ord(ch) > 0x2E7F else 10 for ch in text)


def table(
    df: pl.DataFrame,
    titles: dict[str, str],
    numeric: tuple[str, ...] = (),
    pin: dict[str, str] | None = None,
    **kw,
) -> pn.widgets.Tabulator:
    """A read-only Tabulator over the columns of ``titles``: text formatted by :mod:`hzeval.present`,
    long text wrapping (no clipped columns), ids and times whole (:data:`WHOLE`, as wide as their
    longest value), the agency name pinned, pagination in Chinese. A narrow screen scrolls the table
    inside its own box: every column keeps a minimum width. ``pin``: column → "left"/"right", the
    columns kept in view while the rest scroll (default: the agency name at the left)."""
    pdf = display_frame(df, titles)
    shown = [c for c in titles if c in df.columns]
    whole = [c for c in shown if c in WHOLE]
    wrap = {titles[c]: {"type": "textarea"} for c in shown if c not in numeric and c not in whole}
    align = {titles[c]: "right" for c in numeric if c in df.columns}
    # numbers get a fixed width (wide enough for the heading and its sort arrow); text shares the rest
    # and for the longest value ("2,553,098" whole, never "2,553,…")
    widths = {
        titles[c]: max(84, 22 * len(titles[c]) + 30, max((text_width(v) for v in pdf[titles[c]]), default=0) + 10)
        for c in numeric
        if c in df.columns
    }
    for c in whole:  # as wide as the longest value (and the heading with its sort arrow)
        longest = max((text_width(v) for v in pdf[titles[c]]), default=0)
        widths[titles[c]] = max(longest, text_width(titles[c]) + 24)
    widths.update(kw.pop("widths", {}))
    config = {**TABULATOR_ZH, **PRINT_TABLE, "columnDefaults": {"minWidth": TEXT_MIN}}
    config.update(kw.pop("configuration", {}))
    pin = {KEY: "left"} if pin is None and KEY in shown and len(shown) > 2 else (pin or {})
    opts = dict(
        show_index=False,
        disabled=True,
        layout="fit_columns",
        sizing_mode="stretch_width",
        pagination="local",
        page_size=20,
        formatters=wrap,
        text_align=align,
        widths=widths,
        configuration=config,
        selectable=False,
        frozen_columns={titles[c]: side for c, side in pin.items() if c in shown},
        stylesheets=[TABLE_CSS],
    )
    opts.update(kw)
    return pn.widgets.Tabulator(pdf, **opts)


def _grade_style(colour_of):
    def style(column: pd.Series):
        return [f"color: {colour_of(v)}; font-weight: 700" if colour_of(v) else "" for v in column]

    return style


def grade_colour(label: str | None) -> str | None:
    return present.grade_colour(label)


def plot(fig: go.Figure | str, name: str) -> pn.pane.Plotly | pn.pane.HTML:
    """A chart: a plotly figure on the server; on an offline page (``offline=True``, the figure
    functions return the reports' inline SVG or table instead) plain HTML, so the file carries no
    plotly.js (4.8 MB, more than half of its opening time)."""
    if isinstance(fig, str):
        return pn.pane.HTML(
            f"<style>{report_html.CHART_CSS}</style>{fig}", sizing_mode="stretch_width", css_classes=["hz-chart", name]
        )
    return pn.pane.Plotly(fig, config=PLOTLY_CONFIG, sizing_mode="stretch_width", css_classes=["hz-chart", name])


#: the heat map keeps its cells readable: narrower than this, it scrolls sideways in its own box
HEATMAP_MIN = 720


def scroll_box(pane, min_width: int) -> pn.Column:
    """``pane`` at least ``min_width`` wide, scrolling sideways inside its own box on a narrow screen."""
    pane.styles = {**(pane.styles or {}), "min-width": f"{min_width}px"}  # CSS only: the page does not widen
    return pn.Column(pane, scroll="x-auto", sizing_mode="stretch_width", css_classes=["hz-scroll"])


def svg_title(title: str, body: str) -> str:
    return f'<div class="chart"><div style="font-weight:700;margin:4px 0">{present.escape(title)}</div>{body}</div>'


def count_text(v) -> str:
    return present.DASH if v is None else present.integer(v)


# --------------------------------------------------------------------------- figures (pure)


HEATMAP_TITLE = "机构 × 维度得分率（按总分排序；灰色为不适用）"


def heatmap_figure(df: pl.DataFrame, dimensions: list[str], offline: bool = False) -> go.Figure | str:
    """Agency × dimension score rates with values printed, agencies in the order of ``df`` (by
    total), a 等级 column (vetoed in its own colour) and 不适用 cells in grey."""
    names = df.select("agency_code", "agency_name", "grade_label", "vetoed").unique("agency_code", maintain_order=True)
    codes = names["agency_code"].to_list()
    lookup = {(r["agency_code"], r["dimension"]): r["rate"] for r in df.iter_rows(named=True)}
    z = [[lookup.get((c, d)) for d in dimensions] for c in codes]
    if offline:
        rows = [(n or c, g, v) for c, n, g, v in names.iter_rows()]
        rates = [[None if v is None else v / 100 for v in row] for row in z]
        return svg_title(HEATMAP_TITLE, report_html.heat_table(rows, dimensions, rates))
    labels = [html_text(n or c) for c, n in names.select("agency_code", "agency_name").iter_rows()]
    text = [[present.DASH if v is None else present.percent(v / 100) for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=dimensions,
            y=labels,
            zmin=0,
            zmax=100,
            colorscale=present.rate_colorscale(),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            xgap=2,
            ygap=2,
            colorbar=dict(title="得分率%"),
            hovertemplate="%{y}<br>%{x}：%{text}<extra></extra>",
        )
    )
    na = [[1 if v is None else None for v in row] for row in z]
    fig.add_trace(
        go.Heatmap(
            z=na,
            x=dimensions,
            y=labels,
            colorscale=[[0, NA_COLOUR], [1, NA_COLOUR]],
            showscale=False,
            text=[["不适用" if v is None else "" for v in row] for row in z],
            texttemplate="%{text}",
            textfont={"size": 10, "color": "#424242"},
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        )
    )
    # the grade beside each name; a vetoed agency's row is framed and labelled in the veto colour
    ticks = [
        f'<span style="color:{VETO_COLOUR}"><b>{lab} · {html_text(g)}</b></span>' if v else f"{lab} · {html_text(g)}"
        for lab, g, v in zip(labels, names["grade_label"], names["vetoed"])
    ]
    fig.update_yaxes(tickmode="array", tickvals=labels, ticktext=ticks)
    for i, vetoed in enumerate(names["vetoed"]):
        if vetoed:
            fig.add_shape(
                type="rect",
                xref="paper",
                x0=0,
                x1=1,
                yref="y",
                y0=i - 0.5,
                y1=i + 0.5,
                line=dict(color=VETO_COLOUR, width=3),
                fillcolor="rgba(0,0,0,0)",
            )
    fig.update_layout(
        title=HEATMAP_TITLE,
        font=FONT,
        height=max(360, 24 * len(labels) + 140),
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis=dict(autorange="reversed", automargin=True),
        xaxis=dict(side="top"),
    )
    return fig


def trend_figure(df: pl.DataFrame, offline: bool = False) -> go.Figure | str:
    """Totals by year: the city average over every agency in ``df``, or, when ``df`` holds one
    agency (its page; an agency user's data), that agency's own line alone — an average over one
    agency's rows is not the city's."""
    years = sorted(set(df["year"].to_list()))
    one = df.height > 0 and df["agency_code"].n_unique() == 1
    if one:
        name, rows = df["agency_name"][0] or df["agency_code"][0], df.select("year", "total").sort("year")
    else:
        name, rows = "全市平均", df.group_by("year").agg(pl.col("total").mean()).sort("year")
    colour = "#c62828" if one else "#1f3b63"
    if offline:
        by_year = dict(rows.iter_rows())
        return report_html.bar_chart(
            [f"{y} 年" for y in years],
            [(name, [by_year.get(y) for y in years], colour)],
            top=100,
            value_text=present.points,
            title=f"历年总分趋势（{name}）",
        )
    fig = go.Figure()
    if df.height:
        fig.add_trace(
            go.Scatter(
                x=rows["year"].to_list(),
                y=rows["total"].to_list(),
                mode="lines+markers",
                name=html_text(name),
                line=dict(width=3, color=colour),
            )
        )
    fig.update_layout(
        title="历年总分趋势",
        font=FONT,
        height=360,
        xaxis=dict(title="年度", tickvals=years),
        yaxis=dict(title="总分", range=[0, 100]),
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=-0.25),
        showlegend=True,
    )
    return fig


def distribution_figure(dist: dict[str, int], vetoed: int = 0, offline: bool = False) -> go.Figure | str:
    grades = [g for g in GRADE_COLOURS if g in dist] + [g for g in dist if g not in GRADE_COLOURS]
    if offline:
        return report_html.bar_chart(
            grades,
            [("机构数", [dist[g] for g in grades], [GRADE_COLOURS.get(g, "#555") for g in grades])],
            top=max(dist.values(), default=0),
            value_text=lambda v: f"{count_text(v)} 家",
            title="等级分布" + (f"（不合格含一票否决 {vetoed} 家）" if vetoed else ""),
        )
    text = [f"{dist[g]}（含一票否决 {vetoed}）" if g == "不合格" and vetoed else str(dist[g]) for g in grades]
    fig = go.Figure(
        go.Bar(
            x=grades,
            y=[dist[g] for g in grades],
            marker_color=[GRADE_COLOURS.get(g, "#555") for g in grades],
            text=text,
            textposition="auto",
            textangle=0,
        )
    )
    fig.update_layout(
        title="等级分布", font=FONT, height=260, margin=dict(l=10, r=10, t=50, b=10), yaxis=dict(title="机构数")
    )
    return fig


def lost_points_figure(ind: pl.DataFrame, offline: bool = False) -> go.Figure | str:
    lost = ind.filter(pl.col("lost") > 0.005).sort("lost")
    if offline:
        lost = lost.reverse()  # most lost first, read top-down
        return report_html.bar_chart(
            [n or i for n, i in zip(lost["metric_name"], lost["metric_id"])],
            [("失分", lost["lost"].to_list(), "#c62828")],
            top=cast(float, lost["lost"].max() or 0),
            value_text=present.points,
            title="失分项" + ("（无）" if lost.is_empty() else ""),
        )
    fig = go.Figure(
        go.Bar(
            x=lost["lost"].to_list(),
            y=[html_text(n or i) for n, i in zip(lost["metric_name"], lost["metric_id"])],
            orientation="h",
            marker_color="#c62828",
            text=[present.points(v) for v in lost["lost"]],
            textposition="auto",
            textangle=0,
            hovertemplate="%{y}：失 %{x:.2f} 分<extra></extra>",
        )
    )
    fig.update_layout(
        title="失分项",
        font=FONT,
        height=max(260, 28 * lost.height + 100),
        margin=dict(l=10, r=10, t=50, b=10),
        xaxis=dict(title="失分"),
        yaxis=dict(automargin=True),
    )
    return fig


def overdue_by_agency_figure(items: pl.DataFrame, offline: bool = False) -> go.Figure | str:
    """Overdue and due-soon items per agency as horizontal bars, most first (names read across)."""
    by = (
        items.filter(pl.col("state") != "未到期")
        .with_columns(pl.coalesce(pl.col("agency_name"), pl.col("agency_code")).alias("who"))
        .group_by("who")
        .agg(over=(pl.col("state") == "逾期").sum(), soon=(pl.col("state") == "即将到期").sum())
        .with_columns(n=pl.col("over") + pl.col("soon"))
        .sort(["n", "over", "who"], descending=[False, False, True])
    )
    if offline:
        by = by.reverse()  # most first, read top-down
        return report_html.bar_chart(
            by["who"].to_list(),
            [("逾期", by["over"].to_list(), "#c62828"), ("即将到期", by["soon"].to_list(), "#f9a825")],
            top=cast(float, by["n"].max() or 0),
            value_text=count_text,
            title="按机构（逾期多者在上）",
        )
    by = by.with_columns(pl.col("who").map_elements(html_text, return_dtype=pl.String))
    fig = go.Figure()
    for col, name, colour in (("over", "逾期", "#c62828"), ("soon", "即将到期", "#f9a825")):
        fig.add_trace(
            go.Bar(
                y=by["who"].to_list(),
                x=by[col].to_list(),
                name=name,
                orientation="h",
                marker_color=colour,
                text=[str(v) if v else "" for v in by[col]],
                textposition="inside",
                textangle=0,
                insidetextanchor="middle",
            )
        )
    fig.update_layout(
        barmode="stack",
        title="按机构（逾期多者在上）",
        font=FONT,
        height=max(260, 26 * by.height + 130),
        margin=dict(l=10, r=10, t=80, b=10),
        xaxis=dict(title="事项数", dtick=1, rangemode="tozero"),
        yaxis=dict(automargin=True),
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"),
    )
    return fig


def gate_conditions_figure(fails: pl.DataFrame, conditions: dict[str, str], offline: bool = False) -> go.Figure | str:
    """Failed projects per condition G1–G4 (every condition shown, zero included)."""
    labels = [f"{k} {v}" for k, v in conditions.items()]
    counts = [fails.filter(pl.col("failed_conditions").str.contains(k, literal=True)).height for k in conditions]
    if offline:
        return report_html.bar_chart(
            labels,
            [("项目数", counts, "#c62828")],
            top=max(counts + [0]),
            value_text=count_text,
            title="未通过条件分布",
        )
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=counts,
            orientation="h",
            marker_color="#c62828",
            text=[str(c) for c in counts],
            textposition="auto",
            textangle=0,
        )
    )
    fig.update_layout(
        title="未通过条件分布",
        font=FONT,
        height=260,
        margin=dict(l=10, r=10, t=50, b=10),
        xaxis=dict(title="项目数", rangemode="tozero", dtick=1 if max(counts + [0]) < 10 else None),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return fig


# --------------------------------------------------------------------------- 总览

RANK_TITLES = {**present.labels("rank", "agency_name", "total", "grade_label"), **present.YEAR_CHANGE_COLUMNS}


class OverviewPage(pn.viewable.Viewer):
    """KPIs (as of the run), vetoes, rankings per peer group (every agency, no inner scroll),
    the heat map and the trend."""

    store = param.Parameter()
    run_id = param.String()
    on_agency = param.Callable(default=None)
    #: inside a file without a server (:mod:`hzeval.dashboard.offline`): charts as inline SVG, no plotly.js
    offline = param.Boolean(default=False)

    @param.depends("run_id")
    def content(self) -> pn.Column:
        store, run_id = self.store, self.run_id
        grades = store.grades(run_id)
        if grades.is_empty():
            return pn.Column(empty_note("本次评估没有可显示的参评单位。"))
        k = store.kpis(run_id)
        dist = k["distribution"]
        as_of = present.day(k["as_of"])
        kpis = cards(
            [
                (present.GRADED_UNITS, f"{present.integer(k['graded'])} 家", ""),
                ("平均分", present.points(k["average"]), ""),
                (
                    "优秀 / 不合格",
                    f"{dist.get('优秀', 0)} / {dist.get('不合格', 0)} 家",
                    "bad" if dist.get("不合格") else "",
                ),
                ("一票否决", f"{k['vetoed']} 家", "veto" if k["vetoed"] else ""),
                (
                    f"逾期事项（截至 {as_of}）",
                    present.DASH if k["overdue_now"] is None else f"{k['overdue_now']} 项",
                    "bad" if k["overdue_now"] else "",
                ),
            ]
        )
        rankings = []
        # 较上年 against the previous year's official run, computed once (hzeval.runs.year_change)
        changes = store.year_changes(run_id).select("agency_code", *present.YEAR_CHANGE_COLUMNS)
        ranked = grades.join(changes, on="agency_code", how="left", maintain_order="left")
        for group in store.peer_groups(run_id):
            g = ranked.filter(pl.col("peer_group") == group)
            t = table(
                g,
                RANK_TITLES,
                numeric=("rank", "total", "change_text", "rank_change_text"),
                pagination=None,
                css_classes=["hz-ranking"],
                widths={"名次": 64, "总分": 76, "等级": 124, present.YEAR_CHANGE_COLUMNS["grade_change_text"]: 124},
            )
            t.style.apply(_grade_style(grade_colour), subset=["等级"])
            if self.on_agency is not None:

                def open_agency(e, g=g):
                    self.on_agency(g["agency_code"][e.row])

                t.on_click(open_agency)
            hint = "（点击机构查看详情）" if self.on_agency is not None else ""
            rankings.append(
                pn.Column(
                    pn.pane.Markdown(f"### {markdown_text(group)}排名{hint}"),
                    t,
                    sizing_mode="stretch_width",
                    min_width=320,
                )
            )
        dims = [d.name for d in store.scheme(run_id).dimensions]
        veto = veto_box(grades)
        return pn.Column(
            kpis,
            *([veto] if veto else []),
            plot(distribution_figure(dist, k["vetoed"], self.offline), "hz-dist"),
            pn.pane.Markdown(markdown_text(store.previous_note(run_id)), css_classes=["hz-yoy-note"]),
            pn.FlexBox(*rankings, flex_wrap="wrap", sizing_mode="stretch_width"),
            scroll_box(plot(heatmap_figure(store.heatmap(run_id), dims, self.offline), "hz-heatmap"), HEATMAP_MIN),
            plot(trend_figure(store.trend(), self.offline), "hz-trend"),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return self.content()


def overview_page(store: Store, run_id: str, on_agency=None, now: dt.datetime | None = None) -> pn.Column:
    return OverviewPage(store=store, run_id=run_id, on_agency=on_agency).content()


# --------------------------------------------------------------------------- 机构详情

#: the indicator table of the agency page: a score's arithmetic in the one vocabulary (DESIGN §7a)
IND_TITLES = {
    "dimension": present.ARITHMETIC_COLUMNS["dimension"],
    "metric_name": present.ARITHMETIC_COLUMNS["metric_name"],
    "article": "条款",
    **{k: v for k, v in present.ARITHMETIC_COLUMNS.items() if k not in ("dimension", "metric_name")},
}
#: the arithmetic tables keep readable columns on a phone (they scroll sideways instead of
#: squeezing every text column to one character)
ARITHMETIC_TABLE = {**TABULATOR_ZH, **PRINT_TABLE, "columnDefaults": {"minWidth": 72}}
#: the deduction table of the agency page
DED_TITLES = {**present.DEDUCTION_COLUMNS, "article": "条款"}
DED_TITLES.pop("deduction_text")
EV_TITLES = present.labels(
    "metric_name",
    "article",
    "record_table",
    "record_id",
    "reason",
    "due_at",
    "done_text",
    "record_time",
    "wd_late",
    "adjustment_id",
    **present.EVIDENCE_LABELS,
)


class AgencyPage(pn.viewable.Viewer):
    """One agency: grade (and veto), indicators with 满分 and 失分, lost points, trend, evidence
    filtered by metric and text."""

    store = param.Parameter()
    run_id = param.String()
    agency = param.String(allow_None=True)
    metric: param.Selector[str] = param.Selector(default="", objects=[""])
    text = param.String(default="")
    #: the page inside a file without a server (:mod:`hzeval.dashboard.offline`): no server-side filter
    #: or download, the evidence table filters in the browser (header filters); charts as inline SVG
    offline = param.Boolean(default=False)
    #: offline, the evidence rows carried (the longest late first)
    offline_rows = param.Integer(default=OFFLINE_ROWS, bounds=(1, None))

    def __init__(self, **params):
        super().__init__(**params)
        self.grade = self.store.grade(self.run_id, self.agency) if self.agency else None
        if self.grade is not None:
            ev = self.store.evidence(self.run_id, self.agency)
            names = dict(zip(ev["metric_id"], ev["metric_name"]))
            opts = {"全部指标": ""} | {names.get(m) or m: m for m in sorted(names)}
            self.param.metric.objects = list(opts.values())
            self.metric_labels = opts

    def evidence_frame(self) -> pl.DataFrame:
        return self.store.evidence(self.run_id, self.agency, self.metric or None, self.text or None)

    @param.depends("metric", "text", watch=True)
    def _filter_evidence(self) -> None:
        """A filter change updates the one evidence table in place (no new table per keystroke)."""
        df = self.evidence_frame()
        self.ev_count.object = f"共 {df.height} 条证据" + (
            "（本机构没有符合条件的未达标事项）" if df.is_empty() else ""
        )
        self.ev_table.value = display_frame(df, EV_TITLES)

    def content(self) -> pn.Column:
        g = self.grade
        if g is None:
            return pn.Column(pn.pane.Markdown("## 机构详情"), empty_note("无可显示的数据（无此机构或无权查看）。"))
        store, run_id, agency = self.store, self.run_id, self.agency
        ind = store.indicators(run_id, agency).with_columns(  # a deduction has no 满分
            max_points=pl.when(pl.col("is_deduction")).then(None).otherwise(pl.col("max_points"))
        )
        head = pn.pane.Markdown(
            f"## {markdown_text(g['agency_name'] or g['agency_code'])}（{markdown_text(g['agency_code'])}）\n"
            f"**{g['year']} 年度总分 {present.points(g['total'])}，"
            f"等级 {markdown_text(present.grade_label(g['grade'], g['vetoed']))}**"
            + (f"，{markdown_text(g['peer_group'])}第 {g['rank']} 名" if g["rank"] is not None else "（不参与排名）")
            + (f"\n\n{markdown_text(g['veto_text'])}" if g["vetoed"] and g.get("veto_text") else ""),
            css_classes=["hz-agency-head"],
        )
        tools: list[pn.viewable.Viewable]
        if self.offline:  # no server to filter or export: the table filters itself, per column
            tools = [pn.pane.Markdown("在表头输入关键字即可筛选（离线文件，无需网络）。", css_classes=["hz-ev-hint"])]
        else:
            tools = [
                pn.widgets.Select.from_param(
                    self.param.metric, label="指标", options=self.metric_labels, width=240, css_classes=["hz-ev-metric"]
                ),
                pn.widgets.TextInput.from_param(
                    self.param.text, label="记录编号 / 原因包含", placeholder="输入关键字", width=240
                ),
            ]
        if store.user.can_export and not self.offline:
            tools.append(
                pn.widgets.FileDownload(
                    callback=lambda: io.BytesIO(
                        store.evidence_csv(run_id, agency, self.metric or None, self.text or None)
                    ),
                    filename=f"证据_{agency}_{g['year']}.csv",
                    label="下载证据 CSV",
                    button_type="primary",
                    width=180,
                    css_classes=["hz-evidence-download"],
                )
            )
        ev = self.evidence_frame()
        count = f"共 {ev.height} 条证据"
        if self.offline and ev.height > self.offline_rows:
            ev = ev.sort("wd_late", descending=True, nulls_last=True, maintain_order=True).head(self.offline_rows)
            count += f"（离线文件列出逾期最久的 {self.offline_rows} 条；全部证据见本机构评估报告与评分工作簿）"
        self.ev_count = pn.pane.Markdown(count, css_classes=["hz-ev-count"])
        filters: dict[str, Any] = (
            {
                "header_filters": {
                    EV_TITLES[c]: {"type": "input", "func": "like", "placeholder": "筛选"}
                    for c in ("metric_name", "record_table", "record_id", "reason")
                }
            }
            if self.offline
            else {}
        )
        self.ev_table = table(ev, EV_TITLES, numeric=("wd_late",), page_size=15, css_classes=["hz-evidence"], **filters)
        veto = veto_box(pl.DataFrame([g]))
        indicators = ind.filter(~pl.col("is_deduction")).with_columns(  # not applicable: no 得分, no 失分
            points=pl.when(pl.col("applicable")).then(pl.col("points")),
            lost=pl.when(pl.col("applicable")).then(pl.col("lost")),
        )
        deductions = ind.filter(pl.col("is_deduction"))
        line = store.score_line(run_id, agency)
        zeros = [  # a standing obligation with nothing to count: why 0 and what to do (no evidence to show)
            pn.pane.Alert(f"**{markdown_text(r['metric_name'])}**：{markdown_text(r['note'])}", alert_type="warning")
            for r in indicators.filter(pl.col("standing_zero")).iter_rows(named=True)
        ]
        return pn.Column(
            head,
            *([veto] if veto else []),
            pn.pane.Markdown("### 指标得分与计算"),
            table(
                indicators,
                IND_TITLES,
                numeric=("target", "floor", "points", "lost"),
                pagination=None,
                css_classes=["hz-indicators"],
                configuration=ARITHMETIC_TABLE,
                pin={"metric_name": "left", "points": "right", "lost": "right"},
                widths={
                    IND_TITLES["metric_name"]: 120,
                    IND_TITLES["max_text"]: 220,
                    IND_TITLES["note"]: 220,
                },
            ),
            *(
                [
                    table(
                        deductions.with_columns(pl.col("count").fill_null(0)),
                        DED_TITLES,
                        numeric=("count", "per", "cap", "lost"),
                        pagination=None,
                        css_classes=["hz-deductions"],
                        configuration=ARITHMETIC_TABLE,
                    )
                ]
                if deductions.height
                else []
            ),
            *(
                [pn.pane.HTML(f"<p><b>总分计算：</b>{html_text(line)}</p>", css_classes=["hz-score-line"])]
                if line
                else []
            ),
            *zeros,
            plot(lost_points_figure(ind, self.offline), "hz-lost"),
            plot(trend_figure(store.trend(agency), self.offline), "hz-agency-trend"),
            pn.pane.Markdown("### 证据（未达标事项）"),
            pn.FlexBox(*tools, flex_wrap="wrap"),
            self.ev_count,
            self.ev_table,
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return self.content()


def agency_page(store: Store, run_id: str, agency: str | None) -> pn.Column:
    return AgencyPage(store=store, run_id=run_id, agency=agency).content()


# --------------------------------------------------------------------------- 督办

SUP_TITLES = present.labels(
    "category", "article", "agency_name", "record_id", "due_at", "state", "wd_overdue", "wd_left", "notified"
)


class SupervisionPage(pn.viewable.Viewer):
    """督办 at a chosen time (default: the run's as-of time, like the rest of the dashboard)."""

    store = param.Parameter()
    as_of = param.Date()
    agency = param.String(default="")
    agency_options = param.Dict(default={})
    #: inside a file without a server (:mod:`hzeval.dashboard.offline`): charts as inline SVG, no plotly.js
    offline = param.Boolean(default=False)
    #: offline, the items carried (the longest overdue first)
    offline_rows = param.Integer(default=OFFLINE_ROWS, bounds=(1, None))

    @param.depends("as_of", "agency")
    def body(self) -> pn.Column:
        store = self.store
        try:
            items = store.supervision(self.as_of, self.agency or None)
        except HzevalError as exc:
            return pn.Column(pn.pane.Alert(markdown_text(exc.zh), alert_type="danger"))
        if items is None:
            return pn.Column(empty_note("已发布的评估运行不含督办所需的原始数据，请重新运行 hzeval assess。"))
        over = items.filter(pl.col("state") == "逾期")
        soon = items.filter(pl.col("state") == "即将到期")
        who = next((k for k, v in self.agency_options.items() if v == self.agency), "")
        summary = pn.pane.Markdown(
            f"{markdown_text(who)}，截至 {present.when(self.as_of)}：未办结 **{items.height}** 项，"
            f"其中逾期 **{over.height}** 项、即将到期 **{soon.height}** 项",
            css_classes=["hz-sup-summary"],
        )
        if items.is_empty():
            return pn.Column(summary, empty_note("截至该时点没有未办结的督办事项。"), sizing_mode="stretch_width")
        by_article = items.group_by("article", "category", "state").len().sort(["article", "category", "state"])
        return pn.Column(
            summary,
            pn.FlexBox(
                pn.Column(
                    plot(overdue_by_agency_figure(items, self.offline), "hz-sup-agency"),
                    sizing_mode="stretch_width",
                    min_width=320,
                ),
                pn.Column(
                    table(
                        by_article,
                        {"article": "条款", "category": "事项类别", "state": "状态", "len": "数量"},
                        numeric=("len",),
                        pagination=None,
                    ),
                    min_width=320,
                    sizing_mode="stretch_width",
                ),
                flex_wrap="wrap",
                sizing_mode="stretch_width",
            ),
            *self._items_table(items),
            sizing_mode="stretch_width",
        )

    def _items_table(self, items: pl.DataFrame) -> list:
        note = []
        if self.offline and items.height > self.offline_rows:  # overdue longest first, then due soonest
            items = items.sort(
                ["wd_overdue", "wd_left"], descending=[True, False], nulls_last=True, maintain_order=True
            ).head(self.offline_rows)
            note = [
                pn.pane.Markdown(
                    f"离线文件列出逾期最久的 {self.offline_rows} 项；"
                    "完整清单见评分工作簿的督办清单或 hzeval supervise。",
                    css_classes=["hz-sup-cap"],
                )
            ]
        return [
            *note,
            table(items, SUP_TITLES, numeric=("wd_overdue", "wd_left"), page_size=20, css_classes=["hz-supervision"]),
        ]

    def content(self) -> pn.Column:
        picker = pn.widgets.DatetimeInput.from_param(
            self.param.as_of, label="截至时间（年-月-日 时:分）", width=220, format="%Y-%m-%d %H:%M"
        )
        now_btn = pn.widgets.Button(label="现在", width=80, align="end")
        now_btn.on_click(lambda e: setattr(self, "as_of", dt.datetime.now().replace(second=0, microsecond=0)))
        opts = self.agency_options
        ag = pn.widgets.Select.from_param(
            self.param.agency, label="机构", options=opts, width=300, css_classes=["hz-sup-filter"]
        )
        return pn.Column(
            pn.pane.Markdown("## 督办：逾期与即将到期事项"),
            pn.FlexBox(picker, now_btn, ag, flex_wrap="wrap"),
            pn.panel(self.body),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return self.content()


def supervision_page(
    store: Store,
    agency_options: dict[str, str],
    now: dt.datetime | None = None,
    run_id: str | None = None,
    agency: str | None = None,
    on_agency=None,
) -> pn.Column:
    """``now`` (or else the run's as-of time) is the initial 截至时间; ``agency`` the initial filter
    (only a code offered to this user, else the first option); ``on_agency(code)`` hears every change."""
    run_id = run_id or store.latest_run_id()
    start = now or (store.run(run_id)["as_of"] if run_id else dt.datetime.now())
    opts = agency_options if store.user.is_agency else {"全部机构": ""} | agency_options
    page = SupervisionPage(
        store=store,
        as_of=start.replace(second=0, microsecond=0),
        agency_options=opts,
        agency=agency if agency and agency in opts.values() else next(iter(opts.values()), ""),
    )
    if on_agency is not None:
        page.param.watch(lambda e: on_agency(e.new), "agency")
    return page.content()


# --------------------------------------------------------------------------- 项目门禁

GATE_TITLES = {
    "project_id": "项目编号",
    "project_name": "项目名称",
    "owner_name": "建设单位",
    "result": "结果",
    "failed_conditions": "未通过条件",
    "failed_resources": "未通过资源",
    "checked_at": "核验时点",
}
CONDITIONS = conditions_text()


def gates_page(store: Store, run_id: str, offline: bool = False) -> pn.Column:
    df = store.gates(run_id)
    if df.is_empty():
        note = "本机构无项目。" if store.user.is_agency else "本次评估没有项目门禁记录。"
        return pn.Column(pn.pane.Markdown("## 项目门禁"), empty_note(note), css_classes=["hz-gates-page"])
    fails = df.filter(~pl.col("passed"))
    flagged = df.filter(pl.col("accepted_while_failing")).height
    t = table(df, GATE_TITLES, css_classes=["hz-gates"])
    t.style.apply(_grade_style(lambda v: "#2e7d32" if v == "通过" else ("#c62828" if v else None)), subset=["结果"])
    return pn.Column(
        pn.pane.Markdown(f"## 项目门禁\n{CONDITIONS}（{markdown_text(store.article(run_id, 'project_gate'))}）"),
        cards(
            [
                ("项目数", f"{df.height} 个", ""),
                ("未通过", f"{fails.height} 个", "bad" if fails.height else ""),
                ("带病验收", f"{flagged} 个", "bad" if flagged else ""),
            ]
        ),
        plot(gate_conditions_figure(fails, GATE_CONDITIONS, offline), "hz-gates-chart"),
        t,
        sizing_mode="stretch_width",
        css_classes=["hz-gates-page"],
    )


# --------------------------------------------------------------------------- 方案模拟

WHATIF_TITLES = {
    "peer_group": "组别",
    "agency_name": "机构名称",
    "total": "官方总分",
    "sim_total": "模拟总分",
    "delta": "分差",
    "grade": "官方等级",
    "sim_grade": "模拟等级",
    "rank": "官方名次",
    "sim_rank": "模拟名次",
}


class WhatIfPage(pn.viewable.Viewer):
    """Re-score the run with changed dimension weights and grade lines; agencies whose grade
    changes are highlighted and listed first; the weight total is shown."""

    store = param.Parameter()
    run_id = param.String()
    weights = param.Dict(default={})
    bands = param.Dict(default={})

    def __init__(self, **params):
        super().__init__(**params)
        self.scheme = self.store.scheme(self.run_id)
        self.ordered = sorted(self.scheme.grades, key=lambda b: -b.min)[:-1]
        # the weight total, the summary and the table: built once, then updated by _rescore
        self.weight_note = pn.pane.Markdown(css_classes=["hz-weight-total"])
        self.summary = pn.pane.Markdown(css_classes=["hz-whatif-summary"])
        self._flags: list[bool] = []
        self.table = table(
            pl.DataFrame({c: [] for c in WHATIF_TITLES}),
            WHATIF_TITLES,
            numeric=("total", "sim_total", "delta", "rank", "sim_rank"),
            css_classes=["hz-whatif"],
            page_size=25,
        )
        self.table.style.apply(
            lambda row: [
                "background-color: #ffe3e0; font-weight: 700"
                if row.name < len(self._flags) and self._flags[row.name]
                else ""
                for _ in row
            ],
            axis=1,
        )
        self.param.update(
            weights={d.name: float(d.weight) for d in self.scheme.dimensions},
            bands={b.grade: float(b.min) for b in self.ordered},
        )
        self._inputs = {}
        for i, d in enumerate(self.scheme.dimensions):
            w = pn.widgets.FloatInput(
                label=f"{d.name}权重",
                value=float(d.weight),
                start=0,
                end=100,
                step=1,
                width=150,
                css_classes=["hz-weight", f"hz-weight-{i}"],
            )
            w.param.watch(lambda e, k=d.name: self.param.update(weights={**self.weights, k: e.new}), "value")
            self._inputs[("w", d.name)] = w
        for i, b in enumerate(self.ordered):
            w = pn.widgets.FloatInput(
                label=f"{b.grade}分数线",
                value=float(b.min),
                start=0,
                end=100,
                step=1,
                width=150,
                css_classes=["hz-band", f"hz-band-{i}"],
            )
            w.param.watch(lambda e, k=b.grade: self.param.update(bands={**self.bands, k: e.new}), "value")
            self._inputs[("b", b.grade)] = w

    def reset(self, *_):
        with param.parameterized.batch_call_watchers(self):
            for d in self.scheme.dimensions:
                self._inputs[("w", d.name)].value = float(d.weight)
            for b in self.ordered:
                self._inputs[("b", b.grade)].value = float(b.min)

    @param.depends("weights", "bands", watch=True)
    def _rescore(self) -> None:
        """A weight or band change re-scores and updates the summary and the one table in place."""
        total = sum(v or 0 for v in self.weights.values())
        self.weight_note.object = f"权重合计 **{present.number(total)}**" + (
            "（按比例折算为 100 分）" if abs(total - 100) > 1e-9 else "（= 100）"
        )
        try:
            df = self.store.whatif(self.run_id, self.weights, self.bands)
        except ValueError as exc:
            self.summary.object = f"**方案无效**：{markdown_text(str(exc).split(' / ')[0])}"
            return
        changed = df.filter(pl.col("grade_changed")).height
        moved = df.filter(pl.col("sim_rank") != pl.col("rank")).height
        self.summary.object = (
            f"等级变化 **{changed}** 家（标红、排在最前），名次变化 **{moved}** 家（模拟结果仅供参考，不保存，"
            f"官方结果以运行 {markdown_text(self.run_id)} 为准）"
        )
        self._flags = df["grade_changed"].to_list()
        self.table.value = display_frame(df, WHATIF_TITLES)

    def result(self) -> pn.Column:
        """The weight total, the summary and the table of the current weights and bands."""
        return pn.Column(self.weight_note, self.summary, self.table, sizing_mode="stretch_width")

    def content(self) -> pn.Column:
        reset = pn.widgets.Button(label="恢复官方方案", width=140, align="end")
        reset.on_click(self.reset)
        weights = [v for (kind, _), v in self._inputs.items() if kind == "w"]
        bands = [v for (kind, _), v in self._inputs.items() if kind == "b"]
        return pn.Column(
            pn.pane.Markdown(
                f"## 方案模拟\n调整维度权重（按比例折算为 100 分）和等级分数线，"
                f"对照官方运行 {markdown_text(self.run_id)} 重新评分。"
            ),
            pn.FlexBox(*weights, flex_wrap="wrap"),
            pn.FlexBox(*bands, reset, flex_wrap="wrap"),
            self.result(),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return self.content()


def whatif_page(store: Store, run_id: str) -> pn.Column:
    return WhatIfPage(store=store, run_id=run_id).content()


# --------------------------------------------------------------------------- 大屏 (wall mode)

#: seconds each wall slide stays on screen (``/?mode=wall&interval=…``, ``dashboard.html#wall&interval=…``)
WALL_INTERVAL = 20
#: the bounds of a chosen interval (a typed value outside them falls back to :data:`WALL_INTERVAL`)
WALL_INTERVAL_BOUNDS = (2, 600)
#: how often the live wall asks whether a newer run was published (seconds)
WALL_POLL = 30
#: rows of a wall list (readable from across the room at 1080 px high)
WALL_ROWS = 8
WALL_SLIDES = ("全市概况", "排名", "督办", "项目门禁")


def wall_interval(raw: str | None) -> int:
    """The slide interval typed into a URL: whole seconds within :data:`WALL_INTERVAL_BOUNDS`, else the default."""
    lo, hi = WALL_INTERVAL_BOUNDS
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        return WALL_INTERVAL
    return int(text) if lo <= int(text) <= hi else WALL_INTERVAL


def wall_css(slides: int) -> str:
    """The wall's style at 1920×1080: large type; the slides take turns by a CSS animation, so the
    same markup rotates inside the server's page and in the offline file. ``--hz-t`` is the interval."""
    share = 100 / slides
    return f"""
.hz-wall {{ --hz-t: {WALL_INTERVAL}s; position: relative; box-sizing: border-box; width: 100%; height: 100vh;
  min-height: 600px; overflow: hidden; background: #0f2240; color: #fff; padding: 28px 48px;
  font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 28px; line-height: 1.35; }}
.hz-wall * {{ box-sizing: border-box; }}
.hz-wall .w-head {{ display: flex; justify-content: space-between; align-items: baseline; gap: 24px;
  border-bottom: 2px solid #3d5a85; padding-bottom: 10px; }}
.hz-wall .w-title {{ font-size: 44px; font-weight: 700; }}
.hz-wall .w-fresh {{ font-size: 22px; color: #c9d6ea; text-align: right; }}
.hz-wall .w-slide {{ position: absolute; left: 48px; right: 48px; top: 120px; bottom: 28px; visibility: hidden;
  animation: hz-wall-turn calc({slides} * var(--hz-t)) linear infinite; }}
.hz-wall .w-slide h2 {{ font-size: 40px; margin: 10px 0 20px; color: #ffd54f; }}
.hz-wall .w-cards {{ display: flex; flex-wrap: wrap; gap: 24px; }}
.hz-wall .w-card {{ flex: 1 1 380px; background: #1b355c; border-radius: 10px; padding: 20px 28px; }}
.hz-wall .w-card .k {{ font-size: 28px; color: #c9d6ea; }}
.hz-wall .w-card .v {{ font-size: 84px; font-weight: 700; line-height: 1.15; white-space: nowrap; }}
.hz-wall .w-card.bad .v {{ color: #ff8a80; }} .hz-wall .w-card.veto .v {{ color: #e1bee7; }}
.hz-wall .w-cols {{ display: flex; gap: 40px; }} .hz-wall .w-cols > div {{ flex: 1 1 0; min-width: 0; }}
.hz-wall table {{ width: 100%; border-collapse: collapse; font-size: 26px; }}
.hz-wall td.w, .hz-wall th {{ white-space: nowrap; }}
.hz-wall th {{ text-align: left; color: #c9d6ea; font-weight: 600; border-bottom: 2px solid #3d5a85;
  padding: 4px 8px; }}
.hz-wall td {{ padding: 5px 8px; border-bottom: 1px solid #27446e; overflow-wrap: anywhere; }}
.hz-wall td.n, .hz-wall th.n {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
.hz-wall .g-优秀 {{ color: #81c784; }} .hz-wall .g-良好 {{ color: #90caf9; }} .hz-wall .g-合格 {{ color: #ffe082; }}
.hz-wall .g-不合格 {{ color: #ff8a80; }} .hz-wall .g-veto {{ color: #e1bee7; font-weight: 700; }}
.hz-wall .w-note {{ font-size: 22px; color: #c9d6ea; margin-top: 12px; }}
@keyframes hz-wall-turn {{ 0%, {share - 0.01:.2f}% {{ visibility: visible; }}
  {share:.2f}%, 100% {{ visibility: hidden; }} }}
"""


def _wall_table(headers: list[tuple[str, bool]], rows: list[list[tuple[str, str]]]) -> str:
    """headers: (text, numeric); rows of (text, css class) cells; every text escaped here."""
    head = "".join(f"<th{' class=n' if num else ''}>{present.escape(h)}</th>" for h, num in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{c}">{present.escape(t)}</td>' for t, c in row) + "</tr>" for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">（无）</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _wall_cards(items: list[tuple[str, str, str]]) -> str:
    return (
        '<div class="w-cards">'
        + "".join(
            f'<div class="w-card {c}"><div class="k">{present.escape(k)}</div>'
            f'<div class="v">{present.escape(v)}</div></div>'
            for k, v, c in items
        )
        + "</div>"
    )


def wall_html(store: Store, run_id: str, interval: int = WALL_INTERVAL) -> str:
    """The 大屏 of a run (issue 27 item 8): the city's KPIs, the ranking of each peer group, the
    督办 counts and the gate failures, one slide at a time, ``interval`` seconds each. Plain HTML
    with its own style (no script), every value escaped."""
    run = store.run(run_id)
    k = store.kpis(run_id)
    dist = k["distribution"]
    grades = store.grades(run_id)
    overview = _wall_cards(
        [
            (present.GRADED_UNITS, f"{present.integer(k['graded'])} 家", ""),
            ("平均分", present.points(k["average"]), ""),
            *[(g, f"{dist.get(g, 0)} 家", "bad" if g == "不合格" and dist.get(g) else "") for g in GRADE_COLOURS],
            ("一票否决", f"{k['vetoed']} 家", "veto" if k["vetoed"] else ""),
            (
                f"逾期事项（截至 {present.day(k['as_of'])}）",
                present.DASH if k["overdue_now"] is None else f"{k['overdue_now']} 项",
                "bad" if k["overdue_now"] else "",
            ),
        ]
    )
    groups = []
    for group in store.peer_groups(run_id):
        g = grades.filter(pl.col("peer_group") == group).head(WALL_ROWS)
        rows = [
            [
                (present.DASH if r["rank"] is None else str(r["rank"]), "n"),
                (r["agency_name"] or r["agency_code"], ""),
                (present.points(r["total"]), "n"),
                (r["grade_label"] or present.DASH, "w " + ("g-veto" if r["vetoed"] else f"g-{r['grade']}")),
            ]
            for r in g.iter_rows(named=True)
        ]
        more = grades.filter(pl.col("peer_group") == group).height - g.height
        note = f'<div class="w-note">另有 {more} 家见驾驶舱总览</div>' if more > 0 else ""
        groups.append(
            f"<div><h3>{present.escape(group)}</h3>"
            + _wall_table([("名次", True), ("机构", False), ("总分", True), ("等级", False)], rows)
            + f"{note}</div>"
        )
    ranking = f'<div class="w-cols">{"".join(groups[:3])}</div>'
    items = store.supervision(run["as_of"], run_id=run_id)
    if items is None:
        supervision = '<div class="w-note">已发布的评估运行不含督办所需的原始数据。</div>'
    else:
        over = items.filter(pl.col("state") == "逾期")
        soon = items.filter(pl.col("state") == "即将到期")
        by_cat = (
            items.group_by("category")
            .agg(over=(pl.col("state") == "逾期").sum(), soon=(pl.col("state") == "即将到期").sum(), n=pl.len())
            .sort(["over", "n", "category"], descending=[True, True, False])
        )
        by_agency = (
            over.with_columns(who=pl.coalesce(pl.col("agency_name"), pl.col("agency_code")))
            .group_by("who")
            .len()
            .sort(["len", "who"], descending=[True, False])
            .head(WALL_ROWS)
        )
        supervision = (
            _wall_cards(
                [
                    ("未办结", f"{items.height} 项", ""),
                    ("逾期", f"{over.height} 项", "bad" if over.height else ""),
                    ("即将到期", f"{soon.height} 项", ""),
                ]
            )
            + '<div class="w-cols" style="margin-top:24px"><div>'
            + _wall_table(
                [("事项类别", False), ("逾期", True), ("即将到期", True), ("未办结", True)],
                [
                    [(r["category"], ""), (str(r["over"]), "n"), (str(r["soon"]), "n"), (str(r["n"]), "n")]
                    for r in by_cat.iter_rows(named=True)
                ],
            )
            + "</div><div>"
            + _wall_table(
                [("逾期最多的机构", False), ("逾期", True)],
                [[(r["who"], ""), (str(r["len"]), "n")] for r in by_agency.iter_rows(named=True)],
            )
            + "</div></div>"
        )
    gates = store.gates(run_id)
    fails = gates.filter(~pl.col("passed"))
    flagged = gates.filter(pl.col("accepted_while_failing")).height
    per_condition = [
        [
            (f"{c} {text}", ""),
            (str(fails.filter(pl.col("failed_conditions").str.contains(c, literal=True)).height), "n"),
        ]
        for c, text in GATE_CONDITIONS.items()
    ]
    failing = [
        [
            (r["project_id"], "w"),
            (r["project_name"] or present.DASH, ""),
            (r["owner_name"] or "", ""),
            (r["result"], ""),
        ]
        for r in fails.head(WALL_ROWS).iter_rows(named=True)
    ]
    gate_part = (
        _wall_cards(
            [
                ("项目数", f"{gates.height} 个", ""),
                ("未通过", f"{fails.height} 个", "bad" if fails.height else ""),
                ("带病验收", f"{flagged} 个", "bad" if flagged else ""),
            ]
        )
        + '<div class="w-cols" style="margin-top:24px"><div style="flex:0 0 34%">'
        + _wall_table([("未通过条件", False), ("项目", True)], per_condition)
        + "</div><div>"
        + _wall_table([("项目编号", False), ("项目名称", False), ("建设单位", False), ("结果", False)], failing)
        + "</div></div>"
    )
    bodies = (overview, ranking, supervision, gate_part)
    slides = "".join(
        f'<section class="w-slide" data-slide="{i}" style="animation-delay: calc({i} * var(--hz-t))">'
        f"<h2>{present.escape(name)}</h2>{body}</section>"
        for i, (name, body) in enumerate(zip(WALL_SLIDES, bodies))
    )
    title = f"{run['year']} 年度惠州市公共数据管理评估"
    return (
        f"<style>{wall_css(len(WALL_SLIDES))}</style>"
        f'<div class="hz-wall" data-run="{present.escape(run_id)}" style="--hz-t: {int(interval)}s">'
        f'<div class="w-head"><div class="w-title">{present.escape(title)}</div>'
        f'<div class="w-fresh">{present.escape(freshness_line(store, run_id))}</div></div>{slides}</div>'
    )


class WallPage:
    """The live 大屏: :func:`wall_html` of the latest published run; :meth:`refresh` (called every
    :data:`WALL_POLL` seconds by the server) redraws it when a newer run has been published."""

    def __init__(self, store: Store, interval: int = WALL_INTERVAL):
        self.store = store
        self.interval = interval
        self.run_id = store.latest_run_id()
        self.closed = False
        self.pane = pn.pane.HTML(self._html(), sizing_mode="stretch_width", margin=0, css_classes=["hz-wall-page"])

    def close(self, reason: str) -> None:
        """End this session's wall: no data stays on the screen (the login no longer holds)."""
        self.closed = True
        self.pane.object = f'<div class="hz-closed">{present.escape(reason)}</div>'

    def _html(self) -> str:
        if self.run_id is None:
            return '<div class="hz-wall-empty">尚无已发布的评估运行：请先运行 hzeval assess。</div>'
        return wall_html(self.store, self.run_id, self.interval)

    def refresh(self) -> bool:
        """Redraw when the latest published run changed; True when it did."""
        latest = self.store.latest_run_id()
        if self.closed or latest == self.run_id:
            return False
        self.run_id = latest
        self.pane.object = self._html()
        return True
