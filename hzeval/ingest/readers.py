"""File discovery, formats and encodings (DESIGN §3).

Two entry points per file: :func:`inspect_file` reads only the header (the cheap pass
that runs over every file before anything is written) and :func:`read_frame` reads the
whole file into a polars frame of strings (Parquet keeps its native temporal, integer
and boolean types; tz-aware datetimes become naive Asia/Shanghai time).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from hzeval.contract import Table
from hzeval.errors import InputFileError
from hzeval.ingest import normalize

log = logging.getLogger(__name__)

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
}
#: line number of data row 0: header on line 1 for CSV/XLSX
LINE_OFFSET = {"csv": 2, "xlsx": 2, "parquet": 1, "jsonl": 1}
LOCAL_TZ = "Asia/Shanghai"
_BOM = b"\xef\xbb\xbf"
_HEAD_BYTES = 1 << 20


def _read_errors() -> tuple[type[BaseException], ...]:
    import fastexcel
    import pyarrow as pa

    return (pl.exceptions.PolarsError, pa.ArrowException, fastexcel.FastExcelError, OSError, ValueError, EOFError)


#: what readers raise for bad content (not for bugs in this package)
READ_ERRORS = _read_errors()


# --------------------------------------------------------------------------- discovery


def _skipped_name(name: str) -> bool:
    low = name.lower()
    return name.startswith(".") or name.startswith("~$") or low.endswith(".md") or low.startswith("readme")


def discover(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Expand folders (recursively, sorted) into files; return (files, skipped files).

    Hidden files, Office lock files (``~$x.xlsx``) and README/Markdown files are ignored.
    Inside a folder a file with an unsupported extension is skipped (and reported);
    named explicitly it is an error.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    seen: set[Path] = set()

    def add(f: Path) -> None:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            files.append(f)

    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if not f.is_file() or any(_skipped_name(part) for part in rel.parts):
                    continue
                if f.suffix.lower() in FORMATS:
                    add(f)
                else:
                    log.warning("skipping %s: unsupported file type", f)
                    skipped.append(f)
        elif p.is_file():
            if p.suffix.lower() not in FORMATS:
                raise InputFileError(
                    f"文件 {p}：不支持的文件格式 {p.suffix or '（无扩展名）'}（支持 CSV、XLSX、Parquet、JSON Lines）",
                    f"file {p}: unsupported file type {p.suffix or '(none)'} (CSV, XLSX, Parquet, JSON Lines)",
                    file=str(p),
                )
            add(p)
        else:
            raise InputFileError(f"文件或文件夹不存在：{p}", f"no such file or folder: {p}", file=str(p))
    return files, skipped


# --------------------------------------------------------------------------- plans


@dataclass
class FilePlan:
    """What the header pass learned about one file."""

    path: Path
    file: str
    format: str
    table: Table
    mapping: dict[str, str]
    unknown: list[str] = field(default_factory=list)
    sheet: str | None = None
    separator: str = ","
    size: int = 0


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The first non-empty line of an exception message, shortened: CLI errors are one line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unreadable(file: str, zh: str, en: str, exc: BaseException | None = None) -> InputFileError:
    detail = one_line(exc) if exc is not None else ""
    return InputFileError(
        f"文件 {file} 无法读取：{zh}" + (f"（{detail}）" if detail else ""),
        f"file {file} is unreadable: {en}" + (f" ({detail})" if detail else ""),
        file=file,
    )


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or else GB18030 (a superset of GBK)."""
    if data.startswith(_BOM):
        try:
            return data[len(_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise unreadable(file, "带 BOM 但不是有效的 UTF-8", "has a UTF-8 BOM but is not valid UTF-8", exc) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise unreadable(file, "编码无法识别（应为 UTF-8 或 GBK/GB18030）", "not decodable as UTF-8 or GBK/GB18030", exc) from exc


def _first_line(path: Path, file: str) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip():
        raise unreadable(file, "文件为空", "the file is empty")
    head = head.lstrip(b"\r\n") if not head.startswith(_BOM) else head
    nl = head.find(b"\n")
    return head if nl < 0 else head[:nl]


def _csv_header(path: Path, file: str) -> tuple[list[str], str]:
    line = _first_line(path, file)
    try:
        text, _ = decode(line, file)
    except InputFileError:
        # a multibyte character cut at the 1 MB boundary of a huge header: try without it
        text, _ = decode(line[:-4], file)
    text = text.rstrip("\r")
    sep = "\t" if ("\t" in text and "," not in text) else ","
    try:
        header = next(csv.reader([text], delimiter=sep))
    except (csv.Error, StopIteration) as exc:
        raise unreadable(file, "表头无法解析", "cannot parse the header", exc) from exc
    return header, sep


def _xlsx_sheet(path: Path, file: str) -> tuple[str, list[str]]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except Exception as exc:  # noqa: BLE001 - any failure means a corrupt workbook
        raise unreadable(file, "不是有效的 XLSX 工作簿", "not a valid XLSX workbook", exc) from exc
    if not names:
        raise unreadable(file, "工作簿没有工作表", "the workbook has no sheet")
    sheet = next((n for n in names if normalize.table_by_name(n) is not None), names[0])
    try:
        cols = reader.load_sheet(sheet, n_rows=0).available_columns()
        header = [c.name for c in cols]
    except Exception as exc:  # noqa: BLE001
        raise unreadable(file, f"工作表「{sheet}」为空或无法读取", f"sheet {sheet!r} is empty or unreadable", exc) from exc
    if not header:
        raise unreadable(file, f"工作表「{sheet}」为空", f"sheet {sheet!r} is empty")
    return sheet, [str(h) for h in header]


def _parquet_header(path: Path, file: str) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # noqa: BLE001
        raise unreadable(file, "不是有效的 Parquet 文件", "not a valid Parquet file", exc) from exc


def _jsonl_header(path: Path, file: str) -> list[str]:
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                break
        else:
            raise unreadable(file, "文件为空", "the file is empty")
    text, _ = decode(raw, file)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise unreadable(file, "第一行不是有效的 JSON", "the first line is not valid JSON", exc) from exc
    if not isinstance(obj, dict):
        raise unreadable(file, "每行应为一个 JSON 对象", "each line must be a JSON object")
    return list(obj)


def inspect_file(path: Path) -> FilePlan:
    """Header pass: format, table and column mapping; raises :class:`InputFileError`."""
    file = str(path)
    fmt = FORMATS[path.suffix.lower()]
    sheet = None
    sep = ","
    if fmt == "csv":
        header, sep = _csv_header(path, file)
    elif fmt == "xlsx":
        sheet, header = _xlsx_sheet(path, file)
    elif fmt == "parquet":
        header = _parquet_header(path, file)
    else:
        header = _jsonl_header(path, file)
    rec = normalize.recognise(header, file, (sheet, path.stem))
    if rec.unknown:
        log.info("%s: columns not in table %s ignored: %s", file, rec.table.name, rec.unknown)
    return FilePlan(path, file, fmt, rec.table, rec.mapping, rec.unknown, sheet, sep, path.stat().st_size)


# --------------------------------------------------------------------------- full read


def _localise(df: pl.DataFrame) -> pl.DataFrame:
    """tz-aware datetimes → Asia/Shanghai wall time, naive."""
    fix = [
        pl.col(n).dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
        for n, t in df.schema.items()
        if isinstance(t, pl.Datetime) and t.time_zone is not None
    ]
    return df.with_columns(fix) if fix else df


def read_frame(plan: FilePlan, data: bytes) -> tuple[pl.DataFrame, str | None]:
    """Read a whole file; return the frame and the detected text encoding (None for binary)."""
    file = plan.file
    encoding = None
    try:
        if plan.format in ("csv", "jsonl"):
            if not data.strip():
                raise unreadable(file, "文件为空", "the file is empty")
            if data.startswith(_BOM):
                _, encoding = decode(data, file)
                data = data[len(_BOM):]
            else:
                try:
                    if not data.isascii():
                        data.decode("utf-8")  # validate only
                    encoding = "utf-8"
                except UnicodeDecodeError:
                    text, encoding = decode(data, file)
                    data = text.encode("utf-8")
                    del text
            if plan.format == "csv":
                df = pl.read_csv(
                    io.BytesIO(data), infer_schema=False, separator=plan.separator,
                    has_header=True, raise_if_empty=True,
                )
            else:
                df = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
                nested = [n for n, t in df.schema.items() if t.is_nested()]
                df = df.with_columns(pl.col(n).struct.json_encode() if isinstance(df.schema[n], pl.Struct)
                                     else pl.col(n).cast(pl.List(pl.String)).list.join(";") for n in nested)
        elif plan.format == "xlsx":
            df = pl.read_excel(io.BytesIO(data), sheet_name=plan.sheet, engine="calamine", read_options={"dtypes": "string"})
            df = df.select(pl.all().cast(pl.String))
        else:
            df = _localise(pl.read_parquet(io.BytesIO(data)))
    except READ_ERRORS as exc:
        raise unreadable(file, "内容损坏或格式不符", "corrupt or malformed content", exc) from exc
    return df, encoding
