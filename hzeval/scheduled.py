"""``hzeval run``: the unattended job (cron / systemd timer) — load → assess → report.

- **One at a time**: an exclusive ``fcntl.flock`` on ``<warehouse>.lock``; a second run waits
  (and says so) or, with ``--no-wait``, exits at once with a clear message.
- **Idempotent**: loading the same bytes changes nothing; when nothing new was loaded and a
  finished run with the same year, as-of time, inputs and scheme is already published, that
  run is reused; when ``reports/<year>/manifest.json`` already describes that run with every
  file intact, the reports are left as they are. Otherwise every file is rewritten atomically.
- **Logged**: progress and failures go to a log file (default ``logs/hzeval-run.log``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import json
import logging
import logging.handlers
import os
import time
from pathlib import Path

import hzeval.services as services  # looked up when called: tests put a stand-in for render_year
from hzeval.assessment.assess import inputs_fingerprint, run_assessment
from hzeval.assessment.scheme import scheme_for
from hzeval.cli.console import print_result
from hzeval.errors import HzevalError, LockBusy
from hzeval.ingest import load_paths
from hzeval.notify import publish_notified, raise_for_failures, send_notices, summary_line
from hzeval.store.location import db_path
from hzeval.store.publication import make_official, run_list
from hzeval.store.published import OFFICIAL, published_dir
from hzeval.store.warehouse import connect

log = logging.getLogger("hzeval.run")


@contextlib.contextmanager
def run_lock(db, wait: bool = True, console=None):
    """Hold ``<db>.lock`` exclusively for the duration of the block."""
    path = Path(f"{db_path(db)}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            if not wait:
                raise LockBusy(
                    f"另一个 hzeval run 正在运行（锁文件 {path}，{holder}），本次退出",
                    f"another hzeval run holds {path} ({holder}); exiting (--no-wait)",
                    path=str(path),
                ) from None
            msg = f"等待另一个 hzeval run 结束（锁文件 {path}，{holder}）… / waiting for the lock"
            log.info(msg)
            if console is not None:
                console.print(msg)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {dt.datetime.now():%Y-%m-%d %H:%M:%S}\n")
        fh.flush()
        try:
            yield path
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)


class JsonLines(logging.Formatter):
    """One JSON object a line (DESIGN §10): time, level, logger, message and, for a step of the run,
    ``step``, ``run_id``, ``year``, ``rows``, ``rejected``, ``seconds`` and ``outcome``."""

    FIELDS = ("step", "run_id", "year", "rows", "rejected", "files", "seconds", "outcome")

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": dt.datetime.fromtimestamp(record.created).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update({f: getattr(record, f) for f in self.FIELDS if hasattr(record, f)})
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def _file_logging(log_file: Path) -> logging.Handler:
    """JSON lines appended to ``log_file``; reopened when logrotate moves it (WatchedFileHandler)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
    handler.setFormatter(JsonLines())
    handler.setLevel(logging.INFO)
    root = logging.getLogger("hzeval")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    root.propagate = False  # the log file gets the detail; the terminal gets the summary lines
    return handler


def reusable_run(db, year: int, as_of: dt.datetime, scheme_sha: str, rules_sha: str | None = None) -> str | None:
    """A finished, published run of the same year, as-of time, inputs, scheme and rule profiles, if any."""
    with connect(db, create=False) as con:
        digest, _ = inputs_fingerprint(con)
        rows = con.execute(
            """select run_id from runs where status = 'finished' and year = $y and as_of = $t
               and inputs_sha256 = $i and scheme_sha256 = $s
               and ($rs is null or rules_sha256 = $rs) order by finished_at desc""",
            {"y": year, "t": as_of, "i": digest, "s": scheme_sha, "rs": rules_sha},
        ).fetchall()
    for (run_id,) in rows:
        if (published_dir(db) / f"{run_id}.duckdb").exists():
            return run_id
    return None


def reports_current(out_dir: Path, run_id: str, formats: tuple[str, ...]) -> bool:
    """True when ``out_dir/manifest.json`` is for ``run_id``, had no failures, and every file it
    lists is present with its recorded hash (and the requested formats are there)."""
    from hzeval.util.paths import sha256_file

    path = out_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("run_id") != run_id or manifest.get("failures"):
        return False
    names = [f["path"] for f in manifest.get("files", [])]
    if "pdf" in formats and not any(n.endswith(".pdf") for n in names):
        return False
    if "xlsx" in formats and "workbook.xlsx" not in names:
        return False
    if "dashboard" in formats and "dashboard.html" not in names:
        return False
    return all(
        (out_dir / f["path"]).exists() and sha256_file(out_dir / f["path"]) == f["sha256"]
        for f in manifest.get("files", [])
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _official_step(db, run_id: str, console) -> None:
    """``--official``: the run (new or reused) becomes 正式, recorded as done by the scheduled job."""
    with connect(db, create=False) as con:
        if any(r["run_id"] == run_id and r["publication"] == OFFICIAL for r in run_list(con, db=db)):
            return
        make_official(con, run_id, f"hzeval run ({_os_user()})", "定时任务 --official", db=db)
    log.info("official: run %s made official", run_id)
    console.print(f"正式 / official: 运行 {run_id} 已设为正式结果")


def _notify_step(db, as_of: dt.datetime, console, scheme=None) -> None:
    """``--notify``: the 督办 notices as of the run's time, after assessing; failed deliveries are
    recorded (retried next run) and make the run end non-zero."""
    with connect(db, create=False) as con:
        result = send_notices(con, as_of, scheme=scheme)
        publish_notified(con, db)
    log.info("notify: %s", summary_line(result))
    print_result(result, console)
    raise_for_failures(result)


def scheduled_run(
    db,
    drop: Path,
    year: int,
    as_of,
    scheme,
    formats,
    out: Path,
    workers,
    log_file: Path,
    wait: bool,
    console,
    err_console=None,
    notify: bool = False,
    official: bool = False,
) -> None:
    handler = _file_logging(Path(log_file))
    t0 = time.perf_counter()
    try:
        with run_lock(db, wait=wait, console=console):
            t = services.parse_as_of(as_of)
            log.info(
                "run start: drop=%s year=%s as_of=%s db=%s",
                drop,
                year,
                t,
                db_path(db),
                extra={"step": "start", "year": year},
            )
            t_step = time.perf_counter()
            with connect(db) as con:
                loaded = load_paths(con, [drop], progress=None)
            new_files = [f for f in loaded.files if f.status == "loaded"]
            log.info(
                "load: %d files, %d new, %d rows loaded, %d rejected",
                len(loaded.files),
                len(new_files),
                loaded.rows_loaded,
                loaded.rows_rejected,
                extra={
                    "step": "load",
                    "year": year,
                    "files": len(new_files),
                    "rows": loaded.rows_loaded,
                    "rejected": loaded.rows_rejected,
                    "seconds": round(time.perf_counter() - t_step, 3),
                },
            )
            t_step = time.perf_counter()
            console.print(
                f"加载 / load: {len(new_files)} 个新文件，{loaded.rows_loaded} 行，拒收 {loaded.rows_rejected} 行"
            )
            sch = scheme_for(year, scheme)
            run_id = None if new_files else reusable_run(db, year, t, sch.sha256, sch.ruleset.sha256)
            if run_id:
                log.info(
                    "assess: inputs, scheme and as-of unchanged, reusing run %s",
                    run_id,
                    extra={"step": "assess", "year": year, "run_id": run_id, "outcome": "reused"},
                )
                console.print(f"评估 / assess: 输入未变，沿用运行 {run_id}")
            else:
                run_id = run_assessment(db, year=year, as_of=t, scheme_path=scheme)
                log.info(
                    "assess: run %s published",
                    run_id,
                    extra={
                        "step": "assess",
                        "year": year,
                        "run_id": run_id,
                        "outcome": "published",
                        "seconds": round(time.perf_counter() - t_step, 3),
                    },
                )
                console.print(f"评估 / assess: 运行 {run_id} 已发布")
            if official:
                _official_step(db, run_id, console)
            t_step = time.perf_counter()
            out_dir = Path(out) / str(year)
            if reports_current(out_dir, run_id, formats):
                log.info(
                    "report: %s already current for run %s",
                    out_dir,
                    run_id,
                    extra={"step": "report", "year": year, "run_id": run_id, "outcome": "current"},
                )
                console.print(f"报告 / reports: {out_dir} 已是最新（运行 {run_id}）")
            else:
                result = services.render_year(
                    db,
                    year,
                    None,
                    formats,
                    out,
                    workers,
                    published_dir(db) / f"{run_id}.duckdb",
                    console=console,
                    err_console=err_console,
                )
                log.info(
                    "report: %d reports written to %s",
                    len(result.results),
                    result.out_dir,
                    extra={
                        "step": "report",
                        "year": year,
                        "run_id": run_id,
                        "files": len(result.results),
                        "outcome": "written",
                        "seconds": round(time.perf_counter() - t_step, 3),
                    },
                )
            if notify:
                _notify_step(db, t, console, sch)
            seconds = round(time.perf_counter() - t0, 3)
            log.info(
                "run done in %.1f s",
                seconds,
                extra={"step": "done", "year": year, "run_id": run_id, "seconds": seconds, "outcome": "ok"},
            )
    except HzevalError as exc:
        log.error(
            "run failed: %s",
            exc.message,
            extra={"step": "failed", "year": year, "outcome": "failed", "seconds": round(time.perf_counter() - t0, 3)},
        )
        raise
    except Exception:
        log.exception("run failed")
        raise
    finally:
        logging.getLogger("hzeval").removeHandler(handler)
        logging.getLogger("hzeval").propagate = True
        handler.close()
