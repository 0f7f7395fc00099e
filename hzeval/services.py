"""Service functions shared by the CLI and the scheduled job (``hzeval.scheduled`` calls these,
never the CLI module)."""

from __future__ import annotations

import datetime as dt

from hzeval.cli.console import report_progress
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


def render_year(db, year, agency, formats, out, workers, published=None, *, console, err_console=None):
    """Render a year's reports with a progress bar; failures are listed and raise one error."""
    from hzeval.reports.render import render_reports

    err_console = err_console or console
    on_start, on_done, finish = report_progress(console)
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
