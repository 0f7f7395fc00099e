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
def leader(published):  # noqa: F811
    return Store(published[0], User("boss", "leader"))


@pytest.fixture
def agency(published):  # noqa: F811
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
    frames = [leader.grades(run), leader.heatmap(run), leader.indicators(run, OTHER), leader.whatif(run),
              leader.trend(), leader.supervision(AS_OF)]
    for df in frames:
        assert not any(isinstance(t, pl.Decimal) for t in df.dtypes), df.schema
    assert isinstance(leader.grades(run)["total"][0], float)
    assert isinstance(leader.kpis(run, AS_OF)["average"], float)
    d = floats(pl.DataFrame({"x": [decimal.Decimal("1.25")]}, schema={"x": pl.Decimal(10, 2)}))
    assert d.schema["x"] == pl.Float64 and d["x"][0] == 1.25


def test_supervision_is_the_cli_logic(leader, published):  # noqa: F811
    from hzeval.supervise import supervision_items
    from hzeval.warehouse import connect

    with connect(published[2], read_only=True) as con:
        cli = supervision_items(con, AS_OF)
    dash = leader.supervision(AS_OF)
    assert sorted(dash["record_id"]) == sorted(cli["record_id"])
    assert dash["state"].to_list() == cli["state"].to_list()


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


def test_evidence_export_is_for_evaluators_only(published, leader):  # noqa: F811
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
    monkeypatch.setenv("HZEVAL_COOKIE_SECRET", "x" * 40)
    assert cookie_secret() == "x" * 40


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
