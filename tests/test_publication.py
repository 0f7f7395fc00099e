"""Trial, official and withdrawn runs; guarded assess (issue 24 items 1-2, DESIGN §7a).

The session's sample warehouse holds two trial runs (2024 as of 2025-01-06, 2025 as of 2026-01-05);
every test works on a private copy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, copy_sample

from hzeval import pages
from hzeval.runs import open_reader
from hzeval.store.publication import make_official, run_list, withdraw
from hzeval.store.published import publication_of, published_dir, published_runs, resolve_run
from hzeval.store.warehouse import connect


def cli(db, *args, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "hzeval.cli.main", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    return proc.returncode, proc.stdout, proc.stderr


def pause_at(db, fault, *args):
    """Start ``hzeval`` with a fault point; return it once it pauses there (holding the warehouse)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hzeval.cli.main", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HZEVAL_FAULT": fault},
    )
    deadline, line = time.monotonic() + 180, ""
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
def db(sample_warehouse, tmp_path_factory):
    return copy_sample(sample_warehouse, tmp_path_factory, "publication")


def runs_of(db, year):
    with connect(db, read_only=True) as con:
        return run_list(con, year, db=db)


def pointer(db, name="LATEST-2025"):
    return (published_dir(db) / name).read_text(encoding="utf-8").strip()


def test_a_new_run_is_trial_and_readers_show_the_banner(db):
    (r,) = runs_of(db, 2025)
    assert r["publication"] == "trial" and r["published"] and r["read_by_default"] and r["actor"] is None
    path = resolve_run(published_dir(db), year=2025)
    assert path.stem == r["run_id"] and publication_of(path) == "trial"
    with open_reader(db, 2025) as run:
        prov = run.provenance()
    assert prov["publication"] == "试算" and prov["trial"] is True
    head = pages.masthead("2025 年度评估报告", prov)
    assert 'class="trial"' in head and "<b>试算</b>" in head and "<b>发布状态</b> 试算" in head


def test_readers_choose_the_official_run_over_a_newer_trial(db):
    (r1,) = runs_of(db, 2025)
    with connect(db) as con:
        make_official(con, r1["run_id"], "李四", "局务会审定", db=db)
    assert publication_of(published_dir(db) / f"{r1['run_id']}.duckdb") == "official"  # the copy says so
    code, out, err = cli(db, "assess", "--year", "2025", "--as-of", "2026-01-05 12:00")
    assert code == 0, err
    newest, official = runs_of(db, 2025)  # newest first
    assert newest["publication"] == "trial" and newest["published"] and not newest["read_by_default"]
    assert official["run_id"] == r1["run_id"] and official["read_by_default"]
    assert (official["actor"], official["reason"]) == ("李四", "局务会审定")
    # the one resolver, the pointers and the read layer (on the warehouse too) all read the official run
    assert resolve_run(published_dir(db), year=2025).stem == r1["run_id"]
    assert pointer(db) == pointer(db, "LATEST") == f"{r1['run_id']}.duckdb"
    with open_reader(db, 2025) as run:
        assert run.run_id == r1["run_id"] and run.provenance()["trial"] is False
        assert 'class="trial"' not in pages.masthead("x", run.provenance())
    with connect(db, read_only=True) as con:
        from hzeval.runs import RunReader

        assert RunReader(con, year=2025).run_id == r1["run_id"]
    # without pointers (a copied folder), the files' own states decide
    for p in published_dir(db).glob("LATEST*"):
        p.unlink()
    assert resolve_run(published_dir(db), year=2025).stem == r1["run_id"]
    assert resolve_run(published_dir(db)).stem == r1["run_id"]  # latest year: 2025


def test_withdraw_is_audited_and_readers_fall_back(db):
    (r1,) = runs_of(db, 2025)
    code, _, err = cli(db, "assess", "--year", "2025", "--as-of", "2026-01-05 12:00")
    assert code == 0, err
    r2 = runs_of(db, 2025)[0]
    assert pointer(db) == f"{r2['run_id']}.duckdb"
    code, out, err = cli(db, "runs", "withdraw", r2["run_id"], "--reason", "年度录入错误", "--by", "王五")
    assert code == 0, err
    assert not (published_dir(db) / f"{r2['run_id']}.duckdb").exists()
    assert pointer(db) == pointer(db, "LATEST") == f"{r1['run_id']}.duckdb"  # the year's next run
    code, out, err = cli(db, "runs", "list", "--year", "2025", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["run_id"], r["publication"], r["publication_zh"]) for r in rows] == [
        (r2["run_id"], "withdrawn", "已撤回"),
        (r1["run_id"], "trial", "试算"),
    ]
    assert (rows[0]["actor"], rows[0]["reason"], rows[0]["published"]) == ("王五", "年度录入错误", False)
    with connect(db, read_only=True) as con:
        audit = con.execute("select run_id, action, actor, reason from run_publication").fetchall()
    assert audit == [(r2["run_id"], "withdrawn", "王五", "年度录入错误")]
    # refused, exit 5, one bilingual line: withdrawn twice, made official after withdrawal, unknown run
    for args in (
        ["runs", "withdraw", r2["run_id"], "--reason", "again"],
        ["runs", "official", r2["run_id"]],
        ["runs", "official", "../../etc/passwd"],
    ):
        code, out, err = cli(db, *args)
        assert code == 5 and " | " in err and "Traceback" not in err, (args, err)
    code, _, err = cli(db, "runs", "withdraw", r1["run_id"])  # --reason is required
    assert code == 2 and "--reason" in err
    # withdrawing the year's last run takes its pointer away; LATEST moves to 2024
    with connect(db) as con:
        withdraw(con, r1["run_id"], "王五", "重做", db=db)
    assert not (published_dir(db) / "LATEST-2025").exists()
    assert pointer(db, "LATEST") == pointer(db, "LATEST-2024")
    assert resolve_run(published_dir(db), year=2025) is None


def test_a_withdrawn_run_stays_withdrawn_after_a_kill_during_the_next_publish(db):
    (r1,) = runs_of(db, 2025)
    code, _, err = cli(db, "assess", "--year", "2025", "--as-of", "2026-01-05 12:00")
    assert code == 0, err
    r2 = runs_of(db, 2025)[0]
    code, _, err = cli(db, "runs", "withdraw", r2["run_id"], "--reason", "错误")
    assert code == 0, err
    kill9(pause_at(db, "publish-before-replace", "assess", "--year", "2025", "--as-of", "2026-01-05 18:00"))
    r3 = runs_of(db, 2025)[0]
    assert r3["run_id"] not in (r1["run_id"], r2["run_id"]) and not r3["published"]  # committed, not published
    # the next writer (a load of a file already loaded) recovers: r3 published, r2 never again
    code, _, err = cli(db, "load", "--quiet", str(ROOT / "data_samples" / "agencies.csv"))
    assert code == 0, err
    names = {p.stem for p in published_runs(published_dir(db), 2025)}
    assert names == {r1["run_id"], r3["run_id"]}
    assert pointer(db) == f"{r3['run_id']}.duckdb"
    assert {r["run_id"]: r["publication"] for r in runs_of(db, 2025)}[r2["run_id"]] == "withdrawn"
    # a withdrawn run's copy put back by hand is taken away again by the next writer
    (published_dir(db) / f"{r2['run_id']}.duckdb").write_bytes(
        (published_dir(db) / f"{r1['run_id']}.duckdb").read_bytes()
    )
    with connect(db):
        pass
    assert not (published_dir(db) / f"{r2['run_id']}.duckdb").exists()


def test_a_kill_between_official_and_its_copy_is_recovered(db):
    (r1,) = runs_of(db, 2025)
    kill9(pause_at(db, "publish-before-replace", "runs", "official", r1["run_id"], "--reason", "审定"))
    path = published_dir(db) / f"{r1['run_id']}.duckdb"
    assert publication_of(path) == "trial"  # the warehouse says official, the copy not yet
    with connect(db):
        pass
    assert publication_of(path) == "official" and not list(published_dir(db).glob(".*.tmp*"))


def test_reasons_and_names_are_bounded(db):
    (r1,) = runs_of(db, 2025)
    for args in (
        ["runs", "withdraw", r1["run_id"], "--reason", "x" * 501],
        ["runs", "withdraw", r1["run_id"], "--reason", "a\x1bb"],
        ["runs", "withdraw", r1["run_id"], "--reason", "   "],
        ["runs", "official", r1["run_id"], "--by", " "],
    ):
        code, _, err = cli(db, *args)
        assert code == 5 and "Traceback" not in err, (args, err)
    assert runs_of(db, 2025)[0]["publication"] == "trial"


# --------------------------------------------------------------------------- guarded assess (item 2)


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["--year", "2027", "--as-of", "2026-01-05"], "没有 2027 年度的评分方案", "no packaged scheme for 2027"),
        (["--year", "2029", "--as-of", "2026-01-05"], "没有 2029 年度的评分方案", "no packaged scheme for 2029"),
        # 2022 has a scheme given, but no loaded table has a record in 2022 (the sample starts in 2023:
        # one project approved in 2023, everything else 2024-2025)
        (
            ["--year", "2022", "--as-of", "2023-01-05", "--scheme", "hzeval/schemes/2024.yaml"],
            "没有 2022 年的任何记录",
            "no loaded table has an event in 2022",
        ),
        # as of 2024-12-31 23:59 is a minute before 2025 begins
        (["--year", "2025", "--as-of", "2024-12-31 23:59"], "早于 2025 年度开始", "before 2025 begins"),
        # a year after now (the clock of the machine: tests run before 2099)
        (["--year", "2025", "--as-of", "2099-01-05"], "晚于当前时间", "later than now"),
    ],
)
def test_assess_refuses_and_publishes_nothing(db, args, zh, en):
    before = sorted(p.name for p in published_dir(db).iterdir())
    latest = pointer(db, "LATEST")
    code, out, err = cli(db, "assess", *args)
    assert code == 5, err
    (line,) = err.strip().splitlines()  # one line, Chinese | English
    assert zh in line and en in line and " | " in line
    assert sorted(p.name for p in published_dir(db).iterdir()) == before and pointer(db, "LATEST") == latest
    with connect(db, read_only=True) as con:
        assert con.execute("select count(*) from runs").fetchall() == [(2,)]


def test_assess_guard_clock(monkeypatch, db):
    """The as-of guard compares with now: exactly now is allowed, a second later is not."""
    from hzeval.assessment import assess as assess_mod
    from hzeval.errors import AssessRefused

    now = dt.datetime(2026, 1, 5, 0, 0)
    monkeypatch.setattr(assess_mod, "_now", lambda: now)
    assess_mod.refuse_request(2025, now)
    with pytest.raises(AssessRefused):
        assess_mod.refuse_request(2025, now + dt.timedelta(seconds=1))
    assess_mod.refuse_request(2025, dt.datetime(2025, 1, 1))  # the year's first instant


# --------------------------------------------------------------------------- the dashboard's banner and count


def test_dashboard_shows_the_trial_banner_until_the_run_is_official(db):
    from hzeval.dashboard.app import Dashboard
    from hzeval.dashboard.store import Store, User

    (r1,) = runs_of(db, 2025)
    store = Store(published_dir(db), User("boss", "leader"))
    d = Dashboard(store, now=dt.datetime(2026, 1, 5, 9, 0))
    header, banner = d.banner.objects  # the freshness line over every page, then the 试算 banner
    # the sample's tables that expect recent records: the earliest newest is security_records' 2025-12-19 13:09
    assert (
        "hz-fresh" in header.css_classes
        and "数据截至（各表最新记录）2025-12-19 13:09 · 评估截至 2026-01-05 00:00" in (header.object)
    )
    assert "hz-trial" in banner.css_classes and "**试算**" in banner.object
    assert "2025 年度 · 试算 · 截至 2026-01-05" in d.run_select.options
    # 参评单位 = graded units: 40 units scored, HZ013 and HZ029 参照执行 → 38
    assert store.kpis(r1["run_id"])["graded"] == 38
    with connect(db) as con:
        make_official(con, r1["run_id"], "李四", None, db=db)
    d = Dashboard(Store(published_dir(db), User("boss", "leader")), now=dt.datetime(2026, 1, 5, 9, 0))
    (header,) = d.banner.objects  # no 试算 banner, the freshness line says 正式
    assert header.object.split("</div>")[0].endswith(" · 正式")
    assert "2025 年度 · 正式 · 截至 2026-01-05" in d.run_select.options


def test_the_scheduled_run_makes_trial_runs_unless_official(db, tmp_path, monkeypatch):
    """``hzeval run`` assesses a trial run; ``--official`` makes the run (new or reused) official,
    recorded as done by the scheduled job."""
    from types import SimpleNamespace

    from rich.console import Console

    from hzeval.scheduled import scheduled_run

    def render_year(db, year, agency, formats, out, workers, published=None, **_):  # reports not under test
        return SimpleNamespace(results=[], out_dir=out)

    monkeypatch.setattr("hzeval.services.render_year", render_year)
    kw = dict(
        drop=ROOT / "data_samples",
        year=2025,
        as_of="2026-01-05T12:00",
        scheme=None,
        formats=("html",),
        out=tmp_path / "reports",
        workers=1,
        log_file=tmp_path / "run.log",
        wait=True,
        console=Console(width=200),
    )
    scheduled_run(str(db), **kw)
    newest = runs_of(db, 2025)[0]
    assert newest["as_of"] == dt.datetime(2026, 1, 5, 12, 0) and newest["publication"] == "trial"
    scheduled_run(str(db), **kw, official=True)  # nothing new loaded: the same run is reused, now official
    again = runs_of(db, 2025)
    assert again[0]["run_id"] == newest["run_id"] and again[0]["publication"] == "official"
    assert again[0]["actor"].startswith("hzeval run (") and again[0]["read_by_default"]
    assert len(again) == 2
