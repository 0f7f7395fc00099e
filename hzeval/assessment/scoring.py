"""Pure scoring (DESIGN §6): metric values + scheme → indicator points, totals, grades, ranks.

No I/O here. Rules:

- an indicator earns ``points × (value − floor) / (target − floor)``, clipped to
  ``[0, points]`` (full at or above target, nothing at or below floor);
- a standing obligation (catalogue, aggregation, open plan, security practice: owed by every
  graded agency every year) with nothing measured scores 0 — an agency that does nothing can
  never score better than one that works and is sometimes late;
- an event-driven indicator with nothing to measure (value NULL) is ``exclude``d — the
  dimension's other indicators share its points — or scored ``full``; a dimension whose
  indicators are all excluded gives its weight to the other dimensions in proportion;
- each indicator's reported ``max_points`` is its share of 100 after that re-weighting, so
  ``total = Σ points − deductions`` (deductions: ``min(count × per, cap)``), clipped to [0, 100];
- a veto (e.g. an incident of kind 数据泄露) sets the veto grade whatever the points, and names
  the incident, its date, its kind and the scheme's basis; an incident excused through an
  approved adjustment is not passed in (it neither vetoes nor deducts);
- only the scheme's graded agency types (default 行政机关) get a grade and a rank; the others
  (参照执行) get their points with grade :data:`NOT_GRADED`; an authority is scored, graded and ranked in
  its peer group only if the scheme's ``graded`` names 主管部门, else left out here (its own metrics are
  computed and reported by the read layer, ``RunReader.authority_metrics``);
- ranks are within peer groups (市级 / 县区), vetoed agencies after the others, ties share
  a rank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hzeval.assessment.scheme import STANDING, Indicator, Scheme

#: grade text of an agency the scheme does not grade (第五十一条 参照执行 units by default)
NOT_GRADED = "参照执行、不参与评级"
#: points are rounded to 4 places (:func:`score_agency`): points lost below this are rounding noise
LOST_EPS = 0.00005


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    level: str | None
    is_authority: bool = False
    #: agencies.agency_type; None = 行政机关
    agency_type: str | None = None


@dataclass(frozen=True)
class Incident:
    """An incident that counts (not excused) in the assessed year."""

    kind: str
    incident_id: str | None = None
    occurred_at: dt.datetime | None = None
    #: 第二十二条: the stage (采集/提供/使用) the charged agency answers for, when the incident records it
    stage: str | None = None


@dataclass(frozen=True)
class ScoreRow:
    agency_code: str
    dimension: str
    indicator: str
    points: float | None
    max_points: float
    basis: str | None = None


@dataclass(frozen=True)
class GradeRow:
    agency_code: str
    total: float
    grade: str
    vetoed: bool
    rank: int | None
    peer_group: str | None
    veto_reason: str | None = None
    graded: bool = True


def indicator_fraction(value: float | None, ind: Indicator, na_policy: str) -> float | None:
    """Share of the indicator's points earned (0..1); None when excluded.

    A standing obligation with nothing measured earns 0; an event-driven one follows the
    indicator's ``na`` (else the scheme's ``na_policy``)."""
    if value is None:
        if ind.metric in STANDING:
            return 0.0
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


def _incidents(items: Iterable[Incident | str]) -> list[Incident]:
    """Incidents of one agency; a bare kind (older callers) stands for an incident without id or date."""
    out = [i if isinstance(i, Incident) else Incident(kind=str(i)) for i in items]
    return sorted(out, key=lambda i: (i.occurred_at or dt.datetime.min, i.incident_id or "", i.kind))


def veto_reason(incident: Incident, basis: str) -> str:
    """'一票否决：IN-2025-001（2025-08-14 数据泄露），依据《…》…' — the incident, its date, kind and basis."""
    what = " ".join(x for x in (f"{incident.occurred_at:%Y-%m-%d}" if incident.occurred_at else "", incident.kind) if x)
    if incident.stage:
        what += f"，{incident.stage}环节"
    head = f"{incident.incident_id}（{what}）" if incident.incident_id else f"发生{what}事件"
    return f"一票否决：{head}，依据{basis}"


def score_all(
    scheme: Scheme,
    agencies: list[AgencyInfo],
    values: dict[tuple[str, str], float | None],
    counts: dict[tuple[str, str], int],
    incidents: Mapping[str, Iterable[Incident | str]],
) -> tuple[list[ScoreRow], list[GradeRow]]:
    """Score every agency but an authority the scheme does not grade; ``values``/``counts`` are keyed by
    (agency_code, metric_id).

    ``incidents``: agency → the year's incidents that count (excused ones left out), as
    :class:`Incident` or bare kinds."""
    scores: list[ScoreRow] = []
    pre: list[GradeRow] = []
    metric_ids = {ind.metric for d in scheme.dimensions for ind in d.indicators} | {d.metric for d in scheme.deductions}
    for ag in agencies:
        if ag.is_authority and not scheme.is_graded(ag.agency_type, is_authority=True):
            continue
        v = {m: values.get((ag.code, m)) for m in metric_ids}
        c = {m: counts.get((ag.code, m), 0) for m in metric_ids}
        rows, total = score_agency(scheme, v, c)
        scores += [ScoreRow(ag.code, d, i, p, mx, scheme.indicator_basis(d, i)) for d, i, p, mx in rows]
        if not scheme.is_graded(ag.agency_type, ag.is_authority):
            pre.append(GradeRow(ag.code, total, NOT_GRADED, False, None, None, None, graded=False))
            continue
        hit = next(
            (
                (vt, inc)
                for inc in _incidents(incidents.get(ag.code, ()))
                for vt in scheme.veto
                if vt.incident_kind == inc.kind
            ),
            None,
        )
        grade = hit[0].grade if hit else scheme.grade_for(total)
        reason = veto_reason(hit[1], hit[0].basis) if hit else None
        pre.append(
            GradeRow(
                ag.code, total, grade, hit is not None, None, scheme.peer_groups.get(ag.level or "", ag.level), reason
            )
        )
    return scores, rank(pre)


def rank(rows: list[GradeRow]) -> list[GradeRow]:
    """Competition ranking (1, 2, 2, 4) within each peer group; vetoed agencies last; ungraded ones unranked."""
    out = []
    groups: dict[str | None, list[GradeRow]] = {}
    for r in rows:
        if not r.graded:
            out.append(r)
            continue
        groups.setdefault(r.peer_group, []).append(r)
    for group in groups.values():
        keyed = sorted(group, key=lambda r: (r.vetoed, -r.total, r.agency_code))
        for r in keyed:
            better = sum(1 for o in group if (o.vetoed, -o.total) < (r.vetoed, -r.total))
            out.append(
                GradeRow(r.agency_code, r.total, r.grade, r.vetoed, better + 1, r.peer_group, r.veto_reason, r.graded)
            )
    return sorted(out, key=lambda r: (not r.graded, r.peer_group or "", r.rank or 0, r.agency_code))
