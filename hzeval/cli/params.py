"""Every option that more than one command takes, declared once (as dbt's ``cli/params.py``), and
the command group class.

``@params.year`` applies an option as declared; ``@params.year.but(required=False, default=2025)``
applies it with some attributes changed, for the one command that needs them otherwise. Every help
text is Chinese then English ("中文 / English"); ``tests/test_cli.py`` walks every option.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
from pathlib import Path

import click

from hzeval.contract import CODE_PATTERN
from hzeval.errors import UsageError
from hzeval.store.location import db_path

HELP_HELP = "显示本帮助并退出 / show this message and exit"


class Command(click.Command):
    """A click command whose ``--help`` is described in Chinese and English."""

    def get_help_option(self, ctx: click.Context):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = HELP_HELP
        return opt


class Group(click.Group):
    """A click group whose unknown command is a bilingual usage error naming the closest commands
    ("asess" → "assess"); its commands are :class:`Command` and its subgroups of its own class."""

    group_class = type
    command_class = Command

    def get_help_option(self, ctx: click.Context):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = HELP_HELP
        return opt

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            shown = " ".join([*ctx.command_path.split()[1:], click.utils.make_str(name)[:40]])
            zh_hint = f"，是否想用 {'、'.join(close)}？" if close else f"；运行 {ctx.command_path} --help 查看全部命令"
            en_hint = (
                f"; did you mean {', '.join(close)}?" if close else f"; run '{ctx.command_path} --help' for the list"
            )
            raise UsageError(f"没有命令 {shown!r}{zh_hint}", f"no such command {shown!r}{en_hint}")
        return super().resolve_command(ctx, args)


class Option:
    """A click option declared once."""

    def __init__(self, *decls: str, **attrs):
        self.decls = decls
        self.attrs = attrs

    def __call__(self, func):
        return click.option(*self.decls, **self.attrs)(func)

    def but(self, **changes) -> Option:
        """The same option with ``changes`` to its attributes (default, required, help ...)."""
        return Option(*self.decls, **{**self.attrs, **changes})


def _formats(ctx, param, value: str) -> tuple[str, ...]:
    return tuple(f.strip().lower() for f in value.split(",") if f.strip())


def _agency(ctx, param, value: str | None) -> str | None:
    """An agency code as the data writes it: ``hz105`` and `` HZ105 `` are HZ105 (codes are matched
    case-insensitively, as upper case); anything but letters, digits, ``_`` and ``-`` is refused."""
    if value is None:
        return None
    code = value.strip().upper()
    if not re.fullmatch(CODE_PATTERN, code):
        raise UsageError(
            f"机构代码 {value[:40]!r} 无效：只能是 1–32 个字母、数字、_ 或 -（如 HZ105）",
            f"invalid agency code {value[:40]!r}: 1-32 letters, digits, _ or - (e.g. HZ105)",
        )
    return code


def _users_file(ctx, param, value: Path | None) -> Path:
    """``--users`` or ``$HZEVAL_USERS``, else ``users.json`` beside the group's ``--db`` warehouse."""
    return value or db_path(ctx.find_root().params.get("db")).resolve().parent / "users.json"


# --------------------------------------------------------------------------- the group

db = Option(
    "--db",
    envvar="HZEVAL_DB",
    default=None,
    help="数据仓库文件（默认 ./hzeval.duckdb 或 $HZEVAL_DB）/ warehouse file (default ./hzeval.duckdb or $HZEVAL_DB)",
)
debug = Option("--debug", is_flag=True, help="显示调用栈和调试日志（开发用）/ show tracebacks and debug logging")

# --------------------------------------------------------------------------- what to assess, read or show

as_json = Option(
    "--json",
    "as_json",
    is_flag=True,
    help="以 UTF-8 JSON 输出到标准输出，代替表格（供脚本用）/ UTF-8 JSON on stdout instead of the table (for scripts)",
)

year = Option("--year", type=int, required=True, help="评估年度 / assessment year")
as_of = Option(
    "--as-of",
    "as_of",
    default=None,
    help="截至时间（ISO 格式，本地时间），默认现在 / as-of time (ISO, local); default now",
)
agency = Option(
    "--agency",
    default=None,
    callback=_agency,
    help="只看该机构（代码不区分大小写）/ only this agency (code in any case)",
)
scheme = Option(
    "--scheme",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="评分方案文件（默认：该年度随包的方案）/ scheme file (default: the packaged scheme of the year)",
)

# --------------------------------------------------------------------------- reports (report, run)

formats = Option(
    "--format",
    "formats",
    default="html,xlsx,dashboard",
    show_default=True,
    callback=_formats,
    help="输出格式，逗号分隔：html,pdf,xlsx,dashboard（dashboard：离线驾驶舱）/ "
    "formats, comma-separated: html,pdf,xlsx,dashboard (dashboard: the offline leader dashboards)",
)
out = Option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="输出文件夹 / output folder",
)
workers = Option(
    "--workers",
    type=int,
    default=None,
    help="并行渲染的笔记本数（默认每核一个）/ parallel notebooks (default: one per core)",
)

# --------------------------------------------------------------------------- servers and users

address = Option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="监听地址（默认仅本机）/ listen address (default: this machine only)",
)
users = Option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HZEVAL_USERS",
    default=None,
    callback=_users_file,
    help="用户文件（默认数据仓库旁的 users.json，或 $HZEVAL_USERS）/ users file (default users.json beside the "
    "warehouse, or $HZEVAL_USERS)",
)

# --------------------------------------------------------------------------- adjustments

reason = Option("--reason", required=True, help="理由（留痕）/ reason (recorded)")


def _os_user(ctx, param, value: str | None) -> str:
    """``--by``, else the operating-system user running the command."""
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


#: who changes a run's publication (audited): the OS user unless ``--by`` names someone
by = Option(
    "--by",
    "actor",
    default=None,
    callback=_os_user,
    help="操作人（默认当前系统用户）/ who does it (default: the OS user)",
)
json_out = Option(
    "--json",
    "as_json",
    is_flag=True,
    help="以 UTF-8 JSON 输出到标准输出，代替表格 / UTF-8 JSON on stdout instead of a table",
)


def _load_ids(ctx, param, value: str | None) -> tuple[int, ...]:
    """``--load 3,4``: load ids, comma-separated."""
    if not value:
        return ()
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(p.isdigit() and len(p) <= 18 for p in parts):
        raise UsageError(
            f"--load 应为逗号分隔的装载编号（如 3,4），而不是 {value[:40]!r}",
            f"--load takes load ids separated by commas (e.g. 3,4), not {value[:40]!r}",
        )
    return tuple(int(p) for p in parts)


load_ids = Option(
    "--load",
    "load_ids",
    default=None,
    callback=_load_ids,
    help="只看这些装载（编号，逗号分隔；默认每个文件最近一次装载）/ only these loads (ids, comma-separated; "
    "default each file's latest load)",
)
