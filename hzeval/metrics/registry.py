"""The metric catalog (DESIGN §5), derived from the declarations beside the SQL.

Every metric is declared once, in the header of its block in ``sql/<family>.sql``::

    -- metric: share_reply_timeliness
    -- name: 共享申请答复及时率
    -- kind: rate
    -- charged_to: provider
    -- deadline: share_reply
    -- obligation: event
    -- category: 共享申请答复
    -- doc: 有条件共享申请在期限内答复
    -- suggestion: 有条件共享申请应在{deadline}内答复……（{article}）。
    -- ok_when: replied_at within the share_reply deadline of submitted_at
    -- grain: one row per 有条件共享 application in the catalogue submitted in the year,
    --     charged to the provider
    <the SQL>

The family is the file's name. Required keys: ``name``, ``kind`` (rate | count),
``charged_to``, ``obligation`` (standing: owed by every graded agency every year, a 0
denominator scores 0; event: nothing to measure follows the scheme's policy), ``doc``
(Chinese, what is measured), ``suggestion`` (Chinese 整改建议; ``{article}`` and
``{deadline}`` are filled from the rule profile in force), ``ok_when`` (English, for
``docs/metrics.md``) and ``grain``. Optional: ``deadline`` (a rule-profile deadline key),
``deadline_days`` (``required``, the default: every profile in force must give the key a number of
days; ``optional``: the metric's SQL handles a profile whose text sets no number, e.g. "及时") and
``category`` (the 督办 category: the metric's open items are listed by ``supervise``). A standing
metric also declares ``empty`` (required there, refused on an event metric): the sentence an agency
with nothing to count reads — why the indicator scores 0 and what to do (DESIGN §7a), e.g.
"本机构年内无已发布资源：目录要素完整率按常设义务计 0 分；请编制并发布公共数据资源目录".
A line indented after ``--`` continues the key above it. Steps (``-- step: name``) carry only
``grain``. Headers name no article and no number of days: those come from the rule profile
(DESIGN §5a). The keys and their values are validated by :class:`MetricHeader` (and
:class:`StepHeader`), pydantic models on the rules' strict base, as sqlmesh's ``ModelMeta`` validates
a model's header.

Everything else that lists metrics is derived here: :data:`METRICS`, :data:`FAMILIES`,
:data:`DEADLINE_METRICS`, :data:`SUPERVISION_CATEGORY`, :data:`DEADLINE_KEYS`, and the
metric table of ``docs/metrics.md`` (``python -m hzeval.metrics docs/metrics.md``).
The catalog is parsed on first use (:func:`registry`, cached), not at import: those names are
read-only views filled when first read. A bad declaration raises :class:`DeclarationError` then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from hzeval.errors import DeclarationError
from hzeval.rules import Strict, articles_for
from hzeval.util.lazy import LazyFrozenSet, LazyMapping, LazyTuple

_MARKER = re.compile(r"^-- (metric|step): (.*)$")
_KEY = re.compile(r"^-- ([a-z_]+):(?: (.*))?$")
_CONTINUED = re.compile(r"^--\s{2,}(\S.*)$")
_IDENT_PATTERN = r"^[a-z][a-z0-9_]*$"
_IDENT = re.compile(_IDENT_PATTERN)
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_ARTICLE = re.compile(r"第[一二三四五六七八九十百零]+条")


class MetricHeader(Strict):
    """The declaration of a metric block: the ``-- key: value`` lines under ``-- metric: <id>``."""

    name: str
    kind: Literal["rate", "count"]
    charged_to: str
    obligation: Literal["standing", "event"]
    doc: str
    suggestion: str
    ok_when: str
    grain: str
    #: a rule-profile deadline key
    deadline: str | None = Field(None, pattern=_IDENT_PATTERN)
    #: ``optional``: the metric's SQL handles a profile whose text sets no number of days ("及时")
    deadline_days: Literal["required", "optional"] = "required"
    #: the 督办 category (the metric's open items are listed by ``supervise``)
    category: str | None = None
    #: standing metrics: why nothing to count scores 0 and what to do (an agency's 0/0 reads this)
    empty: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _consistent(self):
        if "deadline_days" in self.model_fields_set and self.deadline is None:
            raise PydanticCustomError("deadline_days_without_deadline", "deadline_days without a deadline key")
        if (self.obligation == "standing") != (self.empty is not None):
            raise PydanticCustomError("empty_obligation", "empty is required on a standing metric, refused on others")
        if _ARTICLE.search(" ".join(str(getattr(self, k)) for k in self.model_fields_set)):
            raise PydanticCustomError("article_in_header", "headers name no article")
        return self


class StepHeader(Strict):
    """The declaration of a step block (``-- step: <name>``): its grain only."""

    grain: str | None = None


REQUIRED = tuple(k for k, f in MetricHeader.model_fields.items() if f.is_required())
OPTIONAL = tuple(k for k, f in MetricHeader.model_fields.items() if not f.is_required())
STEP_KEYS = tuple(StepHeader.model_fields)
KINDS = ("rate", "count")
OBLIGATIONS = ("standing", "event")


@dataclass(frozen=True)
class Block:
    """One named SQL block of a family file: a metric (yields items) or a step (builds a temp table)."""

    kind: str  # "metric" | "step"
    name: str
    sql: str
    family: str
    line: int = 0
    header: dict[str, str] = field(default_factory=dict, compare=False)
    #: the validated header (metric blocks; None for steps and blocks built by hand)
    meta: MetricHeader | None = field(default=None, compare=False)

    @property
    def params(self) -> set[str]:
        return set(_PARAM.findall(self.sql))


@dataclass(frozen=True)
class Metric:
    id: str
    name_zh: str
    charged_to: str
    family: str
    kind: str  # "rate" | "count"
    obligation: str  # "standing" | "event"
    #: rule-profile deadline key (working days) this metric's items are due by, if any
    deadline: str | None = None
    #: False when the metric's SQL handles a deadline without a number of days ("及时")
    deadline_days_required: bool = True
    #: 督办 category: open items of this metric are listed by ``supervise``
    category: str | None = None
    doc: str = ""
    suggestion: str = ""
    ok_when: str = ""
    grain: str = ""
    #: standing metrics: the sentence for an agency with nothing to count (why 0, what to do)
    empty: str = ""

    @property
    def standing(self) -> bool:
        return self.obligation == "standing"

    @property
    def articles(self) -> tuple[str, ...]:
        """Articles the metric enforces, from the packaged default rule profile (a run's own: ``hzeval.rules``)."""
        return articles_for(self.id)

    @property
    def article_zh(self) -> str:
        return "、".join(self.articles)


def _err(path: str, line: int, zh: str, en: str, key: str | None = None) -> DeclarationError:
    return DeclarationError(f"{path} 第 {line} 行：{zh}", f"{path} line {line}: {en}", file=path, line=line, key=key)


def parse_family(text: str, family: str, path: str | None = None) -> tuple[Block, ...]:
    """Split a family file into blocks and validate each block's header."""
    path = path or f"hzeval/metrics/sql/{family}.sql"
    lines = text.splitlines()
    blocks: list[Block] = []
    current: dict | None = None

    def close(end: int) -> None:
        if current is None:
            return
        sql = "\n".join(lines[current["body"] : end]).strip()
        # drop trailing comment-only lines (they introduce the next block) and the semicolon
        body = [ln for ln in sql.splitlines()]
        while body and (not body[-1].strip() or body[-1].lstrip().startswith("--")):
            body.pop()
        sql = "\n".join(body).strip().rstrip(";").strip()
        if not sql:
            raise _err(
                path,
                current["line"],
                f"{current['kind']} {current['name']} 的声明后没有 SQL",
                f"{current['kind']} {current['name']}: header without a SQL block",
            )
        blocks.append(
            Block(current["kind"], current["name"], sql, family, current["line"], current["header"], current["meta"])
        )

    i = 0
    while i < len(lines):
        ln = lines[i]
        m = _MARKER.match(ln)
        if not m:
            if current is None and ln.strip() and not ln.lstrip().startswith("--"):
                raise _err(
                    path,
                    i + 1,
                    "SQL 语句前没有 -- metric: 或 -- step: 声明",
                    "SQL without a '-- metric:' or '-- step:' header",
                )
            i += 1
            continue
        close(i)
        kind, name = m.group(1), m.group(2).strip()
        if not _IDENT.match(name):
            raise _err(path, i + 1, f"名称 {name!r} 无效（小写字母、数字、下划线）", f"invalid {kind} id {name!r}")
        header: dict[str, str] = {}
        key_lines: dict[str, int] = {}
        start = i + 1
        i += 1
        last = None
        while i < len(lines):
            ln = lines[i]
            if _MARKER.match(ln):
                break
            c = _CONTINUED.match(ln)
            if c and last is not None:
                header[last] += " " + c.group(1).strip()
                i += 1
                continue
            k = _KEY.match(ln)
            if not k:
                break
            key, val = k.group(1), (k.group(2) or "").strip()
            if key in header:
                raise _err(
                    path, i + 1, f"{kind} {name} 的声明重复了键 {key!r}", f"{kind} {name}: header key {key!r} twice"
                )
            if not val:
                raise _err(
                    path, i + 1, f"{kind} {name} 的声明键 {key!r} 没有值", f"{kind} {name}: header key {key!r} is empty"
                )
            header[key] = val
            key_lines[key] = i + 1
            last = key
            i += 1
        meta = _validate_header(path, start, kind, name, header, key_lines)
        current = {"kind": kind, "name": name, "header": header, "meta": meta, "line": start, "body": i}
    close(len(lines))
    return tuple(blocks)


#: the order header errors are reported in when a header has several
_FIELD_ORDER = ("kind", "obligation", "deadline_days", "deadline")


def _validate_header(
    path: str, line: int, kind: str, name: str, header: dict[str, str], key_lines: dict[str, int]
) -> MetricHeader | None:
    """The header validated by :class:`MetricHeader` (metrics) or :class:`StepHeader` (steps); the first
    problem as a :class:`DeclarationError` naming the file, the line (of the key, when one key is at
    fault) and the key."""
    model = MetricHeader if kind == "metric" else StepHeader
    try:
        meta = model.model_validate(header)
    except ValidationError as exc:
        raise _header_error(path, line, kind, name, exc.errors(), header, key_lines, tuple(model.model_fields)) from exc
    return meta if isinstance(meta, MetricHeader) else None


def _header_error(
    path: str,
    line: int,
    kind: str,
    name: str,
    errors,
    header: dict[str, str],
    key_lines: dict[str, int],
    allowed: tuple[str, ...],
) -> DeclarationError:
    def key_of(e) -> str | None:
        return str(e["loc"][0]) if e["loc"] else None

    def line_of(e) -> int:
        key = key_of(e)
        return key_lines.get(key, line) if key is not None else line

    extra = sorted((line_of(e), key_of(e)) for e in errors if e["type"] == "extra_forbidden")
    if extra:
        at, key = extra[0]
        return _err(
            path,
            at,
            f"{kind} {name} 的声明有未知键 {key!r}（可用：{', '.join(allowed)}）",
            f"{kind} {name}: unknown header key {key!r} (allowed: {', '.join(allowed)})",
            key=key,
        )
    # a "missing" error always names its field
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing"]
    if missing:
        return _err(
            path,
            line,
            f"指标 {name} 的声明缺少 {', '.join(missing)}",
            f"metric {name}: header lacks {', '.join(missing)}",
            key=missing[0],
        )
    by_key = {key_of(e): e for e in errors}
    key = next((k for k in _FIELD_ORDER if k in by_key), key_of(errors[0]))
    e = by_key.get(key, errors[0])
    value = header.get(key) if key else None
    if e["type"] == "deadline_days_without_deadline":
        return _err(
            path,
            line,
            f"指标 {name} 声明了 deadline_days 却没有 deadline",
            f"metric {name}: deadline_days without a deadline key",
            key="deadline_days",
        )
    if e["type"] == "empty_obligation":
        return _err(
            path,
            line,
            f"指标 {name}：常设义务（obligation: standing）须声明 empty（无可计事项时为何计 0 分、应当怎么做），"
            "其他指标不得声明",
            f"metric {name}: a standing metric declares empty (why nothing to count scores 0 and what to do); "
            "other metrics do not",
            key="empty",
        )
    if e["type"] == "article_in_header":
        return _err(
            path,
            line,
            f"指标 {name} 的声明不得写条款号（条款来自规则配置）",
            f"metric {name}: headers name no article (articles come from the rule profile)",
        )
    if key == "kind":
        return _err(
            path,
            line,
            f"指标 {name} 的 kind 须为 rate 或 count，得到 {value!r}",
            f"metric {name}: kind must be rate or count, not {value!r}",
            key=key,
        )
    if key == "obligation":
        return _err(
            path,
            line,
            f"指标 {name} 的 obligation 须为 standing 或 event，得到 {value!r}",
            f"metric {name}: obligation must be standing or event, not {value!r}",
            key=key,
        )
    if key == "deadline_days":
        return _err(
            path,
            line,
            f"指标 {name} 的 deadline_days 须为 required 或 optional",
            f"metric {name}: deadline_days must be required or optional",
            key=key,
        )
    if key == "deadline":
        return _err(
            path,
            line,
            f"指标 {name} 的 deadline {value!r} 无效",
            f"metric {name}: invalid deadline key {value!r}",
            key=key,
        )
    at = key_lines.get(key, line) if key else line
    return _err(
        path,
        at,
        f"{kind} {name} 的声明键 {key!r} 无效：{e['msg']}",
        f"{kind} {name}: header key {key!r}: {e['msg']}",
        key=key,
    )


def _sql_dir():
    return resources.files("hzeval.metrics").joinpath("sql")


def _family_names() -> tuple[str, ...]:
    return tuple(
        sorted(p.name[:-4] for p in _sql_dir().iterdir() if p.name.endswith(".sql") and not p.name.startswith("_"))
    )


@cache
def load_blocks(family: str) -> tuple[Block, ...]:
    text = _sql_dir().joinpath(f"{family}.sql").read_text(encoding="utf-8")
    return parse_family(text, family)


def build_metrics(blocks_by_family: dict[str, tuple[Block, ...]]) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for family, blocks in blocks_by_family.items():
        for b in blocks:
            if b.kind != "metric":
                continue
            if b.name in out:
                raise _err(
                    f"hzeval/metrics/sql/{family}.sql",
                    b.line,
                    f"指标 {b.name} 已在 {out[b.name].family}.sql 声明",
                    f"metric {b.name} is already declared in {out[b.name].family}.sql",
                )
            h = b.meta if b.meta is not None else MetricHeader.model_validate(b.header)
            out[b.name] = Metric(
                id=b.name,
                name_zh=h.name,
                charged_to=h.charged_to,
                family=family,
                kind=h.kind,
                obligation=h.obligation,
                deadline=h.deadline,
                deadline_days_required=h.deadline_days == "required",
                category=h.category,
                doc=h.doc,
                suggestion=h.suggestion,
                ok_when=h.ok_when,
                grain=h.grain,
                empty=h.empty or "",
            )
    return out


#: the metric whose items are the year's incidents (one per ``incidents`` record): what a veto rests
#: on — assess counts its unexcused items, a run's reader names them from its evidence
VETO_METRIC = "security_incidents"


@dataclass(frozen=True)
class Registry:
    """The catalog and the lists derived from it."""

    families: tuple[str, ...]
    metrics: dict[str, Metric]
    supervision_category: dict[str, str]
    deadline_metrics: tuple[str, ...]
    deadline_keys: tuple[str, ...]
    standing: frozenset[str]


@cache
def registry() -> Registry:
    """The catalog, parsed from ``sql/*.sql`` on first use (not at import); a bad declaration raises
    :class:`DeclarationError` here."""
    families = _family_names()
    load_blocks("_staging")  # a malformed staging file fails with the catalog too
    metrics = build_metrics({f: load_blocks(f) for f in families})
    if VETO_METRIC not in metrics or metrics[VETO_METRIC].kind != "count":
        raise DeclarationError(
            f"没有声明一票否决所依据的计数指标 {VETO_METRIC}",
            f"no count metric {VETO_METRIC} (the incidents a veto rests on) is declared",
            key=VETO_METRIC,
        )
    category = {m.id: m.category for m in metrics.values() if m.category}
    return Registry(
        families=families,
        metrics=metrics,
        supervision_category=category,
        deadline_metrics=tuple(category),
        deadline_keys=tuple(sorted({m.deadline for m in metrics.values() if m.deadline})),
        standing=frozenset(m.id for m in metrics.values() if m.standing),
    )


# The names users import: read-only views of registry(), built when first read.
#: metric families (the ``sql/<family>.sql`` files, staging aside)
FAMILIES: Sequence[str] = LazyTuple(lambda: registry().families)
#: every metric by id, in family and file order
METRICS: Mapping[str, Metric] = LazyMapping(lambda: registry().metrics)
#: metrics whose open items ``supervise`` lists, with their 督办 category
SUPERVISION_CATEGORY: Mapping[str, str] = LazyMapping(lambda: registry().supervision_category)
#: metrics whose items carry a deadline (used by supervision)
DEADLINE_METRICS: Sequence[str] = LazyTuple(lambda: registry().deadline_metrics)
#: rule-profile deadline keys the metric SQL uses
DEADLINE_KEYS: Sequence[str] = LazyTuple(lambda: registry().deadline_keys)
#: standing obligations (a 0 denominator scores 0 points)
STANDING: AbstractSet[str] = LazyFrozenSet(lambda: registry().standing)


# ---------------------------------------------------------------------- docs/metrics.md

BEGIN = "<!-- generated by `python -m hzeval.metrics docs/metrics.md`: do not edit below -->"
END = "<!-- end of generated metric table -->"


def _cell(s: str | None) -> str:
    return (s or "").replace("|", "\\|").replace("\n", " ")


def render_table() -> str:
    """The metric table of ``docs/metrics.md``, from the declarations."""
    out = [
        "| id | 名称 | family | kind | obligation | charged to | deadline key | item (grain) | ok when |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fam in FAMILIES:
        for m in METRICS.values():
            if m.family == fam:
                out.append(
                    "| "
                    + " | ".join(
                        _cell(x)
                        for x in (
                            m.id,
                            m.name_zh,
                            m.family,
                            m.kind,
                            m.obligation,
                            m.charged_to,
                            m.deadline or "",
                            m.grain,
                            m.ok_when,
                        )
                    )
                    + " |"
                )
    return "\n".join(out)


def render_markdown(existing: str) -> str:
    """``existing`` (docs/metrics.md) with its generated section replaced."""
    if BEGIN not in existing or END not in existing:
        raise DeclarationError("docs/metrics.md 缺少生成区标记", "docs/metrics.md lacks the generated-section markers")
    head, rest = existing.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{render_table()}\n\n{END}{tail}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(render_table())
        return 0
    path = Path(argv[0])
    new = render_markdown(path.read_text(encoding="utf-8"))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)
    return 0
