"""HTML pieces for the report notebooks and the page template around them.

Everything that comes from inputs (agency names, record ids, reasons...) goes through
:func:`esc`; tables are built here rather than with a library's HTML export so the escaping
is in one place. Charts are plotly figures rendered to a ``<div>`` that loads the one shared
``plotly.min.js`` of the report folder (no CDN: the reports are read on a closed network).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from string import Template

import polars as pl

from hzeval import present

PLOTLY_JS = "plotly.min.js"
TITLE = "惠州市公共数据管理年度评估报告"
AUTHORITY = "惠州市政务服务数据管理局"
GRADE_CLASS = {"优秀": "g-a", "良好": "g-b", "合格": "g-c", "不合格": "g-d"}


def esc(value) -> str:
    """Text for HTML (``None`` → empty)."""
    return present.escape(value)


#: the vocabulary of :mod:`hzeval.present`, under the names the notebooks use
rate = present.percent
when = present.when
deadline = present.deadline
integer = present.integer
points = present.points


def num(v, digits: int = 2) -> str:
    """Points (two decimals, no "-0.00"); ``digits=0`` → an integer."""
    return present.integer(v) if digits == 0 else present.points(v)


def table(
    df: pl.DataFrame,
    columns: Mapping[str, str],
    formats: Mapping[str, Callable] | None = None,
    numeric: tuple[str, ...] = (),
    row_class: Callable[[dict], str | None] | None = None,
    caption: str | None = None,
    classes: Mapping[str, Callable] | None = None,
    nowrap: tuple[str, ...] = (),
) -> str:
    """An escaped HTML table of ``df``'s ``columns`` (name → Chinese heading). Cells are written by
    ``formats`` or else :func:`hzeval.present.cell`; ``classes`` gives a cell's CSS class from its value."""
    classes = classes or {}
    formats = formats or {}
    head = "".join(f"<th{' class=num' if c in numeric else ''}>{esc(label)}</th>" for c, label in columns.items())
    body = []
    for row in df.iter_rows(named=True):
        cells = []
        for c in columns:
            v = row.get(c)
            text = formats[c](v) if c in formats else present.cell(c, v)
            cls_ = [
                k
                for k in (
                    "num" if c in numeric else None,
                    "nowrap" if c in nowrap else None,
                    classes[c](v) if c in classes else None,
                )
                if k
            ]
            attr = ' class="' + " ".join(cls_) + '"' if cls_ else ""
            cells.append(f"<td{attr}>{esc(text)}</td>")
        cls = row_class(row) if row_class else None
        body.append(f"<tr{f' class={cls}' if cls else ''}>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    if not body:
        body.append(f'<tr><td colspan="{len(columns)}" class="empty">（无）</td></tr>')
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def arithmetic(rows: pl.DataFrame, line: str | None) -> str:
    """A score's arithmetic (DESIGN §7a) from :meth:`hzeval.runs.RunReader.scores` rows of one agency:
    the indicator table (实际值、达标值、起评值、满分 with its re-weighting named、得分、失分、说明), the
    deduction table (次数 × 每次扣分、上限、扣分) and the line "Σ得分 − 扣分 = 总分"."""
    ind = rows.filter(~pl.col("is_deduction"))
    ded = rows.filter(pl.col("is_deduction"))
    dash = {c: (lambda v: present.DASH if v is None else present.points(v)) for c in ("points", "lost")}
    html = table(
        ind.with_columns(
            points=pl.when(pl.col("applicable")).then(pl.col("points")),
            lost=pl.when(pl.col("applicable")).then(pl.col("lost")),
        ),
        present.ARITHMETIC_COLUMNS,
        formats={"max_text": lambda v: v or present.DASH, **dash},
        numeric=("target", "floor", "points", "lost"),
        row_class=lambda r: "na" if not r["applicable"] else ("bad" if (r["lost"] or 0) > 0.005 else None),
    )
    if ded.height:
        html += table(
            ded,
            {k: v for k, v in present.DEDUCTION_COLUMNS.items() if k != "deduction_text"},
            formats={"count": lambda v: present.integer(v, "0")},
            numeric=("count", "per", "cap", "lost"),
            row_class=lambda r: "bad" if (r["lost"] or 0) > 0.005 else None,
        )
    if line:
        html += f'<p class="arith"><b>总分计算：</b>{esc(line)}</p>'
    return html


def standing_zero(note: str) -> str:
    """Why a standing obligation with nothing to count scores 0 and what to do (in place of evidence)."""
    return f'<div class="sugg standing"><b>计 0 分原因与整改：</b>{esc(note)}</div>'


def heading(text: str, level: int = 2, note: str | None = None) -> str:
    n = f'<p class="note">{esc(note)}</p>' if note else ""
    return f"<h{level}>{esc(text)}</h{level}>{n}"


def paragraph(text: str, cls: str = "") -> str:
    return f"<p{f' class={cls}' if cls else ''}>{esc(text)}</p>"


def grade_badge(grade: str, vetoed: bool = False) -> str:
    cls = "g-v" if vetoed else GRADE_CLASS.get(grade, "")
    return f'<span class="grade {cls}">{esc(present.grade_label(grade, vetoed))}</span>'


def veto_note(row: Mapping) -> str:
    """The veto beside a grade: incident id, date, kind and the scheme's basis (DESIGN §6)."""
    if not row.get("vetoed"):
        return ""
    return f'<div class="veto"><b>一票否决</b> {esc(str(row.get("veto_text") or "").removeprefix("一票否决："))}</div>'


def facts(items: Mapping[str, str]) -> str:
    """A row of key figures (label → value), values already plain text."""
    cells = "".join(
        f'<div class="fact"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>' for k, v in items.items()
    )
    return f'<div class="facts">{cells}</div>'


def freshness(p: Mapping) -> str:
    """The header line of every page (DESIGN §7a): "数据截至（各表最新记录）… · 评估截至 … · 评估于 … ·
    正式/试算", and below it a warning per input table older than the scheme's ``stale_after``."""
    line = p.get("freshness") or present.freshness_line(
        p.get("data_through"), p["as_of"], p.get("finished_at"), p.get("publication")
    )
    stale = "".join(f"<li>{esc(w)}</li>" for w in p.get("stale_warnings") or ())
    warn = f'<div class="stale" role="note"><b>数据时效提示</b><ul>{stale}</ul></div>' if stale else ""
    return f'<div class="fresh">{esc(line)}</div>{warn}'


def provenance(p: Mapping) -> str:
    """The run and scheme a report rests on (DESIGN §1: traceable to a run), under the freshness line."""
    rows = {
        "评估年度": p["year"],
        "评估截至": present.when(p["as_of"]),
        "评分方案": p["scheme_name"],
        "方案 SHA-256": str(p["scheme_sha256"])[:16] + "…",
        "输入 SHA-256": str(p["inputs_sha256"])[:16] + "…",
        "评估运行": p["run_id"],
        "程序版本": p["package_version"],
        "发布状态": p.get("publication") or present.publication_zh(None),
    }
    cells = "".join(f"<span><b>{esc(k)}</b> {esc(v)}</span>" for k, v in rows.items())
    return trial_banner(p) + freshness(p) + f'<div class="prov">{cells}</div>'


def trial_banner(p: Mapping) -> str:
    """The 试算 banner over a page that reads a trial run (DESIGN §7a); nothing for an official run."""
    if not p.get("trial", True):
        return ""
    return f'<div class="trial" role="note"><b>试算</b> {esc(present.TRIAL_BANNER.removeprefix("试算结果："))}</div>'


def masthead(subtitle: str, p: Mapping) -> str:
    return (
        f'<header class="mast"><div class="issuer">{esc(AUTHORITY)}</div>'
        f'<h1>{esc(TITLE)}</h1><div class="sub">{esc(subtitle)}</div>{provenance(p)}</header>'
    )


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str | Sequence[str]]],
    *,
    unit: str = "%",
    top: float = 100.0,
    value_text=None,
    title: str = "",
) -> str:
    """A horizontal bar chart as inline SVG (no script: a report mailed alone keeps its charts;
    it scales to the page width). ``series``: (name, values, colour or one per label); None prints "—"."""
    value_text = value_text or (lambda v: present.DASH if v is None else f"{v:.1f}{unit}")
    n_series = max(len(series), 1)
    label_w, chart_w, bar_h, gap = 190, 480, 14, 10
    row_h = n_series * bar_h + gap
    legend_h = 24 if n_series > 1 else 0
    title_h = 24 if title else 0
    height = title_h + legend_h + row_h * len(labels) + 8
    width = label_w + chart_w + 70
    out = [
        f'<svg class="svgchart" viewBox="0 0 {width} {height}" role="img" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{esc(title)}">'
    ]
    if title:
        out.append(f'<text x="0" y="16" class="t">{esc(title)}</text>')
    if n_series > 1:
        x = label_w
        for name, _, colour in series:
            out.append(
                f'<rect x="{x}" y="{title_h + 6}" width="12" height="12" fill="{colour}"/>'
                f'<text x="{x + 16}" y="{title_h + 16}">{esc(name)}</text>'
            )
            x += 30 + 14 * len(name)
    y0 = title_h + legend_h
    for i, label in enumerate(labels):
        y = y0 + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + row_h / 2 + 2}" text-anchor="end">{esc(label)}</text>')
        for j, (_, values, colour) in enumerate(series):
            v = values[i]
            w = 0 if v is None or top <= 0 else max(0.0, min(float(v) / top, 1.0)) * chart_w
            by = y + j * bar_h
            fill = colour if isinstance(colour, str) else colour[i]  # one colour, or one per label
            out.append(
                f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" fill="{fill}"/>'
                f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 4}" class="v">{esc(value_text(v))}</text>'
            )
    out.append(f'<line x1="{label_w}" y1="{y0}" x2="{label_w}" y2="{height - 8}" stroke="#999"/></svg>')
    return '<div class="chart">' + "".join(out) + "</div>"


def heat_colour(rate: float | None) -> str:
    """The one rate scale (:func:`hzeval.present.rate_colour`); no colour for "nothing applicable"."""
    return present.rate_colour(rate)


def heat_table(rows: list[tuple[str, str, bool]], dims: list[str], rates: list[list[float | None]]) -> str:
    """Agency × dimension score rates as a coloured table with the values printed; N/A cells are
    hatched grey and say 不适用; vetoed agencies are marked. ``rows``: (name, grade label, vetoed)."""
    head = "".join(f"<th class=num>{esc(d)}</th>" for d in dims)
    body = []
    for (name, grade, vetoed), values in zip(rows, rates):
        cells = "".join(
            '<td class="na-cell">不适用</td>'
            if v is None
            else f'<td class=num style="background:{heat_colour(v)}">{esc(present.percent(v))}</td>'
            for v in values
        )
        cls = ' class="vetoed"' if vetoed else ""
        body.append(f"<tr{cls}><td>{esc(name)}</td><td>{esc(grade)}</td>{cells}</tr>")
    return (
        f'<div class="scroll"><table class="data heat"><thead><tr><th>机构名称</th><th>等级</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


#: the rules the charts (:func:`bar_chart`, :func:`heat_table`) need, alone: also used by the offline dashboards
CHART_CSS = """
svg.svgchart { width: 100%; height: auto; max-width: 760px; font-size: 12px;
               font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
svg.svgchart .t { font-weight: 700; font-size: 14px; } svg.svgchart .v { fill: #333; font-size: 11px; }
.scroll { overflow-x: auto; }
table.heat td.na-cell { background: repeating-linear-gradient(45deg, #eee, #eee 4px, #ddd 4px, #ddd 8px);
                        color: #666; text-align: center; }
table.heat tr.vetoed td:first-child, table.heat tr.vetoed td:nth-child(2) { color: #4a148c; font-weight: 700; }
table.data { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 12.5px; }
table.data th { background: #f2e6e6; border: 1px solid #c9b3b3; padding: 4px 6px; text-align: left;
                white-space: nowrap; }
table.data td { border: 1px solid #d9d9d9; padding: 3px 6px; vertical-align: top; word-break: break-word; }
table.data td.num, table.data th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.chart { margin: 6px 0 12px; }
"""

CSS = """
@page { size: A4; margin: 16mm 14mm 16mm 14mm;
  @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 9pt; color: #444;
                   font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; } }
* { box-sizing: border-box; }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", serif;
       color: #1b1b1b; margin: 0 auto; max-width: 1040px; padding: 24px 28px; line-height: 1.6; font-size: 14px; }
h1, h2, h3, .facts, table, .prov, .fresh, .stale, nav {
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", sans-serif; }
header.mast { border-bottom: 3px double #b3000c; padding-bottom: 10px; margin-bottom: 18px; text-align: center; }
header.mast .issuer { color: #b3000c; font-size: 15px; letter-spacing: 0.3em; }
header.mast h1 { color: #b3000c; font-size: 26px; margin: 6px 0 4px; letter-spacing: 0.08em; }
header.mast .sub { font-size: 19px; font-weight: 600; margin-bottom: 8px; }
.prov { font-size: 11px; color: #555; display: flex; flex-wrap: wrap; gap: 4px 14px; justify-content: center; }
.prov b { color: #333; font-weight: 600; }
.fresh { font-size: 13px; font-weight: 600; color: #333; margin: 2px 0 4px; }
.stale { border: 1px solid #e0a000; background: #fff8e1; color: #5d4000; padding: 4px 10px; margin: 6px 0;
  font-size: 12px; text-align: left; }
.stale ul { margin: 2px 0 0 18px; padding: 0; }
.trial { border: 2px solid #b3000c; color: #b3000c; background: #fff4f4; padding: 6px 10px; margin: 8px 0;
  font-size: 14px; text-align: center; }
.trial b { letter-spacing: 0.3em; font-size: 16px; }
h2 { font-size: 18px; border-left: 5px solid #b3000c; padding-left: 8px; margin: 26px 0 10px;
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 15px; margin: 18px 0 6px; break-after: avoid; page-break-after: avoid; }
p.note { color: #555; font-size: 12px; margin: -4px 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 4px; }
.fact { border: 1px solid #d9d9d9; border-radius: 4px; padding: 8px 14px; min-width: 120px; background: #fafafa; }
.fact .k { font-size: 12px; color: #666; } .fact .v { font-size: 20px; font-weight: 700; }
.grade { display: inline-block; padding: 0 8px; border-radius: 3px; color: #fff; font-weight: 700; }
.veto { border: 2px solid #4a148c; background: #f3e5f5; color: #2b0a3d; padding: 6px 10px; margin: 8px 0;
        border-radius: 4px; }
td.ok { color: #1a7f37; font-weight: 700; } td.no { color: #b3000c; font-weight: 700; }
table.data td.nowrap { white-space: nowrap; }
@media (max-width: 600px) { body { padding: 10px; font-size: 13px; } .fact { min-width: 0; flex: 1 1 40%; }
  table.data { font-size: 11.5px; } header.mast h1 { font-size: 20px; } }
table.data caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.data td.empty { text-align: center; color: #777; }
table.data tr.bad td { background: #fff1f0; } table.data tr.flag td { background: #ffe3e0; font-weight: 600; }
table.data tr.na td { color: #888; }
p.arith { font-size: 14px; margin: 6px 0 10px; }
thead { display: table-header-group; } tr, .fact, .chart, .block { break-inside: avoid; page-break-inside: avoid; }
h2 + p.note, h3 + p.note, .block, table.data caption { break-after: avoid; page-break-after: avoid; }
h2, h3, p.note, .sugg { break-inside: avoid; page-break-inside: avoid; }
.output_area:has(> .output_subarea > :is(h2, h3, h2 + p.note, h3 + p.note):last-child) {
  break-after: avoid; page-break-after: avoid; break-inside: avoid; page-break-inside: avoid; }
table.data tbody tr:first-child, table.data tbody tr:nth-child(2) { break-before: avoid; page-break-before: avoid; }
.sugg { background: #f6f8fa; border-left: 3px solid #2f6fb3; padding: 6px 10px; margin: 4px 0 8px; font-size: 13px; }
.more { color: #666; font-size: 12px; }
nav ul { columns: 2; } nav li { margin: 2px 0; }
footer { margin-top: 30px; border-top: 1px solid #ccc; padding-top: 6px; font-size: 11px; color: #666;
         text-align: center; }
.pagebreak { break-before: page; page-break-before: always; }
/* a table never widens the page (issue 27): on a wide screen its headings wrap whole; on a phone
   it scrolls sideways inside its own box, headings and ids on one line */
@media screen and (min-width: 701px) { table.data thead th { white-space: normal; } }
@media screen and (max-width: 700px) { table.data { display: block; overflow-x: auto; max-width: 100%; } }
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


#: the grade badges in the one colour table (:data:`hzeval.present.GRADE_COLOURS`)
GRADE_CSS = "".join(f".{cls} {{ background: {present.GRADE_COLOURS[g]}; }} " for g, cls in GRADE_CLASS.items()) + (
    f".g-v {{ background: {present.VETO_COLOUR}; }}\n"
)
CSS += GRADE_CSS


def page(title: str, body: str, footer: str = "", version: str = "") -> str:
    """A whole HTML document around ``body`` (already safe HTML); CSS embedded, no external links."""
    return PAGE.substitute(title=esc(title), body=body, footer=esc(footer), css=CSS + CHART_CSS, version=esc(version))
