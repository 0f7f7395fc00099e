"""``hzeval report``: execute the template notebooks with papermill and write ``reports/<year>/``.

One job per report (each graded agency, the bulletin, the gate report). Jobs run in a
process pool (one worker per core by default); each worker keeps one warm kernel with hzeval
imported (:mod:`hzeval.reports.kernel`, issue 29) and executes report after report in it with
papermill, its namespace reset between them, converts each with nbconvert (no code cells, no prompts, no
markdown) and wraps the body in the official page template. Every file is written to a
temporary name and then ``os.replace``d: a failed job leaves the previous file untouched,
is reported with the failing cell's error, and does not stop the others.

Reports read the *published* run file, passed to every notebook as a parameter so that all
of a render reads the same run even if a new one is published meanwhile.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hzeval import __version__
from hzeval import pages as h
from hzeval.reports import data
from hzeval.reports.kernel import ENGINE, WARM_KINDS, WarmKernel, register_engine
from hzeval.reports.pdf import print_pdf
from hzeval.util.notebooks import KERNEL, Job, notebooks_dir
from hzeval.util.paths import inside, sha256_file, write_atomic

log = logging.getLogger(__name__)

#: html: the reports; pdf: each also printed; xlsx: the workbook; dashboard: the offline leader
#: dashboards (``dashboard.html`` and ``dashboards/<code>.html``, issue 17)
FORMATS = ("html", "pdf", "xlsx", "dashboard")


@dataclass
class JobResult:
    job: Job
    ok: bool
    error: str | None = None
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RenderResult:
    out_dir: Path
    run_id: str
    results: list[JobResult]
    files: list[Path]
    manifest: Path | None

    @property
    def failures(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]


# --------------------------------------------------------------------------- helpers


def kernel_env() -> Path:
    """A private kernelspec running this very interpreter, first on ``JUPYTER_PATH``, so report
    kernels never pick up another Python's ``python3`` kernel."""
    root = (
        Path(tempfile.gettempdir())
        / f"hzeval-kernels-{os.getuid()}-{hashlib.sha1(sys.executable.encode()).hexdigest()[:8]}"
    )
    spec = root / "kernels" / KERNEL / "kernel.json"
    body = json.dumps(
        {
            "argv": [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                "--HistoryManager.enabled=False",
            ],
            "display_name": "Python 3 (hzeval)",
            "language": "python",
            "metadata": {"debugger": False},
        }
    )
    if not spec.exists() or spec.read_text() != body:
        write_atomic(spec, body)
    paths = os.environ.get("JUPYTER_PATH", "").split(os.pathsep)
    if str(root) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(root), *[p for p in paths if p]])
    return root


def cell_error(exc) -> str:
    """One line naming the failing cell and its error (papermill's execution error)."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        idx = getattr(exc, "exec_count", None)
        return f"单元格 [{idx}] {ename}: {evalue}".strip()
    return f"{type(exc).__name__}: {exc}"


def notebook_to_html(nb, title: str) -> str:
    """nbconvert the executed notebook (outputs only) and wrap it in the page template."""
    from nbconvert import HTMLExporter

    for cell in nb.cells:  # warnings on stderr are for the log, not for the reader
        if cell.get("cell_type") == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_markdown=True,
        exclude_raw=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return h.page(title, body, footer=f"{h.AUTHORITY} · 由 hzeval {__version__} 生成", version=__version__)


# --------------------------------------------------------------------------- worker

#: one temp folder per render, ``hzeval-report-<pid>-*``: every worker's temp files (Chromium
#: profiles, kernel files) live under it, so one ``rmtree`` cleans a render however it ended
TEMP_PREFIX = "hzeval-report-"


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_descendants() -> None:
    """Kill this process's children and theirs (kernels run in sessions of their own, so a process
    group would miss them)."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass


def _watch_main(main_pid: int, tmp: str) -> None:
    """Worker thread: when the ``report`` process is gone (killed, even by SIGKILL), kill this worker's
    kernel and Chromium, remove the render's temp folder and exit; the forkserver then exits too
    (it lives only while its children do)."""
    while _alive(main_pid):
        time.sleep(0.5)
    _kill_descendants()
    shutil.rmtree(tmp, ignore_errors=True)
    os._exit(1)


def sweep_stale_tempdirs(root: str | os.PathLike | None = None) -> list[Path]:
    """Remove ``hzeval-report-<pid>-*`` folders of renders whose process is gone."""
    removed = []
    for d in Path(root or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        pid = d.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if d.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _worker_init(main_pid: int | None = None, tmp: str | None = None) -> None:
    """Pool worker: kernels inherit this process's stderr, where ipykernel chats; send it to
    the void (errors come back through papermill). One thread per kernel: the pool already
    runs one job per core. Temp files go under the render's folder ``tmp``; a watcher thread
    cleans up if the ``report`` process dies."""
    if tmp is not None:
        tempfile.tempdir = tmp
        os.environ["TMPDIR"] = tmp
        os.environ["JUPYTER_RUNTIME_DIR"] = tmp  # kernel connection files, too
    if main_pid is not None:
        threading.Thread(
            target=_watch_main, args=(main_pid, tmp or tempfile.gettempdir()), daemon=True, name="hzeval-watch-main"
        ).start()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    os.environ.setdefault("HZEVAL_READER_THREADS", "1")
    logging.getLogger("papermill").setLevel(logging.ERROR)
    import multiprocessing.util

    import papermill  # noqa: F401 - import once per worker, not per job

    multiprocessing.util.Finalize(None, close_warm_kernel, exitpriority=10)  # the kernel goes with its worker


#: this worker's warm kernel (issue 29 item 1), started by its first report job
_WARM: WarmKernel | None = None


def warm_kernel() -> WarmKernel:
    """This process's warm kernel, started (and papermill's engine registered) on first use."""
    global _WARM
    if _WARM is None:
        register_engine()
        kernel = WarmKernel()
        kernel.start()
        _WARM = kernel
    return _WARM


def close_warm_kernel() -> None:
    global _WARM
    if _WARM is not None:
        _WARM.shutdown()
        _WARM = None


def execute_job(job: Job, warm: bool = True) -> JobResult:
    """Run one notebook and write its HTML (and PDF) atomically. Runs in a pool worker.

    A report (:data:`WARM_KINDS`) runs in the worker's warm kernel, reset first (a fresh namespace in
    the job's folder); a failed notebook restarts that kernel. ``warm=False``, and every other kind,
    start a kernel for the job alone."""
    import papermill as pm

    t0 = time.perf_counter()
    started_wall = time.time()
    timings: dict[str, float] = {}
    cwd = str(Path(job.html).parent)
    engine: dict = {}
    kernel = None
    try:
        if warm and job.kind in WARM_KINDS:
            kernel = warm_kernel()
            kernel.reset(str(Path(cwd).resolve()))
            engine = {"engine_name": ENGINE, "warm": kernel}
            timings["reset"] = time.perf_counter() - t0
        nb = pm.execute_notebook(
            job.notebook,
            None,
            parameters=job.parameters,
            kernel_name=KERNEL,
            progress_bar=False,
            log_output=False,
            report_mode=True,
            cwd=cwd,
            **engine,
        )
    except Exception as exc:  # noqa: BLE001 - reported per job; the others go on
        if kernel is not None:  # the next job gets a clean kernel, whatever this notebook left
            _restart_quietly(kernel)
        return JobResult(job, False, cell_error(exc), timings={"execute": time.perf_counter() - t0})
    t1 = time.perf_counter()
    meta = nb.metadata.get("papermill", {})
    try:
        started = dt.datetime.fromisoformat(meta["start_time"])
        first = min(
            dt.datetime.fromisoformat(c.metadata.papermill["start_time"])
            for c in nb.cells
            if c.metadata.get("papermill", {}).get("start_time")
        )
        timings["kernel_start"] = max((first - started).total_seconds(), 0.0)
    except (KeyError, ValueError, TypeError):
        timings["kernel_start"] = 0.0
    timings["execute"] = t1 - t0 - timings["kernel_start"] - timings.get("reset", 0.0)
    files: list[str] = []
    try:
        if job.writes_itself:  # written by this run, not left from an earlier one
            if not Path(job.html).is_file() or Path(job.html).stat().st_mtime < started_wall - 1:
                return JobResult(
                    job, False, f"笔记本未写出 {job.html} | the notebook did not write its file", files, timings
                )
        else:
            write_atomic(Path(job.html), notebook_to_html(nb, job.title))
        files.append(job.html)
        t2 = time.perf_counter()
        timings["convert"] = t2 - t1
        if job.pdf:
            pdf = Path(job.html).with_suffix(".pdf")
            print_pdf(Path(job.html), pdf)
            files.append(str(pdf))
            timings["pdf"] = time.perf_counter() - t2
    except OSError as exc:  # disk full, file-size limit ...: the file and the cause, in words
        hint = (OS_HINTS.get(exc.errno) if exc.errno is not None else None) or exc.strerror or type(exc).__name__
        return JobResult(job, False, f"无法写入 {exc.filename or job.html}：{hint} | {exc.strerror}", files, timings)
    except Exception as exc:  # noqa: BLE001
        return JobResult(job, False, f"{type(exc).__name__}: {exc}", files, timings)
    return JobResult(job, True, None, files, timings)


def _restart_quietly(kernel: WarmKernel) -> None:
    """Restart a warm kernel after a failed notebook; when even that fails, the next job starts one."""
    global _WARM
    try:
        kernel.restart()
    except Exception:  # noqa: BLE001 - the failed job is already reported; the next one retries
        kernel.shutdown()
        if _WARM is kernel:
            _WARM = None


# --------------------------------------------------------------------------- planning


def plan_jobs(
    run: data.Run,
    out_dir: Path,
    agency: str | None = None,
    pdf: bool = False,
    kinds: tuple[str, ...] = ("agency", "bulletin", "gates"),
    only=None,
) -> list[Job]:
    """The jobs of a render: every graded agency (or ``agency`` alone, then nothing else; or the
    agencies in ``only`` alongside the bulletin and gate report), the bulletin, the gate report."""
    nbdir = notebooks_dir()
    assert run.path is not None, "reports read a published run file"
    common = {"published": str(run.path.resolve()), "year": run.year, "plotly_js": h.PLOTLY_JS}
    jobs = []
    agencies = data.graded_agencies(run)
    if agency:
        data.agency_header(run, agency)  # clear error for an agency that is not graded
        agencies = agencies.filter(agencies["agency_code"] == agency)
    elif only is not None:
        agencies = agencies.filter(agencies["agency_code"].is_in(list(only)))
    if "agency" in kinds:
        for code, name in agencies.select("agency_code", "agency_name").iter_rows():
            jobs.append(
                Job(
                    "agency",
                    str(nbdir / "agency_report.ipynb"),
                    str(inside(out_dir, "agencies", f"{code}.html")),
                    f"{name} {run.year} 年度公共数据管理评估报告",
                    {**common, "agency_code": code},
                    pdf,
                    code,
                )
            )
    if not agency:
        if "bulletin" in kinds:
            jobs.append(
                Job(
                    "bulletin",
                    str(nbdir / "city_bulletin.ipynb"),
                    str(inside(out_dir, "bulletin.html")),
                    f"{run.year} 年度公共数据管理评估情况通报",
                    common,
                    pdf,
                )
            )
        if "gates" in kinds:
            jobs.append(
                Job(
                    "gates",
                    str(nbdir / "gate_report.ipynb"),
                    str(inside(out_dir, "gates.html")),
                    f"{run.year} 年度项目数据门禁报告",
                    common,
                    pdf,
                )
            )
    return jobs


#: why a report file could not be written, in words
OS_HINTS = {
    errno.ENOSPC: "磁盘已满",
    errno.EACCES: "没有权限",
    errno.EROFS: "只读文件系统",
    errno.EFBIG: "文件超过大小限制（ulimit -f）",
    errno.EDQUOT: "超出磁盘配额",
}


def run_jobs(jobs: list[Job], workers: int, progress=None, warm: bool = True) -> list[JobResult]:
    """Execute jobs in a pool; ``progress(result)`` is called as each finishes. ``warm=False`` starts a
    kernel per job (the baseline ``benchmarks/bench_warm_kernels.py`` measures against)."""
    kernel_env()
    for folder in {Path(j.html).parent for j in jobs}:  # charts are inline SVG: no plotly.js to copy
        folder.mkdir(parents=True, exist_ok=True)
    results = []
    ctx = multiprocessing.get_context("forkserver")
    workers = max(1, min(workers, len(jobs)))
    sweep_stale_tempdirs()
    tmp = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(), tmp)
        ) as pool:
            futures = {pool.submit(execute_job, j, warm): j for j in jobs}
            for fut in as_completed(futures):
                try:
                    r = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its job only
                    r = JobResult(futures[fut], False, f"{type(exc).__name__}: {exc}")
                results.append(r)
                if progress:
                    progress(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


# --------------------------------------------------------------------------- index and manifest


def write_index(run: data.Run, out_dir: Path, gallery: Sequence[tuple[str, str]] = ()) -> Path:
    """``index.html``: the combined reports, ``gallery`` (relative path, title) of the rendered staff
    notebooks, and each agency's report and offline dashboard."""
    agencies = data.graded_agencies(run)
    prov = run.provenance()

    def link(rel: str, text: str) -> str:
        p = inside(out_dir, rel)
        if not p.exists():
            return h.esc(text) + '<span class="more">（未生成）</span>'
        pdf = p.with_suffix(".pdf")
        extra = f' · <a href="{h.esc(pdf.relative_to(out_dir).as_posix())}">PDF</a>' if pdf.exists() else ""
        return f'<a href="{h.esc(rel)}">{h.esc(text)}</a>{extra}'

    rows = "".join(
        f"<tr><td>{h.esc(r['peer_group'])}</td>"
        f"<td class=num>{r['rank'] if r['rank'] is not None else '—'}</td><td>{h.esc(r['agency_code'])}</td>"
        f"<td>{link('agencies/' + r['agency_code'] + '.html', r['agency_name'])}</td>"
        f"<td class=num>{h.num(r['total'])}</td><td>{h.grade_badge(r['grade'], r['vetoed'])}</td>"
        f"<td>{link('dashboards/' + r['agency_code'] + '.html', '驾驶舱')}</td></tr>"
        for r in agencies.iter_rows(named=True)
    )
    body = (
        h.masthead(f"{run.year} 年度评估报告目录", prov)
        + h.heading("综合报告")
        + f"<nav><ul><li>{link('bulletin.html', '全市评估情况通报')}</li>"
        + f"<li>{link('gates.html', '项目数据门禁报告')}</li>"
        + f"<li>{link('approval_reference.html', '下一年度项目审批参考')}</li>"
        + f"<li>{link('dashboard.html', '领导驾驶舱（离线版，可直接打开，无需网络）')}</li>"
        + f"<li>{link('workbook.xlsx', '评分工作簿（XLSX）')}</li>"
        # the manifest is written right after the index, in every render that writes one: always there
        + '<li><a href="manifest.json">生成清单（manifest.json）</a></li></ul></nav>'
        + h.heading("分析笔记本（静态版）")
        + "<nav><ul>"
        + "".join(f"<li>{link(rel, text)}</li>" for rel, text in gallery)
        + "</ul></nav>"
        + h.heading("各单位评估报告")
        + '<table class="data"><thead><tr><th>分组</th><th class=num>名次</th><th>机构代码</th><th>机构名称</th>'
        + f"<th class=num>总分</th><th>等级</th><th>离线驾驶舱</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    path = out_dir / "index.html"
    write_atomic(
        path,
        h.page(
            f"{run.year} 年度评估报告目录", body, footer=f"{h.AUTHORITY} · hzeval {__version__}", version=__version__
        ),
    )
    return path


def write_manifest(run: data.Run, out_dir: Path, results: list[JobResult]) -> Path:
    assert run.path is not None, "reports read a published run file"
    files = sorted(
        p for p in out_dir.rglob("*") if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"
    )
    manifest = {
        "generator": f"hzeval {__version__}",
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        **run.provenance(),
        "inputs": {
            "published_file": str(run.path.resolve()),
            "published_sha256": sha256_file(run.path),
            "inputs_sha256": run.inputs_sha256,
            "scheme_sha256": run.scheme_sha256,
            "notebooks": {p.name: sha256_file(p) for p in sorted(notebooks_dir().glob("*.ipynb"))},
        },
        "files": [
            {"path": p.relative_to(out_dir).as_posix(), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
            for p in files
        ],
        "failures": [
            {"report": Path(r.job.html).relative_to(out_dir).as_posix(), "error": r.error} for r in results if not r.ok
        ],
    }
    path = out_dir / "manifest.json"
    write_atomic(path, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return path


def timings_summary(results: list[JobResult]) -> dict[str, float]:
    """Summed seconds per phase over the given results."""
    out: dict[str, float] = {}
    for r in results:
        for k, v in r.timings.items():
            out[k] = out.get(k, 0.0) + v
    return out


def results_json(results: list[JobResult]) -> list[dict]:
    return [{**asdict(r), "job": asdict(r.job)} for r in results]
