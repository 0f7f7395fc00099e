"""Shared fixtures: an in-memory warehouse with the schema and calendar, and a row inserter."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from hzeval.contract import TABLES
from hzeval.warehouse import ensure_schema

_POLARS = {"str": pl.String, "vocab": pl.String, "period": pl.String, "list": pl.String, "int": pl.Int64,
           "float": pl.Float64, "bool": pl.Boolean, "date": pl.Date, "timestamp": pl.Datetime("us")}


def _coerce(value, type_):
    if isinstance(value, str) and type_ == "timestamp":
        return dt.datetime.fromisoformat(value)
    if isinstance(value, str) and type_ == "date":
        return dt.date.fromisoformat(value)
    return value


def insert(con, table: str, *rows: dict) -> None:
    """Insert rows given as dicts (ISO strings for dates and times); missing columns are NULL."""
    t = TABLES[table]
    data = {c.name: [_coerce(r.get(c.name, c.default), c.type) for r in rows] for c in t.columns}
    frame = pl.DataFrame(data, schema={c.name: _POLARS[c.type] for c in t.columns})
    con.register("_rows", frame.to_arrow())
    con.execute(f"insert into {table} ({', '.join(t.names)}) select * from _rows")
    con.unregister("_rows")


@pytest.fixture
def wh():
    con = duckdb.connect()
    ensure_schema(con)
    yield con
    con.close()
