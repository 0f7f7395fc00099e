"""Files leaders receive offline (issue 17): the project approval reference and the offline
dashboards (``dashboard.html``, ``dashboards/<code>.html``).

第四十三条 makes the yearly results a reference for next year's project approvals and 第四十四条
gates projects on their data; ``approval_reference.html`` puts, per agency, what an approving office
weighs — grade, rank, the veto, failed project gates, projects accepted while failing and
rectifications still open — agencies needing scrutiny first, under the sentences of the two
articles as the run's rule profile quotes them (``provision_texts``: no article text in code).

Data only through :meth:`hzeval.runs.RunReader.approval_reference`; the same frame is the
workbook's 项目审批参考 sheet. Written atomically, inside the output folder.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from hzeval import __version__, present
from hzeval.errors import HzevalError
from hzeval.util.escape import markdown_text
from hzeval.util.paths import inside
from hzeval import pages as h
from hzeval.runs import RunReader

FILE = "approval_reference.html"
#: the provisions the reference serves, in the order they are quoted
PROVISIONS = ("assessment", "project_approval")
#: column → Chinese heading (page and workbook sheet)
COLUMNS = {
    "scrutiny_order": "审查顺序", "agency_code": "机构代码", "agency_name": "机构名称", "peer_group": "分组",
    "rank": "名次", "total": "总分", "grade_label": "等级", "attention": "需重点审查事项",
    "veto_text": "一票否决说明", "projects": "项目数", "failed_projects": "门禁未通过项目数",
    "failed_project_list": "门禁未通过项目（未满足条件）", "accepted_failing": "带病验收项目数",
    "accepted_failing_list": "带病验收项目", "open_rectifications": "未完成整改数",
    "overdue_rectifications": "逾期整改数", "rectification_list": "未完成整改通知",
}
NUMERIC = ("scrutiny_order", "rank", "total", "projects", "failed_projects", "accepted_failing",
           "open_rectifications", "overdue_rectifications")


def reference_frame(run: RunReader) -> pl.DataFrame:
    return run.approval_reference()


def quotes(run: RunReader) -> list[str]:
    """The sentences of 第四十三条 and 第四十四条 the reference serves, from the run's rule profile."""
    return [t for t in (run.provision_text(k) for k in PROVISIONS) if t]


def approval_reference_html(run: RunReader) -> str:
    df = reference_frame(run)
    basis = "".join(f'<blockquote class="rule">{h.esc(q)}</blockquote>' for q in quotes(run))
    n_attention = df.filter(pl.col("attention").is_not_null()).height
    facts = h.facts({
        "参评单位": present.integer(df.height),
        "需重点审查单位": present.integer(n_attention),
        "带病验收项目": present.integer(df["accepted_failing"].sum()),
        "门禁未通过项目": present.integer(df["failed_projects"].sum()),
    })
    rect_note = ("未完成整改为评估截止时点仍未办结的整改通知（与 hzeval supervise 同一清单）。"
                 if df["open_rectifications"].dtype != pl.Null and run.has_sources
                 else "本评估结果文件不含整改通知源数据，未列未完成整改。")
    table = h.table(
        df, COLUMNS, numeric=NUMERIC,
        formats={"total": h.num, "rank": lambda v: f"{v}", "scrutiny_order": lambda v: f"{v}"},
        row_class=lambda r: "attn" if r.get("attention") else None,
    )
    style = ("<style>blockquote.rule{margin:.4em 0;padding:.5em 1em;border-left:4px solid #9b1c1c;background:#faf5f5}"
             "tr.attn td:first-child{border-left:4px solid #9b1c1c}</style>")
    body = (
        style + h.masthead(f"{run.year} 年度评估结果 · 下一年度政务信息化项目审批参考", run.provenance())
        + h.heading("依据") + basis
        + h.heading("概况") + facts
        + h.heading("各单位审批参考", note="排序：一票否决、等级由低到高、带病验收项目数、门禁未通过项目数、"
                                         "逾期与未完成整改数、总分由低到高；需重点审查的单位在前。" + rect_note)
        + table
    )
    return h.page(f"{run.year} 年度项目审批参考", body, footer=f"{h.AUTHORITY} · 由 hzeval {__version__} 生成",
                  version=__version__)


def write_approval_reference(run: RunReader, out_dir: Path) -> Path:
    from hzeval.reports.render import write_atomic

    path = inside(out_dir, FILE)
    write_atomic(path, approval_reference_html(run))
    return path


# --------------------------------------------------------------------------- offline dashboards

DASHBOARD = "dashboard.html"
DASHBOARDS = "dashboards"
NOTEBOOK = "leader_dashboard.ipynb"
TITLE = "公共数据管理评估 · 领导驾驶舱（离线版）"
#: evidence rows of an agency in the city file, where every agency is one precomputed state (at city
#: scale, 305 agencies, the agency page with its 督办 block came to 40 MB with 200 rows, 26 MB with
#: 10-20); its own file carries :data:`hzeval.dashboard.views.OFFLINE_ROWS` and its 督办 block
CITY_ROWS = 10


def dashboard_layout(published_folder: Path, run_id: str, agency: str | None = None):
    """The offline dashboard: the server's own pages (:mod:`hzeval.dashboard.views`) over the
    server's own data layer (:class:`~hzeval.dashboard.store.Store`, itself over the RunReader).

    ``agency`` None — a leader's file: 总览 (KPIs, vetoes, rankings, heat map, trend), one agency
    at a time chosen with a selector (its 机构详情, linking to its own file), the city's 督办 summary
    and the project gates. ``agency`` a code — that agency's file: the store is bound to the role
    ``agency:<code>``, so every query is filtered to it in the data layer (as on the server) and
    the file holds that agency's rows only.

    The selector is the only widget whose states are embedded (every other table is read-only
    and filters in the browser), so the file holds one precomputed state per agency."""
    import panel as pn

    from hzeval.dashboard import views
    from hzeval.dashboard.store import Store, User

    store = Store(published_folder, User("offline", f"agency:{agency}" if agency else "leader"))
    run = store.run(run_id)
    as_of = run["as_of"].replace(second=0, microsecond=0)
    options = store.agency_options(run_id)
    if agency and agency not in options.values():
        raise HzevalError(f"评估运行 {run_id} 中没有机构 {agency}", f"agency {agency!r} not in run {run_id}", agency=agency)

    names = {v: k for k, v in options.items()}

    def agency_part(code: str | None) -> pn.Column:
        """The selector's state in the city file: the agency page, lists cut to :data:`CITY_ROWS`
        and the way to the agency's own file (its 督办 list and every row); the agency's file:
        the page and its 督办, lists to :data:`~hzeval.dashboard.views.OFFLINE_ROWS`."""
        if not code:
            return pn.Column(views.empty_note("本次评估没有可显示的机构。"))
        if agency is None:
            page = views.AgencyPage(store=store, run_id=run_id, agency=code, offline=True, offline_rows=CITY_ROWS).content()
            link = pn.pane.Markdown(f"本机构督办事项与完整证据：[本机构离线驾驶舱]({DASHBOARDS}/{code}.html)（与本文件同目录）。",
                                    css_classes=["hz-agency-file"])
            return pn.Column(page, link, sizing_mode="stretch_width")
        page = views.AgencyPage(store=store, run_id=run_id, agency=code, offline=True).content()
        sup = views.SupervisionPage(store=store, as_of=as_of, agency=code, agency_options={names[code]: code},
                                    offline=True).body()
        return pn.Column(page, pn.pane.Markdown("### 本机构督办：逾期与即将到期事项"), sup, sizing_mode="stretch_width")

    header = pn.pane.Markdown(
        f"# {run['year']} 年度{TITLE}\n"
        f"数据截至 {present.when(run['as_of'])}（评估运行 {markdown_text(run_id)}）。"
        "本文件可离线打开，无需网络与服务器；内容随评估运行固定，不会更新。",
        css_classes=["hz-offline-head"])
    parts: list = [header]
    if agency is None:
        first = next(iter(options.values()), None)
        select = pn.widgets.Select(name="选择机构", options=options, value=first, width=360, css_classes=["hz-agency-select"])
        parts += [views.OverviewPage(store=store, run_id=run_id, offline=True).content(),
                  pn.pane.Markdown("## 机构详情（选择机构）"), select, pn.panel(pn.bind(agency_part, select)),
                  pn.pane.Markdown("## 全市督办：逾期与即将到期事项"),
                  views.SupervisionPage(store=store, as_of=as_of, agency="", agency_options={"全部机构": ""},
                                        offline=True).body()]
    else:
        parts.append(agency_part(agency))
    parts.append(views.gates_page(store, run_id, offline=True))
    return pn.Column(*parts, sizing_mode="stretch_width", styles={"max-width": "1400px", "margin": "0 auto"})


def save_dashboard(published_folder: Path, out_dir: Path, target: str, run_id: str, agency: str | None = None) -> Path:
    """Write one self-contained dashboard to ``out_dir/target``: Bokeh/Panel JS and every
    stylesheet inline (:func:`hzeval.dashboard.inline.self_contained`), one embedded state per
    agency, written atomically."""
    import os

    from bokeh.resources import INLINE

    from hzeval.dashboard.inline import self_contained
    from hzeval.reports.render import write_atomic

    path = inside(out_dir, target)
    layout = dashboard_layout(Path(published_folder), run_id, agency)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.raw.html")
    try:
        layout.save(str(tmp), embed=True, resources=INLINE, title=TITLE, max_states=2000, progress=False)
        write_atomic(path, self_contained(tmp.read_text(encoding="utf-8")))
    finally:
        tmp.unlink(missing_ok=True)
    return path


def dashboard_jobs(run: RunReader, out_dir: Path, agencies: list[str], whole_city: bool = True) -> list:
    """papermill jobs (``notebooks/leader_dashboard.ipynb``) for ``dashboard.html`` and
    ``dashboards/<code>.html`` of each code in ``agencies``."""
    from hzeval.reports.render import Job, notebooks_dir

    nb = str(notebooks_dir() / NOTEBOOK)
    common = {"published": str(run.path.resolve()), "year": run.year, "run_id": run.run_id,
              "out_dir": str(Path(out_dir).resolve())}
    jobs = []
    if whole_city:
        jobs.append(Job("dashboard", nb, str(inside(out_dir, DASHBOARD)), f"{run.year} 年度领导驾驶舱（离线版）",
                        {**common, "agency": "", "target": DASHBOARD}, writes_itself=True))
    for code in agencies:
        rel = f"{DASHBOARDS}/{code}.html"
        jobs.append(Job("dashboard", nb, str(inside(out_dir, rel)), f"{code} {run.year} 年度驾驶舱（离线版）",
                        {**common, "agency": code, "target": rel}, agency_code=code, writes_itself=True))
    return jobs
