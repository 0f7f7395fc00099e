"""Run the metric SQL against the warehouse.

Layers (dbt-style): ``sql/_staging.sql`` (snapshot of the year, authority, first
successes) → family files (one block per metric, yielding items) → the generic
roll-up here (``metric_items`` → ``metric_values`` and ``evidence``).

Each metric block yields one row per item with the columns ``ITEM_COLUMNS`` (a deadline block also
``rule_profile`` and ``article``, from the rule profile joined by trigger date). Status is
``ok`` / ``late`` / ``fail`` / ``pending``, ``exempt`` (filed with the authority, 第十八条第二款: in no
rate, kept as evidence) or ``uncovered`` (its deadline falls in a year the calendar lacks →
:class:`CalendarError`). For count metrics every row is one
violation.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import polars as pl

from hzeval.errors import CalendarError
from hzeval.metrics.registry import FAMILIES, METRICS, Block, load_blocks
from hzeval.rules import RuleSet, default_rules, install
from hzeval.store.calendar import first_uncovered_year
from hzeval.util.frame import frame

log = logging.getLogger(__name__)

ITEM_COLUMNS = ("agency_code", "record_table", "record_id", "status", "reason", "due_at", "done_at", "num", "den")

#: ``duty_status``: a duty whose deadline only a rule profile may give (the draft sets no number): with
#: ``days`` timed as any item (``item_status``); without, done (``ok``) or not (``fail``), never uncovered.
#: (No SQL comments inside: the Spark engine splits the script at ``; create``.)
MACROS = """
create or replace temp macro known(ts, as_of) as case when ts <= as_of then ts end;
create or replace temp macro item_status(done, due, as_of) as case
    when due is null then 'uncovered'
    when done is not null and done <= as_of then case when done <= due then 'ok' else 'late' end
    when as_of > due then 'late'
    else 'pending' end;
create or replace temp macro duty_status(done, due, days, as_of) as case
    when days is not null then item_status(done, due, as_of)
    when done is not null then 'ok'
    else 'fail' end;
create or replace temp macro deadline_reason(status, done, trigger_at, open_msg, late_msg) as case status
    when 'uncovered' then cast(cast(trigger_at as date) as varchar)  -- read by the calendar check
    when 'late' then case when done is null then open_msg else late_msg end end;
create or replace temp macro period_step(freq) as case freq
    when '每日' then interval 1 day when '每周' then interval 7 day when '每月' then interval 1 month
    when '每季度' then interval 3 month when '每半年' then interval 6 month when '每年' then interval 1 year end;
create or replace temp macro period_start(freq, ts) as case freq
    when '每日' then date_trunc('day', ts) when '每周' then date_trunc('week', ts)
    when '每月' then date_trunc('month', ts) when '每季度' then date_trunc('quarter', ts)
    when '每半年' then date_trunc('year', ts) + case when month(ts) > 6 then interval 6 month else interval 0 month end
    when '每年' then date_trunc('year', ts) end;
create or replace temp macro period_label(freq, ts) as case freq
    when '每日' then strftime(ts, '%Y-%m-%d') when '每周' then strftime(ts, '%G-W%V')
    when '每月' then strftime(ts, '%Y-%m') when '每季度' then strftime(ts, '%Y') || 'Q' || quarter(ts)
    when '每半年' then strftime(ts, '%Y') || case when month(ts) > 6 then 'H2' else 'H1' end
    when '每年' then strftime(ts, '%Y') end;
"""


@dataclass
class Window:
    """What to measure: items triggered in [start, end) and known at ``as_of``."""

    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    year: int | None = None
    #: the rule profiles in force by date (default: the packaged draft profile)
    rules: RuleSet = field(default_factory=default_rules)
    open_plan_due: dt.datetime | None = None
    security_required: dict[str, int] = field(default_factory=dict)
    #: submissions the 本级 authority must review in time (the rules time the review of updates, not of
    #: first compilations)
    review_events: tuple[str, ...] = ("变更提交", "下架提交")
    #: update_timeliness counts 实时 as this frequency (scheme ``realtime_as``)
    realtime_as: str = "每日"
    #: usage_feedback's period in months: 3 (季度), 6 (半年) or 12 (年) (scheme ``feedback_period``)
    feedback_months: int = 3
    #: project_gate: G2–G4 checked at the acceptance request or at acceptance (scheme ``gate_checked_at``)
    gate_checked_at: str = "requested"
    #: project_gate G4: 不予共享 with basis and filing passes (scheme ``gate_nonshare_filed_passes``)
    gate_nonshare_filed_passes: bool = True

    @classmethod
    def for_year(cls, year: int, as_of: dt.datetime, scheme) -> "Window":
        return cls(
            start=dt.datetime(year, 1, 1),
            end=dt.datetime(year + 1, 1, 1),
            as_of=as_of,
            year=year,
            rules=scheme.ruleset,
            open_plan_due=scheme.open_plan_due_at(year),
            security_required=dict(scheme.security_required),
            review_events=tuple(scheme.catalog_review_events),
            realtime_as=scheme.realtime_as,
            feedback_months=scheme.feedback_months,
            gate_checked_at=scheme.gate_checked_at,
            gate_nonshare_filed_passes=scheme.gate_nonshare_filed_passes,
        )

    def params(self) -> dict:
        cutoff = min(self.end, self.as_of)
        p = {
            "year_start": self.start,
            "year_end": self.end,
            "as_of": self.as_of,
            "cutoff": cutoff,
            "snapshot_limit": min((self.end - dt.timedelta(days=1)).date(), self.as_of.date()),
            "year": self.year if self.year is not None else self.as_of.year,
            "open_plan_due": self.open_plan_due or dt.datetime(self.as_of.year, 4, 1),
            "review_events": list(self.review_events),
            "realtime_as": self.realtime_as,
            "feedback_months": self.feedback_months,
            "gate_checked_at": self.gate_checked_at,
            "gate_nonshare_filed_passes": self.gate_nonshare_filed_passes,
        }
        return p

    @property
    def rules_day(self) -> dt.date:
        """The day whose profile gives the articles of items without a trigger-dated rule: the
        window's last day (or the as-of day, if earlier)."""
        return (min(self.end, self.as_of + dt.timedelta(microseconds=1)) - dt.timedelta(microseconds=1)).date()


def run_block(con, block: Block, params: dict):
    missing = block.params - params.keys()
    if missing:
        raise KeyError(f"{block.family}.sql/{block.name} needs parameters {sorted(missing)}")
    bound = {k: params[k] for k in block.params}
    con.execute(block.sql, bound)


def prepare(con, window: Window) -> None:
    """Macros, scheme and rule tables and the staging layer for one window (temp objects only)."""
    con.execute(MACROS)
    install(con, window.rules)
    req = pl.DataFrame(
        {"record_type": list(window.security_required), "required": list(window.security_required.values())},
        schema={"record_type": pl.String, "required": pl.Int64},
    )
    con.register("_req", req.to_arrow())
    con.execute("create or replace temp table scheme_security_required as select * from _req")
    con.unregister("_req")
    params = window.params()
    for b in load_blocks("_staging"):
        run_block(con, b, params)


def compute_items(con, window: Window, metric_ids=None) -> None:
    """Fill temp table ``metric_items`` (metric_id + ITEM_COLUMNS + adjustment_id) for the window.

    The blocks read the input tables as ``con`` sees them: an assessment applies its adjustments
    around this call (:func:`hzeval.assessment.adjust.compute_adjusted_items`: corrected records shadow
    the loaded ones before, excuses mark items after); ``adjustment_id`` stays NULL here.
    """
    prepare(con, window)
    params = window.params()
    con.execute(
        "create or replace temp table metric_items (metric_id varchar, agency_code varchar, record_table varchar, "
        "record_id varchar, status varchar, reason varchar, due_at timestamp, done_at timestamp, "
        "num double, den double, adjustment_id varchar, rule_profile varchar, article varchar)"
    )
    wanted = set(metric_ids) if metric_ids is not None else set(METRICS)
    unknown = wanted - set(METRICS)
    if unknown:
        raise KeyError(f"no SQL block declares metrics {sorted(unknown)}")
    for fam in FAMILIES:
        for b in load_blocks(fam):
            if b.kind == "step":
                run_block(con, b, params)
            elif b.name in wanted:
                # by name: a deadline block adds rule_profile and article (joined by trigger date)
                insert = Block(
                    b.kind,
                    b.name,
                    f"insert into metric_items by name select $metric_id as metric_id, * from (\n{b.sql}\n)",
                    b.family,
                )
                run_block(con, insert, {**params, "metric_id": b.name})
    # items without a trigger-dated rule take the metric's articles under the profile in force on the
    # window's last day (joined where items are read: evidence, supervision; no update of every item)
    con.execute(
        """
        create or replace temp table rule_articles_now as
        select metric_id, profile, article from rule_articles where $day >= valid_from and $day < valid_to
        """,
        {"day": window.rules_day},
    )
    check_calendar(con)


def statements(window: Window, metric_ids=None):
    """The blocks another engine runs for ``window``, in order, with their bound parameters:
    the staging steps, then each family's steps and wanted metrics (as :func:`compute_items`)."""
    params = window.params()
    wanted = set(metric_ids) if metric_ids is not None else set(METRICS)
    for b in load_blocks("_staging"):
        yield b, params
    for fam in FAMILIES:
        for b in load_blocks(fam):
            if b.kind == "step" or b.name in wanted:
                yield b, {**params, "metric_id": b.name}


def check_calendar(con) -> None:
    """A :class:`CalendarError` for the earliest item whose deadline falls in a year the calendar lacks."""
    rows = con.execute(
        "select metric_id, min(reason) from metric_items where status = 'uncovered' group by 1 order by 2 limit 1"
    ).fetchall()
    if not rows:
        return
    metric_id, trigger = rows[0]
    years = {r[0] for r in con.execute("select distinct year from calendar").fetchall()}
    trigger_year = int(str(trigger)[:4]) if trigger else max(years)
    year = trigger_year if trigger_year not in years else first_uncovered_year(years, trigger_year)
    raise CalendarError(year, f"{METRICS[metric_id].name_zh}的期限，触发日 {trigger}")


def roll_up(con, run_id: str, year: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``metric_values`` (every registered agency × metric) and ``evidence`` frames from ``metric_items``."""
    kinds = pl.DataFrame({"metric_id": list(METRICS), "kind": [m.kind for m in METRICS.values()]})
    con.register("_kinds", kinds.to_arrow())
    values = frame(
        con,
        """
        with items as (
            select
                i.metric_id, i.agency_code, i.status,
                case when i.status = 'excused' then 0
                     else coalesce(i.num, case when i.status = 'ok' then 1 else 0 end) end as num,
                case when i.status = 'excused' then 0
                     else coalesce(i.den, case when i.status in ('ok', 'late', 'fail') then 1 else 0 end) end as den
            from metric_items as i
        ),
        grid as (
            select a.agency_code, k.metric_id, k.kind
            from (select agency_code from agencies union select distinct agency_code from metric_items) as a
            cross join _kinds as k
        ),
        agg as (
            select metric_id, agency_code,
                   sum(num) as numerator, sum(den) as denominator,
                   count(*) filter (where status in ('late', 'fail')) as failed
            from items
            group by all
        )
        select
            $run_id as run_id, $year as year, g.agency_code, g.metric_id,
            case when g.kind = 'rate' then coalesce(a.numerator, 0) end as numerator,
            case when g.kind = 'rate' then coalesce(a.denominator, 0) end as denominator,
            case when g.kind = 'rate' and a.denominator > 0 then a.numerator / a.denominator end as value,
            coalesce(a.failed, 0) as count
        from grid as g
        left join agg as a using (metric_id, agency_code)
        where g.agency_code is not null
        order by g.agency_code, g.metric_id
        """,
        {"run_id": run_id, "year": year},
    )
    con.unregister("_kinds")
    evidence = frame(
        con,
        """
        select $run_id as run_id, i.metric_id, i.agency_code, i.record_table, i.record_id,
               i.reason, i.due_at, i.done_at, i.adjustment_id,
               coalesce(i.rule_profile, r.profile) as rule_profile, coalesce(i.article, r.article) as article
        from metric_items as i
        left join rule_articles_now as r using (metric_id)
        where i.status in ('late', 'fail', 'exempt') or i.adjustment_id is not null
        order by i.metric_id, i.agency_code, i.record_id
        """,
        {"run_id": run_id},
    )
    return values, evidence
