"""``hzeval gate``: the project data gate (metric ``project_gate``, DESIGN §5).

Uses the same SQL step (``int_project_gates`` in ``metrics/sql/projects.sql``) as the
``project_gate`` metric and the run's ``project_gates`` table.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from hzeval.errors import RefusedError
from hzeval.metrics.engine import Window, load_blocks, prepare, run_block
from hzeval.util.frame import frame

#: the gate's conditions and their names, as every surface heads them (reports, workbook, dashboard)
GATE_CONDITIONS = {"G1": "立项时提交数据清单", "G2": "数据已编目", "G3": "数据已汇聚", "G4": "数据已共享"}
#: what a condition checks, where its name alone does not say (``hzeval gate`` prints it); G4 as the
#: default scheme has it (``gate_nonshare_filed_passes``), see :func:`checks`
GATE_CHECKS = {"G2": "目录发布", "G3": "成功汇聚", "G4": "非不予共享，或不予共享有依据并备案"}
#: G4 where the scheme lets no 不予共享 resource pass (``gate_nonshare_filed_passes: false``)
G4_STRICT = "非不予共享"
#: when G2–G4 are checked, per the scheme's ``gate_checked_at``
CHECKED_AT = {
    "requested": "申请验收时（未申请的以验收时，未验收的以当前时间）",
    "accepted": "验收时（未验收的以当前时间）",
}


def checks(nonshare_filed_passes: bool = True) -> dict[str, str]:
    """Each condition with what it checks: "数据已编目（目录发布）" (G4 per the scheme's parameter)."""
    what = {**GATE_CHECKS, **({} if nonshare_filed_passes else {"G4": G4_STRICT})}
    return {k: f"{v}（{what[k]}）" if k in what else v for k, v in GATE_CONDITIONS.items()}


#: each condition with what it checks under the default scheme parameters
CONDITIONS = checks()


def conditions_text(detailed: bool = False) -> str:
    """The conditions in one line: "G1 立项时提交数据清单；G2 数据已编目；…" (``detailed``: with what each checks)."""
    return "；".join(f"{k} {v}" for k, v in (CONDITIONS if detailed else GATE_CONDITIONS).items())


def evaluate_gates(con, as_of: dt.datetime, project: str | None = None, scheme=None) -> pl.DataFrame:
    """One row per fiscal project: G2–G4 checked at the acceptance request, at acceptance, or at ``as_of``
    as the ``scheme``'s ``gate_checked_at`` says (default: requested); G4 per its
    ``gate_nonshare_filed_passes`` (default: true)."""
    window = Window(
        start=dt.datetime(1900, 1, 1),
        end=as_of + dt.timedelta(microseconds=1),
        as_of=as_of,
        **(
            {}
            if scheme is None
            else {
                "gate_checked_at": scheme.gate_checked_at,
                "gate_nonshare_filed_passes": scheme.gate_nonshare_filed_passes,
            }
        ),
    )
    prepare(con, window)
    params = window.params()
    for b in load_blocks("projects"):
        if b.kind == "step":
            run_block(con, b, params)
    out = frame(
        con,
        """
        select g.project_id, g.project_name, g.owner_code, a.agency_name as owner_name,
               g.approved_at, g.accepted_at, g.checked_at, g.checked_on,
               g.failed_conditions = '' as passed,
               nullif(g.failed_conditions, '') as failed_conditions,
               nullif(g.failed_resources, '') as failed_resources,
               g.accepted_at is not null and g.failed_conditions <> '' as accepted_while_failing
        from int_project_gates as g
        left join agencies as a on a.agency_code = g.owner_code
        where $project is null or g.project_id = $project
        order by accepted_while_failing desc, passed, g.project_id
        """,
        {"project": project},
    )
    if project is not None and out.is_empty():
        raise RefusedError(
            f"未找到项目 {project}（或非财政资金项目）", f"no fiscal project {project!r}", project=project
        )
    return out
