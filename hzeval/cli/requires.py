"""What a command needs opened, as dbt's ``cli/requires.py`` does (floor 7).

Decorators hand a command the connection it needs as its second argument (after the
:class:`Ctx`), opened before the command and closed after it, whatever happens:

- :func:`writer` — the warehouse opened for writing (``read_only_if``: read-only when that option is
  set, as ``notify --dry-run``). Opening it for writing first publishes a run a killed writer
  committed but left unpublished (:func:`hzeval.store.published.recover`, run by
  :func:`hzeval.store.warehouse.connect` for every writer);
- :func:`live_reader` — the warehouse itself, read-only (``adjust list``);
- :func:`reader` — a read-only connection for the readers (``supervise``, ``gate``, ``explain``):
  the warehouse, or the published run while a writer holds it (:func:`reading`).

:func:`open_warehouse` and :func:`reading` are the context managers behind them, for a command that
must close one connection before doing more (``demo`` loads, then assesses) or that does more once
it has what it read (``supervise`` writes its files).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator

import click
import duckdb

from hzeval.cli.console import err as err_console
from hzeval.errors import WarehouseBusy
from hzeval.store.calendar import MACROS
from hzeval.store.published import published_dir, resolve_run
from hzeval.store.warehouse import connect


class Ctx:
    """``ctx.obj`` of every command: the group's ``--db`` and ``--debug``."""

    def __init__(self, db: str | None, debug: bool):
        self.db = db
        self.debug = debug


@contextlib.contextmanager
def open_warehouse(db, create: bool = False, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for writing (``create``: made when missing), with publish recovery; or, with
    ``read_only``, an existing warehouse read-only."""
    with connect(db, read_only=read_only, create=create) as con:
        yield con


@contextlib.contextmanager
def reading(db, year: int | None = None, run_id: str | None = None):
    """A read-only connection for the CLI readers (``supervise``, ``explain``, ``gate``).

    The warehouse itself when it is free. While a writer holds it (``load``, ``assess``, ``run``),
    the published run ``run_id`` or the newest (of ``year``, else of the latest year) instead, with a message on
    stderr saying so; with nothing published yet, wait for the writer (polling, up to
    ``$HZEVAL_WAIT_SECONDS``, default 600 s), saying so once."""
    deadline = None
    stack = contextlib.ExitStack()
    pub = None
    while True:
        try:
            con = stack.enter_context(connect(db, read_only=True))
            break
        except WarehouseBusy:
            pub = resolve_run(published_dir(db), year=year, run_id=run_id)
            if pub is not None:
                break
            limit = float(os.environ.get("HZEVAL_WAIT_SECONDS", "600"))
            if deadline is None:
                deadline = time.monotonic() + limit
                err_console.print(
                    f"数据仓库正被写入且尚无已发布的运行，等待写入结束（至多 {limit:.0f} 秒）… | "
                    f"the warehouse is being written and nothing is published yet: waiting",
                    markup=False,
                )
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    if pub is not None:
        err_console.print(
            f"数据仓库正被写入，改读已发布的运行 {pub.stem}（该运行时的数据）| the warehouse is being written: "
            f"reading the published run {pub.stem} (data as of that run)",
            markup=False,
            soft_wrap=True,
        )
        con = duckdb.connect(str(pub), read_only=True)
        stack.callback(con.close)
        con.execute(MACROS.replace("create or replace macro", "create or replace temp macro"))
    with stack:
        yield con


def _with(opening):
    """A decorator: ``opening(obj, kwargs)`` is entered around the command, which gets what it yields
    as its second argument."""

    def decorator(func):
        @click.pass_obj
        @functools.wraps(func)
        def wrapper(obj: Ctx, *args, **kwargs):
            with opening(obj, kwargs) as con:
                return func(obj, con, *args, **kwargs)

        return wrapper

    return decorator


def writer(create: bool = False, read_only_if: str | None = None):
    """The command gets the warehouse opened for writing (:func:`open_warehouse`; ``create``: made when
    missing), or read-only when its option ``read_only_if`` (e.g. ``"dry_run"``) is set."""
    return _with(
        lambda obj, kw: open_warehouse(obj.db, create=create, read_only=bool(read_only_if and kw[read_only_if]))
    )


def live_reader(func):
    """The command gets the warehouse itself, read-only (no published copy instead)."""
    return _with(lambda obj, kw: open_warehouse(obj.db, read_only=True))(func)


def reader(func):
    """The command gets a read-only connection: the warehouse, or the published run while a writer
    holds it (:func:`reading`)."""
    return _with(lambda obj, kw: reading(obj.db))(func)
