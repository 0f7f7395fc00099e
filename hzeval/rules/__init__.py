"""Rule profiles (DESIGN §5a): deadlines and article numbers as data.

A profile (``hzeval/rules/<name>.yaml`` or a path) gives, per deadline key, the length in
working days (or none), the article it comes from and the sentence to print, and per metric
the articles it enforces. Only the draft's profile ships (its text is in ``seeds/``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hzeval.errors import HzevalError

DEFAULT_PROFILE = "huizhou-draft-2022"
ARTICLE_PATTERN = r"^第[一二三四五六七八九十百零]+条(第[一二三四五六七八九十]+款)?(（[一二三四五六七八九十]+）)?$"


class RuleError(HzevalError):
    """A rule profile, or a scheme's list of profiles, is invalid."""

    exit_code = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineRule(_Strict):
    days: int | None = Field(ge=1, le=250)
    article: str = Field(pattern=ARTICLE_PATTERN)
    text: str = Field(min_length=1)


class Profile(_Strict):
    title: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    deadlines: dict[str, DeadlineRule]
    articles: dict[str, list[str]] = Field(default_factory=dict)
    #: filled by load_profile
    name: str = ""
    source: str = ""
    sha256: str = ""

    def period(self, key: str) -> str:
        """How the deadline reads in a sentence: ``2 个工作日`` (with the profile's unit), or its text."""
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
        raise RuleError(f"无法读取规则配置 {path}：{exc}", f"cannot read rule profile {path}: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise RuleError(f"规则配置 {path} 不是 YAML 映射", f"rule profile {path} is not a YAML mapping", file=str(path))
    name = path.stem
    try:
        profile = Profile.model_validate({**data, "name": name, "source": str(path),
                                          "sha256": hashlib.sha256(raw).hexdigest()})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(profile)"
        msg = first["msg"].removeprefix("Value error, ")
        raise RuleError(f"规则配置 {path} 无效：{loc}：{msg}", f"invalid rule profile {path}: {loc}: {msg}",
                        file=str(path), key=loc) from exc
    _check_keys(profile, path)
    return profile


def _check_keys(profile: Profile, path: Path) -> None:
    from hzeval.metrics.registry import METRICS

    for metric_id in profile.articles:
        if metric_id not in METRICS:
            raise RuleError(f"规则配置 {path} 无效：articles.{metric_id}：未知指标",
                            f"invalid rule profile {path}: articles.{metric_id}: unknown metric id",
                            file=str(path), key=f"articles.{metric_id}")
    for metric_id, arts in profile.articles.items():
        import re

        for a in arts:
            if not re.match(ARTICLE_PATTERN, a):
                raise RuleError(f"规则配置 {path} 无效：articles.{metric_id}：条款 {a!r} 格式不对",
                                f"invalid rule profile {path}: articles.{metric_id}: {a!r} is not an article",
                                file=str(path), key=f"articles.{metric_id}")


def load_profile(ref: str, base: Path | None = None) -> Profile:
    """Load and validate a profile by packaged name or path."""
    path = resolve(ref, base)
    if not path.exists():
        available = sorted(p.stem for p in packaged_profile_path(DEFAULT_PROFILE).parent.glob("*.yaml"))
        raise RuleError(f"找不到规则配置 {ref}（{path}；内置：{', '.join(available)}）",
                        f"rule profile {ref} not found ({path}; packaged: {', '.join(available)})",
                        file=str(path), key=ref)
    return _load(path.resolve())


def default_profile() -> Profile:
    return load_profile(DEFAULT_PROFILE)


def articles_for(metric_id: str, on_date: dt.date | None = None, rules=None) -> tuple[str, ...]:
    """The articles ``metric_id`` enforces under the profile in force on ``on_date`` (default: the
    packaged draft profile)."""
    profile = rules.in_force(on_date) if rules is not None else default_profile()
    return tuple(profile.articles.get(metric_id, ()))


def suggestion(metric_id: str, on_date: dt.date | None = None, rules=None) -> str:
    """The metric's 整改建议 (declared in its SQL header) with ``{article}`` and ``{deadline}``
    filled from the profile in force on ``on_date`` (default: the packaged draft profile)."""
    from hzeval.metrics.registry import METRICS

    m = METRICS[metric_id]
    profile = rules.in_force(on_date) if rules is not None else default_profile()
    return m.suggestion.format(
        article="、".join(profile.articles.get(metric_id, ())),
        deadline=profile.period(m.deadline) if m.deadline and m.deadline in profile.deadlines else "规定期限",
    )
