"""Scoring schemes (DESIGN §6): YAML files validated into a pydantic model.

``hzeval/schemes/<year>.yaml`` is the default for a year; ``--scheme`` replaces it.
A bad scheme raises :class:`~hzeval.errors.SchemeError` naming the file and the problem.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from hzeval.contract import V
from hzeval.errors import SchemeError

# STANDING (re-exported for scoring): the standing obligations of DESIGN §5, owed by every graded agency
# every year, so a 0 denominator scores 0 and they are never excluded (``obligation: standing``)
from hzeval.metrics.registry import METRICS, STANDING
from hzeval.rules import RuleSet, Strict

NaPolicy = Literal["exclude", "full"]


def _check_basis(v: str, what: str) -> str:
    """A basis names the document it comes from (《…》) — the authority's scheme is policy, not an article."""
    v = (v or "").strip()
    if not v:
        raise ValueError(f"{what} 缺少 basis（依据）/ {what} needs a basis")
    if "《" not in v or "》" not in v:
        raise ValueError(f"{what} 的 basis 须写明出处文件（《…》），得到 {v!r} / a basis must name its document")
    return v


class RuleEntry(Strict):
    """One rule profile in force from a date: a packaged profile's name or a path (relative to the scheme file)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    profile: str = Field(min_length=1)
    from_: dt.date = Field(alias="from")


class Indicator(Strict):
    metric: str
    points: float = Field(gt=0)
    target: float = Field(1.0, ge=0, le=1)
    floor: float = Field(0.0, ge=0, le=1)
    na: NaPolicy | None = None
    #: where the points and target come from; default: the dimension's basis
    basis: str | None = None

    @model_validator(mode="after")
    def _floor_below_target(self):
        if self.floor >= self.target:
            raise ValueError(
                f"指标 {self.metric} 的 floor ({self.floor}) 必须小于 target ({self.target})"
                " / floor must be below target"
            )
        if self.basis is not None:
            _check_basis(self.basis, f"指标 {self.metric}")
        if self.na is not None and self.metric in STANDING:
            raise ValueError(
                f"{self.metric} 是常设义务（每个参评机构每年都应履行），无数据时计 0 分，不能设 na: {self.na} / "
                f"{self.metric} is a standing obligation: it scores 0 on nothing measured and takes no na policy"
            )
        return self


class Dimension(Strict):
    name: str
    weight: float = Field(gt=0)
    basis: str
    indicators: list[Indicator] = Field(min_length=1)

    @field_validator("basis")
    @classmethod
    def _basis(cls, v: str) -> str:
        return _check_basis(v, "维度权重")


class Deduction(Strict):
    metric: str
    per: float = Field(gt=0, description="points per counted violation")
    cap: float = Field(gt=0, description="at most this many points")
    dimension: str = "扣分项"
    basis: str

    @model_validator(mode="after")
    def _basis(self):
        _check_basis(self.basis, f"扣分项 {self.metric}")
        return self


class Veto(Strict):
    incident_kind: str
    grade: str = "不合格"
    basis: str

    @model_validator(mode="after")
    def _basis(self):
        _check_basis(self.basis, f"一票否决 {self.incident_kind}")
        return self


class Band(Strict):
    grade: str
    min: float = Field(ge=0, le=100)
    max: float | None = Field(None, gt=0)  # exclusive; None = up to 100 inclusive


#: catalogue submissions whose review the authority must do in time
ReviewEvent = Literal["编制提交", "变更提交", "下架提交"]


#: the periods 实时 may be counted as (update_timeliness)
RealtimeAs = Literal["每日", "每周", "每月"]
#: usage_feedback periods, in whole quarters (months per period: FEEDBACK_MONTHS)
FeedbackPeriod = Literal["季度", "半年", "年"]
FEEDBACK_MONTHS = {"季度": 3, "半年": 6, "年": 12}
#: when the project gate's G2–G4 are checked (第四十四条 "项目竣工验收前应当编目、汇聚、共享…并作为符合性审查
#: 条件"): at the acceptance request (the review before acceptance), or at acceptance itself
GateCheckedAt = Literal["requested", "accepted"]


#: the entry of ``graded`` that grades the authorities (``agencies.is_authority``) — not an agency type: an
#: authority is a 行政机关, and the default scheme does not grade it (DESIGN §6)
AUTHORITY = "主管部门"


def _timed_reviews() -> list[ReviewEvent]:
    return ["变更提交", "下架提交"]


class Scheme(Strict):
    name: str
    year: int | None = None
    na_policy: NaPolicy = "exclude"
    #: rule profiles in force, each from its start date (DESIGN §5a)
    rules: list[RuleEntry] = Field(min_length=1)
    open_plan_due: str = "03-31"
    #: records required per year and type; the rules say only 定期 (第四十一条), so the numbers are policy
    security_required: dict[str, int] = Field(default_factory=lambda: {"安全检查": 2, "数据备份": 4})
    security_basis: str | None = None
    #: agency types that get a grade and a rank (第四十三条 对行政机关…开展年度评估); others are reported only.
    #: The authorities (is_authority) are graded only if the list names :data:`AUTHORITY` (DESIGN §5b); their
    #: own metrics are computed and reported either way
    graded: list[str] = Field(default_factory=lambda: ["行政机关"], min_length=1)
    #: submissions whose review is timed (catalog_review_timeliness): 第十二条 speaks of updates; a scheme
    #: may add 编制提交
    catalog_review_events: list[ReviewEvent] = Field(default_factory=_timed_reviews, min_length=1)
    #: how update_timeliness counts a resource updated 实时 (第十九条 follows the catalogue's frequency;
    #: 实时 names no period, so the period is policy)
    realtime_as: RealtimeAs = "每日"
    #: the period of usage_feedback: 第二十三条 says only "定期" (policy, never called a rule); whole quarters,
    #: as share_feedback.period is a quarter
    feedback_period: FeedbackPeriod = "季度"
    #: days: an input table whose newest record (at or before the as-of) is older than this many days before
    #: the as-of is named as a warning on every header (DESIGN §7a; tables that expect recent records only)
    stale_after: int = Field(45, ge=1, le=366)
    #: project_gate: G2–G4 are checked at the acceptance request (default; else at acceptance when not
    #: requested), or at acceptance (``accepted``); a project neither requested nor accepted as of now
    gate_checked_at: GateCheckedAt = "requested"
    #: project_gate G4: whether a 不予共享 resource with its basis and filing (第十四条) passes 数据已共享
    gate_nonshare_filed_passes: bool = True
    dimensions: list[Dimension] = Field(min_length=1)
    deductions: list[Deduction] = Field(default_factory=list)
    veto: list[Veto] = Field(default_factory=list)
    grades: list[Band] = Field(min_length=2)
    peer_groups: dict[str, str] = Field(default_factory=lambda: {"市级": "市级", "县区": "县区"})
    #: filled by load_scheme
    sha256: str = ""
    source: str = ""
    _ruleset: RuleSet | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _no_deadlines(cls, data):
        if isinstance(data, dict) and "deadlines" in data:
            raise ValueError(
                "deadlines 已由 rules 取代：期限和条款来自规则配置，例如 rules: [{profile: huizhou-draft-2022, "
                "from: 2022-01-01}] / 'deadlines' is replaced by 'rules' (rule profiles with start dates)"
            )
        return data

    @field_validator("open_plan_due")
    @classmethod
    def _month_day(cls, v: str) -> str:
        try:
            dt.date.fromisoformat(f"2024-{v}")
        except ValueError as exc:
            raise ValueError(f"open_plan_due 应为 MM-DD 形式，得到 {v!r} / must be MM-DD") from exc
        return v

    @field_validator("graded")
    @classmethod
    def _graded_types(cls, v: list[str]) -> list[str]:
        known = {*V["agency_type"].values, AUTHORITY}
        bad = [x for x in v if x not in known]
        if bad:
            raise ValueError(f"graded 中的机构类型未知 unknown agency types: {bad}（可用 {sorted(known)}）")
        return v

    @field_validator("security_required")
    @classmethod
    def _record_types(cls, v: dict[str, int]) -> dict[str, int]:
        known = set(V["record_type"].values)
        bad = [x for x in v if x not in known]
        if bad:
            raise ValueError(f"security_required 中的记录类型未知 unknown record types: {bad}（可用 {sorted(known)}）")
        if any(n < 0 for n in v.values()):
            raise ValueError("security_required 的次数不能为负 / counts must not be negative")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        total = sum(d.weight for d in self.dimensions)
        if abs(total - 100) > 1e-9:
            raise ValueError(f"维度权重之和为 {total:g}，应为 100 / dimension weights sum to {total:g}, not 100")
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError(f"维度名称重复 / duplicate dimension names: {names}")
        seen: set[str] = set()
        for d in self.dimensions:
            for ind in d.indicators:
                m = METRICS.get(ind.metric)
                if m is None:
                    raise ValueError(f"未知指标 unknown metric id: {ind.metric!r}（维度 {d.name}）")
                if m.kind != "rate":
                    raise ValueError(f"{ind.metric} 是计数指标，只能用于扣分 / is a count metric: use it in deductions")
                if ind.metric in seen:
                    raise ValueError(f"指标重复 / indicator listed twice: {ind.metric}")
                seen.add(ind.metric)
        if "security_practice" in seen:
            _check_basis(self.security_basis or "", "security_required（安全记录要求次数）")
        for ded in self.deductions:
            m = METRICS.get(ded.metric)
            if m is None:
                raise ValueError(f"未知指标 unknown metric id in deductions: {ded.metric!r}")
            if m.kind != "count":
                raise ValueError(f"扣分项 {ded.metric} 须为计数指标 / deductions take count metrics")
        self._check_bands()
        base = Path(self.source).parent if self.source else None
        self._ruleset = RuleSet.build([(r.profile, r.from_) for r in self.rules], base, metric_ids=METRICS)
        self._ruleset.check_deadlines(METRICS[m] for m in sorted(self.scored_metrics))
        return self

    @property
    def ruleset(self) -> RuleSet:
        """The rule profiles in force, by date."""
        assert self._ruleset is not None  # set by the validator of every loaded scheme
        return self._ruleset

    @property
    def scored_metrics(self) -> set[str]:
        return {i.metric for d in self.dimensions for i in d.indicators} | {d.metric for d in self.deductions}

    def _check_bands(self) -> None:
        bands = sorted(self.grades, key=lambda b: b.min)
        if bands[0].min != 0:
            raise ValueError(f"等级区间须从 0 分开始 / grade bands must start at 0 (lowest is {bands[0].min:g})")
        for lo, hi in zip(bands, bands[1:]):
            lo_max = lo.max if lo.max is not None else 100.0
            if lo_max > hi.min:
                raise ValueError(
                    f"等级区间重叠 / overlapping grade bands: {lo.grade} [{lo.min:g}, {lo_max:g})"
                    f" 与 {hi.grade} 自 {hi.min:g}"
                )
            if lo_max < hi.min:
                raise ValueError(f"等级区间有缺口 / gap between grade bands {lo.grade} and {hi.grade}")
        if bands[-1].max is not None and bands[-1].max < 100:
            raise ValueError("最高等级区间须覆盖到 100 分 / the top band must reach 100")
        if len({b.grade for b in bands}) != len(bands):
            raise ValueError("等级名称重复 / duplicate grade names")

    # ------------------------------------------------------------------ helpers

    @property
    def feedback_months(self) -> int:
        """usage_feedback's period in months."""
        return FEEDBACK_MONTHS[self.feedback_period]

    def open_plan_due_at(self, year: int) -> dt.datetime:
        """Plans are due by the end (24:00) of ``open_plan_due`` in the assessed year."""
        d = dt.date.fromisoformat(f"{year}-{self.open_plan_due}")
        return dt.datetime.combine(d + dt.timedelta(days=1), dt.time())

    def indicator_basis(self, dimension: str, metric: str) -> str | None:
        """The basis text of an indicator (its own, else its dimension's) or of a deduction."""
        for d in self.dimensions:
            if d.name == dimension:
                for ind in d.indicators:
                    if ind.metric == metric:
                        return ind.basis or d.basis
        for ded in self.deductions:
            if ded.metric == metric and ded.dimension == dimension:
                return ded.basis
        return None

    def metric_basis(self, metric: str) -> str | None:
        """The basis a metric is scored under (its first indicator's or deduction's): what an item of a
        metric the rules cite no article for cites instead (DESIGN §5b)."""
        for d in self.dimensions:
            for ind in d.indicators:
                if ind.metric == metric:
                    return ind.basis or d.basis
        return next((ded.basis for ded in self.deductions if ded.metric == metric), None)

    def is_graded(self, agency_type: str | None, is_authority: bool = False) -> bool:
        """Whether an agency gets a grade: an authority only if ``graded`` names 主管部门, any other by its type."""
        if is_authority:
            return AUTHORITY in self.graded
        return (agency_type or "行政机关") in self.graded

    def grade_for(self, total: float) -> str:
        for b in sorted(self.grades, key=lambda b: -b.min):
            if total >= b.min:
                return b.grade
        return sorted(self.grades, key=lambda b: b.min)[0].grade

    @property
    def fail_grade(self) -> str:
        return sorted(self.grades, key=lambda b: b.min)[0].grade


def default_scheme_path(year: int) -> Path:
    p = resources.files("hzeval").joinpath("schemes", f"{year}.yaml")
    return Path(str(p))


def scheme_for(year: int, path: str | Path | None = None) -> Scheme:
    """The scheme an assessment of ``year`` uses: ``path`` if given, else the packaged one for the
    year, else (with a warning) the newest packaged one before it."""
    if path:
        return load_scheme(path)
    scheme = latest_scheme_for(year)
    if scheme.year != year:
        logging.getLogger(__name__).warning(
            "没有 %s 年的评分方案，沿用 %s / no packaged scheme for %s: using %s",
            year,
            scheme.name,
            year,
            scheme.source,
        )
    return scheme


def latest_scheme_for(year: int) -> Scheme:
    """The packaged scheme for ``year``, else the newest one before it (else the oldest)."""
    folder = default_scheme_path(year).parent
    years = sorted(int(p.stem) for p in folder.glob("*.yaml") if p.stem.isdigit())
    earlier = [y for y in years if y <= year]
    return load_scheme(year=earlier[-1] if earlier else years[0])


def load_scheme(path: str | Path | None = None, year: int | None = None) -> Scheme:
    """Load and validate a scheme file (default: the packaged one for ``year``)."""
    if path is None:
        if year is None:
            raise SchemeError("未指定评分方案", "no scheme given")
        path = default_scheme_path(year)
        if not path.exists():
            available = sorted(p.stem for p in path.parent.glob("*.yaml"))
            raise SchemeError(
                f"没有 {year} 年的默认评分方案（现有：{', '.join(available)}），请用 --scheme 指定",
                f"no packaged scheme for {year} (have: {', '.join(available)}); pass --scheme FILE",
                year=year,
            )
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemeError(
            f"无法读取评分方案 {path}：{exc}", f"cannot read scheme {path}: {exc}", file=str(path)
        ) from exc
    # a copy of the one validated parse of these bytes: every reader of a published run loads its
    # scheme, and an offline city file reads 305 agencies' scores (issue 29 item 2)
    return _parsed(raw, str(path)).model_copy(deep=True)


@functools.lru_cache(maxsize=32)
def _parsed(raw: bytes, source: str) -> Scheme:
    path = Path(source)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemeError(
            f"无法读取评分方案 {path}：{exc}", f"cannot read scheme {path}: {exc}", file=str(path)
        ) from exc
    if not isinstance(data, dict):
        raise SchemeError(f"评分方案 {path} 不是 YAML 映射", f"scheme {path} is not a YAML mapping", file=str(path))
    data = {**data, "sha256": hashlib.sha256(raw).hexdigest(), "source": str(path)}
    try:
        return Scheme.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(scheme)"
        msg = first["msg"].removeprefix("Value error, ")
        raise SchemeError(
            f"评分方案 {path} 无效：{loc}：{msg}",
            f"invalid scheme {path}: {loc}: {msg}",
            file=str(path),
        ) from exc
