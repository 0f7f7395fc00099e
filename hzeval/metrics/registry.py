"""The metric catalog (DESIGN §5), declared once.

Each metric names the article it enforces, who it is charged to, its family (the SQL
file ``sql/<family>.sql`` holding a block ``-- metric: <id>``) and its kind:
``rate`` (numerator / denominator) or ``count`` (violations). Exact semantics:
``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    id: str
    articles: tuple[int, ...]
    name_zh: str
    charged_to: str
    family: str
    kind: str  # "rate" | "count"
    #: scheme deadline parameter (working days) this metric uses, if any
    deadline: str | None = None
    doc: str = ""

    @property
    def article_zh(self) -> str:
        return "、".join(f"第{_zh_number(a)}条" for a in self.articles)


def _zh_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


METRICS: dict[str, Metric] = {
    m.id: m
    for m in [
        Metric("catalog_completeness", (11, 13), "目录要素完整率", "provider", "catalog", "rate",
               doc="已发布资源的必填要素（数据形式、共享内容、共享类型、共享条件、共享范围、开放属性、更新周期、采集/核准/提供部门）齐全"),
        Metric("catalog_share_basis", (14,), "共享依据完备率", "provider", "catalog", "rate",
               doc="有条件共享明确依据和条件；不予共享提供依据并备案"),
        Metric("catalog_open_basis", (32, 33), "开放依据完备率", "provider", "catalog", "rate",
               doc="有条件开放、不予开放资源提供依据"),
        Metric("catalog_update_timeliness", (12,), "目录更新及时率", "agency", "catalog", "rate", "catalog_update",
               doc="依据变化后 15 个工作日内提交目录更新"),
        Metric("catalog_review_timeliness", (12,), "目录审定及时率", "authority", "catalog", "rate", "catalog_review",
               doc="主管部门 5 个工作日内审定目录提交"),
        Metric("one_source_conflicts", (15,), "一数多源冲突数", "each agency involved", "catalog", "count",
               doc="同一数据元被多个部门标为数源"),
        Metric("aggregation_coverage", (18,), "数据汇聚覆盖率", "provider", "aggregation", "rate",
               doc="已发布资源年内至少一次成功汇聚"),
        Metric("update_timeliness", (19,), "数据更新及时率", "provider", "aggregation", "rate",
               doc="按目录更新周期，每个已结束周期内有成功汇聚"),
        Metric("aggregation_quality", (20,), "汇聚数据质量", "provider", "aggregation", "rate",
               doc="1 − 拒收行数 / 接收行数"),
        Metric("share_reply_timeliness", (24,), "共享申请答复及时率", "provider", "sharing", "rate", "share_reply",
               doc="有条件共享申请 2 个工作日内答复"),
        Metric("share_implementation_timeliness", (24,), "共享实施及时率", "provider", "sharing", "rate", "share_implement",
               doc="同意共享后 3 个工作日内完成实施"),
        Metric("refusal_basis", (24,), "拒绝共享依据率", "provider", "sharing", "rate",
               doc="拒绝共享提供法律、法规、规章依据"),
        Metric("demand_confirmation_timeliness", (24,), "目录外需求确认及时率", "provider", "sharing", "rate", "demand_confirm",
               doc="未编目数据共享需求 5 个工作日内确认"),
        Metric("grant_minimality", (25,), "最小授权要素完整率", "provider", "sharing", "rate",
               doc="同意的授权核定应用场景、所需数据、共享模式、截止时间"),
        Metric("out_of_scope_calls", (25,), "超范围调用次数", "consumer", "sharing", "count",
               doc="无有效授权或超过截止时间的接口调用"),
        Metric("cross_level_filing", (26,), "跨层级申请备案率", "applicant", "sharing", "rate",
               doc="跨层级、跨区域申请同时向上一级和同级主管部门备案"),
        Metric("usage_feedback", (23,), "使用情况反馈率", "applicant", "sharing", "rate",
               doc="获批授权在有效的每个季度提交使用情况反馈"),
        Metric("objection_timeliness", (28,), "数据异议处理及时率", "provider", "sharing", "rate", "objection",
               doc="收到异议 10 个工作日内处理或答复"),
        Metric("open_plan_filed", (36,), "年度开放计划备案", "agency", "open", "rate",
               doc="按方案规定日期备案年度开放计划"),
        Metric("open_catalog_foreign_data", (36,), "开放非本机构数据数", "agency", "open", "count",
               doc="通过共享获得的数据不得纳入本机构开放目录"),
        Metric("open_reply_timeliness", (37,), "开放申请答复及时率", "agency", "open", "rate", "open_reply",
               doc="开放申请 20 个工作日内答复"),
        Metric("open_agreement", (37,), "开放利用协议签订率", "agency", "open", "rate",
               doc="获取有条件开放数据签订利用协议"),
        Metric("project_gate", (44,), "项目数据门禁通过率", "owner", "projects", "rate",
               doc="立项前提交数据清单；验收前编目、汇聚、共享"),
        Metric("security_practice", (41,), "安全检查与备份完成率", "agency", "security", "rate",
               doc="按方案要求的次数开展安全检查和数据备份"),
        Metric("rectification_on_time", (47,), "限期整改完成率", "agency", "security", "rate",
               doc="整改通知在期限内完成"),
        Metric("security_incidents", (41, 47), "安全事件数", "agency", "security", "count",
               doc="年内发生的安全事件（数据泄露等由评分方案一票否决）"),
    ]
}

FAMILIES = ("catalog", "aggregation", "sharing", "open", "projects", "security")
