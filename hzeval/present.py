"""The one presentation vocabulary (DESIGN §2, §7): how every surface writes a value.

Reports, the workbook, the dashboard, ``explain`` and the 督办 exports format through these
functions only, so a deadline, a count, a score or a table name reads the same everywhere:

- a deadline is the end (24:00) of a working day: ``evidence.due_at`` stores it as 00:00 of the
  next day, so 2026-01-01 00:00 prints "2025-12-31 24:00" (:func:`deadline`);
- counts are integers ("12", "1,766,193"), never "12.0" (:func:`integer`);
- points have two decimals and never "-0.00" (:func:`points`);
- rates are percentages with one decimal ("95.5%") (:func:`percent`);
- a score shows its arithmetic in one set of words (DESIGN §7a): 实际值, 达标值 (the scheme's
  target), 起评值 (its floor), 满分 with its re-weighting named, 得分, 失分; a deduction as
  次数 × 每次扣分 with its 上限; the total as "Σ得分 X − 扣分 Y = 总分 Z" (:func:`max_points_text`,
  :func:`deduction_text`, :func:`score_line`, :data:`ARITHMETIC_COLUMNS`, :data:`DEDUCTION_COLUMNS`);
- tables, statuses and columns have one Chinese name each (:func:`table_zh`, :data:`STATUS_ZH`,
  :data:`COLUMNS`: the reports, the dashboard and the staff notebooks head a column alike); a
  comparison with the year before heads ``<column>_prev`` 上年… and, beside it, ``<column>``
  本年… (:data:`THIS_YEAR`).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import polars as pl

from hzeval.contract import TABLES
from hzeval.errors import OutputError
from hzeval.store.published import OFFICIAL, TRIAL
from hzeval.util.escape import html_text
from hzeval.util.frame import neutralise

DASH = "—"

#: every table an evidence row or a 督办 item may name, in Chinese (input tables from the contract)
TABLE_ZH: dict[str, str] = {
    **{t.name: t.zh for t in TABLES.values()},
    "runs": "评估运行",
    "metric_values": "指标值",
    "evidence": "证据",
    "scores": "得分",
    "grades": "等级",
    "project_gates": "项目门禁",
    "adjustments": "争议调整",
    "calendar": "工作日历",
    "open_plans": "开放计划备案",
}

#: item and gate statuses
STATUS_ZH = {
    "ok": "按时",
    "late": "逾期",
    "fail": "未达标",
    "pending": "未到期",
    "excused": "已豁免",
    "exempt": "已备案，免于平台汇聚",
    "uncovered": "未覆盖",
    "overdue": "逾期",
    "due_soon": "即将到期",
    True: "通过",
    False: "未通过",
}

#: one Chinese heading per column name used by the surfaces (a column that means something else
#: has another name: ``reject_reason`` is why a row was refused, ``reason`` the problem an item
#: was charged for; ``unresolved_value`` a code that resolves to nothing, ``value`` a metric's value)
COLUMNS = {
    "agency_code": "机构代码",
    "agency_name": "机构名称",
    "level": "层级",
    "region": "区域",
    "peer_group": "分组",
    "rank": "名次",
    "total": "总分",
    "grade": "等级",
    "grade_label": "等级",
    "vetoed": "一票否决",
    "veto_text": "一票否决说明",
    "graded": "参与评级",
    "dimension": "维度",
    "metric_id": "指标代码",
    "metric_name": "指标",
    "article": "条款",
    "value": "指标值",
    "numerator": "分子",
    "denominator": "分母",
    "count": "问题数",
    "points": "得分",
    "max_points": "满分",
    "lost": "失分",
    "basis": "依据",
    "record_table": "来源表",
    "record_table_zh": "来源表",
    "record_id": "事项编号",
    "reason": "问题",
    "due_at": "截止时间",
    "deadline": "截止时间",
    "done_at": "办结时间",
    "wd_late": "逾期工作日",
    "adjustment_id": "争议调整",
    "suggestion": "整改建议",
    "rule_profile": "规则版本",
    "category": "事项类别",
    "due_date": "截止时间",
    "state": "状态",
    "wd_overdue": "逾期工作日",
    "wd_left": "剩余工作日",
    "project_id": "项目编号",
    "project_name": "项目名称",
    "owner_code": "建设单位代码",
    "owner_name": "建设单位",
    "checked_at": "核验时点",
    "passed": "结果",
    "failed_conditions": "未通过条件",
    "failed_resources": "未通过资源",
    "accepted_while_failing": "带病验收",
    # the staff notebooks: loads and rejects, unresolved codes, catalogue snapshots, deadline steps, runs
    "file": "文件",
    "table_name": "表",
    "table_zh": "表",
    "file_format": "格式",
    "encoding": "编码",
    "rows_loaded": "加载行数",
    "rows_rejected": "拒收行数",
    "rows_replaced": "替换行数",
    "loaded_at": "加载时间",
    "column_name": "列",
    "reject_reason": "原因",
    "rows": "行数",
    "example_file": "示例文件",
    "example_line": "示例行号",
    "unresolved_value": "值",
    "resource_code": "资源代码",
    "resource_name": "资源名称",
    "provider_code": "提供部门代码",
    "status": "状态",
    "now_status": "现状态",
    "field": "字段",
    "before_value": "变化前",
    "after_value": "变化后",
    "date": "日期",
    "weekday": "星期",
    "kind": "类型",
    "holiday": "节假日",
    "counted": "是否计入",
    "change": "变化",
    "year": "年度",
    "run_id": "评估运行",
    "as_of": "评估截至",
    "finished_at": "完成时间",
    "total_agencies": "机构数",
    # the arithmetic of a score (DESIGN §7a)
    "value_text": "实际值",
    "target": "达标值",
    "floor": "起评值",
    "nominal_max": "方案满分",
    "reweighted_by": "满分调整原因",
    "max_text": "满分",
    "per": "每次扣分",
    "cap": "上限",
    "deduction_text": "扣分计算",
    "earned": "Σ得分",
    "deducted": "扣分",
    "line": "总分计算",
    "note": "说明",
    "notified": "已通知",
}


def labels(*columns: str, **context: str) -> dict[str, str]:
    """Headings for ``columns`` from :data:`COLUMNS` (in that order); ``context`` gives a table's own
    heading for a column, e.g. ``**EVIDENCE_LABELS``."""
    return {c: context.get(c) or COLUMNS[c] for c in columns}


#: columns compared with the year before: ``<column>_prev`` is headed 上年…
COMPARED = ("total", "grade", "rank", "points", "value", "count")
COLUMNS.update({f"{c}_prev": f"上年{COLUMNS[c]}" for c in COMPARED})
#: the headings of the current year's columns beside their ``_prev`` (a table comparing two years)
THIS_YEAR = {c: f"本年{COLUMNS[c]}" for c in COMPARED}

#: the label of the one count of graded units (参照执行 units not counted) on every surface
GRADED_UNITS = "参评单位"

#: 较上年 (issue 24 item 7, DESIGN §7a): each agency against the previous year's official run — score
#: change, rank change, grade change (:func:`score_change`, :func:`rank_change`, :func:`grade_change`),
#: computed once by :func:`hzeval.runs.year_change`; the headings every surface uses
YEAR_CHANGE_COLUMNS = {
    "change_text": "较上年得分",
    "rank_change_text": "较上年名次",
    "grade_change_text": "较上年等级",
}
#: what the 较上年 columns say when the previous year has no official (正式) run: a trial run of the
#: previous year is not compared with (it is not a published result), and neither is a year with no run
NO_OFFICIAL_PREV = "上年无正式结果"
#: an agency the previous year's official run has no score for
NOT_IN_PREV = "上年未参评"
#: a dimension with nothing applicable in either year, in the previous year only, in this year only
NOT_APPLICABLE = "不适用"

# ---- the one colour table (grades) and the one colour scale (score rates): live dashboard, offline files
# and reports all draw from here (issue 27). White text on each grade colour, and each as text on white,
# meets WCAG 2.1 AA (>= 4.5 : 1): 优秀 5.1, 良好 6.4, 合格 5.9, 不合格 7.2, 一票否决 11.9.
GRADE_COLOURS = {"优秀": "#1a7f37", "良好": "#1f5fa8", "合格": "#8a5a00", "不合格": "#b3000c"}
#: a vetoed grade has its own colour wherever a grade is coloured
VETO_COLOUR = "#4a148c"
#: a cell with nothing applicable (不适用): grey, with dark text
NA_COLOUR = "#e0e0e0"
#: score rate (0 … 1) → colour: red at 0, amber at 60% (the usual 起评), pale yellow at 80%, green at 100%,
#: linear in RGB between the stops (as plotly interpolates a colorscale)
RATE_STOPS = ((0.0, "#c62828"), (0.6, "#f9a825"), (0.8, "#fde7a0"), (1.0, "#43a047"))


def grade_colour(label: str | None, vetoed: bool = False) -> str | None:
    """The colour of a grade (or of a label such as "不合格（一票否决）"); None for no grade."""
    if vetoed or (label and "一票否决" in label):
        return VETO_COLOUR
    return GRADE_COLOURS.get(label or "")


def rate_colour(rate: float | None) -> str:
    """The colour of a score rate on :data:`RATE_STOPS` ("" for nothing applicable)."""
    if rate is None:
        return ""
    r = max(0.0, min(float(rate), 1.0))
    rgb = [(a, tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))) for a, c in RATE_STOPS]
    for (a, ca), (b, cb) in zip(rgb, rgb[1:]):
        if r <= b:
            t = 0 if b == a else (r - a) / (b - a)
            return "#%02x%02x%02x" % tuple(round(x + (y - x) * t) for x, y in zip(ca, cb))
    return RATE_STOPS[-1][1]


def rate_colorscale() -> list[list]:
    """:data:`RATE_STOPS` as a plotly colorscale (over zmin 0 … zmax 100)."""
    return [[a, c] for a, c in RATE_STOPS]


NOT_APPLICABLE_PREV = "上年不适用"
NOT_APPLICABLE_NOW = "本年不适用"
#: the minus sign of a change (U+2212: "−34.66", as a leader's table prints it)
MINUS = "\u2212"


def score_change(v, empty: str = DASH) -> str:
    """A total's change from the year before: "+3.25", "−34.66", "0.00" (never "−0.00")."""
    if _missing(v):
        return empty
    x = round(float(v), 2)
    if x == 0:
        return "0.00"
    return f"+{x:.2f}" if x > 0 else f"{MINUS}{-x:.2f}"


def rank_change(rank, rank_prev) -> str:
    """A rank's change from the year before: "↑2" (up two places: rank 5 → 3), "↓5", "—" unchanged or
    when either year has no rank (参照执行, not assessed)."""
    if _missing(rank) or _missing(rank_prev):
        return DASH
    moved = int(rank_prev) - int(rank)
    if moved == 0:
        return DASH
    return f"↑{moved}" if moved > 0 else f"↓{-moved}"


def grade_change(grade_prev, grade) -> str:
    """A grade's change from the year before: "优秀→不合格"; "—" when it is the same or either is missing."""
    if _missing(grade_prev) or _missing(grade) or grade_prev == grade:
        return DASH
    return f"{grade_prev}→{grade}"


def previous_note(year: int, prev_year_state: str | None, prev_run_id: str | None = None) -> str:
    """The sentence under a 较上年 table: which run it compares with, or why it compares with none
    (``prev_year_state``: the state of the previous year's run the resolver reads, None when none)."""
    if prev_year_state == OFFICIAL:
        return f"较上年：与 {year - 1} 年度正式评估结果（运行 {prev_run_id}）比较；名次为同组名次，↑ 为上升。"
    why = "只有试算结果，尚未确认为正式结果" if prev_year_state == TRIAL else "没有已发布的评估结果"
    return f"{NO_OFFICIAL_PREV}：{year - 1} 年度{why}，不作比较。"


#: 办结时间 only for an item with a deadline (issue 24 item 6, DESIGN §7a); an item without one shows its
#: record's own time (the metric's ``done_at``, as its SQL block says) under that time's own name
DONE_LABEL = "办结时间"
RECORD_TIME = {
    "security_incidents": "发生时间",  # incidents.occurred_at
    "aggregation_quality": "汇聚时间",  # aggregation_log.finished_at
    "cross_level_filing": "提交时间",  # share_applications.submitted_at
    "open_catalog_foreign_data": "列入日期",  # open_catalogue.listed_at
    "grant_minimality": "答复时间",  # share_applications.replied_at
    "refusal_basis": "答复时间",
    "open_refusal_reason": "答复时间",  # open_applications.replied_at
    "out_of_scope_calls": "末次调用时间",  # the last call beyond the grant
    "project_gate": "验收时间",  # projects.accepted_at
    "backflow_delivery": "回流时间",  # backflow_requests.delivered_at (no deadline in the draft)
}
RECORD_TIME_DEFAULT = "记录时间"
#: evidence rows that are not failures: a resource filed with the authority as not aggregable (第十八条第二款)
#: is shown in aggregation_coverage's and update_timeliness's evidence under this table, and lost no point
NOT_FAILING_TABLES = ("aggregation_exemptions",)
#: an evidence table's own headings (beside :data:`COLUMNS`): an evidence row names the record behind an
#: item (记录编号, not the 督办 list's 事项编号), why it was charged (原因, not 问题) and its times
EVIDENCE_LABELS = {
    "record_id": "记录编号",
    "reason": "原因",
    "done_text": DONE_LABEL,
    "record_time": RECORD_TIME_DEFAULT,
}


def time_label(metric_id: str, has_deadline: bool) -> str:
    """What an evidence item's time is called: 办结时间 with a deadline, else the record's own time."""
    return DONE_LABEL if has_deadline else RECORD_TIME.get(metric_id, RECORD_TIME_DEFAULT)


#: a run's publication state (DESIGN §7a) → what every surface calls it
PUBLICATION_ZH = {"trial": "试算", "official": "正式", "withdrawn": "已撤回"}
#: the banner over a page that reads a trial run
TRIAL_BANNER = "试算结果：本运行尚未经 hzeval runs official 确认为正式结果，仅供核对，不作为正式评估结论"


def publication_zh(state: str | None) -> str:
    """试算 / 正式 / 已撤回 for a run's state (None: a run made before states, a trial)."""
    return PUBLICATION_ZH.get(state or "trial", str(state))


#: how fresh a run's data is (DESIGN §7a): the header every surface shows, a stale table's warning and the
#: columns of a run's per-table record (``run_freshness``, :meth:`hzeval.runs.RunReader.freshness`)
DATA_THROUGH = "数据截至（各表最新记录）"
NOT_RECORDED = "未记录"
FRESHNESS_COLUMNS = {
    "table_zh": "数据表",
    "table_name": "表名",
    "time_column": "时间字段",
    "rows": "行数",
    "newest_at": "最新记录（评估截至前）",
    "stale_text": "时效提示",
}


def freshness_line(data_through, as_of, finished_at, publication: str | None) -> str:
    """ "数据截至（各表最新记录）… · 评估截至 … · 评估于 … · 正式/试算": the header line of every surface.
    ``data_through`` is the earliest of the tables' newest records (every table that expects recent
    records holds records up to at least then); None for a run that did not record it."""
    return " · ".join(
        (
            f"{DATA_THROUGH}{when(data_through) or NOT_RECORDED}",
            f"评估截至 {when(as_of)}",
            f"评估于 {when(finished_at)}",
            publication_zh(publication),
        )
    )


def stale_text(table: str, newest_at, days: int) -> str:
    """The warning naming a table whose newest record is older than the scheme's ``stale_after`` days."""
    name = table_zh(table)
    if _missing(newest_at):
        return f"{name}表在评估截至前无记录"
    return f"{name}表最新记录为 {when(newest_at)}，早于评估截至 {days} 天以上"


#: run information keys (workbook 运行信息, report masthead)
RUN_INFO = {
    "run_id": "评估运行编号",
    "year": "评估年度",
    "data_through": "数据截至（各表最新记录）",
    "as_of": "评估截至",
    "finished_at": "评估于",
    "scheme_name": "评分方案",
    "scheme_sha256": "方案 SHA-256",
    "inputs_sha256": "输入数据 SHA-256",
    "package_version": "程序版本",
    "publication": "发布状态",
    "published_file": "发布文件",
    "stale_warnings": "时效提示",
}


#: the indicator table of a score's arithmetic, on every surface (report, workbook, dashboard, explain)
ARITHMETIC_COLUMNS = {
    "dimension": "维度",
    "metric_name": "指标",
    "value_text": "实际值",
    "target": "达标值",
    "floor": "起评值",
    "max_text": "满分",
    "points": "得分",
    "lost": "失分",
    "note": "说明",
}
#: the deduction table of a score's arithmetic
DEDUCTION_COLUMNS = {
    "metric_name": "扣分项",
    "count": "次数",
    "per": "每次扣分",
    "cap": "上限",
    "lost": "扣分",
    "deduction_text": "扣分计算",
    "note": "说明",
}


def adjustment_basis(scheme_name: str | None) -> str:
    """What an agency's challenge of its own evaluation items (an adjustment) cites: the scheme's procedure,
    never 第四十五条 (which is about disputes between agencies over data, DESIGN §5b)."""
    return f"依《{scheme_name}》复核调整" if scheme_name else "依评估方案复核调整"


def tolerance_basis(articles: str, conditions: str) -> str:
    """What an excuse cites when it records the conditions of 第四十六条 (容错免责; ``articles`` from the run's
    rule profile, provision ``tolerance``): "依第四十六条容错免责（符合改革方向、程序合规、勤勉尽责、未谋私利）"."""
    return f"依{articles}容错免责（{conditions.replace('；', '、')}）" if articles else f"容错免责（{conditions}）"


#: what a report says for an indicator that is not scored because there was nothing to measure
#: (collection lists: only when no agency has one for the year; an agency without one while others have one
#: fails its item "未报送采集清单", DESIGN §5b)
NA_NOTES = {"collection_list_coverage": "本年度全市未报送采集清单，本项不计"}
NA_NOTE = "本年度无可评估事项，本项不计"
#: a deduction measured on an input the city may not have loaded yet (DESIGN §5b): metric → (table, its date
#: column, the note its row carries when no row of the table falls on or before the year's end)
ABSENT_INPUT_NOTES = {
    "open_catalog_foreign_data": ("open_catalogue", "listed_at", "本年度全市未报送开放目录，本项不计"),
}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def table_zh(name: str | None) -> str:
    """Chinese name of a table (an unknown name is returned as is, never dropped)."""
    if name is None:
        return ""
    return TABLE_ZH.get(name, name)


def deadline(due_at) -> str:
    """A deadline stored as 00:00 of the day after → "YYYY-MM-DD 24:00" of the deadline day.

    A deadline that is not at midnight (none is today) keeps its time."""
    if _missing(due_at):
        return ""
    if isinstance(due_at, dt.datetime):
        if due_at.time() == dt.time(0, 0):
            return f"{(due_at - dt.timedelta(days=1)):%Y-%m-%d} 24:00"
        return f"{due_at:%Y-%m-%d %H:%M}"
    if isinstance(due_at, dt.date):  # a due *date*: the end of that day
        return f"{due_at:%Y-%m-%d} 24:00"
    return str(due_at)


def deadline_expr(column: str) -> pl.Expr:
    """:func:`deadline` for a whole timestamp column, as one polars expression (no per-row Python
    over evidence or 督办 frames): 00:00 of the day after → "YYYY-MM-DD 24:00"; null stays null (an
    empty cell)."""
    c = pl.col(column)
    return (
        pl.when(c.dt.time() == dt.time(0, 0))
        .then((c - pl.duration(days=1)).dt.strftime("%Y-%m-%d") + " 24:00")
        .otherwise(c.dt.strftime("%Y-%m-%d %H:%M"))
    )


def when_expr(column: str) -> pl.Expr:
    """:func:`when` for a whole timestamp column: "YYYY-MM-DD HH:MM"; null stays null."""
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M")


def due_date(due_at) -> dt.date | None:
    """The calendar day a deadline ends (for sorting and spreadsheets)."""
    if _missing(due_at):
        return None
    if isinstance(due_at, dt.datetime):
        return (due_at - dt.timedelta(days=1)).date() if due_at.time() == dt.time(0, 0) else due_at.date()
    return due_at


def when(v, empty: str = "") -> str:
    """A point in time "YYYY-MM-DD HH:MM" (a date "YYYY-MM-DD")."""
    if _missing(v):
        return empty
    if isinstance(v, dt.datetime):
        return f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, dt.date):
        return f"{v:%Y-%m-%d}"
    return str(v)


def day(v) -> str:
    if _missing(v):
        return ""
    return f"{v:%Y-%m-%d}" if isinstance(v, (dt.date, dt.datetime)) else str(v)


def integer(v, empty: str = DASH) -> str:
    """A count: "12", "1,766,193" (never "12.0")."""
    if _missing(v):
        return empty
    return f"{int(round(float(v))):,}"


def points(v, empty: str = DASH) -> str:
    """Points with two decimals; never "-0.00"."""
    if _missing(v):
        return empty
    x = round(float(v), 2)
    if x == 0:
        x = 0.0
    return f"{x:.2f}"


def signed_points(v, empty: str = DASH) -> str:
    """A change in points: "+1.25", "-3.00", "0.00"."""
    if _missing(v):
        return empty
    x = round(float(v), 2)
    return "0.00" if x == 0 else f"{x:+.2f}"


def percent(v, empty: str = DASH) -> str:
    """A rate 0..1 as a percentage with one decimal: 0.9549 → "95.5%"."""
    if _missing(v):
        return empty
    x = round(float(v) * 100, 1)
    return f"{0.0 if x == 0 else x:.1f}%"


def percent_points(v, empty: str = DASH) -> str:
    """A change of a rate (0..1) in percentage points: "+2.5 个百分点"."""
    if _missing(v):
        return empty
    x = round(float(v) * 100, 1)
    return "0.0 个百分点" if x == 0 else f"{x:+.1f} 个百分点"


def number(v, empty: str = DASH) -> str:
    """Any figure: integers as integers, other numbers with two decimals."""
    if _missing(v):
        return empty
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int) or (isinstance(v, (float, Decimal)) and float(v).is_integer()):
        return integer(v)
    return points(v)


def actual(value, numerator=None, denominator=None) -> str:
    """An indicator's 实际值: "78.6%（11/14）"; nothing to count: "无可计事项（0/0）"; no figures: "—"."""
    frac = (
        f"（{integer(numerator, '0')}/{integer(denominator, '0')}）"
        if not (_missing(numerator) and _missing(denominator))
        else ""
    )
    if _missing(value):
        return f"无可计事项{frac}" if frac else DASH
    return percent(value) + frac


def max_points_text(max_points, nominal=None, reweighted_by: str | None = None) -> str:
    """An indicator's 满分 with its re-weighting named: "10.53（因本单位 异议处理及时率 不适用按比例调整，
    原 10.00）"; "10.00" when it is the scheme's; "—" when the indicator is not applicable (满分 0)."""
    if _missing(max_points) or float(max_points) == 0:
        return DASH
    text = points(max_points)
    if _missing(nominal) or abs(float(max_points) - float(nominal)) <= 0.00005:
        return text
    why = f"因本单位 {reweighted_by} 不适用按比例调整" if reweighted_by else "按比例调整"
    return f"{text}（{why}，原 {points(nominal)}）"


def deduction_text(count, per=None, cap=None, deducted=None) -> str:
    """A deduction: "6 次 × 1.00 分 = 6.00 分，上限 4.00 分，扣 4.00 分" (without the scheme's per and
    cap: "6 次，扣 4.00 分")."""
    n = 0 if _missing(count) else int(round(float(count)))
    lost = deducted if not _missing(deducted) else None
    if _missing(per) or _missing(cap):
        return f"{integer(n)} 次，扣 {points(lost if lost is not None else 0)} 分"
    gross = n * float(per)
    if lost is None:
        lost = min(gross, float(cap))
    return f"{integer(n)} 次 × {points(per)} 分 = {points(gross)} 分，上限 {points(cap)} 分，扣 {points(lost)} 分"


def score_line(earned, deducted, total) -> str:
    """The total's arithmetic: "Σ得分 5.00 − 扣分 5.00 = 总分 0.00"; a difference below 0 is said
    ("Σ得分 3.00 − 扣分 5.00 = -2.00，总分不低于 0 分：总分 0.00")."""
    e, d = float(earned or 0), float(deducted or 0)
    head = f"Σ得分 {points(e)} − 扣分 {points(d)}"
    if round(e - d, 2) < 0:
        return f"{head} = {points(e - d)}，总分不低于 0 分：总分 {points(total)}"
    return f"{head} = 总分 {points(total)}"


def yes(v) -> str:
    return "是" if v else ""


def resources_named(text: str | None, names: dict[str, str]) -> str | None:
    """A gate's failed resources with each resource's name beside its id (issue 27):
    "G3 未汇聚: HZ007-R001,HZ007-R002" → "G3 未汇聚: HZ007-R001（人口信息）, HZ007-R002（…）"; an id without
    a known name stays as it is."""
    if not text:
        return text
    parts = []
    for clause in text.split("; "):
        head, sep, ids = clause.partition(": ")
        if not sep:
            parts.append(clause)
            continue
        named = [f"{i}（{names[i]}）" if names.get(i) else i for i in (x.strip() for x in ids.split(",")) if i]
        parts.append(f"{head}: {', '.join(named)}")
    return "; ".join(parts)


def grade_label(grade: str | None, vetoed: bool = False) -> str:
    if grade is None:
        return DASH
    return f"{grade}（一票否决）" if vetoed else grade


def escape(value) -> str:
    """Text for HTML (``None`` → empty): :func:`hzeval.util.escape.html_text`, the one escaping helper."""
    return html_text(value)


def cell(column: str, v) -> str:
    """The text of ``v`` in a column named ``column`` (by the naming conventions of the read layer)."""
    if _missing(v):
        return ""
    if column in ("due_at", "deadline"):
        return deadline(v)
    if column == "record_table":
        return table_zh(v)
    if column in (
        "points",
        "max_points",
        "lost",
        "total",
        "sim_total",
        "points_lost",
        "nominal_max",
        "per",
        "cap",
        "earned",
        "deducted",
    ):
        return points(v)
    if column in ("target", "floor"):
        return percent(v)
    if column in ("delta",):
        return signed_points(v)
    if column in ("value", "rate", "city_rate"):
        return percent(v)
    if column in (
        "count",
        "numerator",
        "denominator",
        "wd_late",
        "wd_overdue",
        "wd_left",
        "rank",
        "evidence_rows",
        "agencies",
        "days_late",
    ):
        return integer(v)
    if column in ("passed",):
        return STATUS_ZH[bool(v)]
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return when(v)
    if isinstance(v, dt.date):
        return day(v)
    if isinstance(v, (float, Decimal)):
        return number(v)
    return str(v)


# --------------------------------------------------------------------------- the 督办 list as a file

#: columns of the 督办 list (``hzeval supervise``, its CSV/XLSX, the dashboard)
SUPERVISION_COLUMNS = labels(
    "category",
    "article",
    "agency_code",
    "agency_name",
    "record_table",
    "record_id",
    "due_date",
    "state",
    "wd_overdue",
    "wd_left",
)


def supervision_rows(items: pl.DataFrame) -> pl.DataFrame:
    """The 督办 list's columns (:data:`SUPERVISION_COLUMNS`, English keys) with 来源表 in Chinese and the
    deadline "YYYY-MM-DD 24:00" (``due_date``): what the table, the files and ``--json`` show."""
    if "due_at" in items.columns:
        items = items.with_columns(due_date=deadline_expr("due_at"))
    if "record_table" in items.columns:
        items = items.with_columns(pl.col("record_table").replace(TABLE_ZH))
    return items.select([c for c in SUPERVISION_COLUMNS if c in items.columns])


def supervision_export(items: pl.DataFrame, neutralised: bool = True) -> pl.DataFrame:
    """The list for CSV/XLSX in the one vocabulary: 来源表 in Chinese, deadlines "YYYY-MM-DD 24:00".
    CSV text is ``neutralise``d (XLSX uses a quote-prefix format instead)."""
    items = supervision_rows(items)
    cols = items.columns
    out = items.with_columns(
        [neutralise(pl.col(c)).alias(c) for c in cols if neutralised and items.schema[c] == pl.String]
    )
    return out.rename({c: SUPERVISION_COLUMNS[c] for c in cols})


def write_supervision(items: pl.DataFrame, path: Path) -> None:
    """Write the list to CSV (UTF-8 with BOM, opens in Excel) or XLSX, atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    xlsx = path.suffix.lower() == ".xlsx"
    data = supervision_export(items, neutralised=not xlsx)
    try:
        if xlsx:
            # text cells as strings with a quote-prefix format: shown exactly, never a formula
            data.write_excel(
                tmp,
                worksheet="督办清单",
                autofit=True,
                freeze_panes=(1, 0),
                header_format={"bold": True, "bg_color": "#DDEBF7"},
                column_formats={c: {"quote_prefix": True} for c, t in data.schema.items() if t == pl.String},
            )
        else:
            tmp.write_bytes(b"\xef\xbb\xbf" + data.write_csv().encode("utf-8"))
        tmp.replace(path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise OutputError(
            f"无法写出 {path}：{exc.strerror}", f"cannot write {path}: {exc.strerror}", file=str(path)
        ) from exc
