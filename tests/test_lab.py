"""``hzeval lab``: JupyterLab started headless on notebooks/, a staff notebook opened through the
server's REST API (contents, sessions) and one of its cells run over the kernel websocket on the
hzeval kernel, reading the published run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-" + uuid.uuid4().hex  # 5 + 32 = 37 characters, 16 hex digits and "test-": not weak


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, method: str = "GET", body: dict | None = None):
    req = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode()
        return resp.status, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def lab(sample_warehouse, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("lab") / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hzeval.cli.main",
                "--db",
                str(sample_warehouse),
                "lab",
                "--no-browser",
                "--port",
                str(port),
            ],
            env={**os.environ, "HZEVAL_LAB_TOKEN": TOKEN, "HZEVAL_PUBLISHED": ""},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path_factory.mktemp(
                "elsewhere"
            ),  # not the project: the notebooks folder and runs come from the CLI
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {log.read_text()[-2000:]}")
            try:
                if api(base, "/api/status")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not answer in 120 s: {log.read_text()[-2000:]}")
        yield base, port, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_lab_prints_the_token_and_binds_to_this_machine_only(lab):
    base, port, log = lab
    text = log.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{port}/lab?token={TOKEN}" in text
    req = urllib.request.Request(f"{base}/api/contents")  # no token: refused
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 403
    import psutil

    listening = {c.laddr.ip for c in psutil.net_connections("inet") if c.status == "LISTEN" and c.laddr.port == port}
    assert listening == {"127.0.0.1"}


def test_lab_token_is_not_in_the_process_arguments(lab):
    """Any local user reads a command line (ps, /proc/PID/cmdline): the token is not on it, it
    reaches jupyter_server through JUPYTER_TOKEN (the token still works: the tests' API calls)."""
    import psutil

    base, port, log = lab
    [pid] = {c.pid for c in psutil.net_connections("inet") if c.status == "LISTEN" and c.laddr.port == port}
    argv = psutil.Process(pid).cmdline()
    assert "jupyterlab" in argv and not any(TOKEN in a for a in argv)
    assert not any("token" in a.lower() for a in argv)
    assert api(base, "/api/status")[0] == 200
    if os.geteuid() == 0:  # this machine's tests run as root: the CLI said what that means
        assert "警告 | warning: JupyterLab 将以 root 身份运行" in log.read_text(encoding="utf-8")


def test_lab_command_and_environment_carry_the_token_apart(tmp_path, monkeypatch):
    from hzeval.workbench import lab_command, lab_environment

    monkeypatch.setenv("HZEVAL_LAB_TOKEN", TOKEN)
    argv = lab_command(tmp_path, 8888, "127.0.0.1", browser=False)
    assert not any("token" in a.lower() for a in argv)
    env = lab_environment(tmp_path, "t" * 8 + TOKEN)
    assert env["JUPYTER_TOKEN"] == "t" * 8 + TOKEN and "HZEVAL_LAB_TOKEN" not in env


@pytest.mark.parametrize(
    "value, why",
    [
        ("x" * 31, "太短：至少 32 个字符"),  # 31 < 32
        ("a" * 32, "过于简单：至少含 10 种不同字符"),  # 1 distinct character
        ("abcdefghi" * 4, "过于简单：至少含 10 种不同字符"),  # 36 characters, 9 distinct
    ],
)
def test_weak_lab_token_refused(monkeypatch, value, why):
    from hzeval.errors import ConfigError
    from hzeval.workbench import lab_token

    monkeypatch.setenv("HZEVAL_LAB_TOKEN", value)
    with pytest.raises(ConfigError) as exc:
        lab_token()
    assert exc.value.message.startswith(f"环境变量 HZEVAL_LAB_TOKEN {why}") and value not in str(exc.value)


def test_generated_lab_token_is_32_random_bytes(monkeypatch):
    from hzeval.workbench import lab_token

    monkeypatch.delenv("HZEVAL_LAB_TOKEN", raising=False)
    token = lab_token()
    assert len(token) == 64 and int(token, 16) >= 0 and token != lab_token()  # 32 bytes as hex
    monkeypatch.setenv("HZEVAL_LAB_TOKEN", "abcdefghij" * 4)  # 40 characters, 10 distinct: accepted
    assert lab_token() == "abcdefghij" * 4


def test_cli_lab_refuses_a_weak_token_without_a_traceback(tmp_path, monkeypatch):
    env = {**os.environ, "HZEVAL_LAB_TOKEN": "a" * 32}
    proc = subprocess.run(
        [sys.executable, "-m", "hzeval.cli.main", "--db", str(tmp_path / "w.duckdb"), "lab", "--no-browser"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "环境变量 HZEVAL_LAB_TOKEN 过于简单" in proc.stderr


async def run_cell(base: str, kernel_id: str, code: str) -> tuple[str, list[dict]]:
    """Send one execute_request over the kernel websocket; return (status, iopub outputs)."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = f"{base.replace('http', 'ws')}/api/kernels/{kernel_id}/channels?token={TOKEN}"
    ws = await websocket_connect(HTTPRequest(url, connect_timeout=120, request_timeout=120))  # a busy CI machine
    msg_id = uuid.uuid4().hex
    ws.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "msg_type": "execute_request",
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "buffers": [],
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            }
        )
    )
    outputs, status = [], None
    deadline = time.monotonic() + 120
    while status is None or not any(
        o["msg_type"] == "status" and o["content"].get("execution_state") == "idle" for o in outputs
    ):
        raw = await asyncio.wait_for(ws.read_message(), timeout=max(deadline - time.monotonic(), 1))
        assert raw is not None, "kernel websocket closed"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
            status = msg["content"]["status"]
        elif msg["channel"] == "iopub":
            outputs.append(msg)
    ws.close()
    return status, outputs


def test_open_a_notebook_and_run_a_cell_on_the_hzeval_kernel(lab, sample_warehouse):
    base, _, _ = lab
    # contents API: the staff notebooks are the server's root
    status, listing = api(base, "/api/contents")
    assert status == 200
    names = {f["name"] for f in listing["content"]}
    assert {"drop_check.ipynb", "evidence_explorer.ipynb", "year_over_year.ipynb"} <= names
    _, nb = api(base, "/api/contents/year_over_year.ipynb")
    assert nb["content"]["metadata"]["kernelspec"]["name"] == "python3"
    cells = [c for c in nb["content"]["cells"] if c["cell_type"] == "code"]
    params, setup = cells[0], cells[1]
    assert "parameters" in params["metadata"]["tags"]
    # the python3 kernel offered is this environment's interpreter
    _, specs = api(base, "/api/kernelspecs")
    assert specs["kernelspecs"]["python3"]["spec"]["argv"][0] == sys.executable
    # sessions API: open the notebook with a kernel, as JupyterLab does
    status, session = api(
        base,
        "/api/sessions",
        "POST",
        {"path": "year_over_year.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}},
    )
    assert status == 201
    kernel_id = session["kernel"]["id"]
    try:
        state, out = asyncio.run(run_cell(base, kernel_id, "import sys\nprint(sys.executable)"))
        assert state == "ok"
        assert [o["content"]["text"].strip() for o in out if o["msg_type"] == "stream"] == [sys.executable]
        # the notebook's own cells: parameters, then the year-over-year view over the published runs
        state, out = asyncio.run(
            run_cell(base, kernel_id, params["source"] + "\ninteractive = False\n" + setup["source"])
        )
        errors = [o["content"] for o in out if o["msg_type"] == "error"]
        assert state == "ok", errors
        html = "".join(o["content"]["data"].get("text/html", "") for o in out if o["msg_type"] == "display_data")
        published = sample_warehouse.parent / "published"
        run_2025 = sorted(p.stem for p in published.glob("2025-*.duckdb"))[-1]
        run_2024 = sorted(p.stem for p in published.glob("2024-*.duckdb"))[-1]
        assert f"对比 2025 年（运行 {run_2025}）与 2024 年（运行 {run_2024}）" in html
        assert "总分与等级" in html and "null" not in html
    finally:
        api(base, f"/api/sessions/{session['id']}", "DELETE")
