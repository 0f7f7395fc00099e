"""HTML pieces for the report notebooks and the page template around them.

Everything that comes from inputs (agency names, record ids, reasons...) goes through
:func:`esc`; tables are built here rather than with a library's HTML export so the escaping
is in one place. Charts are plotly figures rendered to a ``<div>`` that loads the one shared
``plotly.min.js`` of the report folder (no CDN: the reports are read on a closed network).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Mapping
from string import Template

import polars as pl

PLOTLY_JS = "plotly.min.js"
TITLE = "惠州市公共数据管理年度评估报告"
AUTHORITY = "惠州市政务服务数据管理局"
GRADE_CLASS = {"优秀": "g-a", "良好": "g-b", "合格": "g-c", "不合格": "g-d"}


def esc(value) -> str:
    """Text for HTML (``None`` → empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def rate(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v * 100:.1f}%"


def num(v, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def when(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return f"{v:%Y-%m-%d %H:%M}"
    return str(v)


def deadline(v) -> str:
    """``evidence.due_at`` is 24:00 of the deadline day, stored as 00:00 of the next day."""
    if v is None:
        return ""
    return f"{(v - dt.timedelta(days=1)):%Y-%m-%d} 24:00"


def table(
    df: pl.DataFrame,
    columns: Mapping[str, str],
    formats: Mapping[str, Callable] | None = None,
    numeric: tuple[str, ...] = (),
    row_class: Callable[[dict], str | None] | None = None,
    caption: str | None = None,
) -> str:
    """An escaped HTML table of ``df``'s ``columns`` (name → Chinese heading)."""
    formats = formats or {}
    head = "".join(f'<th{" class=num" if c in numeric else ""}>{esc(label)}</th>' for c, label in columns.items())
    body = []
    for row in df.iter_rows(named=True):
        cells = []
        for c in columns:
            v = row.get(c)
            text = formats[c](v) if c in formats else ("" if v is None else v)
            cells.append(f'<td{" class=num" if c in numeric else ""}>{esc(text)}</td>')
        cls = row_class(row) if row_class else None
        body.append(f'<tr{f" class={cls}" if cls else ""}>{"".join(cells)}</tr>')
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    if not body:
        body.append(f'<tr><td colspan="{len(columns)}" class="empty">（无）</td></tr>')
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def heading(text: str, level: int = 2, note: str | None = None) -> str:
    n = f'<p class="note">{esc(note)}</p>' if note else ""
    return f"<h{level}>{esc(text)}</h{level}>{n}"


def paragraph(text: str, cls: str = "") -> str:
    return f'<p{f" class={cls}" if cls else ""}>{esc(text)}</p>'


def grade_badge(grade: str, vetoed: bool = False) -> str:
    extra = "（一票否决）" if vetoed else ""
    return f'<span class="grade {GRADE_CLASS.get(grade, "")}">{esc(grade)}{esc(extra)}</span>'


def facts(items: Mapping[str, str]) -> str:
    """A row of key figures (label → value), values already plain text."""
    cells = "".join(f'<div class="fact"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>' for k, v in items.items())
    return f'<div class="facts">{cells}</div>'


def provenance(p: Mapping) -> str:
    """The run and scheme a report rests on (DESIGN §1: traceable to a run)."""
    rows = {
        "评估年度": p["year"], "数据截至": p["as_of"], "评分方案": p["scheme_name"],
        "方案 SHA-256": str(p["scheme_sha256"])[:16] + "…", "输入 SHA-256": str(p["inputs_sha256"])[:16] + "…",
        "评估运行": p["run_id"], "程序版本": p["package_version"],
    }
    cells = "".join(f"<span><b>{esc(k)}</b> {esc(v)}</span>" for k, v in rows.items())
    return f'<div class="prov">{cells}</div>'


def masthead(subtitle: str, p: Mapping) -> str:
    return (
        f'<header class="mast"><div class="issuer">{esc(AUTHORITY)}</div>'
        f"<h1>{esc(TITLE)}</h1><div class=\"sub\">{esc(subtitle)}</div>{provenance(p)}</header>"
    )


def plotly_script(js: str = PLOTLY_JS) -> str:
    """Load the report folder's shared plotly.js (once per page, before the first chart)."""
    return f'<script src="{esc(js)}"></script>'


def figure(fig, div_id: str, height: int | None = None) -> str:
    """A plotly figure as a ``<div>`` (plotly.js comes from :func:`plotly_script`)."""
    fig.update_layout(
        template="plotly_white",
        font={"family": "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, SimHei, sans-serif", "size": 12},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        **({"height": height} if height else {}),
    )
    return '<div class="chart">' + fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id,
        config={"displayModeBar": False, "responsive": True, "staticPlot": False},
    ) + "</div>"


CSS = """
@page { size: A4; margin: 16mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", serif;
       color: #1b1b1b; margin: 0 auto; max-width: 1040px; padding: 24px 28px; line-height: 1.6; font-size: 14px; }
h1, h2, h3, .facts, table, .prov, nav { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", sans-serif; }
header.mast { border-bottom: 3px double #b3000c; padding-bottom: 10px; margin-bottom: 18px; text-align: center; }
header.mast .issuer { color: #b3000c; font-size: 15px; letter-spacing: 0.3em; }
header.mast h1 { color: #b3000c; font-size: 26px; margin: 6px 0 4px; letter-spacing: 0.08em; }
header.mast .sub { font-size: 19px; font-weight: 600; margin-bottom: 8px; }
.prov { font-size: 11px; color: #555; display: flex; flex-wrap: wrap; gap: 4px 14px; justify-content: center; }
.prov b { color: #333; font-weight: 600; }
h2 { font-size: 18px; border-left: 5px solid #b3000c; padding-left: 8px; margin: 26px 0 10px; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 15px; margin: 18px 0 6px; break-after: avoid; page-break-after: avoid; }
p.note { color: #555; font-size: 12px; margin: -4px 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 4px; }
.fact { border: 1px solid #d9d9d9; border-radius: 4px; padding: 8px 14px; min-width: 120px; background: #fafafa; }
.fact .k { font-size: 12px; color: #666; } .fact .v { font-size: 20px; font-weight: 700; }
.grade { display: inline-block; padding: 0 8px; border-radius: 3px; color: #fff; font-weight: 700; }
.g-a { background: #1a7f37; } .g-b { background: #2f6fb3; } .g-c { background: #b7791f; } .g-d { background: #b3000c; }
table.data { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 12.5px; }
table.data caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.data th { background: #f2e6e6; border: 1px solid #c9b3b3; padding: 4px 6px; text-align: left; white-space: nowrap; }
table.data td { border: 1px solid #d9d9d9; padding: 3px 6px; vertical-align: top; word-break: break-word; }
table.data td.num, table.data th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.data td.empty { text-align: center; color: #777; }
table.data tr.bad td { background: #fff1f0; } table.data tr.flag td { background: #ffe3e0; font-weight: 600; }
table.data tr.na td { color: #888; }
thead { display: table-header-group; } tr, .fact, .chart, .block { break-inside: avoid; page-break-inside: avoid; }
.chart { margin: 6px 0 12px; }
.sugg { background: #f6f8fa; border-left: 3px solid #2f6fb3; padding: 6px 10px; margin: 4px 0 8px; font-size: 13px; }
.more { color: #666; font-size: 12px; }
nav ul { columns: 2; } nav li { margin: 2px 0; }
footer { margin-top: 30px; border-top: 1px solid #ccc; padding-top: 6px; font-size: 11px; color: #666; text-align: center; }
.pagebreak { break-before: page; page-break-before: always; }
@media print { body { max-width: none; padding: 0; font-size: 12px; } a { color: inherit; text-decoration: none; } }
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hzeval $version">
<title>$title</title>
<style>$css</style>
</head>
<body>
$body
<footer>$footer</footer>
</body>
</html>
""")


def page(title: str, body: str, footer: str = "", version: str = "") -> str:
    """A whole HTML document around ``body`` (already safe HTML); CSS embedded, no external links."""
    return PAGE.substitute(title=esc(title), body=body, footer=esc(footer), css=CSS, version=esc(version))
