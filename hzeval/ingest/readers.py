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
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from hzeval.contract import Table
from hzeval.errors import InputFileError, clip
from hzeval.ingest import normalize
from hzeval.ingest.limits import Limits, _env_int

log = logging.getLogger(__name__)

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
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

    def add(f: Path, root: Path | None = None) -> None:
        r = f.resolve()
        if root is not None and not r.is_relative_to(root):
            # a link (or a linked folder) inside the drop pointing elsewhere: never read it
            raise InputFileError(
                f"文件 {clip(f)} 是指向数据包文件夹之外的符号链接（{clip(r, 80)}），已拒绝；请复制文件本身到数据包中",
                f"file {clip(f)} is a symbolic link leaving the drop folder ({clip(r, 80)}): refused;"
                " copy the file itself into the drop",
                file=str(f),
            )
        if r not in seen:
            seen.add(r)
            files.append(f)

    for p in paths:
        p = Path(p)
        if p.is_dir():
            root = p.resolve()
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if not f.is_file() or any(_skipped_name(part) for part in rel.parts):
                    continue
                if f.suffix.lower() in FORMATS:
                    add(f, root)
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
            return data[len(_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise unreadable(file, "带 BOM 但不是有效的 UTF-8", "has a UTF-8 BOM but is not valid UTF-8", exc) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise unreadable(
            file, "编码无法识别（应为 UTF-8 或 GBK/GB18030）", "not decodable as UTF-8 or GBK/GB18030", exc
        ) from exc


def _first_line(path: Path, file: str) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip():
        raise unreadable(file, "文件为空", "the file is empty")
    head = head.lstrip(b"\r\n") if not head.startswith(_BOM) else head
    nl = head.find(b"\n")
    return head if nl < 0 else head[:nl]


def csv_header(path: Path, file: str) -> tuple[list[str], str]:
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
        raise unreadable(
            file, f"工作表「{sheet}」为空或无法读取", f"sheet {sheet!r} is empty or unreadable", exc
        ) from exc
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
    except RecursionError:
        raise unreadable(file, "第一行 JSON 嵌套过深", "the first line's JSON is nested too deeply") from None
    if not isinstance(obj, dict):
        raise unreadable(file, "每行应为一个 JSON 对象", "each line must be a JSON object")
    return list(obj)


_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _part_size(raw, info: zipfile.ZipInfo, budget: int, on_chunk=None) -> int:
    """Uncompressed size of one zip member, counted by inflating it in 1 MB steps (never trusting the
    sizes the archive declares); stops as soon as ``budget`` bytes are exceeded."""
    raw.seek(info.header_offset)
    head = raw.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename[:80]}")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    raw.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        return left
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"unsupported compression {info.compress_type}")
    inflate = zlib.decompressobj(-15)
    total = 0
    while left > 0 and total <= budget:
        chunk = raw.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)
        data = inflate.decompress(chunk, 1 << 20)
        while True:
            total += len(data)
            if on_chunk is not None:
                on_chunk(data)
            if total > budget or not inflate.unconsumed_tail:
                break
            data = inflate.decompress(inflate.unconsumed_tail, 1 << 20)
    return total


def check_xlsx(path: Path, file: str, limits: Limits) -> None:
    """Zip-bomb guard, before any XLSX parser sees the file: the parts' real uncompressed size (inflated
    in bounded steps), the sheets' declared dimension and their row count against ``limits``."""
    rows = 0
    dims: list[tuple[int, int]] = []

    def count_rows(data: bytes) -> None:
        nonlocal rows
        rows += data.count(b"<row ") + data.count(b"<row>")
        if not dims:
            m = _DIMENSION_RE.search(data[:4096]) if b"dimension" in data[:4096] else None
            if m:
                cols = _column_number(m.group(3)) if m.group(3) else (_column_number(m.group(1)) if m.group(1) else 0)
                last = int(m.group(4) or m.group(2) or 0)
                dims.append((cols, last))
                if cols > limits.max_columns:
                    raise _too_wide(file, cols, limits)
                if last > limits.max_xlsx_rows:
                    raise _too_long(file, last, limits)

    total = 0
    try:
        with open(path, "rb") as raw, zipfile.ZipFile(raw) as zf:
            for info in zf.infolist():
                sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
                dims.clear()
                total += _part_size(raw, info, limits.max_xlsx_bytes - total, count_rows if sheet else None)
                if total > limits.max_xlsx_bytes:
                    mb = limits.max_xlsx_bytes // (1024 * 1024)
                    raise unreadable(
                        file,
                        f"解压后超过 {mb} MB（疑似压缩炸弹；可设置 HZEVAL_MAX_XLSX_BYTES 调整上限）",
                        f"uncompresses to more than {mb} MB (zip bomb?; raise HZEVAL_MAX_XLSX_BYTES if genuine)",
                    )
                if rows > limits.max_xlsx_rows:
                    raise _too_long(file, rows, limits)
                rows = 0
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise unreadable(file, "不是有效的 XLSX 工作簿", "not a valid XLSX workbook", exc) from exc


def _too_long(file: str, rows: int, limits: Limits) -> InputFileError:
    return unreadable(
        file,
        f"工作表有 {rows:,} 行，超过上限 {limits.max_xlsx_rows:,} 行（HZEVAL_MAX_XLSX_ROWS）",
        f"a sheet has {rows:,} rows, more than the limit of {limits.max_xlsx_rows:,} (HZEVAL_MAX_XLSX_ROWS)",
    )


def _too_wide(file: str, n: int, limits: Limits) -> InputFileError:
    return InputFileError(
        f"文件 {file}：表头有 {n:,} 列，超过上限 {limits.max_columns:,} 列，未加载（HZEVAL_MAX_COLUMNS）",
        f"file {file}: the header has {n:,} columns, more than the limit of {limits.max_columns:,}; not loaded",
        file=file,
    )


def inspect_file(path: Path, limits: Limits | None = None) -> FilePlan:
    """Header pass: format, table and column mapping; raises :class:`InputFileError`."""
    limits = limits or Limits.from_env()
    file = str(path)
    fmt = FORMATS[path.suffix.lower()]
    sheet = None
    sep = ","
    if fmt == "csv":
        header, sep = csv_header(path, file)
    elif fmt == "xlsx":
        check_xlsx(path, file, limits)
        sheet, header = _xlsx_sheet(path, file)
    elif fmt == "parquet":
        header = _parquet_header(path, file)
    else:
        header = _jsonl_header(path, file)
    if len(header) > limits.max_columns:
        raise _too_wide(file, len(header), limits)
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
                data = data[len(_BOM) :]
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
                    io.BytesIO(data),
                    infer_schema=False,
                    separator=plan.separator,
                    has_header=True,
                    raise_if_empty=True,
                )
            else:
                df = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
                nested = [n for n, t in df.schema.items() if t.is_nested()]
                df = df.with_columns(
                    pl.col(n).struct.json_encode()
                    if isinstance(df.schema[n], pl.Struct)
                    else pl.col(n).cast(pl.List(pl.String)).list.join(";")
                    for n in nested
                )
        elif plan.format == "xlsx":
            df = pl.read_excel(
                io.BytesIO(data), sheet_name=plan.sheet, engine="calamine", read_options={"dtypes": "string"}
            )
            df = df.select(pl.all().cast(pl.String))
        else:
            df = _localise(pl.read_parquet(io.BytesIO(data)))
    except READ_ERRORS as exc:
        raise unreadable(file, "内容损坏或格式不符", "corrupt or malformed content", exc) from exc
    return df, encoding


# --------------------------------------------------------------------------- streaming read

#: rows per batch when streaming a file (CSV/Parquet); ``HZEVAL_LOAD_BATCH_ROWS`` overrides
BATCH_ROWS = 500_000
#: CSV batches are smaller: polars' CSV batches and their parse hold more per row than Parquet's
#: (5M-row api_calls: 987 MB peak at 500k rows a batch, 876 MB at 100k for the same CPU time,
#: 792 MB at 50k but 25 % more CPU; benchmarks/NOTES.md)
CSV_BATCH_ROWS = 100_000
_CHUNK = 4 << 20


def batch_rows(fmt: str | None = None) -> int:
    return _env_int("HZEVAL_LOAD_BATCH_ROWS", CSV_BATCH_ROWS if fmt == "csv" else BATCH_ROWS)


@dataclass
class Fingerprint:
    """One sequential pass over a file: its sha256 and (CSV/JSONL) its text encoding."""

    sha256: str
    encoding: str | None = None
    #: the whole file, kept for the formats read whole (XLSX, JSON Lines)
    data: bytes | None = None
    #: CSV only: the number of lines after the header when no line can hold more than one record or
    #: part of one (UTF-8, no quote character, no carriage return outside a CRLF line end, no NUL):
    #: the files DuckDB's reader splits as polars' does when it reads this many rows (:mod:`.sqlpath`)
    records: int | None = None
    #: CSV with ``records``: whether a line ends with the separator (an empty last field, or more
    #: fields than the header that DuckDB's reader would drop: :func:`.sqlpath.prepare_csv` asks)
    separator_at_line_end: bool = False


def fingerprint(plan: FilePlan) -> Fingerprint:
    """sha256 of the file; for CSV also whether it is UTF-8 (validated while hashing, in bounded
    chunks, so that the streaming read needs no second detection pass) and, when every line is one
    record, how many lines follow the header (``records``: DuckDB's reader may then read it)."""
    import hashlib

    if plan.format in ("xlsx", "jsonl"):
        data = plan.path.read_bytes()
        return Fingerprint(hashlib.sha256(data).hexdigest(), None, data)
    sha = hashlib.sha256()
    if plan.format != "csv":
        with open(plan.path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                sha.update(chunk)
        return Fingerprint(sha.hexdigest())
    from concurrent.futures import ThreadPoolExecutor

    utf8, bom, first = True, False, True
    simple, newlines, tail, carry = True, 0, b"", b""
    sep = plan.separator.encode("utf-8")
    at_end, edge, needles = False, b"", (sep + b"\n", sep + b"\r")
    # sha256 runs beside the UTF-8 and line checks (hashlib lets go of the GIL on large buffers)
    with open(plan.path, "rb") as fh, ThreadPoolExecutor(1, thread_name_prefix="hzeval-sha") as pool:
        while chunk := fh.read(_CHUNK):
            hashing = pool.submit(sha.update, chunk)
            if first:
                bom, first = chunk.startswith(_BOM), False
                # a blank line before the header: the header pass skips it, readers differ
                simple = not chunk[len(_BOM) if bom else 0 :].startswith((b"\n", b"\r"))
            if utf8 and not (chunk.isascii() and not carry):
                utf8, carry = _utf8_part(carry + chunk if carry else chunk)
            if simple:
                simple, tail = _one_record_a_line(tail, chunk)
                newlines += chunk.count(b"\n")
            if simple and not at_end:  # beside the hashing thread: a byte search, the CR one only with CRs
                both = edge + chunk[: len(sep) + 1]
                at_end = needles[0] in chunk or needles[0] in both
                at_end = at_end or (b"\r" in both or b"\r" in chunk) and (needles[1] in chunk or needles[1] in both)
                edge = chunk[-len(sep) :]
            hashing.result()
    utf8 = utf8 and not carry  # a character cut off by the end of the file
    if bom and not utf8:
        raise unreadable(plan.file, "带 BOM 但不是有效的 UTF-8", "has a UTF-8 BOM but is not valid UTF-8")
    records = None
    if simple and utf8 and tail and not tail.endswith(b"\r"):  # tail: the last two bytes of a non-empty file
        records = newlines - 1 + (not tail.endswith(b"\n"))  # lines after the header's
    return Fingerprint(
        sha.hexdigest(),
        "utf-8-sig" if bom else ("utf-8" if utf8 else "gb18030"),
        records=records,
        separator_at_line_end=at_end or edge == sep,
    )


def _utf8_part(data: bytes) -> tuple[bool, bytes]:
    """Whether ``data`` is valid UTF-8 up to a character its end may cut (validated by polars'
    UTF-8 check, twice as fast as decoding), and those last bytes, to be prefixed to the next part."""
    cut = len(data)
    for back in range(1, min(4, len(data)) + 1):  # the last lead byte, if its character is incomplete
        b = data[-back]
        if b & 0xC0 != 0x80:
            if b >= 0xC0 and back < (2 if b < 0xE0 else 3 if b < 0xF0 else 4):
                cut = len(data) - back
            break
    try:
        pl.Series([data[:cut]], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        return False, b""
    return True, data[cut:]


def _one_record_a_line(tail: bytes, chunk: bytes) -> tuple[bool, bytes]:
    """Whether ``chunk`` (after the file's preceding bytes ending in ``tail``) keeps every line one
    record: no quote or NUL, and every CR the start of a CRLF. Returns that and the new tail (the
    last two bytes read); a CR ending the chunk is judged with the next one. (Blank lines, which
    DuckDB's reader skips, show in its row count: :func:`hzeval.ingest.load._load_sql`.)"""
    if b'"' in chunk or b"\x00" in chunk:
        return False, b""
    if b"\r" in chunk or tail.endswith(b"\r"):
        crs = chunk.count(b"\r")
        if chunk.count(b"\r\n") != crs - chunk.endswith(b"\r"):
            return False, b""
        if tail.endswith(b"\r") and not chunk.startswith(b"\n"):
            return False, b""
    return True, chunk[-2:] if len(chunk) >= 2 else (tail + chunk)[-2:]


def _transcode(plan: FilePlan, out: Path) -> None:
    """GB18030 → UTF-8 in bounded chunks (the streaming CSV reader reads UTF-8 only)."""
    import codecs

    dec = codecs.getincrementaldecoder("gb18030")()
    try:
        with open(plan.path, "rb") as src, open(out, "wb") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(dec.decode(chunk).encode("utf-8"))
            dst.write(dec.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise unreadable(
            plan.file, "编码无法识别（应为 UTF-8 或 GBK/GB18030）", "not decodable as UTF-8 or GBK/GB18030", exc
        ) from exc


def iter_frames(plan: FilePlan, fp: Fingerprint, rows: int | None = None):
    """Yield the file as polars frames of at most ``rows`` rows, in file order (CSV and Parquet
    stream through polars' readers; XLSX and JSON Lines are read whole — XLSX is bounded by
    :class:`~hzeval.ingest.limits.Limits`)."""
    import tempfile

    rows = rows or batch_rows(plan.format)
    file = plan.file
    if fp.data is not None:
        df, enc = read_frame(plan, fp.data)
        fp.encoding = enc
        yield df
        return
    tmp = None
    try:
        if plan.format == "parquet":
            lf = pl.scan_parquet(plan.path)
            total = lf.select(pl.len()).collect().item()
            # row slices (not collect_batches): each slice reads only its row groups, and the
            # frames come out in file order with polars' plain parquet reader (lowest peak memory)
            for off in range(0, total, rows):
                yield _localise(lf.slice(off, rows).collect())
            return
        src = plan.path
        if fp.encoding == "gb18030":
            tmp = tempfile.TemporaryDirectory(prefix="hzeval-load-")
            src = Path(tmp.name) / "utf8.csv"
            _transcode(plan, src)
        lf = pl.scan_csv(src, infer_schema=False, separator=plan.separator, has_header=True, raise_if_empty=True)
        empty = True
        for df in lf.collect_batches(chunk_size=rows, maintain_order=True):
            empty = False
            yield df
        if empty:
            yield lf.head(0).collect()
    except READ_ERRORS as exc:
        raise unreadable(file, "内容损坏或格式不符", "corrupt or malformed content", exc) from exc
    finally:
        if tmp is not None:
            tmp.cleanup()
