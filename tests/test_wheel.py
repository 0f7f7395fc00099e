"""The wheel works outside the checkout (DESIGN §10): built from this tree, installed in a fresh venv in
a folder far from the source, it loads, assesses and renders an agency report and the bulletin — the
notebooks ship inside it (``share/hzeval/notebooks``) and the report kernel is its own."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, cwd, timeout=600, env=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_installed_wheel_renders_reports_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)], cwd=tmp_path)
    (wheel,) = wheels.glob("hzeval-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    # the dependencies come from the suite's own environment (a .pth file), hzeval only from the wheel
    site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip()
    )
    (site / "suite_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    # the dependencies' data files (nbconvert's templates) are in the suite's prefix, as its packages are
    deps_data = Path(sysconfig.get_paths()["data"]) / "share" / "jupyter"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "JUPYTER_PATH": str(deps_data),
    }
    where = _run(
        [str(py), "-c", "import hzeval, hzeval.util.notebooks as n; print(hzeval.__file__); print(n.notebooks_dir())"],
        work,
        env=env,
    ).stdout.split()
    assert str(venv) in where[0] and str(ROOT) not in where[0]  # the installed package, not the source
    assert where[1] == str(venv / "share" / "hzeval" / "notebooks")
    version = _run([str(venv / "bin" / "hzeval"), "--version"], work, env=env).stdout.strip()
    assert version.startswith("hzeval, version ") and "+g" not in version  # no checkout: the version alone
    hz = [str(venv / "bin" / "hzeval"), "--db", str(work / "h.duckdb")]
    _run([*hz, "load", str(ROOT / "data_samples"), "--quiet"], work, env=env)
    _run([*hz, "assess", "--year", "2025", "--as-of", "2026-01-05"], work, env=env)
    _run([*hz, "report", "--year", "2025", "--format", "html", "--out", "out"], work, env=env, timeout=900)
    report = (work / "out" / "2025" / "agencies" / "HZ009.html").read_text(encoding="utf-8")
    assert "不合格" in report and "一票否决" in report  # HZ009: the 2025 数据泄露 veto (sample)
    bulletin = (work / "out" / "2025" / "bulletin.html").read_text(encoding="utf-8")
    assert "评估情况通报" in bulletin and "HZ009" in bulletin
