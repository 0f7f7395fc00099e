"""Scoring rules (DESIGN §6) with points worked out by hand."""

from __future__ import annotations

import pytest

from hzeval.scheme import Scheme, load_scheme
from hzeval.scoring import AgencyInfo, GradeRow, indicator_fraction, rank, score_agency, score_all

RULES = [{"profile": "huizhou-draft-2022", "from": "2022-01-01"}]
BANDS = [{"grade": "优秀", "min": 90}, {"grade": "良好", "min": 80, "max": 90},
         {"grade": "合格", "min": 60, "max": 80}, {"grade": "不合格", "min": 0, "max": 60}]


def scheme(**over) -> Scheme:
    data = {
        "name": "test",
        "rules": RULES,
        "dimensions": [
            {"name": "目录", "weight": 40, "indicators": [
                {"metric": "catalog_completeness", "points": 6, "target": 1.0, "floor": 0.6},
                {"metric": "catalog_share_basis", "points": 4, "target": 1.0, "floor": 0.5}]},
            {"name": "共享", "weight": 60, "indicators": [
                {"metric": "share_reply_timeliness", "points": 10, "target": 0.9, "floor": 0.5, "na": "full"}]},
        ],
        "deductions": [{"metric": "out_of_scope_calls", "per": 0.5, "cap": 2}],
        "veto": [{"incident_kind": "数据泄露"}],
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
    assert indicator_fraction(None, ind, "exclude") is None
    assert indicator_fraction(None, ind, "full") == 1.0


def test_points_reweighting_and_deductions():
    s = scheme()
    # 目录: completeness 0.8 -> half of 6/10 of 40 = 12; share basis 0.75 -> half of 4/10 of 40 = 8
    # 共享: reply 0.7 -> (0.7-0.5)/(0.9-0.5) = 0.5 of 60 = 30; 5 calls -> min(2.5, 2) = 2 deducted
    rows, total = score_agency(s, {"catalog_completeness": 0.8, "catalog_share_basis": 0.75,
                                   "share_reply_timeliness": 0.7}, {"out_of_scope_calls": 5})
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
    rows, total = score_agency(s, {"catalog_completeness": 0.9, "catalog_share_basis": None,
                                   "share_reply_timeliness": None}, {})
    pts = {(d, i): (p, m) for d, i, p, m in rows}
    assert pts[("目录", "catalog_completeness")] == (30.0, 40.0)
    assert pts[("目录", "catalog_share_basis")] == (None, 0.0)
    assert total == 90.0


def test_dimension_with_nothing_measured_gives_weight_to_others():
    s = scheme(na_policy="exclude")
    s2 = scheme(dimensions=[
        {"name": "目录", "weight": 40, "indicators": [{"metric": "catalog_completeness", "points": 6, "floor": 0.6}]},
        {"name": "共享", "weight": 60, "indicators": [{"metric": "share_reply_timeliness", "points": 10, "floor": 0.5}]},
    ])
    # 共享 has nothing to measure: 目录 is scaled to 100; completeness 0.8 -> 50
    rows, total = score_agency(s2, {"catalog_completeness": 0.8, "share_reply_timeliness": None}, {})
    assert total == 50.0
    assert {(d, i): m for d, i, _, m in rows}[("目录", "catalog_completeness")] == 100.0
    assert s.na_policy == "exclude"


def test_veto_grade_bands_and_authority_not_graded():
    s = scheme()
    full = {"catalog_completeness": 1.0, "catalog_share_basis": 1.0, "share_reply_timeliness": 1.0}
    agencies = [AgencyInfo("A", "市级"), AgencyInfo("B", "市级"), AgencyInfo("C", "县区"), AgencyInfo("Z", "市级", True)]
    values = {(a, m): v for a in "ABCZ" for m, v in full.items()}
    values[("C", "share_reply_timeliness")] = 0.5  # loses all 60 -> 40
    values[("B", "catalog_completeness")] = 0.8    # loses 12 -> 88
    _, grades = score_all(s, agencies, values, {}, {"A": {"数据泄露"}, "B": {"设备故障"}})
    g = {r.agency_code: r for r in grades}
    assert "Z" not in g
    assert (g["A"].total, g["A"].grade, g["A"].vetoed) == (100.0, "不合格", True)
    assert (g["B"].total, g["B"].grade, g["B"].vetoed) == (88.0, "良好", False)
    assert (g["C"].total, g["C"].grade, g["C"].peer_group) == (40.0, "不合格", "县区")
    # the vetoed agency ranks after the others of its peer group, whatever its points
    assert (g["B"].rank, g["A"].rank, g["C"].rank) == (1, 2, 1)


def test_grade_band_edges():
    s = scheme()
    assert [s.grade_for(x) for x in (100, 90, 89.99, 80, 60, 59.99, 0)] == ["优秀", "优秀", "良好", "良好", "合格", "不合格", "不合格"]


def test_competition_ranking_with_ties():
    rows = [GradeRow(c, t, "", False, None, "市级") for c, t in [("A", 90), ("B", 95), ("C", 90), ("D", 80)]]
    ranks = {r.agency_code: r.rank for r in rank(rows)}
    assert ranks == {"B": 1, "A": 2, "C": 2, "D": 4}


@pytest.mark.parametrize("change, message", [
    ({"dimensions": [{"name": "目录", "weight": 50, "indicators": [{"metric": "catalog_completeness", "points": 1}]}]},
     "sum to 50"),
    ({"dimensions": [{"name": "目录", "weight": 100, "indicators": [{"metric": "no_such_metric", "points": 1}]}]},
     "no_such_metric"),
    ({"dimensions": [{"name": "目录", "weight": 100, "indicators": [{"metric": "out_of_scope_calls", "points": 1}]}]},
     "count metric"),
    ({"grades": [{"grade": "优秀", "min": 85}, {"grade": "良好", "min": 80, "max": 90}, {"grade": "不合格", "min": 0, "max": 80}]},
     "overlapping"),
    ({"grades": [{"grade": "优秀", "min": 90}, {"grade": "不合格", "min": 0, "max": 80}]}, "gap"),
    ({"deductions": [{"metric": "catalog_completeness", "per": 1, "cap": 2}]}, "count metrics"),
    ({"deadlines": {"share_reply": {"days": 2}}}, "replaced by 'rules'"),
    ({"rules": []}, "rules"),
])
def test_bad_schemes_are_rejected(tmp_path, change, message):
    import yaml

    from hzeval.errors import SchemeError

    data = {"name": "bad", "rules": RULES, "grades": BANDS,
            "dimensions": [{"name": "目录", "weight": 100, "indicators": [{"metric": "catalog_completeness", "points": 1}]}]}
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
