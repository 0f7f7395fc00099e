"""Every option that more than one command takes, declared once (as dbt's ``cli/params.py``).

``@params.year`` applies an option as declared; ``@params.year.but(required=False, default=2025)``
applies it with some attributes changed, for the one command that needs them otherwise.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from hzeval.store.location import db_path


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


def _users_file(ctx, param, value: Path | None) -> Path:
    """``--users`` or ``$HZEVAL_USERS``, else ``users.json`` beside the group's ``--db`` warehouse."""
    return value or db_path(ctx.find_root().params.get("db")).resolve().parent / "users.json"


# --------------------------------------------------------------------------- the group

db = Option("--db", envvar="HZEVAL_DB", default=None, help="warehouse file (default ./hzeval.duckdb or $HZEVAL_DB)")
debug = Option("--debug", is_flag=True, help="show tracebacks and debug logging")

# --------------------------------------------------------------------------- what to assess, read or show

as_json = Option("--json", "as_json", is_flag=True, help="UTF-8 JSON on stdout instead of the table (for scripts)")

year = Option("--year", type=int, required=True, help="assessment year")
as_of = Option("--as-of", "as_of", default=None, help="as-of time (ISO, local); default now")
agency = Option("--agency", default=None, help="only this agency")
scheme = Option(
    "--scheme",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="scheme file (default: the packaged scheme of the year)",
)

# --------------------------------------------------------------------------- reports (report, run)

formats = Option(
    "--format",
    "formats",
    default="html,xlsx,dashboard",
    show_default=True,
    callback=_formats,
    help="html,pdf,xlsx,dashboard (dashboard: the offline leader dashboards)",
)
out = Option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
workers = Option("--workers", type=int, default=None, help="parallel notebooks (default: one per core)")

# --------------------------------------------------------------------------- servers and users

address = Option(
    "--address", default="127.0.0.1", show_default=True, help="listen address (default: this machine only)"
)
users = Option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HZEVAL_USERS",
    default=None,
    callback=_users_file,
    help="users file (default users.json beside the warehouse, or $HZEVAL_USERS)",
)

# --------------------------------------------------------------------------- adjustments

reason = Option("--reason", required=True)


def _os_user(ctx, param, value: str | None) -> str:
    """``--by``, else the operating-system user running the command."""
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


#: who changes a run's publication (audited): the OS user unless ``--by`` names someone
by = Option("--by", "actor", default=None, callback=_os_user, help="who does it (default: the OS user)")
json_out = Option("--json", "as_json", is_flag=True, help="UTF-8 JSON on stdout instead of a table")
