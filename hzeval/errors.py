"""One exception hierarchy and the one table of exit statuses (DESIGN §8).

Every user-facing failure is an ``HzevalError``. Each error carries a Chinese and an English
sentence plus its context (file, table, line, column ...). The CLI prints ``str(error)`` — one
line, Chinese then English — and exits with the error's ``exit_code``, taken from
:class:`ExitCode`; it never shows a traceback for these. ``ExitCode`` is printed in the README
(section "Exit status"; ``tests/test_docs.py`` checks the two agree).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit statuses of ``hzeval`` (DESIGN §8)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    BAD_INPUT = 3
    BAD_CONFIG = 4
    REFUSED = 5
    DELIVERY = 6
    IO = 74
    BUSY = 75
    INTERRUPTED = 130


#: what each status means (Chinese, English), for the README's table
EXIT_MEANING = {
    ExitCode.OK: (
        "成功（装载时坏行进入 rejects 也算成功）",
        "success (a load whose bad rows went to rejects succeeded)",
    ),
    ExitCode.INTERNAL: (
        "内部错误（请加 --debug 重试并报告），或尚未归类的错误",
        "internal error (rerun with --debug and report it), or an error not yet given a class",
    ),
    ExitCode.USAGE: (
        "用法错误：未知命令或选项、缺少参数、不能同时使用的选项",
        "usage (click): unknown command or option, missing argument, options that do not go together",
    ),
    ExitCode.BAD_INPUT: (
        "输入文件无法装载（无法读取、未知的表、缺列），或数据中的值会指向输出文件夹之外",
        "bad input file (unreadable, unknown table, missing column), or a value from data that "
        "would leave its output folder",
    ),
    ExitCode.BAD_CONFIG: (
        "配置错误：评分方案、规则配置、指标声明、邮件设置、用户文件、Spark 引擎",
        "bad configuration: scheme, rule profile, metric declaration, mail settings, users file, Spark engine",
    ),
    ExitCode.REFUSED: (
        "请求被拒绝：年度（含工作日历未覆盖的年份）、--as-of 时间、运行或调整的状态、数据仓库不存在",
        "refused request: year (also one the calendar does not cover), --as-of time, run or "
        "adjustment state, no warehouse",
    ),
    ExitCode.DELIVERY: ("督办通知有发送失败或等待重试", "delivery failures (notify)"),
    ExitCode.IO: (
        "输出文件无法写出：磁盘已满、没有权限、只读文件系统、文件大小限制",
        "an output file could not be written: disk full, permission denied, read-only file system, file-size limit",
    ),
    ExitCode.BUSY: (
        "数据仓库或定时任务的锁正被另一进程占用，请稍后重试",
        "the warehouse or the scheduled run's lock is held by another process: try again later",
    ),
    ExitCode.INTERRUPTED: ("已中断（Ctrl-C）", "interrupted (Ctrl-C)"),
}


def exit_status_table() -> str:
    """The README's "Exit status" table (Markdown), one row per :class:`ExitCode`."""
    rows = ["| status | name | 含义 | meaning |", "|---:|---|---|---|"]
    rows += [f"| {code.value} | `{code.name}` | {zh} | {en} |" for code in ExitCode for zh, en in [EXIT_MEANING[code]]]
    return "\n".join(rows)


#: at most this many characters of anything taken from an input file appear in a message
ECHO_LIMIT = 200


def clip(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` shortened to ``limit`` characters (with ``…``) and on one line, for echoing input
    (headers, values, a refused file's content) in errors and the ``rejects`` table."""
    s = " ".join(str(text).split()) if any(ch in str(text) for ch in "\r\n") else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


class HzevalError(Exception):
    """Base class: ``zh`` and ``en`` messages and a context dict. Raised as is, it exits
    ``INTERNAL``: a failure that has a message but not yet a class of its own."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, zh: str, en: str, **context):
        self.zh = zh
        self.en = en
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.zh} | {self.en}"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


# --------------------------------------------------------------------------- 2 usage


class UsageError(HzevalError):
    """Options that do not go together (what click itself cannot check)."""

    exit_code = ExitCode.USAGE


# --------------------------------------------------------------------------- 3 bad input


class InputFileError(HzevalError):
    """A file cannot be loaded at all (unreadable, unknown table, missing column)."""

    exit_code = ExitCode.BAD_INPUT


class ValidationFindings(HzevalError):
    """``validate --strict`` found unresolved codes or gaps in the loaded data."""

    exit_code = ExitCode.BAD_INPUT


class UnsafePathError(HzevalError):
    """A path built from data would leave its output folder (``hzeval.util.paths.inside``)."""

    exit_code = ExitCode.BAD_INPUT


# --------------------------------------------------------------------------- 4 bad configuration


class ConfigError(HzevalError):
    """Bad configuration: settings from the environment (mail server, limits), the users file ...;
    the base of the scheme, rule-profile, declaration and Spark-engine errors."""

    exit_code = ExitCode.BAD_CONFIG


class SchemeError(ConfigError):
    """A scoring scheme file is invalid."""


class RuleError(ConfigError):
    """A rule profile, or a scheme's list of profiles, is invalid."""


class DeclarationError(ConfigError):
    """A metric SQL file's declarations are invalid."""


class SparkEngineError(ConfigError):
    """The Spark engine cannot run (missing pyspark/Java, a lake table, a transpile gap)."""


# --------------------------------------------------------------------------- 5 refused request


class RefusedError(HzevalError):
    """A request that cannot be served as asked: the year, the ``--as-of`` time, a run's or an
    adjustment's state, an unknown project."""

    exit_code = ExitCode.REFUSED


class CalendarError(RefusedError):
    """A date falls in a year the working-day calendar does not cover."""

    def __init__(self, year: int, purpose: str | None = None):
        self.year = year
        what = f"（{purpose}）" if purpose else ""
        super().__init__(
            f"工作日历不含 {year} 年{what}：请在 calendar_overrides 表（工作日调整）中录入 {year} 年"
            f"国务院办公厅公布的放假和调休日期后重新加载",
            f"the working-day calendar does not cover {year}"
            f"{' (' + purpose + ')' if purpose else ''}: load a calendar_overrides file with "
            f"{year}'s holidays and make-up working days from the State Council notice",
            year=year,
        )


class WarehouseError(RefusedError):
    """The warehouse is missing, locked or lacks what a command needs."""


class RunNotFoundError(WarehouseError):
    """No finished assessment run matches the request."""


class RunStateError(RefusedError):
    """A run's publication cannot change as asked (DESIGN §7a): an unknown or unfinished run, a run
    already official or withdrawn, a reason or name that is empty or too long."""


class AssessRefused(RefusedError):
    """``assess`` refused (DESIGN §7a): a year without a scheme of its own (no ``--scheme``), a year in
    which no loaded table has an event, an as-of before the year begins or later than now."""


class AdjustmentError(RefusedError):
    """An adjustment request is invalid (unknown metric or record, a value that does not parse,
    an adjustment already approved or revoked, an approver who proposed it)."""


# --------------------------------------------------------------------------- 6 delivery


class NotifyError(HzevalError):
    """Some notices were not delivered (failed now, or waiting for their retry time)."""

    exit_code = ExitCode.DELIVERY


# --------------------------------------------------------------------------- 74 output


class OutputError(HzevalError):
    """An output file could not be written (the OS refused: disk full, permission, not a folder ...)."""

    exit_code = ExitCode.IO


# --------------------------------------------------------------------------- 75 busy


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse open for writing (DuckDB allows one writer)."""

    exit_code = ExitCode.BUSY


class LockBusy(HzevalError):
    """Another ``hzeval run`` holds the run lock (``--no-wait``)."""

    exit_code = ExitCode.BUSY
