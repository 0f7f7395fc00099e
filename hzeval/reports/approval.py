"""The project approval reference leaders receive offline (issue 17), ``approval_reference.html``.

第四十三条 makes the yearly results a reference for next year's project approvals and 第四十四条
gates projects on their data; ``approval_reference.html`` puts, per agency, what an approving office
weighs — grade, rank, the veto, failed project gates, projects accepted while failing and
rectifications still open — agencies needing scrutiny first, under the sentences of the two
articles as the run's rule profile quotes them (``provision_texts``: no article text in code).

Data only through :meth:`hzeval.runs.RunReader.approval_reference`; the same frame is the
workbook's 项目审批参考 sheet. Written atomically, inside the output folder.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from hzeval import __version__, present
from hzeval import pages as h
from hzeval.runs import RunReader
from hzeval.util.paths import inside, write_atomic

FILE = "approval_reference.html"
#: the provisions the reference serves, in the order they are quoted
PROVISIONS = ("assessment", "project_approval")
#: column → Chinese heading (page and workbook sheet)
COLUMNS = {
    "scrutiny_order": "审查顺序",
    "agency_code": "机构代码",
    "agency_name": "机构名称",
    "peer_group": "分组",
    "rank": "名次",
    "total": "总分",
    "grade_label": "等级",
    "attention": "需重点审查事项",
    "veto_text": "一票否决说明",
    "projects": "项目数",
    "failed_projects": "门禁未通过项目数",
    "failed_project_list": "门禁未通过项目（未满足条件）",
    "accepted_failing": "带病验收项目数",
    "accepted_failing_list": "带病验收项目",
    "open_rectifications": "未完成整改数",
    "overdue_rectifications": "逾期整改数",
    "rectification_list": "未完成整改通知",
}
NUMERIC = (
    "scrutiny_order",
    "rank",
    "total",
    "projects",
    "failed_projects",
    "accepted_failing",
    "open_rectifications",
    "overdue_rectifications",
)


def reference_frame(run: RunReader) -> pl.DataFrame:
    return run.approval_reference()


def quotes(run: RunReader) -> list[str]:
    """The sentences of 第四十三条 and 第四十四条 the reference serves, from the run's rule profile."""
    return [t for t in (run.provision_text(k) for k in PROVISIONS) if t]


def approval_reference_html(run: RunReader) -> str:
    df = reference_frame(run)
    basis = "".join(f'<blockquote class="rule">{h.esc(q)}</blockquote>' for q in quotes(run))
    n_attention = df.filter(pl.col("attention").is_not_null()).height
    facts = h.facts(
        {
            present.GRADED_UNITS: present.integer(run.graded_units()),
            "需重点审查单位": present.integer(n_attention),
            "带病验收项目": present.integer(df["accepted_failing"].sum()),
            "门禁未通过项目": present.integer(df["failed_projects"].sum()),
        }
    )
    rect_note = (
        "未完成整改为评估截止时点仍未办结的整改通知（与 hzeval supervise 同一清单）。"
        if df["open_rectifications"].dtype != pl.Null and run.has_sources
        else "本评估结果文件不含整改通知源数据，未列未完成整改。"
    )
    table = h.table(
        df,
        COLUMNS,
        numeric=NUMERIC,
        formats={"total": h.num, "rank": lambda v: f"{v}", "scrutiny_order": lambda v: f"{v}"},
        row_class=lambda r: "attn" if r.get("attention") else None,
    )
    style = (
        "<style>blockquote.rule{margin:.4em 0;padding:.5em 1em;border-left:4px solid #9b1c1c;background:#faf5f5}"
        "tr.attn td:first-child{border-left:4px solid #9b1c1c}</style>"
    )
    body = (
        style
        + h.masthead(f"{run.year} 年度评估结果 · 下一年度政务信息化项目审批参考", run.provenance())
        + h.heading("依据")
        + basis
        + h.heading("概况")
        + facts
        + h.heading(
            "各单位审批参考",
            note="排序：一票否决、等级由低到高、带病验收项目数、门禁未通过项目数、"
            "逾期与未完成整改数、总分由低到高；需重点审查的单位在前。" + rect_note,
        )
        + table
    )
    return h.page(
        f"{run.year} 年度项目审批参考",
        body,
        footer=f"{h.AUTHORITY} · 由 hzeval {__version__} 生成",
        version=__version__,
    )


def write_approval_reference(run: RunReader, out_dir: Path) -> Path:
    path = inside(out_dir, FILE)
    write_atomic(path, approval_reference_html(run))
    return path
