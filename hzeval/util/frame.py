"""Small helpers over DuckDB 2.0 results (always fetched fully, parameters always bound)."""

from __future__ import annotations

import polars as pl


def frame(con, sql: str, params: dict | None = None) -> pl.DataFrame:
    """Run a query and return its whole result as a polars frame."""
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())


def scalar(con, sql: str, params: dict | None = None):
    """Run a query and return its single value (None when no row)."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0][0] if rows else None


def neutralise(col: pl.Expr) -> pl.Expr:
    """Formula-injection guard for CSV/XLSX exports: text starting with = + - @ (or tab/CR) is
    prefixed with a quote so spreadsheets show it as text."""
    return pl.when(col.str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + col).otherwise(col)
