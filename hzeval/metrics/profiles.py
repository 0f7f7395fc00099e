"""The rule profiles (:mod:`hzeval.rules`, DESIGN §5a) read against the metric catalog.

The rules sit a floor below the metrics and never read the catalog; what joins the two lives here:
a profile loaded with its ``articles`` checked against the declared metrics, and what each metric
cites under the profiles in force — its articles, its 整改建议 (the header's ``suggestion`` with
``{article}`` and ``{deadline}`` filled in) and the metric half of ``hzeval rules``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from hzeval.metrics.registry import METRICS, Metric
from hzeval.rules import Profile, RuleSet, default_rules, run_rules, spans_text, year_deadlines
from hzeval.rules import load_profile as _load_profile


def load_profile(ref: str, base: Path | None = None) -> Profile:
    """:func:`hzeval.rules.load_profile`, its ``articles`` mapping declared metrics only."""
    return _load_profile(ref, base, metric_ids=METRICS)


def suggestion(metric_id: str, on_date=None, rules: RuleSet | None = None) -> str:
    """The metric's 整改建议 (declared in its SQL header) with ``{article}`` and ``{deadline}``
    filled from the profile in force on ``on_date``."""
    m = METRICS[metric_id]
    profile = (rules or default_rules()).in_force(on_date)
    return _fill(
        m,
        "、".join(profile.articles.get(metric_id, ())),
        profile.period(m.deadline) if m.deadline and m.deadline in profile.deadlines else None,
    )


def _fill(m: Metric, article: str, period: str | None) -> str:
    return m.suggestion.format(article=article, deadline=period or "规定期限")


# ---------------------------------------------------------------------- reading a run's rules


def run_metric_articles(con, run_id: str, year: int) -> dict[str, str]:
    """Per metric id, the articles the run applied over ``year`` (changes inside the year spelt out)."""
    df = run_rules(con, run_id)
    if df is None:
        return {m: METRICS[m].article_zh for m in METRICS}
    ys, ye = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    out = {}
    metric_rows = df.filter(pl.col("kind") == "metric")
    for m in METRICS:
        rows = metric_rows.filter(pl.col("key") == m).sort("valid_from")
        parts = [(r["article"], r["valid_from"], r["valid_to"]) for r in rows.iter_rows(named=True)]
        out[m] = spans_text(parts, ys, ye) if parts else ""
    return out


def run_suggestions(con, run_id: str, year: int) -> dict[str, str]:
    """Per metric id, its 整改建议 with the articles and deadline the run applied at the end of ``year``."""
    df = run_rules(con, run_id)
    if df is None:
        return {m: suggestion(m) for m in METRICS}
    last_day = dt.date(year, 12, 31)
    live = df.filter((pl.col("valid_from") <= last_day) | (pl.col("valid_from") == pl.col("valid_from").min()))
    live = live.filter(pl.col("valid_from") == pl.col("valid_from").max().over("kind", "key"))
    arts = {r["key"]: r["article"] for r in live.filter(pl.col("kind") == "metric").iter_rows(named=True)}
    periods = {r["key"]: r["period"] for r in live.filter(pl.col("kind") == "deadline").iter_rows(named=True)}
    return {m: _fill(METRICS[m], arts.get(m, ""), periods.get(METRICS[m].deadline)) for m in METRICS}


# ---------------------------------------------------------------------- `hzeval rules`


def _by_kind(kinds: dict[str, list[str]] | None) -> str:
    """'第四十七条（五）：数据泄露、出售数据；…；其他类型：评估方案的依据' for a metric cited by record kind."""
    if not kinds:
        return ""
    by_article: dict[str, list[str]] = {}
    for kind, arts in kinds.items():
        by_article.setdefault("、".join(arts), []).append(kind)
    return "；".join([*(f"{a}：{'、'.join(k)}" for a, k in by_article.items()), "其他类型：评估方案的依据"])


def year_overview(rules: RuleSet, year: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(deadlines, metrics) in force over ``year``: one row per key (or metric) and span of the
    year it applies to, with the profile, its period of the year, length and article."""
    ys, ye = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    m_rows = []
    for s in rules.between(ys, ye):
        lo = max(s.start, ys)
        hi = min(s.end or ye, ye) - dt.timedelta(days=1)
        p = s.profile
        for m in METRICS:
            arts = p.articles.get(m)
            m_rows.append(
                (
                    m,
                    METRICS[m].name_zh,
                    p.name,
                    lo,
                    hi,
                    METRICS[m].deadline or "",
                    "、".join(arts) if arts else _by_kind(p.kind_articles.get(m)) or "（未映射）",
                )
            )
    mt = pl.DataFrame(
        m_rows,
        orient="row",
        schema={
            "metric_id": pl.String,
            "metric_name": pl.String,
            "profile": pl.String,
            "from": pl.Date,
            "to": pl.Date,
            "deadline": pl.String,
            "article": pl.String,
        },
    ).sort("metric_id", "from", maintain_order=True)
    return year_deadlines(rules, year), mt
