"""Service functions shared by the CLI and the scheduled job (``hzeval.scheduled`` calls these,
never the CLI module).

:func:`render_reports` is where the surfaces meet: it gathers every surface's jobs (the reports',
the offline dashboards', the staff notebooks' gallery) and hands them to the renderer
(:func:`hzeval.reports.render.run_jobs`); the surfaces never import one another. Surfaces are
imported inside the functions that need them, so that commands which render nothing start fast."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

from hzeval.cli.console import report_progress
from hzeval.errors import HzevalError, RefusedError
from hzeval.util import faults
from hzeval.util.paths import staging_folder, swap_in


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
    err_console = err_console or console
    on_start, on_done, finish = report_progress(console)
    try:
        result = render_reports(
            year,
            out=out,
            formats=formats,
            agency=agency,
            workers=workers,
            published=published,
            db=db,
            progress=on_done,
            on_start=on_start,
        )
    finally:
        finish()
    ok = len(result.results) - len(result.failures)
    index = "" if agency else f"  index: {result.out_dir / 'index.html'}"
    console.print(f"报告目录 / reports: {result.out_dir}（{ok} 份成功）{index}")
    if result.failures:
        for r in result.failures:
            err_console.print(
                f"失败 | failed: {r.job.html}: {r.error}（保留原文件 / previous file kept）",
                markup=False,
                soft_wrap=True,
            )
        raise HzevalError(f"{len(result.failures)} 份报告生成失败", f"{len(result.failures)} report(s) failed")
    return result


def render_reports(
    year: int,
    out: Path = Path("reports"),
    formats: tuple[str, ...] = ("html", "xlsx"),
    agency: str | None = None,
    workers: int | None = None,
    published: str | os.PathLike | None = None,
    db=None,
    progress=None,
    on_start=None,
    only=None,
):
    """Render ``reports/<year>/`` from the newest published run of ``year`` (or ``published``).

    ``agency`` renders that agency's report alone (no city-wide index: it names every agency's
    total, grade and rank); ``only`` limits the agency reports to the given
    codes but still writes the bulletin, gate report and workbook (tests, previews).

    Whole or not at all (issue 30 item 8): the render goes into ``reports/.<year>.staging-<pid>``,
    a copy of the current folder (so ``--agency X`` adds X's files to it, and a failed report keeps
    its previous file), and is swapped in once its manifest is written (:func:`swap_in`). A kill
    before the swap leaves the previous folder as it was; the next render removes the staging."""
    from hzeval.reports import pdf, render

    unknown = set(formats) - set(render.FORMATS)
    if unknown:
        raise HzevalError(
            f"未知的报告格式：{', '.join(sorted(unknown))}（可选 {','.join(render.FORMATS)}）",
            f"unknown format(s) {sorted(unknown)}: choose from {','.join(render.FORMATS)}",
        )
    if "pdf" in formats:  # before anything is rendered: no 40 failed reports for a missing browser
        pdf.preflight()
    workers = workers or os.cpu_count() or 1
    final = Path(out) / str(year)
    staging = out_dir = staging_folder(final)
    # each finished report is told by its final path, never the staging folder's
    told = (lambda r: progress(_moved_one(r, staging, final))) if progress else None
    try:
        result = _render_into(out_dir, year, formats, agency, workers, published, db, told, on_start, only)
        faults.checkpoint("report-before-swap")
        swap_in(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _moved(result, staging, final)


def _move(p, staging: Path, final: Path) -> Path:
    path = Path(p)
    return final / path.relative_to(staging) if path.is_relative_to(staging) else path


def _moved_one(r, staging: Path, final: Path):
    """One job's result with its paths in ``final`` instead of ``staging``."""
    html = str(_move(r.job.html, staging, final))
    return dataclasses.replace(
        r, job=dataclasses.replace(r.job, html=html), files=[str(_move(f, staging, final)) for f in r.files]
    )


def _moved(result, staging: Path, final: Path):
    """``result`` with its paths in ``final`` instead of ``staging``."""

    def move(p):
        return _move(p, staging, final)

    results = [_moved_one(r, staging, final) for r in result.results]
    manifest = move(result.manifest) if result.manifest else None
    return dataclasses.replace(
        result, out_dir=final, results=results, files=[move(f) for f in result.files], manifest=manifest
    )


def _render_into(out_dir: Path, year, formats, agency, workers, published, db, progress, on_start, only):
    from hzeval.dashboard import offline
    from hzeval.reports import approval, data, render
    from hzeval.reports.workbook import write_workbook
    from hzeval.util.notebooks import notebooks_dir
    from hzeval.util.paths import inside
    from hzeval.workbench import gallery_jobs, gallery_links

    with data.open_run(published, year, db) as run:
        to_pdf = "pdf" in formats
        jobs = render.plan_jobs(run, out_dir, agency, pdf=to_pdf, only=only) if ({"html", "pdf"} & set(formats)) else []
        if jobs and not agency:  # the staff notebooks of the year, rendered with code hidden
            jobs += gallery_jobs(run, out_dir, notebooks_dir())
        if "dashboard" in formats:  # issue 17: the offline dashboards, the city's and each agency's
            agency_jobs = render.plan_jobs(run, out_dir, agency, kinds=("agency",), only=only)
            codes = [j.agency_code for j in agency_jobs if j.agency_code is not None]  # every agency job has one
            dash = offline.dashboard_jobs(run, out_dir, codes, whole_city=not agency)
            # the city file is the longest job: started first, it is not the night's tail (issue 29)
            jobs = dash[:1] + jobs + dash[1:] if not agency else jobs + dash
        if on_start:
            on_start(run, jobs)
        results = render.run_jobs(jobs, workers, progress) if jobs else []
        files = [Path(f) for r in results for f in r.files]
        if "xlsx" in formats and not agency:
            files.append(write_workbook(run, inside(out_dir, "workbook.xlsx")))
        if not agency and "html" in formats:  # issue 17: the project approval reference (第四十三条、第四十四条)
            files.append(approval.write_approval_reference(run, out_dir))
        if not agency:  # the index lists every agency's total, grade and rank: never in one agency's render
            files.append(render.write_index(run, out_dir, gallery_links(run.year)))
        manifest = render.write_manifest(run, out_dir, results)
        return render.RenderResult(out_dir, run.run_id, results, files, manifest)
