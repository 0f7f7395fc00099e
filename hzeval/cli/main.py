"""Command line: ``hzeval [--db PATH] COMMAND`` (DESIGN §8).

Failures print one line (Chinese | English) on stderr and exit non-zero; ``--debug``
shows the traceback for developers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import os
import sys
import time
from pathlib import Path

import click

from hzeval import __version__
from hzeval.errors import ConfigError, ExitCode, HzevalError, UsageError
from hzeval.cli import console as show
from hzeval.cli.console import err as err_console
from hzeval.cli.console import out as console
from hzeval.services import parse_as_of, render_year

log = logging.getLogger("hzeval")


@contextlib.contextmanager
def reading(db, year: int | None = None, run_id: str | None = None):
    """A read-only connection for the CLI readers (``supervise``, ``explain``, ``gate``).

    The warehouse itself when it is free. While a writer holds it (``load``, ``assess``, ``run``),
    the published run ``run_id`` or the newest (of ``year``, else of the latest year) instead, with a message on
    stderr saying so; with nothing published yet, wait for the writer (polling, up to
    ``$HZEVAL_WAIT_SECONDS``, default 600 s), saying so once."""
    import duckdb

    from hzeval.store.calendar import MACROS
    from hzeval.errors import WarehouseBusy
    from hzeval.store.published import latest_published, published_dir
    from hzeval.store.warehouse import connect

    deadline = None
    stack = contextlib.ExitStack()
    pub = None
    while True:
        try:
            con = stack.enter_context(connect(db, read_only=True))
            break
        except WarehouseBusy:
            safe = run_id is not None and run_id.replace("-", "").replace("_", "").isalnum()  # a name, not a path
            named = published_dir(db) / f"{run_id}.duckdb" if safe else None
            pub = named if named is not None and named.is_file() else None if run_id else latest_published(db, year)
            if pub is not None:
                break
            limit = float(os.environ.get("HZEVAL_WAIT_SECONDS", "600"))
            if deadline is None:
                deadline = time.monotonic() + limit
                err_console.print(f"数据仓库正被写入且尚无已发布的运行，等待写入结束（至多 {limit:.0f} 秒）… | "
                                  f"the warehouse is being written and nothing is published yet: waiting", markup=False)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    if pub is not None:
        err_console.print(f"数据仓库正被写入，改读已发布的运行 {pub.stem}（该运行时的数据）| the warehouse is being written: "
                          f"reading the published run {pub.stem} (data as of that run)", markup=False, soft_wrap=True)
        con = duckdb.connect(str(pub), read_only=True)
        stack.callback(con.close)
        con.execute(MACROS.replace("create or replace macro", "create or replace temp macro"))
    with stack:
        yield con


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
    from hzeval.ingest import load_paths
    from hzeval.store.warehouse import connect

    with connect(obj.db) as con:
        result = load_paths(con, list(paths), progress=show.load_progress(not quiet))
    show.print_summary(result, console)


@cli.command()
@click.pass_obj
def validate(obj: Ctx):
    """列出无法对应的机构/资源代码 / list unresolved references."""
    from hzeval.ingest import unresolved_references
    from hzeval.ingest.report import authority_gaps
    from hzeval.notify import contact_gaps
    from hzeval.store.warehouse import connect

    with connect(obj.db, create=False) as con:
        rows = unresolved_references(con)
        gaps = authority_gaps(con)
        contacts_missing = contact_gaps(con)
    show.print_unresolved(rows, console)
    show.print_authority_gaps(gaps, console)
    show.print_contact_gaps(contacts_missing, console)


@cli.command()
@click.option("--year", type=int, required=True, help="assessment year")
@click.option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
@click.option("--scheme", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="engine computing the metric items (spark: pip install 'hzeval[spark]' and Java)")
@click.option("--spark-master", default=None,
              help="Spark master URL (default local[*]; spark://host:7077, yarn, or sc://host:15002 for Spark Connect)")
@click.option("--lake", default=None, help="folder or URI of the contract's tables as Parquet (<table>.parquet or <table>/), "
                                           "read by Spark instead of the warehouse's copies")
@click.pass_obj
def assess(obj: Ctx, year, as_of, scheme, engine, spark_master, lake):
    """年度评估：计算指标、评分、定级 / compute metrics, scores and grades as one run."""
    from hzeval.assessment.assess import ranking, run_assessment

    if engine != "spark" and (spark_master or lake):
        raise UsageError("--spark-master 和 --lake 只能与 --engine spark 一起使用",
                          "--spark-master and --lake need --engine spark")
    if engine == "spark":
        from hzeval.metrics.spark import SparkEngine

        engine = SparkEngine(master=spark_master, lake=lake)
    run = run_assessment(obj.db, year=year, as_of=parse_as_of(as_of), scheme_path=scheme, engine=engine)
    show.print_ranking(ranking(obj.db, run), console)


@cli.command()
@click.option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
@click.option("--agency", default=None, help="only this agency")
@click.option("--limit", type=int, default=None, help="show at most N rows on screen")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_obj
def supervise(obj: Ctx, as_of, agency, limit, csv_path, xlsx_path):
    """督办清单：逾期和即将到期事项 / open and overdue items as of a time."""
    from hzeval.assessment.supervise import supervision_items, write_items

    t = parse_as_of(as_of)
    with reading(obj.db) as con:
        items = supervision_items(con, t, agency=agency)
    show.print_items(items, t, console, limit=limit)
    for path in (csv_path, xlsx_path):
        if path:
            write_items(items, path)
            console.print(f"已写出 / written: {path}")


@cli.command()
@click.option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
@click.option("--dry-run", is_flag=True, help="print what would be sent; send and record nothing")
@click.option("--agency", default=None, help="only this agency's items")
@click.option("--summary", "summary_only", is_flag=True, help="with --dry-run: the table only, not the texts")
@click.pass_obj
def notify(obj: Ctx, as_of, dry_run, agency, summary_only):
    """督办通知：按联系人发送即将到期和逾期事项（每项每级只发一次）/ send 督办 notices by mail and group robot."""
    from hzeval.notify import publish_notified, raise_for_failures, send_notices
    from hzeval.store.warehouse import connect

    t = parse_as_of(as_of)
    with connect(obj.db, read_only=dry_run, create=False) as con:
        result = send_notices(con, t, dry_run=dry_run, agency=agency)
        if not dry_run:
            publish_notified(con, obj.db)
    show.print_result(result, console, show_text=dry_run and not summary_only)
    raise_for_failures(result)


@cli.command()
@click.option("--project", default=None, help="only this project")
@click.option("--as-of", "as_of", default=None, help="as-of time for projects not yet accepted; default now")
@click.pass_obj
def gate(obj: Ctx, project, as_of):
    """项目数据门禁 / project data gate."""
    from hzeval.assessment.gate import evaluate_gates

    with reading(obj.db) as con:
        t = parse_as_of(as_of)
        gates = evaluate_gates(con, t, project=project)
    show.print_gates(gates, console, t)


@cli.command()
@click.option("--start", required=True, help="start date or time, e.g. 2025-09-26")
@click.option("--days", type=int, required=True, help="working days")
@click.pass_obj
def deadline(obj: Ctx, start, days):
    """计算工作日期限 / working-day deadline from the warehouse calendar."""
    from hzeval.store.calendar import WorkCalendar
    from hzeval.store.warehouse import connect

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
    from hzeval.assessment.assess import ranking, run_assessment
    from hzeval.ingest import load_paths
    from hzeval.store.warehouse import connect

    with connect(obj.db) as con:
        result = load_paths(con, [drop], progress=show.load_progress())
    show.print_summary(result, console)
    run = run_assessment(obj.db, year=year, as_of=parse_as_of(as_of))
    show.print_ranking(ranking(obj.db, run), console)


@cli.command("rules")
@click.option("--year", type=int, default=None, help="assessment year (default: this year)")
@click.option("--scheme", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="scheme file (default: the packaged scheme of the year)")
def rules_cmd(year, scheme):
    """列出某年度适用的规则配置：期限、天数、条款 / which rule profile, length and article apply over a year."""
    from hzeval.assessment.scheme import scheme_for
    from hzeval.rules import year_overview

    year = year or dt.date.today().year
    sch = scheme_for(year, scheme)
    show.print_rules(year, sch, *year_overview(sch.ruleset, year), console)


@cli.command()
@click.option("--year", type=int, required=True)
@click.option("--agency", required=True, help="agency code")
@click.option("--metric", default=None, help="only this metric id")
@click.option("--run", "run_id", default=None, help="run id (default: the newest finished run of the year)")
@click.option("--limit", type=int, default=10, show_default=True, help="evidence rows per metric")
@click.pass_obj
def explain(obj: Ctx, year, agency, metric, run_id, limit):
    """失分说明：逐项说明扣分原因、条款和记录 / why an agency lost each point."""
    from hzeval.assessment.explain import explanation, open_reader

    with open_reader(obj.db, year, run_id, reading=reading) as run:
        exp = explanation(run, agency, metric=metric)
    show.print_explanation(exp, console, limit=limit)


@cli.group()
def adjust():
    """争议调整：豁免证据或更正记录 / disputes and adjustments."""


@adjust.command("excuse")
@click.option("--metric", required=True, help="metric id of the evidence item")
@click.option("--record-id", required=True, help="record id as listed in evidence")
@click.option("--record-table", default=None)
@click.option("--agency", default=None, help="agency the item is charged to")
@click.option("--reason", required=True)
@click.option("--by", "evaluator", required=True, help="evaluator proposing it")
@click.pass_obj
def adjust_excuse(obj: Ctx, metric, record_id, record_table, agency, reason, evaluator):
    """提出豁免一条证据 / propose excusing an evidence item."""
    from hzeval.assessment.adjust import propose_excuse
    from hzeval.store.warehouse import connect

    with connect(obj.db, create=False) as con:
        adj = propose_excuse(con, metric_id=metric, record_id=record_id, record_table=record_table,
                             agency_code=agency, reason=reason, evaluator=evaluator)
    console.print(f"已登记 {adj}（待审批）/ proposed {adj}, awaiting approval")


@adjust.command("correct")
@click.option("--table", required=True)
@click.option("--record-id", required=True, help="the record's key value")
@click.option("--column", required=True)
@click.option("--value", required=True, help="corrected value ('' for empty)")
@click.option("--reason", required=True)
@click.option("--by", "evaluator", required=True)
@click.pass_obj
def adjust_correct(obj: Ctx, table, record_id, column, value, reason, evaluator):
    """提出更正一条记录的字段（仅用于评分）/ propose a corrected value for scoring."""
    from hzeval.assessment.adjust import propose_correction
    from hzeval.store.warehouse import connect

    with connect(obj.db, create=False) as con:
        adj = propose_correction(con, table=table, record_id=record_id, column=column, value=value,
                                 reason=reason, evaluator=evaluator)
    console.print(f"已登记 {adj}（待审批）/ proposed {adj}, awaiting approval")


@adjust.command("approve")
@click.argument("adjustment_id")
@click.option("--by", "approver", required=True)
@click.option("--note", default=None)
@click.pass_obj
def adjust_approve(obj: Ctx, adjustment_id, approver, note):
    """审批调整（审批人须非提出人）/ approve an adjustment."""
    from hzeval.assessment.adjust import approve
    from hzeval.store.warehouse import connect

    with connect(obj.db, create=False) as con:
        approve(con, adjustment_id, approver, note)
    console.print(f"{adjustment_id} 已审批，下次 assess 生效 / approved; applies from the next assess")


@adjust.command("revoke")
@click.argument("adjustment_id")
@click.option("--by", "actor", required=True)
@click.option("--reason", required=True)
@click.pass_obj
def adjust_revoke(obj: Ctx, adjustment_id, actor, reason):
    """撤销调整（留痕）/ revoke an adjustment (recorded)."""
    from hzeval.assessment.adjust import revoke
    from hzeval.store.warehouse import connect

    with connect(obj.db, create=False) as con:
        revoke(con, adjustment_id, actor, reason)
    console.print(f"{adjustment_id} 已撤销 / revoked")


@adjust.command("list")
@click.pass_obj
def adjust_list(obj: Ctx):
    """列出全部调整及其状态 / list adjustments."""
    from hzeval.assessment.adjust import adjustment_overview
    from hzeval.store.warehouse import connect

    with connect(obj.db, read_only=True) as con:
        rows = adjustment_overview(con)
    show.print_adjustments(rows, console)


@cli.command()
@click.option("--port", type=int, default=5006, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True, help="listen address")
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path), envvar="HZEVAL_USERS",
              default=None, help="users file (default users.json beside the warehouse, or $HZEVAL_USERS)")
@click.option("--published", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="published runs folder (default published/ beside the warehouse)")
@click.option("--allow-origin", multiple=True, help="extra host:port allowed to open the websocket (reverse proxy)")
@click.pass_obj
def dashboard(obj: Ctx, port, address, users_file, published, allow_origin):
    """领导驾驶舱（需登录）/ serve the Panel dashboard over the published runs."""
    from hzeval.dashboard.app import serve
    from hzeval.dashboard.auth import cookie_secret, read_users
    from hzeval.store.published import published_dir
    from hzeval.store.warehouse import db_path

    folder = published or published_dir(obj.db)
    users_file = users_file or db_path(obj.db).resolve().parent / "users.json"
    cookie_secret(users_file)  # fail early, before the server starts (creates the secret file if needed)
    if not read_users(users_file):
        raise ConfigError(f"用户文件 {users_file} 不存在或为空：先运行 hzeval user add 用户名 --role leader",
                          f"no users in {users_file}: run 'hzeval user add NAME --role leader' first")
    console.print(f"驾驶舱 / dashboard: http://{address}:{port}/  （已发布运行 / published runs: {folder}）")
    serve(folder, users_file, port=port, address=address, allow_origin=tuple(allow_origin))


@cli.command()
@click.option("--port", type=int, default=8888, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True, help="listen address (default: this machine only)")
@click.option("--notebooks", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="notebooks folder (default: notebooks/ of the project)")
@click.option("--no-browser", is_flag=True, help="do not open a browser")
@click.pass_obj
def lab(obj: Ctx, port, address, notebooks, no_browser):
    """分析工作台：在 notebooks/ 上启动 JupyterLab（hzeval 内核，读已发布的运行）/ start JupyterLab."""
    import os
    import secrets

    from hzeval.store.published import published_dir
    from hzeval.reports.render import notebooks_dir
    from hzeval.workbench import lab_command, lab_environment

    folder = (notebooks or notebooks_dir()).resolve()
    token = os.environ.get("HZEVAL_LAB_TOKEN") or secrets.token_hex(24)
    published = published_dir(obj.db)
    if not (published / "LATEST").exists():
        err_console.print(f"提示 | note: {published} 中还没有已发布的评估结果，笔记本将无数据：先运行 make demo 或 hzeval assess",
                          markup=False, soft_wrap=True)
    argv = lab_command(folder, port, address, token, browser=not no_browser)
    env = lab_environment(published)
    console.print(f"JupyterLab（笔记本 / notebooks: {folder}；已发布运行 / published runs: {published}）", markup=False)
    console.print(f"打开 / open: http://{address}:{port}/lab?token={token}", markup=False, soft_wrap=True)
    sys.stdout.flush()
    os.execve(argv[0], argv, env)


@cli.group()
def user():
    """驾驶舱用户 / dashboard users."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="leader | evaluator | agency:CODE")
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path), envvar="HZEVAL_USERS",
              default=None, help="users file (default users.json beside the warehouse, or $HZEVAL_USERS)")
@click.password_option("--password", prompt="密码 / password", confirmation_prompt="再次输入 / repeat")
@click.pass_obj
def user_add(obj: Ctx, name, role, users_file, password):
    """添加或重设用户（密码加盐哈希保存）/ add or reset a user (salted PBKDF2 hash)."""
    from hzeval.dashboard.auth import add_user
    from hzeval.store.warehouse import db_path

    users_file = users_file or db_path(obj.db).resolve().parent / "users.json"
    add_user(users_file, name, password, role)
    console.print(f"已保存用户 {name}（{role}）到 {users_file} / saved")


@user.command("remove")
@click.argument("name")
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path), envvar="HZEVAL_USERS",
              default=None, help="users file (default users.json beside the warehouse, or $HZEVAL_USERS)")
@click.pass_obj
def user_remove(obj: Ctx, name, users_file):
    """删除用户（其登录和已打开的驾驶舱会话随即失效）/ remove a user and end their sessions."""
    from hzeval.dashboard.auth import RECHECK_SECONDS, remove_user
    from hzeval.store.warehouse import db_path

    users_file = users_file or db_path(obj.db).resolve().parent / "users.json"
    remove_user(users_file, name)
    console.print(f"已删除用户 {name}（{users_file}）；已打开的会话将在 {RECHECK_SECONDS:.0f} 秒内关闭 / removed; "
                  f"open sessions close within {RECHECK_SECONDS:.0f} s", markup=False)


@user.command("list")
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path), envvar="HZEVAL_USERS",
              default=None, help="users file (default users.json beside the warehouse, or $HZEVAL_USERS)")
@click.pass_obj
def user_list(obj: Ctx, users_file):
    """列出用户及角色 / list users and their roles."""
    from hzeval.dashboard.auth import list_users
    from hzeval.store.warehouse import db_path

    users_file = users_file or db_path(obj.db).resolve().parent / "users.json"
    rows = list_users(users_file)
    if not rows:
        console.print(f"用户文件 {users_file} 中没有用户 / no users", markup=False)
    for name, role in rows:
        click.echo(f"{name}\t{role}")


def _render(obj, year, agency, formats, out, workers, published=None):
    return render_year(obj.db, year, agency, formats, out, workers, published, console=console, err_console=err_console)


def _formats(value: str) -> tuple[str, ...]:
    return tuple(f.strip().lower() for f in value.split(",") if f.strip())


@cli.command()
@click.option("--year", type=int, required=True, help="assessment year")
@click.option("--agency", default=None, help="only this agency's report")
@click.option("--format", "formats", default="html,xlsx,dashboard", show_default=True,
              help="html,pdf,xlsx,dashboard (dashboard: the offline leader dashboards)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
@click.option("--workers", type=int, default=None, help="parallel notebooks (default: one per core)")
@click.option("--published", type=click.Path(exists=True, path_type=Path), default=None,
              help="published run file or folder (default: published/ beside the warehouse)")
@click.pass_obj
def report(obj: Ctx, year, agency, formats, out, workers, published):
    """生成评估报告（HTML/PDF/XLSX、离线驾驶舱）/ render the graded reports and offline dashboards of a year."""
    _render(obj, year, agency, _formats(formats), out, workers, published)


@cli.command("run")
@click.option("--drop", type=click.Path(exists=True, path_type=Path), required=True, help="drop folder to load")
@click.option("--year", type=int, required=True, help="assessment year")
@click.option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
@click.option("--scheme", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--format", "formats", default="html,xlsx,dashboard", show_default=True,
              help="html,pdf,xlsx,dashboard (dashboard: the offline leader dashboards)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
@click.option("--workers", type=int, default=None)
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=Path("logs/hzeval-run.log"),
              show_default=True)
@click.option("--no-wait", is_flag=True, help="exit at once if another run holds the lock")
@click.option("--notify", "notify_after", is_flag=True, help="send 督办 notices after assessing (hzeval notify)")
@click.pass_obj
def run_cmd(obj: Ctx, drop, year, as_of, scheme, formats, out, workers, log_file, no_wait, notify_after):
    """定时任务：加载、评估、生成报告（加锁、幂等）/ scheduled job: load, assess, report."""
    from hzeval.scheduled import scheduled_run

    scheduled_run(obj.db, drop=drop, year=year, as_of=as_of, scheme=scheme, formats=_formats(formats), out=out,
                  workers=workers, log_file=log_file, wait=not no_wait, console=console, err_console=err_console,
                  notify=notify_after)



def main(argv=None):
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="hzeval", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("已中断 | aborted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(exc.exit_code))
    except HzevalError as exc:
        if debug:
            raise
        err_console.print(f"错误 | error: {exc.message}", markup=False, soft_wrap=True)
        sys.exit(int(exc.exit_code))
    except OSError as exc:  # disk full, permission denied, a path that is not a folder ...
        if debug:
            raise
        target = exc.filename or ""
        hint = {errno.ENOSPC: "磁盘已满 / disk full", errno.EACCES: "没有权限 / permission denied",
                errno.EROFS: "只读文件系统 / read-only file system",
                errno.EFBIG: "文件超过大小限制（ulimit -f）/ file too large (file-size limit)",
                errno.EDQUOT: "超出磁盘配额 / disk quota exceeded"}.get(exc.errno, exc.strerror or type(exc).__name__)
        err_console.print(f"错误 | error: 无法读写 {target}：{hint} | cannot read or write {target}: {exc.strerror}",
                          markup=False, soft_wrap=True)
        sys.exit(int(ExitCode.IO))
    except Exception as exc:  # noqa: BLE001 - last line of defence: no bare traceback
        if debug:
            raise
        err_console.print(
            f"内部错误，请加 --debug 重试并报告 | internal error, rerun with --debug and report it: "
            f"{type(exc).__name__}: {exc}", markup=False, soft_wrap=True,
        )
        sys.exit(int(ExitCode.INTERNAL))


if __name__ == "__main__":  # pragma: no cover
    main()
