"""Streaming ingest (DESIGN §9, issue 16): a file larger than one batch loads exactly as it did when
read whole — rows, rejects with their file line numbers across batch boundaries, duplicate keys
across batches, replacement of older loads, idempotence and all-or-nothing.

The batch size is lowered with ``HZEVAL_LOAD_BATCH_ROWS`` so that a few-line fixture spans several
batches. Line numbers: CSV data row i (0-based) is on line i + 2 (header on line 1); Parquet row i
is "line" i + 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from conftest import load_snapshot

from hzeval.contract import TABLES
from hzeval.errors import InputFileError
from hzeval.ingest import load_paths, normalize, readers
from hzeval.ingest.limits import Limits
from hzeval.store.warehouse import connect

FIX = Path(__file__).parent / "fixtures" / "ingest"
API_HEADER = "call_id,called_at,application_id,consumer_code,resource_code,status,rows_returned"
D = dt.datetime


def dup(line: int) -> str:
    return f"键重复，与第 {line} 行相同 / duplicate key, same as line {line}"


@pytest.fixture
def wh(tmp_path):
    with connect(tmp_path / "w.duckdb") as c:
        yield c


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def counts(con) -> dict[str, int]:
    return {n: rows(con, f"select count(*) from {n}")[0][0] for n in [*TABLES, "loads", "rejects", "replacements"]}


def load(con, *paths, **limits):
    return load_paths(
        con, [Path(p) for p in paths], progress=False, limits=Limits.from_env(**limits) if limits else None
    )


def write(tmp_path, name, text, encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


@pytest.mark.parametrize(
    "names",
    [
        ["share_applications_bad_rows.csv"],  # bad cells, a duplicate key 5 lines after its first
        ["aggregation_log_bad_rows.csv"],  # a blank line in the middle
        ["agencies_gbk.csv", "agencies_update.csv"],  # GBK; then a replacement
        ["share_applications_bom.csv"],
        ["headers_fullwidth.csv"],
        ["api_calls_tz.parquet", "aggregation_log_naive.parquet"],
        ["share_feedback.jsonl"],
    ],
)
@pytest.mark.parametrize("batch", [1, 2, 3])
def test_batched_load_equals_whole_file_load(tmp_path, monkeypatch, names, batch):
    files = [FIX / n for n in names]
    with connect(tmp_path / "whole.duckdb") as con:
        for f in files:
            load(con, f)
        whole = load_snapshot(con)
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", str(batch))
    with connect(tmp_path / "batched.duckdb") as con:
        for f in files:
            load(con, f)
        batched = load_snapshot(con)
    assert batched == whole
    assert any(whole[t] for t in TABLES)  # the fixtures load something


def test_duplicates_and_bad_rows_across_batch_boundaries(wh, tmp_path, monkeypatch):
    # 8 data rows on lines 2..9, batches of 3: [2,3,4] [5,6,7] [8,9]
    p = write(
        tmp_path,
        "api_calls.csv",
        "\n".join(
            [
                API_HEADER,
                "C1,2025-03-03 09:00:00,A1,HZ001,R1,成功,10",  # line 2
                "C2,2025-03-03 09:01:00,A1,HZ001,R1,成功,11",  # line 3
                "C3,2025-03-03 09:02:00,A1,HZ001,R1,成功,12",  # line 4
                "C1,2025-03-04 09:00:00,A1,HZ001,R1,成功,13",  # line 5: C1 again, first on line 2 (earlier batch)
                "C4,soon,A1,HZ001,R1,成功,14",  # line 6: bad time
                "C5,2025-03-03 09:05:00,A1,HZ001,R1,成功,15",  # line 7
                "C5,2025-03-03 09:06:00,A1,HZ001,R1,成功,16",  # line 8: C5 again, first on line 7 (earlier batch)
                "C6,2025-03-03 09:07:00,A1,HZ001,R1,成功,x7",  # line 9 (last batch): bad number
            ]
        )
        + "\n",
    )
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "3")
    res = load(wh, p)
    f = res.files[0]
    assert (f.rows_loaded, f.rows_rejected, f.rows_replaced) == (4, 4, 0)
    assert rows(wh, "select call_id, called_at, rows_returned, _line from api_calls order by _line") == [
        ("C1", D(2025, 3, 3, 9, 0), 10, 2),
        ("C2", D(2025, 3, 3, 9, 1), 11, 3),
        ("C3", D(2025, 3, 3, 9, 2), 12, 4),
        ("C5", D(2025, 3, 3, 9, 5), 15, 7),
    ]
    assert rows(wh, "select line, column_name, value, reason from rejects order by line") == [
        (5, "call_id", "C1", dup(2)),
        (6, "called_at", "soon", normalize.R_TIME),
        (8, "call_id", "C5", dup(7)),
        (9, "rows_returned", "x7", normalize.R_NUMBER),
    ]
    assert rows(wh, "select rows_loaded, rows_rejected, rows_replaced, encoding from loads") == [(4, 4, 0, "utf-8")]


def test_a_key_repeated_in_one_batch_and_the_next(wh, tmp_path, monkeypatch):
    # batches of 2: [2,3] [4,5]; K1 on lines 2, 3 (same batch) and 5 (next batch): both name line 2
    p = write(
        tmp_path,
        "api_calls.csv",
        "\n".join(
            [
                API_HEADER,
                "K1,2025-03-03 09:00:00,,HZ001,R1,,1",
                "K1,2025-03-03 09:00:00,,HZ001,R1,,2",
                "K2,2025-03-03 09:00:00,,HZ001,R1,,3",
                "K1,2025-03-03 09:00:00,,HZ001,R1,,4",
            ]
        )
        + "\n",
    )
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "2")
    load(wh, p)
    assert rows(wh, "select call_id, rows_returned from api_calls order by _line") == [("K1", 1), ("K2", 3)]
    assert rows(wh, "select line, value, reason from rejects order by line") == [(3, "K1", dup(2)), (5, "K1", dup(2))]


def test_replacement_across_batches_and_idempotence(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "2")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write(
        tmp_path / "a",
        "api_calls.csv",
        "\n".join(
            [
                API_HEADER,
                "C1,2025-03-03 09:00:00,,HZ001,R1,成功,1",
                "C2,2025-03-03 09:00:00,,HZ001,R1,成功,2",
                "C3,2025-03-03 09:00:00,,HZ001,R1,成功,3",
            ]
        )
        + "\n",
    )
    second = write(
        tmp_path / "b",
        "api_calls.csv",
        "\n".join(
            [
                API_HEADER,
                "C9,2025-03-05 09:00:00,,HZ001,R1,成功,90",
                "C2,2025-03-05 09:00:00,,HZ001,R1,失败,20",  # batch 1: replaces C2 of the first load
                "C3,2025-03-05 09:00:00,,HZ001,R1,失败,30",  # batch 2: replaces C3
            ]
        )
        + "\n",
    )
    r1 = load(wh, first)
    r2 = load(wh, second)
    assert r2.files[0].rows_replaced == 2 and r2.files[0].rows_loaded == 3
    assert rows(wh, "select call_id, status, rows_returned, _load_id from api_calls order by call_id") == [
        ("C1", "成功", 1, r1.files[0].load_id),
        ("C2", "失败", 20, r2.files[0].load_id),
        ("C3", "失败", 30, r2.files[0].load_id),
        ("C9", "成功", 90, r2.files[0].load_id),
    ]
    assert rows(wh, "select load_id, table_name, replaced_load_id, rows from replacements") == [
        (r2.files[0].load_id, "api_calls", r1.files[0].load_id, 2)
    ]
    before = counts(wh)
    again = load(wh, second)  # same bytes: skipped, nothing written
    assert again.files[0].status == "unchanged" and counts(wh) == before


def test_parquet_batches_keep_line_numbers(wh, tmp_path, monkeypatch):
    p = tmp_path / "api_calls.parquet"
    pl.DataFrame(
        {
            "call_id": ["P1", "P2", "P3", "P1", "P5"],  # row 3 = line 4 repeats line 1
            "called_at": [D(2025, 3, 3, 9, i) for i in range(5)],
            "consumer_code": ["HZ001"] * 5,
            "resource_code": ["R1", "R1", None, "R1", "R1"],  # line 3: missing required value
            "rows_returned": [1, 2, 3, 4, 5],
        }
    ).write_parquet(p, row_group_size=2)
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "2")
    f = load(wh, p).files[0]
    assert (f.rows_loaded, f.rows_rejected) == (3, 2)
    assert rows(wh, "select call_id, _line from api_calls order by _line") == [("P1", 1), ("P2", 2), ("P5", 5)]
    assert rows(wh, "select line, column_name, value, reason from rejects order by line") == [
        (3, "resource_code", None, normalize.R_MISSING),
        (4, "call_id", "P1", dup(1)),
    ]


def test_gbk_csv_in_batches(wh, tmp_path, monkeypatch):
    p = write(
        tmp_path,
        "agencies.csv",
        "机构代码,机构名称,层级\nHZ001,惠州市公安局,市级\nHZ002,惠城区教育局,市级\nHZ003,惠阳区民政局,市级\n",
        encoding="gbk",
    )
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "2")
    f = load(wh, p).files[0]
    assert (f.encoding, f.rows_loaded, f.rows_rejected) == ("gb18030", 3, 0)
    assert rows(wh, "select agency_code, agency_name, _line from agencies order by agency_code") == [
        ("HZ001", "惠州市公安局", 2),
        ("HZ002", "惠城区教育局", 3),
        ("HZ003", "惠阳区民政局", 4),
    ]


def test_too_long_field_in_last_batch_rejects_its_row(wh, tmp_path, monkeypatch):
    long = "长" * 21  # the longest other cell is a 19-character time
    p = write(
        tmp_path,
        "api_calls.csv",
        "\n".join(
            [
                API_HEADER,
                "C1,2025-03-03 09:00:00,,HZ001,R1,ok,1",
                "C2,2025-03-03 09:00:00,,HZ001,R1,ok,2",
                f"C3,2025-03-03 09:00:00,,HZ001,R1,{long},3",  # line 4, in the second batch
            ]
        )
        + "\n",
    )
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "2")
    f = load(wh, p, max_field_chars=20).files[0]
    assert (f.rows_loaded, f.rows_rejected) == (2, 1)
    assert rows(wh, "select line, column_name, value, reason from rejects") == [
        (4, "status", long, normalize.r_too_long(20))
    ]


def test_bad_header_loads_nothing_even_beside_good_files(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "1")
    drop = tmp_path / "drop"
    drop.mkdir()
    write(
        drop,
        "api_calls_a.csv",
        API_HEADER + "\nC1,2025-03-03 09:00:00,,HZ001,R1,,1\nC2,2025-03-03 09:00:00,,HZ001,R1,,2\n",
    )
    write(
        drop, "api_calls_b.csv", "call_id,called_at,consumer_code\nC3,2025-03-03 09:00:00,HZ001\n"
    )  # lacks resource_code
    before = counts(wh)
    with pytest.raises(InputFileError) as err:
        load(wh, drop)
    assert "resource_code" in err.value.en and "api_calls_b.csv" in err.value.en
    assert counts(wh) == before


def test_corrupt_content_after_good_batches_rolls_everything_back(wh, tmp_path, monkeypatch):
    # a good file, then a Parquet file whose body is cut: the call raises and nothing is written
    monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", "1")
    good = write(tmp_path, "agencies.csv", "agency_code,agency_name,level\nHZ001,惠州市公安局,市级\n")
    bad = tmp_path / "api_calls.parquet"
    pl.DataFrame(
        {
            "call_id": [f"C{i}" for i in range(1000)],
            "called_at": [D(2025, 3, 3)] * 1000,
            "consumer_code": ["HZ001"] * 1000,
            "resource_code": ["R1"] * 1000,
        }
    ).write_parquet(bad, row_group_size=100)
    data = bad.read_bytes()
    # keep the footer (so the header pass succeeds) but zero the middle of the column data
    mid = len(data) // 2
    bad.write_bytes(data[: mid - 200] + b"\0" * 400 + data[mid + 200 :])
    before = counts(wh)
    with pytest.raises(InputFileError):
        load(wh, good, bad)
    assert counts(wh) == before


def test_fingerprint_reads_encoding_while_hashing(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(readers, "_CHUNK", 3)  # multibyte characters cut across chunks
    text = "agency_code,agency_name,level\nHZ001,惠州市公安局,市级\n"
    for enc, want in (("utf-8", "utf-8"), ("gbk", "gb18030")):
        p = write(tmp_path, f"agencies_{enc}.csv", text, encoding=enc)
        plan = readers.inspect_file(p)
        fp = readers.fingerprint(plan)
        assert (fp.sha256, fp.encoding) == (hashlib.sha256(p.read_bytes()).hexdigest(), want)
    bom = tmp_path / "agencies_bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert readers.fingerprint(readers.inspect_file(bom)).encoding == "utf-8-sig"
