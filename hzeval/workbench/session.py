"""The notebook API: what a staff notebook opens (DESIGN §2).

Notebooks never open the live warehouse: a scheduled ``hzeval run`` must be able to load,
assess and publish while a notebook sits open for hours. They read the *published* copy of a
finished run (``published/<run_id>.duckdb``, see :mod:`hzeval.store.published`), read-only:

    from hzeval import workbench
    run = workbench.open_run(2025)      # the newest published 2025 run: grades, scores, evidence …
    inputs = workbench.open_inputs()    # the input tables published with the newest run

Which run: :func:`hzeval.store.published.resolve_run`, the one resolver (the folder found with
``search``, as notebooks have no ``--db``).

Interface note: the read layer is :class:`hzeval.runs.RunReader` (``hzeval.reports.data.Run`` is
the same class: ``path``, ``con``, ``run_id``, ``year``, ``as_of``, ``finished_at``,
``provenance()``, ``close()``, and grades, scores with points lost, evidence …) — the same object
the reports, workbook, dashboard and ``explain`` read.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from hzeval import runs
from hzeval.contract import TABLES
from hzeval.errors import ConfigError, RunNotFoundError
from hzeval.store.published import LOAD_TABLES
from hzeval.store.published import published_folder as find_folder
from hzeval.util.frame import frame
from hzeval.util.notebooks import Job
from hzeval.util.secret import weak_secret


def published_folder(published: str | os.PathLike | None = None) -> Path:
    """Where the published runs are: ``published``, else ``$HZEVAL_PUBLISHED``, else ``published/``
    beside ``$HZEVAL_DB``, else a ``published/`` folder in the working folder or one of its parents
    (notebooks run from ``notebooks/``, the warehouse lives one level up):
    :func:`hzeval.store.published.published_folder` with ``search``."""
    return find_folder(published, search=True)


def open_run(year: int | None = None, published: str | os.PathLike | None = None) -> runs.RunReader:
    """The newest published run of ``year`` (any year when None), open read-only."""
    return runs.open_run(published_folder(published), year)


def open_previous(run: runs.RunReader) -> runs.RunReader | None:
    """The newest published run of the year before ``run``'s, from the same folder, or None."""
    assert run.path is not None, "open_run() reads a published run file"
    try:
        return runs.open_run(run.path.parent, run.year - 1)
    except RunNotFoundError:
        return None


@dataclass
class Inputs:
    """A read-only view of the input tables as published with one finished run.

    The published copy holds every input table except ``api_calls`` (the large log), and of
    ``aggregation_log`` only each resource's first successful job; plus ``loads`` and ``rejects``.
    """

    path: Path
    con: duckdb.DuckDBPyConnection
    run_id: str
    finished_at: dt.datetime
    tables: tuple[str, ...] = field(default=())

    def frame(self, sql: str, params: dict | None = None) -> pl.DataFrame:
        return frame(self.con, sql, params)

    def has(self, table: str) -> bool:
        return table in self.tables

    def note(self) -> str:
        """Which copy the numbers come from (shown above every notebook)."""
        return f"数据来源：已发布的评估运行 {self.run_id}（完成于 {self.finished_at:%Y-%m-%d %H:%M}），只读副本"

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_inputs(year: int | None = None, published: str | os.PathLike | None = None) -> Inputs:
    """The input tables published with the newest run (of ``year``), open read-only."""
    path = runs.find_published(published_folder(published), year)
    con = runs.connect_published(path)  # as the run readers' (a notebook holds both on one file)
    try:
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        run_id, finished = con.execute("select run_id, finished_at from runs limit 1").fetchall()[0]
    except Exception:
        con.close()
        raise
    tables = tuple(t for t in (*TABLES, *LOAD_TABLES) if t in present)
    return Inputs(path, con, run_id, finished, tables)


# --------------------------------------------------------------------------- JupyterLab


def lab_kernel_env() -> Path:
    """A ``python3`` kernelspec running this very interpreter, first on ``JUPYTER_PATH``: the staff
    notebooks name ``python3`` and must get the hzeval environment, whatever other Python kernels
    the user has installed."""
    import hashlib
    import json
    import sys
    import tempfile

    root = (
        Path(tempfile.gettempdir())
        / f"hzeval-lab-{os.getuid()}-{hashlib.sha1(sys.executable.encode()).hexdigest()[:8]}"
    )
    spec = root / "kernels" / "python3" / "kernel.json"
    body = json.dumps(
        {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (hzeval)",
            "language": "python",
            "metadata": {"debugger": True},
        }
    )
    if not spec.exists() or spec.read_text(encoding="utf-8") != body:
        spec.parent.mkdir(parents=True, exist_ok=True)
        tmp = spec.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, spec)
    return root


#: the variable a person sets to choose the lab's token (else one is generated)
LAB_TOKEN_ENV = "HZEVAL_LAB_TOKEN"


def lab_token(env=None) -> str:
    """The lab's token: ``HZEVAL_LAB_TOKEN`` when set (at least 32 characters, not a placeholder:
    :func:`hzeval.util.secret.weak_secret`), else 32 random bytes (64 hex characters)."""
    env = os.environ if env is None else env
    value = env.get(LAB_TOKEN_ENV, "")
    if not value:
        return secrets.token_hex(32)
    weak = weak_secret(value)
    if weak:
        raise ConfigError(f"环境变量 {LAB_TOKEN_ENV} {weak[0]}", f"{LAB_TOKEN_ENV} is {weak[1]}")
    return value


def lab_command(notebooks: Path, port: int, address: str, browser: bool) -> list[str]:
    """The JupyterLab command line: ``notebooks`` as its root, bound to ``address`` (a port that is
    taken is an error, not a silent move to another port). The token is not on it — any local user
    reads a command line (``ps``) — but in the environment (:func:`lab_environment`)."""
    import sys

    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={notebooks}",
        f"--ServerApp.ip={address}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.open_browser={browser}",
        "--MappingKernelManager.default_kernel_name=python3",
        *(["--allow-root"] if running_as_root() else []),
    ]  # containers and CI run as root (hzeval lab warns)


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_environment(published: Path, token: str) -> dict[str, str]:
    """The environment JupyterLab and its kernels get: the published runs' folder, the hzeval
    kernel and the token as ``JUPYTER_TOKEN`` (jupyter_server's ``IdentityProvider.token`` reads
    it; a process's environment is readable by its own user only, unlike its arguments)."""
    env = dict(os.environ)
    env.pop(LAB_TOKEN_ENV, None)
    env.pop("JUPYTER_TOKEN_FILE", None)  # would not be read: JUPYTER_TOKEN wins, but keep one source
    env["JUPYTER_TOKEN"] = token
    env["HZEVAL_PUBLISHED"] = str(Path(published).resolve())
    paths = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_PATH"] = os.pathsep.join([str(lab_kernel_env()), *paths])
    return env


# --------------------------------------------------------------------------- rendered gallery

#: staff notebooks rendered by ``hzeval report`` into ``reports/<year>/notebooks/`` (code hidden):
#: (notebook, title); the evidence explorer needs a person picking items, so it is not rendered
GALLERY = (("drop_check", "{year} 年度数据包检查"), ("year_over_year", "{year} 年与上年评估结果对比"))


def gallery_jobs(run, out_dir: Path, notebooks: Path) -> list:
    """One report job per gallery notebook, reading the same published run as the rest of the render."""
    params = {"published": str(run.path.resolve()), "year": run.year, "interactive": False}
    return [
        Job(
            "notebook",
            str(notebooks / f"{name}.ipynb"),
            str(out_dir / "notebooks" / f"{name}.html"),
            title.format(year=run.year),
            params,
        )
        for name, title in GALLERY
    ]


def gallery_links(year: int) -> list[tuple[str, str]]:
    """(relative path, title) of the gallery pages, for the reports index."""
    return [(f"notebooks/{name}.html", title.format(year=year)) for name, title in GALLERY]
