"""Working-day calendar (DESIGN §4): facts from the State Council holiday notices."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from hzeval.errors import CalendarError
from hzeval.store import calendar
from hzeval.store.calendar import WorkCalendar, deadline

D = dt.date


@pytest.mark.parametrize(
    "start, n, due",
    [
        (D(2025, 9, 26), 2, D(2025, 9, 29)),  # Fri; Sun 09-28 was a make-up working day
        (D(2025, 9, 30), 2, D(2025, 10, 10)),  # 国庆+中秋 10-01..08 off
        (D(2025, 9, 15), 15, D(2025, 10, 11)),  # ends on the make-up Saturday 10-11
        (D(2025, 12, 30), 2, D(2026, 1, 4)),  # 元旦 2026-01-01..03 off, Sun 01-04 worked
        (D(2025, 9, 27), 1, D(2025, 9, 28)),  # event on a day off: counting starts the next day
        (D(2025, 1, 24), 1, D(2025, 1, 26)),  # Fri before 春节 2025; Sun 01-26 was worked
        (D(2025, 1, 27), 1, D(2025, 2, 5)),  # 春节 01-28..02-04 off, Sat 02-08 worked later
    ],
)
def test_deadline_facts(start, n, due):
    assert deadline(start, n) == dt.datetime.combine(due + dt.timedelta(days=1), dt.time())


def test_deadline_is_end_of_day_regardless_of_event_time():
    assert deadline(dt.datetime(2025, 9, 26, 23, 59), 2) == dt.datetime(2025, 9, 30)


def test_sql_form_matches_python(wh):
    cal = WorkCalendar.from_warehouse(wh)
    starts = [D(2025, 9, 26), D(2025, 9, 30), D(2025, 9, 15), D(2025, 12, 30), D(2024, 2, 8)]
    for s in starts:
        for n in (1, 2, 5, 15, 20):
            sql = wh.execute("select wd_due_date($d, $n)", {"d": s, "n": n}).fetchall()[0][0]
            assert sql == cal.due_date(s, n)


def test_working_days_between():
    cal = WorkCalendar(calendar.build())
    assert cal.working_days_between(D(2025, 9, 26), D(2025, 10, 10)) == 5  # 28, 29, 30, 10-09, 10-10
    assert cal.working_days_between(D(2025, 10, 10), D(2025, 9, 26)) == -5


def test_year_outside_calendar_names_year_and_fix():
    with pytest.raises(CalendarError) as err:
        deadline(D(2026, 12, 30), 5)
    assert err.value.year == 2027
    assert "2027" in err.value.zh and "calendar_overrides" in err.value.en
    with pytest.raises(CalendarError) as err:
        WorkCalendar(calendar.build()).is_workday(D(2003, 5, 1))
    assert err.value.year == 2003


def test_overrides_add_a_year_and_correct_days():
    ov = pl.DataFrame({"date": [D(2027, 1, 1), D(2027, 2, 6), D(2025, 10, 10)], "is_workday": [False, True, False]})
    cal = WorkCalendar(calendar.build(ov))
    assert 2027 in cal.years
    assert not cal.is_workday(D(2027, 1, 1))  # listed holiday
    assert cal.is_workday(D(2027, 2, 6))  # listed make-up Saturday
    assert not cal.is_workday(D(2027, 1, 2))  # ordinary Saturday
    assert cal.is_workday(D(2027, 1, 4))  # ordinary Monday
    assert not cal.is_workday(D(2025, 10, 10))  # an override on a bundled year wins
    assert cal.due_date(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_index_is_cumulative_and_monotonic():
    frame = calendar.build()
    assert frame["wd_index"].diff().drop_nulls().is_in([0, 1]).all()
    assert (
        frame.filter(pl.col("day") == D(2025, 10, 1))["wd_index"].item()
        == frame.filter(pl.col("day") == D(2025, 9, 30))["wd_index"].item()
    )


def test_deadline_never_jumps_over_a_missing_year(wh):
    """2028 entered from overrides while 2027 is missing: a deadline from late 2026 is uncovered (2027)."""
    ov = pl.DataFrame({"date": [D(2028, 1, 3)], "is_workday": [False]})
    cal = WorkCalendar(calendar.build(ov))
    with pytest.raises(CalendarError) as err:
        cal.due_date(D(2026, 12, 30), 5)
    assert err.value.year == 2027
    assert cal.due_date(D(2028, 1, 3), 1) == D(2028, 1, 4)
    wh.execute("insert into calendar_overrides (date, is_workday) values (date '2028-01-03', false)")
    calendar.install(wh)
    assert wh.execute("select wd_due_date(date '2026-12-30', 5), wd_due_date(date '2028-01-03', 1)").fetchall() == [
        (None, D(2028, 1, 4))
    ]


def test_python_deadline_reads_the_warehouse_table(wh):
    """deadline(start, n, con) uses the warehouse's calendar, overrides included, like the SQL form."""
    wh.execute("insert into calendar_overrides (date, is_workday) values (date '2025-09-29', false)")
    calendar.install(wh)
    # with Monday 09-29 declared off, 09-26 + 2 ends on Tuesday 09-30 (Sun 09-28 still counts)
    assert deadline(D(2025, 9, 26), 2, wh) == dt.datetime(2025, 10, 1)
    assert wh.execute("select wd_due_date(date '2025-09-26', 2)").fetchall() == [(D(2025, 9, 30),)]


def test_vectorised_due_dates_match_single_items():
    import numpy as np

    cal = WorkCalendar(calendar.build())
    starts = [D(2025, 9, 26), D(2025, 9, 30), D(2025, 9, 15), D(2025, 12, 30), D(2025, 1, 27)]
    ns = [2, 2, 15, 2, 1]
    got = cal.due_dates(np.array(starts, dtype="datetime64[D]"), np.array(ns))
    assert [d.astype(object) for d in got] == [
        D(2025, 9, 29),
        D(2025, 10, 10),
        D(2025, 10, 11),
        D(2026, 1, 4),
        D(2025, 2, 5),
    ]
    with pytest.raises(CalendarError) as err:
        cal.due_dates(np.array([D(2025, 1, 2), D(2026, 12, 30)], dtype="datetime64[D]"), 5)
    assert err.value.year == 2027


def test_vectorised_due_dates_across_a_missing_year():
    import numpy as np

    cal = WorkCalendar(calendar.build(pl.DataFrame({"date": [D(2028, 1, 3)], "is_workday": [False]})))
    assert cal.due_dates(np.array([D(2028, 1, 3)], dtype="datetime64[D]"), 1)[0].astype(object) == D(2028, 1, 4)
    with pytest.raises(CalendarError) as err:
        cal.due_dates(np.array([D(2026, 12, 30)], dtype="datetime64[D]"), 5)
    assert err.value.year == 2027
    with pytest.raises(CalendarError) as err:
        cal.due_dates(np.array([D(2027, 3, 1)], dtype="datetime64[D]"), 1)
    assert err.value.year == 2027
