"""CSV through DuckDB's reader (hzeval/ingest/sqlpath.py, issue 16) writes exactly what the polars
path writes, and only files both readers split alike take it.

DuckDB reads a CSV file only when every line is one record (UTF-8, no quote character, no blank
line, no bare CR, no NUL: ``readers.fingerprint``'s ``records``) and its strict reader reads as many
rows as the file has lines after the header. Each case loads files with ``HZEVAL_LOAD_SQL=0`` (every
row through polars and ``parse_frame``) and with the default, into fresh warehouses, and compares
everything written. CSV record i (0-based) is line i + 2 (the header is line 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import pytest
from conftest import load_both_ways
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzeval.ingest import normalize, readers, sqlpath

D = dt.datetime
HEADER = "call_id,called_at,application_id,consumer_code,resource_code,status,rows_returned"


def write(folder: Path, name: str, data: bytes | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


@pytest.mark.parametrize("numbered_rows", [sqlpath.NUMBERED_ROWS, 0])
def test_hostile_cells_same_both_ways(tmp_path, monkeypatch, spy, numbered_rows):
    """Every kind of cell in one quote-free file: DuckDB inserts the plain rows itself, parse_frame
    judges the rest, and the warehouse is the polars path's, row for row and reject for reject —
    with the lines written from the rows' order, and numbered as read (large files)."""
    monkeypatch.setattr(sqlpath, "NUMBERED_ROWS", numbered_rows)
    lines = [
        HEADER,
        "C1,2025-03-01 09:00:00,A1,HZ001,HZ001-R1,成功,7",  # 2 plain
        " C2,2025-03-01 09:00:01,,HZ001,HZ001-R1,成功,0",  # 3 leading space: cleaned to C2
        "Ｃ３,2025-03-01 09:00:02,,ＨＺ００２,HZ001-R1,成功,-3",  # 4 full-width codes folded
        ",2025-03-01 09:00:03,,HZ001,HZ001-R1,成功,1",  # 5 missing call_id
        "C1,2025-03-01 09:00:04,,HZ001,HZ001-R1,成功,1",  # 6 duplicate of line 2 (plain)
        "C7,2025/3/1 9:00,,HZ001,HZ001-R1,成功,1",  # 7 another spelling: parse_frame, 09:00:00
        "C8,2025-02-30 09:00:00,,HZ001,HZ001-R1,成功,1",  # 8 no such day → bad time
        "C9,2025-03-01T09:00:05+08:00,,HZ001,HZ001-R1,成功,1",  # 9 ISO with offset: parse_frame
        "C10,2025-03-01 09:00:06,,HZ001,HZ001-R1,成功,1\u00a0",  # 10 trailing no-break space on a number
        "C11,2025-03-01 09:00:07,,HZ001,HZ001-R1,成功,007",  # 11 leading zeros: parse_frame, 7
        "C12,2025-03-01 09:00:08,,HZ001,HZ001-R1,成功,1,234",  # 12 one field too many (see below)
        "C13,2025-03-01 09:00:09,,HZ001,HZ001-R1,成功,1.0",  # 13 1.0 → parse_frame: whole, 1
        "C14,2025-03-01 09:00:10,,HZ001,HZ001-R1,成功,1.5",  # 14 not whole → bad number
        "C15,2025-03-01 24:00:00,,HZ001,HZ001-R1,成功,1",  # 15 hour 24 → bad time
        "C16,2025-03-01 09:00:11,,HZ001,HZ001-R1,  ,",  # 16 spaces-only status → null
        ",,,,,,",  # 17 blank row: dropped
        "C18,2025-03-01 09:00:12,,HZ001,HZ001-R1,Success,99999999999999999999",  # 18 int too large → bad number
        "C19\t,2025-03-01 09:00:13,,HZ001,HZ001-R1,成功,+5",  # 19 tab stripped; +5 → parse_frame, 5
        "C2,2025-03-01 09:00:14,,HZ001,HZ001-R1,成功,1",  # 20 duplicate of line 3 (which was cleaned)
    ]
    # line 12 has eight fields: DuckDB's strict reader refuses the file, so it all takes the polars
    # path; without it, the file is DuckDB's
    ragged = write(tmp_path / "ragged", "api_calls.csv", "\n".join(lines) + "\n")
    del lines[11]
    lines.insert(11, "C12,2025-03-01 09:00:08,,HZ001,HZ001-R1,成功,1234")  # 12 plain
    f = write(tmp_path / "ok", "api_calls.csv", "\n".join(lines) + "\n")
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f], [f]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    # plain rows inserted by DuckDB: lines 2, 6, 12, 20 (line 20 "C2" is plain text, rejected
    # afterwards as a duplicate of line 3; line 6 of line 2)
    assert spy.done == [("api_calls.csv", 4)] and spy.refused == []
    assert sql_res[1] == [(0, 0, 0, "unchanged", "utf-8", [])]
    rej = [(line, col, reason) for _, line, col, _, reason in sql_snap["rejects"]]
    assert rej == [
        (5, "call_id", normalize.R_MISSING),
        (6, "call_id", "键重复，与第 2 行相同 / duplicate key, same as line 2"),
        (8, "called_at", normalize.R_TIME),
        (14, "rows_returned", normalize.R_NUMBER),
        (15, "called_at", normalize.R_TIME),
        (18, "rows_returned", normalize.R_NUMBER),
        (20, "call_id", "键重复，与第 3 行相同 / duplicate key, same as line 3"),
    ]
    good = {r[0]: r for r in sql_snap["api_calls"]}
    assert sorted(r[-1] for r in good.values()) == [2, 3, 4, 7, 9, 10, 11, 12, 13, 16, 19]
    assert good["C7"][1] == D(2025, 3, 1, 9, 0, 0)
    assert good["C9"][1] == D(2025, 3, 1, 9, 0, 5)  # +08:00 is local time already
    assert good["C3"][3] == "HZ002" and good["C3"][6] == -3
    assert good["C11"][6] == 7 and good["C12"][6] == 1234 and good["C13"][6] == 1 and good["C19"][6] == 5
    assert good["C10"][6] == 1
    assert good["C16"][5] is None

    spy.done.clear()
    (tmp_path / "r").mkdir()
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path / "r", monkeypatch, [[ragged]])
    assert sql_snap == polars_snap and sql_res == polars_res
    assert spy.done == [] and spy.refused == ["api_calls.csv"]  # DuckDB's strict reader refused line 12


@pytest.mark.parametrize(
    "name, data, path",
    [
        (
            "crlf",
            HEADER + "\r\nC1,2025-03-01 09:00:00,,HZ001,R1,成功,1\r\nC2,2025-03-01 09:00:01,,HZ001,R1,成功,2\r\n",
            "duckdb",
        ),
        ("no final newline", HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成功,1", "duckdb"),
        ("BOM", "\ufeff" + HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成功,1\n", "duckdb"),
        ("header only", HEADER + "\n", "duckdb"),
        ("header only, an unknown column", HEADER + ",extra\n", "duckdb"),
        (
            "tab separated",
            HEADER.replace(",", "\t") + "\nC1\t2025-03-01 09:00:00\t\tHZ001\tR1\t成功,失败\t1\n",
            "duckdb",
        ),
        ("a quoted cell", HEADER + '\nC1,2025-03-01 09:00:00,,HZ001,R1,"成功",1\n', "polars"),
        (
            "a quoted newline",
            HEADER + '\nC1,2025-03-01 09:00:00,,HZ001,R1,"成\n功",1\nC2,2025-03-01 09:00:00,,HZ001,R1,成功,1\n',
            "polars",
        ),
        ("a bare CR", HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成\r功,1\n", "polars"),
        ("a NUL", HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成\x00功,1\n", "polars"),
        (
            "a blank line",
            HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成功,1\n\nC2,2025-03-01 09:00:00,,HZ001,R1,成功,1\n",
            "refused",
        ),
        ("a blank CRLF line at the end", HEADER + "\r\nC1,2025-03-01 09:00:00,,HZ001,R1,成功,1\r\n\r\n", "refused"),
        (
            "a short row",
            HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成功\nC2,2025-03-01 09:00:00,,HZ001,R1,成功,1\n",
            "refused",
        ),
        ("a long row", HEADER + "\nC1,2025-03-01 09:00:00,,HZ001,R1,成功,1,2\n", "refused"),
    ],
)
def test_reader_edges_same_both_ways(tmp_path, monkeypatch, spy, name, data, path):
    """Line ends, BOM, separators: the same warehouse both ways. Files with quotes, bare CRs or NULs
    never reach DuckDB's reader (a line may not be one record); blank lines (which DuckDB skips: one
    row fewer than the lines) and rows of the wrong width (its strict reader stops) are read by DuckDB
    and refused, and the load is done again with polars reading that file."""
    f = write(tmp_path / "d", "api_calls.csv", data)
    plan = readers.inspect_file(f)
    assert (readers.fingerprint(plan).records is None) == (path == "polars")
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    assert [n for n, _ in spy.done] == (["api_calls.csv"] if path == "duckdb" else [])
    assert spy.refused == (["api_calls.csv"] if path == "refused" else [])


@pytest.mark.parametrize("chunk", range(2, 10))
def test_line_guard_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    """The line guard reads in chunks (4 MB; here 2 to 9 bytes): a CRLF split by a chunk's end is one
    line end, and a bare CR anywhere is seen."""
    monkeypatch.setattr(readers, "_CHUNK", chunk)
    body = (HEADER + "\r\n" + "C1,2025-03-01 09:00:00,,HZ001,R1,成功,1\r\n" * 3).encode()
    f = write(tmp_path, "api_calls.csv", body)
    fp = readers.fingerprint(readers.inspect_file(f))
    assert (fp.records, fp.encoding) == (3, "utf-8")  # 成功 cut by chunk ends is still UTF-8
    assert fp.sha256 == hashlib.sha256(body).hexdigest()
    gbk = body.replace("成功".encode(), "成功".encode("gbk"), 1)
    f.write_bytes(gbk)
    fp = readers.fingerprint(readers.inspect_file(f))
    assert (fp.records, fp.encoding) == (None, "gb18030")
    f.write_bytes(body + "成".encode()[:2])  # a character cut off by the end of the file
    assert readers.fingerprint(readers.inspect_file(f)).encoding == "gb18030"
    for cut in range(len(body) - 14, len(body) + 1):
        f.write_bytes(body[:cut] + b"\r" + body[cut:])  # a CR that does not start a CRLF
        assert readers.fingerprint(readers.inspect_file(f)).records is None, cut
        if body[cut - 1] < 0x80 and body[cut : cut + 1] < b"\x80":  # not inside a UTF-8 character
            f.write_bytes(body[:cut] + b"\n" + body[cut:])  # one more line (or a blank one)
            assert readers.fingerprint(readers.inspect_file(f)).records == 4, cut


def test_typed_text_columns_same_both_ways(tmp_path, monkeypatch, spy):
    """Dates, booleans, vocabularies and defaults as text: calendar_overrides (date, bool) and
    catalog_items-like spellings read alike by DuckDB's cast and parse_frame."""
    f = write(
        tmp_path / "d",
        "calendar_overrides.csv",
        "\n".join(
            [
                "date,is_workday,note",
                "2027-01-01,false,元旦",  # 2 plain
                "2027-01-04,是,",  # 3 plain (是 is a key of parse_bool)
                "2027-1-5,true,短格式",  # 4 parse_frame
                "2027-02-29,false,无此日",  # 5 no such day → bad date
                "2027-02-06,TRUE,补班",  # 6 upper case → parse_frame
                "2027-02-07,maybe,坏值",  # 7 bad bool
                "2027-02-08, 1 ,空格",  # 8 spaces → parse_frame
                "2027-01-01,true,重复",  # 9 duplicate of line 2
            ]
        )
        + "\n",
    )
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]])
    assert sql_snap == polars_snap
    assert sql_res == polars_res
    assert spy.done == [("calendar_overrides.csv", 3)]  # lines 2, 3 and 9 (9 rejected afterwards)
    got = {r[0]: r[1] for r in sql_snap["calendar_overrides"]}
    assert got == {
        dt.date(2027, 1, 1): False,
        dt.date(2027, 1, 4): True,
        dt.date(2027, 1, 5): True,
        dt.date(2027, 2, 6): True,
        dt.date(2027, 2, 8): True,
    }
    assert [(line, col) for _, line, col, _, _ in sql_snap["rejects"]] == [(5, "date"), (7, "is_workday"), (9, "date")]


_ALPHABET = [
    "C1",
    "C2",
    "C1 ",
    " C3",
    "Ｃ４",
    "",
    "",
    "x",
    "调用",
    "成功",
    "失败",
    "success",
    "Success",
    " ",
    "\t",
    "2025-03-01 09:00:00",
    "2025-3-1 9:00",
    "2025-02-29 10:00:00",
    "2024-02-29 10:00:00",
    "2025-03-01 09:00:00.5",
    "2025年3月1日",
    "0",
    "-0",
    "007",
    "1.0",
    "1 5",
    "+1",
    "1e3",
    "NaN",
    "99999999999999999999",
    "-12",
    "１２",
    "HZ001",
    "HZ001-R1",
    "ＨＺ００１",
    "a;b",
    "\u3000",
    "\u00a0x",
    "0999-01-01 00:00:00",
    "10000-01-01 00:00:00",
    "0001-01-01 00:00:00 (BC)",
    "2025-03-01 09:00",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1.5e1",
    "0.1",
    "-.5",
]


@pytest.mark.parametrize("seed", range(10))
def test_random_quote_free_files_same_both_ways(tmp_path, monkeypatch, spy, seed):
    """Random api_calls and aggregation_log files over an alphabet of hostile cells, with random line
    ends, and now and then a short row, a blank line or a quoted cell, loaded one after another into
    one warehouse: identical warehouses and results both ways, and DuckDB read exactly the files with
    one record a line and no short row."""
    if seed % 2:  # every other seed with the lines numbered as read
        monkeypatch.setattr(sqlpath, "NUMBERED_ROWS", 0)
    rng = random.Random(seed)
    agg_header = "job_id,resource_code,agency_code,channel,started_at,finished_at,status,rows_received,rows_rejected"
    steps, expected, refused = [], [], []
    for i in range(5):
        header = rng.choice([HEADER, agg_header])
        width = header.count(",") + 1
        eol = rng.choice(["\n", "\r\n"])
        rows = [",".join(rng.choice(_ALPHABET) for _ in range(width)) for _ in range(rng.randint(1, 40))]
        flaw = rng.choice([None, None, None, "short", "blank", "quote"])
        if flaw == "short":
            rows.insert(rng.randrange(len(rows)), ",".join(["C9"] * (width - 1)))
        elif flaw == "blank":
            rows.insert(rng.randrange(len(rows)), "")
        elif flaw == "quote":
            rows.insert(rng.randrange(len(rows)), ",".join(['"C9"'] * width))
        name = "api_calls.csv" if header == HEADER else "aggregation_log.csv"
        f = write(tmp_path / f"s{i}", name, eol.join([header, *rows]) + rng.choice([eol, ""]))
        steps.append([f])
        if flaw == "quote":
            assert readers.fingerprint(readers.inspect_file(f)).records is None
        else:
            assert readers.fingerprint(readers.inspect_file(f)).records == len(rows)
        (expected if flaw is None else refused if flaw in ("short", "blank") else []).append(name)
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(
        tmp_path, monkeypatch, steps, batch=rng.choice([None, 7]), max_field_chars=rng.choice([10, 500])
    )
    assert sql_res == polars_res
    assert sql_snap == polars_snap
    assert [name for name, _ in spy.done] == expected
    assert spy.refused == refused


@pytest.mark.parametrize("sort_rows", [2, 3, 1000])
def test_duplicate_keys_found_in_hash_partitions(tmp_path, monkeypatch, spy, sort_rows):
    """The inserted keys' hashes are sorted SORT_ROWS at a time (hash partitions beyond): a
    duplicate is found in whichever partition both copies fall, and rejected as by the polars path."""
    monkeypatch.setattr(sqlpath, "SORT_ROWS", sort_rows)
    ids = ["C1", "C2", "C3", "C4", "C5", "C3", "C6", "C7", "C1"]
    f = write(
        tmp_path / "d",
        "api_calls.csv",
        "\n".join([HEADER, *(f"{c},2025-03-01 09:00:0{i},,HZ001,R1,成功,{i}" for i, c in enumerate(ids))]) + "\n",
    )
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]])
    assert sql_snap == polars_snap and sql_res == polars_res
    assert spy.done == [("api_calls.csv", 9)]  # all plain; lines 7 (C3) and 10 (C1) rejected afterwards
    assert [(line, reason) for _, line, _, _, reason in sql_snap["rejects"]] == [
        (7, "键重复，与第 4 行相同 / duplicate key, same as line 4"),
        (10, "键重复，与第 2 行相同 / duplicate key, same as line 2"),
    ]


_CELL_CHARS = st.sampled_from(
    list("0123456789-: .,\t\r\nCHZa成功是否") + ["\u3000", "\u00a0", "１", "Ｃ", "\x01", "年", "+"]
)
_CELL = st.text(alphabet=_CELL_CHARS, max_size=22) | st.sampled_from(
    ["2025-03-01 09:00:00", "2027-01-01", "true", "false", "是", "成功", "C1", "HZ001", "-3", "12", ""]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    table=st.sampled_from([("api_calls.csv", HEADER), ("calendar_overrides.csv", "date,is_workday,note")]),
    rows=st.lists(st.lists(_CELL, min_size=1, max_size=8), max_size=10),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_hypothesis_unquoted_files_same_both_ways(tmp_path_factory, table, rows, eol):
    """Random unquoted files (cells with separators, CRs, LFs, spaces, full-width and control
    characters, short and long rows): whichever reader takes them, the warehouse is the polars path's."""
    name, header = table
    folder = tmp_path_factory.mktemp("hyp")
    f = write(folder / "d", name, eol.join([header, *(",".join(r) for r in rows)]) + eol)
    with pytest.MonkeyPatch.context() as mp:
        (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(folder, mp, [[f]])
    assert sql_res == polars_res
    assert sql_snap == polars_snap


def test_insertion_order_kept_and_setting_restored(tmp_path, spy):
    """The CSV rows' lines come from their order in the table, which DuckDB keeps only with
    preserve_insertion_order: a connection that turned it off gets it back off after the load."""
    from hzeval.ingest import load_paths
    from hzeval.store.warehouse import connect

    f = write(
        tmp_path / "d",
        "api_calls.csv",
        "\n".join([HEADER, *(f"C{i},2025-03-01 09:00:00,,HZ001,R1,成功,{i}" for i in range(1, 6))]) + "\n",
    )
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("set preserve_insertion_order = false")
        load_paths(con, [f], progress=False)
        assert con.execute("select current_setting('preserve_insertion_order')").fetchall() == [(False,)]
        # C1 on line 2 … C5 on line 6
        assert con.execute("select call_id, _line from api_calls order by _line").fetchall() == [
            (f"C{i}", i + 1) for i in range(1, 6)
        ]
    assert spy.done == [("api_calls.csv", 5)]


def test_contact_addresses_checked_same_both_ways(tmp_path, monkeypatch, spy):
    """A mail address the mail library would decode into header text (an RFC 2047 encoded word
    carrying CR LF and ``Bcc:``), or would not take as it is, is a rejected row, both ways."""
    lines = [
        "agency_code,name,email,webhook,role",
        "HZ001,陈敏,chen.min@hz.gov.cn,,",  # 2 plain
        "HZ002,王芳,=?utf-8?q?x=0D=0ABcc=3A_e=40evil.example?=@example.org,,",  # 3 encoded word
        "HZ003,李伟,a..b@example.org,,",  # 4 repeated dot
        "HZ004,赵强,zhao@localhost,,",  # 5 no dot in the host
        "HZ005,刘洋,liu@example.org x@evil.example,,",  # 6 two addresses
        "HZ006,孙丽,o'brien+duban@hz.gov.cn,,",  # 7 plain: ' and + are atext
    ]
    f = write(tmp_path, "contacts.csv", "\n".join(lines) + "\n")
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]])
    assert sql_snap == polars_snap and sql_res == polars_res
    rej = [(line, col, reason) for table, line, col, _, reason in sql_snap["rejects"]]
    assert rej == [(n, "email", normalize.R_EMAIL) for n in (3, 4, 5, 6)]
    assert [r[2] for r in sql_snap["contacts"]] == ["chen.min@hz.gov.cn", "o'brien+duban@hz.gov.cn"]


AGENCIES = "agency_code,agency_name,level,region,is_authority,agency_type"
ROW = "C1,2025-03-01 09:00:00,A1,HZ001,HZ001-R1,成功,7"  # the 7 columns of HEADER
AGENCY = "HZ001,甲局,市级,惠城区,否,行政机关"  # the 6 columns of AGENCIES


@pytest.mark.parametrize("sep", [",", "\t"])
@pytest.mark.parametrize(
    "name, header, lines, path",
    [
        # before: DuckDB's reader dropped the trailing empty fields and loaded 2 rows, while polars
        # refused the file ("found more fields than defined in 'Schema'")
        ("api_calls.csv", HEADER, [ROW + ",", ROW.replace("C1", "C2") + ",,"], "refused"),
        ("api_calls.csv", HEADER, [ROW, ROW.replace("C1", "C2") + ","], "refused"),  # one row of 8 fields
        ("api_calls.csv", HEADER, [ROW + ",,,"], "refused"),  # 10 fields
        ("agencies.csv", AGENCIES, [AGENCY + ","], "refused"),
        ("agencies.csv", AGENCIES, [AGENCY, AGENCY.replace("HZ001", "HZ002") + ",,"], "refused"),
        # an empty last column ends the line with the separator too: exactly the header's fields, DuckDB
        ("api_calls.csv", HEADER, [ROW[: -len(",7")] + ",", ROW.replace("C1", "C2")], "duckdb"),
        ("agencies.csv", AGENCIES, [AGENCY[: -len(",行政机关")] + ","], "duckdb"),
    ],
)
def test_trailing_separators_same_both_ways(tmp_path, monkeypatch, spy, sep, name, header, lines, path):
    """Rows ending in extra separators (``,`` / ``,,``, also with tabs, also in agencies): DuckDB's
    reader is asked first whether a row has more fields than the header, and refuses the file, which
    polars then reads — and refuses as before; a row whose last column is merely empty stays on
    DuckDB's path. Same warehouse and results both ways."""
    text = "\n".join([header, *lines]) + "\n"
    f = write(tmp_path / "d", name, text.replace(",", sep))
    (polars_snap, polars_res), (sql_snap, sql_res) = load_both_ways(tmp_path, monkeypatch, [[f]])
    assert sql_snap == polars_snap and sql_res == polars_res
    if path == "refused":
        assert spy.refused == [name] and spy.done == []
        assert "found more fields than defined" in sql_res[0]  # the whole file refused, as polars does
    else:
        assert spy.refused == [] and [n for n, _ in spy.done] == [name]
        assert sql_res[0][0][:2] == (len(lines), 0)  # every row loaded, none rejected


@pytest.mark.parametrize("chunk", range(2, 10))
@pytest.mark.parametrize("eol", ["\n", "\r\n", ""])
def test_separator_at_line_end_seen_across_chunk_boundaries(tmp_path, monkeypatch, chunk, eol):
    """The fingerprint sees a line ending with the separator wherever chunks (here 2 to 9 bytes) cut
    the file: in its middle, at its end, with CRLF or without a final line end; and no such line in
    a file that has none."""
    monkeypatch.setattr(readers, "_CHUNK", chunk)
    rows = ["C1,2025-03-01 09:00:00,,HZ001,R1,成功,1"] * 3
    plain = (HEADER + "\n" + "\n".join(rows)).replace("\n", eol or "\n") + eol
    f = write(tmp_path, "api_calls.csv", plain)
    assert not readers.fingerprint(readers.inspect_file(f)).separator_at_line_end
    for i in range(3):  # the trailing separator on each row in turn (the last one: the file's end)
        marked = list(rows)
        marked[i] += ","
        text = (HEADER + "\n" + "\n".join(marked)).replace("\n", eol or "\n") + eol
        f.write_text(text, encoding="utf-8")
        fp = readers.fingerprint(readers.inspect_file(f))
        assert fp.records == 3 and fp.separator_at_line_end, (i, text)
