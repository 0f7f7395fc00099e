"""One exception hierarchy. Every user-facing failure is an ``HzevalError``.

Each error carries a Chinese and an English sentence plus its context (file, table,
line, column ...). The CLI prints ``str(error)`` — one line, Chinese then English —
and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class HzevalError(Exception):
    """Base class: ``zh`` and ``en`` messages and a context dict."""

    exit_code = 1

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


class InputFileError(HzevalError):
    """A file cannot be loaded at all (unreadable, unknown table, missing column)."""

    exit_code = 2


class CalendarError(HzevalError):
    """A date falls in a year the working-day calendar does not cover."""

    exit_code = 3

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


class SchemeError(HzevalError):
    """A scoring scheme file is invalid."""

    exit_code = 4


class WarehouseError(HzevalError):
    """The warehouse is missing, locked or lacks what a command needs."""

    exit_code = 5


class RunNotFoundError(WarehouseError):
    """No finished assessment run matches the request."""


#: at most this many characters of anything taken from an input file appear in a message
ECHO_LIMIT = 200


def clip(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` shortened to ``limit`` characters (with ``…``) and on one line, for echoing input
    (headers, values, a refused file's content) in errors and the ``rejects`` table."""
    s = " ".join(str(text).split()) if any(ch in str(text) for ch in "\r\n") else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse open for writing (DuckDB allows one writer)."""

    exit_code = 75  # EX_TEMPFAIL: try again later
