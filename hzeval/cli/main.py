"""Command line: ``hzeval [--db PATH] COMMAND`` (DESIGN §8) — the click group and its commands.

A command reads its options, calls the package and shows what it returns: what it needs opened
comes from :mod:`.requires`, its shared options from :mod:`.params`, every table and progress
display from :mod:`.console`. Failures print one line (Chinese | English) on stderr and exit with a
status of :class:`hzeval.errors.ExitCode`; ``--debug`` shows the traceback for developers.

The dashboard, the lab, the reports and the Spark engine are imported inside their commands: they
bring panel, JupyterLab, papermill or pyspark with them.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import sys
from pathlib import Path

import click

from hzeval.assessment.adjust import (
    TOLERANCE_CONDITIONS,
    adjustment_overview,
    approve,
    propose_correction,
    propose_excuse,
    revoke,
)
from hzeval.assessment.assess import ranking, run_assessment
from hzeval.assessment.explain import explanation
from hzeval.assessment.gate import evaluate_gates
from hzeval.assessment.scheme import scheme_for
from hzeval.assessment.supervise import supervision_items
from hzeval.cli import console, params, requires
from hzeval.cli.requires import Ctx
from hzeval.errors import EXIT_MEANING, ConfigError, ExitCode, HzevalError, UsageError, ValidationFindings
from hzeval.ingest import authority_gaps, load_paths, rejected_rows, unresolved_references
from hzeval.metrics.profiles import year_overview
from hzeval.notify import contact_gaps, contact_problems, publish_notified, raise_for_failures, send_notices
from hzeval.present import write_supervision
from hzeval.runs import open_reader
from hzeval.scheduled import scheduled_run
from hzeval.services import parse_as_of, render_year
from hzeval.store.calendar import WorkCalendar
from hzeval.store.publication import make_official, run_list, withdraw
from hzeval.store.published import published_dir, resolve_run
from hzeval.util import settings
from hzeval.util.version import code_version

log = logging.getLogger("hzeval")


#: ``hzeval --help`` ends with the exit statuses (hzeval.errors.ExitCode, as the README's table)
EPILOG = "\b\n退出状态 / exit status:\n" + "\n".join(
    f"  {code.value:>3}  {code.name:<11} {EXIT_MEANING[code][1]}" for code in ExitCode
)


@click.group(
    cls=params.Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120}, epilog=EPILOG
)
@params.db
@params.debug
@click.version_option(code_version(), prog_name="hzeval", help="显示版本并退出 / show the version and exit")
@click.pass_context
def cli(ctx, db, debug):
    """hzeval — 惠州市公共数据管理评估与督办工作台 / evaluation workbench."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings.apply()  # hzeval.toml / $HZEVAL_CONFIG under the environment, validated before any work
    ctx.obj = Ctx(db or os.environ.get("HZEVAL_DB"), debug)


@cli.group("config")
def config_group():
    """设置：hzeval.toml 与环境变量 / settings (hzeval.toml, environment)."""


@config_group.command("show")
@params.as_json
def config_show(as_json):
    """列出全部设置及其来源（密钥以 ****** 显示）/ every setting, its value and source, secrets masked."""
    current = settings.apply()
    rows = [
        {
            "setting": s.name,
            "env": s.env,
            "value": settings.shown(s.name, current[s.name][0]) if s.name in current else None,
            "source": current[s.name][1] if s.name in current else "default",
            "doc": s.doc,
        }
        for s in settings.SETTINGS.values()
    ]
    if as_json:
        console.emit_json({"file": str(settings.config_file() or ""), "settings": rows})
    else:
        console.print_settings(settings.config_file(), rows)


# --------------------------------------------------------------------------- load, validate


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="不显示进度条 / no progress bar")
@requires.writer(create=True)
def load(obj: Ctx, con, paths, quiet):
    """加载数据包（文件夹或文件）/ load drop folders or files into the warehouse."""
    console.print_summary(load_paths(con, list(paths), progress=console.load_progress(not quiet)))


@cli.command()
@params.as_json
@click.option("--strict", is_flag=True, help="发现任何问题即以状态 3 退出 / exit non-zero (3) when anything is found")
@click.option(
    "--rejects", "show_rejects", is_flag=True, help="列出被拒收的行及原因 / list the rows loads rejected, and why"
)
@params.load_ids
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="--rejects 时屏幕上最多显示的行数 / with --rejects: rows shown",
)
@requires.writer()
def validate(obj: Ctx, con, as_json, strict, show_rejects, load_ids, limit):
    """列出无法对应的代码；--rejects 列出被拒收的行 / list unresolved references, or (--rejects) rejected rows."""
    if show_rejects or load_ids:
        rows, total = rejected_rows(con, load_ids, limit=None if as_json else limit)
        if as_json:
            console.emit_json({"total": total, "rejects": rows})
        else:
            console.print_rejects(rows, total)
        if strict and total:
            raise ValidationFindings(f"有 {total:,} 行被拒收", f"{total:,} rows rejected")
        return
    found = unresolved_references(con), authority_gaps(con), contact_gaps(con), contact_problems(con)
    if as_json:
        console.emit_json(console.validate_json(*found))
    else:
        console.print_unresolved(found[0])
        console.print_authority_gaps(found[1])
        console.print_contact_gaps(found[2])
        console.print_contact_problems(found[3])
    if strict and any(found):
        raise ValidationFindings(
            f"数据包检查发现问题：{len(found[0])} 个代码无法对应、{len(found[1])} 个机构缺少本级主管、"
            f"{len(found[2])} 个机构缺少督办联系人、{len(found[3])} 个联系人无法使用",
            f"validate found {len(found[0])} unresolved codes, {len(found[1])} authority gaps, "
            f"{len(found[2])} contact gaps, {len(found[3])} unusable contacts",
        )


# --------------------------------------------------------------------------- assess, demo, rules


@cli.command()
@params.year
@params.as_of
@params.scheme
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="计算指标的引擎（spark 需 pip install 'hzeval[spark]' 和 Java）/ engine computing the metric items "
    "(spark: pip install 'hzeval[spark]' and Java)",
)
@click.option(
    "--spark-master",
    default=None,
    help="Spark 主节点地址（默认 local[*]）/ Spark master URL (default local[*]; spark://host:7077, yarn, or "
    "sc://host:15002 for Spark Connect)",
)
@click.option(
    "--lake",
    default=None,
    help="契约各表的 Parquet 文件夹或 URI，由 Spark 代替数据仓库读取 / folder or URI of the contract's tables as "
    "Parquet (<table>.parquet or <table>/), read by Spark instead of the warehouse's copies",
)
@params.as_json
@click.pass_obj
def assess(obj: Ctx, year, as_of, scheme, engine, spark_master, lake, as_json):
    """年度评估：计算指标、评分、定级 / compute metrics, scores and grades as one run."""
    if engine != "spark" and (spark_master or lake):
        raise UsageError(
            "--spark-master 和 --lake 只能与 --engine spark 一起使用", "--spark-master and --lake need --engine spark"
        )
    if engine == "spark":
        from hzeval.metrics.spark import SparkEngine  # pyspark, when installed

        engine = SparkEngine(master=spark_master, lake=lake)
    run = run_assessment(obj.db, year=year, as_of=parse_as_of(as_of), scheme_path=scheme, engine=engine)
    result = ranking(obj.db, run)
    if as_json:
        console.emit_json(console.ranking_json(result))
    else:
        console.print_ranking(result)
        console.print_trial_note(run, resolve_run(published_dir(obj.db), year=year))


@cli.command()
@click.option(
    "--drop",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("data_samples"),
    show_default=True,
    help="要加载的数据包文件夹 / drop folder to load",
)
@params.year.but(required=False, default=2025, show_default=True)
@params.as_of.but(
    default="2026-01-05", show_default=True, help="截至时间（ISO 格式，本地时间）/ as-of time (ISO, local)"
)
@click.pass_obj
def demo(obj: Ctx, drop, year, as_of):
    """演示：加载样例数据包并评估 / load the sample drop and assess a year."""
    with requires.open_warehouse(obj.db, create=True) as con:  # closed before assess opens it again
        result = load_paths(con, [drop], progress=console.load_progress())
    console.print_summary(result)
    run = run_assessment(obj.db, year=year, as_of=parse_as_of(as_of))
    console.print_ranking(ranking(obj.db, run))


@cli.command("rules")
@params.year.but(required=False, default=None, help="评估年度（默认今年）/ assessment year (default: this year)")
@params.scheme
@params.as_json
def rules_cmd(year, scheme, as_json):
    """列出某年度适用的规则配置：期限、天数、条款 / which rule profile, length and article apply over a year."""
    year = year or dt.date.today().year
    sch = scheme_for(year, scheme)
    overview = year_overview(sch.ruleset, year)
    if as_json:
        console.emit_json(console.rules_json(year, sch, *overview))
    else:
        console.print_rules(year, sch, *overview)


# --------------------------------------------------------------------------- runs: trial, official, withdrawn


@cli.group("runs")
def runs_group():
    """评估运行：试算、正式、撤回 / trial, official and withdrawn runs."""


@runs_group.command("official")
@click.argument("run_id")
@params.reason.but(required=False, default=None)
@params.by
@requires.writer()
def runs_official(obj: Ctx, con, run_id, reason, actor):
    """将试算运行设为正式结果（留痕）/ make a trial run official (audited)."""
    make_official(con, run_id, actor, reason, db=obj.db)
    console.out.print(f"{run_id} 已设为正式结果（{actor}）/ now official", markup=False)


@runs_group.command("withdraw")
@click.argument("run_id")
@params.reason
@params.by
@requires.writer()
def runs_withdraw(obj: Ctx, con, run_id, reason, actor):
    """撤回一次评估运行（留痕，不再发布）/ withdraw a run (audited; never published again)."""
    withdraw(con, run_id, actor, reason, db=obj.db)
    console.out.print(f"{run_id} 已撤回（{actor}）/ withdrawn", markup=False)


@runs_group.command("list")
@params.year.but(required=False, default=None, help="只看该年度 / only this year")
@params.json_out
@requires.live_reader
def runs_list(obj: Ctx, con, year, as_json):
    """列出评估运行及其状态 / list runs with their state."""
    console.print_runs(run_list(con, year, db=obj.db), as_json=as_json)


# --------------------------------------------------------------------------- supervise, notify, gate, deadline


@cli.command()
@params.as_of
@params.agency
@click.option("--limit", type=int, default=None, help="屏幕上最多显示 N 行 / show at most N rows on screen")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="另写出 CSV 文件 / also write the list as CSV",
)
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="另写出 XLSX 文件 / also write the list as XLSX",
)
@params.as_json
@click.pass_obj
def supervise(obj: Ctx, as_of, agency, limit, csv_path, xlsx_path, as_json):
    """督办清单：逾期和即将到期事项 / open and overdue items as of a time."""
    t = parse_as_of(as_of)
    with requires.reading(obj.db) as con:  # closed before the files are written
        items = supervision_items(con, t, agency=agency)
    if as_json:
        console.emit_json(console.supervision_json(items, t))
    else:
        console.print_items(items, t, limit=limit)
    for path in (csv_path, xlsx_path):
        if path:
            write_supervision(items, path)
            (console.err if as_json else console.out).print(f"已写出 / written: {path}")  # stdout is the JSON


@cli.command()
@params.as_of
@click.option(
    "--dry-run",
    is_flag=True,
    help="只显示将发送的内容，不发送也不记录 / print what would be sent; send and record nothing",
)
@params.agency
@click.option(
    "--summary",
    "summary_only",
    is_flag=True,
    help="与 --dry-run 同用：只显示汇总表 / with --dry-run: the table only, not the texts",
)
@params.as_json
@requires.writer(read_only_if="dry_run")
def notify(obj: Ctx, con, as_of, dry_run, agency, summary_only, as_json):
    """督办通知：按联系人发送即将到期和逾期事项（每项每级只发一次）/ send 督办 notices by mail and group robot."""
    result = send_notices(con, parse_as_of(as_of), dry_run=dry_run, agency=agency)
    if not dry_run:
        publish_notified(con, obj.db)
    if as_json:
        console.emit_json(console.notify_json(result))
    else:
        console.print_result(result, show_text=dry_run and not summary_only)
    raise_for_failures(result)


@cli.command()
@click.option("--project", default=None, help="只看该项目 / only this project")
@params.as_of.but(help="尚未验收项目的核验时点，默认现在 / as-of time for projects not yet accepted; default now")
@params.scheme
@params.as_json
@requires.reader
def gate(obj: Ctx, con, project, as_of, scheme, as_json):
    """项目数据门禁 / project data gate."""
    t = parse_as_of(as_of)
    sch = scheme_for(t.year, scheme)  # gate_checked_at, gate_nonshare_filed_passes
    gates = evaluate_gates(con, t, project=project, scheme=sch)
    if as_json:
        console.emit_json({"as_of": t, "gates": console.rows(gates)})
    else:
        console.print_gates(gates, as_of=t, scheme=sch)


@cli.command()
@click.option("--start", required=True, help="起算日期或时间，如 2025-09-26 / start date or time, e.g. 2025-09-26")
@click.option("--days", type=int, required=True, help="工作日数 / working days")
@requires.writer()
def deadline(obj: Ctx, con, start, days):
    """计算工作日期限 / working-day deadline from the warehouse calendar."""
    due = WorkCalendar.from_warehouse(con).due_date(parse_as_of(start), days)
    console.out.print(f"{start} 起 {days} 个工作日：{due.isoformat()} 24:00 截止 / due end of {due.isoformat()}")


# --------------------------------------------------------------------------- explain, adjust


@cli.command()
@params.year
@params.agency.but(required=True, help="机构代码（不区分大小写）/ agency code (any case)")
@click.option("--metric", default=None, help="只看该指标 / only this metric id")
@click.option(
    "--run",
    "run_id",
    default=None,
    help="运行编号（默认该年度最新的正式运行，否则最新试算）/ run id (default: the year's latest official run, else "
    "its latest trial run)",
)
@click.option(
    "--limit", type=int, default=10, show_default=True, help="每个指标显示的证据行数 / evidence rows per metric"
)
@params.as_json
@click.pass_obj
def explain(obj: Ctx, year, agency, metric, run_id, limit, as_json):
    """失分说明：逐项说明扣分原因、条款和记录 / why an agency lost each point."""
    with open_reader(obj.db, year, run_id, reading=requires.reading) as run:
        exp = explanation(run, agency, metric=metric)
    if as_json:
        console.emit_json(console.explanation_json(exp))
    else:
        console.print_explanation(exp, limit=limit)


@cli.group()
def adjust():
    """争议调整：豁免证据或更正记录 / disputes and adjustments."""


@adjust.command("excuse")
@click.option("--metric", required=True, help="证据所属指标代码 / metric id of the evidence item")
@click.option("--record-id", required=True, help="证据中列出的记录编号 / record id as listed in evidence")
@click.option("--record-table", default=None, help="记录所在的表（可选）/ table of the record (optional)")
@params.agency.but(help="该事项计入的机构（不区分大小写）/ agency the item is charged to (any case)")
@params.reason
@click.option("--by", "evaluator", required=True, help="提出豁免的评估人员 / evaluator proposing it")
@click.option(
    "--tolerance",
    multiple=True,
    type=click.Choice(TOLERANCE_CONDITIONS),
    help="认定满足的第四十六条容错免责条件，四项齐备方引用该条 / "
    "a 第四十六条 condition found met; give all four to cite the article",
)
@requires.writer()
def adjust_excuse(obj: Ctx, con, metric, record_id, record_table, agency, reason, evaluator, tolerance):
    """提出豁免一条证据 / propose excusing an evidence item."""
    adj = propose_excuse(
        con,
        metric_id=metric,
        record_id=record_id,
        record_table=record_table,
        agency_code=agency,
        reason=reason,
        evaluator=evaluator,
        tolerance=tolerance,
    )
    console.out.print(f"已登记 {adj}（待审批）/ proposed {adj}, awaiting approval")


@adjust.command("correct")
@click.option("--table", required=True, help="记录所在的表 / table of the record")
@click.option("--record-id", required=True, help="记录的主键值 / the record's key value")
@click.option("--column", required=True, help="要更正的列 / column to correct")
@click.option("--value", required=True, help="更正后的值（'' 表示空）/ corrected value ('' for empty)")
@params.reason
@click.option("--by", "evaluator", required=True, help="提出更正的评估人员 / evaluator proposing it")
@requires.writer()
def adjust_correct(obj: Ctx, con, table, record_id, column, value, reason, evaluator):
    """提出更正一条记录的字段（仅用于评分）/ propose a corrected value for scoring."""
    adj = propose_correction(
        con, table=table, record_id=record_id, column=column, value=value, reason=reason, evaluator=evaluator
    )
    console.out.print(f"已登记 {adj}（待审批）/ proposed {adj}, awaiting approval")


@adjust.command("approve")
@click.argument("adjustment_id")
@click.option("--by", "approver", required=True, help="审批人（须非提出人）/ approver (not the proposer)")
@click.option("--note", default=None, help="审批意见 / approval note")
@requires.writer()
def adjust_approve(obj: Ctx, con, adjustment_id, approver, note):
    """审批调整（审批人须非提出人）/ approve an adjustment."""
    approve(con, adjustment_id, approver, note)
    console.out.print(f"{adjustment_id} 已审批，下次 assess 生效 / approved; applies from the next assess")


@adjust.command("revoke")
@click.argument("adjustment_id")
@click.option("--by", "actor", required=True, help="撤销人 / who revokes it")
@params.reason
@requires.writer()
def adjust_revoke(obj: Ctx, con, adjustment_id, actor, reason):
    """撤销调整（留痕）/ revoke an adjustment (recorded)."""
    revoke(con, adjustment_id, actor, reason)
    console.out.print(f"{adjustment_id} 已撤销 / revoked")


@adjust.command("list")
@requires.live_reader
def adjust_list(obj: Ctx, con):
    """列出全部调整及其状态 / list adjustments."""
    console.print_adjustments(adjustment_overview(con))


# --------------------------------------------------------------------------- dashboard, lab, users


@cli.command()
@click.option("--port", type=int, default=5006, show_default=True, help="监听端口 / port")
@params.address
@params.users
@click.option(
    "--published",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="已发布运行的文件夹（默认数据仓库旁的 published/）/ published runs folder (default published/ beside the "
    "warehouse)",
)
@click.option(
    "--allow-origin",
    multiple=True,
    help="另允许打开 websocket 的 host:port（反向代理）/ extra host:port allowed to open the websocket (reverse proxy)",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="登录 cookie 仅经 https 传送（经 TLS 代理提供时设置）/ login cookies only over https (set when a TLS proxy "
    "serves the dashboard)",
)
@click.pass_obj
def dashboard(obj: Ctx, port, address, users_file, published, allow_origin, secure_cookies):
    """领导驾驶舱（需登录）/ serve the Panel dashboard over the published runs."""
    from hzeval.dashboard.app import serve  # panel
    from hzeval.dashboard.auth import cookie_secret, read_users

    folder = published or published_dir(obj.db)
    cookie_secret(users_file)  # fail early, before the server starts (creates the secret file if needed)
    if not read_users(users_file):
        raise ConfigError(
            f"用户文件 {users_file} 不存在或为空：先运行 hzeval user add 用户名 --role leader",
            f"no users in {users_file}: run 'hzeval user add NAME --role leader' first",
        )
    console.out.print(f"驾驶舱 / dashboard: http://{address}:{port}/  （已发布运行 / published runs: {folder}）")
    serve(
        folder, users_file, port=port, address=address, allow_origin=tuple(allow_origin), secure_cookies=secure_cookies
    )


@cli.command()
@click.option("--port", type=int, default=8888, show_default=True, help="监听端口 / port")
@params.address
@click.option(
    "--notebooks",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="笔记本文件夹（默认项目的 notebooks/）/ notebooks folder (default: notebooks/ of the project)",
)
@click.option("--no-browser", is_flag=True, help="不打开浏览器 / do not open a browser")
@click.pass_obj
def lab(obj: Ctx, port, address, notebooks, no_browser):
    """分析工作台：在 notebooks/ 上启动 JupyterLab（hzeval 内核，读已发布的运行）/ start JupyterLab."""
    from hzeval.util.notebooks import notebooks_dir
    from hzeval.workbench import lab_command, lab_environment, lab_token, running_as_root

    folder = (notebooks or notebooks_dir()).resolve()
    token = lab_token()
    if running_as_root():
        console.warn_lab_as_root()
    published = published_dir(obj.db)
    if not (published / "LATEST").exists():
        console.err.print(
            f"提示 | note: {published} 中还没有已发布的评估结果，笔记本将无数据：先运行 make demo 或 hzeval assess",
            markup=False,
            soft_wrap=True,
        )
    argv = lab_command(folder, port, address, browser=not no_browser)
    env = lab_environment(published, token)
    console.out.print(
        f"JupyterLab（笔记本 / notebooks: {folder}；已发布运行 / published runs: {published}）", markup=False
    )
    console.out.print(f"打开 / open: http://{address}:{port}/lab?token={token}", markup=False, soft_wrap=True)
    sys.stdout.flush()
    os.execve(argv[0], argv, env)


@cli.group()
def user():
    """驾驶舱用户 / dashboard users."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="角色：leader（领导）| evaluator（评估人员）| agency:CODE（机构）/ role")
@params.users
@click.password_option(
    "--password",
    prompt="密码 / password",
    confirmation_prompt="再次输入 / repeat",
    help="密码（不给则提示输入）/ password (prompted when not given)",
)
def user_add(name, role, users_file, password):
    """添加或重设用户（密码加盐哈希保存）/ add or reset a user (salted PBKDF2 hash)."""
    from hzeval.dashboard.auth import add_user

    add_user(users_file, name, password, role)
    console.out.print(f"已保存用户 {name}（{role}）到 {users_file} / saved")


@user.command("remove")
@click.argument("name")
@params.users
def user_remove(name, users_file):
    """删除用户（其登录和已打开的驾驶舱会话随即失效）/ remove a user and end their sessions."""
    from hzeval.dashboard.auth import RECHECK_SECONDS, remove_user

    remove_user(users_file, name)
    console.out.print(
        f"已删除用户 {name}（{users_file}）；已打开的会话将在 {RECHECK_SECONDS:.0f} 秒内关闭 / removed; "
        f"open sessions close within {RECHECK_SECONDS:.0f} s",
        markup=False,
    )


@user.command("list")
@params.users
def user_list(users_file):
    """列出用户及角色 / list users and their roles."""
    from hzeval.dashboard.auth import list_users

    rows = list_users(users_file)
    if not rows:
        console.out.print(f"用户文件 {users_file} 中没有用户 / no users", markup=False)
    for name, role in rows:
        click.echo(f"{name}\t{role}")


# --------------------------------------------------------------------------- report, run


@cli.command()
@params.year
@params.agency
@params.formats
@params.out
@params.workers
@click.option(
    "--published",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="已发布运行的文件或文件夹（默认数据仓库旁的 published/）/ published run file or folder (default: "
    "published/ beside the warehouse)",
)
@click.pass_obj
def report(obj: Ctx, year, agency, formats, out, workers, published):
    """生成评估报告（HTML/PDF/XLSX、离线驾驶舱）/ render the graded reports and offline dashboards of a year."""
    render_year(obj.db, year, agency, formats, out, workers, published, console=console.out, err_console=console.err)


@cli.command("run")
@click.option(
    "--drop",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="要加载的数据包文件夹 / drop folder to load",
)
@params.year
@params.as_of
@params.scheme
@params.formats
@params.out
@params.workers
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("logs/hzeval-run.log"),
    show_default=True,
    help="运行日志文件 / log file",
)
@click.option("--no-wait", is_flag=True, help="锁被另一运行占用时立即退出 / exit at once if another run holds the lock")
@click.option(
    "--notify",
    "notify_after",
    is_flag=True,
    help="评估后发送督办通知（同 hzeval notify）/ send 督办 notices after assessing",
)
@click.option("--official", is_flag=True, help="设为正式结果（默认试算）/ make the run official (default: a trial run)")
@click.pass_obj
def run_cmd(obj: Ctx, drop, year, as_of, scheme, formats, out, workers, log_file, no_wait, notify_after, official):
    """定时任务：加载、评估、生成报告（加锁、幂等）/ scheduled job: load, assess, report."""
    scheduled_run(
        obj.db,
        drop=drop,
        year=year,
        as_of=as_of,
        scheme=scheme,
        formats=formats,
        out=out,
        workers=workers,
        log_file=log_file,
        wait=not no_wait,
        console=console.out,
        err_console=console.err,
        notify=notify_after,
        official=official,
    )


# --------------------------------------------------------------------------- entry point

#: what the OS said, in Chinese and English, for the errors an output most often meets
OS_HINTS = {
    errno.ENOSPC: "磁盘已满 / disk full",
    errno.EACCES: "没有权限 / permission denied",
    errno.EROFS: "只读文件系统 / read-only file system",
    errno.EFBIG: "文件超过大小限制（ulimit -f）/ file too large (file-size limit)",
    errno.EDQUOT: "超出磁盘配额 / disk quota exceeded",
}


def main(argv=None):
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="hzeval", standalone_mode=False)
    except click.exceptions.Abort:
        console.err.print("已中断 | aborted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.exceptions.NoArgsIsHelpError as exc:  # bare "hzeval" / "hzeval runs": the help
        exc.show()
        sys.exit(int(ExitCode.USAGE))
    except click.ClickException as exc:  # click's own errors, in Chinese and English like every other
        console.print_click_error(exc)
        sys.exit(int(ExitCode.USAGE) if isinstance(exc, click.UsageError) else exc.exit_code)
    except HzevalError as exc:
        if debug:
            raise
        console.err.print(f"错误 | error: {exc.message}", markup=False, soft_wrap=True)
        sys.exit(int(exc.exit_code))
    except OSError as exc:  # disk full, permission denied, a path that is not a folder ...
        if debug:
            raise
        target = exc.filename or ""
        hint = OS_HINTS.get(exc.errno, exc.strerror or type(exc).__name__)
        console.err.print(
            f"错误 | error: 无法读写 {target}：{hint} | cannot read or write {target}: {exc.strerror}",
            markup=False,
            soft_wrap=True,
        )
        sys.exit(int(ExitCode.IO))
    except Exception as exc:  # noqa: BLE001 - last line of defence: no bare traceback
        if debug:
            raise
        console.err.print(
            f"内部错误，请加 --debug 重试并报告 | internal error, rerun with --debug and report it: "
            f"{type(exc).__name__}: {exc}",
            markup=False,
            soft_wrap=True,
        )
        sys.exit(int(ExitCode.INTERNAL))


if __name__ == "__main__":  # pragma: no cover
    main()
