"""Disputes and adjustments (provision ``disputes`` of the rule profile): excuse an evidence item
or correct a record for scoring.

Nothing is deleted. ``adjustments`` holds each proposal (immutable) and
``adjustment_events`` its history (proposed → approved → revoked), each with who and when.
An adjustment is *active* once approved by someone other than its evaluator and until
revoked. ``assess`` applies the active ones around the metric engine (:func:`compute_adjusted_items`;
the engines themselves know nothing of adjustments) and lists them in ``run_adjustments``:

- ``excuse``: the evidence item (metric, record) is taken out of the rate and the counts
  (status ``excused``) and stays visible in ``evidence`` with its ``adjustment_id``;
- ``correct``: one column of one input record is read with a corrected value for scoring
  (a temporary shadow of the table; the loaded record itself is untouched). Items computed
  from a corrected record carry its ``adjustment_id`` in ``evidence``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import polars as pl

from hzeval.contract import TABLES
from hzeval.errors import AdjustmentError
from hzeval.ingest.normalize import clean, parse_column
from hzeval.metrics import Window
from hzeval.metrics.registry import METRICS
from hzeval.util.frame import frame, scalar

log = logging.getLogger(__name__)


STATUS_SQL = """
select
    a.*,
    (select max(acted_at) from adjustment_events e
        where e.adjustment_id = a.adjustment_id and e.action = 'approve') as approved_at,
    (select any_value(actor) from adjustment_events e
        where e.adjustment_id = a.adjustment_id and e.action = 'approve') as approver,
    (select max(acted_at) from adjustment_events e
        where e.adjustment_id = a.adjustment_id and e.action = 'revoke') as revoked_at,
    (select any_value(actor) from adjustment_events e
        where e.adjustment_id = a.adjustment_id and e.action = 'revoke') as revoked_by
from adjustments as a
"""


def _now() -> dt.datetime:
    return dt.datetime.now()


def _next_id(con) -> str:
    n = scalar(con, "select count(*) from adjustments") + 1
    return f"ADJ-{n:04d}"


def _event(con, adjustment_id: str, action: str, actor: str, note: str | None) -> None:
    con.execute(
        "insert into adjustment_events values ($id, $action, $actor, $at, $note)",
        {"id": adjustment_id, "action": action, "actor": actor, "at": _now(), "note": note},
    )


def _require(value: str | None, zh: str, en: str) -> str:
    if value is None or not str(value).strip():
        raise AdjustmentError(f"缺少{zh}", f"missing {en}")
    return str(value).strip()


#: the conditions of 第四十六条 (容错免责), all of which must hold: "决策符合国家确定的改革方向，程序符合法律、
#: 法规和本细则的要求，有关单位和个人履行了勤勉尽责义务，且未非法牟取私利、恶意串通损害公共利益或他人合法权益".
#: An excuse that records all four cites the article (the profile's provision ``tolerance``); any other
#: excuse is the scheme's review procedure and cites the scheme (DESIGN §5b).
TOLERANCE_CONDITIONS = ("符合改革方向", "程序合规", "勤勉尽责", "未谋私利")


def tolerance_text(conditions) -> str | None:
    """The recorded 第四十六条 conditions as stored (in :data:`TOLERANCE_CONDITIONS` order), or None for none;
    an unknown condition or an incomplete set is refused: the article applies only when all hold."""
    given = [str(c).strip() for c in (conditions or ()) if str(c).strip()]
    if not given:
        return None
    unknown = sorted(set(given) - set(TOLERANCE_CONDITIONS))
    if unknown:
        raise AdjustmentError(
            f"未知的容错免责条件 {'、'.join(unknown)}（可用：{'、'.join(TOLERANCE_CONDITIONS)}）",
            f"unknown tolerance condition(s) {unknown}",
        )
    missing = [c for c in TOLERANCE_CONDITIONS if c not in given]
    if missing:
        raise AdjustmentError(
            f"容错免责须四项条件同时具备，缺少：{'、'.join(missing)}；不具备的请不登记条件，按方案复核豁免",
            f"tolerance needs all four conditions, missing {missing}; otherwise excuse without conditions",
        )
    return "；".join(TOLERANCE_CONDITIONS)


def propose_excuse(
    con,
    *,
    metric_id: str,
    record_id: str,
    reason: str,
    evaluator: str,
    agency_code: str | None = None,
    record_table: str | None = None,
    tolerance=(),
) -> str:
    """Propose excusing one evidence item of a metric (as listed in ``evidence``); ``tolerance``: the
    第四十六条 conditions the evaluator records as met (all of :data:`TOLERANCE_CONDITIONS`, or none)."""
    if metric_id not in METRICS:
        raise AdjustmentError(f"未知指标 {metric_id}", f"unknown metric {metric_id!r}", metric=metric_id)
    reason = _require(reason, "理由", "reason")
    evaluator = _require(evaluator, "评估人员", "evaluator")
    conditions = tolerance_text(tolerance)
    adj_id = _next_id(con)
    con.execute(
        "insert into adjustments (adjustment_id, kind, metric_id, agency_code, record_table, record_id, column_name,"
        " new_value, reason, evaluator, created_at, tolerance) values"
        " ($id, 'excuse', $metric, $agency, $table, $record, null, null, $reason, $by, $at, $tolerance)",
        {
            "tolerance": conditions,
            "id": adj_id,
            "metric": metric_id,
            "agency": agency_code,
            "table": record_table,
            "record": _require(record_id, "记录编号", "record id"),
            "reason": reason,
            "by": evaluator,
            "at": _now(),
        },
    )
    _event(con, adj_id, "propose", evaluator, reason)
    return adj_id


def propose_correction(
    con, *, table: str, record_id: str, column: str, value: str | None, reason: str, evaluator: str
) -> str:
    """Propose reading one column of one record (by its single-column key) with ``value``."""
    t = TABLES.get(table)
    if t is None or table == "calendar_overrides":
        raise AdjustmentError(f"不能更正表 {table}", f"table {table!r} cannot be corrected", table=table)
    if len(t.key) != 1:
        raise AdjustmentError(
            f"表 {table} 的记录由多列（{', '.join(t.key)}）确定，不能更正，请改用豁免（excuse）",
            f"table {table} has a composite key ({', '.join(t.key)}); excuse the evidence item instead",
            table=table,
        )
    if column not in t.names or column in t.key:
        raise AdjustmentError(
            f"表 {table} 没有可更正的列 {column}",
            f"table {table} has no correctable column {column!r}",
            table=table,
            column=column,
        )
    exists = scalar(con, f"select count(*) from {table} where {t.key[0]} = $id", {"id": record_id})
    if not exists:
        raise AdjustmentError(f"表 {table} 中没有记录 {record_id}", f"no record {record_id!r} in {table}", table=table)
    parsed = parse_value(table, column, value)
    reason = _require(reason, "理由", "reason")
    evaluator = _require(evaluator, "评估人员", "evaluator")
    adj_id = _next_id(con)
    con.execute(
        "insert into adjustments (adjustment_id, kind, metric_id, agency_code, record_table, record_id, column_name,"
        " new_value, reason, evaluator, created_at) values"
        " ($id, 'correct', null, null, $table, $record, $column, $value, $reason, $by, $at)",
        {
            "id": adj_id,
            "table": table,
            "record": record_id,
            "column": column,
            "value": None if parsed is None else str(parsed),
            "reason": reason,
            "by": evaluator,
            "at": _now(),
        },
    )
    _event(con, adj_id, "propose", evaluator, reason)
    return adj_id


def parse_value(table: str, column: str, value: str | None):
    """Parse a corrected value with the same rules as ingest (all DESIGN §3 formats)."""
    if value is None or not str(value).strip():
        return None
    col = TABLES[table].column(column)
    expr, reason = parse_column(col, clean(pl.col("v"), True))
    out = pl.DataFrame({"v": [str(value)]}).select(expr.alias("v"))["v"][0]
    if out is None:
        raise AdjustmentError(
            f"{column} 的值 {value!r} 无法解析（{reason}）", f"cannot parse {value!r} for {column}", column=column
        )
    return out


def get(con, adjustment_id: str) -> dict:
    rows = frame(con, STATUS_SQL + " where a.adjustment_id = $id", {"id": adjustment_id})
    if rows.is_empty():
        raise AdjustmentError(f"没有调整 {adjustment_id}", f"no adjustment {adjustment_id!r}")
    return rows.row(0, named=True)


def approve(con, adjustment_id: str, approver: str, note: str | None = None) -> None:
    adj = get(con, adjustment_id)
    approver = _require(approver, "审批人", "approver")
    if adj["revoked_at"] is not None:
        raise AdjustmentError(f"{adjustment_id} 已撤销", f"{adjustment_id} was revoked")
    if adj["approved_at"] is not None:
        raise AdjustmentError(f"{adjustment_id} 已审批", f"{adjustment_id} is already approved")
    if approver == adj["evaluator"]:
        raise AdjustmentError("审批人不能是提出人", "the approver must not be the evaluator who proposed it")
    _event(con, adjustment_id, "approve", approver, note)


def revoke(con, adjustment_id: str, actor: str, reason: str) -> None:
    adj = get(con, adjustment_id)
    if adj["revoked_at"] is not None:
        raise AdjustmentError(f"{adjustment_id} 已撤销", f"{adjustment_id} was already revoked")
    _event(con, adjustment_id, "revoke", _require(actor, "撤销人", "actor"), _require(reason, "理由", "reason"))


def list_adjustments(con) -> pl.DataFrame:
    return frame(con, STATUS_SQL + " order by a.adjustment_id")


#: ``adjustment_overview``'s columns, in order
OVERVIEW_COLUMNS = ("adjustment_id", "kind", "target", "reason", "evaluator", "approver", "state")


def adjustment_overview(con) -> pl.DataFrame:
    """``hzeval adjust list``: each adjustment with its kind (豁免 | 更正), what it targets, who proposed
    and approved it and its state (待审批 | 已生效 | 已撤销), as text."""
    rows = []
    for r in list_adjustments(con).iter_rows(named=True):
        excuse = r["kind"] == "excuse"
        target = (
            f"{r['metric_id']} {r['record_id']}"
            if excuse
            else f"{r['record_table']}.{r['column_name']} {r['record_id']} → {r['new_value']}"
        )
        state = "已撤销" if r["revoked_at"] else ("已生效" if r["approved_at"] else "待审批")
        rows.append(
            (
                r["adjustment_id"],
                "豁免" if excuse else "更正",
                target,
                r["reason"],
                r["evaluator"],
                r["approver"] or "",
                state,
            )
        )
    return pl.DataFrame(rows, schema={c: pl.String for c in OVERVIEW_COLUMNS}, orient="row")


def active(con, at: dt.datetime | None = None) -> pl.DataFrame:
    """Adjustments approved and not revoked at ``at`` (default now)."""
    at = at or _now()
    return frame(
        con,
        f"select * from ({STATUS_SQL}) where approved_at <= $at and (revoked_at is null or revoked_at > $at) "
        "order by adjustment_id",
        {"at": at},
    )


# --------------------------------------------------------------------------- application


def compute_adjusted_items(con, window: Window, adjustments: pl.DataFrame | None, compute: Callable[..., None]) -> None:
    """Temp table ``metric_items`` for ``window`` with ``adjustments`` (active rows) applied: the corrected
    records shadow the loaded ones while ``compute`` (an engine's ``compute_items(con, window)``, DuckDB's or
    Spark's) runs, and the excused items are marked after it."""
    apply_corrections(con, adjustments)
    compute(con, window)
    apply_excuses(con, adjustments)


def apply_corrections(con, adjustments: pl.DataFrame | None) -> None:
    """Shadow corrected input tables with temp copies holding the corrected values."""
    for name in TABLES:
        con.execute(f"drop table if exists temp.{name}")
    if adjustments is None or adjustments.is_empty():
        return
    corrections = adjustments.filter(pl.col("kind") == "correct")
    for table in corrections["record_table"].unique().sort().to_list():
        t = TABLES[table]  # validated on proposal: names below come from the contract, never from input
        con.execute(f"create temp table {table} as select * from main.{table}")
        for adj in corrections.filter(pl.col("record_table") == table).iter_rows(named=True):
            col = t.column(adj["column_name"])
            con.execute(
                f"update temp.{table} set {col.name} = cast($v as {col.sql_type}) where {t.key[0]} = $id",
                {"v": adj["new_value"], "id": adj["record_id"]},
            )


def apply_excuses(con, adjustments: pl.DataFrame | None) -> None:
    """Mark excused items and tag items touched by any adjustment (temp table ``metric_items``)."""
    con.execute("alter table metric_items add column if not exists adjustment_id varchar")
    if adjustments is None or adjustments.is_empty():
        return
    adj = adjustments.select("adjustment_id", "kind", "metric_id", "agency_code", "record_table", "record_id")
    con.register("_adj", adj.to_arrow())
    con.execute(
        """
        update metric_items as i
        set status = 'excused', adjustment_id = a.adjustment_id,
            reason = '已豁免（' || a.adjustment_id || '）：' || coalesce(i.reason, '')
        from _adj as a
        where a.kind = 'excuse' and a.metric_id = i.metric_id and a.record_id = i.record_id
          and (a.agency_code is null or a.agency_code = i.agency_code)
          and (a.record_table is null or a.record_table = i.record_table)
        """
    )
    con.execute(
        """
        update metric_items as i
        set adjustment_id = a.adjustment_id,
            reason = coalesce(i.reason || '；', '') || '按更正记录计算（' || a.adjustment_id || '）'
        from _adj as a
        where a.kind = 'correct' and a.record_table = i.record_table and a.record_id = i.record_id
        """
    )
    con.unregister("_adj")
