"""Ingest (DESIGN §3): formats, encodings, headers, value parsing, rejects, bad files,
idempotence, replacement, calendar overrides, unresolved references, CLI errors.

Fixtures live in tests/fixtures/ingest/ (regenerate with make_fixtures.py there).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from hzeval.cli.console import print_summary, print_unresolved
from hzeval.contract import TABLES
from hzeval.errors import InputFileError
from hzeval.ingest import load_paths, normalize, unresolved_references
from hzeval.store.warehouse import connect

FIX = Path(__file__).parent / "fixtures" / "ingest"
ROOT = Path(__file__).resolve().parents[1]
D = dt.datetime


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "w.duckdb") as c:
        yield c


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def table_dict(con, table, key, cols):
    out = rows(con, f"select {key}, {', '.join(cols)} from {table} order by {key}")
    return {r[0]: r[1:] for r in out}


def counts(con) -> dict[str, int]:
    names = [*TABLES, "loads", "rejects", "replacements", "calendar"]
    return {n: rows(con, f"select count(*) from {n}")[0][0] for n in names}


def load(con, *names, **kw):
    return load_paths(con, [FIX / n for n in names], progress=False, **kw)


def rejects(con, file_part=None):
    sql = "select line, column_name, value, reason from rejects"
    if file_part:
        sql += f" where file like '%{file_part}%'"
    return rows(con, sql + " order by line, column_name")


# --------------------------------------------------------------------------- formats & encodings


def test_gbk_csv_with_chinese_headers(con):
    res = load(con, "agencies_gbk.csv")
    f = res.files[0]
    assert (f.table, f.file_format, f.encoding, f.rows_loaded, f.rows_rejected) == ("agencies", "csv", "gb18030", 4, 0)
    got = table_dict(con, "agencies", "agency_code", ["agency_name", "level", "region", "is_authority", "_line"])
    assert got == {
        "A001": ("惠州市政务服务数据管理局", "市级", "惠州市", True, 2),
        "A002": ("惠州市公安局", "市级", "惠州市", False, 3),
        "A003": ("惠城区人民政府", "县区", "惠城区", False, 4),  # 县（区） alias; empty bool → default false
        "A004": ("惠阳区人民政府", "县区", "惠阳区", False, 5),  # English alias, N
    }
    loads = rows(con, "select file, table_name, rows_loaded, file_format, encoding, length(sha256) from loads")
    assert loads == [(str(FIX / "agencies_gbk.csv"), "agencies", 4, "csv", "gb18030", 64)]


def test_bom_csv_every_timestamp_spelling(con):
    res = load(con, "share_applications_bom.csv")
    assert res.files[0].encoding == "utf-8-sig"
    assert res.rows_loaded == 5 and res.rows_rejected == 0
    got = table_dict(
        con,
        "share_applications",
        "application_id",
        [
            "resource_code",
            "share_type",
            "submitted_at",
            "replied_at",
            "decision",
            "valid_until",
            "cross_level",
            "in_catalog",
        ],
    )
    assert got == {
        # 'YYYY-MM-DD HH:MM' and 'YYYY-MM-DD HH:MM:SS'; empty in_catalog → its default true
        "SA01": (
            "R001",
            "有条件共享",
            D(2025, 9, 26, 10, 0),
            D(2025, 9, 29, 9, 30, 15),
            "同意",
            dt.date(2025, 12, 31),
            True,
            True,
        ),
        # 'YYYY/M/D H:MM' and with seconds; English aliases
        "SA02": (
            "R001",
            "有条件共享",
            D(2025, 9, 26, 9, 5),
            D(2025, 9, 29, 17, 0),
            "同意",
            dt.date(2025, 12, 31),
            False,
            False,
        ),
        # 'YYYY年M月D日' → 00:00; with a time; vocabulary case-insensitive
        "SA03": (
            "R002",
            "无条件共享",
            D(2025, 9, 26, 0, 0),
            D(2025, 9, 29, 8, 30),
            "部分同意",
            dt.date(2025, 12, 31),
            False,
            False,
        ),
        # ISO with Z: 02:00 UTC = 10:00 Beijing; +08:00 kept; a time part on a date column → its date
        "SA04": (
            "R002",
            "不予共享",
            D(2025, 9, 26, 10, 0),
            D(2025, 9, 26, 10, 0),
            "拒绝",
            dt.date(2025, 12, 31),
            True,
            True,
        ),
        # -0400: 22:00 on the 25th = 02:00 UTC on the 26th = 10:00 local; fractional seconds with Z
        "SA05": (None, "不予共享", D(2025, 9, 26, 10, 0), D(2025, 9, 26, 10, 30, 0, 250000), None, None, False, True),
    }


def test_xlsx_chinese_sheet_and_headers(con):
    res = load(con, "catalog_snapshot_zh.xlsx")
    assert (res.files[0].table, res.files[0].file_format, res.rows_loaded) == ("catalog_snapshot", "xlsx", 3)
    got = table_dict(
        con,
        "catalog_snapshot",
        "resource_code",
        [
            "snapshot_date",
            "provider_code",
            "share_type",
            "open_type",
            "update_frequency",
            "status",
            "published_date",
            "nonshare_filed",
            "_line",
        ],
    )
    assert got == {
        "R001": (
            dt.date(2025, 12, 31),
            "A002",
            "有条件共享",
            "不予开放",
            "每日",
            "已发布",
            dt.date(2025, 3, 1),
            None,
            2,
        ),
        "R002": (
            dt.date(2025, 12, 31),
            "A003",
            "无条件共享",
            "无条件开放",
            "每月",
            "已发布",
            dt.date(2025, 4, 2),
            None,
            3,
        ),
        "R003": (dt.date(2025, 12, 31), "A009", "不予共享", "不予开放", "实时", "已发布", None, True, 4),
    }


def test_xlsx_first_sheet_when_no_sheet_is_named_like_a_table(con):
    load(con, "projects_first_sheet.xlsx")
    got = table_dict(con, "projects", "project_id", ["project_name", "owner_code", "approved_at", "fiscal_funded"])
    assert got == {
        "P1": ("一网统管平台", "A002", D(2025, 3, 1, 9, 30), True),
        "P2": ("数据中台", "A003", None, True),  # empty bool → default true
    }


def test_parquet_tz_aware_timestamps_become_shanghai_local(con):
    res = load(con, "api_calls_tz.parquet")
    assert (res.files[0].file_format, res.files[0].encoding, res.rows_loaded, res.rows_rejected) == (
        "parquet",
        None,
        2,
        1,
    )
    got = table_dict(con, "api_calls", "call_id", ["called_at", "rows_returned", "_line"])
    assert got == {
        "K1": (D(2025, 9, 26, 10, 0), 10, 1),  # 02:00 UTC
        "K2": (D(2026, 1, 1, 0, 30), None, 2),  # 16:30 UTC on 31 Dec = 00:30 on 1 Jan local
    }
    # Parquet line = row index + 1
    assert rejects(con) == [(3, "called_at", None, normalize.R_MISSING)]


def test_parquet_naive_timestamps_and_string_columns(con):
    load(con, "aggregation_log_naive.parquet")
    got = table_dict(con, "aggregation_log", "job_id", ["started_at", "finished_at", "rows_received", "status"])
    assert got == {"J10": (D(2025, 9, 26, 1, 0), D(2025, 9, 26, 1, 5), 100, "成功")}
    assert rejects(con) == [(2, "finished_at", "not yet", normalize.R_TIME)]


def test_jsonl_periods_and_line_numbers(con):
    res = load(con, "share_feedback.jsonl")
    assert (res.files[0].file_format, res.files[0].encoding) == ("jsonl", "utf-8")
    got = rows(con, "select application_id, period, submitted_at, _line from share_feedback order by _line")
    assert got == [
        ("SA01", "2025Q3", D(2025, 10, 10, 9, 0), 1),
        ("SA01", "2025Q4", D(2026, 1, 8), 2),
        ("SA02", "2025Q3", D(2025, 10, 11, 9, 0), 3),
        ("SA03", "2025Q3", D(2025, 10, 12), 4),
        ("SA04", "2025Q3", D(2025, 10, 13, 8, 0), 5),
    ]
    assert rejects(con) == [(6, "period", "2025Q5", normalize.R_PERIOD)]


# --------------------------------------------------------------------------- headers


def test_fullwidth_spaced_and_alias_headers(con):
    res = load(con, "headers_fullwidth.csv")
    f = res.files[0]
    assert f.table == "catalog_events"
    assert any("备注Ｘ" in w for w in f.warnings)  # unknown column: a warning, not an error
    got = table_dict(
        con, "catalog_events", "event_id", ["resource_code", "agency_code", "event_type", "event_time", "change_id"]
    )
    assert got == {
        # full-width digits and punctuation in a value are normalised
        "E1": ("R001", "A002", "编制提交", D(2025, 9, 26, 10, 0), "C1"),
        "E2": ("R001", "A001", "审定通过", D(2025, 9, 30, 16, 0), None),
    }


def test_norm_header():
    assert normalize.norm_header("　Ｅｖｅｎｔ-ＩＤ　") == "event_id"
    assert normalize.norm_header(" Resource  Code ") == "resource_code"
    assert normalize.norm_header("\ufeff机构代码") == "机构代码"


def test_recognise_by_header_and_by_prefix():
    r = normalize.recognise(["agency_code", "year", "filed_at"], "x.csv")
    assert r.table.name == "open_plans"
    # a header that fits two tables equally: the file name decides
    both = ["agency_code", "year", "filed_at", "record_type", "done_at"]
    with pytest.raises(InputFileError, match="open_plans"):
        normalize.recognise(both, "x.csv", (None, "x"))
    assert normalize.recognise(both, "f.csv", (None, "security_records_2025")).table.name == "security_records"
    assert normalize.recognise(both, "f.csv", (None, "安全记录2025")).table.name == "security_records"
    # longest table name wins: projects_2025 is projects, project_data_list_x is project_data_list
    assert normalize.table_by_prefix("projects_2025").name == "projects"
    assert normalize.table_by_prefix("project_data_list_x").name == "project_data_list"
    # a prefix naming a table whose required columns are missing
    with pytest.raises(InputFileError) as ei:
        normalize.recognise(["call_id", "called_at"], "api_calls_1.csv", (None, "api_calls_1"))
    assert "consumer_code" in str(ei.value) and "resource_code" in str(ei.value) and "api_calls_1.csv" in str(ei.value)


def test_duplicate_header_is_an_error():
    with pytest.raises(InputFileError, match="agency_code"):
        normalize.recognise(["agency_code", "机构代码", "agency_name", "level"], "a.csv")


# --------------------------------------------------------------------------- bad rows


def test_bad_rows_land_in_rejects_with_line_and_column(con):
    res = load(con, "share_applications_bad_rows.csv")
    f = res.files[0]
    assert (f.rows_loaded, f.rows_rejected) == (1, 8)
    assert [r[0] for r in rows(con, "select application_id from share_applications")] == ["B01"]
    vocab_reason = normalize.r_vocab(TABLES["share_applications"].column("share_type"))
    assert rejects(con) == [
        (3, "applicant_code", None, normalize.R_MISSING),
        (4, "submitted_at", "2025-02-30 10:00", normalize.R_TIME),  # no silent roll-over to March
        (5, "share_type", "有时共享", vocab_reason),
        (6, "cross_level", "maybe", normalize.R_BOOL),
        (7, "application_id", "B01", "键重复，与第 2 行相同 / duplicate key, same as line 2"),
        (8, "valid_until", "2025-13-01", normalize.R_DATE),
        (9, "submitted_at", "soon", normalize.R_TIME),
        (10, "provider_code", None, normalize.R_MISSING),  # one reject row per bad cell
        (10, "submitted_at", "yesterday", normalize.R_TIME),
    ]
    meta = rows(con, "select distinct load_id, file, table_name from rejects")
    assert meta == [(f.load_id, str(FIX / "share_applications_bad_rows.csv"), "share_applications")]
    assert rows(con, "select rows_loaded, rows_rejected from loads") == [(1, 8)]


def test_bad_number(con):
    load(con, "aggregation_log_bad_rows.csv")
    got = table_dict(con, "aggregation_log", "job_id", ["channel", "rows_received", "rows_rejected", "status"])
    assert got == {"J1": ("接口对接", 1200, 3, "成功")}  # thousands separator removed
    assert rejects(con) == [(4, "rows_received", "12x", normalize.R_NUMBER)]  # line 3 is blank


# --------------------------------------------------------------------------- bad files


BAD_FILES = [
    ("agencies_missing_required_column.csv", "level"),
    ("unrecognisable_table.csv", "foo"),
    ("empty.csv", None),
    ("undecodable.csv", None),
    ("corrupt.xlsx", None),
    ("corrupt.parquet", None),
    ("api_calls_ragged.csv", None),  # passes the header check, fails mid-transaction
]


@pytest.mark.parametrize("name,column", BAD_FILES)
def test_bad_file_raises_and_loads_nothing(con, name, column):
    load(con, "agencies_gbk.csv")
    before = counts(con)
    with pytest.raises(InputFileError) as ei:
        # a good file first: it must not be loaded either
        load(con, "share_applications_bom.csv", name)
    msg = str(ei.value)
    assert name in msg and "|" in msg and "\n" not in msg
    assert ei.value.context["file"].endswith(name)
    if column:
        assert column in msg
    assert counts(con) == before


def test_missing_required_column_names_table_and_column(con):
    with pytest.raises(InputFileError) as ei:
        load(con, "agencies_missing_required_column.csv")
    e = ei.value
    assert e.context["table"] == "agencies" and e.context["column"] == "level"
    assert "缺少必填列" in e.zh and "lacks required column" in e.en


def test_header_only_file_loads_zero_rows(con):
    res = load(con, "agencies_header_only.csv")
    assert (res.files[0].status, res.rows_loaded) == ("loaded", 0)


def test_missing_path_is_an_error(con, tmp_path):
    with pytest.raises(InputFileError, match="nope"):
        load_paths(con, [tmp_path / "nope.csv"], progress=False)


# --------------------------------------------------------------------------- folders, idempotence, replacement


def test_folder_skips_hidden_and_readme_and_loads_twice_idempotently(con, tmp_path):
    drop = tmp_path / "drop"
    (drop / "sub").mkdir(parents=True)
    shutil.copy(FIX / "agencies_gbk.csv", drop / "agencies_gbk.csv")
    shutil.copy(FIX / "share_feedback.jsonl", drop / "sub" / "share_feedback.jsonl")
    (drop / "README.md").write_text("# drop\n")
    (drop / ".hidden.csv").write_text("foo\n1\n")
    (drop / "notes.yaml").write_text("a: 1\n")
    first = load_paths(con, [drop], progress=False)
    assert [Path(f.file).name for f in first.files] == ["agencies_gbk.csv", "share_feedback.jsonl"]
    assert first.skipped == [str(drop / "notes.yaml")]
    after_first = counts(con)
    second = load_paths(con, [drop], progress=False)
    assert [f.status for f in second.files] == ["unchanged", "unchanged"]
    assert second.rows_loaded == 0
    assert counts(con) == after_first
    out = io.StringIO()
    print_summary(second, Console(file=out, width=200))
    assert "相同内容已跳过" in out.getvalue()


def test_same_bytes_under_another_name_are_skipped(con, tmp_path):
    load(con, "agencies_gbk.csv")
    before = counts(con)
    copy = tmp_path / "agencies_copy.csv"
    shutil.copy(FIX / "agencies_gbk.csv", copy)
    res = load_paths(con, [copy], progress=False)
    assert res.files[0].status == "unchanged" and counts(con) == before


def test_newer_file_replaces_overlapping_keys_and_records_it(con):
    first = load(con, "agencies_gbk.csv")
    second = load(con, "agencies_update.csv")
    f = second.files[0]
    assert (f.rows_loaded, f.rows_replaced) == (3, 2)
    got = table_dict(con, "agencies", "agency_code", ["agency_name", "_load_id"])
    old, new = first.files[0].load_id, f.load_id
    assert got == {
        "A001": ("惠州市政务服务数据管理局", old),
        "A002": ("惠州市公安局（更名）", new),
        "A003": ("惠城区人民政府（更名）", new),
        "A004": ("惠阳区人民政府", old),
        "A005": ("博罗县人民政府", new),
    }
    assert rows(con, "select load_id, table_name, replaced_load_id, rows from replacements") == [
        (new, "agencies", old, 2)
    ]
    assert rows(con, "select rows_replaced from loads where load_id = ?", [new]) == [(2,)]


def test_two_files_of_one_table_in_one_call(con):
    res = load(con, "agencies_gbk.csv", "agencies_update.csv")
    assert [f.rows_replaced for f in res.files] == [0, 2]
    assert rows(con, "select count(*) from agencies") == [(5,)]


# --------------------------------------------------------------------------- calendar, references, summary


def test_calendar_overrides_extend_the_calendar(con):
    assert 2027 not in [r[0] for r in rows(con, "select distinct year from calendar")]
    load(con, "calendar_overrides_2027.csv")
    got = dict(
        rows(
            con,
            "select day, is_workday from calendar"
            " where day in ('2027-01-01', '2027-01-04', '2027-02-20', '2027-02-21')",
        )
    )
    assert got == {
        dt.date(2027, 1, 1): False,  # 元旦 override
        dt.date(2027, 1, 4): True,  # an ordinary Monday
        dt.date(2027, 2, 20): True,  # make-up Saturday
        dt.date(2027, 2, 21): False,  # an ordinary Sunday
    }
    assert rows(con, "select count(*) from calendar where year = 2027") == [(365,)]


def test_unresolved_references_are_kept_and_listed(con):
    load(con, "agencies_gbk.csv", "catalog_snapshot_zh.xlsx", "api_calls_tz.parquet")
    got = unresolved_references(con)
    assert {"table": "catalog_snapshot", "column": "provider_code", "value": "A009", "rows": 1} in got
    # api_calls resource codes resolve (R001, R002 are in the snapshot); all consumers are agencies
    assert not [r for r in got if r["table"] == "api_calls"]
    assert rows(con, "select count(*) from catalog_snapshot where provider_code = 'A009'") == [(1,)]
    out = io.StringIO()
    print_unresolved(got, Console(file=out, width=200))
    assert "A009" in out.getvalue()


def test_aggregation_exemptions_bad_rows_and_unknown_codes(con, tmp_path):
    """汇聚备案 (第十八条第二款), Chinese headers: a missing required value and an unparseable date go to rejects
    with file, line and column; the good rows load, unknown codes kept and listed by validate."""
    f = tmp_path / "aggregation_exemptions.csv"
    f.write_text(
        "机构代码,资源代码,备案日期,备案原因\n"
        "A001,R001,2025年3月10日,涉密专网\n"  # line 2: good
        ",R002,2025-03-11,\n"  # line 3: no agency
        "A001,R003,2025-02-30,\n"  # line 4: no such day
        "A404,R404,2025-04-01,\n",  # line 5: good row, codes the warehouse does not know
        encoding="utf-8",
    )
    res = load_paths(con, [f], progress=False)
    assert (res.files[0].table, res.files[0].rows_loaded, res.files[0].rows_rejected) == (
        "aggregation_exemptions",
        2,
        2,
    )
    assert rows(con, "select agency_code, resource_code, filed_at from aggregation_exemptions order by 1") == [
        ("A001", "R001", dt.date(2025, 3, 10)),
        ("A404", "R404", dt.date(2025, 4, 1)),
    ]
    assert rows(con, "select file, line, column_name, value, reason from rejects order by line") == [
        (str(f), 3, "agency_code", None, normalize.R_MISSING),
        (str(f), 4, "filed_at", "2025-02-30", normalize.R_DATE),
    ]
    got = unresolved_references(con)
    assert {"table": "aggregation_exemptions", "column": "agency_code", "value": "A404", "rows": 1} in got
    assert {"table": "aggregation_exemptions", "column": "resource_code", "value": "R404", "rows": 1} in got


def test_backflow_requests_bad_rows_and_unknown_codes(con, tmp_path):
    """数据回流申请, English headers: a missing holder and an unparseable time go to rejects with file, line and
    column; unknown codes are kept and listed by validate."""
    f = tmp_path / "backflow_requests.csv"
    f.write_text(
        "request_id,requester_code,holder_code,system_name,requested_at,delivered_at\n"
        "B1,HZ101,HZ002,人口库,2025-02-17 10:00,2025/3/5 17:00\n"  # line 2: good
        "B2,HZ101,,人口库,2025-02-18 10:00,\n"  # line 3: no holder
        "B3,HZ101,HZ002,人口库,soon,\n"  # line 4: no time
        "B4,HZ999,HZ002,人口库,2025-02-19 10:00,\n",  # line 5: good, unknown requester
        encoding="utf-8",
    )
    res = load_paths(con, [f], progress=False)
    assert (res.files[0].table, res.files[0].rows_loaded, res.files[0].rows_rejected) == ("backflow_requests", 2, 2)
    assert rows(con, "select request_id, delivered_at from backflow_requests order by 1") == [
        ("B1", D(2025, 3, 5, 17, 0)),
        ("B4", None),
    ]
    assert rows(con, "select file, line, column_name, value, reason from rejects order by line") == [
        (str(f), 3, "holder_code", None, normalize.R_MISSING),
        (str(f), 4, "requested_at", "soon", normalize.R_TIME),
    ]
    got = unresolved_references(con)
    assert {"table": "backflow_requests", "column": "requester_code", "value": "HZ999", "rows": 1} in got
    assert {"table": "backflow_requests", "column": "holder_code", "value": "HZ002", "rows": 2} in got


def test_summary_mentions_rejects_and_unresolved(con):
    res = load(con, "share_applications_bad_rows.csv")
    assert res.unresolved > 0
    out = io.StringIO()
    print_summary(res, Console(file=out, width=200))
    text = out.getvalue()
    assert "已加载" in text and "rejects" in text and "hzeval validate" in text and "8" in text


# --------------------------------------------------------------------------- value parsing (unit)


def _ts(values):
    s = pl.Series("s", values, dtype=pl.String)
    return normalize.parse_time_series(s).to_list()


def test_timestamp_forms_hand_worked():
    assert _ts(
        [
            "2025-09-26T02:00:00Z",
            "2025-09-26T10:00:00+0800",
            "2025-09-26T10:00+08",
            "2025年9月26日",
            "2025年9月26日 8:05",
            "2025/9/26 9:05",
            "2025-09-26 10:00:00.5",
            "2024-02-29",
            "2025-02-29",
            "2025-09-26 24:00",
            None,
        ]
    ) == [
        D(2025, 9, 26, 10),
        D(2025, 9, 26, 10),
        D(2025, 9, 26, 10),
        D(2025, 9, 26),
        D(2025, 9, 26, 8, 5),
        D(2025, 9, 26, 9, 5),
        D(2025, 9, 26, 10, 0, 0, 500000),
        D(2024, 2, 29),
        None,
        None,
        None,
    ]


def test_bool_period_list_number_parsers():
    df = pl.DataFrame({"s": ["是", "否", "Y", "n", "TRUE", "f", "1", "0", "yes", "No", "x"]})
    assert df.select(normalize.parse_bool(pl.col("s"))).to_series().to_list() == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        None,
    ]
    df = pl.DataFrame({"s": ["2025Q3", "2025-Q3", "2025 q3", "2025年第3季度", "2025年三季度", "2025Q0", "2025"]})
    assert df.select(normalize.parse_period(pl.col("s"))).to_series().to_list() == ["2025Q3"] * 5 + [None, None]
    df = pl.DataFrame({"s": ["R1；R2、R3，R4, R5 ;", ";"]})
    assert df.select(normalize.parse_list(pl.col("s"))).to_series().to_list() == ["R1;R2;R3;R4;R5", None]
    df = pl.DataFrame({"s": ["1,234", "12", "3.0", "3.5", "x"]})
    assert df.select(normalize.parse_number(pl.col("s"), True)).to_series().to_list() == [1234, 12, 3, None, None]


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31)).map(lambda d: d.replace(microsecond=0)),
    st.integers(min_value=-12, max_value=14),
)
def test_timestamp_roundtrip_property(when, offset_hours):
    """Every accepted spelling of the same instant parses to the same local time."""
    tz = dt.timezone(dt.timedelta(hours=offset_hours))
    aware = when.replace(tzinfo=tz)
    local = aware.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    sign = "+" if offset_hours >= 0 else "-"
    spellings = [
        aware.isoformat(),
        aware.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{abs(offset_hours):02d}00",
    ]
    naive = [
        when.strftime("%Y-%m-%d %H:%M:%S"),
        f"{when.year}/{when.month}/{when.day} {when.hour}:{when.minute:02d}:{when.second:02d}",
        f"{when.year}年{when.month}月{when.day}日 {when.hour:02d}:{when.minute:02d}:{when.second:02d}",
    ]
    assert _ts(spellings) == [local] * len(spellings)
    assert _ts(naive) == [when] * len(naive)


# --------------------------------------------------------------------------- CLI


def test_cli_bad_file_one_line_error(tmp_path):
    exe = ROOT / ".venv" / "bin" / "hzeval"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hzeval.cli.main"]
    bad = FIX / "agencies_missing_required_column.csv"
    p = subprocess.run(
        [*cmd, "--db", str(tmp_path / "tmp.duckdb"), "load", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert p.returncode != 0
    err = p.stderr.strip()
    assert "Traceback" not in err and "Traceback" not in p.stdout
    assert len(err.splitlines()) == 1, err
    assert "文件" in err and "file" in err and bad.name in err and "level" in err


def test_cli_load_and_validate(tmp_path):
    exe = ROOT / ".venv" / "bin" / "hzeval"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hzeval.cli.main"]
    db = str(tmp_path / "tmp.duckdb")
    p = subprocess.run(
        [*cmd, "--db", db, "load", str(FIX / "share_applications_bad_rows.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "rejects" in p.stdout
    p = subprocess.run([*cmd, "--db", db, "validate"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "A002" in p.stdout


def test_progress_bar_only_for_large_drops():
    from hzeval.cli.console import PROGRESS_MIN_BYTES
    from hzeval.cli.console import load_bar as _progress

    assert _progress(True, 10_000) is None
    assert _progress(False, PROGRESS_MIN_BYTES * 10) is None
    assert _progress(True, PROGRESS_MIN_BYTES * 10) is not None


def test_collection_list_and_objection_receipt_inputs(con, tmp_path):
    """Issue 11 inputs: a collection-list row without agency_code goes to rejects (the good rows load);
    an objection received by an agency not in the register is kept and listed by validation;
    agencies.agency_type takes aliases and defaults to 行政机关."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "agencies.csv").write_text(
        "机构代码,机构名称,层级,机构类型\nA1,甲局,市级,\nA2,某中心,市级,参照执行\nA3,驻惠单位,市级,by reference\n",
        encoding="utf-8",
    )
    (drop / "collection_list.csv").write_text(
        "agency_code,item_name,item_code,resource_code,listed_at\n"
        "A1,姓名,DE1,,2024-03-01\n"
        ",婚姻登记证字号,DE2,,2024-03-01\n"
        "A1,地址,,R1,2024年3月2日\n",
        encoding="utf-8",
    )
    (drop / "objections.csv").write_text(
        "objection_id,resource_code,provider_code,raised_by,raised_at,received_by\n"
        "O1,R1,A1,数据主体,2025-03-01 10:00,A9\n"
        "O2,R1,A1,data subject,2025-03-02 10:00,A2\n",
        encoding="utf-8",
    )
    load_paths(con, [drop], progress=False)
    assert rows(con, "select agency_code, agency_type from agencies order by 1") == [
        ("A1", "行政机关"),
        ("A2", "参照执行"),
        ("A3", "参照执行"),
    ]
    assert rows(con, "select agency_code, item_name, listed_at from collection_list order by item_name") == [
        ("A1", "地址", dt.date(2024, 3, 2)),
        ("A1", "姓名", dt.date(2024, 3, 1)),
    ]
    # line 3 of the file (header = line 1)
    assert rejects(con, "collection_list") == [(3, "agency_code", None, "缺少必填值 / missing required value")]
    got = unresolved_references(con)
    assert {"table": "objections", "column": "received_by", "value": "A9", "rows": 1} in got
    assert not [r for r in got if r["column"] == "received_by" and r["value"] == "A2"]
