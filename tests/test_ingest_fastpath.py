"""Parquet (and simple CSV: tests/test_ingest_csvpath.py) through DuckDB's reader
(hzeval/ingest/sqlpath.py, issue 16) writes exactly what the polars path writes: the same good
rows with the same line numbers, the same rejects (line, column, value, reason), the same counts,
replacements and idempotence.

Each case loads hostile Parquet files twice — ``HZEVAL_LOAD_SQL=0`` (every row through
``parse_frame``) and the default (plain rows inserted by DuckDB, the others through ``parse_frame``)
— into fresh warehouses and compares everything written; the SQL path is asserted to have been
taken. Expected rejects are also spelled out by hand. Parquet row i (0-based) is line i + 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import load_both_ways

from hzeval.contract import TABLES
from hzeval.ingest import load_paths, normalize, sqlpath
from hzeval.store.warehouse import connect

D = dt.datetime
TOO_LONG_10 = normalize.r_too_long(10)


def dup(line: int) -> str:
    return f"键重复，与第 {line} 行相同 / duplicate key, same as line {line}"


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def write(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def api_calls(tmp_path: Path) -> Path:
    """api_calls: text identifiers and status, native timestamps and int32 counts."""
    call_id = [
        "C1",  # 1 plain
        " C2",  # 2 leading space: cleaned to C2
        "Ｃ３",  # 3 full-width: folded to C3
        "",  # 4 empty required → missing
        None,  # 5 null required → missing
        "C1",  # 6 duplicate of line 1 (plain)
        "C7\u3000",  # 7 ideographic space: stripped
        "C2",  # 8 duplicate of line 2 (which was cleaned)
        "调用9",  # 9 non-ASCII identifier: kept
        "C10\u00a0",  # 10 no-break space: stripped
        "C" * 11,  # 11 11 characters > 10
        "\x01C12",  # 12 control character: kept as it is (not whitespace)
        "C13",  # 13 plain, called_at null → missing
        None,  # 14 blank row (every cell null): dropped, not rejected
        "C15",  # 15 plain
        "C15",  # 16 duplicate of line 15
        "调用9",  # 17 duplicate of line 9 (non-plain both)
        "C18",  # 18 status full of spaces → null (status optional)
        "C19",  # 19 status too long in bytes but not in characters: kept
        "C20",  # 20 status 11 characters → too long
    ]
    n = len(call_id)
    called = [D(2025, 3, 1, 9, 0, i) for i in range(n)]
    called[12] = None
    called[13] = None
    status = ["成功"] * n
    status[1] = " 成功 "
    status[6] = "成功\u3000"
    status[9] = "ＯＫ"  # free text keeps full-width forms
    status[13] = None
    status[17] = "   "
    status[18] = "调" * 10  # 30 bytes, 10 characters
    status[19] = "调" * 11
    consumer = ["HZ001"] * n
    consumer[13] = None
    consumer[2] = "ＨＺ００２"
    resource = ["HZ001-R1"] * n
    resource[13] = None
    app = [None] * n
    app[0] = "A1"
    app[1] = " "
    returned = list(range(n))
    returned[13] = None
    return write(
        tmp_path / "api_calls.parquet",
        {
            "call_id": pa.array(call_id, pa.large_string()),
            "called_at": pa.array(called, pa.timestamp("us")),
            "application_id": pa.array(app, pa.string()),
            "consumer_code": pa.array(consumer, pa.large_string()),
            "resource_code": pa.array(resource, pa.large_string()),
            "status": pa.array(status, pa.large_string()),
            "rows_returned": pa.array(returned, pa.int32()),
            "extra_column": pa.array(["x"] * n),
        },
    )


def agencies(tmp_path: Path, name="agencies.parquet") -> Path:
    """agencies: a code pattern, two vocabularies (one with a default) and a native boolean with a default."""
    code = ["HZ-01", "HZ 02", "A" * 33, "HZ/04", "ＨＺ０５", "HZ_06", "HZ-07", "HZ-08", "HZ-09", "HZ-01", "hz-11"]
    level = ["市级", "city", "City", "县（区）", "县(区)", " 市级 ", "bogus", None, "county", "市级", "区县"]
    atype = [None, "参照", "行政机关", None, "reference", None, None, None, "Reference", None, "参照执行"]
    auth = [True, None, False, None, True, None, None, None, False, None, True]
    return write(
        tmp_path / name,
        {
            "机构代码": pa.array(code, pa.large_string()),
            "agency_name": pa.array([f"机构{i}" for i in range(len(code))], pa.large_string()),
            "level": pa.array(level, pa.large_string()),
            "region": pa.array(
                ["惠城区", " 惠阳区", "（大亚湾）", None, "", "x", "y", "z", "w", "v", "u"], pa.large_string()
            ),
            "is_authority": pa.array(auth, pa.bool_()),
            "agency_type": pa.array(atype, pa.large_string()),
        },
    )


@pytest.mark.parametrize("batch", [None, 2, 3])
def test_api_calls_hostile_cells_same_both_ways(tmp_path, monkeypatch, spy, batch):
    f = api_calls(tmp_path)
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(
        tmp_path, monkeypatch, [[f], [f]], batch, max_field_chars=10
    )
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    # DuckDB inserted the plain rows itself: lines 1, 6, 8, 15 and 16 (ASCII codes without surrounding
    # space, status 成功, called_at present; 6 and 16 are rejected afterwards as duplicates); every
    # other line has a cell that cleaning changes, a missing required value, or more than 10 bytes
    assert spy.done == [("api_calls.parquet", 5)]
    # the second load of the same bytes is skipped as unchanged (idempotence), both ways
    assert sql_res[1] == [(0, 0, 0, "unchanged", None, [])]

    rej = [(line, col, reason) for _, line, col, _, reason in sql_snap["rejects"]]
    missing = normalize.R_MISSING
    assert rej == [
        (4, "call_id", missing),
        (5, "call_id", missing),
        (6, "call_id", dup(1)),
        (8, "call_id", dup(2)),
        (11, "call_id", TOO_LONG_10),
        (13, "called_at", missing),
        (16, "call_id", dup(15)),
        (17, "call_id", dup(9)),
        (20, "status", TOO_LONG_10),
    ]
    good = {r[0]: r for r in sql_snap["api_calls"]}
    # lines 1,2,3,7,9,10,12,15,18,19 are good: 20 rows - 9 rejected - 1 blank line (14)
    assert sorted(r[-1] for r in good.values()) == [1, 2, 3, 7, 9, 10, 12, 15, 18, 19]
    assert good["C2"][1:] == (D(2025, 3, 1, 9, 0, 1), None, "HZ001", "HZ001-R1", "成功", 1, 2)  # " " app id → null
    assert good["C3"][3] == "HZ002"  # full-width code folded
    assert good["C7"][5] == "成功"  # U+3000 stripped from free text
    assert good["C10"][5] == "ＯＫ"  # free text keeps full-width forms
    assert good["\x01C12"][-1] == 12  # a control character is not whitespace
    assert good["C18"][5] is None  # spaces only → null
    assert good["C19"][5] == "调" * 10  # 10 characters: not too long
    assert sql_res[0] == [(10, 9, 0, "loaded", None, ["忽略未知列 / ignored unknown columns: extra_column"])]


@pytest.mark.parametrize("batch", [None, 2])
def test_agencies_patterns_vocabularies_defaults_same_both_ways(tmp_path, monkeypatch, spy, batch):
    f = agencies(tmp_path)
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]], batch)
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    assert spy.done
    rej = [(line, col, reason) for _, line, col, _, reason in sql_snap["rejects"]]
    bad_level = normalize.r_vocab(TABLES["agencies"].column("level"))
    assert rej == [
        (2, "agency_code", normalize.R_CODE),  # "HZ 02"
        (3, "agency_code", normalize.R_CODE),  # 33 characters
        (4, "agency_code", normalize.R_CODE),  # "HZ/04"
        (7, "level", bad_level),  # "bogus"
        (8, "level", normalize.R_MISSING),  # null
        (10, "agency_code", dup(1)),  # HZ-01 again
    ]
    got = {r[0]: r for r in sql_snap["agencies"]}
    # (code, name, level, region, is_authority, agency_type, line)
    assert got["HZ-01"] == ("HZ-01", "机构0", "市级", "惠城区", True, "行政机关", 1)  # default agency_type
    assert got["HZ05"][2:6] == ("县区", None, True, "参照执行")  # folded code; 县(区); "" region → null
    assert got["HZ_06"][2:6] == ("市级", "x", False, "行政机关")  # " 市级 " stripped; default is_authority
    assert got["HZ-09"][2] == "县区" and got["HZ-09"][5] == "参照执行"  # "Reference" lowercased
    assert got["hz-11"][2] == "县区"


def test_replacement_same_both_ways(tmp_path, monkeypatch, spy):
    first = agencies(tmp_path)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    second = write(
        second_dir / "agencies.parquet",
        {
            "agency_code": pa.array(["HZ-01", "HZ-07", "HZ-99", " HZ-08"], pa.large_string()),
            "agency_name": pa.array(["新名", "新名7", "新机构", "新名8"], pa.large_string()),
            "level": pa.array(["市级", "市级", "县区", "市级"], pa.large_string()),
            "is_authority": pa.array([False, False, True, None], pa.bool_()),
        },
    )
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[first], [second]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    # HZ-01 replaces the first load's row; HZ-07 and HZ-08 were rejected there (level bogus / missing),
    # so they and HZ-99 are new
    assert sql_res[1] == [(4, 0, 1, "loaded", None, [])]
    assert sql_snap["replacements"] == [("agencies", 1)]
    assert [(r[0], r[1], r[-1]) for r in sql_snap["agencies"] if r[0] in ("HZ-01", "HZ-08")] == [
        ("HZ-01", "新名", 1),
        ("HZ-08", "新名8", 4),
    ]
    assert len(spy.done) == 2


def test_native_types_and_fallback_files(tmp_path, monkeypatch, spy):
    """Dates in a timestamp column and millisecond timestamps take the SQL path; text in a typed
    column (started_at) sends its file down the polars path, with the same result."""
    calls = write(
        tmp_path / "api_calls.parquet",
        {
            "call_id": pa.array(["C1", "C2", "C3"]),
            "called_at": pa.array([dt.date(2025, 1, 2), dt.date(2025, 1, 3), None], pa.date32()),
            "consumer_code": pa.array(["HZ001"] * 3),
            "resource_code": pa.array(["R1"] * 3),
            "rows_returned": pa.array([1, None, 3], pa.int16()),
        },
    )
    log = write(
        tmp_path / "aggregation_log.parquet",
        {
            "job_id": pa.array(["J1", "J2", "J2"]),
            "resource_code": pa.array(["R1"] * 3),
            "agency_code": pa.array(["HZ001"] * 3),
            "started_at": pa.array(["2025-01-02 08:00:00", "2025/1/3 8:00", "bad"]),
            "finished_at": pa.array([D(2025, 1, 2, 9), None, None], pa.timestamp("ms")),
            "status": pa.array(["成功", "失败", "成功"]),
        },
    )
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[calls, log]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    assert [name for name, _ in spy.done] == ["api_calls.parquet"]  # aggregation_log: polars path
    assert [r[:2] for r in sql_snap["api_calls"]] == [("C1", D(2025, 1, 2)), ("C2", D(2025, 1, 3))]
    # line 3 of the log: its time does not parse, so it is rejected for that, not as a duplicate of J2
    assert [(t, line, col) for t, line, col, _, _ in sql_snap["rejects"]] == [
        ("aggregation_log", 3, "started_at"),
        ("api_calls", 3, "called_at"),
    ]


def test_all_or_nothing_on_a_corrupt_file(tmp_path, monkeypatch):
    """A later unreadable file rolls back the rows DuckDB already inserted from an earlier one."""
    from hzeval.errors import InputFileError

    good = api_calls(tmp_path)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = bad_dir / "agencies.parquet"
    agencies(bad_dir)
    data = bad.read_bytes()
    bad.write_bytes(data[:4] + bytes(len(data) // 2) + data[len(data) // 2 + 4 :])  # pages zeroed, footer kept
    monkeypatch.setenv("HZEVAL_LOAD_SQL", "1")
    with connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(InputFileError):
            load_paths(con, [good, bad], progress=False)
        assert rows(con, "select count(*) from api_calls")[0][0] == 0
        assert rows(con, "select count(*) from loads")[0][0] == 0
        assert rows(con, "select count(*) from rejects")[0][0] == 0


@pytest.mark.parametrize("numpy_rows", [sqlpath.NUMPY_CHECK_ROWS, 1])
def test_plain_file_with_duplicate_keys(tmp_path, monkeypatch, spy, numpy_rows):
    """Every row plain: the file's own key hashes (numpy, or DuckDB's aggregate above
    NUMPY_CHECK_ROWS) find the repeated keys, which are then rejected as in the polars path."""
    monkeypatch.setattr(sqlpath, "NUMPY_CHECK_ROWS", numpy_rows)
    monkeypatch.setenv("HZEVAL_LOAD_CHECK_MB", "64")
    f = write(
        tmp_path / "api_calls.parquet",
        {
            "call_id": pa.array(["C1", "C2", "C1", "C3", "C2", "C1"]),
            "called_at": pa.array([D(2025, 1, 2, 8, i) for i in range(6)], pa.timestamp("us")),
            "consumer_code": pa.array(["HZ001"] * 6),
            "resource_code": pa.array(["R1"] * 6),
        },
    )
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    assert spy.done == [("api_calls.parquet", 6)]  # all six inserted by DuckDB, three then rejected
    assert [(line, reason) for _, line, _, _, reason in sql_snap["rejects"]] == [(3, dup(1)), (5, dup(2)), (6, dup(1))]
    assert [r[-1] for r in sql_snap["api_calls"]] == [1, 2, 4]
    assert sql_res[0] == [(3, 3, 0, "loaded", None, [])]


def test_source_check_tells_plain_files_and_their_duplicates(tmp_path, monkeypatch):
    """One read of the file (issue 29): False = every row plain and no key repeats; True = every
    row plain and a key repeats; None = some row is not plain (the insert then filters). A clean
    file is inserted without the filter; a file with one non-plain row is inserted filtered."""
    monkeypatch.setenv("HZEVAL_LOAD_SQL", "1")
    table = TABLES["api_calls"]

    def file(name, ids):
        return write(
            tmp_path / name,
            {
                "call_id": pa.array(ids),
                "called_at": pa.array([D(2025, 1, 2, 8, i) for i in range(len(ids))], pa.timestamp("us")),
                "consumer_code": pa.array(["HZ001"] * len(ids)),
                "resource_code": pa.array(["R1"] * len(ids)),
            },
        )

    clean = file("clean.parquet", ["C1", "C2", "C3"])
    repeated = file("repeated.parquet", ["C1", "C2", "C1"])
    spaced = file("spaced.parquet", ["C1", " C2", "C3"])  # line 2: leading space, cleaned by parse_frame
    mapping = {c: c for c in ("call_id", "called_at", "consumer_code", "resource_code")}
    with connect(tmp_path / "w.duckdb") as con:
        got = []
        for f in (clean, repeated, spaced):
            sp = sqlpath.prepare(con, f, table, mapping, 100)
            assert sp is not None
            got.append(sqlpath.source_check(con, sp, f, 3))
        assert got == [False, True, None]
        assert sqlpath.source_check(con, sqlpath.prepare(con, clean, table, mapping, 100), clean, 4) is None  # 3 ≠ 4

    seen = []
    real = sqlpath.insert_plain

    def insert(con, sp, path, load_id, **kw):
        seen.append((Path(path).name, kw.get("all_plain", False)))
        return real(con, sp, path, load_id, **kw)

    monkeypatch.setattr(sqlpath, "insert_plain", insert)
    for f in (clean, spaced):
        d = tmp_path / f.stem
        d.mkdir()
        target = d / "api_calls.parquet"
        target.write_bytes(f.read_bytes())
        with connect(d / "w.duckdb") as con:
            r = load_paths(con, [target])
            # both files: 3 rows, none rejected (" C2" is cleaned to C2); lines 1, 2, 3
            assert (r.rows_loaded, r.rows_rejected) == (3, 0)
            assert rows(con, "select call_id, _line from api_calls order by _line") == [("C1", 1), ("C2", 2), ("C3", 3)]
    assert seen == [("api_calls.parquet", True), ("api_calls.parquet", False)]


def test_memory_limit_restored(tmp_path, monkeypatch):
    monkeypatch.setenv("HZEVAL_LOAD_SQL", "1")
    with connect(tmp_path / "w.duckdb") as con:
        before = rows(con, "select current_setting('memory_limit')")[0][0]
        load_paths(con, [api_calls(tmp_path)], progress=False)
        assert rows(con, "select current_setting('memory_limit')")[0][0] == before


def test_unresolved_count_is_the_listing_length(tmp_path):
    """load reports len(unresolved_references) through the cheaper count: same number."""
    from hzeval.ingest.report import unresolved_count, unresolved_references

    with connect(tmp_path / "w.duckdb") as con:
        assert unresolved_count(con) == 0
        res = load_paths(con, [api_calls(tmp_path)], progress=False)
        # no agencies or catalogue loaded: consumer codes HZ001, HZ002 (folded from full width) and
        # resource code HZ001-R1 are unresolved: 3 distinct (table, column, value)
        assert res.unresolved == unresolved_count(con) == len(unresolved_references(con)) == 3
        load_paths(con, [agencies(tmp_path)], progress=False)  # none of HZ-01… is HZ001
        assert unresolved_count(con) == len(unresolved_references(con)) == 3


def test_sample_drop_same_both_ways(tmp_path, monkeypatch, spy):
    """The committed sample drop (its two Parquet files and 17 of its 19 CSV files take the SQL path;
    the rest are XLSX and JSON Lines) writes the same warehouse both ways."""
    drop = Path(__file__).resolve().parent.parent / "data_samples"
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[drop]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    # agencies.csv is GBK and basis_changes.csv has a list column (resource_codes): polars path
    csv = sorted(f.name for f in drop.glob("*.csv") if f.name not in ("agencies.csv", "basis_changes.csv"))
    # 19 CSV files (open_catalogue, aggregation_exemptions, backflow_requests since issue 26) less those two
    assert len(csv) == 17
    assert sorted(name for name, _ in spy.done) == sorted(["aggregation_log.parquet", "api_calls.parquet", *csv])
    assert sum(r[0] for r in sql_res[0]) == sum(len(sql_snap[k]) for k in TABLES)  # a first load: all rows are its own
    assert len(sql_snap["api_calls"]) > 10_000
