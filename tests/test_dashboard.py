"""Dashboard components without a server: store access control, floats, what-if, auth, page assembly."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import polars as pl
import pytest
from dashboard_support import OTHER, OWN, published  # noqa: F401 - fixture

from hzeval.dashboard import views
from hzeval.dashboard.app import Dashboard
from hzeval.dashboard.auth import add_user, lookup, read_users, verify
from hzeval.dashboard.store import Store, User, floats, modified_scheme

AS_OF = dt.datetime(2026, 1, 5, 9, 0)


@pytest.fixture
def leader(published):
    return Store(published[0], User("boss", "leader"))


@pytest.fixture
def agency(published):
    return Store(published[0], User("hz101", f"agency:{OWN}"))


def test_runs_from_published_files(leader):
    runs = leader.runs()
    assert sorted(runs["year"].to_list()) == [2024, 2025]
    assert leader.latest_run_id() == runs.filter(pl.col("year") == 2025)["run_id"][0]
    assert set(leader.trend()["year"]) == {2024, 2025}


def test_leader_sees_every_agency(leader):
    run = leader.latest_run_id()
    g = leader.grades(run)
    assert g.height > 30 and {OWN, OTHER} <= set(g["agency_code"])
    assert leader.indicators(run, OTHER).height > 0
    assert leader.heatmap(run)["agency_code"].n_unique() == g.height


def test_agency_user_gets_only_its_own_rows(agency, leader):
    run = agency.latest_run_id()
    assert agency.grades(run)["agency_code"].to_list() == [OWN]
    assert list(agency.agency_options(run).values()) == [OWN]
    assert set(agency.heatmap(run)["agency_code"]) == {OWN}
    assert set(agency.trend()["agency_code"]) == {OWN}
    assert agency.indicators(run, OWN).height > 0
    # asking for another agency, by any query, gives nothing
    assert agency.grade(run, OTHER) is None
    assert agency.indicators(run, OTHER).is_empty()
    assert agency.evidence(run, OTHER).is_empty()
    assert agency.trend(OTHER).is_empty()
    assert leader.supervision(AS_OF, OTHER).height > 0 or leader.supervision(AS_OF).height > 0
    assert agency.supervision(AS_OF, OTHER).is_empty()
    assert set(agency.supervision(AS_OF)["agency_code"]) <= {OWN}
    assert set(agency.gates(run)["owner_code"]) <= {OWN}
    assert agency.whatif(run)["agency_code"].to_list() == [OWN]


def test_values_are_floats_not_decimal(leader):
    run = leader.latest_run_id()
    frames = [
        leader.grades(run),
        leader.heatmap(run),
        leader.indicators(run, OTHER),
        leader.whatif(run),
        leader.trend(),
        leader.supervision(AS_OF),
    ]
    for df in frames:
        assert not any(isinstance(t, pl.Decimal) for t in df.dtypes), df.schema
    assert isinstance(leader.grades(run)["total"][0], float)
    assert isinstance(leader.kpis(run, AS_OF)["average"], float)
    d = floats(pl.DataFrame({"x": [decimal.Decimal("1.25")]}, schema={"x": pl.Decimal(10, 2)}))
    assert d.schema["x"] == pl.Float64 and d["x"][0] == 1.25


def test_supervision_is_the_cli_logic(leader, published):
    from hzeval.assessment.supervise import supervision_items
    from hzeval.store.warehouse import connect

    with connect(published[2], read_only=True) as con:
        cli = supervision_items(con, AS_OF)
    dash = leader.supervision(AS_OF)
    assert sorted(dash["record_id"]) == sorted(cli["record_id"])
    assert dash["state"].to_list() == cli["state"].to_list()


def test_an_agency_users_supervision_is_its_own_rows_of_the_one_city_list(leader, published):
    """Every user's 督办 list is cut from the one cached city list (issue 29 item 2: 305 offline
    files compute it once): for each agency of the sample, what its user sees is exactly what
    ``hzeval supervise --agency`` computes for it, row for row and in the same order, and a user
    asking for another agency gets nothing."""
    from hzeval.assessment.supervise import supervision_items
    from hzeval.store.warehouse import connect

    codes = leader.grades(leader.latest_run_id())["agency_code"].to_list()
    with connect(published[2], read_only=True) as con:
        city = supervision_items(con, AS_OF)
        own = {code: supervision_items(con, AS_OF, agency=code) for code in codes}
    assert city.height > 0 and sum(df.height for df in own.values()) > 0
    cols = ["agency_code", "metric_id", "record_id", "due_at", "state"]
    for code in codes:
        store = Store(published[0], User("u", f"agency:{code}"))
        got = store.supervision(AS_OF)
        assert got.select(cols).rows() == own[code].select(cols).rows(), code
        assert store.supervision(AS_OF, OTHER if code != OTHER else OWN).is_empty()


def test_whatif_unchanged_scheme_reproduces_official_run(leader):
    w = leader.whatif(leader.latest_run_id())
    assert w["delta"].abs().max() < 0.011
    assert not w["grade_changed"].any()
    assert (w["sim_rank"] == w["rank"]).all()


def test_whatif_weight_change_moves_grades(leader):
    run = leader.latest_run_id()
    w = leader.whatif(run, weights={"共享服务": 80})
    assert w["grade_changed"].any()
    # bands too: everyone at or above 0 is 优秀 when its line is 0.5 … impossible bands are refused
    w2 = leader.whatif(run, bands={"优秀": 50, "良好": 40, "合格": 30})
    assert w2["grade_changed"].any()
    with pytest.raises(ValueError):
        leader.whatif(run, bands={"优秀": 50, "良好": 60})


def test_modified_scheme_rescales_weights(leader):
    s = leader.scheme(leader.latest_run_id())
    m = modified_scheme(s, {d.name: 1 for d in s.dimensions}, {})
    assert abs(sum(d.weight for d in m.dimensions) - 100) < 1e-9
    assert {d.weight for d in m.dimensions} == {100 / len(s.dimensions)}


def test_evidence_export_is_for_evaluators_only(published, leader):
    run = leader.latest_run_id()
    with pytest.raises(PermissionError):
        leader.evidence_csv(run, OTHER)
    ev = Store(published[0], User("eva", "evaluator"))
    data = ev.evidence_csv(run, OTHER)
    assert data.startswith(b"\xef\xbb\xbf") and "指标" in data.decode("utf-8-sig").splitlines()[0]
    assert len(data.decode("utf-8-sig").splitlines()) == ev.evidence(run, OTHER).height + 1


# --------------------------------------------------------------------------- auth


def test_users_file_holds_salted_hashes_only(tmp_path):
    f = tmp_path / "users.json"
    add_user(f, "a", "secret-pass-1", "leader", iterations=1000)
    add_user(f, "b", "secret-pass-1", "agency:HZ101", iterations=1000)
    text = f.read_text(encoding="utf-8")
    assert "secret-pass-1" not in text
    users = json.loads(text)
    assert users["a"]["salt"] != users["b"]["salt"] and users["a"]["hash"] != users["b"]["hash"]
    assert oct(f.stat().st_mode & 0o777) == "0o600"
    assert verify(read_users(f), "a", "secret-pass-1") == User("a", "leader")
    assert verify(read_users(f), "a", "wrong-pass") is None
    assert verify(read_users(f), "nobody", "secret-pass-1") is None
    assert lookup(f, "b").scope == "HZ101" and lookup(f, "guest") is None


@pytest.mark.parametrize("role", ["admin", "agency:", ""])
def test_bad_roles_refused(tmp_path, role):
    from hzeval.errors import HzevalError

    with pytest.raises(HzevalError):
        add_user(tmp_path / "u.json", "a", "secret-pass-1", role)


def test_cookie_secret_comes_from_environment(monkeypatch):
    from hzeval.dashboard.auth import cookie_secret
    from hzeval.errors import HzevalError

    monkeypatch.delenv("HZEVAL_COOKIE_SECRET", raising=False)
    monkeypatch.delenv("BOKEH_SECRET_KEY", raising=False)
    with pytest.raises(HzevalError):
        cookie_secret()
    strong = "0123456789abcdef" * 3  # 48 characters, 16 distinct
    monkeypatch.setenv("HZEVAL_COOKIE_SECRET", strong)
    assert cookie_secret() == strong


# --------------------------------------------------------------------------- pages without a server


def test_every_page_builds_for_a_leader(leader):
    d = Dashboard(leader, now=AS_OF)
    assert d.page_select.options == list(views.PAGES)
    for page in views.PAGES:
        d.page_select.value = page
        assert d.main.objects and not isinstance(d.main.objects[0], views.pn.pane.Alert), page
    d.template()


def test_drill_down_opens_agency_detail(leader):
    d = Dashboard(leader, now=AS_OF)
    d.show_agency(OTHER)
    assert d.page_select.value == "机构详情" and d.agency_select.value == OTHER
    head = d.main.objects[0].objects[0].object
    assert OTHER in head


def test_agency_user_url_for_another_agency_shows_only_its_own(agency):
    d = Dashboard(agency, {"page": "总览", "agency": OTHER}, now=AS_OF)
    assert d.page_select.options == list(views.AGENCY_PAGES)
    assert d.page_select.value == "机构详情" and d.agency_select.value == OWN
    assert list(d.agency_select.options.values()) == [OWN]
    d.show_agency(OTHER)  # a forged drill-down changes nothing
    assert d.agency_select.value == OWN
    # even a page built for the other agency directly holds nothing of it
    page = views.agency_page(agency, agency.latest_run_id(), OTHER)
    assert isinstance(page.objects[1], views.pn.pane.Alert)


# --------------------------------------------------------------------------- what a leader reads


def page_text(obj) -> str:
    """Every text a page shows (Markdown, HTML, tables, chart labels and values, widget labels),
    walked without a server."""
    from surface_scan import visible_text

    out = []

    def walk(o):
        if isinstance(o, views.pn.widgets.Tabulator):
            df = o.value
            out.extend(str(c) for c in df.columns)
            out.extend(str(v) for v in df.astype(str).to_numpy().ravel())
            cfg = getattr(o, "_configuration", None) or {}
            out.append("" if cfg.get("locale") == "zh-cn" else "First Prev Next Last")  # Tabulator's defaults
            return
        if isinstance(o, views.pn.pane.Plotly):
            fig = o.object
            lay = fig.layout
            out.extend(str(t) for t in (lay.title.text, lay.xaxis.title.text, lay.yaxis.title.text) if t)
            for tr in fig.data:
                for attr in ("x", "y", "text", "name"):
                    v = getattr(tr, attr, None)
                    if v is None:
                        continue
                    flat = list(v) if isinstance(v, (list, tuple)) else [v]
                    flat = [y for x in flat for y in (x if isinstance(x, (list, tuple)) else [x])]
                    # numbers on x/y are positions, not text; category labels and printed values are text
                    out.extend(
                        str(x) for x in flat if x is not None and (attr in ("text", "name") or isinstance(x, str))
                    )
            return
        if isinstance(o, (views.pn.pane.Markdown, views.pn.pane.Alert)):
            out.append(str(o.object))
        elif isinstance(o, views.pn.pane.HTML):
            out.append(visible_text(str(o.object)))
        elif isinstance(o, views.pn.widgets.Widget):
            out.append(str(getattr(o, "label", "") or ""))
            opts = getattr(o, "options", None)
            if isinstance(opts, dict):
                out.extend(str(k) for k in opts)
        inner = getattr(o, "_inner_layout", None)
        for child in inner.objects if inner is not None else getattr(o, "objects", []):
            walk(child)

    walk(obj)
    return "\n".join(out)


def test_pages_read_in_one_vocabulary(leader):
    """No page shows a raw table name, a raw datetime ("…00:00:00"), "-0.00", a count as "12.0" or
    English pagination (issue 14)."""
    from surface_scan import problems

    d = Dashboard(leader, now=AS_OF)
    found = []
    for page in views.PAGES:
        d.page_select.value = page
        found += problems(page_text(d.main), page)
    d.show_agency("HZ009")
    found += problems(page_text(d.main), "机构详情 HZ009")
    assert not found, "\n".join(found[:20])


def test_veto_on_overview_and_agency_page(leader):
    """HZ009 (数据泄露 IN-2025-001 on 2025-08-14 in the sample) is vetoed: the overview's KPI,
    veto box, ranking and heat map say so, and so does its own page."""
    run = leader.latest_run_id()
    page = views.overview_page(leader, run)
    text = page_text(page)
    assert "一票否决" in text and "IN-2025-001" in text and "2025-08-14" in text and "数据泄露" in text
    assert "不合格（一票否决）" in text
    # the heat map sits in its own sideways-scrolling box (a phone scrolls it, not the page)
    boxes = [o.objects[0] if "hz-scroll" in o.css_classes else o for o in page.objects]
    heat = next(o for o in boxes if isinstance(o, views.pn.pane.Plotly) and "hz-heatmap" in o.css_classes)
    ticks = heat.object.layout.yaxis.ticktext
    vetoed = [t for t in ticks if "不合格（一票否决）" in t]
    assert len(vetoed) == 1 and views.VETO_COLOUR in vetoed[0] and "惠州市卫生健康局" in vetoed[0]
    assert [sh.line.color for sh in heat.object.layout.shapes] == [views.VETO_COLOUR]  # its row framed
    # rows ordered by total, best first
    hm = leader.heatmap(run).unique("agency_code", maintain_order=True)
    assert hm["total"].to_list() == sorted(hm["total"].to_list(), reverse=True)
    detail = page_text(views.agency_page(leader, run, "HZ009"))
    assert "IN-2025-001" in detail and "不合格（一票否决）" in detail


def test_overdue_kpi_is_at_the_run_as_of_not_the_wall_clock(leader, published):
    """The KPI counts what `hzeval supervise --as-of <run as-of>` calls overdue, whatever the time now."""
    from hzeval.assessment.supervise import supervision_items
    from hzeval.store.warehouse import connect

    run = leader.latest_run_id()
    as_of = leader.run(run)["as_of"]
    with connect(published[2], read_only=True) as con:
        cli = supervision_items(con, as_of)
    overdue = cli.filter(pl.col("state") == "逾期").height
    assert leader.kpis(run)["overdue_now"] == overdue
    assert leader.kpis(run, now=dt.datetime(2030, 1, 1))["overdue_now"] == overdue
    assert f"逾期事项（截至 {as_of:%Y-%m-%d}）" in page_text(views.overview_page(leader, run))


def test_evidence_filter_updates_the_table_in_place(leader):
    run = leader.latest_run_id()
    page = views.AgencyPage(store=leader, run_id=run, agency=OTHER)
    page.content()
    table, everything = page.ev_table, page.ev_table.value.shape[0]
    metric = next(m for m in page.param.metric.objects if m)
    page.metric = metric
    assert page.ev_table is table and 0 < page.ev_table.value.shape[0] <= everything
    n = leader.evidence(run, OTHER, metric).height
    assert page.ev_count.object.startswith(f"共 {n} 条证据")


def test_empty_states_in_words(agency):
    """An agency user with no project reads 本机构无项目, not an empty chart."""
    run = agency.latest_run_id()
    page = views.gates_page(agency, run)
    if agency.gates(run).is_empty():
        assert "本机构无项目" in page_text(page)
    else:
        assert "项目数" in page_text(page)


def test_whatif_lists_changed_grades_first_and_shows_the_weight_total(leader):
    run = leader.latest_run_id()
    w = leader.whatif(run, weights={"共享服务": 80})
    flags = w["grade_changed"].to_list()
    assert any(flags) and flags == sorted(flags, reverse=True)  # changed ones first
    page = views.WhatIfPage(store=leader, run_id=run)
    assert "权重合计 **100**" in page_text(page.content())
    before = page.table
    page.weights = {**page.weights, "共享服务": 80}
    text = page_text(page.result())
    assert "按比例折算为 100 分" in text and "等级变化 **0** 家" not in text
    assert page.table is before  # the table is updated in place, not rebuilt
    names = page.table.value["机构名称"].to_list()
    changed = set(w.filter(pl.col("grade_changed"))["agency_name"])
    assert set(names[: len(changed)]) == changed  # changed grades listed first


def test_evidence_times_mean_what_they_say(leader, published):
    """Issue 24 item 6: 办结时间 only for items with a deadline ("未办结" when not done); HZ009's leak
    (IN-2025-001, no deadline) shows its own time, 发生时间 2025-08-14 22:40, and no 办结."""
    run = leader.latest_run_id(2025)
    ev = views.display_frame(leader.evidence(run, "HZ009"), views.EV_TITLES)
    leak = ev[ev["记录编号"] == "IN-2025-001"].iloc[0]
    assert leak["记录时间"] == "发生时间 2025-08-14 22:40" and leak["办结时间"] == "" and leak["截止时间"] == ""
    timed = views.display_frame(leader.evidence(run, "HZ021"), views.EV_TITLES)
    timed = timed[timed["截止时间"] != ""]
    assert len(timed) and set(timed["记录时间"]) == {""}
    assert all(t == "未办结" or t.startswith("20") for t in timed["办结时间"])
    csv = Store(published[0], User("eva", "evaluator")).evidence_csv(run, "HZ009").decode("utf-8-sig")
    assert "发生时间 2025-08-14 22:40" in csv and "记录时间" in csv


def _sup_filter(dash: Dashboard):
    """The 督办 page's agency filter widget in what the dashboard shows."""
    found = [w for w in dash.main.select(views.pn.widgets.Select) if "hz-sup-filter" in w.css_classes]
    assert len(found) == 1
    return found[0]


def test_supervision_filter_lives_in_the_url_and_survives_page_changes(leader):
    """Issue 27 item 7: ?page=督办&agency=HZ016 opens 督办 filtered to HZ016; the link the page
    writes carries it; leaving for 总览 and coming back keeps it; a code not offered is ignored."""
    dash = Dashboard(leader, {"page": "督办", "agency": "HZ016"})
    assert _sup_filter(dash).value == "HZ016"
    assert dash.query() == {"page": "督办", "run": leader.latest_run_id(), "agency": "HZ016"}
    _sup_filter(dash).value = OTHER  # the leader picks another agency
    assert dash.query()["agency"] == OTHER
    dash.page_select.value = "总览"
    assert "agency" not in dash.query()
    dash.page_select.value = "督办"
    assert _sup_filter(dash).value == OTHER and dash.query()["agency"] == OTHER
    _sup_filter(dash).value = ""  # 全部机构: no agency in the link
    assert "agency" not in dash.query()
    assert _sup_filter(Dashboard(leader, {"page": "督办", "agency": "HZ999"})).value == ""  # unknown: 全部机构


def test_wall_interval_from_the_url_is_bounded():
    """The 大屏's seconds per slide: whole seconds from 2 to 600, anything else the default 20."""
    assert views.wall_interval(None) == views.WALL_INTERVAL == 20
    assert [views.wall_interval(v) for v in ("2", "5", "600", " 30 ")] == [2, 5, 600, 30]
    for bad in ("1", "0", "601", "99999", "-5", "2.5", "x", "\u0663", "", "1e3"):  # \u0663: an Arabic-Indic 3
        assert views.wall_interval(bad) == 20, bad


def test_wall_redraws_when_a_new_run_is_published(published, tmp_path):
    """The live 大屏 shows the latest run and redraws once a newer one is published: a folder with
    the 2024 run alone shows its grades (优秀 15, 良好 9, 合格 4, 不合格 10, the sample's 2024
    readings); once the 2025 run is published beside it, 优秀 14, 良好 4, 合格 8, 不合格 12."""
    import re
    import shutil

    folder = tmp_path / "published"
    folder.mkdir()
    later = [f for f in published[0].iterdir() if f.name.startswith("2025") or f.name in ("LATEST", "LATEST-2025")]
    for f in published[0].iterdir():
        if f.is_file() and f not in later:
            shutil.copy(f, folder / f.name)
    wall = views.WallPage(Store(folder, User("boss", "leader")), interval=5)

    def cards():
        return dict(
            re.findall(r'<div class="k">(优秀|良好|合格|不合格)</div><div class="v">([^<]*)<', wall.pane.object)
        )

    assert wall.run_id.startswith("2024-") and "--hz-t: 5s" in wall.pane.object
    assert cards() == {"优秀": "15 家", "良好": "9 家", "合格": "4 家", "不合格": "10 家"}
    assert wall.refresh() is False  # nothing new
    for f in later:
        shutil.copy(f, folder / f.name)
    assert wall.refresh() is True and wall.run_id.startswith("2025-")
    assert cards() == {"优秀": "14 家", "良好": "4 家", "合格": "8 家", "不合格": "12 家"}
    wall.close("登录已失效")
    assert "惠州" not in wall.pane.object and wall.refresh() is False


def test_wall_escapes_what_it_shows(leader, monkeypatch):
    """Every name on the wall is escaped: an agency named with markup reaches the page as text."""
    run = leader.latest_run_id()
    grades = leader.grades(run)
    hostile = grades.with_columns(pl.lit("<img src=x onerror=alert(1)>局").alias("agency_name"))
    monkeypatch.setattr(leader, "grades", lambda run_id, peer_group=None: hostile)
    html = views.wall_html(leader, run)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;局" in html


def test_gate_failures_name_their_resources(leader):
    """The gates page names each failing resource beside its id: the sample's XM-E01 misses
    HZ007-R001 (商品房预售统计数据) and HZ007-R002 (建筑企业资质证照信息) at G3 and HZ021-R001 at G4;
    an id the catalogue does not know (HZ026-R925, 未编目) stays bare."""
    gates = leader.gates(leader.latest_run_id())
    text = dict(zip(gates["project_id"], gates["failed_resources"]))
    assert text["XM-E01"] == (
        "G3 未汇聚: HZ007-R001（商品房预售统计数据）, HZ007-R002（建筑企业资质证照信息）; "
        "G4 未共享: HZ021-R001（户外广告设置业务办理数据）"
    )
    assert text["XM0026"] == "G2 未编目: HZ026-R925; G3 未汇聚: HZ026-R925"
    assert views.present.resources_named("G3 未汇聚: A-R1,B-R2", {"A-R1": "甲"}) == "G3 未汇聚: A-R1（甲）, B-R2"
    assert views.present.resources_named(None, {}) is None


def _contrast(fg: str, bg: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours."""

    def lum(c: str) -> float:
        ch = [int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        ch = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_one_colour_table_for_grades_and_one_scale_for_rates():
    """Issue 27 item 4: the live chart, the offline chart and the report badges colour a grade alike,
    and the live heat map and the bulletin's heat table share the rate scale."""
    from hzeval import pages, present

    dist = {"优秀": 14, "良好": 4, "合格": 8, "不合格": 12}
    live = views.distribution_figure(dist)
    assert list(live.data[0].marker.color) == [present.GRADE_COLOURS[g] for g in dist]
    offline = views.distribution_figure(dist, offline=True)
    fills = [f for f in offline.split('fill="')[1:]]
    assert [f.split('"')[0] for f in fills] == [present.GRADE_COLOURS[g] for g in dist]  # no navy bar
    for grade, cls in pages.GRADE_CLASS.items():
        assert f".{cls} {{ background: {present.GRADE_COLOURS[grade]}; }}" in pages.CSS
    assert f".g-v {{ background: {present.VETO_COLOUR}; }}" in pages.CSS
    # white badge text and coloured text on white both meet AA (4.5 : 1)
    for colour in (*present.GRADE_COLOURS.values(), present.VETO_COLOUR):
        assert _contrast("#ffffff", colour) >= 4.5, colour
    # the rate scale: 71.4% lies between the stops 60% (#f9a825 = 249,168,37) and 80% (#fde7a0 = 253,231,160),
    # t = (0.714 − 0.6) / 0.2 = 0.57: 249 + 4×0.57 = 251.3 → fb, 168 + 63×0.57 = 203.9 → cc, 37 + 123×0.57 = 107.1 → 6b
    assert pages.heat_colour(0.714) == present.rate_colour(0.714) == "#fbcc6b"
    assert present.rate_colour(0.0) == "#c62828" and present.rate_colour(1.0) == "#43a047"
    assert present.rate_colour(None) == ""
    df = pl.DataFrame(
        {
            "agency_code": ["HZ001"],
            "agency_name": ["甲"],
            "grade_label": ["良好"],
            "vetoed": [False],
            "dimension": ["目录管理"],
            "rate": [71.4],
        }
    )
    heat = views.heatmap_figure(df, ["目录管理"])
    assert [list(s) for s in heat.data[0].colorscale] == [[a, c] for a, c in present.RATE_STOPS]
    assert "background:#fbcc6b" in views.heatmap_figure(df, ["目录管理"], offline=True)
