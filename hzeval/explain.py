"""``hzeval explain``: why an agency lost each point, in Chinese, with articles and records."""

from __future__ import annotations

import datetime as dt

import polars as pl

from hzeval.errors import RunNotFoundError
from hzeval.metrics.registry import METRICS
from hzeval.rules import run_deadline_texts, run_metric_articles, run_provision
from hzeval.sqlutil import frame, scalar


def latest_run(con, year: int) -> str:
    run_id = scalar(con, "select run_id from runs where year = $y and status = 'finished' order by finished_at desc, run_id desc limit 1",
                    {"y": year})
    if run_id is None:
        raise RunNotFoundError(f"没有 {year} 年度已完成的评估运行，请先运行 hzeval assess --year {year}",
                               f"no finished run for {year}: run 'hzeval assess --year {year}' first", year=year)
    return run_id


def explanation(con, year: int, agency: str, metric: str | None = None, run_id: str | None = None) -> dict:
    """Header, indicator rows (value, points, max, lost) and evidence per metric, from one run."""
    run_id = run_id or latest_run(con, year)
    # a read-only warehouse from before veto reasons were stored has no grades.veto_reason
    has_reason = bool(con.execute("select count(*) from information_schema.columns "
                                  "where table_name = 'grades' and column_name = 'veto_reason'").fetchall()[0][0])
    head = frame(
        con,
        f"""
        select g.agency_code, a.agency_name, g.total, g.grade, g.vetoed, g.rank, g.peer_group,
               {'g.veto_reason' if has_reason else 'null::varchar as veto_reason'},
               r.year, r.as_of, r.scheme_name, r.run_id
        from grades g join runs r using (run_id) left join agencies a using (agency_code)
        where g.run_id = $r and g.agency_code = $a
        """,
        {"r": run_id, "a": agency},
    )
    if head.is_empty():
        raise RunNotFoundError(f"运行 {run_id} 中没有机构 {agency} 的评分（未登记、或为主管部门）",
                               f"agency {agency!r} is not graded in run {run_id}", agency=agency)
    rows = frame(
        con,
        """
        select s.dimension, s.indicator as metric_id, s.points, s.max_points, v.value, v.numerator, v.denominator, v.count
        from scores s
        left join metric_values v on v.run_id = s.run_id and v.agency_code = s.agency_code and v.metric_id = s.indicator
        where s.run_id = $r and s.agency_code = $a and ($m is null or s.indicator = $m)
        order by s.rowid
        """,
        {"r": run_id, "a": agency, "m": metric},
    )
    # a warehouse opened read-only before its first write since rule profiles lacks evidence.article
    has_article = scalar(con, "select count(*) from information_schema.columns where table_name = 'evidence' "
                              "and column_name = 'article'")
    evidence = frame(
        con,
        """
        select metric_id, record_table, record_id, reason, due_at, done_at, adjustment_id, {article} as article
        from evidence where run_id = $r and agency_code = $a and ($m is null or metric_id = $m)
        order by metric_id, due_at nulls last, record_id
        """.replace("{article}", "article" if has_article else "null::varchar"),
        {"r": run_id, "a": agency, "m": metric},
    )
    veto = frame(
        con,
        "select incident_id, kind, occurred_at from incidents where agency_code = $a and year(occurred_at) = $y",
        {"a": agency, "y": year},
    ) if head["vetoed"][0] else pl.DataFrame()
    year_ = int(head["year"][0])
    articles = run_metric_articles(con, run_id, year_)
    provisions = {k: run_provision(con, run_id, year_, k) for k in ("veto", "disputes")}
    return {"head": head.row(0, named=True), "rows": rows, "evidence": evidence, "veto": veto, "articles": articles,
            "provisions": provisions, "deadlines": run_deadline_texts(con, run_id, year_)}


def _late_by(due, done) -> str:
    if due is None:
        return ""
    if done is None:
        return f"（期限 {due - dt.timedelta(days=1):%Y-%m-%d} 24:00，未办结）"
    return f"（期限 {due - dt.timedelta(days=1):%Y-%m-%d} 24:00，办结于 {done:%Y-%m-%d %H:%M}）"


def print_explanation(exp: dict, console, limit: int = 10) -> None:
    h = exp["head"]
    console.print(
        f"[bold]{h['agency_name'] or h['agency_code']}（{h['agency_code']}）{h['year']} 年度评估说明[/bold]\n"
        f"总分 {h['total']:.2f}，等级 {h['grade']}{'（一票否决）' if h['vetoed'] else ''}，"
        + (f"{h['peer_group']}第 {h['rank']} 名" if h["rank"] is not None else "不参与排名") + f"；运行 {h['run_id']}，方案 {h['scheme_name']}，截至 {h['as_of']:%Y-%m-%d %H:%M}"
    )
    if h["vetoed"] and h.get("veto_reason"):
        console.print(f"  [red]{h['veto_reason']}[/red]")  # incident, date, kind and the scheme's basis
    elif h["vetoed"] and not exp["veto"].is_empty():  # a run made before veto reasons were stored
        for r in exp["veto"].iter_rows(named=True):
            console.print(f"  [red]一票否决[/red]：{r['occurred_at']:%Y-%m-%d} 发生{r['kind']}事件（{r['incident_id']}），{exp['provisions']['veto']}")
    ev = exp["evidence"]
    lost_any = False
    for r in exp["rows"].iter_rows(named=True):
        m = METRICS[r["metric_id"]]
        if r["points"] is None:
            continue
        lost = (r["max_points"] or 0) - r["points"] if r["points"] >= 0 else -r["points"]
        if lost <= 1e-9:
            continue
        lost_any = True
        article = exp["articles"].get(r["metric_id"]) or m.article_zh
        if r["points"] < 0:
            console.print(f"\n[bold]{m.name_zh}[/bold]（{article}）扣 {lost:.2f} 分：{r['count']} 次违规")
        else:
            val = "无" if r["value"] is None else f"{r['value']:.1%}（{r['numerator']:,.0f}/{r['denominator']:,.0f}）"
            console.print(f"\n[bold]{r['dimension']} · {m.name_zh}[/bold]（{article}）"
                          f"得 {r['points']:.2f} / {r['max_points']:.2f}，失 {lost:.2f} 分；实际 {val}")
        if m.deadline and exp["deadlines"].get(m.deadline):
            console.print(f"  依据：{exp['deadlines'][m.deadline]}", markup=False)
        items = ev.filter(pl.col("metric_id") == r["metric_id"])
        for e in items.head(limit).iter_rows(named=True):
            adj = f" [已调整 {e['adjustment_id']}]" if e["adjustment_id"] else ""
            cite = f"〔{e['article']}〕" if e.get("article") else ""
            console.print(f"  - {e['record_table']} {e['record_id']}：{e['reason'] or ''} {_late_by(e['due_at'], e['done_at'])}{cite}{adj}",
                          markup=False)
        if items.height > limit:
            console.print(f"  ……另有 {items.height - limit} 条证据（用 --limit 显示更多）")
    if not lost_any:
        console.print("\n未失分。")
    adjusted = ev.filter(pl.col("adjustment_id").is_not_null())
    if adjusted.height:
        console.print(f"\n[bold]已调整事项（{exp['provisions']['disputes']}争议处理）[/bold]")
        for e in adjusted.iter_rows(named=True):
            console.print(f"  - [已调整 {e['adjustment_id']}] {METRICS[e['metric_id']].name_zh} {e['record_table']} "
                          f"{e['record_id']}：{e['reason'] or ''}", markup=False)
