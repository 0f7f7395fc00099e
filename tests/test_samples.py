"""The sample-drop generator: deterministic, complete, in the promised formats."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from hzeval import samples
from hzeval.contract import TABLES

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data_samples"
TEXT = {".csv", ".jsonl", ".md"}


@pytest.fixture(scope="module")
def frames():
    return samples.generate(samples.DEFAULT_SEED, 1)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, frames):
    out = tmp_path_factory.mktemp("fresh")
    samples.write_drop(frames, out, committed=True, seed=samples.DEFAULT_SEED, scale=1)
    return out


def _files(d: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(d.iterdir()) if p.is_file()}


def _read(p: Path) -> pl.DataFrame:
    if p.suffix == ".parquet":
        return pl.read_parquet(p)
    if p.suffix == ".xlsx":
        return pl.read_excel(p, engine="calamine")
    raise AssertionError(p)


def test_every_contract_table_generated(frames):
    assert list(frames) == list(TABLES)
    for name, df in frames.items():
        assert df.columns == TABLES[name].names, name
        assert df.height > 0, name
        for col in TABLES[name].required:
            assert df[col].null_count() == 0, (name, col)
        assert df.select(TABLES[name].key).is_duplicated().sum() == 0, name


def test_committed_drop_has_every_table(fresh):
    names = {p.name.split(".")[0] for p in fresh.iterdir() if p.suffix != ".md"}
    assert names == set(TABLES)


def test_same_seed_is_byte_identical(tmp_path, fresh):
    again = tmp_path / "again"
    samples.write_drop(samples.generate(samples.DEFAULT_SEED, 1), again, committed=True, seed=samples.DEFAULT_SEED)
    a, b = _files(fresh), _files(again)
    assert a.keys() == b.keys()
    for name in a:
        if a[name].suffix in TEXT:
            assert a[name].read_bytes() == b[name].read_bytes(), name
        else:
            assert _read(a[name]).equals(_read(b[name])), name


def test_other_seed_differs(frames):
    other = samples.generate(7, 1)
    assert not other["share_applications"].equals(frames["share_applications"])


def test_committed_data_samples_match_a_fresh_generation(fresh):
    """data_samples/ is generated (make samples); it must not drift from the generator."""
    a, b = _files(COMMITTED), _files(fresh)
    assert a.keys() == b.keys(), "data_samples/ is stale: run `make samples`"
    for name in a:
        if a[name].suffix in TEXT:
            assert a[name].read_bytes() == b[name].read_bytes(), f"{name} is stale: run `make samples`"
        else:
            assert _read(a[name]).equals(_read(b[name])), f"{name} is stale: run `make samples`"


def test_committed_drop_is_small():
    assert sum(p.stat().st_size for p in COMMITTED.iterdir()) < 3_000_000


def test_promised_formats_and_encodings(fresh):
    f = _files(fresh)
    # GB18030 with Chinese headers (and not valid UTF-8)
    raw = f["agencies.csv"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header = raw.decode("gb18030").splitlines()[0].split(",")
    assert header == [c.zh for c in TABLES["agencies"].columns]
    assert "惠州市政务服务数据管理局" in raw.decode("gb18030")
    # UTF-8 with BOM, Chinese headers
    raw = f["rectifications.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[0].split(",")[0] == TABLES["rectifications"].column("notice_id").zh
    # XLSX with Chinese headers
    xl = pl.read_excel(f["projects.xlsx"], engine="calamine")
    assert xl.columns == [c.zh for c in TABLES["projects"].columns]
    # Parquet
    calls = pl.read_parquet(f["api_calls.parquet"])
    assert calls.columns == TABLES["api_calls"].names and 20_000 <= calls.height <= 50_000
    # JSON Lines
    lines = f["share_feedback.jsonl"].read_text(encoding="utf-8").splitlines()
    assert set(json.loads(lines[0])) == set(TABLES["share_feedback"].names)
    # mostly UTF-8 CSV with English headers
    csvs = [p for p in f.values() if p.suffix == ".csv"]
    assert len(csvs) >= len(f) / 2
    sa = f["share_applications.csv"].read_text(encoding="utf-8")
    assert sa.splitlines()[0].split(",") == TABLES["share_applications"].names


def test_varied_time_formats_aliases_and_bad_rows(fresh):
    text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in fresh.iterdir()
        if p.suffix in {".csv", ".jsonl"} and p.name != "agencies.csv"
    )
    for needle in (
        "+08:00",
        "年",
        "2025/10/",
        "conditional",
        "approved",
        "2025-Q",
        "季度",
        "SA-BAD1",
        "SA-DUP1",
        "OB-BAD1",
        "EV-BAD1",
        "2025-02-30",
    ):
        assert needle in text, needle
    sa = pl.read_csv(fresh / "share_applications.csv", infer_schema=False)
    assert sa.filter(pl.col("application_id") == "SA-DUP1").height == 2
    assert sa.filter(pl.col("application_id") == "SA-BAD2")["applicant_code"].null_count() == 1


def test_scale_multiplies_rows(frames):
    big = samples.generate(samples.DEFAULT_SEED, 3)
    for name in (
        "agencies",
        "catalog_snapshot",
        "aggregation_log",
        "share_applications",
        "api_calls",
        "security_records",
    ):
        ratio = big[name].height / frames[name].height
        assert 2.4 < ratio < 3.6, (name, ratio)


def test_scale_writes_single_formats(tmp_path):
    frames = samples.generate(1, 1)
    for fmt, ext in (("parquet", ".parquet"), ("csv", ".csv"), ("gbk", ".csv")):
        out = tmp_path / fmt
        samples.write_drop(frames, out, fmt=fmt)
        assert {p.suffix for p in out.iterdir()} == {ext}
    head = (tmp_path / "gbk" / "agencies.csv").read_bytes().decode("gb18030").splitlines()[0]
    assert head.startswith("机构代码")


def test_exactly_one_leak_in_2025(frames):
    inc = frames["incidents"]
    leaks = inc.filter((pl.col("kind") == "数据泄露") & (pl.col("occurred_at").dt.year() == 2025))
    assert leaks["agency_code"].to_list() == [samples.VETO_AGENCY]
    assert inc.filter(pl.col("kind") != "数据泄露").height > 0


def test_profiles_spread(frames):
    prof = samples.profiles()
    assert prof.filter(pl.col("agency_code") == samples.AUTHORITY).height == 1
    # one authority per level and region (本级): the city's, and 惠城区's; the other 县区 fall back to the city's
    assert frames["agencies"].filter(pl.col("is_authority"))["agency_code"].to_list() == [samples.AUTHORITY, "HZ120"]
    assert frames["agencies"].filter(pl.col("is_authority") & (pl.col("level") == "市级"))["agency_code"].to_list() == [
        samples.AUTHORITY
    ]
    counts = dict(prof.group_by("profile").len().iter_rows())
    assert counts["very_negligent"] == 1 and counts["diligent"] >= 5 and counts["negligent"] >= 5
    assert 35 <= frames["agencies"].height <= 45


def test_holiday_edge_records(frames):
    from hzeval.store.calendar import deadline

    sa = frames["share_applications"].filter(pl.col("application_id").str.starts_with("SA-E"))
    rec = {r["application_id"]: r for r in sa.iter_rows(named=True)}
    ok = lambda r: r["replied_at"] <= deadline(r["submitted_at"], 2)  # noqa: E731
    assert ok(rec["SA-E01"]) and not ok(rec["SA-E02"])  # 2025-09-28 is a working Sunday
    assert ok(rec["SA-E03"]) and not ok(rec["SA-E04"])  # 国庆
    assert ok(rec["SA-E07"])  # 2026-01-04 is a working Sunday
    assert deadline(rec["SA-E08"]["submitted_at"], 2) > samples.AS_OF  # pending
    assert deadline(rec["SA-E09"]["submitted_at"], 2) < samples.AS_OF  # late
    # nothing happens after the export
    for name, df in frames.items():
        for c in TABLES[name].columns:
            if c.type == "timestamp":
                assert (df[c.name].drop_nulls() < samples.AS_OF).all(), (name, c.name)
    cal = frames["calendar_overrides"]
    assert cal["date"].dt.year().max() <= 2026


def test_collection_list_reference_units_and_objection_receipt(frames):
    ag = frames["agencies"]
    assert sorted(ag.filter(pl.col("agency_type") == "参照执行")["agency_code"].to_list()) == ["HZ013", "HZ029"]
    assert ag.filter(pl.col("agency_type") != "参照执行")["agency_type"].unique().to_list() == ["行政机关"]
    cl = frames["collection_list"]
    listed = set(cl["agency_code"].to_list())
    for code in samples.NO_COLLECTION_LIST:
        assert code not in listed
    # HZ028: a list, but no resource in any snapshot
    assert "HZ028" in listed and frames["catalog_snapshot"].filter(pl.col("provider_code") == "HZ028").height == 0
    # some listed items are catalogued by one of the agency's resources, some are not (gaps)
    items = set(frames["catalog_items"]["item_code"].to_list())
    coded = cl.filter(pl.col("item_code").is_not_null())
    assert coded.filter(pl.col("item_code").is_in(list(items))).height > 100
    assert coded.filter(~pl.col("item_code").is_in(list(items))).height >= 10
    ob = frames["objections"]
    subject = ob.filter(pl.col("raised_by") == "数据主体")
    assert subject["received_by"].null_count() < subject.height
    assert subject.filter(pl.col("received_by") != pl.col("provider_code")).height > 0
    assert (
        ob.filter(pl.col("raised_by") == "使用机构")["received_by"].null_count()
        == ob.filter(pl.col("raised_by") == "使用机构").height
    )
