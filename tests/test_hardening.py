"""Issue 13, non-dashboard part: inputs that choose file paths, refused drop files, bounded parsing,
publish recovery after ``kill -9``, CLI readers beside a writer, clear OS errors, ``report`` cleanup.

Each test reproduces an attack from the issue; each failed before the fix (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import psutil
import pytest
import xlsxwriter
from conftest import copy_sample

from hzeval.errors import InputFileError, UnsafePathError
from hzeval.ingest import load_paths
from hzeval.ingest.limits import Limits
from hzeval.reports import data
from hzeval.services import render_reports
from hzeval.store.published import latest_published, published_dir
from hzeval.store.warehouse import connect
from hzeval.util.paths import inside, sha256_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
AGENCIES_HEADER = "agency_code,agency_name,level"


def hzeval(*args, env=None, preexec_fn=None, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "hzeval.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec_fn,
        **kw,
    )


def run_cli(*args, env=None, timeout=300, preexec_fn=None):
    proc = hzeval(*args, env=env, preexec_fn=preexec_fn)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def pause_at(db, fault, *args):
    """Start ``hzeval`` with a fault point and return it once it pauses there (holding the warehouse)."""
    proc = hzeval("--db", str(db), *args, env={"HZEVAL_FAULT": fault})
    deadline = time.monotonic() + 180
    line = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("HZEVAL_PAUSED") or proc.poll() is not None:
            break
    assert line.startswith(f"HZEVAL_PAUSED {fault}"), f"never reached {fault}: {line!r}"
    return proc


def kill9(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def sample_copy(sample_warehouse, tmp_path_factory):
    """A private copy of the session's sample warehouse (2024 then 2025 assessed, both published)."""
    return copy_sample(sample_warehouse, tmp_path_factory, "hardening")


def load_file(con, tmp_path, name, text, **limits):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return load_paths(con, [path], progress=False, limits=Limits.from_env(**limits) if limits else None)


# --------------------------------------------------------------------------- item 3: codes name files


def test_agency_codes_outside_the_pattern_are_rejected_rows(wh, tmp_path):
    rows = [
        "HZ001,好机构,市级",  # fine
        "hz-02_b,也好,县区",  # letters, digits, - and _
        "/some/dir/x,绝对路径,市级",  # absolute path
        "../../../../some/dir/evil,爬出目录,市级",
        "A B,空格,市级",
        "X" * 33 + ",太长,市级",  # 33 characters: one too many
        "X" * 32 + ",正好32,市级",  # 32: allowed
        "惠州01,中文,市级",
    ]
    result = load_file(wh, tmp_path, "agencies.csv", AGENCIES_HEADER + "\n" + "\n".join(rows) + "\n")
    assert result.rows_loaded == 3 and result.rows_rejected == 5
    loaded = {r[0] for r in wh.execute("select agency_code from agencies").fetchall()}
    assert loaded == {"HZ001", "hz-02_b", "X" * 32}
    rejected = wh.execute(
        "select line, value, reason from rejects where column_name = 'agency_code' order by line"
    ).fetchall()
    assert [r[0] for r in rejected] == [4, 5, 6, 7, 9]  # header is line 1
    assert all("字母、数字" in r[2] for r in rejected)


def test_output_paths_from_data_stay_inside_the_output_folder(sample_copy, tmp_path):
    # a published run whose agency code climbs out (written directly: load would have rejected it)
    pub = data.find_published(published_dir(sample_copy), 2025)
    evil = str(tmp_path / "evil")  # an absolute code: ``agencies/<code>.html`` would be /.../evil.html
    con = duckdb.connect(str(pub))
    con.execute("update agencies set agency_code = $e where agency_code = 'HZ021'", {"e": evil})
    con.execute("update grades set agency_code = $e where agency_code = 'HZ021'", {"e": evil})
    con.close()
    out = tmp_path / "reports"
    with pytest.raises(UnsafePathError, match="输出文件夹"):
        render_reports(2025, out=out, formats=("html",), published=pub, only=[evil])
    assert not (tmp_path / "evil.html").exists() and not list(tmp_path.glob("**/evil.*"))
    # the helper itself: absolute and climbing parts are refused, ordinary ones kept
    assert inside(out, "agencies", "HZ001.html") == out / "agencies" / "HZ001.html"
    for bad in ("/etc/x.html", "../x.html", "agencies/../../x.html", ""):
        with pytest.raises(UnsafePathError):
            inside(out, bad)


# --------------------------------------------------------------------------- item 8: symlinks, echo


def test_symlink_leaving_the_drop_is_refused_and_not_echoed(wh, tmp_path):
    secret = tmp_path / "outside" / "shadow.csv"
    secret.parent.mkdir()
    secret.write_text("root:$6$SECRETHASH:19000:0:99999:7:::\n", encoding="utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "agencies.csv").write_text(AGENCIES_HEADER + "\nHZ001,好机构,市级\n", encoding="utf-8")
    (drop / "export.csv").symlink_to(secret)
    with pytest.raises(InputFileError) as info:
        load_paths(wh, [drop], progress=False)
    assert "符号链接" in str(info.value) and "SECRETHASH" not in str(info.value)
    assert wh.execute("select count(*) from loads").fetchall() == [(0,)]  # nothing of the drop loaded

    # a link named like a table, to an outside file of that table: refused too
    outside_agencies = tmp_path / "outside" / "agencies.csv"
    outside_agencies.write_text(AGENCIES_HEADER + "\nEVIL,外部文件,市级\n", encoding="utf-8")
    (drop / "export.csv").unlink()
    (drop / "agencies.csv").unlink()
    (drop / "agencies.csv").symlink_to(outside_agencies)
    with pytest.raises(InputFileError, match="符号链接"):
        load_paths(wh, [drop], progress=False)
    # a link that stays inside the drop is fine
    (drop / "agencies.csv").unlink()
    (drop / "sub").mkdir()
    (drop / "sub" / "agencies_2025.csv").write_text(AGENCIES_HEADER + "\nHZ001,好机构,市级\n", encoding="utf-8")
    (drop / "agencies.csv").symlink_to(drop / "sub" / "agencies_2025.csv")
    assert load_paths(wh, [drop], progress=False).rows_loaded == 1


def test_refused_file_is_echoed_at_most_200_characters(wh, tmp_path):
    with pytest.raises(InputFileError) as info:
        load_file(wh, tmp_path, "export.csv", "S" * 50_000 + ",b\n1,2\n")
    assert "S" * 200 not in str(info.value) and len(str(info.value)) < 700


# --------------------------------------------------------------------------- item 9: bounded parsing


def _xlsx(path: Path, rows: int, cols: int = 3) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("agencies")
    for j, h in enumerate(["agency_code", "agency_name", "level", *[f"extra{k}" for k in range(cols - 3)]]):
        ws.write_string(0, j, h)
    for i in range(1, rows + 1):
        ws.write_row(i, 0, [f"HZ{i:05d}", "机构" * 20, "市级", *["x" * 30] * (cols - 3)])
    wb.close()
    return path


def test_xlsx_zip_bomb_refused_before_parsing(wh, tmp_path, monkeypatch):
    path = _xlsx(tmp_path / "agencies.xlsx", 20_000)
    with zipfile.ZipFile(path) as zf:
        sheet = next(i for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
        real, packed = sheet.file_size, sheet.compress_size
    assert real > 1_000_000 and packed < real / 5  # a compressible sheet: ~1.8 MB of XML
    monkeypatch.setenv("HZEVAL_MAX_XLSX_BYTES", str(1_000_000))  # the guard, scaled down for the test
    with pytest.raises(InputFileError, match="解压后超过"):
        load_paths(wh, [path], progress=False)
    assert wh.execute("select count(*) from agencies").fetchall() == [(0,)]

    # the archive lies about the sizes (central directory and local header say 100 bytes):
    # the guard counts what inflating really yields
    data_ = bytearray(path.read_bytes())
    for sig, off in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (i := data_.find(sig, start)) >= 0:
            name_at = i + (46 if sig == b"PK\x01\x02" else 30)
            nlen = struct.unpack(
                "<H", data_[i + (28 if sig == b"PK\x01\x02" else 26) : i + (30 if sig == b"PK\x01\x02" else 28)]
            )[0]
            if bytes(data_[name_at : name_at + nlen]).startswith(b"xl/worksheets/"):
                data_[i + off : i + off + 4] = struct.pack("<I", 100)
            start = i + 4
    liar = tmp_path / "liar" / "agencies.xlsx"
    liar.parent.mkdir()
    liar.write_bytes(bytes(data_))
    with zipfile.ZipFile(liar) as zf:
        assert next(i for i in zf.infolist() if i.filename.startswith("xl/worksheets/")).file_size == 100
    with pytest.raises(InputFileError, match="解压后超过"):
        load_paths(wh, [liar], progress=False)


def test_xlsx_row_and_column_limits_checked_before_parsing(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("HZEVAL_MAX_XLSX_ROWS", "50")
    with pytest.raises(InputFileError, match="超过上限 50 行"):
        load_paths(wh, [_xlsx(tmp_path / "agencies.xlsx", 60)], progress=False)
    monkeypatch.delenv("HZEVAL_MAX_XLSX_ROWS")
    wide = tmp_path / "wide"
    wide.mkdir()
    with pytest.raises(InputFileError, match="1,001 列") as info:
        load_paths(wh, [_xlsx(wide / "agencies.xlsx", 2, cols=1001)], progress=False)
    assert "extra9" not in str(info.value)  # the header is not echoed
    assert load_paths(wh, [_xlsx(wide / "agencies_ok.xlsx", 2, cols=1000)], progress=False).rows_loaded == 2


def test_header_of_more_than_1000_columns_is_a_clear_short_error(wh, tmp_path):
    header = AGENCIES_HEADER + "," + ",".join(f"c{i}" for i in range(100_000))
    with pytest.raises(InputFileError, match="100,003 列") as info:
        load_file(wh, tmp_path, "agencies.csv", header + "\nHZ001,好,市级\n")
    assert len(str(info.value)) < 400


def test_field_longer_than_the_limit_rejects_its_row(wh, tmp_path):
    ten_mb = "长" * 10_000_000
    text = AGENCIES_HEADER + f"\nHZ001,好机构,市级\nHZ002,{ten_mb},市级\nHZ003,{'x' * 100_000},县区\n"
    result = load_file(wh, tmp_path, "agencies.csv", text)
    assert result.rows_loaded == 2 and result.rows_rejected == 1  # 100,000 characters exactly is allowed
    line, column, value, reason = wh.execute("select line, column_name, value, reason from rejects").fetchall()[0]
    assert (line, column) == (3, "agency_name") and "100,000" in reason
    assert len(value) == 200 and value.endswith("…")  # the rejected cell is kept short
    # the limit is configurable
    result = load_file(
        wh, tmp_path, "agencies2.csv", AGENCIES_HEADER + "\nHZ004,十一个字的机构名称啊啊,市级\n", max_field_chars=10
    )
    assert result.rows_rejected == 1


# --------------------------------------------------------------------------- item 10: clear errors


def test_deeply_nested_first_jsonl_line_is_a_clear_error(wh, tmp_path):
    line = '{"application_id": "S1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    with pytest.raises(InputFileError, match="嵌套过深"):
        load_file(wh, tmp_path, "share_feedback.jsonl", line)
    code, _, err = run_cli("--db", str(tmp_path / "w.duckdb"), "load", str(tmp_path / "share_feedback.jsonl"))
    assert code == 3 and "嵌套过深" in err and "RecursionError" not in err


def test_missing_warehouse_folder_is_reported_as_such(tmp_path):
    code, _, err = run_cli("--db", str(tmp_path / "nowhere" / "w.duckdb"), "load", str(SAMPLES / "agencies.csv"))
    assert code == 5 and "不存在" in err and "nowhere" in err and "另一进程" not in err


def _fsize_limit(n):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))


def test_file_size_limit_names_the_file_and_the_cause(sample_copy, tmp_path):
    db = tmp_path / "w.duckdb"
    code, _, err = run_cli("--db", str(db), "load", "--quiet", str(SAMPLES), preexec_fn=_fsize_limit(2_000_000))
    assert code == 5, err
    assert "w.duckdb" in err and "文件超过大小限制" in err and "TransactionException" not in err
    assert "Traceback" not in err
    code, _, err = run_cli(
        "--db",
        str(sample_copy),
        "report",
        "--year",
        "2025",
        "--format",
        "html",
        "--out",
        str(tmp_path / "reports"),
        "--agency",
        "HZ021",
        preexec_fn=_fsize_limit(20_000),
    )
    # the agency report (charts inline, ~36 kB) is the first file over the limit; its worker fails
    # that report only, naming it, and the previous file is kept
    assert code == 1, err
    assert "HZ021.html" in err and "文件超过大小限制" in err and "Traceback" not in err


# --------------------------------------------------------------------------- item 7: publish recovery


def test_per_year_latest_pointer(sample_copy):
    import datetime as dt

    from hzeval.assessment.assess import run_assessment

    pub = published_dir(sample_copy)
    latest_2025 = latest_published(sample_copy, 2025)
    assert latest_2025 is not None and latest_2025.name.startswith("2025-")
    assert latest_published(sample_copy) == latest_2025  # the latest year's run is the default
    run_2024 = run_assessment(sample_copy, 2024, dt.datetime(2025, 1, 6))
    # assessing 2024 after 2025 changes neither the 2025 pointer nor the default
    assert latest_published(sample_copy, 2025) == latest_2025
    assert (pub / "LATEST").read_text().strip() == latest_2025.name
    assert latest_published(sample_copy, 2024).name == f"{run_2024}.duckdb"
    assert data.find_published(pub, 2025) == latest_2025


def test_kill_during_publish_is_recovered_by_the_next_writer(sample_copy):
    pub = published_dir(sample_copy)
    before = latest_published(sample_copy, 2025)
    proc = pause_at(sample_copy, "publish-before-replace", "assess", "--year", "2025", "--as-of", "2026-01-06")
    kill9(proc)
    tmp = list(pub.glob(".*.tmp*"))
    assert tmp, "the killed publish left its temporary copy"
    with connect(sample_copy, read_only=True) as con:
        newest = con.execute("select run_id from runs where year = 2025 order by finished_at desc limit 1").fetchall()[
            0
        ][0]
    assert newest != before.stem and not (pub / f"{newest}.duckdb").exists()  # committed, not published
    assert latest_published(sample_copy, 2025) == before

    # any writer's start finishes the job: here a load of a file already loaded (changes nothing)
    code, _, err = run_cli("--db", str(sample_copy), "load", "--quiet", str(SAMPLES / "agencies.csv"))
    assert code == 0, err
    assert not list(pub.glob(".*.tmp*"))
    assert latest_published(sample_copy, 2025) == pub / f"{newest}.duckdb"
    # explain (the warehouse) and report (published) now read the same run
    code, out, err = run_cli("--db", str(sample_copy), "explain", "--year", "2025", "--agency", "HZ021", "--limit", "1")
    assert code == 0 and newest in out
    assert data.find_published(pub, 2025).stem == newest


def test_cli_readers_read_the_published_run_while_a_writer_holds_the_warehouse(sample_copy):
    proc = pause_at(sample_copy, "assess-before-commit", "assess", "--year", "2025", "--as-of", "2026-01-06")
    try:
        for args in (
            ["supervise", "--as-of", "2026-01-05", "--limit", "3"],
            ["gate", "--as-of", "2026-01-05"],
            ["explain", "--year", "2025", "--agency", "HZ021", "--limit", "1"],
            ["explain", "--year", "2024", "--agency", "HZ021", "--limit", "1"],
        ):
            code, out, err = run_cli("--db", str(sample_copy), *args, timeout=120)
            assert code == 0, (args, err)
            assert "改读已发布的运行" in err and out.strip(), args
        # with nothing published for the year, the reader waits for the writer, saying so
        shutil.rmtree(published_dir(sample_copy))
        waiting = hzeval(
            "--db",
            str(sample_copy),
            "explain",
            "--year",
            "2025",
            "--agency",
            "HZ021",
            env={"HZEVAL_WAIT_SECONDS": "120"},
        )
        said = waiting.stderr.readline()  # the waiting message comes first (after the imports)
        assert "等待写入结束" in said, said
        time.sleep(1)
        assert waiting.poll() is None  # still waiting for the writer
    finally:
        kill9(proc)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0 and "HZ021" in out, err


# --------------------------------------------------------------------------- item 10: report cleanup


def test_killed_report_leaves_no_workers_and_no_temp_folders(sample_copy, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = hzeval(
        "--db",
        str(sample_copy),
        "report",
        "--year",
        "2025",
        "--format",
        "html,pdf",
        "--out",
        str(tmp_path / "reports"),
        "--workers",
        "2",
        env={"TMPDIR": str(temp)},
    )
    main = psutil.Process(proc.pid)
    deadline = time.monotonic() + 240
    family: set[int] = set()
    while time.monotonic() < deadline:  # wait until a worker has a kernel or a browser running
        kids = main.children(recursive=True)
        family |= {k.pid for k in kids}
        if any("ipykernel" in " ".join(k.cmdline()) or "chromium" in k.name() for k in kids if k.is_running()):
            break
        time.sleep(0.2)
    else:
        pytest.fail("report never started a kernel")
    family |= {k.pid for k in main.children(recursive=True)}
    kill9(proc)

    def alive():
        out = []
        for pid in family:
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    out.append(p)
            except psutil.Error:
                pass
        return out

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (alive() or list(temp.glob("hzeval-report-*"))):
        time.sleep(0.5)
    left = alive()
    names = [" ".join(p.cmdline())[:80] for p in left]
    for p in left:  # never leave strays behind, even when the test fails
        p.kill()
    assert not names, names
    assert not list(temp.glob("hzeval-report-*")) and not list(temp.glob("**/hzeval-chromium-*"))


# --------------------------------------------------------------------------- issue 30 item 8: report swapped in whole


def manifest_matches(folder: Path) -> set[str]:
    """The folder's files (manifest.json aside), asserted to be exactly those its manifest lists,
    each with the bytes it hashes."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    found = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"
    }
    assert found == set(listed), found ^ set(listed)
    for rel, sha in listed.items():
        assert sha256_file(folder / rel) == sha, rel
    return found


def test_killed_report_leaves_the_previous_folder_whole(sample_copy, tmp_path):
    """Before: a ``report`` killed mid-render left some files of the new run beside the old ones and
    the old manifest. Now it renders into ``.2025.staging-<pid>`` and swaps it in with renames."""
    out = tmp_path / "reports"
    folder = out / "2025"

    def report(agency):
        return ("report", "--year", "2025", "--agency", agency, "--format", "html", "--out", str(out))

    rc, _, err = run_cli("--db", str(sample_copy), *report("HZ010"))
    assert rc == 0, err
    first = manifest_matches(folder)
    assert "agencies/HZ010.html" in first
    before = {rel: sha256_file(folder / rel) for rel in [*first, "manifest.json"]}

    # killed once HZ011's report is rendered (in the staging folder) but before the swap
    kill9(pause_at(sample_copy, "report-before-swap", *report("HZ011")))
    assert {rel: sha256_file(folder / rel) for rel in before} == before
    assert manifest_matches(folder) == first  # HZ011's file is not in the folder
    assert [p.name.split("-")[0] for p in out.glob(".2025.staging-*")] == [".2025.staging"]

    # killed between the two renames: the folder is away as .2025.old-<pid>, whole
    kill9(pause_at(sample_copy, "report-mid-swap", *report("HZ011")))
    assert not folder.exists() and len(list(out.glob(".2025.old-*"))) == 1

    # the next render puts the previous folder back, drops both leftovers and adds HZ002 to it
    rc, _, err = run_cli("--db", str(sample_copy), *report("HZ002"))
    assert rc == 0, err
    assert manifest_matches(folder) == first | {"agencies/HZ002.html"}
    assert sorted(p.name for p in out.iterdir()) == ["2025"]
