"""``hzeval explain``: why an agency lost each point, in Chinese, with articles and records.

Data only: :func:`explanation` is given the run as a :class:`hzeval.runs.RunReader` by its caller
(the CLI opens it with :func:`hzeval.runs.open_reader`), so that points lost, the veto and the
evidence have the same definitions as in the reports and the dashboard; nothing here imports the
read layer above it.
"""

from __future__ import annotations

import polars as pl

from hzeval import present
from hzeval.assessment.scoring import LOST_EPS
from hzeval.metrics.registry import METRICS


def explanation(run, agency: str, metric: str | None = None) -> dict:
    """Header (grade, veto), indicator rows (value, points, max, lost) and evidence per metric, from
    ``run`` (a :class:`hzeval.runs.RunReader`)."""
    head = run.agency_header(agency)
    rows = run.scores(agency)
    evidence = run.evidence(agency, metric)
    if metric:
        rows = rows.filter(pl.col("metric_id") == metric)
    return {"head": head, "rows": rows, "evidence": evidence, "veto": run.vetoes(agency),
            "deadlines": run.deadline_texts(), "disputes": run.rule_article("disputes")}


def _late_by(due, done) -> str:
    if due is None:
        return ""
    if done is None:
        return f"（期限 {present.deadline(due)}，未办结）"
    return f"（期限 {present.deadline(due)}，办结于 {present.when(done)}）"


def print_explanation(exp: dict, console, limit: int = 10) -> None:
    h = exp["head"]
    console.print(
        f"[bold]{h['agency_name'] or h['agency_code']}（{h['agency_code']}）{h['year']} 年度评估说明[/bold]\n"
        f"总分 {present.points(h['total'])}，等级 {present.grade_label(h['grade'], h['vetoed'])}，"
        + (f"{h['peer_group']}第 {h['rank']} 名" if h["rank"] is not None else "不参与排名")
        + f"；运行 {h['run_id']}，方案 {h['scheme_name']}，截至 {h['as_of']}",
        markup=True,
    )
    if h["vetoed"]:
        console.print(f"  [red]{h['veto_text']}[/red]")
    ev = exp["evidence"]
    lost_any = False
    for r in exp["rows"].iter_rows(named=True):
        if r["lost"] is None or r["lost"] <= LOST_EPS:
            continue
        lost_any = True
        name, article = r["metric_name"] or r["metric_id"], r["article"] or ""
        if r["is_deduction"]:
            console.print(f"\n[bold]{name}[/bold]（{article}）扣 {present.points(r['lost'])} 分："
                          f"{present.integer(r['count'])} 次违规")
        else:
            val = "无" if r["value"] is None else (
                f"{present.percent(r['value'])}（{present.integer(r['numerator'])}/{present.integer(r['denominator'])}）")
            console.print(f"\n[bold]{r['dimension']} · {name}[/bold]（{article}）"
                          f"得 {present.points(r['points'])} / {present.points(r['max_points'])}，"
                          f"失 {present.points(r['lost'])} 分；实际 {val}")
        key = METRICS[r["metric_id"]].deadline if r["metric_id"] in METRICS else None
        if key and exp["deadlines"].get(key):
            console.print(f"  依据：{exp['deadlines'][key]}", markup=False)
        items = ev.filter(pl.col("metric_id") == r["metric_id"])
        for e in items.head(limit).iter_rows(named=True):
            adj = f" [已调整 {e['adjustment_id']}]" if e["adjustment_id"] else ""
            cite = f"〔{e['article']}〕" if e["article"] and e["article"] != article else ""
            console.print(f"  - {e['record_table_zh']} {e['record_id']}：{e['reason'] or ''} "
                          f"{_late_by(e['due_at'], e['done_at'])}{cite}{adj}", markup=False)
        if items.height > limit:
            console.print(f"  ……另有 {items.height - limit} 条证据（用 --limit 显示更多）")
    if not lost_any:
        console.print("\n未失分。")
    adjusted = ev.filter(pl.col("adjustment_id").is_not_null())
    if adjusted.height:
        console.print(f"\n[bold]已调整事项（{exp['disputes']}争议处理）[/bold]")
        for e in adjusted.iter_rows(named=True):
            console.print(f"  - [已调整 {e['adjustment_id']}] {e['metric_name']} {e['record_table_zh']} "
                          f"{e['record_id']}：{e['reason'] or ''}", markup=False)
