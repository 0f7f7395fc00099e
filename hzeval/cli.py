"""Command line: ``hzeval [--db PATH] COMMAND`` (DESIGN §8).

Failures print one line (Chinese | English) on stderr and exit non-zero; ``--debug``
shows the traceback for developers.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import click
from rich.console import Console

from hzeval import __version__
from hzeval.errors import HzevalError

log = logging.getLogger("hzeval")
# scheduler logs and pipes are not terminals: give tables room instead of rich's 80 columns
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)


def parse_as_of(value: str | None) -> dt.datetime:
    """``--as-of``: an ISO date or date-time in local time; a bare date means its 00:00."""
    if not value:
        return dt.datetime.now().replace(microsecond=0)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise HzevalError(
            f"--as-of 时间格式无效：{value}（应为 2026-01-05 或 2026-01-05T09:00）",
            f"invalid --as-of time {value!r} (expected e.g. 2026-01-05 or 2026-01-05T09:00)",
        ) from exc
    if parsed.tzinfo is not None:
        from zoneinfo import ZoneInfo

        parsed = parsed.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    return parsed


class Ctx:
    def __init__(self, db: str | None, debug: bool):
        self.db = db
        self.debug = debug


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="HZEVAL_DB", default=None, help="warehouse file (default ./hzeval.duckdb or $HZEVAL_DB)")
@click.option("--debug", is_flag=True, help="show tracebacks and debug logging")
@click.version_option(__version__, prog_name="hzeval")
@click.pass_context
def cli(ctx, db, debug):
    """hzeval — 惠州市公共数据管理评估与督办工作台 / evaluation workbench."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Ctx(db, debug)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="no progress bar")
@click.pass_obj
def load(obj: Ctx, paths, quiet):
    """加载数据包（文件夹或文件）/ load drop folders or files into the warehouse."""
    from hzeval.ingest import load_paths, print_summary

    from hzeval.warehouse import connect

    with connect(obj.db) as con:
        result = load_paths(con, list(paths), progress=not quiet)
    print_summary(result, console)


@cli.command()
@click.pass_obj
def validate(obj: Ctx):
    """列出无法对应的机构/资源代码 / list unresolved references."""
    from hzeval.ingest import print_unresolved, unresolved_references
    from hzeval.warehouse import connect

    with connect(obj.db, create=False) as con:
        rows = unresolved_references(con)
    print_unresolved(rows, console)


@cli.command()
@click.option("--year", type=int, required=True, help="assessment year")
@click.option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
@click.option("--scheme", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.pass_obj
def assess(obj: Ctx, year, as_of, scheme):
    """年度评估：计算指标、评分、定级 / compute metrics, scores and grades as one run."""
    from hzeval.assess import print_ranking, run_assessment

    run = run_assessment(obj.db, year=year, as_of=parse_as_of(as_of), scheme_path=scheme)
    print_ranking(obj.db, run, console)


@cli.command()
@click.option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
@click.option("--agency", default=None, help="only this agency")
@click.option("--limit", type=int, default=None, help="show at most N rows on screen")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_obj
def supervise(obj: Ctx, as_of, agency, limit, csv_path, xlsx_path):
    """督办清单：逾期和即将到期事项 / open and overdue items as of a time."""
    from hzeval.supervise import print_items, supervision_items, write_items
    from hzeval.warehouse import connect

    t = parse_as_of(as_of)
    with connect(obj.db, create=False) as con:
        items = supervision_items(con, t, agency=agency)
    print_items(items, t, console, limit=limit)
    for path in (csv_path, xlsx_path):
        if path:
            write_items(items, path)
            console.print(f"已写出 / written: {path}")


@cli.command()
@click.option("--project", default=None, help="only this project")
@click.option("--as-of", "as_of", default=None, help="as-of time for projects not yet accepted; default now")
@click.pass_obj
def gate(obj: Ctx, project, as_of):
    """项目门禁（第四十四条）/ project data gate."""
    from hzeval.gate import evaluate_gates, print_gates
    from hzeval.warehouse import connect

    with connect(obj.db, create=False) as con:
        gates = evaluate_gates(con, parse_as_of(as_of), project=project)
    print_gates(gates, console)


@cli.command()
@click.option("--start", required=True, help="start date or time, e.g. 2025-09-26")
@click.option("--days", type=int, required=True, help="working days")
@click.pass_obj
def deadline(obj: Ctx, start, days):
    """计算工作日期限 / working-day deadline from the warehouse calendar."""
    from hzeval.calendar import WorkCalendar
    from hzeval.warehouse import connect

    with connect(obj.db, create=False) as con:
        cal = WorkCalendar.from_warehouse(con)
    due = cal.due_date(parse_as_of(start), days)
    console.print(f"{start} 起 {days} 个工作日：{due.isoformat()} 24:00 截止 / due end of {due.isoformat()}")


@cli.command()
@click.option("--drop", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("data_samples"),
              show_default=True, help="drop folder to load")
@click.option("--year", type=int, default=2025, show_default=True)
@click.option("--as-of", "as_of", default="2026-01-05", show_default=True)
@click.pass_obj
def demo(obj: Ctx, drop, year, as_of):
    """演示：加载样例数据包并评估 / load the sample drop and assess a year."""
    from hzeval.assess import print_ranking, run_assessment
    from hzeval.ingest import load_paths, print_summary
    from hzeval.warehouse import connect

    with connect(obj.db) as con:
        result = load_paths(con, [drop], progress=True)
    print_summary(result, console)
    run = run_assessment(obj.db, year=year, as_of=parse_as_of(as_of))
    print_ranking(obj.db, run, console)


def main(argv=None):
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="hzeval", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("已中断 | aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HzevalError as exc:
        if debug:
            raise
        err_console.print(f"错误 | error: {exc.message}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no bare traceback
        if debug:
            raise
        err_console.print(
            f"内部错误，请加 --debug 重试并报告 | internal error, rerun with --debug and report it: "
            f"{type(exc).__name__}: {exc}", markup=False, soft_wrap=True,
        )
        sys.exit(70)


if __name__ == "__main__":  # pragma: no cover
    main()
