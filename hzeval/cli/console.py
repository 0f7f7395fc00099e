"""Every table and progress display of the command line (floor 7; DESIGN §2 "terminal output").

Domain modules return data (frames, dicts, dataclasses) and never import rich; the functions here
show that data on a rich console. ``out`` is the standard output, ``err`` the standard error. Each
``print_*`` takes the console to print on (default ``out``), so tests can record what is shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

import click
import polars as pl
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from hzeval import present
from hzeval.assessment.assess import Ranking
from hzeval.assessment.gate import CHECKED_AT as GATE_CHECKED_AT
from hzeval.assessment.gate import CONDITIONS
from hzeval.assessment.gate import checks as gate_checks
from hzeval.assessment.scoring import NOT_GRADED
from hzeval.ingest.load import LoadResult
from hzeval.ingest.report import FORMAT_TEXT, STATUS_TEXT
from hzeval.metrics.registry import METRICS
from hzeval.notify import NotifyResult, summary_line
from hzeval.notify.channels import CHANNEL_ZH
from hzeval.notify.compose import ESCALATE, OVERDUE, SOON, clean, plain_text, subject
from hzeval.present import SUPERVISION_COLUMNS
from hzeval.rules import articles_for
from hzeval.runs import LOST_EPS

# scheduler logs and pipes are not terminals: give tables room instead of rich's 80 columns
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)

#: show a progress bar only for drops larger than this
PROGRESS_MIN_BYTES = 8 * 1024 * 1024


# --------------------------------------------------------------------------- progress


def load_bar(enabled: bool, total: int) -> Progress | None:
    """A rich progress bar over bytes, or None for small drops / when disabled."""
    if not enabled or total <= PROGRESS_MIN_BYTES:
        return None
    return Progress(
        TextColumn("加载 / loading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def load_progress(enabled: bool = True) -> Callable[[str | None, int, int], None]:
    """The loader's ``progress`` callback (:func:`hzeval.ingest.load.load_paths`): a bar on stderr over
    the bytes of a large drop, started at the first file and gone at the end."""
    state: dict = {}

    def progress(file: str | None, done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = bar = load_bar(enabled, total)
            if bar is not None:
                bar.start()
                state["task"] = bar.add_task("", total=total)
        bar = state["bar"]
        if file is None:  # the end, loaded or not (a retried load starts a new bar)
            state.clear()
            if bar is not None:
                bar.stop()
        elif bar is not None:
            bar.update(state["task"], completed=done, description=file)

    return progress


def report_progress(console: Console, total_hint: str = "报告"):
    """A rich progress bar for ``render_reports``: returns (on_start, on_done, finish)."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )
    state = {}

    def on_start(run, jobs):
        console.print(f"渲染 {run.year} 年报告 / rendering {len(jobs)} reports from run {run.run_id}")
        bar.start()
        state["task"] = bar.add_task(total_hint, total=len(jobs))
        state["total"] = len(jobs)

    def on_done(result):
        mark = "✔" if result.ok else "✘"
        state["done"] = state.get("done", 0) + 1
        count = f"{state['done']}/{state['total']}"  # "12/40" on a terminal and in a log alike
        bar.update(state["task"], advance=1, description=f"{count} {mark} {Path(result.job.html).name}")
        if not result.ok:
            bar.console.print(
                f"{count} ✘ {result.job.html}: {result.error}", style="red", markup=False, highlight=False
            )
        elif not console.is_terminal:
            console.print(f"{count} ✔ {result.job.html}", markup=False, highlight=False)

    return on_start, on_done, bar.stop


# --------------------------------------------------------------------------- load, validate


def print_summary(result: LoadResult, console: Console = out) -> None:
    """The per-file table, totals, rejects hint and unresolved count of a load."""
    t = Table(title="加载结果 / load summary")
    t.add_column("文件\nfile", overflow="fold")
    t.add_column("表\ntable", overflow="fold")
    t.add_column("格式/编码\nformat", overflow="fold")
    for h in ("加载\nloaded", "拒收\nrejected", "替换\nreplaced"):
        t.add_column(h, justify="right", no_wrap=True)
    t.add_column("状态\nstatus", overflow="fold")
    for f in result.files:
        fmt = FORMAT_TEXT.get(f.file_format, f.file_format)
        if f.encoding:
            fmt += f" / {f.encoding}"
        t.add_row(
            f.file,
            f.table,
            fmt,
            f"{f.rows_loaded:,}",
            f"{f.rows_rejected:,}",
            f"{f.rows_replaced:,}",
            STATUS_TEXT.get(f.status, f.status),
        )
    console.print(t)
    n_loaded = sum(1 for f in result.files if f.status == "loaded")
    console.print(
        f"合计 / total：{len(result.files)} 个文件（{n_loaded} 个已加载），加载 {result.rows_loaded:,} 行，"
        f"拒收 {result.rows_rejected:,} 行，替换 {result.rows_replaced:,} 行 / "
        f"{len(result.files)} files ({n_loaded} loaded), {result.rows_loaded:,} rows loaded, "
        f"{result.rows_rejected:,} rejected, {result.rows_replaced:,} replaced"
    )
    for f in result.files:
        for w in f.warnings:
            console.print(f"[yellow]提示 / warning[/yellow] {f.file}: {w}", markup=True, highlight=False)
    for s in result.skipped:
        console.print(f"[yellow]提示 / warning[/yellow] 跳过不支持的文件 / skipped unsupported file: {s}")
    if result.rows_rejected:
        console.print(  # validate --rejects shows each file's latest load: this one's
            f"有 {result.rows_rejected:,} 行被拒收，运行 hzeval validate --rejects 查看原因 / "
            f"{result.rows_rejected:,} rows rejected: run 'hzeval validate --rejects' for the reasons",
            markup=False,
            soft_wrap=True,
        )
    if result.unresolved:
        console.print(
            f"有 {result.unresolved:,} 个机构/资源代码无法对应（数据已保留），运行 hzeval validate 查看 / "
            f"{result.unresolved:,} unresolved agency/resource codes (rows kept): run 'hzeval validate'"
        )


def print_unresolved(rows: list[dict], console: Console = out, limit: int | None = 200) -> None:
    if not rows:
        console.print("所有机构代码和资源代码均可对应 / all references resolve")
        return
    shown = rows if limit is None else rows[:limit]
    t = Table(title="无法对应的引用 / unresolved references")
    for h in ("表\ntable", "列\ncolumn", "值\nvalue", "行数\nrows"):
        t.add_column(h, justify="right" if h.startswith("行数") else "left", overflow="fold")
    for r in shown:
        t.add_row(r["table"], r["column"], str(r["value"]), f"{r['rows']:,}")
    console.print(t)
    total_rows = sum(r["rows"] for r in rows)
    more = f"（仅显示前 {len(shown)} 项 / first {len(shown)} shown）" if len(shown) < len(rows) else ""
    console.print(
        f"共 {len(rows)} 个代码、{total_rows:,} 行无法对应{more}；数据已保留，待机构名录或目录到位后会自动对应 / "
        f"{len(rows)} unresolved codes in {total_rows:,} rows; rows are kept and resolve once the register or "
        f"catalogue arrives"
    )


def print_rejects(rows: list[dict], total: int, console: Console = out) -> None:
    """The rows a load refused: file, line, column, the value (as the rejects table keeps it) and why."""
    if not total:
        console.print("没有被拒收的行 / no rejected rows")
        return
    t = Table(title="被拒收的行 / rejected rows")
    for h in ("装载\nload", "文件\nfile", "表\ntable", "行\nline", "列\ncolumn", "值\nvalue", "原因\nreason"):
        t.add_column(h, justify="right" if h.startswith(("装载", "行")) else "left", overflow="fold")
    for r in rows:
        t.add_row(
            str(r["load_id"]),
            escape(clean(r["file"], 80)),
            escape(clean(r["table_name"], 40)),
            "" if r["line"] is None else f"{r['line']:,}",
            escape(clean(r["column_name"], 40)),
            escape(clean(r["value"], 60)),
            escape(clean(r["reason"], 200)),
        )
    console.print(t)
    more = f"（仅显示前 {len(rows)} 行 / first {len(rows)} shown; --json lists all）" if len(rows) < total else ""
    console.print(f"共 {total:,} 行被拒收{more} / {total:,} rows rejected", markup=False)


def print_authority_gaps(rows: list[dict], console: Console = out) -> None:
    if not rows:
        return
    t = Table(title="没有本级主管部门的县区 / 县区 regions without their own authority")
    for h in ("所属区域\nregion", "机构数\nagencies", "由市级主管部门审定\nreviewed by"):
        t.add_column(h, overflow="fold")
    for r in rows:
        t.add_row(r["region"] or "（未填所属区域）", str(r["agencies"]), r["authority"] or "（未登记主管部门）")
    console.print(t)
    console.print(
        f"{len(rows)} 个县区没有登记本级主管部门，其机构的目录审定计入市级主管部门 / "
        f"{len(rows)} regions have no 县区 authority: their agencies' reviews are charged to the 市级 authority"
    )


def print_contact_gaps(gaps: list[tuple[str, str | None]], console: Console = out) -> None:
    """``validate``'s lines on agencies without 督办 contacts."""
    if not gaps:
        console.print("每个机构都登记了督办联系人 / every agency has a 督办 contact")
        return
    names = "、".join(f"{clean(name or '', 30)}（{code}）" for code, name in gaps[:50])
    more = " 等（仅列前 50 个）" if len(gaps) > 50 else ""
    console.print(
        escape(
            f"未登记督办联系人（contacts 表，无邮箱或机器人地址）的机构 {len(gaps)} 个：{names}{more} / "
            f"{len(gaps)} agencies have no contact for 督办 notices"
        ),
        soft_wrap=True,
    )


def print_contact_problems(problems: list[tuple[str, str, str]], console: Console = out) -> None:
    """``validate``'s lines on contacts whose address cannot be used (nothing when all can)."""
    if not problems:
        return
    rows = "；".join(f"{clean(where, 40)} {clean(who, 20)}：{clean(why, 80)}" for where, who, why in problems[:50])
    more = " 等（仅列前 50 条）" if len(problems) > 50 else ""
    console.print(
        escape(f"无法使用的督办联系人 {len(problems)} 条：{rows}{more} / {len(problems)} unusable contact(s)"),
        soft_wrap=True,
    )


def warn_lab_as_root(console: Console = err) -> None:
    """``hzeval lab`` started by root: the token opens terminals and kernels running as root."""
    console.print(
        "警告 | warning: JupyterLab 将以 root 身份运行，持有令牌者可打开 root 终端；请改用普通用户运行 hzeval lab"
        " / JupyterLab runs as root: whoever holds the token gets a root terminal; run hzeval lab as an ordinary user",
        markup=False,
        soft_wrap=True,
    )


# --------------------------------------------------------------------------- assess, rules


def print_ranking(ranking: Ranking, console: Console = out) -> None:
    """The run's header, one ranking table per peer group, the grade counts and the ungraded units."""
    r = ranking
    console.print(
        f"[bold]{r.year} 年度评估[/bold]  截至 {r.as_of:%Y-%m-%d %H:%M}  方案：{r.scheme_name}  运行：{r.run_id}"
    )
    for group in dict.fromkeys(row["peer_group"] for row in r.rows):
        t = Table(title=f"{group}排名 / ranking ({group})", show_lines=False)
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("名次", "right"),
            ("机构代码", "left"),
            ("机构名称", "left"),
            ("总分", "right"),
            ("等级", "left"),
        )
        for col, just in columns:
            t.add_column(col, justify=just)
        for row in (row for row in r.rows if row["peer_group"] == group):
            t.add_row(
                str(row["rank"]),
                row["agency_code"],
                row["agency_name"] or "（未登记）",
                f"{row['total']:.2f}",
                row["grade"] + ("（一票否决）" if row["vetoed"] else ""),
            )
        console.print(t)
    console.print("等级分布 / grades: " + "，".join(f"{g} {n}" for g, n in r.grades))
    if r.ungraded:
        console.print(
            f"{NOT_GRADED} / not graded: "
            + "，".join(f"{c} {n or ''}（{t:.2f} 分，仅供参考）" for c, n, t in r.ungraded)
        )


def print_rules(year: int, scheme, deadlines: pl.DataFrame, metrics: pl.DataFrame, console: Console = out) -> None:
    """``hzeval rules``: the profiles in force over ``year`` and what each deadline and metric rests on
    (the frames of :func:`hzeval.rules.year_overview`)."""
    console.print(
        f"[bold]{year} 年度适用规则[/bold]（方案 {scheme.name}；规则配置 "
        + "、".join(f"{s.profile.name} 自 {s.start}" for s in scheme.ruleset.spans)
        + "）"
    )
    t = Table(title="期限 / deadlines")
    for c in ("期限键", "规则配置", "适用起", "适用止", "期限", "条款", "原文"):
        t.add_column(c)
    for r in deadlines.iter_rows(named=True):
        t.add_row(r["key"], r["profile"], str(r["from"]), str(r["to"]), r["period"], r["article"], r["text"])
    console.print(t)
    t = Table(title="指标 / metrics")
    for c in ("指标", "名称", "规则配置", "适用起", "适用止", "期限键", "条款"):
        t.add_column(c)
    for r in metrics.iter_rows(named=True):
        t.add_row(
            r["metric_id"], r["metric_name"], r["profile"], str(r["from"]), str(r["to"]), r["deadline"], r["article"]
        )
    console.print(t)


def print_trial_note(run_id: str, read: Path | None, console: Console = out) -> None:
    """After ``assess``: the new run is 试算, how to make it official, and which run readers read."""
    console.print(
        f"运行 {run_id} 为试算结果：核对无误后运行 hzeval runs official {run_id} 设为正式结果 / "
        f"a trial run: make it official with 'hzeval runs official {run_id}'",
        markup=False,
        soft_wrap=True,
    )
    if read is not None and read.stem != run_id:
        console.print(
            f"本年度已有正式结果 {read.stem}，驾驶舱和报告仍读取该正式结果 / "
            f"readers still read the official run {read.stem}",
            markup=False,
            soft_wrap=True,
        )


def print_runs(rows: list[dict], as_json: bool = False, console: Console = out) -> None:
    """``hzeval runs list``: the rows of :func:`hzeval.store.publication.run_list` (newest first), as a
    table or, with ``--json``, as UTF-8 JSON on stdout (times ISO, states as stored and in Chinese)."""
    if as_json:
        data = [
            {
                **{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()},
                "publication_zh": present.publication_zh(r["publication"]),
            }
            for r in rows
        ]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        return
    if not rows:
        console.print("没有已完成的评估运行 / no finished runs", markup=False)
        return
    t = Table(title="评估运行 / runs")
    for c in ("运行编号", "年度", "评估截至", "完成时间", "状态", "默认读取", "已发布", "操作人", "操作时间", "理由"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            escape(r["run_id"]),
            str(r["year"]),
            present.when(r["as_of"]),
            present.when(r["finished_at"]),
            present.publication_zh(r["publication"]),
            "是" if r["read_by_default"] else "",
            "是" if r["published"] else "否",
            escape(r["actor"] or ""),
            present.when(r["acted_at"]) if r["acted_at"] else "",
            escape(r["reason"] or ""),
        )
    console.print(t)


def print_adjustments(rows: pl.DataFrame, console: Console = out) -> None:
    """``hzeval adjust list``: the frame of :func:`hzeval.assessment.adjust.adjustment_overview`."""
    t = Table()
    for c in ("编号", "类型", "对象", "理由", "提出人", "审批人", "状态"):
        t.add_column(c)
    for r in rows.iter_rows():
        t.add_row(*r)
    console.print(t)


# --------------------------------------------------------------------------- supervise, gate, explain


def print_items(items: pl.DataFrame, as_of: dt.datetime, console: Console = out, limit: int | None = None) -> None:
    n_over = items.filter(pl.col("state") == "逾期").height
    n_soon = items.filter(pl.col("state") == "即将到期").height
    console.print(
        f"[bold]督办清单[/bold] 截至 {as_of:%Y-%m-%d %H:%M}：未办结 {items.height} 项，"
        f"其中逾期 {n_over} 项、即将到期 {n_soon} 项 / open {items.height}, overdue {n_over}, due soon {n_soon}"
    )
    if items.is_empty():
        return
    t = Table(show_lines=False)
    for key in ("category", "article", "agency_code", "agency_name", "record_id", "due_date", "state"):
        t.add_column(SUPERVISION_COLUMNS[key])
    t.add_column("工作日", justify="right")
    shown = items if limit is None else items.head(limit)
    for r in shown.iter_rows(named=True):
        if r["wd_overdue"] is not None:
            days = f"逾期 {r['wd_overdue']}"
        else:  # no working days when the rule sets no number (e.g. 第二十八条 "及时")
            days = f"剩 {r['wd_left']}" if r["wd_left"] is not None else "无天数"
        style = "red" if r["state"] == "逾期" else ("yellow" if r["state"] == "即将到期" else None)
        t.add_row(
            r["category"],
            r["article"],
            r["agency_code"] or "",
            r["agency_name"] or "（未登记）",
            r["record_id"],
            present.deadline(r["due_date"]),
            r["state"],
            days,
            style=style,
        )
    console.print(t)
    if limit is not None and items.height > limit:
        more = items.height - limit
        console.print(f"……另有 {more} 项未显示（用 --csv/--xlsx 导出全部）/ {more} more")


def print_gates(gates: pl.DataFrame, console: Console = out, as_of=None, scheme=None) -> None:
    article = "、".join(articles_for("project_gate", as_of))
    n_fail = gates.filter(~pl.col("passed")).height
    n_flag = gates.filter(pl.col("accepted_while_failing")).height
    console.print(
        f"[bold]项目数据门禁（{article}）[/bold]：{gates.height} 个项目，未通过 {n_fail} 个，"
        f"其中带病验收 {n_flag} 个 / {gates.height} projects, {n_fail} failing, {n_flag} accepted while failing"
    )
    conditions = CONDITIONS if scheme is None else gate_checks(scheme.gate_nonshare_filed_passes)
    console.print("；".join(f"{k} {v}" for k, v in conditions.items()))
    console.print(f"G2–G4 核验时点：{GATE_CHECKED_AT[scheme.gate_checked_at if scheme else 'requested']}")
    t = Table()
    for col in ("项目编号", "项目名称", "建设单位", "核验时点", "结果", "未通过条件", "未通过资源"):
        t.add_column(col)
    for r in gates.iter_rows(named=True):
        result = "通过" if r["passed"] else ("带病验收" if r["accepted_while_failing"] else "未通过")
        when = f"{r['checked_at']:%Y-%m-%d}（{r.get('checked_on') or '当前'}）"
        t.add_row(
            r["project_id"],
            r["project_name"],
            r["owner_name"] or r["owner_code"],
            when,
            result,
            r["failed_conditions"] or "",
            r["failed_resources"] or "",
            style="red" if r["accepted_while_failing"] else None,
        )
    console.print(t)


def _late_by(due, done, record_time: str = "") -> str:
    if due is None:  # no deadline: the record's own time under its own name (发生时间 …), never 办结
        return f"（{record_time}）" if record_time else ""
    if done is None:
        return f"（期限 {present.deadline(due)}，未办结）"
    return f"（期限 {present.deadline(due)}，办结于 {present.when(done)}）"


def print_explanation(exp: dict, console: Console = out, limit: int = 10) -> None:
    """``hzeval explain``: the dict of :func:`hzeval.assessment.explain.explanation`."""
    h = exp["head"]
    console.print(
        f"[bold]{h['agency_name'] or h['agency_code']}（{h['agency_code']}）{h['year']} 年度评估说明[/bold]\n"
        f"总分 {present.points(h['total'])}，等级 {present.grade_label(h['grade'], h['vetoed'])}，"
        + (f"{h['peer_group']}第 {h['rank']} 名" if h["rank"] is not None else "不参与排名")
        + f"；运行 {escape(h['run_id'])}，方案 {escape(h['scheme_name'])}\n{h['freshness']}",
        markup=True,
    )
    for w in h.get("stale_warnings") or ():
        console.print(f"  [yellow]数据时效提示：{escape(w)}[/yellow]")
    if h["vetoed"]:
        # one line however long (incident, stage and basis): a terminal wraps it, a pipe keeps it whole
        console.print(f"  [red]{escape(h['veto_text'] or '')}[/red]", soft_wrap=True)
    print_arithmetic(exp["rows"], exp.get("line"), console)
    ev = exp["evidence"]
    lost_any = False
    for r in exp["rows"].iter_rows(named=True):
        if r["lost"] is None or r["lost"] <= LOST_EPS:
            continue
        lost_any = True
        name, article = r["metric_name"] or r["metric_id"], r["article"] or ""
        if r["is_deduction"]:
            console.print(
                f"\n[bold]{escape(name)}[/bold]（{escape(article)}）扣 {present.points(r['lost'])} 分："
                + escape(r["deduction_text"] or f"{present.integer(r['count'])} 次违规")
            )
        else:
            val = present.actual(r["value"], r["numerator"], r["denominator"])
            console.print(
                f"\n[bold]{escape(r['dimension'])} · {escape(name)}[/bold]（{escape(article)}）"
                f"得 {present.points(r['points'])} / {present.points(r['max_points'])}，"
                f"失 {present.points(r['lost'])} 分；实际值 {escape(val)}"
                + (
                    f"，达标值 {present.percent(r['target'])}，起评值 {present.percent(r['floor'])}"
                    if r["target"] is not None
                    else ""
                )
            )
        if r.get("standing_zero"):  # nothing to count: why it scores 0 and what to do, no evidence table
            console.print(f"  {r['note']}", markup=False)
            continue
        key = METRICS[r["metric_id"]].deadline if r["metric_id"] in METRICS else None
        if key and exp["deadlines"].get(key):
            console.print(f"  依据：{exp['deadlines'][key]}", markup=False)
        items = ev.filter(pl.col("metric_id") == r["metric_id"])
        for e in items.head(limit).iter_rows(named=True):
            adj = f" [已调整 {e['adjustment_id']}]" if e["adjustment_id"] else ""
            cite = f"〔{e['article']}〕" if e["article"] and e["article"] != article else ""
            console.print(
                f"  - {e['record_table_zh']} {e['record_id']}：{e['reason'] or ''} "
                f"{_late_by(e['due_at'], e['done_at'], e.get('record_time') or '')}{cite}{adj}",
                markup=False,
            )
        if items.height > limit:
            console.print(f"  ……另有 {items.height - limit} 条证据（用 --limit 显示更多）")
    if not lost_any:
        console.print("\n未失分。")
    adjusted = ev.filter(pl.col("adjustment_id").is_not_null())
    if adjusted.height:
        console.print(f"\n[bold]已调整事项（{exp['adjustment_basis']}）[/bold]")
        cites = exp.get("adjustment_cites") or {}
        for e in adjusted.iter_rows(named=True):
            cite = f"〔{cites[e['adjustment_id']]}〕" if e["adjustment_id"] in cites else ""
            console.print(
                f"  - [已调整 {e['adjustment_id']}] {e['metric_name']} {e['record_table_zh']} "
                f"{e['record_id']}：{e['reason'] or ''}{cite}",
                markup=False,
            )


def print_arithmetic(rows: pl.DataFrame, line: str | None, console: Console = out) -> None:
    """A score's arithmetic (DESIGN §7a): per indicator 实际值、达标值、起评值、满分（re-weighting named）、
    得分、失分; per deduction 次数 × 每次扣分、上限、扣分; then "Σ得分 − 扣分 = 总分"."""
    ind = rows.filter(~pl.col("is_deduction"))
    if ind.height:
        t = Table(title="指标得分计算", title_justify="left")
        for c in present.ARITHMETIC_COLUMNS.values():
            t.add_column(c, overflow="fold", justify="right" if c in ("达标值", "起评值", "得分", "失分") else "left")
        for r in ind.iter_rows(named=True):
            t.add_row(
                *(
                    escape(x)
                    for x in (
                        r["dimension"] or "",
                        r["metric_name"] or r["metric_id"],
                        present.actual(r["value"], r["numerator"], r["denominator"]),
                        present.percent(r["target"]),
                        present.percent(r["floor"]),
                        r["max_text"] or present.points(r["max_points"]),
                        present.points(r["points"]) if r["applicable"] else present.DASH,
                        present.points(r["lost"]) if r["applicable"] else present.DASH,
                        r["note"] or "",
                    )
                )
            )
        console.print(t)
    ded = rows.filter(pl.col("is_deduction"))
    if ded.height:
        t = Table(title="扣分项计算", title_justify="left")
        for c in ("扣分项", "次数", "每次扣分", "上限", "扣分"):
            t.add_column(c, overflow="fold", justify="left" if c == "扣分项" else "right")
        for r in ded.iter_rows(named=True):
            t.add_row(
                escape(r["metric_name"] or r["metric_id"]),
                present.integer(r["count"], "0"),
                present.points(r["per"]),
                present.points(r["cap"]),
                present.points(r["lost"]),
            )
        console.print(t)
    if line:
        console.print(f"总分计算：{line}", markup=False)


# --------------------------------------------------------------------------- notify


def print_result(result: NotifyResult, console: Console = out, show_text: bool = False) -> None:
    """``hzeval notify``: one row per notice and its outcome; with ``show_text`` each distinct text."""
    status_zh = {"sent": "已发送", "failed": "失败", "waiting": "待重试", "stopped": "停止重试", "dry-run": "将发送"}
    if result.outcomes:
        t = Table(title="督办通知 / notices")
        for h in ("机构", "渠道", "收件人", "逾期", "即将到期", "逾期上报", "结果"):
            t.add_column(h, overflow="fold")
        for o in result.outcomes:
            n, c = o.notice, o.notice.counts
            detail = status_zh[o.status]
            if o.error:
                detail += f"：{o.error}"
            if o.next_attempt_at:
                detail += f"（{o.next_attempt_at:%m-%d %H:%M} 后重试）"
            t.add_row(
                escape(f"{clean(n.agency_name or '', 30)}（{n.agency_code}）"),
                CHANNEL_ZH[n.channel],
                escape(f"{clean(n.contact_name, 20)} {n.recipient}"),
                str(c[OVERDUE]),
                str(c[SOON]),
                str(c[ESCALATE]),
                escape(detail),
            )
        console.print(t)
    if show_text:
        shown = set()
        for o in result.outcomes:  # each distinct text once (an agency's recipients mostly get the same)
            n = o.notice
            key = (n.agency_code, tuple((i["item_key"], i["level"]) for i in n.items))
            if key in shown:
                continue
            shown.add(key)
            console.print(f"\n[bold]{escape(subject(n))}[/bold]")
            console.print(escape(plain_text(n)), soft_wrap=True)
    if result.unreached:
        names = "、".join(f"{clean(name or '', 30)}（{code}，{k} 项）" for code, name, k in result.unreached[:30])
        more = f" 等 {len(result.unreached)} 个" if len(result.unreached) > 30 else ""
        console.print(
            escape(f"没有督办联系人、无法通知的机构 / agencies without contacts: {names}{more}"), soft_wrap=True
        )
    if result.bad_contacts:
        rows = "；".join(f"{code} {clean(name, 20)}：{why}" for code, name, why in result.bad_contacts[:20])
        console.print(escape(f"无法使用的联系人 / unusable contacts: {rows}"), soft_wrap=True)
    console.print(escape(summary_line(result)))


# --------------------------------------------------------------------------- --json (DESIGN §8)

#: columns written as the tables write a deadline ("2025-09-29 24:00") wherever they appear
DEADLINE_COLUMNS = ("due_at",)


def _json_value(v):
    if isinstance(v, dt.datetime):
        return v.isoformat(timespec="seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, pl.DataFrame):
        return rows(v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return dataclasses.asdict(v)
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    raise TypeError(f"not JSON: {type(v).__name__}")


def rows(df: pl.DataFrame, deadlines: Iterable[str] = DEADLINE_COLUMNS) -> list[dict]:
    """A frame as JSON rows, its deadline columns in the one vocabulary ("… 24:00", :func:`present.deadline`)."""
    cols = [c for c in deadlines if c in df.columns and df.schema[c] in (pl.Datetime, pl.Date)]
    if cols:
        df = df.with_columns(present.deadline_expr(c).alias(c) for c in cols)
    return df.to_dicts()


def emit_json(payload) -> None:
    """``--json``: the same rows as the table, UTF-8 JSON on standard output (one document, one line)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=_json_value) + "\n")
    sys.stdout.flush()


def supervision_json(items: pl.DataFrame, as_of: dt.datetime) -> dict:
    return {"as_of": as_of, "items": rows(present.supervision_rows(items), deadlines=())}


def ranking_json(r: Ranking) -> dict:
    return {
        "run_id": r.run_id,
        "year": r.year,
        "as_of": r.as_of,
        "scheme": r.scheme_name,
        "rows": r.rows,
        "grades": dict(r.grades),
        "not_graded": [{"agency_code": c, "agency_name": n, "total": t} for c, n, t in r.ungraded],
    }


def rules_json(year: int, scheme, deadlines: pl.DataFrame, metrics: pl.DataFrame) -> dict:
    return {"year": year, "scheme": scheme.name, "deadlines": rows(deadlines, ()), "metrics": rows(metrics, ())}


def validate_json(
    unresolved: list[dict], authority_gaps: list[dict], contact_gaps: list[tuple], contact_problems: list[tuple]
) -> dict:
    return {
        "unresolved": unresolved,
        "authority_gaps": authority_gaps,
        "contact_gaps": [{"agency_code": c, "agency_name": n} for c, n in contact_gaps],
        "contact_problems": [{"where": w, "who": n, "reason": r} for w, n, r in contact_problems],
    }


def explanation_json(exp: dict) -> dict:
    head = {k: v for k, v in exp["head"].items() if not isinstance(v, pl.DataFrame)}
    return {
        "head": head,
        "indicators": rows(exp["rows"]),
        "evidence": rows(exp["evidence"]),
        "veto": rows(exp["veto"]),
        "deadlines": exp["deadlines"],
        "adjustment_basis": exp["adjustment_basis"],
        "adjustment_cites": exp.get("adjustment_cites") or {},
    }


def notify_json(result: NotifyResult) -> dict:
    """What ``notify`` did or, with ``--dry-run``, would do; robot URLs and addresses are never shown."""
    return {
        "as_of": result.as_of,
        "dry_run": result.dry_run,
        "notices": [
            {
                "agency_code": o.notice.agency_code,
                "agency_name": o.notice.agency_name,
                "channel": o.notice.channel,
                "recipient": o.notice.recipient,
                "contact_name": o.notice.contact_name,
                "counts": o.notice.counts,
                "status": o.status,
                "error": o.error,
                "next_attempt_at": o.next_attempt_at,
                "items": [{k: v for k, v in i.items() if k != "address"} for i in o.notice.items],
            }
            for o in result.outcomes
        ],
        "unreached": [{"agency_code": c, "agency_name": n, "items": k} for c, n, k in result.unreached],
        "bad_contacts": [{"agency_code": c, "contact_name": n, "reason": w} for c, n, w in result.bad_contacts],
    }


def print_settings(path: Path | None, rows: list[dict], console: Console = out) -> None:
    """``hzeval config show``: each setting with its value and source (secrets already masked)."""
    console.print(f"配置文件 / config file: {path or '（无 / none: hzeval.toml or $HZEVAL_CONFIG)'}", markup=False)
    t = Table()
    for col in ("设置 setting", "环境变量 env", "值 value", "来源 source", "说明 meaning"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["setting"], r["env"], escape(r["value"] or "—"), r["source"], r["doc"])
    console.print(t)


# --------------------------------------------------------------------------- click's own errors (DESIGN §8)

#: click's English messages (click 8.1–8.5), each with its Chinese; groups are click's values
CLICK_ZH = (
    (r"'(.*)' is not a valid integer\.", "{0!r} 不是有效的整数"),
    (r"'(.*)' is not a valid float\.", "{0!r} 不是有效的数字"),
    (r"'(.*)' is not a valid boolean\..*", "{0!r} 不是有效的是/否值"),
    (r"(.*) is not in the range (.*)\.", "{0} 超出范围 {1}"),
    (r"'(.*)' is not one of (.*)\.", "{0!r} 不在可选值 {1} 之中"),
    (r"'(.*)' is not (.*)\.", "{0!r} 不是可选值 {1}"),
    (r"'(.*)' does not match the formats? (.*)\.", "{0!r} 不符合格式 {1}"),
    (r"(?:File|Directory|Path) '(.*)' does not exist\.", "路径 {0!r} 不存在"),
    (r"(?:File|Directory|Path) '(.*)' is a file\.", "{0!r} 是文件，这里需要文件夹"),
    (r"(?:File|Directory|Path) '(.*)' is a directory\.", "{0!r} 是文件夹，这里需要文件"),
    (r"(?:File|Directory|Path) '(.*)' is not readable\.", "{0!r} 不可读"),
    (r"(?:File|Directory|Path) '(.*)' is not writable\.", "{0!r} 不可写"),
    (r"(?:File|Directory|Path) '(.*)' is not executable\.", "{0!r} 不可执行"),
    (r"Option '(.*)' requires an argument\.", "选项 {0} 需要一个值"),
    (r"Option '(.*)' requires (\d+) arguments\.", "选项 {0} 需要 {1} 个值"),
    (r"Option '(.*)' does not take a value\.", "选项 {0} 不接受值"),
    (r"Got unexpected extra arguments? \((.*)\)", "多余的参数：{0}"),
    (r"Missing command\.", "缺少命令"),
)

#: at most this many characters of what a user typed appear in a message
TYPED_LIMIT = 60


def _zh_click(message: str) -> str:
    for pattern, zh in CLICK_ZH:
        m = re.fullmatch(pattern, message.strip(), flags=re.S)
        if m:
            return zh.format(*(g[:TYPED_LIMIT] for g in m.groups()))
    return "用法错误"


def click_error(exc: click.ClickException) -> tuple[str, str]:
    """One of click's own errors as (Chinese, English): an unknown option with the closest ones, a
    missing option or argument, a value of the wrong type (``--year twenty``), extra arguments."""
    en = " ".join(exc.format_message().split())[:300]
    if isinstance(exc, click.NoSuchOption):
        name = exc.option_name[:TYPED_LIMIT]
        close = f"，是否想用 {'、'.join(exc.possibilities)}？" if exc.possibilities else ""
        return f"没有选项 {name}{close}", en
    if isinstance(exc, click.MissingParameter):
        hint = exc.param.get_error_hint(exc.ctx) if exc.param is not None else (exc.param_hint or "")
        kind = {"argument": "参数"}.get(exc.param_type or getattr(exc.param, "param_type_name", "") or "", "选项")
        choices = getattr(getattr(exc.param, "type", None), "choices", None)
        more = f"（可选值：{'、'.join(map(str, choices))}）" if choices else ""
        return f"缺少{kind} {hint}{more}", en
    if isinstance(exc, click.BadParameter):
        hint = exc.param.get_error_hint(exc.ctx) if exc.param is not None else (exc.param_hint or "")
        return (f"{hint} 的值无效：" if hint else "值无效：") + _zh_click(exc.message), en
    if isinstance(exc, click.FileError):
        return f"无法打开文件 {exc.ui_filename!r}：{exc.message}", en
    return _zh_click(exc.message), en


def print_click_error(exc: click.ClickException, console: Console = err) -> None:
    """``错误 | error: 中文 | English`` on one line, then where to read the usage."""
    zh, en = click_error(exc)
    console.print(f"错误 | error: {zh} | {en}", markup=False, soft_wrap=True)
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        console.print(f"用法 | usage: {ctx.command_path} --help", markup=False, soft_wrap=True)
