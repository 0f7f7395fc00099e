"""Pure scoring (DESIGN §6): metric values + scheme → indicator points, totals, grades, ranks.

No I/O here. Rules:

- an indicator earns ``points × (value − floor) / (target − floor)``, clipped to
  ``[0, points]`` (full at or above target, nothing at or below floor);
- an indicator with nothing to measure (value NULL) is ``exclude``d — the dimension's
  other indicators share its points — or scored ``full``; a dimension whose indicators are
  all excluded gives its weight to the other dimensions in proportion;
- each indicator's reported ``max_points`` is its share of 100 after that re-weighting, so
  ``total = Σ points − deductions`` (deductions: ``min(count × per, cap)``), clipped to [0, 100];
- a veto (e.g. an incident of kind 数据泄露) sets the veto grade whatever the points;
- ranks are within peer groups (市级 / 县区), vetoed agencies after the others, ties share
  a rank; the authority is not graded.
"""

from __future__ import annotations

from dataclasses import dataclass

from hzeval.scheme import Indicator, Scheme


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    level: str | None
    is_authority: bool = False


@dataclass(frozen=True)
class ScoreRow:
    agency_code: str
    dimension: str
    indicator: str
    points: float | None
    max_points: float


@dataclass(frozen=True)
class GradeRow:
    agency_code: str
    total: float
    grade: str
    vetoed: bool
    rank: int | None
    peer_group: str | None
    veto_reason: str | None = None


def indicator_fraction(value: float | None, ind: Indicator, na_policy: str) -> float | None:
    """Share of the indicator's points earned (0..1); None when excluded."""
    if value is None:
        policy = ind.na or na_policy
        return 1.0 if policy == "full" else None
    if value >= ind.target:
        return 1.0
    if value <= ind.floor:
        return 0.0
    return (value - ind.floor) / (ind.target - ind.floor)


def deduction_points(count: int, per: float, cap: float) -> float:
    return min(count * per, cap)


def score_agency(
    scheme: Scheme,
    values: dict[str, float | None],
    counts: dict[str, int],
) -> tuple[list[tuple[str, str, float | None, float]], float]:
    """Indicator rows ``(dimension, metric, points, max_points)`` and the total for one agency."""
    fractions: dict[tuple[str, str], float | None] = {}
    dim_pts: dict[str, float] = {}
    for dim in scheme.dimensions:
        included = 0.0
        for ind in dim.indicators:
            f = indicator_fraction(values.get(ind.metric), ind, scheme.na_policy)
            fractions[(dim.name, ind.metric)] = f
            if f is not None:
                included += ind.points
        dim_pts[dim.name] = included
    live_weight = sum(d.weight for d in scheme.dimensions if dim_pts[d.name] > 0)
    rows: list[tuple[str, str, float | None, float]] = []
    total = 0.0
    for dim in scheme.dimensions:
        eff_weight = dim.weight * 100.0 / live_weight if live_weight and dim_pts[dim.name] > 0 else 0.0
        for ind in dim.indicators:
            f = fractions[(dim.name, ind.metric)]
            if f is None:
                rows.append((dim.name, ind.metric, None, 0.0))
                continue
            max_pts = eff_weight * ind.points / dim_pts[dim.name]
            pts = round(max_pts * f, 4)
            rows.append((dim.name, ind.metric, pts, round(max_pts, 4)))
            total += pts
    for ded in scheme.deductions:
        lost = deduction_points(int(counts.get(ded.metric, 0) or 0), ded.per, ded.cap)
        rows.append((ded.dimension, ded.metric, -round(lost, 4), 0.0))
        total -= lost
    return rows, round(min(max(total, 0.0), 100.0), 2)


def score_all(
    scheme: Scheme,
    agencies: list[AgencyInfo],
    values: dict[tuple[str, str], float | None],
    counts: dict[tuple[str, str], int],
    incident_kinds: dict[str, set[str]],
) -> tuple[list[ScoreRow], list[GradeRow]]:
    """Score every graded agency; ``values``/``counts`` are keyed by (agency_code, metric_id)."""
    scores: list[ScoreRow] = []
    pre: list[GradeRow] = []
    for ag in agencies:
        if ag.is_authority:
            continue
        metric_ids = {ind.metric for d in scheme.dimensions for ind in d.indicators} | {d.metric for d in scheme.deductions}
        v = {m: values.get((ag.code, m)) for m in metric_ids}
        c = {m: counts.get((ag.code, m), 0) for m in metric_ids}
        rows, total = score_agency(scheme, v, c)
        scores += [ScoreRow(ag.code, d, i, p, mx) for d, i, p, mx in rows]
        kinds = incident_kinds.get(ag.code, set())
        veto = next((vt for vt in scheme.veto if vt.incident_kind in kinds), None)
        grade = veto.grade if veto else scheme.grade_for(total)
        reason = f"发生{veto.incident_kind}事件，一票否决（第{veto.article}条）" if veto else None
        pre.append(GradeRow(ag.code, total, grade, veto is not None, None, scheme.peer_groups.get(ag.level or "", ag.level), reason))
    return scores, rank(pre)


def rank(rows: list[GradeRow]) -> list[GradeRow]:
    """Competition ranking (1, 2, 2, 4) within each peer group; vetoed agencies last."""
    out = []
    groups: dict[str | None, list[GradeRow]] = {}
    for r in rows:
        groups.setdefault(r.peer_group, []).append(r)
    for group in groups.values():
        keyed = sorted(group, key=lambda r: (r.vetoed, -r.total, r.agency_code))
        for r in keyed:
            better = sum(1 for o in group if (o.vetoed, -o.total) < (r.vetoed, -r.total))
            out.append(GradeRow(r.agency_code, r.total, r.grade, r.vetoed, better + 1, r.peer_group, r.veto_reason))
    return sorted(out, key=lambda r: (r.peer_group or "", r.rank, r.agency_code))
