"""Header recognition and vectorised value parsing (DESIGN §3).

Everything here is driven by :mod:`hzeval.contract`: header spellings come from each
column's ``name``, ``zh`` and ``aliases``; value parsing from its ``type``, ``vocab``,
``required`` and ``default``. Values are parsed with polars expressions over whole
columns — there is no per-row Python.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

from hzeval.contract import CODE_PATTERN, EMAIL_PATTERN, TABLES, Column, Table, V, Vocabulary
from hzeval.errors import ECHO_LIMIT, InputFileError, clip

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- reasons

R_MISSING = "缺少必填值 / missing required value"
R_TIME = "时间无法解析 / unparseable time"
R_DATE = "日期无法解析 / unparseable date"
R_NUMBER = "数字无法解析 / unparseable number"
R_BOOL = "布尔值无法解析 / unparseable boolean"
R_PERIOD = "期间无法解析（应为 2025Q3）/ unparseable period (expected e.g. 2025Q3)"
R_CODE = "代码只能含字母、数字、- 和 _，至多 32 个字符 / code must be letters, digits, - or _, at most 32 characters"
R_EMAIL = "邮箱格式无效（须为 name@example.gov.cn 形式）/ invalid mail address"
#: the reason a value breaking a column's pattern gives
R_PATTERN = {CODE_PATTERN: R_CODE, EMAIL_PATTERN: R_EMAIL}

#: default for :func:`parse_frame`'s ``max_field_chars`` (see :mod:`hzeval.ingest.limits`)
MAX_FIELD_CHARS = 100_000


def r_too_long(limit: int) -> str:
    return f"字段超过 {limit:,} 个字符 / field longer than {limit:,} characters"


def _vocabulary(col: Column) -> Vocabulary:
    """The vocabulary of a vocab column (never called for another column)."""
    assert col.vocab is not None, col.name
    return V[col.vocab]


def r_vocab(col: Column) -> str:
    vocab = _vocabulary(col)
    allowed = "、".join(vocab.values)
    return f"不在词表「{vocab.zh}」中（可选：{allowed}）/ unknown {vocab.name} value"


def r_duplicate() -> pl.Expr:
    """Reason for a duplicate key; expects ``__first_line`` in the frame."""
    return pl.format(
        "键重复，与第 {} 行相同 / duplicate key, same as line {}", pl.col("__first_line"), pl.col("__first_line")
    )


# --------------------------------------------------------------------------- headers


def norm_header(text: str) -> str:
    """NFKC (full-width → half-width), strip, lowercase, inner spaces/hyphens → ``_``."""
    s = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", s)


def _spellings(col: Column) -> list[str]:
    return [norm_header(x) for x in (col.name, col.zh, *col.aliases)]


#: table name -> {normalised header spelling -> canonical column name}
HEADER_INDEX: dict[str, dict[str, str]] = {
    t.name: {sp: c.name for c in t.columns for sp in _spellings(c)} for t in TABLES.values()
}

#: normalised table spellings (name, Chinese name, aliases) -> table name
TABLE_SPELLINGS: dict[str, str] = {
    norm_header(sp): t.name for t in TABLES.values() for sp in (t.name, t.zh, *t.aliases)
}


def table_by_prefix(*names: str | None) -> Table | None:
    """The table whose name (or Chinese name/alias) starts the first of ``names`` that has one.

    The longest spelling wins, so ``projects_2025`` is ``projects`` and
    ``project_data_list.csv`` is ``project_data_list``.
    """
    for name in names:
        if not name:
            continue
        n = norm_header(name)
        hits = [sp for sp in TABLE_SPELLINGS if n.startswith(sp)]
        if hits:
            return TABLES[TABLE_SPELLINGS[max(hits, key=len)]]
    return None


def table_by_name(name: str) -> Table | None:
    """The table a sheet name names exactly (name, Chinese name or alias)."""
    t = TABLE_SPELLINGS.get(norm_header(name))
    return TABLES[t] if t else None


@dataclass
class Recognition:
    table: Table
    #: source header -> canonical column
    mapping: dict[str, str]
    #: source headers that map to no column of the table
    unknown: list[str] = field(default_factory=list)


def column_mapping(table: Table, headers: list[str]) -> tuple[dict[str, str], list[str]]:
    index = HEADER_INDEX[table.name]
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for h in headers:
        col = index.get(norm_header(h))
        if col is None:
            unknown.append(h)
        else:
            mapping[h] = col
    return mapping, unknown


def _describe(col: Column) -> str:
    return f"{col.name}（{col.zh}）"


def check_mapping(table: Table, mapping: dict[str, str], file: str) -> None:
    """Raise when a required column is missing or two headers name the same column."""
    seen: dict[str, str] = {}
    for src, col in mapping.items():
        if col in seen:
            c = table.column(col)
            raise InputFileError(
                f"文件 {file}：表 {table.name}（{table.zh}）的列 {_describe(c)} 出现两次"
                f"（表头「{clip(seen[col], 80)}」和「{clip(src, 80)}」）",
                f"file {file}: column {col} of table {table.name} appears twice"
                f" (headers {clip(seen[col], 80)!r} and {clip(src, 80)!r})",
                file=file,
                table=table.name,
                column=col,
            )
        seen[col] = src
    missing = [c for c in table.required if c not in seen]
    if missing:
        cols = [table.column(c) for c in missing]
        raise InputFileError(
            f"文件 {file}：表 {table.name}（{table.zh}）缺少必填列 {'、'.join(_describe(c) for c in cols)}",
            f"file {file}: table {table.name} lacks required column(s) {', '.join(missing)}",
            file=file,
            table=table.name,
            column=",".join(missing),
        )


def recognise(headers: list[str], file: str, hints: tuple[str | None, ...] = ()) -> Recognition:
    """Pick the table a header belongs to (DESIGN §3).

    Candidates are the tables whose required columns are all present; the one matching
    most headers wins. On a tie, or with no candidate, the first of ``hints`` (sheet name,
    file stem) that starts with a table name decides; that table must then have all its
    required columns.
    """
    seen: dict[str, str] = {}
    for h in headers:
        key = norm_header(h)
        if key and key in seen:
            raise InputFileError(
                f"文件 {file}：表头「{clip(h, 80)}」出现两次，无法确定使用哪一列",
                f"file {file}: header {clip(h, 80)!r} appears twice; cannot tell which column to use",
                file=file,
                column=clip(h),
            )
        seen[key] = h
    scored = []
    for t in TABLES.values():
        mapping, unknown = column_mapping(t, headers)
        present = set(mapping.values())
        if all(c in present for c in t.required):
            scored.append((len(present), t, mapping, unknown))
    scored.sort(key=lambda x: -x[0])
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        _, t, mapping, unknown = scored[0]
        check_mapping(t, mapping, file)
        return Recognition(t, mapping, unknown)
    hinted = table_by_prefix(*hints)
    if hinted is not None:
        mapping, unknown = column_mapping(hinted, headers)
        check_mapping(hinted, mapping, file)
        return Recognition(hinted, mapping, unknown)
    # a refused file is echoed at most ECHO_LIMIT characters (a link to /etc/shadow, a 900 KB header)
    shown = clip(", ".join(str(h) for h in headers), ECHO_LIMIT) if headers else "（空 / empty）"
    if scored:
        names = "、".join(s[1].name for s in scored if s[0] == scored[0][0])
        raise InputFileError(
            f"文件 {file}：表头同样符合多个表（{names}），"
            f"请以表名开头命名文件，如 {scored[0][1].name}_2025.csv；表头：{shown}",
            f"file {file}: header fits several tables ({names}); start the file name with the table name;"
            f" header: {shown}",
            file=file,
            column=shown,
        )
    raise InputFileError(
        f"文件 {file}：无法识别表，表头为：{shown}",
        f"file {file}: no recognisable table; header: {shown}",
        file=file,
        column=shown,
    )


# --------------------------------------------------------------------------- values

#: full-width ASCII (U+FF01..U+FF5E) and the ideographic space → half-width
_FW_FROM = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_FW_TO = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
_FW_RE = "[\uff01-\uff5e\u3000]"
#: anything :func:`clean` would change: full-width forms, surrounding whitespace, empty text
_DIRTY_RE = _FW_RE + r"|^\s|\s$|^$"

_BOOL = {
    **dict.fromkeys(["true", "t", "1", "是", "y", "yes", "on", "对", "√"], True),
    **dict.fromkeys(["false", "f", "0", "否", "n", "no", "off", "×"], False),
}

#: one regex for every accepted date/time spelling once 年/月 and / became '-', 日 a space
_TS_RE = (
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:\s+|T|t)(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_TS_FAST = "%Y-%m-%d %H:%M:%S"
_CN_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}


def clean(expr: pl.Expr, fullwidth: bool) -> pl.Expr:
    """Full-width → half-width (when the column has any), strip, empty → null."""
    e = expr.cast(pl.String)
    if fullwidth:
        e = e.str.replace_many(_FW_FROM, _FW_TO)
    e = e.str.strip_chars()
    return pl.when(e.str.len_bytes() == 0).then(None).otherwise(e)


def parse_timestamp(s: pl.Expr) -> pl.Expr:
    """Cleaned string → naive Asia/Shanghai ``Datetime('us')``; null when unparseable."""
    t = s.str.replace_all("[年月/]", "-").str.replace_all("日", " ").str.strip_chars()
    g = t.str.extract_groups(_TS_RE)
    f = g.struct.field

    def pad(name: str, default: str = "0") -> pl.Expr:
        return f(name).fill_null(default).str.zfill(2)

    canon = pl.format("{}-{}-{} {}:{}:{}", f("1"), pad("2"), pad("3"), pad("4"), pad("5"), pad("6"))
    naive = canon.str.to_datetime(_TS_FAST, time_unit="us", strict=False)
    micros = f("7").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64).fill_null(0)
    off = f("8").str.to_uppercase()
    off_digits = off.str.replace_all(r"[^0-9]", "")
    off_min = pl.when(off == "Z").then(0).otherwise(
        off_digits.str.slice(0, 2).cast(pl.Int64) * 60
        + off_digits.str.slice(2, 2).str.zfill(2).cast(pl.Int64, strict=False).fill_null(0)
    ) * pl.when(off.str.starts_with("-")).then(-1).otherwise(1)
    value = naive + pl.duration(microseconds=micros)
    return pl.when(off.is_null()).then(value).otherwise(value + pl.duration(minutes=480 - off_min))


def parse_fast_timestamp(s: pl.Expr) -> pl.Expr:
    """The common exact ``YYYY-MM-DD HH:MM:SS`` spelling only (no regex)."""
    return s.str.to_datetime(_TS_FAST, time_unit="us", strict=False)


def parse_time_series(s: pl.Series) -> pl.Series:
    """Cleaned strings → naive local ``Datetime('us')``.

    The exact ``YYYY-MM-DD HH:MM:SS`` spelling (what platform exports use) is parsed
    for the whole column; only the rows it misses go through the regex path.
    """
    frame = pl.DataFrame({"s": s})
    fast = frame.select(parse_fast_timestamp(pl.col("s"))).to_series()
    miss = fast.is_null() & s.is_not_null()
    if miss.any():
        slow = frame.filter(miss).select(parse_timestamp(pl.col("s"))).to_series()
        fast = fast.scatter(miss.arg_true(), slow)
    return fast.alias(s.name)


def parse_number(s: pl.Expr, integer: bool) -> pl.Expr:
    n = s.str.replace_all(",", "", literal=True).str.replace_all(r"\s", "")
    as_float = n.cast(pl.Float64, strict=False)
    if not integer:
        return as_float
    as_int = n.cast(pl.Int64, strict=False)
    whole = pl.when(as_float.is_finite() & (as_float == as_float.round(0))).then(as_float.cast(pl.Int64, strict=False))
    return pl.coalesce(as_int, whole)


def parse_bool(s: pl.Expr) -> pl.Expr:
    return s.str.to_lowercase().replace_strict(_BOOL, default=None, return_dtype=pl.Boolean)


def vocab_keys(col: Column) -> dict[str, str]:
    """Lookup key (lowercase, whitespace runs as one space) -> canonical value of a vocabulary column."""
    amap = {k.lower(): v for k, v in _vocabulary(col).alias_map().items()}
    # also accept the spellings after full-width normalisation (县（区） → 县(区))
    amap.update({unicodedata.normalize("NFKC", k).lower(): v for k, v in amap.items()})
    return amap


def parse_vocab(s: pl.Expr, col: Column) -> pl.Expr:
    key = s.str.to_lowercase().str.replace_all(r"\s+", " ")
    return key.replace_strict(vocab_keys(col), default=None, return_dtype=pl.String)


def parse_period(s: pl.Expr) -> pl.Expr:
    lo = s.str.to_lowercase().str.replace_all(r"\s+", "")
    a = lo.str.extract_groups(r"^(\d{4})(?:年|[-_/.])?(?:第)?q([1-4])$")
    b = lo.str.extract_groups(r"^(\d{4})年?第?([1-4一二三四])(?:季度|季)$")
    year = pl.coalesce(a.struct.field("1"), b.struct.field("1"))
    q = pl.coalesce(a.struct.field("2"), b.struct.field("2").replace(_CN_QUARTER))
    return pl.when(year.is_not_null() & q.is_not_null()).then(pl.format("{}Q{}", year, q))


def parse_list(s: pl.Expr) -> pl.Expr:
    parts = s.str.replace_all(r"[；、，,;]", ";").str.split(";")
    parts = parts.list.eval(pl.element().str.strip_chars()).list.eval(
        pl.element().filter(pl.element().str.len_bytes() > 0)
    )
    joined = parts.list.join(";")
    return pl.when(joined.str.len_bytes() > 0).then(joined)


def is_identifier(table: Table, col: Column) -> bool:
    """Codes and ids (keys, references, ``*_code``/``*_id``): full-width forms are normalised.

    Free text (names, bases, descriptions) keeps its full-width punctuation, as Chinese
    text conventionally has it (``惠州市公安局（更名）``); only surrounding spaces go.
    """
    return col.name in table.key or col.ref is not None or col.name.endswith(("_code", "_id", "_codes"))


def target_dtype(col: Column) -> pl.DataType:
    return {
        "int": pl.Int64(),
        "float": pl.Float64(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "timestamp": pl.Datetime("us"),
    }.get(col.type, pl.String())


def _native(col: Column, dtype: pl.DataType) -> bool:
    """Whether a non-string source column can be used as is (Parquet/Excel native types)."""
    t = col.type
    if t in ("timestamp", "date"):
        return isinstance(dtype, (pl.Datetime, pl.Date))
    if t == "int":
        return dtype.is_integer()
    if t == "float":
        return dtype.is_numeric()
    if t == "bool":
        return dtype == pl.Boolean
    return False


def parse_column(col: Column, s: pl.Expr) -> tuple[pl.Expr, str | None]:
    """Value expression (null when unparseable) and the reject reason for a cleaned string."""
    t = col.type
    if t == "str":
        return s, None
    if t == "list":
        return parse_list(s), None
    if t == "timestamp":
        return parse_timestamp(s), R_TIME
    if t == "date":
        return parse_timestamp(s).dt.date(), R_DATE
    if t in ("int", "float"):
        return parse_number(s, t == "int"), R_NUMBER
    if t == "bool":
        return parse_bool(s), R_BOOL
    if t == "vocab":
        return parse_vocab(s, col), r_vocab(col)
    if t == "period":
        return parse_period(s), R_PERIOD
    raise ValueError(f"unknown column type {t!r} of {col.name}")  # pragma: no cover - contract bug


@dataclass
class Parsed:
    #: contract columns (typed, contract order) plus ``_line``
    good: pl.DataFrame
    #: line, column_name, value, reason
    rejects: pl.DataFrame
    rows_in: int

    @property
    def rows_rejected(self) -> int:
        return self.rejects["line"].n_unique() if self.rejects.height else 0


def _clipped(value: pl.Expr) -> pl.Expr:
    """A rejected cell as stored in ``rejects``: at most ECHO_LIMIT characters."""
    return (
        pl.when(value.str.len_chars() > ECHO_LIMIT)
        .then(value.str.slice(0, ECHO_LIMIT - 1) + pl.lit("…"))
        .otherwise(value)
    )


REJECT_SCHEMA = pl.Schema({"line": pl.Int64, "column_name": pl.String, "value": pl.String, "reason": pl.String})


def duplicate_rejects(good: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """One reject row (line, column_name, value, reason) per row of ``good`` whose key an earlier
    row (in frame order) already has; ``good`` holds the key columns and ``_line``."""
    kexpr = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    first = kexpr.is_first_distinct()
    firsts = good.filter(first).select(*key, pl.col("_line").alias("__first_line"))
    dups = good.filter(~first).join(firsts, on=key, how="left", nulls_equal=True)
    return dups.select(
        pl.col("_line").alias("line"),
        pl.lit(",".join(key)).alias("column_name"),
        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=",", ignore_nulls=True).alias("value"),
        r_duplicate().alias("reason"),
    )


def parse_frame(
    df: pl.DataFrame,
    table: Table,
    mapping: dict[str, str],
    line_offset: int,
    max_field_chars: int = MAX_FIELD_CHARS,
    lines: pl.Series | None = None,
    dedupe: bool = True,
) -> Parsed:
    """Parse one file's frame into good rows and one reject row per bad cell / duplicate row.

    A cell longer than ``max_field_chars`` characters rejects its row; values that break a
    column's ``pattern`` (agency codes, DESIGN §3) too. Reject values keep at most
    :data:`~hzeval.errors.ECHO_LIMIT` characters. ``lines`` (one Int64 per row, ascending) gives
    rows that are not consecutive in the file their line numbers (``line_offset`` is then unused);
    ``dedupe=False`` leaves duplicate keys to the caller (the SQL path settles them over the file)."""
    raw = df.select([pl.col(src).alias(col) for src, col in mapping.items()])
    if lines is not None:
        raw = raw.with_columns(lines.cast(pl.Int64).alias("_line"))
    else:
        raw = raw.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).add(line_offset).alias("_line"))
    present = [c for c in table.columns if c.name in raw.columns]
    # over-long cells: bytes >= characters, so only columns with a long byte length are measured
    text_cols = [c.name for c in present if raw.schema[c.name] == pl.String]
    long_cols: list[str] = []
    if text_cols and raw.height:
        flags = raw.select([(pl.col(n).str.len_bytes() > max_field_chars).any().alias(n) for n in text_cols]).row(
            0, named=True
        )
        long_cols = [n for n in text_cols if flags[n]]
    too_long = (
        raw.select(
            [(pl.col(n).str.len_chars() > max_field_chars).fill_null(False).alias(f"__long__{n}") for n in long_cols]
        )
        if long_cols
        else None
    )

    # which string columns clean() would change at all (one scan; clean columns are used as
    # they are), and of those which typed/identifier ones hold full-width characters (so that
    # the others skip replace_many)
    strings = [c.name for c in present if raw.schema[c.name] == pl.String]
    dirty = dict.fromkeys(strings, True)
    if strings and raw.height:
        dirty = raw.select([pl.col(n).str.contains(_DIRTY_RE).any().alias(n) for n in strings]).row(0, named=True)
    stringy = [
        n for n in strings if dirty[n] and (is_identifier(table, table.column(n)) or table.column(n).type != "str")
    ]
    fw = {}
    if stringy and raw.height:
        fw = raw.select([pl.col(n).str.contains(_FW_RE).any().alias(n) for n in stringy]).row(0, named=True)

    # stage 1: cleaned strings (native Parquet columns and already clean text as they are)
    native = {c.name for c in present if raw.schema[c.name] != pl.String and _native(c, raw.schema[c.name])}
    cleaned = raw.select(
        pl.col(c.name)
        if c.name in native or not dirty.get(c.name, True)
        else clean(pl.col(c.name), bool(fw.get(c.name))).alias(c.name)
        for c in present
    )

    # blank lines (every cell empty) are not data rows: drop them, keeping line numbers
    if present and cleaned.height:
        blank = cleaned.select(pl.all_horizontal(pl.all().is_null())).to_series()
        if blank.any():
            raw, cleaned = raw.filter(~blank), cleaned.filter(~blank)
            too_long = too_long.filter(~blank) if too_long is not None else None

    # stage 2: typed values, null where empty or unparseable; one evaluation per column
    value_exprs: list[pl.Expr] = []
    times: list[Column] = []
    for col in present:
        dtype = target_dtype(col)
        if col.name in native:
            v = pl.col(col.name)
            if col.type == "timestamp":
                v = v.cast(pl.Datetime("us"))
            elif col.type == "date" and isinstance(raw.schema[col.name], pl.Datetime):
                v = v.dt.date()
            value_exprs.append(v.cast(dtype).alias(col.name))
        elif col.type in ("timestamp", "date"):
            times.append(col)
        else:
            value_exprs.append(parse_column(col, pl.col(col.name))[0].cast(dtype).alias(col.name))
    typed = cleaned.select(value_exprs) if value_exprs else pl.DataFrame()
    for col in times:
        ts = parse_time_series(cleaned[col.name])
        typed = typed.with_columns((ts.dt.date() if col.type == "date" else ts).alias(col.name))

    # stage 3: defaults and per-cell reasons (cheap null checks over the stages above)
    # (the raw text of each cell is attached below, for the rejected rows only)
    comb = pl.concat(
        [
            raw.select("_line"),
            cleaned.select(pl.col(c.name).alias(f"__s__{c.name}") for c in present),
            typed.select(pl.col(c.name).alias(f"__v__{c.name}") for c in present),
            *([too_long] if too_long is not None else []),
        ],
        how="horizontal",
    )
    values: list[pl.Expr] = []
    errors: list[pl.Expr] = []
    err_names: list[str] = []
    for col in table.columns:
        dtype = target_dtype(col)
        default = pl.lit(col.default, dtype=dtype) if col.default is not None else pl.lit(None, dtype=dtype)
        if col.name not in raw.columns:
            values.append(default.alias(col.name))
            continue
        s_null = pl.col(f"__s__{col.name}").is_null()
        v = pl.col(f"__v__{col.name}")
        values.append((pl.when(s_null).then(default).otherwise(v) if col.default is not None else v).alias(col.name))
        err = pl.lit(None, dtype=pl.String)
        reason = None if col.name in native else parse_column(col, pl.col(f"__s__{col.name}"))[1]
        if reason:
            err = pl.when(~s_null & v.is_null()).then(pl.lit(reason)).otherwise(err)
        if col.pattern and col.name not in native:
            err = (
                pl.when(~s_null & ~pl.col(f"__s__{col.name}").str.contains(col.pattern))
                .then(pl.lit(R_PATTERN[col.pattern]))
                .otherwise(err)
            )
        if col.required and col.default is None:
            err = pl.when(s_null).then(pl.lit(R_MISSING)).otherwise(err)
        if col.name in long_cols:
            err = pl.when(pl.col(f"__long__{col.name}")).then(pl.lit(r_too_long(max_field_chars))).otherwise(err)
        name = f"__err__{col.name}"
        errors.append(err.alias(name))
        err_names.append(name)

    frame = comb.select(pl.col("_line"), *values, *errors)
    reject_parts = []
    if err_names:
        any_bad = pl.any_horizontal([pl.col(n).is_not_null() for n in err_names])
        bad_mask = frame.select(any_bad).to_series()
        bad_rows = frame.filter(bad_mask)
        if bad_rows.height:
            bad_rows = pl.concat(
                [
                    bad_rows,
                    raw.filter(bad_mask).select(
                        pl.col(c.name).cast(pl.String).alias(f"__raw__{c.name}") for c in present
                    ),
                ],
                how="horizontal",
            )
        for col in present if bad_rows.height else ():
            part = bad_rows.filter(pl.col(f"__err__{col.name}").is_not_null()).select(
                pl.col("_line").alias("line"),
                pl.lit(col.name).alias("column_name"),
                pl.col(f"__raw__{col.name}").alias("value"),
                pl.col(f"__err__{col.name}").alias("reason"),
            )
            if part.height:
                reject_parts.append(part)
        good = frame.filter(~bad_mask) if bad_rows.height else frame
    else:
        good = frame
    good = good.select("_line", *table.names)

    key = list(table.key)
    if dedupe and key and good.height:
        kexpr = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
        first = kexpr.is_first_distinct()
        # distinct 64-bit hashes prove distinct keys (4x cheaper than n_unique on strings);
        # a hash collision only sends the frame down the exact path below
        if (
            good.select(kexpr.hash().n_unique()).item() < good.height
            and good.select(kexpr.n_unique()).item() < good.height
        ):
            reject_parts.append(duplicate_rejects(good, key))
            good = good.filter(first)
    rejects = (
        pl.concat(reject_parts, how="vertical_relaxed")
        .cast(REJECT_SCHEMA)
        .sort("line", maintain_order=True)
        .with_columns(_clipped(pl.col("value")).alias("value"))
        if reject_parts
        else pl.DataFrame(schema=REJECT_SCHEMA)
    )
    good = good.select(*table.names, "_line")
    return Parsed(good, rejects, df.height)
