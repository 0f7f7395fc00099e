"""Hostile files: a corpus of broken inputs and property-based random ones.

Every input either loads (bad rows to ``rejects``) or fails with a clear ``InputFileError``
that names the file; none crashes with another exception and none loads part of a file.
"""

from __future__ import annotations

import io
import logging
import string
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzeval.errors import InputFileError
from hzeval.ingest import load_paths

log = logging.getLogger(__name__)
OUTCOMES: Counter = Counter()

HEADER = "application_id,applicant_code,provider_code,share_type,submitted_at,replied_at"
GOOD = "S1,B,A,有条件共享,2025-09-26 10:00,2025-09-29 10:00"


def snapshot(con):
    return con.execute(
        "select (select count(*) from loads), (select count(*) from rejects), "
        "(select count(*) from share_applications), (select count(*) from agencies)"
    ).fetchall()[0]


def attempt(con, path: Path) -> str:
    """Load one file; check the all-or-nothing promise; return the outcome."""
    before = snapshot(con)
    try:
        result = load_paths(con, [path], progress=False)
    except InputFileError as exc:
        assert path.name in str(exc) or str(path) in str(exc)
        assert snapshot(con) == before, "a failed file changed the warehouse"
        OUTCOMES["clear error"] += 1
        return "error"
    after = snapshot(con)
    files = [f for f in result.files if f.status == "loaded"]
    if not files:
        assert after == before
        OUTCOMES["unchanged"] += 1
        return "unchanged"
    f = files[0]
    assert after[0] == before[0] + 1
    assert after[1] - before[1] >= f.rows_rejected
    OUTCOMES["loaded (rejects %s)" % ("some" if f.rows_rejected else "none")] += 1
    return "loaded"


@pytest.fixture
def con(wh):
    """The shared in-memory warehouse (conftest), under the name these tests use."""
    return wh


def _xlsx_merged(path: Path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "share_applications"
    ws.append(["申请编号", "申请部门代码", "提供部门代码", "申请时共享类型", "申请时间", None])
    ws.merge_cells("E1:F1")
    ws.append(["S1", "B", "A", "有条件共享", "2025-09-26 10:00", "x"])
    wb.save(path)


def _xlsx_sheets(path: Path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["这是说明页"])
    ws = wb.create_sheet("share_applications")
    ws.append(HEADER.split(","))
    ws.append(GOOD.split(","))
    wb.save(path)


CORPUS = {
    "empty.csv": b"",
    "only_bom.csv": b"\xef\xbb\xbf",
    "header_only.csv": (HEADER + "\n").encode(),
    "truncated.csv": (HEADER + "\n" + GOOD + "\nS2,B,A,有条件共享,2025-09-2").encode(),
    "random_bytes.csv": bytes(range(256)) * 40,
    "random_bytes.parquet": b"PAR1" + bytes(range(200)),
    "random_bytes.xlsx": b"PK\x03\x04" + bytes(range(200)),
    "random.jsonl": b"{not json}\n[1,2,3]\n",
    "utf16.csv": (HEADER + "\n" + GOOD + "\n").encode("utf-16"),
    "gbk_with_utf8_line.csv": (HEADER + "\n" + GOOD + "\n").encode("gb18030")
    + "S2,B,A,有条件共享,2025-09-26 10:00,\n".encode("utf-8"),
    "bom_gbk_mix.csv": b"\xef\xbb\xbf" + (HEADER + "\n" + GOOD + "\n").encode("gb18030"),
    "duplicated_header.csv": (HEADER + ",application_id\n" + GOOD + ",S9\n").encode(),
    "missing_required.csv": "application_id,applicant_code,submitted_at\nS1,B,2025-01-01\n".encode(),
    "unknown_table.csv": b"foo,bar\n1,2\n",
    "huge_field.csv": (
        HEADER
        + "\n"
        + "S1,B,A,有条件共享,2025-09-26 10:00,2025-09-29 10:00\n"
        + "S2,"
        + "X" * 2_000_000
        + ",A,有条件共享,2025-09-26 10:00,\n"
    ).encode(),
    "bad_dates.csv": (
        HEADER + "\nS1,B,A,有条件共享,2025-02-30 10:00,\nS2,B,A,有条件共享,2025-13-01,\n"
        "S3,B,A,有条件共享,25:61,\nS4,B,A,有条件共享,2025-09-26 10:00,2025-09-26 24:30\n"
    ).encode(),
    "numbers_in_text.csv": (HEADER + "\n12345,678,910,有条件共享,2025-09-26 10:00,\n").encode(),
    "text_in_numbers.csv": (
        "job_id,resource_code,agency_code,started_at,status,rows_received\nJ1,R,A,2025-01-01 10:00,成功,很多\n"
    ).encode(),
    "ragged_rows.csv": (HEADER + "\nS1,B\nS2,B,A,有条件共享,2025-09-26 10:00,,extra,extra\n").encode(),
    "nul_bytes.csv": (HEADER + "\nS1\x00,B,A,有条件共享,2025-09-26 10:00,\n").encode(),
    "formula_cells.csv": (HEADER + "\n=cmd|'/c calc'!A1,B,A,有条件共享,2025-09-26 10:00,\n").encode(),
}


def test_broken_input_corpus(con, tmp_path, capsys):
    outcomes = {}
    for name, data in CORPUS.items():
        path = tmp_path / name
        path.write_bytes(data)
        outcomes[name] = attempt(con, path)
    for name, maker in (("merged_header.xlsx", _xlsx_merged), ("several_sheets.xlsx", _xlsx_sheets)):
        path = tmp_path / name
        maker(path)
        outcomes[name] = attempt(con, path)
    # the promises that matter per kind
    for name in (
        "empty.csv",
        "only_bom.csv",
        "random_bytes.parquet",
        "random_bytes.xlsx",
        "duplicated_header.csv",
        "missing_required.csv",
        "unknown_table.csv",
        "random_bytes.csv",
    ):
        assert outcomes[name] == "error", name
    assert outcomes["header_only.csv"] == "loaded"
    assert outcomes["several_sheets.xlsx"] == "loaded"
    rejects = dict(
        con.execute("select column_name, count(*) from rejects where file like '%bad_dates.csv' group by 1").fetchall()
    )
    assert rejects["submitted_at"] == 3 and rejects["replied_at"] == 1
    # a formula-looking id is stored as text, exactly
    assert con.execute(
        "select count(*) from share_applications where application_id = '=cmd|''/c calc''!A1'"
    ).fetchall() == [(1,)]
    with capsys.disabled():
        print(f"\nhostile corpus: {len(outcomes)} inputs -> {dict(Counter(outcomes.values()))}")


CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=0, max_size=8), max_size=12),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    header=st.booleans(),
)
def test_random_csv_never_crashes(con, tmp_path_factory, rows, encoding, header):
    buf = io.StringIO()
    if header:
        buf.write(HEADER + "\n")
    for r in rows:
        buf.write(",".join('"' + c.replace('"', '""') + '"' for c in r) + "\n")
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    path = tmp_path_factory.mktemp("h") / "share_applications_random.csv"
    path.write_bytes(data)
    attempt(con, path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=2000), ext=st.sampled_from([".csv", ".jsonl", ".parquet", ".xlsx"]))
def test_random_bytes_never_crash(con, tmp_path_factory, blob, ext):
    path = tmp_path_factory.mktemp("b") / f"agencies_blob{ext}"
    path.write_bytes(blob)
    attempt(con, path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(alphabet=string.printable + "年月日：　", max_size=25), min_size=1, max_size=10))
def test_random_timestamps_parse_or_reject(con, tmp_path_factory, values):
    frame = pl.DataFrame(
        {
            "application_id": [f"S{i}" for i in range(len(values))],
            "applicant_code": "B",
            "provider_code": "A",
            "submitted_at": values,
        }
    )
    path = tmp_path_factory.mktemp("t") / "share_applications.csv"
    frame.write_csv(path)
    if attempt(con, path) == "loaded":
        good, bad = con.execute(
            "select (select count(*) from share_applications where _load_id = (select max(load_id) from loads)),"
            " (select count(distinct line) from rejects where load_id = (select max(load_id) from loads))"
        ).fetchall()[0]
        assert good + bad <= len(values)


def test_zz_print_outcomes(capsys):
    with capsys.disabled():
        print(f"\nhostile inputs tried (this session): {sum(OUTCOMES.values())} -> {dict(OUTCOMES)}")
