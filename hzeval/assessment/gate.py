"""``hzeval gate``: the project data gate (metric ``project_gate``, DESIGN §5).

Uses the same SQL step (``int_project_gates`` in ``metrics/sql/projects.sql``) as the
``project_gate`` metric and the run's ``project_gates`` table.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from rich.table import Table

from hzeval.errors import RefusedError
from hzeval.metrics.engine import Window, load_blocks, prepare, run_block
from hzeval.util.frame import frame

CONDITIONS = {
    "G1": "立项时提交数据清单",
    "G2": "数据已编目（目录发布）",
    "G3": "数据已汇聚（成功汇聚）",
    "G4": "数据已共享（非不予共享，或不予共享有依据并备案）",
}


def evaluate_gates(con, as_of: dt.datetime, project: str | None = None) -> pl.DataFrame:
    """One row per fiscal project: conditions checked at acceptance, or at ``as_of`` if not accepted."""
    window = Window(start=dt.datetime(1900, 1, 1), end=as_of + dt.timedelta(microseconds=1), as_of=as_of)
    prepare(con, window)
    params = window.params()
    for b in load_blocks("projects"):
        if b.kind == "step":
            run_block(con, b, params)
    out = frame(
        con,
        """
        select g.project_id, g.project_name, g.owner_code, a.agency_name as owner_name,
               g.approved_at, g.accepted_at, g.checked_at,
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
        raise RefusedError(f"未找到项目 {project}（或非财政资金项目）", f"no fiscal project {project!r}", project=project)
    return out


def print_gates(gates: pl.DataFrame, console, as_of=None) -> None:
    from hzeval.rules import articles_for

    article = "、".join(articles_for("project_gate", as_of))
    n_fail = gates.filter(~pl.col("passed")).height
    n_flag = gates.filter(pl.col("accepted_while_failing")).height
    console.print(
        f"[bold]项目数据门禁（{article}）[/bold]：{gates.height} 个项目，未通过 {n_fail} 个，"
        f"其中带病验收 {n_flag} 个 / {gates.height} projects, {n_fail} failing, {n_flag} accepted while failing"
    )
    console.print("；".join(f"{k} {v}" for k, v in CONDITIONS.items()))
    t = Table()
    for col in ("项目编号", "项目名称", "建设单位", "核验时点", "结果", "未通过条件", "未通过资源"):
        t.add_column(col)
    for r in gates.iter_rows(named=True):
        result = "通过" if r["passed"] else ("带病验收" if r["accepted_while_failing"] else "未通过")
        when = f"{r['checked_at']:%Y-%m-%d}" + ("（验收）" if r["accepted_at"] else "（当前）")
        t.add_row(r["project_id"], r["project_name"], r["owner_name"] or r["owner_code"], when, result,
                  r["failed_conditions"] or "", r["failed_resources"] or "",
                  style="red" if r["accepted_while_failing"] else None)
    console.print(t)
