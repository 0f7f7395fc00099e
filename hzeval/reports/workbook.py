"""The score workbook (XLSX): 总分与等级, 指标得分, 扣分明细, 项目门禁, 督办清单, 运行信息.

Everything comes from the read layer (:mod:`hzeval.runs` via :mod:`hzeval.reports.data`) and is
written in the one vocabulary (:mod:`hzeval.present`): deadlines as "YYYY-MM-DD 24:00" text, counts
as integers, source tables and run information in Chinese, the veto explained beside the grade.
督办清单 is the list ``hzeval supervise --as-of <run as-of>`` prints (every open item, all years).

Headers formatted, header row frozen, auto-filter, column widths from the content (CJK
characters count double); every sheet prints A4 landscape, one page wide, its header row repeated
on each page and "第 N 页 / 共 M 页" at the foot. Every text is written as a string cell (never a formula); text that
starts with = + - @ (or tab/CR) also gets a quote-prefix cell format, so a spreadsheet shows it
exactly as it is (no added apostrophe) and never turns it into a formula, even when the cell is
edited. Written atomically.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from pathlib import Path

import polars as pl
import xlsxwriter

from hzeval import present
from hzeval.reports import approval, data

#: text a spreadsheet would read as a formula (the same first characters as ``sqlutil.neutralise``)
FORMULA_LIKE = re.compile(r"^[=+\-@\t\r]")

SHEETS = ("总分与等级", "指标得分", "扣分明细", "项目门禁", "项目审批参考", "督办清单", "运行信息")


#: columns written as percentages (the indicator's value, the scheme's 达标值 and 起评值)
RATE_COLUMNS = ("value", "target", "floor")


def _width(value) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ints(df: pl.DataFrame, *cols: str) -> pl.DataFrame:
    """Counts as integers ("12", never "12.0")."""
    return df.with_columns([pl.col(c).round(0).cast(pl.Int64) for c in cols if c in df.columns])


def _sheets(run: data.Run) -> dict[str, tuple[pl.DataFrame, dict[str, str]]]:
    grades = data.graded_agencies(run).join(
        data.arithmetic(run).select("agency_code", "earned", "deducted", "line"),
        on="agency_code",
        how="left",
        maintain_order="left",
    )
    ind = _ints(data.indicator_table(run), "numerator", "denominator", "count")
    lost = data.lost_points(run).with_columns(deadline=present.deadline_expr("due_at"))
    gates = data.project_gates(run)
    sup = data.supervision_list(run).with_columns(deadline=present.deadline_expr("due_at"))
    mark = {True: "通过", False: "未通过"}
    gates = gates.with_columns(
        [pl.col(k).replace_strict(mark, return_dtype=pl.String) for k in data.GATE_CONDITIONS],
        accepted_while_failing=pl.when(pl.col("accepted_while_failing")).then(pl.lit("是")).otherwise(pl.lit("")),
    )
    info = {
        **run.info(),
        "publication": present.publication_zh(run.info()["publication"]),
        "stale_warnings": "；".join(run.stale_warnings()) or "无",
    }
    # how fresh each input table was (DESIGN §7a): one line per table below the run's information
    info_items, info_values = [present.RUN_INFO.get(k, k) for k in info], [present.when(v) for v in info.values()]
    for r in run.freshness().iter_rows(named=True):
        info_items.append(f"数据表 {r['table_zh']}")
        newest = f"，最新记录 {present.when(r['newest_at'])}" if r["newest_at"] is not None else ""
        info_values.append(f"{present.integer(r['rows'])} 行{newest}" + (f"；{r['stale_text']}" if r["stale"] else ""))
    return {
        "总分与等级": (
            grades.with_columns(vetoed=pl.when(pl.col("vetoed")).then(pl.lit("是")).otherwise(pl.lit(""))),
            {
                "peer_group": "分组",
                "rank": "名次",
                "agency_code": "机构代码",
                "agency_name": "机构名称",
                "level": "层级",
                "region": "区域",
                "total": "总分",
                "grade_label": "等级",
                "vetoed": "一票否决",
                "veto_text": "一票否决说明",
                "earned": present.COLUMNS["earned"],
                "deducted": present.COLUMNS["deducted"],
                "line": present.COLUMNS["line"],
            },
        ),
        "指标得分": (
            ind,
            {
                "agency_code": "机构代码",
                "agency_name": "机构名称",
                "dimension": "维度",
                "metric_id": "指标代码",
                "metric_name": "指标",
                "article": "条款",
                "numerator": "分子",
                "denominator": "分母",
                "value": present.ARITHMETIC_COLUMNS["value_text"],
                "target": present.COLUMNS["target"],
                "floor": present.COLUMNS["floor"],
                "count": "问题数",
                "per": present.COLUMNS["per"],
                "cap": present.COLUMNS["cap"],
                "points": "得分",
                "max_points": "满分",
                "nominal_max": present.COLUMNS["nominal_max"],
                "reweighted_by": present.COLUMNS["reweighted_by"],
                "lost": "失分",
                "deduction_text": present.COLUMNS["deduction_text"],
                "note": "说明",
                "basis": "评分依据",
            },
        ),
        "扣分明细": (
            lost,
            {
                "agency_code": "机构代码",
                "agency_name": "机构名称",
                "metric_name": "指标",
                "article": "条款",
                "lost": "该指标失分",
                "record_table_zh": "来源表",
                "record_id": "事项编号",
                "reason": "问题",
                "deadline": "截止时间",
                "done_text": "办结时间",
                "record_time": "记录时间",
                "wd_late": "逾期工作日",
                "adjustment_id": "争议调整",
                "suggestion": "整改建议",
            },
        ),
        "项目门禁": (
            gates,
            {
                "project_id": "项目编号",
                "project_name": "项目名称",
                "owner_code": "建设单位代码",
                "owner_name": "建设单位",
                "checked_at": "核验时点",
                "result": "结果",
                **{k: f"{k} {v}" for k, v in data.GATE_CONDITIONS.items()},
                "failed_resources": "未通过资源",
                "accepted_while_failing": "带病验收",
            },
        ),
        "项目审批参考": _approval_reference(run),
        "督办清单": (
            sup,
            {
                "category": "事项类别",
                "article": "条款",
                "agency_code": "机构代码",
                "agency_name": "机构名称",
                "record_id": "事项编号",
                "deadline": "截止时间",
                "state": "状态",
                "wd_overdue": "逾期工作日",
                "wd_left": "剩余工作日",
            },
        ),
        "运行信息": (
            pl.DataFrame({"item": info_items, "value": info_values}),
            {"item": "项目", "value": "内容"},
        ),
    }


def _approval_reference(run: data.Run) -> tuple[pl.DataFrame, dict[str, str]]:
    """The approval reference (issue 17), the sentences it serves in its last column's first rows."""
    df = approval.reference_frame(run)
    basis = approval.quotes(run)
    df = df.with_columns(
        basis=pl.Series([basis[i] if i < len(basis) else None for i in range(df.height)], dtype=pl.String)
    )
    return df, {**approval.COLUMNS, "basis": "依据（第四十三条、第四十四条）"}


def _print_setup(ws, name: str, n_cols: int) -> None:
    """Paper (issue 27): A4 landscape, every column on one page width (as many pages down as it takes),
    the header row repeated on every page (the sheet's print titles), the sheet's name at the top and
    "第 N 页 / 共 M 页" at the bottom."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)  # fitToWidth 1, fitToHeight 0: one page wide, any number of pages tall
    ws.repeat_rows(0)
    ws.print_area(0, 0, ws.dim_rowmax or 0, n_cols - 1)
    ws.set_header(f"&L&A&R{PRINT_TITLE}")
    ws.set_footer("&C第 &P 页 / 共 &N 页")


#: the right-hand page header of every printed sheet
PRINT_TITLE = "惠州市公共数据管理评估"


def write_workbook(run: data.Run, path: Path) -> Path:
    """Write the workbook for ``run`` to ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"remove_timezone": True, "strings_to_formulas": False})
    try:
        wb.set_properties(
            {
                "title": f"{run.year} 年度公共数据管理评估评分工作簿",
                "author": "惠州市政务服务数据管理局",
                "comments": f"run {run.run_id}",
            }
        )
        head = wb.add_format(
            {"bold": True, "bg_color": "#F2E6E6", "border": 1, "font_name": "等线", "valign": "vcenter"}
        )
        f_num = wb.add_format({"num_format": "0.00"})
        f_rate = wb.add_format({"num_format": "0.0%"})
        f_time = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
        f_text = wb.add_format({"quote_prefix": True})
        for name, (df, cols) in _sheets(run).items():
            df = df.select(list(cols))
            ws = wb.add_worksheet(name)
            widths = [max(_width(label), 6) for label in cols.values()]
            for j, label in enumerate(cols.values()):
                ws.write_string(0, j, label, head)
            for i, row in enumerate(df.iter_rows(), start=1):
                for j, v in enumerate(row):
                    if v is None:
                        continue
                    if isinstance(v, bool):
                        ws.write_boolean(i, j, v)
                    elif isinstance(v, dt.datetime):
                        ws.write_datetime(i, j, v, f_time)
                    elif isinstance(v, dt.date):
                        ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), f_date)
                    elif isinstance(v, (int, float)):
                        fmt = f_rate if list(cols)[j] in RATE_COLUMNS else (f_num if isinstance(v, float) else None)
                        ws.write_number(i, j, v, fmt)
                    else:
                        text = str(v)
                        ws.write_string(i, j, text, f_text if FORMULA_LIKE.match(text) else None)
                    widths[j] = max(
                        widths[j], min(_width(v if not isinstance(v, dt.datetime) else "2025-01-01 00:00"), 60)
                    )
            for j, w in enumerate(widths):
                ws.set_column(j, j, w + 2)
            ws.freeze_panes(1, 0)
            if df.height:
                ws.autofilter(0, 0, df.height, len(cols) - 1)
            _print_setup(ws, name, len(cols))
        try:
            wb.close()
        except xlsxwriter.exceptions.FileCreateError as exc:  # disk full, file-size limit: name the file
            cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
            raise OSError(getattr(cause, "errno", None), getattr(cause, "strerror", str(exc)), str(path)) from exc
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
