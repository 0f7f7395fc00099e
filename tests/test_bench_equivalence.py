"""Optimised paths give the same metric values as straightforward references on the sample drop.

benchmarks/ measured the working-day macro ``wd_due_date`` (a correlated join over the calendar)
as the slow part of deadline evaluation and replaced it with list lookups; this test recomputes
every metric of the committed sample drop with the reference join and compares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from hzeval.ingest import load_paths
from hzeval.metrics import Window, compute_items, roll_up
from hzeval.scheme import load_scheme
from hzeval.warehouse import ensure_schema

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"

REFERENCE_MACRO = """
create or replace temp macro wd_due_date(d, n) as (
    select c2.day from calendar c1 join calendar c2
      on c2.wd_index = c1.wd_index + n and c2.is_workday
    where c1.day = cast(d as date)
)"""


def _values(con, year, as_of):
    window = Window.for_year(year, as_of, load_scheme(None, year=year))
    compute_items(con, window)
    values, evidence = roll_up(con, "r", year)
    return values.sort("agency_code", "metric_id"), evidence.sort("metric_id", "agency_code", "record_id")


@pytest.mark.parametrize("year,as_of", [(2025, dt.datetime(2026, 1, 5)), (2024, dt.datetime(2025, 3, 1))])
def test_metric_values_identical_with_reference_calendar_macro(year, as_of):
    con = duckdb.connect()
    ensure_schema(con)
    load_paths(con, [SAMPLES], progress=False)
    fast_values, fast_evidence = _values(con, year, as_of)
    con.execute(REFERENCE_MACRO)  # temp macro shadows the persistent one
    ref_values, ref_evidence = _values(con, year, as_of)
    con.close()
    assert fast_values.height > 0 and fast_evidence.height > 0
    assert fast_values.equals(ref_values)
    assert fast_evidence.equals(ref_evidence)
