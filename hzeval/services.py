"""Service functions shared by the CLI and the scheduled job (``hzeval.scheduled`` calls these,
never the CLI module)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hzeval.errors import HzevalError, RefusedError


def parse_as_of(value: str | None) -> dt.datetime:
    """``--as-of``: an ISO date or date-time in local time; a bare date means its 00:00."""
    if not value:
        return dt.datetime.now().replace(microsecond=0)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise RefusedError(
            f"--as-of 时间格式无效：{value}（应为 2026-01-05 或 2026-01-05T09:00）",
            f"invalid --as-of time {value!r} (expected e.g. 2026-01-05 or 2026-01-05T09:00)",
        ) from exc
    if parsed.tzinfo is not None:
        from zoneinfo import ZoneInfo

        parsed = parsed.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    return parsed


def _report_progress(console, total_hint: str = "报告"):
    """A rich progress bar for ``render_reports``: returns (on_start, on_done, finish)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, transient=False, disable=not console.is_terminal)
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
            bar.console.print(f"{count} ✘ {result.job.html}: {result.error}", style="red", markup=False, highlight=False)
        elif not console.is_terminal:
            console.print(f"{count} ✔ {result.job.html}", markup=False, highlight=False)

    return on_start, on_done, bar.stop


def render_year(db, year, agency, formats, out, workers, published=None, *, console, err_console=None):
    """Render a year's reports with a progress bar; failures are listed and raise one error."""
    from hzeval.reports.render import render_reports

    err_console = err_console or console
    on_start, on_done, finish = _report_progress(console)
    try:
        result = render_reports(year, out=out, formats=formats, agency=agency, workers=workers,
                                published=published, db=db, progress=on_done, on_start=on_start)
    finally:
        finish()
    ok = len(result.results) - len(result.failures)
    console.print(f"报告目录 / reports: {result.out_dir}（{ok} 份成功）  index: {result.out_dir / 'index.html'}")
    if result.failures:
        for r in result.failures:
            err_console.print(f"失败 | failed: {r.job.html}: {r.error}（保留原文件 / previous file kept）",
                              markup=False, soft_wrap=True)
        raise HzevalError(f"{len(result.failures)} 份报告生成失败", f"{len(result.failures)} report(s) failed")
    return result
