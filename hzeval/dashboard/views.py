"""The dashboard's pages. Views only read the :class:`~hzeval.dashboard.store.Store`; no SQL, no
metric or scoring logic here. Each page builder returns a Panel layout and can be built and
inspected without a server (tests do).
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import panel as pn
import plotly.graph_objects as go
import polars as pl

from hzeval.dashboard.store import Store
from hzeval.errors import HzevalError
from hzeval.escape import html_text, markdown_text
from hzeval.metrics.registry import METRICS

log = logging.getLogger(__name__)

PAGES = ("总览", "机构详情", "督办", "项目门禁", "方案模拟")
AGENCY_PAGES = ("机构详情", "督办", "项目门禁")
GRADE_COLOURS = {"优秀": "#2e7d32", "良好": "#1565c0", "合格": "#f9a825", "不合格": "#c62828"}
FONT = dict(family="Noto Sans CJK SC, Microsoft YaHei, sans-serif")
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def pages_for(store: Store) -> tuple[str, ...]:
    return AGENCY_PAGES if store.user.is_agency else PAGES


def empty_note(text: str = "无可显示的数据。") -> pn.pane.Alert:
    return pn.pane.Alert(text, alert_type="light", css_classes=["hz-empty"])


def table(df: pl.DataFrame, titles: dict[str, str], **kw) -> pn.widgets.Tabulator:
    """A read-only Tabulator over the columns of ``titles`` (Chinese headers)."""
    cols = [c for c in titles if c in df.columns]
    pdf = df.select(cols).rename({c: titles[c] for c in cols}).to_pandas()
    opts = dict(show_index=False, disabled=True, layout="fit_data_table", sizing_mode="stretch_width",
                pagination="local", page_size=20)
    opts.update(kw)
    return pn.widgets.Tabulator(pdf, **opts)


def _fmt_pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


# --------------------------------------------------------------------------- figures (pure)


def heatmap_figure(df: pl.DataFrame, dimensions: list[str]) -> go.Figure:
    names = df.select("agency_code", "agency_name").unique(maintain_order=True)
    labels = [html_text(n or c) for c, n in names.iter_rows()]
    codes = names["agency_code"].to_list()
    lookup = {(r["agency_code"], r["dimension"]): r["rate"] for r in df.iter_rows(named=True)}
    z = [[lookup.get((c, d)) for d in dimensions] for c in codes]
    fig = go.Figure(go.Heatmap(
        z=z, x=dimensions, y=labels, zmin=0, zmax=100, colorscale="RdYlGn",
        colorbar=dict(title="得分率%"), hovertemplate="%{y}<br>%{x}：%{z:.1f}%<extra></extra>",
    ))
    fig.update_layout(title="机构 × 维度得分率", font=FONT, height=max(360, 22 * len(labels) + 120),
                      margin=dict(l=10, r=10, t=50, b=10), yaxis=dict(autorange="reversed"))
    return fig


def trend_figure(df: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    years = sorted(set(df["year"].to_list()))
    if df.height:
        avg = df.group_by("year").agg(pl.col("total").mean()).sort("year")
        fig.add_trace(go.Scatter(x=avg["year"].to_list(), y=avg["total"].to_list(), mode="lines+markers",
                                 name="全市平均", line=dict(width=4, color="#1f3b63")))
        if df["agency_code"].n_unique() == 1:  # one agency: its own line; the city-wide view keeps to the average
            fig.add_trace(go.Scatter(x=df["year"].to_list(), y=df["total"].to_list(), mode="lines+markers",
                                     name=html_text(df["agency_name"][0] or df["agency_code"][0]),
                                     line=dict(color="#c62828")))
    fig.update_layout(title="历年总分趋势", font=FONT, height=380, xaxis=dict(title="年度", tickvals=years),
                      yaxis=dict(title="总分", range=[0, 100]), margin=dict(l=10, r=10, t=50, b=10))
    return fig


def distribution_figure(dist: dict[str, int]) -> go.Figure:
    grades = [g for g in GRADE_COLOURS if g in dist] + [g for g in dist if g not in GRADE_COLOURS]
    fig = go.Figure(go.Bar(x=grades, y=[dist[g] for g in grades], marker_color=[GRADE_COLOURS.get(g, "#888") for g in grades],
                           text=[dist[g] for g in grades], textposition="auto"))
    fig.update_layout(title="等级分布", font=FONT, height=260, margin=dict(l=10, r=10, t=50, b=10), yaxis=dict(title="机构数"))
    return fig


def lost_points_figure(ind: pl.DataFrame) -> go.Figure:
    lost = ind.filter(pl.col("lost") > 0.005).sort("lost")
    fig = go.Figure(go.Bar(x=lost["lost"].to_list(), y=[html_text(n or i) for n, i in zip(lost["metric_name"], lost["indicator"])],
                           orientation="h", marker_color="#c62828", hovertemplate="%{y}：失 %{x:.2f} 分<extra></extra>"))
    fig.update_layout(title="失分项", font=FONT, height=max(260, 26 * lost.height + 100),
                      margin=dict(l=10, r=10, t=50, b=10), xaxis=dict(title="失分"))
    return fig


def plot(fig: go.Figure, name: str) -> pn.pane.Plotly:
    return pn.pane.Plotly(fig, config=PLOTLY_CONFIG, sizing_mode="stretch_width", css_classes=["hz-chart", name])


# --------------------------------------------------------------------------- 总览


def kpi_cards(k: dict) -> pn.Row:
    dist = k["distribution"]
    cards = [
        pn.indicators.Number(label="参评机构", value=k["graded"], format="{value} 家", font_size="28pt"),
        pn.indicators.Number(label="平均分", value=round(k["average"] or 0.0, 2), format="{value}", font_size="28pt"),
        pn.indicators.Number(label="优秀 / 不合格", value=dist.get("优秀", 0),
                             format=f"{{value}} / {dist.get('不合格', 0)} 家", font_size="28pt"),
        pn.indicators.Number(label="当前逾期事项", value=k["overdue_now"] if k["overdue_now"] is not None else 0,
                             format="{value} 项" if k["overdue_now"] is not None else "—", font_size="28pt",
                             colors=[(0, "#2e7d32"), (10**9, "#c62828")]),
    ]
    return pn.Row(*cards, css_classes=["hz-kpis"])


RANK_TITLES = {"rank": "名次", "agency_name": "机构名称", "agency_code": "机构代码", "total": "总分", "grade": "等级"}


def overview_page(store: Store, run_id: str, on_agency=None, now: dt.datetime | None = None) -> pn.Column:
    grades = store.grades(run_id)
    if grades.is_empty():
        return pn.Column(empty_note())
    k = store.kpis(run_id, now)
    rankings = []
    for group in store.peer_groups(run_id):
        g = grades.filter(pl.col("peer_group") == group).with_columns(
            pl.when(pl.col("vetoed")).then(pl.col("grade") + "（一票否决）").otherwise(pl.col("grade")).alias("grade")
        )
        t = table(g, RANK_TITLES, pagination=None, height=min(60 + 32 * g.height, 700), layout="fit_columns",
                  css_classes=["hz-ranking"], name=f"{group}排名", selectable=False)
        if on_agency is not None:
            t.on_click(lambda e, g=g: on_agency(g["agency_code"][e.row]))
        rankings.append(pn.Column(pn.pane.Markdown(f"### {markdown_text(group)}排名（点击机构查看详情）"), t,
                                  sizing_mode="stretch_width"))
    dims = [d.name for d in store.scheme(run_id).dimensions]
    return pn.Column(
        kpi_cards(k),
        pn.Row(plot(distribution_figure(k["distribution"]), "hz-dist"), sizing_mode="stretch_width"),
        pn.Row(*rankings, sizing_mode="stretch_width"),
        plot(heatmap_figure(store.heatmap(run_id), dims), "hz-heatmap"),
        plot(trend_figure(store.trend()), "hz-trend"),
        sizing_mode="stretch_width",
    )


# --------------------------------------------------------------------------- 机构详情

IND_TITLES = {"dimension": "维度", "metric_name": "指标", "article": "条款", "value_pct": "指标值",
              "numerator": "分子", "denominator": "分母", "count": "问题数", "points": "得分",
              "max_points": "满分", "lost": "失分"}
EV_TITLES = {"metric_name": "指标", "article": "条款", "record_table": "来源表", "record_id": "记录编号",
             "reason": "原因", "due_at": "截止时间", "done_at": "办结时间", "adjustment_id": "争议调整"}


def agency_page(store: Store, run_id: str, agency: str | None) -> pn.Column:
    g = store.grade(run_id, agency) if agency else None
    if g is None:
        return pn.Column(pn.pane.Markdown("## 机构详情"), empty_note("无可显示的数据（无此机构或无权查看）。"))
    ind = store.indicators(run_id, agency).with_columns(
        pl.col("value").map_elements(_fmt_pct, return_dtype=pl.String).alias("value_pct"),
        pl.col(["points", "max_points", "lost"]).round(2),
    )
    head = pn.pane.Markdown(
        f"## {markdown_text(g['agency_name'] or g['agency_code'])}（{markdown_text(g['agency_code'])}）\n"
        f"**{g['year']} 年度总分 {g['total']:.2f}，等级 {markdown_text(g['grade'])}**"
        f"{'（一票否决）' if g['vetoed'] else ''}"
        + (f"，{markdown_text(g['peer_group'])}第 {g['rank']} 名" if g["rank"] is not None else "（不参与排名）")
        + (f"\n\n{markdown_text(g['veto_reason'])}" if g.get("veto_reason") else ""),
        css_classes=["hz-agency-head"],
    )
    ev_all = store.evidence(run_id, agency)
    metric_opts = {"全部指标": ""} | {METRICS[m].name_zh if m in METRICS else m: m for m in ev_all["metric_id"].unique().sort()}
    metric_sel = pn.widgets.Select(label="指标", options=metric_opts, value="", width=240, css_classes=["hz-ev-metric"])
    text = pn.widgets.TextInput(label="记录编号 / 原因包含", placeholder="输入关键字", width=240)
    ev_table = table(ev_all, EV_TITLES, pagination="remote", page_size=15, css_classes=["hz-evidence"])
    count = pn.pane.Markdown(f"共 {ev_all.height} 条证据", css_classes=["hz-ev-count"])

    def refresh(*_):
        df = store.evidence(run_id, agency, metric_sel.value or None, text.value or None)
        cols = [c for c in EV_TITLES if c in df.columns]
        ev_table.value = df.select(cols).rename({c: EV_TITLES[c] for c in cols}).to_pandas()
        count.object = f"共 {df.height} 条证据"

    metric_sel.param.watch(refresh, "value")
    text.param.watch(refresh, "value")
    tools = [metric_sel, text]
    if store.user.can_export:
        tools.append(pn.widgets.FileDownload(
            callback=lambda: io.BytesIO(store.evidence_csv(run_id, agency, metric_sel.value or None, text.value or None)),
            filename=f"证据_{agency}_{g['year']}.csv", label="下载证据 CSV", button_type="primary", width=180,
            css_classes=["hz-evidence-download"],
        ))
    return pn.Column(
        head,
        pn.Row(table(ind, IND_TITLES, pagination=None, css_classes=["hz-indicators"]), sizing_mode="stretch_width"),
        plot(lost_points_figure(ind), "hz-lost"),
        plot(trend_figure(store.trend(agency)), "hz-agency-trend"),
        pn.pane.Markdown("### 证据（未达标事项）"),
        pn.Row(*tools), count, ev_table,
        sizing_mode="stretch_width",
    )


# --------------------------------------------------------------------------- 督办

SUP_TITLES = {"category": "事项类别", "article": "条款", "agency_name": "机构名称", "agency_code": "机构代码",
              "record_id": "事项编号", "due_date": "截止日期", "state": "状态", "wd_overdue": "逾期工作日",
              "wd_left": "剩余工作日", "notified": "已通知"}


def supervision_page(store: Store, agency_options: dict[str, str], now: dt.datetime | None = None) -> pn.Column:
    now = now or dt.datetime.now().replace(second=0, microsecond=0)
    as_of = pn.widgets.DatetimePicker(label="截至时间", value=now, width=220)
    now_btn = pn.widgets.Button(label="现在", width=80, align="end")
    opts = agency_options if store.user.is_agency else {"全部机构": ""} | agency_options
    ag = pn.widgets.Select(label="机构", options=opts, value=next(iter(opts.values())), width=300,
                           css_classes=["hz-sup-filter"])
    body = pn.Column(sizing_mode="stretch_width")

    def refresh(*_):
        try:
            items = store.supervision(as_of.value, ag.value or None)
        except HzevalError as exc:
            body.objects = [pn.pane.Alert(markdown_text(exc.message), alert_type="danger")]
            return
        if items is None:
            body.objects = [empty_note("已发布的评估运行不含督办所需的原始数据，请重新运行 hzeval assess。")]
            return
        over = items.filter(pl.col("state") == "逾期")
        soon = items.filter(pl.col("state") == "即将到期")
        who = next((k for k, v in opts.items() if v == ag.value), "")
        summary = pn.pane.Markdown(
            f"{markdown_text(who)}，截至 {as_of.value:%Y-%m-%d %H:%M}：未办结 **{items.height}** 项，其中逾期 **{over.height}** 项、"
            f"即将到期 **{soon.height}** 项", css_classes=["hz-sup-summary"])
        by_agency = items.filter(pl.col("state") != "未到期").group_by("agency_name", "state").len()
        fig = go.Figure()
        for state, colour in (("逾期", "#c62828"), ("即将到期", "#f9a825")):
            s = by_agency.filter(pl.col("state") == state)
            fig.add_trace(go.Bar(x=[html_text(n) for n in s["agency_name"]], y=s["len"].to_list(), name=state,
                                 marker_color=colour))
        fig.update_layout(barmode="stack", title="按机构", font=FONT, height=340, margin=dict(l=10, r=10, t=50, b=10))
        by_article = items.group_by("article", "category", "state").len().sort(["article", "category", "state"])
        body.objects = [
            summary,
            pn.Row(plot(fig, "hz-sup-agency"),
                   table(by_article, {"article": "条款", "category": "事项类别", "state": "状态", "len": "数量"},
                         pagination=None, width=420, sizing_mode="fixed"),
                   sizing_mode="stretch_width"),
            table(items, SUP_TITLES, page_size=20, css_classes=["hz-supervision"]),
        ]

    as_of.param.watch(refresh, "value")
    ag.param.watch(refresh, "value")
    now_btn.on_click(lambda e: setattr(as_of, "value", dt.datetime.now().replace(second=0, microsecond=0)))
    refresh()
    return pn.Column(pn.pane.Markdown("## 督办：逾期与即将到期事项"), pn.Row(as_of, now_btn, ag), body,
                     sizing_mode="stretch_width")


# --------------------------------------------------------------------------- 项目门禁

GATE_TITLES = {"project_id": "项目编号", "project_name": "项目名称", "owner_name": "建设单位", "result": "结果",
               "failed_conditions": "未通过条件", "failed_resources": "未通过资源", "checked_at": "核验时点"}
CONDITIONS = "G1 立项时提交数据清单；G2 数据已编目；G3 数据已汇聚；G4 数据已共享"


def gates_page(store: Store, run_id: str) -> pn.Column:
    df = store.gates(run_id)
    if df.is_empty():
        return pn.Column(pn.pane.Markdown("## 项目门禁"), empty_note("无项目门禁记录。"))
    df = df.with_columns(
        pl.when(pl.col("passed")).then(pl.lit("通过"))
        .when(pl.col("accepted_while_failing")).then(pl.lit("带病验收"))
        .otherwise(pl.lit("未通过")).alias("result")
    )
    fails = df.filter(~pl.col("passed"))
    counts = (fails.select(pl.col("failed_conditions").str.split(";")).explode("failed_conditions")
              .group_by("failed_conditions").len().sort("failed_conditions"))
    fig = go.Figure(go.Bar(x=counts["failed_conditions"].to_list(), y=counts["len"].to_list(), marker_color="#c62828"))
    fig.update_layout(title="未通过条件分布", font=FONT, height=300, margin=dict(l=10, r=10, t=50, b=10))
    return pn.Column(
        pn.pane.Markdown(f"## 项目门禁\n{CONDITIONS}（{store.article(run_id, 'project_gate')}）"),
        pn.Row(
            pn.indicators.Number(label="项目数", value=df.height, format="{value} 个", font_size="24pt"),
            pn.indicators.Number(label="未通过", value=fails.height, format="{value} 个", font_size="24pt"),
            pn.indicators.Number(label="带病验收", value=df.filter(pl.col("accepted_while_failing")).height,
                                 format="{value} 个", font_size="24pt", colors=[(1, "#2e7d32"), (10**9, "#c62828")]),
        ),
        plot(fig, "hz-gates-chart"),
        table(df, GATE_TITLES, css_classes=["hz-gates"]),
        sizing_mode="stretch_width",
    )


# --------------------------------------------------------------------------- 方案模拟

WHATIF_TITLES = {"peer_group": "组别", "agency_name": "机构名称", "total": "官方总分", "sim_total": "模拟总分",
                 "delta": "分差", "grade": "官方等级", "sim_grade": "模拟等级", "rank": "官方名次", "sim_rank": "模拟名次"}


def whatif_page(store: Store, run_id: str) -> pn.Column:
    scheme = store.scheme(run_id)
    weights = {d.name: pn.widgets.FloatInput(label=f"{d.name}权重", value=float(d.weight), start=0, end=100, step=1,
                                             width=150, css_classes=["hz-weight", f"hz-weight-{i}"])
               for i, d in enumerate(scheme.dimensions)}
    ordered = sorted(scheme.grades, key=lambda b: -b.min)[:-1]
    bands = {b.grade: pn.widgets.FloatInput(label=f"{b.grade}分数线", value=float(b.min), start=0, end=100, step=1,
                                            width=150, css_classes=["hz-band", f"hz-band-{i}"])
             for i, b in enumerate(ordered)}
    reset = pn.widgets.Button(label="恢复官方方案", width=140, align="end")
    summary = pn.pane.Markdown(css_classes=["hz-whatif-summary"])
    result = table(pl.DataFrame(), WHATIF_TITLES)
    result_box = pn.Column(result, sizing_mode="stretch_width")

    def refresh(*_):
        try:
            df = store.whatif(run_id, {k: w.value for k, w in weights.items()}, {k: b.value for k, b in bands.items()})
        except ValueError as exc:
            summary.object = f"**方案无效**：{markdown_text(exc)}"
            return
        changed = df.filter(pl.col("grade_changed"))
        moved = df.filter(pl.col("sim_rank") != pl.col("rank")).height
        summary.object = (f"等级变化 **{changed.height}** 家，名次变化 **{moved}** 家（模拟结果仅供参考，不保存，"
                          f"官方结果以运行 {markdown_text(run_id)} 为准）")
        out = df.with_columns(pl.col(["total", "sim_total"]).round(2))
        cols = [c for c in WHATIF_TITLES if c in out.columns]
        result.value = out.select(cols).rename({c: WHATIF_TITLES[c] for c in cols}).to_pandas()

    def do_reset(_):
        for d in scheme.dimensions:
            weights[d.name].value = float(d.weight)
        for b in ordered:
            bands[b.grade].value = float(b.min)

    for w in (*weights.values(), *bands.values()):
        w.param.watch(refresh, "value")
    reset.on_click(do_reset)
    refresh()
    return pn.Column(
        pn.pane.Markdown(f"## 方案模拟\n调整维度权重（按比例折算为 100 分）和等级分数线，对照官方运行 {markdown_text(run_id)} 重新评分。"),
        pn.Row(*weights.values()), pn.Row(*bands.values(), reset), summary, result_box,
        sizing_mode="stretch_width",
    )
