"""The offline dashboards leaders receive (issue 17): ``dashboard.html`` (the city's) and
``dashboards/<code>.html`` (each agency's), the server's own pages saved with every resource inline.

Rendered as papermill jobs (``notebooks/leader_dashboard.ipynb``): :func:`dashboard_jobs` plans them,
:mod:`hzeval.services` hands them to the renderer with the reports' jobs.
"""

from __future__ import annotations

import os
from pathlib import Path

from hzeval.dashboard import views
from hzeval.dashboard.inline import self_contained
from hzeval.dashboard.store import Store, User, close_all
from hzeval.errors import HzevalError
from hzeval.runs import RunReader
from hzeval.util.escape import markdown_text
from hzeval.util.notebooks import Job, notebooks_dir
from hzeval.util.paths import inside, write_atomic

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

    store = Store(published_folder, User("offline", f"agency:{agency}" if agency else "leader"))
    run = store.run(run_id)
    as_of = run["as_of"].replace(second=0, microsecond=0)
    options = store.agency_options(run_id)
    if agency and agency not in options.values():
        raise HzevalError(
            f"评估运行 {run_id} 中没有机构 {agency}", f"agency {agency!r} not in run {run_id}", agency=agency
        )

    names = {v: k for k, v in options.items()}

    def agency_part(code: str | None) -> pn.Column:
        """The selector's state in the city file: the agency page, lists cut to :data:`CITY_ROWS`
        and the way to the agency's own file (its 督办 list and every row); the agency's file:
        the page and its 督办, lists to :data:`~hzeval.dashboard.views.OFFLINE_ROWS`."""
        if not code:
            return pn.Column(views.empty_note("本次评估没有可显示的机构。"))
        if agency is None:
            page = views.AgencyPage(
                store=store, run_id=run_id, agency=code, offline=True, offline_rows=CITY_ROWS
            ).content()
            link = pn.pane.Markdown(
                f"本机构督办事项与完整证据：[本机构离线驾驶舱]({DASHBOARDS}/{code}.html)（与本文件同目录）。",
                css_classes=["hz-agency-file"],
            )
            return pn.Column(page, link, sizing_mode="stretch_width")
        page = views.AgencyPage(store=store, run_id=run_id, agency=code, offline=True).content()
        sup = views.SupervisionPage(
            store=store, as_of=as_of, agency=code, agency_options={names[code]: code}, offline=True
        ).body()
        return pn.Column(page, pn.pane.Markdown("### 本机构督办：逾期与即将到期事项"), sup, sizing_mode="stretch_width")

    header = pn.pane.Markdown(
        f"# {run['year']} 年度{TITLE}\n"
        f"{markdown_text(views.freshness_line(store, run_id))}（评估运行 {markdown_text(run_id)}）。"
        "本文件可离线打开，无需网络与服务器；内容随评估运行固定，不会更新。",
        css_classes=["hz-offline-head"],
    )
    banner = views.trial_banner(store, run_id)
    stale = store.run(run_id)["stale_warnings"] or []
    parts: list = [header, views.print_button()]
    parts += ([views.run_header(store, run_id)] if stale else []) + ([banner] if banner else [])
    if agency is None:
        first = next(iter(options.values()), None)
        select = pn.widgets.Select(
            name="选择机构",
            options=options,
            value=first,
            width=360,
            css_classes=["hz-agency-select"],
            stylesheets=[views.NOT_PRINTED],
        )
        parts += [
            views.OverviewPage(store=store, run_id=run_id, offline=True).content(),
            pn.pane.Markdown("## 机构详情（选择机构）", stylesheets=[views.SECTION_PRINT]),
            select,
            pn.panel(pn.bind(agency_part, select)),
            pn.pane.Markdown("## 全市督办：逾期与即将到期事项", stylesheets=[views.SECTION_PRINT]),
            views.SupervisionPage(
                store=store, as_of=as_of, agency="", agency_options={"全部机构": ""}, offline=True
            ).body(),
        ]
    else:
        parts.append(agency_part(agency))
    parts.append(views.gates_page(store, run_id, offline=True))
    return pn.Column(*parts, sizing_mode="stretch_width", styles={"max-width": "1400px", "margin": "0 auto"})


#: Panel's own file template with the head of a phone (no 980 px layout shrunk to 5 pt text) and the
#: page CSS the server's template carries (:data:`hzeval.dashboard.views.PAGE_CSS`), written into the
#: template's ``postamble`` block. Never spliced into the saved text: the inline scripts themselves
#: hold "</head>" (DOMPurify builds a document from a string), and a style put there breaks the script.
FILE_TEMPLATE = '{% extends "base.html" %}{% block postamble %}{{ hz_head }}{% endblock %}'


def file_head() -> str:
    # the page's CSS and its print stylesheet (issue 27: no sidebar or widgets, whole tables)
    return f'<meta name="viewport" content="{views.VIEWPORT}">\n<style>{views.PAGE_CSS}{views.PRINT_CSS}</style>\n'


#: ``dashboard.html#wall`` (``#wall&interval=<seconds>``): the 大屏 drawn over the page from its
#: ``<template>``, the Panel page hidden; another fragment brings the page back
WALL_SCRIPT = """<script>(function () {
  function show() {
    var m = /^#wall(?:&interval=([0-9]{1,4}))?$/.exec(location.hash);
    var el = document.getElementById("hz-wall");
    if (!m) { if (el) { el.remove(); } document.documentElement.classList.remove("hz-wall-on"); return; }
    if (!el) {
      el = document.createElement("div"); el.id = "hz-wall";
      el.appendChild(document.getElementById("hz-wall-src").content.cloneNode(true));
      document.body.appendChild(el);
    }
    var t = m[1] ? Number(m[1]) : DEFAULT;
    if (t < LOW || t > HIGH) { t = DEFAULT; }
    el.querySelector(".hz-wall").style.setProperty("--hz-t", t + "s");
    document.documentElement.classList.add("hz-wall-on");
  }
  addEventListener("hashchange", show);
  if (document.readyState === "loading") { addEventListener("DOMContentLoaded", show); } else { show(); }
})();</script>
<style>html.hz-wall-on body > *:not(#hz-wall) { display: none !important; }
#hz-wall { position: fixed; inset: 0; z-index: 10000; }</style>
"""


def wall_head(published_folder: Path, run_id: str) -> str:
    """The city file's 大屏: :func:`hzeval.dashboard.views.wall_html` of the run in a ``<template>``
    (inert until ``#wall``) and the script that shows it."""
    store = Store(published_folder, User("offline", "leader"))
    lo, hi = views.WALL_INTERVAL_BOUNDS
    script = WALL_SCRIPT.replace("DEFAULT", str(views.WALL_INTERVAL)).replace("LOW", str(lo)).replace("HIGH", str(hi))
    return f'<template id="hz-wall-src">{views.wall_html(store, run_id)}</template>\n{script}'


def save_dashboard(published_folder: Path, out_dir: Path, target: str, run_id: str, agency: str | None = None) -> Path:
    """Write one self-contained dashboard to ``out_dir/target``: Bokeh/Panel JS and every
    stylesheet inline (:func:`hzeval.dashboard.inline.self_contained`), one embedded state per
    agency, written atomically. The city file carries the 大屏 too (``dashboard.html#wall``)."""
    from bokeh.resources import INLINE
    from panel.io.resources import parse_template

    path = inside(out_dir, target)
    layout = dashboard_layout(Path(published_folder), run_id, agency)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.raw.html")
    try:
        layout.save(
            str(tmp),
            embed=True,
            resources=INLINE,
            title=TITLE,
            max_states=2000,
            progress=False,
            template=parse_template(FILE_TEMPLATE),
            template_variables={"hz_head": file_head() + ("" if agency else wall_head(Path(published_folder), run_id))},
        )
        write_atomic(path, self_contained(tmp.read_text(encoding="utf-8")))
    finally:
        tmp.unlink(missing_ok=True)
        # the file is written: its read-only connections go, so the warm kernel's next notebook (an
        # agency report opening the same published file its own way) is not refused by DuckDB
        close_all()
    return path


def dashboard_jobs(run: RunReader, out_dir: Path, agencies: list[str], whole_city: bool = True) -> list:
    """papermill jobs (``notebooks/leader_dashboard.ipynb``) for ``dashboard.html`` and
    ``dashboards/<code>.html`` of each code in ``agencies``."""
    nb = str(notebooks_dir() / NOTEBOOK)
    assert run.path is not None, "the offline dashboards read a published run file"
    common = {
        "published": str(run.path.resolve()),
        "year": run.year,
        "run_id": run.run_id,
        "out_dir": str(Path(out_dir).resolve()),
    }
    jobs = []
    if whole_city:
        jobs.append(
            Job(
                "dashboard",
                nb,
                str(inside(out_dir, DASHBOARD)),
                f"{run.year} 年度领导驾驶舱（离线版）",
                {**common, "agency": "", "target": DASHBOARD},
                writes_itself=True,
            )
        )
    for code in agencies:
        rel = f"{DASHBOARDS}/{code}.html"
        jobs.append(
            Job(
                "dashboard",
                nb,
                str(inside(out_dir, rel)),
                f"{code} {run.year} 年度驾驶舱（离线版）",
                {**common, "agency": code, "target": rel},
                agency_code=code,
                writes_itself=True,
            )
        )
    return jobs
