"""Parquet and simple CSV loaded by DuckDB's own readers (issue 16): the common rows never leave DuckDB.

:func:`hzeval.ingest.normalize.parse_frame` defines what a cell means. This module does not
re-implement it; it recognises in SQL the cells whose meaning is *obvious* — a native Parquet
value of the contract's type, text that cleaning would leave as it is, a vocabulary spelling that
is its own lookup key, a typed value spelled exactly as DuckDB renders it — and lets DuckDB insert
the rows made only of such cells straight from ``read_parquet``/``read_csv`` into the table
(``insert … select … from read_parquet(…) where <plain row>``). Every other row (anything
cleaning would change, anything that could be rejected, blank rows) is read back from the same
file and parsed by ``parse_frame`` in bounded batches, with its file line number. Duplicate keys
are settled over the whole file in SQL (earliest line wins, as in one ``parse_frame`` over the
file); they are looked for first in the key hashes (a numpy array, 8 bytes a row, sorted in
place): of a Parquet file before the insert takes its memory (in the same read as the plain-row test:
when every row is plain, the insert filters none, :func:`source_check`), of a CSV file's inserted
rows after.
The result is the polars path's, row for row and reject for reject; ``tests/test_ingest_fastpath.py``
and ``tests/test_ingest_csvpath.py`` load hostile files both ways and compare everything written.

A row is *plain* when every present column is:

- a native Parquet column whose type the contract column takes without parsing (integers for an
  ``int``, ``TIMESTAMP``/``DATE`` for a ``timestamp``, …; DESIGN §3), null only where the column may
  be empty; or
- text (``VARCHAR``) of a ``str`` column that is null (where allowed) or: at most
  ``max_field_chars`` bytes (so not too long in characters), first and last character neither
  whitespace (as polars' ``strip_chars`` counts it: Unicode White_Space) nor a control character,
  ASCII only for identifiers (so no full-width forms to fold), and matching the column's
  ``pattern`` if it has one; or
- text of a ``vocab`` column spelled exactly as one of :func:`plain_vocab_keys` (``成功``,
  ``success``; not ``Success`` or ``县（区）``, which ``parse_frame`` folds), or of a ``bool``
  column as one of :func:`plain_bool_keys`; or
- text of a ``timestamp``/``date``/``int`` column that is DuckDB's own rendering of the value it
  casts to (``2025-03-01 09:00:00``, ``2025-03-01``, ``-12``; not ``2025/3/1``, ``007`` or ``+5``),
  or of a ``float`` column matching ``-?d+(.d+)?``: the spellings ``parse_frame`` reads alike;

and not every present cell is null (a blank row is dropped by ``parse_frame``). Parquet files with
any other column (text in a typed column, time zones, nanoseconds, unsigned 64-bit, decimals…)
take the polars path whole. A CSV file is read by DuckDB only when :func:`prepare_csv` allows it
(every line one record). ``HZEVAL_LOAD_SQL=0`` turns this path off.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import cast

import duckdb
import polars as pl
import pyarrow as pa

from hzeval.contract import Column, Table
from hzeval.ingest import normalize
from hzeval.ingest.limits import _env_int

log = logging.getLogger(__name__)

#: Unicode White_Space outside ASCII (what Rust's ``char::is_whitespace`` adds to \t\n\v\f\r and space)
_WHITESPACE = (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)

#: DuckDB source types a contract type takes as they are (exactly, as polars' cast does)
_NATIVE = {
    "timestamp": {"TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"},
    "date": {"DATE", "TIMESTAMP"},
    "int": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"},
    "float": {"FLOAT", "DOUBLE", "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"},
    "bool": {"BOOLEAN"},
}

_ROW = "__hz_row"


def enabled() -> bool:
    return os.environ.get("HZEVAL_LOAD_SQL", "1").strip() not in ("0", "false", "no", "off")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


#: contract types whose CSV text can be plain (``list`` and ``period`` cells always need parsing)
CSV_TYPES = ("str", "vocab", "timestamp", "date", "int", "float", "bool")

#: the one spelling of a typed value in text that ``parse_frame`` and DuckDB's cast read alike: the
#: value's own rendering by DuckDB (``cast(try_cast(x as T) as varchar) = x``: no sign but a leading
#: minus, no leading zero, no space, ``YYYY-MM-DD HH:MM:SS`` with whole seconds) of the length given
#: here (4-digit years; none for integers); ``float`` text must match the pattern. Anything else is
#: parsed by ``parse_frame``. (A length test inside ``case`` keeps DuckDB's filter fast.)
_CANONICAL_LENGTH = {"timestamp": 19, "date": 10, "int": None}
_FLOAT_SPELLING = r"-?[0-9]{1,15}(\.[0-9]{1,15})?"


@dataclass
class SqlPlan:
    table: Table
    #: contract column -> source column (as DuckDB names it)
    source: dict[str, str]
    #: contract column -> DuckDB source type
    types: dict[str, str]
    max_field_chars: int
    #: the file's rows in file order (a FROM item with a ``$path`` parameter), and the SQL of a row's
    #: line number over it (None: the reader has none, the line is the row's place in the file: CSV)
    scan: str
    line: str | None
    #: the same rows without line numbers (for the passes that need none)
    bare: str
    #: the number of rows, when the header pass knows it (CSV); else counted from the file
    total: int | None = None
    #: CSV with a line ending in the separator: SQL counting the rows with more fields than the
    #: header (DuckDB's reader drops trailing empty fields; polars refuses such a file)
    extra_fields: str | None = None

    def _cell_plain(self, col: Column) -> str | None:
        """SQL true for a plain cell of ``col`` (None: every cell is plain)."""
        x = quote(self.source[col.name])
        if col.type == "vocab":
            keys = ", ".join(_literal(k) for k in plain_vocab_keys(col, self.max_field_chars))
            plain = f"{x} in ({keys})" if keys else "false"
        elif self.types[col.name] == "VARCHAR" and col.type == "bool":
            keys = ", ".join(_literal(k) for k in plain_bool_keys(self.max_field_chars))
            plain = f"{x} in ({keys})" if keys else "false"
        elif self.types[col.name] == "VARCHAR" and col.type in _CANONICAL_LENGTH:
            n = _CANONICAL_LENGTH[col.type]
            if n is not None and n > self.max_field_chars:
                plain = "false"
            else:
                size = f"strlen({x}) = {n}" if n is not None else f"strlen({x}) <= {int(self.max_field_chars)}"
                same = f"cast(try_cast({x} as {col.sql_type}) as varchar) = {x}"
                if col.pattern:
                    same += f" and regexp_matches({x}, {_literal(col.pattern)})"
                plain = f"(case when {size} then {same} else false end)"
        elif self.types[col.name] == "VARCHAR" and col.type == "float":
            plain = (
                f"strlen({x}) <= {int(self.max_field_chars)} and regexp_full_match({x}, {_literal(_FLOAT_SPELLING)}) "
                f"and try_cast({x} as {col.sql_type}) is not null"
            )
            if col.pattern:
                plain += f" and regexp_matches({x}, {_literal(col.pattern)})"
        elif self.types[col.name] == "VARCHAR":
            # the first character is above U+0020 when the text sorts at or after '!' (UTF-8 keeps
            # code point order); cheaper than ord(), and most first characters are decided by it
            parts = [f"strlen({x}) <= {int(self.max_field_chars)}", f"{x} >= '!'"]
            if normalize.is_identifier(self.table, col):  # ASCII: no full-width form to fold
                parts += [f"strlen({x}) = length({x})", f"substr({x}, -1) >= '!'"]
            else:
                ws = ", ".join(str(c) for c in _WHITESPACE)
                last = f"ord(substr({x}, -1))"
                parts += [
                    # outside U+0085..U+3000: no space
                    f"({x} < chr(133) or {x} >= chr(12289) or ord({x}) not in ({ws}))",
                    f"({last} > 12288 or ({last} > 32 and {last} not in ({ws})))",
                ]
            if col.pattern:
                parts.append(f"regexp_matches({x}, {_literal(col.pattern)})")
            plain = " and ".join(parts)
        else:
            plain = None
        if col.required and col.default is None:
            return f"{x} is not null" + (f" and {plain}" if plain else "")
        return f"({x} is null or ({plain}))" if plain else None

    def plain_row(self) -> str:
        """SQL true for a plain row. Non-null for every row; the insert keeps rows where it is true
        and the other rows are read where it is not true, so that each row is read exactly once."""
        present = [c for c in self.table.columns if c.name in self.source]
        cells = [p for p in (self._cell_plain(c) for c in present) if p]
        if not any(c.required and c.default is None for c in present):  # else a blank row is not plain anyway
            cells.append("not (" + " and ".join(f"{quote(self.source[c.name])} is null" for c in present) + ")")
        return " and ".join(f"({c})" for c in cells) or "true"

    def value(self, col: Column) -> str:
        default = None if col.default is None else f"cast({_literal(col.default)} as {col.sql_type})"
        if col.name not in self.source:
            return f"cast({default or 'null'} as {col.sql_type})"
        x = quote(self.source[col.name])
        if col.type == "vocab" or (col.type == "bool" and self.types[col.name] == "VARCHAR"):
            keys = (
                plain_vocab_keys(col, self.max_field_chars)
                if col.type == "vocab"
                else plain_bool_keys(self.max_field_chars)
            )
            cases = " ".join(f"when {_literal(k)} then {_literal(v)}" for k, v in keys.items())
            v = f"(case {x} {cases} end)" if keys else f"cast(null as {col.sql_type})"
        elif self.types[col.name] == "VARCHAR" and col.type in ("timestamp", "date", "int", "float"):
            v = f"try_cast({x} as {col.sql_type})"  # the cast of a plain cell; null for the others' keys
        else:
            v = f"cast({x} as {col.sql_type})"
        return f"coalesce({v}, {default})" if default else v


def plain_vocab_keys(col: Column, max_field_chars: int) -> dict[str, str]:
    """The spellings of a vocabulary that parse to themselves as lookup keys (no full-width form, no
    surrounding or repeated whitespace, lowercase): such a cell means ``keys[cell]`` without parsing.
    Any other spelling (``Success``, ``县（区）``) goes through ``parse_frame``."""
    out = {}
    for k, v in normalize.vocab_keys(col).items():
        if (
            k
            and k == k.strip()
            and k == k.lower()
            and " ".join(k.split()) == k
            and k.isprintable()
            and not re.search(normalize._FW_RE, k)
            and len(k.encode()) <= max_field_chars
        ):
            out[k] = v
    return out


def plain_bool_keys(max_field_chars: int) -> dict[str, bool]:
    """The spellings ``parse_bool`` reads without changing them (``true``, ``是``, ``1``…)."""
    return {k: v for k, v in normalize._BOOL.items() if k == k.strip().lower() and len(k.encode()) <= max_field_chars}


#: up to this many rows a CSV file's line numbers are written after its one parallel insert from the
#: rows' order in the table (an UPDATE, whose undo data DuckDB holds until commit: ~15 bytes a row);
#: above it they are numbered as DuckDB reads the file (``row_number() over ()``, which makes the
#: scan serial). 5M rows: the insert 4.8 s against 8.4 s; 50M rows, the whole load: 71.6 s and 2,084 MB
#: against 109.9 s and 1,249 MB (benchmarks/NOTES.md)
NUMBERED_ROWS = 10_000_000


def prepare_csv(
    path,
    header: list[str],
    separator: str,
    records: int | None,
    table: Table,
    mapping: dict[str, str],
    max_field_chars: int,
    separator_at_line_end: bool = True,
) -> SqlPlan | None:
    """The SQL plan for a CSV file, or None when it needs the polars path.

    Only files whose every line is one record (``records`` from :func:`readers.fingerprint`: UTF-8,
    no quote character, no blank line, no bare CR, no NUL) are read by DuckDB: there its reader and
    polars' split the same records into the same fields — on the separator and the line ends, with
    no quoting rule to interpret — so record i is line i + 2 both ways. The reader is strict (a row
    with too few or too many fields is an error, and the file then takes the polars path, which
    judges it) — except for trailing empty fields, which it drops: when a line ends with the
    separator (``separator_at_line_end``, from the fingerprint), the plan counts the rows with more
    fields than the header first (:attr:`SqlPlan.extra_fields`). Columns are read as text by
    position (``c0``, ``c1``…), never by the header's words."""
    if records is None or len(set(header)) != len(header) or not header:
        return None
    names = {h: f"c{i}" for i, h in enumerate(header)}
    source: dict[str, str] = {}
    for src, name in mapping.items():
        if src not in names or table.column(name).type not in CSV_TYPES:
            return None
        source[name] = names[src]
    if not source:
        return None
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names.values()) + "}"
    extra = _extra_fields_sql(header, separator) if separator_at_line_end else None
    reader = (
        f"read_csv($path, header = true, auto_detect = false, columns = {columns}, delim = {_literal(separator)}, "
        "quote = '', escape = '', comment = '', strict_mode = true, null_padding = false, ignore_errors = false)"
    )
    if records > NUMBERED_ROWS:  # numbered while read: a serial scan, but no UPDATE of every row
        return SqlPlan(
            table,
            source,
            dict.fromkeys(source, "VARCHAR"),
            max_field_chars,
            scan=f"(select *, row_number() over () as {_ROW} from {reader})",
            line=f"{_ROW} + 1",
            bare=reader,
            total=records,
            extra_fields=extra,
        )
    return SqlPlan(
        table,
        source,
        dict.fromkeys(source, "VARCHAR"),
        max_field_chars,
        scan=reader,
        line=None,
        bare=reader,
        total=records,
        extra_fields=extra,
    )


def _extra_fields_sql(header: list[str], separator: str) -> str:
    """SQL counting the rows with more fields than ``header``. DuckDB's reader ignores any number
    of trailing empty fields (``a,b,c,,`` reads as 3 fields), where polars refuses the file; read
    with one column more, padded, and with no text read as NULL, a row of exactly the header's
    fields has NULL there, a row with one more field (empty or not) has text, and a row with still
    more is an error (the caller refuses the file in both cases)."""
    n = len(header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n + 1)) + "}"
    return (
        f"select count(c{n}) from read_csv($path, header = true, auto_detect = false, columns = {columns}, "
        f"delim = {_literal(separator)}, quote = '', escape = '', comment = '', strict_mode = true, "
        f"null_padding = true, nullstr = {_literal(chr(10))}, ignore_errors = false)"
    )


def prepare(con, path, table: Table, mapping: dict[str, str], max_field_chars: int) -> SqlPlan | None:
    """The SQL plan for a Parquet file, or None when a column needs the polars path."""
    cur = con.cursor()  # its own connection: a file DuckDB cannot read must not abort the load's transaction
    try:
        described = cur.execute(
            "select column_name, column_type from (describe select * from read_parquet(?))", [str(path)]
        ).fetchall()
    finally:
        cur.close()
    types = dict(described)
    if len(types) != len(described) or any(n.lower() in ("file_row_number", _ROW) for n in types):
        return None
    source: dict[str, str] = {}
    ctypes: dict[str, str] = {}
    for src, name in mapping.items():
        col = table.column(name)
        t = types.get(src)
        if t is None:
            return None
        ok = t == "VARCHAR" if col.type in ("str", "vocab") else t in _NATIVE.get(col.type, ())
        if not ok:
            return None
        source[name], ctypes[name] = src, t
    if not source:
        return None
    return SqlPlan(
        table,
        source,
        ctypes,
        max_field_chars,
        scan="read_parquet($path, file_row_number = true)",
        line="file_row_number + 1",
        bare="read_parquet($path)",
    )


def insert_plain(con, sp: SqlPlan, path, load_id: int, all_plain: bool = False) -> int:
    """Insert the plain rows straight from the file; returns how many.

    A reader without line numbers (CSV up to :data:`NUMBERED_ROWS` rows) inserts the plain rows in
    one parallel statement; DuckDB keeps a single table's insertion order, so the rows' ``rowid``
    order is the file's and each row's line is its place after the header, written afterwards.
    When some rows are not plain, every row is inserted instead, the plain ones under ``load_id``
    and the others (to be parsed by :func:`other_rows`, then deleted) under ``-load_id``.
    ``all_plain`` (a reader with line numbers, after :func:`source_check` found every row plain):
    the rows are inserted without testing them again."""
    cols = ", ".join(sp.table.names)
    values = ", ".join(sp.value(c) for c in sp.table.columns)
    params = {"path": str(path)}
    lid = int(load_id)
    if sp.line is not None:
        return con.execute(
            f"insert into {sp.table.name} ({cols}, _load_id, _line) "
            f"select {values}, {lid}, {sp.line} from {sp.scan}" + ("" if all_plain else f" where {sp.plain_row()}"),
            params,
        ).fetchall()[0][0]
    t = sp.table.name
    ordered = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    if not ordered:  # a caller's connection may have turned it off: the line numbers need it
        con.execute("set preserve_insertion_order = true")
    try:
        # a clean file (the common case): the plain rows are all its rows, filtered as a WHERE clause
        # filters (faster than the same test as a value); otherwise again, every row marked
        n = con.execute(
            f"insert into {t} ({cols}, _load_id, _line) select {values}, {lid}, null from {sp.scan} "
            f"where {sp.plain_row()}",
            params,
        ).fetchall()[0][0]
        if n != sp.total:
            con.execute(f"delete from {t} where _load_id = {lid}")
            n = con.execute(
                f"insert into {t} ({cols}, _load_id, _line) select {values}, "
                f"case when coalesce({sp.plain_row()}, false) then {lid} else {-lid} end, null from {sp.scan}",
                params,
            ).fetchall()[0][0]
    finally:
        if not ordered:
            con.execute("set preserve_insertion_order = false")
    if not n:
        return 0
    con.execute(
        f"update {t} set _line = rowid - (select min(rowid) from {t} where _load_id in ({lid}, {-lid})) + 2 "
        f"where _load_id in ({lid}, {-lid})"
    )
    return con.execute(f"select count(*) from {t} where _load_id = {lid}").fetchall()[0][0]


def other_rows(con, sp: SqlPlan, path, batch_rows: int, load_id: int):
    """The rows that are not plain, in file order, as (polars frame of the mapped source columns as
    polars reads them, their line numbers) in batches of at most ``batch_rows`` rows. For CSV the
    lines are those :func:`insert_plain` gave the rows it marked, which are then deleted."""
    cols = ", ".join(quote(s) for s in sp.source.values())
    lines = None
    if sp.line is None:
        lid = -int(load_id)
        lines = cast(
            pl.DataFrame,  # an Arrow table comes back as a frame
            pl.from_arrow(
                con.sql(f"select _line from {sp.table.name} where _load_id = {lid} order by _line").to_arrow_table()
            ),
        ).to_series()
        con.execute(f"delete from {sp.table.name} where _load_id = {lid}")
    cur = con.cursor()  # its own connection: it reads the file while the load's transaction inserts
    at = 0
    try:
        numbered = f", {sp.line} as {_ROW}" if sp.line is not None else ""
        reader = cur.sql(
            f"select {cols}{numbered} from {sp.scan} where not coalesce({sp.plain_row()}, false)",
            params={"path": str(path)},
        ).to_arrow_reader(batch_rows)
        for batch in reader:
            if batch.num_rows:
                df = cast(pl.DataFrame, pl.from_arrow(pa.Table.from_batches([batch])))
                if lines is None:
                    yield df.drop(_ROW), df[_ROW]
                else:
                    if at + df.height > lines.len():
                        raise duckdb.InvalidInputException("more rows that are not plain than marked")
                    yield df, lines.slice(at, df.height)
                    at += df.height
    finally:
        cur.close()
    if lines is not None and at != lines.len():
        raise duckdb.InvalidInputException(f"{at:,} rows that are not plain read back, {lines.len():,} marked")


def total_rows(con, sp: SqlPlan, path) -> int:
    if sp.total is not None:
        return sp.total
    return con.execute(f"select count(*) from {sp.bare}", {"path": str(path)}).fetchall()[0][0]


#: DuckDB's memory limit while duplicate keys are counted: its hash aggregate spills to the
#: warehouse's temporary folder past this (50M keys take ~2.6 GB in memory otherwise);
#: ``HZEVAL_LOAD_CHECK_MB`` overrides. A lower limit already set is kept.
CHECK_MEMORY_MB = 1024

_UNITS = {
    "": 1,
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def _bytes(setting: str) -> int | None:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", setting or "")
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def has_duplicate_keys(con, table: Table, load_id: int) -> bool:
    """Whether two rows of this load may share a key: distinct 64-bit hashes of the keys prove they
    do not (a collision only sends the load down the exact check)."""
    keys = ", ".join(table.key)
    return _any_repeated(con, f"select hash({keys}) as h from {table.name} where _load_id = {int(load_id)}")


#: up to this many rows the file's key hashes are checked in one numpy array (8 bytes a row, sorted
#: in place: far leaner than a hash aggregate's ~70 bytes a row); above, DuckDB's aggregate spills
NUMPY_CHECK_ROWS = 100_000_000


def source_duplicate_keys(con, sp: SqlPlan, path, total: int) -> bool:
    """The same question asked of the file before anything is inserted (while memory is low), over
    every row's key as a plain row would store it: the answer for the load when every row is plain."""
    keys = ", ".join(sp.value(sp.table.column(k)) for k in sp.table.key)
    hashes = f"select hash({keys}) as h from {sp.bare}"
    params = {"path": str(path)}
    if total <= NUMPY_CHECK_ROWS:
        cur = con.cursor()  # reads only the file: outside the load's transaction
        try:  # one array: its memory is given back before the insert takes its own
            found = _sorted_repeated(cur, hashes, params, total, parts=1)
        finally:
            cur.close()
        if found is not None:
            return found
    return _any_repeated(con, hashes, params)  # many rows, or the file changed under us: count what is there


def source_check(con, sp: SqlPlan, path, total: int) -> bool | None:
    """One read of a Parquet file before anything is inserted, for the two questions its insert
    needs answered: is every row plain, and do two of them share a key? The key hashes of the plain
    rows are sorted in one numpy array (8 bytes a row, given back before the insert takes its
    memory). Returns whether keys repeat when every row is plain; None when some row is not (or the
    file has another number of rows than ``total``): the insert then tests each row and the keys
    are checked in the table. The plain-row test costs the same here as in the insert's filter, and
    an insert without a filter runs at ``create table as`` speed (issue 29: 5M rows 1.72× → 1.33× DuckDB's CTAS)."""
    if total > NUMPY_CHECK_ROWS or total < 1:
        return None
    keys = ", ".join(sp.value(sp.table.column(k)) for k in sp.table.key) or "0"
    cur = con.cursor()  # reads only the file: outside the load's transaction
    try:
        sql = f"select hash({keys}) as h from {sp.bare} where {sp.plain_row()}"
        found = _hash_array(cur, sql, {"path": str(path)}, total)
    finally:
        cur.close()
    if found is None:
        return None
    return bool(sp.table.key) and _repeats(found)


def loaded_duplicate_keys(con, table: Table, load_id: int, rows: int) -> bool:
    """:func:`has_duplicate_keys` for ``rows`` rows just inserted (in the load's transaction), by the
    sorted hashes while they fit :data:`NUMPY_CHECK_ROWS`."""
    if rows <= NUMPY_CHECK_ROWS:
        found = _sorted_repeated(
            con,
            f"select hash({', '.join(table.key)}) as h from {table.name} where _load_id = {int(load_id)}",
            None,
            rows,
        )
        if found is not None:
            return found
    return has_duplicate_keys(con, table, load_id)


#: key hashes sorted at a time after an insert (8 bytes each: 128 MB, on top of the insert's memory);
#: more rows are checked in that many hash partitions, one scan each (50M rows: 4 partitions of
#: ~100 MB instead of one array of 400 MB). A Parquet file's hashes, sorted before its insert, are
#: one array: 5 scans of 50M keys cost 8 s more than the memory they save there
SORT_ROWS = 16_000_000


def _sorted_repeated(con, hashes: str, params, total: int, parts: int | None = None) -> bool | None:
    """Whether a value of ``h`` repeats, in numpy arrays of the hashes sorted in place (8 bytes a
    row, at most :data:`SORT_ROWS` rows at a time unless ``parts`` says how many partitions); None
    when the query yields another number of rows than ``total``."""
    parts = parts or max(1, -(-total // SORT_ROWS))
    if parts == 1:
        return _sorted_part(con, hashes, params, total)
    counts = dict(con.execute(f"select h % {parts}, count(*) from ({hashes}) group by all", params).fetchall())
    if sum(counts.values()) != total:
        return None
    for k in range(parts):
        if counts.get(k, 0) > 1:
            found = _sorted_part(con, f"select h from ({hashes}) where h % {parts} = {k}", params, counts[k])
            if found is not False:
                return found
    return False


def _hash_array(con, hashes: str, params, total: int):
    """The ``total`` hashes ``hashes`` selects, in one numpy array (8 bytes a row); None when the query
    gives another number of rows."""
    import numpy as np

    found = np.empty(total, dtype=np.uint64)
    at = 0
    for batch in con.sql(hashes, params=params).to_arrow_reader(1 << 20):
        col = batch.column(0)  # a hash is never null: its values buffer is the array (no pandas import)
        part = np.frombuffer(col.buffers()[1], dtype=np.uint64, count=len(col), offset=col.offset * 8)
        if at + len(part) > total:
            return None
        found[at : at + len(part)] = part
        at += len(part)
    return found if at == total else None


def _repeats(found) -> bool:
    """Whether two of the hashes are equal (sorts ``found`` in place)."""
    found.sort()
    return bool((found[1:] == found[:-1]).any())


def _sorted_part(con, hashes: str, params, total: int) -> bool | None:
    found = _hash_array(con, hashes, params, total)
    return None if found is None else _repeats(found)


def _any_repeated(con, hashes: str, params=None) -> bool:
    """Whether a value of ``h`` repeats, by a grouped hash aggregate under a memory limit (it spills
    to the warehouse's temporary folder instead of growing with the file)."""
    old = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    cap = _env_int("HZEVAL_LOAD_CHECK_MB", CHECK_MEMORY_MB) * 1024 * 1024
    current = _bytes(str(old))
    limit = cap if current is None or current > cap else None
    if limit is not None:
        con.execute(f"set memory_limit = '{int(limit)}B'")
    try:
        return con.execute(
            f"select exists (select 1 from ({hashes}) group by h having count(*) > 1)", params
        ).fetchall()[0][0]
    finally:
        if limit is not None:  # back to the default, or as near as DuckDB's rounded text allows to what was set
            con.execute("reset memory_limit")
            if con.execute("select current_setting('memory_limit')").fetchall()[0][0] != old:
                con.execute(f"set memory_limit = '{old}'")
