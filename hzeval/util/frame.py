"""Small helpers over DuckDB 2.0 results (always fetched fully, parameters always bound)."""

from __future__ import annotations

from typing import cast

import polars as pl


def frame(con, sql: str, params: dict | None = None, *, as_float: bool = False) -> pl.DataFrame:
    """Run a query and return its whole result as a polars frame: the one query-to-frame helper.

    ``as_float``: DECIMAL columns come back as Float64 (:func:`floats`), as the read layer and the
    dashboard want them."""
    # an Arrow table always comes back as a frame (from_arrow gives a Series only for an array)
    df = cast(pl.DataFrame, pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table()))
    return floats(df) if as_float else df


def floats(df: pl.DataFrame) -> pl.DataFrame:
    """DECIMAL columns → Float64 (sums of DECIMAL stay DECIMAL in DuckDB; Bokeh cannot serialise Decimal)."""
    dec = [c for c, t in df.schema.items() if isinstance(t, pl.Decimal)]
    return df.with_columns([pl.col(c).cast(pl.Float64) for c in dec]) if dec else df


def scalar(con, sql: str, params: dict | None = None):
    """Run a query and return its single value (None when no row)."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0][0] if rows else None


def neutralise(col: pl.Expr) -> pl.Expr:
    """Formula-injection guard for CSV/XLSX exports: text starting with = + - @ (or tab/CR) is
    prefixed with a quote so spreadsheets show it as text."""
    return pl.when(col.str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + col).otherwise(col)
