"""Warm kernels (issue 29 item 1): a report worker runs notebook after notebook in one kernel, its
state reset between them, and a failed notebook restarts the kernel."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nbformat
import pytest
from conftest import copy_sample

from hzeval.reports import data, kernel, render

ROOT = Path(__file__).resolve().parents[1]
FIRST, SECOND = "HZ021", "HZ002"  # 城市管理和综合执法局, then another graded agency

INJECTED_ID = re.compile(r'(celltag_injected-parameters" id=)"cell-id=[0-9a-f-]+"')

#: a cell put right after the parameters: what the previous notebook left in the namespace
PROBE = """from IPython.display import HTML, display

earlier = globals().get("head")  # the previous agency's header, had the kernel kept it
display(HTML('<p id="probe">' + ("leaked " + earlier["agency_code"] if earlier else "clean") + "</p>"))
"""


@pytest.fixture(scope="module")
def published(sample_warehouse, tmp_path_factory):
    db = copy_sample(sample_warehouse, tmp_path_factory, "warm_wh")
    return db.parent / "published"


@pytest.fixture
def warm(monkeypatch, tmp_path):
    """This process as a report worker: the private kernelspec, no warm kernel yet, closed after."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    render.kernel_env()
    render.close_warm_kernel()
    yield
    render.close_warm_kernel()


def notebook_with(tmp_path: Path, name: str, source: str) -> str:
    """The agency report template with ``source`` as a cell right after its parameters (before the
    imports cell, which defines ``head``)."""
    nb = nbformat.read(ROOT / "notebooks" / "agency_report.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    path = tmp_path / name
    nbformat.write(nb, path)
    return str(path)


def agency_jobs(published, out: Path, notebook: str) -> dict[str, render.Job]:
    with data.open_run(published, 2025) as run:
        jobs = render.plan_jobs(run, out, only=[FIRST, SECOND], kinds=("agency",))
    (out / "agencies").mkdir(parents=True, exist_ok=True)
    return {j.agency_code: dataclasses.replace(j, notebook=notebook) for j in jobs}


def probe(job: render.Job) -> str:
    text = Path(job.html).read_text(encoding="utf-8")
    return text.split('<p id="probe">', 1)[1].split("</p>", 1)[0]


def test_second_report_in_a_warm_kernel_sees_nothing_of_the_first(published, warm, tmp_path):
    jobs = agency_jobs(published, tmp_path / "out", notebook_with(tmp_path, "probe.ipynb", PROBE))
    first = render.execute_job(jobs[FIRST])
    pid = render.warm_kernel().pid
    second = render.execute_job(jobs[SECOND])
    assert first.ok and second.ok, (first.error, second.error)
    assert render.warm_kernel().pid == pid and render.warm_kernel().starts == 1  # one kernel for both
    assert probe(jobs[FIRST]) == probe(jobs[SECOND]) == "clean"
    # each notebook its own parameters: the second report is the second agency's, naming no other
    with data.open_run(published, 2025) as run:
        names = dict(run.con.execute("select agency_code, agency_name from agencies").fetchall())
    second_html = Path(jobs[SECOND].html).read_text(encoding="utf-8")
    assert f"{names[SECOND]}（{SECOND}）2025 年度" in second_html
    assert names[FIRST] not in second_html and FIRST not in second_html
    assert second.timings["kernel_start"] < 0.5  # no kernel start: papermill ran on the warm one


def test_the_probe_would_see_a_leak(published, warm, tmp_path, monkeypatch):
    """The test above can fail: without ``%reset -f`` the second notebook sees the first's ``head``."""
    monkeypatch.setattr(kernel, "RESET", "__import__('os').chdir({cwd!r})\n")
    monkeypatch.setattr(kernel, "CHECK", {**kernel.CHECK, "names": "[]"})  # and a check that looks away
    jobs = agency_jobs(published, tmp_path / "out", notebook_with(tmp_path, "probe.ipynb", PROBE))
    assert render.execute_job(jobs[FIRST]).ok and render.execute_job(jobs[SECOND]).ok
    assert probe(jobs[SECOND]) == f"leaked {FIRST}"


def test_a_name_left_after_the_reset_restarts_the_kernel(published, warm, tmp_path, monkeypatch):
    """The namespace check: a reset that leaves a name is not trusted; the kernel is restarted."""
    jobs = agency_jobs(published, tmp_path / "out", notebook_with(tmp_path, "probe.ipynb", PROBE))
    assert render.execute_job(jobs[FIRST]).ok
    k = render.warm_kernel()
    k._call("left_behind = 1")  # as if %reset had missed it
    monkeypatch.setattr(kernel, "RESET", "__import__('os').chdir({cwd!r})\n")  # a reset that clears nothing
    with pytest.raises(kernel.KernelStateError, match="left_behind"):
        k._check(str(tmp_path))
    monkeypatch.undo()
    k.reset(str(tmp_path))  # a real reset: clean again, same kernel
    assert k.starts == 1


def test_warm_report_is_the_cold_report(published, warm, tmp_path):
    """Same notebook, same parameters: a warm kernel writes the very file a kernel of its own does."""
    nb = str(ROOT / "notebooks" / "agency_report.ipynb")
    warm_job = agency_jobs(published, tmp_path / "warm", nb)[FIRST]
    cold_job = agency_jobs(published, tmp_path / "cold", nb)[FIRST]
    assert render.execute_job(agency_jobs(published, tmp_path / "before", nb)[SECOND]).ok  # kernel used once
    assert render.execute_job(warm_job).ok and render.execute_job(cold_job, warm=False).ok
    # papermill gives its injected parameters cell a new random id each run; nothing else differs
    warm_html, cold_html = (INJECTED_ID.sub("", Path(j.html).read_text(encoding="utf-8")) for j in (warm_job, cold_job))
    assert warm_html == cold_html


@pytest.mark.parametrize(
    "cell, error",
    [
        ("raise RuntimeError('第一份报告出错')", "RuntimeError: 第一份报告出错"),
        ("import os\nos._exit(3)", "DeadKernelError"),  # the kernel itself dies
    ],
)
def test_a_failed_notebook_restarts_the_kernel_and_the_next_job_renders(published, warm, tmp_path, cell, error):
    out = tmp_path / "out"
    broken = agency_jobs(published, out, notebook_with(tmp_path, "broken.ipynb", "kept = agency_code\n" + cell))
    good = agency_jobs(published, out, notebook_with(tmp_path, "probe.ipynb", PROBE))
    assert render.execute_job(good[SECOND]).ok
    pid = render.warm_kernel().pid
    failed = render.execute_job(broken[FIRST])
    assert not failed.ok and error in failed.error
    assert not Path(broken[FIRST].html).exists()  # nothing written for the failed report
    k = render.warm_kernel()
    assert k.starts == 2 and k.pid != pid and k.alive()  # restarted at once, not at the next job
    after = render.execute_job(good[FIRST])
    assert after.ok, after.error
    assert probe(good[FIRST]) == "clean"


def test_only_reports_run_warm(published, warm, tmp_path):
    """The reports and the offline dashboards run warm (issue 29 item 2); the staff notebooks' gallery
    keeps a kernel per job."""
    assert kernel.WARM_KINDS == {"agency", "bulletin", "gates", "dashboard"}
    job = agency_jobs(published, tmp_path / "out", str(ROOT / "notebooks" / "agency_report.ipynb"))[SECOND]
    assert render.execute_job(dataclasses.replace(job, kind="notebook")).ok
    assert render._WARM is None  # no warm kernel was started for it


def test_offline_dashboards_run_one_after_another_in_one_kernel(published, warm, tmp_path):
    """Issue 29 item 2: an agency's offline dashboard in the kernel that has just written another
    agency's names none of the first (its store is bound to its own agency, the caches keyed by it)."""
    from hzeval.dashboard.offline import dashboard_jobs

    out = tmp_path / "out"
    with data.open_run(published, 2025) as run:
        jobs = {j.agency_code: j for j in dashboard_jobs(run, out, [FIRST, SECOND], whole_city=False)}
        names = dict(run.con.execute("select agency_code, agency_name from agencies").fetchall())
    (out / "dashboards").mkdir(parents=True, exist_ok=True)
    first = render.execute_job(jobs[FIRST])
    pid = render.warm_kernel().pid
    second = render.execute_job(jobs[SECOND])
    assert first.ok and second.ok, (first.error, second.error)
    assert render.warm_kernel().pid == pid and render.warm_kernel().starts == 1  # one kernel for both
    first_html, second_html = (Path(jobs[c].html).read_text(encoding="utf-8") for c in (FIRST, SECOND))
    assert f"{names[FIRST]}（{FIRST}）" in first_html and f"{names[SECOND]}（{SECOND}）" in second_html
    assert names[FIRST] not in second_html and FIRST not in second_html
