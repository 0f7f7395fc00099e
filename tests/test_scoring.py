"""Scoring rules (DESIGN §6) with points worked out by hand."""

from __future__ import annotations

import pytest

from hzeval.assessment.scheme import Scheme, load_scheme
from hzeval.assessment.scoring import AgencyInfo, GradeRow, indicator_fraction, rank, score_agency, score_all

RULES = [{"profile": "huizhou-draft-2022", "from": "2022-01-01"}]
B = "《测试年度公共数据管理评估方案》第一项"
BANDS = [
    {"grade": "优秀", "min": 90},
    {"grade": "良好", "min": 80, "max": 90},
    {"grade": "合格", "min": 60, "max": 80},
    {"grade": "不合格", "min": 0, "max": 60},
]


def scheme(**over) -> Scheme:
    data = {
        "name": "test",
        "rules": RULES,
        "dimensions": [
            {
                "name": "目录",
                "weight": 40,
                "basis": B,
                "indicators": [
                    {"metric": "catalog_completeness", "points": 6, "target": 1.0, "floor": 0.6},
                    {"metric": "catalog_share_basis", "points": 4, "target": 1.0, "floor": 0.5},
                ],
            },
            {
                "name": "共享",
                "weight": 60,
                "basis": B,
                "indicators": [
                    {"metric": "share_reply_timeliness", "points": 10, "target": 0.9, "floor": 0.5, "na": "full"}
                ],
            },
        ],
        "deductions": [{"metric": "out_of_scope_calls", "per": 0.5, "cap": 2, "basis": B}],
        "veto": [{"incident_kind": "数据泄露", "basis": "《测试年度公共数据管理评估方案》否决事项第一项"}],
        "grades": BANDS,
    }
    data.update(over)
    return Scheme.model_validate(data)


def test_linear_between_floor_and_target():
    ind = scheme().dimensions[0].indicators[0]  # floor 0.6, target 1.0
    assert indicator_fraction(0.8, ind, "exclude") == pytest.approx(0.5)
    assert indicator_fraction(0.6, ind, "exclude") == 0.0
    assert indicator_fraction(0.3, ind, "exclude") == 0.0
    assert indicator_fraction(1.0, ind, "exclude") == 1.0
    # nothing measured: catalog_completeness is a standing obligation -> 0 whatever the policy;
    # catalog_share_basis is event-driven (no 有条件/不予共享 resource) -> the policy applies
    assert indicator_fraction(None, ind, "exclude") == 0.0
    assert indicator_fraction(None, ind, "full") == 0.0
    event = scheme().dimensions[0].indicators[1]
    assert indicator_fraction(None, event, "exclude") is None
    assert indicator_fraction(None, event, "full") == 1.0


def test_points_reweighting_and_deductions():
    s = scheme()
    # 目录: completeness 0.8 -> half of 6/10 of 40 = 12; share basis 0.75 -> half of 4/10 of 40 = 8
    # 共享: reply 0.7 -> (0.7-0.5)/(0.9-0.5) = 0.5 of 60 = 30; 5 calls -> min(2.5, 2) = 2 deducted
    rows, total = score_agency(
        s,
        {"catalog_completeness": 0.8, "catalog_share_basis": 0.75, "share_reply_timeliness": 0.7},
        {"out_of_scope_calls": 5},
    )
    pts = {(d, i): (p, m) for d, i, p, m in rows}
    assert pts[("目录", "catalog_completeness")] == (12.0, 24.0)
    assert pts[("目录", "catalog_share_basis")] == (8.0, 16.0)
    assert pts[("共享", "share_reply_timeliness")] == (30.0, 60.0)
    assert pts[("扣分项", "out_of_scope_calls")] == (-2.0, 0.0)
    assert total == 48.0


def test_exclude_gives_points_to_siblings_and_full_scores_full():
    s = scheme()
    # nothing to measure for share basis: completeness carries all 40 points of 目录 (0.9 -> 75% = 30);
    # nothing to measure for replies with na: full -> 60
    rows, total = score_agency(
        s, {"catalog_completeness": 0.9, "catalog_share_basis": None, "share_reply_timeliness": None}, {}
    )
    pts = {(d, i): (p, m) for d, i, p, m in rows}
    assert pts[("目录", "catalog_completeness")] == (30.0, 40.0)
    assert pts[("目录", "catalog_share_basis")] == (None, 0.0)
    assert total == 90.0


def test_dimension_with_nothing_measured_gives_weight_to_others():
    s = scheme(na_policy="exclude")
    s2 = scheme(
        dimensions=[
            {
                "name": "目录",
                "weight": 40,
                "basis": B,
                "indicators": [{"metric": "catalog_completeness", "points": 6, "floor": 0.6}],
            },
            {
                "name": "共享",
                "weight": 60,
                "basis": B,
                "indicators": [{"metric": "share_reply_timeliness", "points": 10, "floor": 0.5}],
            },
        ]
    )
    # 共享 has nothing to measure: 目录 is scaled to 100; completeness 0.8 -> 50
    rows, total = score_agency(s2, {"catalog_completeness": 0.8, "share_reply_timeliness": None}, {})
    assert total == 50.0
    assert {(d, i): m for d, i, _, m in rows}[("目录", "catalog_completeness")] == 100.0
    assert s.na_policy == "exclude"


def test_veto_grade_bands_and_authority_not_graded():
    s = scheme()
    full = {"catalog_completeness": 1.0, "catalog_share_basis": 1.0, "share_reply_timeliness": 1.0}
    agencies = [
        AgencyInfo("A", "市级"),
        AgencyInfo("B", "市级"),
        AgencyInfo("C", "县区"),
        AgencyInfo("Z", "市级", True),
    ]
    values = {(a, m): v for a in "ABCZ" for m, v in full.items()}
    values[("C", "share_reply_timeliness")] = 0.5  # loses all 60 -> 40
    values[("B", "catalog_completeness")] = 0.8  # loses 12 -> 88
    _, grades = score_all(s, agencies, values, {}, {"A": {"数据泄露"}, "B": {"设备故障"}})
    g = {r.agency_code: r for r in grades}
    assert "Z" not in g
    assert (g["A"].total, g["A"].grade, g["A"].vetoed) == (100.0, "不合格", True)
    assert (g["B"].total, g["B"].grade, g["B"].vetoed) == (88.0, "良好", False)
    assert (g["C"].total, g["C"].grade, g["C"].peer_group) == (40.0, "不合格", "县区")
    # the vetoed agency ranks after the others of its peer group, whatever its points
    assert (g["B"].rank, g["A"].rank, g["C"].rank) == (1, 2, 1)


def test_the_authority_is_graded_only_where_the_scheme_says_so():
    """DESIGN §5b: the authority's own metrics are computed either way; ``graded`` naming 主管部门 grades it
    (scored and ranked in its level's peer group like any agency), the default does not."""
    full = {"catalog_completeness": 1.0, "catalog_share_basis": 1.0, "share_reply_timeliness": 1.0}
    agencies = [AgencyInfo("A", "市级"), AgencyInfo("Z", "市级", True)]
    values = {(a, m): v for a in "AZ" for m, v in full.items()}
    # Z's catalogue 0.8: 目录 40 × (6 × (0.8 − 0.6)/(1 − 0.6) + 4) / 10 = 40 × 7 / 10 = 28 of 40 -> 88 良好
    values[("Z", "catalog_completeness")] = 0.8
    scores, grades = score_all(scheme(), agencies, values, {}, {})
    assert [g.agency_code for g in grades] == ["A"] and {s.agency_code for s in scores} == {"A"}
    scores, grades = score_all(scheme(graded=["行政机关", "主管部门"]), agencies, values, {}, {})
    g = {r.agency_code: r for r in grades}
    assert (g["Z"].total, g["Z"].grade, g["Z"].graded, g["Z"].peer_group, g["Z"].rank) == (
        88.0,
        "良好",
        True,
        "市级",
        2,
    )
    assert (g["A"].total, g["A"].rank) == (100.0, 1)
    # 主管部门 alone grades the authority and leaves the 行政机关 ungraded (reported, 参照执行-style)
    _, grades = score_all(scheme(graded=["主管部门"]), agencies, values, {}, {})
    assert {r.agency_code: r.graded for r in grades} == {"A": False, "Z": True}
    with pytest.raises(ValueError, match="graded"):
        scheme(graded=["数据局"])


def test_grade_band_edges():
    s = scheme()
    assert [s.grade_for(x) for x in (100, 90, 89.99, 80, 60, 59.99, 0)] == [
        "优秀",
        "优秀",
        "良好",
        "良好",
        "合格",
        "不合格",
        "不合格",
    ]


def test_competition_ranking_with_ties():
    rows = [GradeRow(c, t, "", False, None, "市级") for c, t in [("A", 90), ("B", 95), ("C", 90), ("D", 80)]]
    ranks = {r.agency_code: r.rank for r in rank(rows)}
    assert ranks == {"B": 1, "A": 2, "C": 2, "D": 4}


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {
                "dimensions": [
                    {
                        "name": "目录",
                        "weight": 50,
                        "basis": B,
                        "indicators": [{"metric": "catalog_completeness", "points": 1}],
                    }
                ]
            },
            "sum to 50",
        ),
        (
            {
                "dimensions": [
                    {
                        "name": "目录",
                        "weight": 100,
                        "basis": B,
                        "indicators": [{"metric": "no_such_metric", "points": 1}],
                    }
                ]
            },
            "no_such_metric",
        ),
        (
            {
                "dimensions": [
                    {
                        "name": "目录",
                        "weight": 100,
                        "basis": B,
                        "indicators": [{"metric": "out_of_scope_calls", "points": 1}],
                    }
                ]
            },
            "count metric",
        ),
        (
            {
                "grades": [
                    {"grade": "优秀", "min": 85},
                    {"grade": "良好", "min": 80, "max": 90},
                    {"grade": "不合格", "min": 0, "max": 80},
                ]
            },
            "overlapping",
        ),
        ({"grades": [{"grade": "优秀", "min": 90}, {"grade": "不合格", "min": 0, "max": 80}]}, "gap"),
        ({"deductions": [{"metric": "catalog_completeness", "per": 1, "cap": 2, "basis": B}]}, "count metrics"),
        # a standing obligation cannot be excused for having nothing measured
        (
            {
                "dimensions": [
                    {
                        "name": "目录",
                        "weight": 100,
                        "basis": B,
                        "indicators": [{"metric": "catalog_completeness", "points": 1, "na": "full"}],
                    }
                ]
            },
            "standing obligation",
        ),
        (
            {
                "dimensions": [
                    {
                        "name": "汇聚",
                        "weight": 100,
                        "basis": B,
                        "indicators": [{"metric": "aggregation_coverage", "points": 1, "na": "exclude"}],
                    }
                ]
            },
            "standing obligation",
        ),
        # policy is not law: every weight, deduction and veto names the document it comes from
        (
            {
                "dimensions": [
                    {"name": "目录", "weight": 100, "indicators": [{"metric": "catalog_completeness", "points": 1}]}
                ]
            },
            "dimensions.0.basis",
        ),
        ({"deductions": [{"metric": "out_of_scope_calls", "per": 1, "cap": 2}]}, "deductions.0.basis"),
        ({"veto": [{"incident_kind": "数据泄露", "article": 47}]}, "veto.0"),
        ({"veto": [{"incident_kind": "数据泄露", "basis": "第四十七条"}]}, "must name its document"),
        (
            {
                "dimensions": [
                    {
                        "name": "安全",
                        "weight": 100,
                        "basis": B,
                        "indicators": [{"metric": "security_practice", "points": 1}],
                    }
                ]
            },
            "security_required",
        ),
        ({"security_required": {"安全巡检": 2}}, "unknown record types"),
        ({"graded": ["事业单位"]}, "unknown agency types"),
        ({"deadlines": {"share_reply": {"days": 2}}}, "replaced by 'rules'"),
        ({"rules": []}, "rules"),
    ],
)
def test_bad_schemes_are_rejected(tmp_path, change, message):
    import yaml

    from hzeval.errors import SchemeError

    data = {
        "name": "bad",
        "rules": RULES,
        "grades": BANDS,
        "dimensions": [
            {"name": "目录", "weight": 100, "basis": B, "indicators": [{"metric": "catalog_completeness", "points": 1}]}
        ],
    }
    data.update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    assert message in str(err.value) and "bad.yaml" in str(err.value)


def test_packaged_schemes_are_valid():
    for year in (2024, 2025):
        s = load_scheme(year=year)
        assert sum(d.weight for d in s.dimensions) == 100
        draft = s.ruleset.in_force(None)
        assert draft.deadlines["share_reply"].days == 2 and draft.deadlines["open_reply"].days == 20
        assert len(s.sha256) == 64


# --------------------------------------------------------------------------- issue 11: credible grades

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hzeval.assessment.scheme import STANDING, scheme_for  # noqa: E402
from hzeval.assessment.scoring import NOT_GRADED, Incident  # noqa: E402


def test_doing_nothing_but_the_plan_and_the_checks_is_not_excellent():
    """The issue's example under the 2025 scheme: nothing catalogued, aggregated or shared; open plan
    filed and security practice met. Before: every empty indicator was re-weighted away -> 100 优秀.
    Now catalog_completeness and aggregation_coverage (standing) score 0 and keep their dimensions live:
    live weights 目录 20 + 汇聚 25 + 开放 10 + 安全 10 = 65 (共享, 项目 have nothing to measure);
    开放: only open_plan_filed measured -> 10 × 100/65 = 15.38; 安全: security_practice alone -> 15.38;
    目录 and 汇聚 earn 0. Total 30.77 -> 不合格."""
    rows, total = score_agency(scheme_for(2025), {"open_plan_filed": 1.0, "security_practice": 1.0}, {})
    assert total == pytest.approx(30.77)
    pts = {(d, i): (p, m) for d, i, p, m in rows}
    assert pts[("目录管理", "catalog_completeness")][0] == 0.0
    assert pts[("数据汇聚与更新", "aggregation_coverage")] == (0.0, pytest.approx(25 * 100 / 65 * 8 / 8, abs=1e-3))
    assert scheme_for(2025).grade_for(total) == "不合格"


def test_standing_set_is_the_four_obligations():
    assert STANDING == {"catalog_completeness", "aggregation_coverage", "open_plan_filed", "security_practice"}


_SCHEME_2025 = scheme_for(2025)
_METRICS_2025 = sorted({i.metric for d in _SCHEME_2025.dimensions for i in d.indicators})
_rate = st.one_of(st.none(), st.floats(0, 1, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    others=st.fixed_dictionaries({m: _rate for m in _METRICS_2025 if m not in STANDING}),
    met=st.fixed_dictionaries({m: st.floats(0, 1, allow_nan=False) for m in sorted(STANDING)}),
    counts=st.fixed_dictionaries({d.metric: st.integers(0, 30) for d in _SCHEME_2025.deductions}),
)
def test_empty_standing_obligations_never_outrank_measured_ones(others, met, counts):
    """For any values of the other metrics (the same for both), an agency whose standing obligations are
    all empty (nothing catalogued, aggregated, filed or done) never outranks one that has them measured,
    however poorly (a measured 0 ties with empty; anything above its floor beats it)."""
    empty = {**others, **{m: None for m in STANDING}}
    working = {**others, **met}
    agencies = [AgencyInfo("EMPTY", "市级"), AgencyInfo("WORKS", "市级")]
    values = {("EMPTY", m): v for m, v in empty.items()} | {("WORKS", m): v for m, v in working.items()}
    cnt = {(a, m): n for a in ("EMPTY", "WORKS") for m, n in counts.items()}
    _, grades = score_all(_SCHEME_2025, agencies, values, cnt, {})
    g = {r.agency_code: r for r in grades}
    assert g["EMPTY"].total <= g["WORKS"].total
    assert g["EMPTY"].rank >= g["WORKS"].rank
    # and with every standing obligation met (rate 1.0), strictly behind unless deductions floor both at 0
    full = {("WORKS", m): 1.0 for m in STANDING}
    _, grades = score_all(_SCHEME_2025, agencies, values | full, cnt, {})
    g = {r.agency_code: r for r in grades}
    assert g["EMPTY"].total < g["WORKS"].total or g["WORKS"].total == 0.0


def test_reference_units_are_scored_but_neither_graded_nor_ranked():
    s = scheme()
    full = {"catalog_completeness": 1.0, "catalog_share_basis": 1.0, "share_reply_timeliness": 1.0}
    agencies = [
        AgencyInfo("A", "市级"),
        AgencyInfo("R", "市级", agency_type="参照执行"),
        AgencyInfo("B", "市级", agency_type="行政机关"),
    ]
    values = {(a, m): v for a in "ARB" for m, v in full.items()}
    values[("B", "catalog_completeness")] = 0.8  # 88 (see test_veto_grade_bands_and_authority_not_graded)
    scores, grades = score_all(s, agencies, values, {}, {"R": [Incident("数据泄露", "IN-1")]})
    g = {r.agency_code: r for r in grades}
    assert (g["R"].total, g["R"].grade, g["R"].rank, g["R"].graded, g["R"].vetoed) == (
        100.0,
        NOT_GRADED,
        None,
        False,
        False,
    )
    assert (g["A"].rank, g["B"].rank) == (1, 2)  # R takes no place in the ranking
    assert {r.indicator for r in scores if r.agency_code == "R"} >= set(full)
    # a scheme that grades both types ranks R too (tied first with A)
    both = scheme(graded=["行政机关", "参照执行"])
    _, grades = score_all(both, agencies, values, {}, {})
    assert {r.agency_code: r.rank for r in grades} == {"A": 1, "R": 1, "B": 3}


def test_veto_names_incident_date_kind_and_basis():
    import datetime as dt

    s = scheme()
    full = {"catalog_completeness": 1.0, "catalog_share_basis": 1.0, "share_reply_timeliness": 1.0}
    values = {("A", m): v for m, v in full.items()}
    inc = [
        Incident("系统故障", "IN-7", dt.datetime(2025, 3, 1, 9)),
        Incident("数据泄露", "IN-9", dt.datetime(2025, 8, 14, 22, 40)),
    ]
    _, grades = score_all(s, [AgencyInfo("A", "市级")], values, {}, {"A": inc})
    assert grades[0].vetoed and grades[0].grade == "不合格"
    assert (
        grades[0].veto_reason
        == "一票否决：IN-9（2025-08-14 数据泄露），依据《测试年度公共数据管理评估方案》否决事项第一项"
    )
    # no counting incident (e.g. the leak excused under an approved adjustment): no veto, no reason
    _, grades = score_all(s, [AgencyInfo("A", "市级")], values, {}, {"A": inc[:1]})
    assert (grades[0].vetoed, grades[0].grade, grades[0].veto_reason) == (False, "优秀", None)


def test_scores_carry_their_basis():
    s = scheme()
    scores, _ = score_all(s, [AgencyInfo("A", "市级")], {}, {("A", "out_of_scope_calls"): 3}, {})
    basis = {r.indicator: r.basis for r in scores}
    assert basis["catalog_completeness"] == B and basis["out_of_scope_calls"] == B


def test_feedback_period_and_realtime_are_scheme_parameters(tmp_path):
    """DESIGN §5b: 实时 (as 每日 by default) and the usage-feedback period (季度 by default) are the scheme's."""
    import datetime as dt

    import yaml

    from hzeval.assessment.scheme import default_scheme_path, load_scheme
    from hzeval.errors import SchemeError
    from hzeval.metrics import Window

    SCHEME = load_scheme(year=2025)
    AS_OF = dt.datetime(2026, 1, 5, 9, 0)
    assert (SCHEME.realtime_as, SCHEME.feedback_period, SCHEME.feedback_months) == ("每日", "季度", 3)
    data = yaml.safe_load(default_scheme_path(2025).read_text(encoding="utf-8"))
    data.update(realtime_as="每周", feedback_period="半年")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    scheme = load_scheme(path)
    window = Window.for_year(2025, AS_OF, scheme)
    assert (window.realtime_as, window.feedback_months) == ("每周", 6)
    data["feedback_period"] = "每月"  # share_feedback.period is a quarter: months cannot be judged
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError, match="feedback_period"):
        load_scheme(path)
