"""What no surface a reader sees may contain (issue 14): raw table names, "00:00:00" deadlines,
"-0.00", counts printed as "12.0", English UI words. Shared by the report, workbook and dashboard tests."""

from __future__ import annotations

import html
import re

from hzeval.contract import TABLES

RUN_TABLES = ("metric_values", "project_gates", "run_adjustments", "scheme_sha256", "inputs_sha256", "run_id", "as_of")
RAW_NAMES = re.compile(r"\b(" + "|".join(sorted({*TABLES, *RUN_TABLES}, key=len, reverse=True)) + r")\b")
ENGLISH_UI = re.compile(r"\b(First|Prev|Next|Last|Loading|No Data|Page Size|Showing)\b")
#: a raw datetime (with seconds) — deadlines are written "YYYY-MM-DD 24:00", times "YYYY-MM-DD HH:MM"
MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
NEG_ZERO = re.compile(r"-0\.0+(?!\d*[1-9])")
#: a number written "12.0" (a count as float); "12.0%" (a rate) and "12.05" are fine
FLOAT_COUNT = re.compile(r"(?<![\d.])\d[\d,]*\.0(?![\d%]|\s*个百分点)")


def visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (no tags, styles, attributes)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def problems(text: str, where: str = "") -> list[str]:
    out = []
    for name, rx in (
        ("raw table/column name", RAW_NAMES),
        ("English UI word", ENGLISH_UI),
        ("raw datetime (00:00:00)", MIDNIGHT),
        ("-0.00", NEG_ZERO),
        ("count as float", FLOAT_COUNT),
    ):
        for m in rx.finditer(text):
            out.append(f"{where}: {name}: …{text[max(m.start() - 30, 0) : m.end() + 30]}…")
    return out
