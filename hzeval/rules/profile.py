"""Rule profiles (DESIGN §5a): deadlines and article numbers as data.

A profile (``hzeval/rules/<name>.yaml`` or a path) gives, per deadline key, the length in
working days (or none), the article it comes from and the sentence to print, and per metric
the articles it enforces. Only the draft's profile ships (its text is in ``seeds/``).

A scheme lists the profiles in force with their start dates (``rules: [{profile, from}]``); the
:class:`RuleSet` built from that list answers "which profile on this date". The metric SQL gets
it as two temp tables joined by each item's trigger date (:func:`install`):
``rule_deadlines(profile, key, days, article, text, period, valid_from, valid_to)`` and
``rule_articles(profile, metric_id, article, valid_from, valid_to)``; a run stores the same rows
(with the real start dates) in ``run_rules``, and surfaces read articles and deadline texts from
there (:func:`run_metric_articles`, :func:`run_suggestions`). The first profile also covers any
date before its start (items older than every listed profile are judged by the first one).

The rules never read the metric catalog (``hzeval.metrics`` sits a floor above): what they check or
print about metrics is handed in (the metric ids a profile may map, the metrics whose deadlines a
scheme needs). What each metric cites under the profiles in force (its articles, its 整改建议, the
year's overview) is :mod:`hzeval.metrics.profiles`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hzeval.errors import RuleError
from hzeval.util.frame import frame

DEFAULT_PROFILE = "huizhou-draft-2022"
DEFAULT_FROM = dt.date(2022, 1, 1)
#: the deadline keys a profile may set (DESIGN §5a)
KNOWN_DEADLINE_KEYS = (
    "catalog_update",
    "catalog_review",
    "share_reply",
    "share_implement",
    "demand_confirm",
    "objection",
    "objection_subject",
    "objection_notify",
    "open_reply",
    "rectification_escalate",
    "backflow_deliver",
)
#: a metric's deadline key -> keys some of its items use instead (a paragraph of their own): 第二十八条's
#: second paragraph times 数据主体 objections (``objection_subject``); a profile without the variant
#: times them by the metric's key. Items name their variant by its article, so the two must differ.
DEADLINE_VARIANTS: dict[str, tuple[str, ...]] = {"objection": ("objection_subject",)}
_BEFORE_ALL = dt.date(1, 1, 1)
_AFTER_ALL = dt.date(9999, 12, 31)
ARTICLE_PATTERN = r"^第[一二三四五六七八九十百零]+条(第[一二三四五六七八九十]+款)?(（[一二三四五六七八九十]+）)?$"


class Strict(BaseModel):
    """The strict base of every declaration model (rule profiles, metric headers, schemes): unknown keys
    are refused and a validated declaration does not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineRule(Strict):
    days: int | None = Field(ge=1, le=250)
    article: str = Field(pattern=ARTICLE_PATTERN)
    text: str = Field(min_length=1)


class Profile(Strict):
    title: str = Field(min_length=1)
    #: how a length in working days is written; every deadline of the draft is counted in 工作日 (DESIGN §4)
    unit: str = Field(default="个工作日", min_length=1)
    deadlines: dict[str, DeadlineRule]
    articles: dict[str, list[str]] = Field(default_factory=dict)
    #: per metric, the articles a record of a named kind cites instead of the metric's (``security_incidents``:
    #: 数据泄露 → 第四十七条（五）); a kind not named cites the metric's articles, or with none the scheme's basis
    kind_articles: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    #: articles cited for things that are not metrics (e.g. disputes, veto)
    provisions: dict[str, list[str]] = Field(default_factory=dict)
    #: the sentence quoted for a provision key (must also be in ``provisions``)
    provision_texts: dict[str, str] = Field(default_factory=dict)
    #: filled by load_profile
    name: str = ""
    source: str = ""
    sha256: str = ""

    def period(self, key: str) -> str:
        """How the deadline reads in a sentence: days and the profile's unit, or (no days) its text."""
        rule = self.deadlines[key]
        return f"{rule.days} {self.unit}" if rule.days is not None else rule.text


def packaged_profile_path(name: str) -> Path:
    return Path(str(resources.files("hzeval.rules").joinpath(f"{name}.yaml")))


def resolve(ref: str, base: Path | None = None) -> Path:
    """A profile reference: a packaged profile's name, or a path (relative to ``base``, the scheme's folder)."""
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref
    if not looks_like_path:
        return packaged_profile_path(ref)
    p = Path(ref)
    if not p.is_absolute() and base is not None:
        p = base / p
    return p


@cache
def _load(path: Path) -> Profile:
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleError(
            f"无法读取规则配置 {path}：{exc}", f"cannot read rule profile {path}: {exc}", file=str(path)
        ) from exc
    if not isinstance(data, dict):
        raise RuleError(f"规则配置 {path} 不是 YAML 映射", f"rule profile {path} is not a YAML mapping", file=str(path))
    name = path.stem
    try:
        profile = Profile.model_validate(
            {**data, "name": name, "source": str(path), "sha256": hashlib.sha256(raw).hexdigest()}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(profile)"
        msg = first["msg"].removeprefix("Value error, ")
        raise RuleError(
            f"规则配置 {path} 无效：{loc}：{msg}", f"invalid rule profile {path}: {loc}: {msg}", file=str(path), key=loc
        ) from exc
    return profile


def _check_keys(profile: Profile, path: Path, metric_ids: Collection[str] | None) -> None:
    for key in profile.deadlines:
        if key not in KNOWN_DEADLINE_KEYS:
            raise RuleError(
                f"规则配置 {path} 无效：deadlines.{key}：未知的期限键（可用：{', '.join(KNOWN_DEADLINE_KEYS)}）",
                f"invalid rule profile {path}: deadlines.{key}: unknown deadline key "
                f"(known: {', '.join(KNOWN_DEADLINE_KEYS)})",
                file=str(path),
                key=f"deadlines.{key}",
            )

    for key, variants in DEADLINE_VARIANTS.items():
        for v in variants:
            if key in profile.deadlines and v in profile.deadlines:
                if profile.deadlines[v].article == profile.deadlines[key].article:
                    raise RuleError(
                        f"规则配置 {path} 无效：deadlines.{v}.article：须写明其所在款（与 deadlines.{key} 的条款不同）",
                        f"invalid rule profile {path}: deadlines.{v}.article must name its own paragraph "
                        f"(differ from deadlines.{key}.article)",
                        file=str(path),
                        key=f"deadlines.{v}.article",
                    )

    for section, mapping in (("articles", profile.articles), ("kind_articles", profile.kind_articles)):
        for metric_id in mapping if metric_ids is not None else ():
            if metric_ids is not None and metric_id not in metric_ids:
                raise RuleError(
                    f"规则配置 {path} 无效：{section}.{metric_id}：未知指标",
                    f"invalid rule profile {path}: {section}.{metric_id}: unknown metric id",
                    file=str(path),
                    key=f"{section}.{metric_id}",
                )
    cited = [
        *((f"articles.{k}", v) for k, v in [*profile.articles.items(), *profile.provisions.items()]),
        *((f"kind_articles.{m}.{kind}", v) for m, kinds in profile.kind_articles.items() for kind, v in kinds.items()),
    ]
    for key, arts in cited:
        for a in arts:
            if not re.match(ARTICLE_PATTERN, a):
                raise RuleError(
                    f"规则配置 {path} 无效：{key}：条款 {a!r} 格式不对",
                    f"invalid rule profile {path}: {key}: {a!r} is not an article",
                    file=str(path),
                    key=key,
                )


def _check_provision_texts(profile: Profile, path: Path) -> None:
    for key, text in profile.provision_texts.items():
        if key not in profile.provisions or not text.strip():
            raise RuleError(
                f"规则配置 {path} 无效：provision_texts.{key}：须为 provisions 中的键且不为空",
                f"invalid rule profile {path}: provision_texts.{key}: must be a key of provisions, non-empty",
                file=str(path),
                key=f"provision_texts.{key}",
            )


def load_profile(ref: str, base: Path | None = None, metric_ids: Collection[str] | None = None) -> Profile:
    """Load and validate a profile by packaged name or path; with ``metric_ids`` (the metric catalog's),
    ``articles`` may map only those (:func:`hzeval.metrics.profiles.load_profile` passes them)."""
    path = resolve(ref, base)
    if not path.exists():
        available = sorted(p.stem for p in packaged_profile_path(DEFAULT_PROFILE).parent.glob("*.yaml"))
        raise RuleError(
            f"找不到规则配置 {ref}（{path}；内置：{', '.join(available)}）",
            f"rule profile {ref} not found ({path}; packaged: {', '.join(available)})",
            file=str(path),
            key=ref,
        )
    profile = _load(path.resolve())
    _check_keys(profile, path.resolve(), metric_ids)
    _check_provision_texts(profile, path.resolve())
    return profile


def item_deadline_key(key: str, article: str | None, profile: Profile | None) -> str:
    """The deadline key an item of a metric declaring ``key`` was timed by: a variant of ``key``
    (:data:`DEADLINE_VARIANTS`) whose article in ``profile`` is the item's, else ``key``."""
    if profile is not None and article is not None:
        for v in DEADLINE_VARIANTS.get(key, ()):
            rule = profile.deadlines.get(v)
            if rule is not None and rule.article == article and profile.deadlines.get(key, rule).article != article:
                return v
    return key


def default_profile() -> Profile:
    return load_profile(DEFAULT_PROFILE)


class MetricNeeds(Protocol):
    """What the rules read of a metric's declaration (:class:`hzeval.metrics.registry.Metric` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def deadline(self) -> str | None: ...

    @property
    def deadline_days_required(self) -> bool: ...


@dataclass(frozen=True)
class Span:
    """One profile in force from ``start`` (inclusive) to ``end`` (exclusive; None = open)."""

    profile: Profile
    start: dt.date
    end: dt.date | None
    ref: str


def _day(on) -> dt.date | None:
    if on is None or isinstance(on, dt.date) and not isinstance(on, dt.datetime):
        return on
    return on.date()


@dataclass(frozen=True)
class RuleSet:
    """The profiles a scheme lists, each with its start date, in order."""

    spans: tuple[Span, ...]

    @classmethod
    def build(
        cls,
        entries: list[tuple[str, dt.date]],
        base: Path | None = None,
        where: str = "rules",
        metric_ids: Collection[str] | None = None,
    ) -> "RuleSet":
        """From ``[(profile ref, start date)]`` in the scheme's order; raises ``ValueError`` for an
        empty, unordered or overlapping list (the scheme validation wraps it naming the file).
        ``metric_ids``: the metric catalog the profiles' ``articles`` may map (see :func:`load_profile`)."""
        if not entries:
            raise ValueError(f"{where}：至少列出一个规则配置 / list at least one rule profile")
        for i, ((_, a), (ref_b, b)) in enumerate(zip(entries, entries[1:]), start=1):
            if b <= a:
                raise ValueError(
                    f"{where}.{i}.from：{ref_b} 的起始日期 {b} 不晚于上一项的 {a}（须按日期递增且不重叠）"
                    f" / start dates must increase ({b} is not after {a}): profiles would overlap"
                )
        spans = []
        for i, (ref, start) in enumerate(entries):
            end = entries[i + 1][1] if i + 1 < len(entries) else None
            spans.append(Span(load_profile(ref, base, metric_ids), start, end, ref))
        return cls(tuple(spans))

    def in_force(self, on=None) -> Profile:
        """The profile in force on ``on`` (the first before its start; the last when ``on`` is None)."""
        day = _day(on)
        if day is None:
            return self.spans[-1].profile
        for s in reversed(self.spans):
            if day >= s.start:
                return s.profile
        return self.spans[0].profile

    def between(self, start: dt.date, end: dt.date) -> list[Span]:
        """Spans in force at some day of [start, end) (the first also covers days before its start)."""
        out = []
        for i, s in enumerate(self.spans):
            lo = _BEFORE_ALL if i == 0 else s.start
            hi = s.end or _AFTER_ALL
            if lo < end and hi > start:
                out.append(s)
        return out

    @property
    def sha256(self) -> str:
        """One hash over the profiles used (content) and their start dates."""
        h = hashlib.sha256()
        for s in self.spans:
            h.update(f"{s.start.isoformat()}:{s.profile.sha256}\n".encode())
        return h.hexdigest()

    def check_deadlines(self, metrics: Iterable[MetricNeeds]) -> None:
        """Every profile sets every deadline key the given metrics need, with a number of days unless the
        metric declares ``deadline_days: optional`` (``ValueError`` naming file and key)."""
        metrics = list(metrics)
        for s in self.spans:
            for metric in metrics:
                m, key = metric.id, metric.deadline
                if key and key not in s.profile.deadlines:
                    raise ValueError(
                        f"规则配置 {s.profile.source} 缺少期限 deadlines.{key}（指标 {m} 需要）"
                        f" / rule profile {s.profile.source} lacks deadline key deadlines.{key} needed by {m}"
                    )
                if key and metric.deadline_days_required and s.profile.deadlines[key].days is None:
                    raise ValueError(
                        f"规则配置 {s.profile.source} 的期限 deadlines.{key}.days 为空，指标 {m} 需要天数"
                        f" / rule profile {s.profile.source}: deadlines.{key}.days is null but {m} needs a number"
                    )

    # ------------------------------------------------------------------ tables

    def rows(self, real_dates: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(deadline rows, article rows). With ``real_dates`` false the first span starts at 0001-01-01
        and the last ends at 9999-12-31 (for joins); with it true, the listed dates (end null = open)."""
        d_rows: list[tuple] = []
        a_rows: list[tuple] = []
        for i, s in enumerate(self.spans):
            p = s.profile
            lo = s.start if real_dates or i else _BEFORE_ALL
            hi = s.end if real_dates or s.end else _AFTER_ALL
            for key, r in p.deadlines.items():
                d_rows.append((p.name, p.title, key, r.days, r.article, r.text, p.period(key), lo, hi))
            for metric_id, arts in p.articles.items():
                if arts:  # a metric citing no article (its scheme's basis stands in) has no row
                    a_rows.append((p.name, p.title, metric_id, "、".join(arts), lo, hi, "metric", None))
            for key, arts in p.provisions.items():
                a_rows.append((p.name, p.title, key, "、".join(arts), lo, hi, "provision", p.provision_texts.get(key)))
        dl = pl.DataFrame(
            d_rows,
            orient="row",
            schema={
                "profile": pl.String,
                "title": pl.String,
                "key": pl.String,
                "days": pl.Int32,
                "article": pl.String,
                "text": pl.String,
                "period": pl.String,
                "valid_from": pl.Date,
                "valid_to": pl.Date,
            },
        )
        ar = pl.DataFrame(
            a_rows,
            orient="row",
            schema={
                "profile": pl.String,
                "title": pl.String,
                "metric_id": pl.String,
                "article": pl.String,
                "valid_from": pl.Date,
                "valid_to": pl.Date,
                "kind": pl.String,
                "text": pl.String,
            },
        )
        return dl, ar

    def kind_rows(self) -> pl.DataFrame:
        """(profile, metric_id, kind, article, valid_from, valid_to) of every profile's ``kind_articles``,
        spans open at both ends as in :meth:`rows` (for joins on a record's date)."""
        rows = [
            (
                s.profile.name,
                metric_id,
                kind,
                "、".join(arts),
                s.start if i else _BEFORE_ALL,
                s.end or _AFTER_ALL,
            )
            for i, s in enumerate(self.spans)
            for metric_id, kinds in s.profile.kind_articles.items()
            for kind, arts in kinds.items()
        ]
        schema = {
            "profile": pl.String,
            "metric_id": pl.String,
            "kind": pl.String,
            "article": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")

    def run_rows(self, run_id: str) -> pl.DataFrame:
        """Rows of ``run_rules`` for one run: kind 'deadline' (key = deadline key) and 'metric'
        (key = metric id), with the profile, its real start and end dates, and the rule."""
        dl, ar = self.rows(real_dates=True)
        dl = dl.select(
            pl.lit("deadline").alias("kind"),
            "key",
            "profile",
            "title",
            "valid_from",
            "valid_to",
            "days",
            "article",
            "text",
            "period",
        )
        ar = ar.select(
            "kind",
            pl.col("metric_id").alias("key"),
            "profile",
            "title",
            "valid_from",
            "valid_to",
            pl.lit(None, pl.Int32).alias("days"),
            "article",
            "text",
            pl.lit(None, pl.String).alias("period"),
        )
        return pl.concat([dl, ar]).select(pl.lit(run_id).alias("run_id"), pl.all())


def install(con, rules: RuleSet) -> None:
    """Temp tables ``rule_deadlines``, ``rule_articles`` and ``rule_kind_articles`` for the metric SQL's date joins."""
    dl, ar = rules.rows(real_dates=False)
    ar = ar.filter(pl.col("kind") == "metric").drop("kind", "text")
    for name, df in (("rule_deadlines", dl), ("rule_articles", ar), ("rule_kind_articles", rules.kind_rows())):
        con.register("_rules", df.to_arrow())
        con.execute(f"create or replace temp table {name} as select * from _rules")
        con.unregister("_rules")


@cache
def default_rules() -> RuleSet:
    """The packaged draft profile alone, from 2022-01-01."""
    return RuleSet.build([(DEFAULT_PROFILE, DEFAULT_FROM)])


def articles_for(metric_id: str, on_date=None, rules: RuleSet | None = None) -> tuple[str, ...]:
    """The articles ``metric_id`` enforces under the profile in force on ``on_date`` (default rules:
    the packaged draft profile)."""
    profile = (rules or default_rules()).in_force(on_date)
    return tuple(profile.articles.get(metric_id, ()))


def deadline_text(key: str, on_date=None, rules: RuleSet | None = None) -> str:
    """``<article>：<sentence>`` — the rule for a deadline key on ``on_date``."""
    profile = (rules or default_rules()).in_force(on_date)
    r = profile.deadlines[key]
    return f"{r.article}：{r.text}"


# ---------------------------------------------------------------------- reading a run's rules


def run_rules(con, run_id: str) -> pl.DataFrame | None:
    """The run's ``run_rules`` rows, or None for a run (or published copy) made before they existed."""
    has = con.execute("select count(*) from information_schema.tables where table_name = 'run_rules'").fetchall()[0][0]
    if not has:
        return None
    df = frame(con, "select * from run_rules where run_id = $r order by kind, key, valid_from", {"r": run_id})
    return df if df.height else None


def spans_text(parts: list[tuple[str, dt.date | None, dt.date | None]], year_start: dt.date, year_end: dt.date) -> str:
    """``A`` for one span; ``A（至 2025-07-31）；B（2025-08-01 起）`` for several (A, B: articles)."""
    inside = [(a, lo, hi) for a, lo, hi in parts if (lo is None or lo < year_end) and (hi is None or hi > year_start)]
    inside = inside or parts[-1:]
    texts = []
    for a, lo, hi in inside:
        if len({x[0] for x in inside}) == 1:
            return a
        if lo is not None and lo > year_start:
            texts.append(f"{a}（{lo:%Y-%m-%d} 起）")
        elif hi is not None and hi < year_end:
            texts.append(f"{a}（至 {hi - dt.timedelta(days=1):%Y-%m-%d}）")
        else:
            texts.append(a)
    return "；".join(texts)


def run_deadline_texts(con, run_id: str, year: int) -> dict[str, str]:
    """Per deadline key, the rule sentence(s) the run applied over ``year`` (``article：text``), changes
    inside the year spelt out."""
    df = run_rules(con, run_id)
    if df is None:
        return {k: deadline_text(k) for k in default_rules().in_force(None).deadlines}
    ys, ye = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    out = {}
    rows = df.filter(pl.col("kind") == "deadline").sort("key", "valid_from")
    for key in rows["key"].unique(maintain_order=True):
        parts = [
            (f"{r['article']}：{r['text']}", r["valid_from"], r["valid_to"])
            for r in rows.filter(pl.col("key") == key).iter_rows(named=True)
        ]
        out[key] = spans_text(parts, ys, ye)
    return out


# ---------------------------------------------------------------------- `hzeval rules`


def year_deadlines(rules: RuleSet, year: int) -> pl.DataFrame:
    """The deadlines in force over ``year``: one row per key and span of the year it applies to, with
    the profile, its period of the year, length and article (the metrics' half of ``hzeval rules``:
    :func:`hzeval.metrics.profiles.year_overview`)."""
    ys, ye = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    d_rows = []
    for s in rules.between(ys, ye):
        lo = max(s.start, ys)
        hi = min(s.end or ye, ye) - dt.timedelta(days=1)
        p = s.profile
        for key, r in p.deadlines.items():
            d_rows.append(
                (key, p.name, lo, hi, r.days, p.period(key) if r.days is not None else "（无天数）", r.article, r.text)
            )
    return pl.DataFrame(
        d_rows,
        orient="row",
        schema={
            "key": pl.String,
            "profile": pl.String,
            "from": pl.Date,
            "to": pl.Date,
            "days": pl.Int32,
            "period": pl.String,
            "article": pl.String,
            "text": pl.String,
        },
    ).sort("key", "from", maintain_order=True)


def provision(key: str, on_date=None, rules: RuleSet | None = None) -> str:
    """The articles cited for a provision that is not a metric (``disputes``, ``veto`` ...)."""
    profile = (rules or default_rules()).in_force(on_date)
    return "、".join(profile.provisions.get(key, ()))


def provision_text(key: str, on_date=None, rules: RuleSet | None = None) -> str:
    """``<articles>：<sentence>`` quoted for a provision by the profile in force on ``on_date``
    ('' when it quotes none)."""
    profile = (rules or default_rules()).in_force(on_date)
    text = profile.provision_texts.get(key)
    return f"{'、'.join(profile.provisions.get(key, ()))}：{text}" if text else ""


def run_provision_text(con, run_id: str, year: int, key: str) -> str:
    """``<articles>：<sentence>`` of a provision as the run's rule profiles quoted it at the end of ``year``
    (older runs, whose ``run_rules`` carry no provision sentences: the packaged profile's)."""
    df = run_rules(con, run_id)
    if df is not None:
        rows = df.filter(
            (pl.col("kind") == "provision")
            & (pl.col("key") == key)
            & (pl.col("valid_from") <= dt.date(year, 12, 31))
            & pl.col("text").is_not_null()
        ).sort("valid_from")
        if rows.height:
            return f"{rows['article'][-1]}：{rows['text'][-1]}"
    return provision_text(key, dt.date(year, 12, 31))


def run_provision(con, run_id: str, year: int, key: str) -> str:
    """A provision's articles as the run applied them at the end of ``year`` (default profile for older runs)."""
    df = run_rules(con, run_id)
    if df is None:
        return provision(key)
    rows = df.filter(
        (pl.col("kind") == "provision") & (pl.col("key") == key) & (pl.col("valid_from") <= dt.date(year, 12, 31))
    ).sort("valid_from")
    if rows.is_empty():
        rows = df.filter((pl.col("kind") == "provision") & (pl.col("key") == key)).sort("valid_from").head(1)
    return rows["article"][-1] if rows.height else ""
