"""``hzeval notify``: 督办 notices by mail and group robot, each item and level sent once.

The items are :func:`hzeval.assessment.supervise.supervision_items` — the very SQL behind ``hzeval
supervise`` and the dashboard's 督办 page. An item is notified once as 即将到期 and once as
逾期; an overdue rectification not yet escalated (第四十七条 in the draft) is also sent to its authority's own
contacts (level 逾期上报). One message goes to each recipient of an agency (its contacts: mail
addresses and 企业微信 / 钉钉 robots) listing the items that recipient has not yet received.

Every attempt is a row in ``notices`` (status sent | failed), written right after the attempt.
The ledger is the memory: an item, level and recipient with a ``sent`` row is never sent again;
a robot post that fails in a way that may pass is tried once more within the run
(:func:`hzeval.notify.channels.send_robot`, 钉钉 signed with the robot's 加签 secret); after a
failure the recipient is retried on a later run, not before its ``next_attempt_at``
(15 minutes doubling per consecutive failure, at most a day; a robot is no longer attempted after
``ROBOT_MAX_FAILURES`` failures in a row), and a run with failed or waiting
deliveries ends non-zero. ``dry_run`` composes everything and writes and sends nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from hzeval.assessment.scheme import latest_scheme_for
from hzeval.assessment.supervise import supervision_items
from hzeval.errors import NotifyError
from hzeval.notify import channels
from hzeval.notify.channels import (
    CHANNEL_ZH,
    Mailer,
    SendError,
    SmtpConfig,
    dingtalk_secret,
    robot_kind,
    robot_label,
    send_robot,
    valid_email,
)
from hzeval.notify.compose import (
    OVERDUE,
    SOON,
    Notice,
    clean,
    deadline_text,
    html_body,
    plain_text,
    robot_markdown,
    robot_payload,
    subject,
)
from hzeval.rules import provision
from hzeval.store.published import NOTIFIED_FILE, published_dir
from hzeval.util.frame import frame

log = logging.getLogger(__name__)

BACKOFF_FIRST = dt.timedelta(minutes=15)
BACKOFF_MAX = dt.timedelta(days=1)
#: a robot failing this many times in a row is no longer attempted (a robot URL can point anywhere:
#: retries are bounded); a corrected URL is a new recipient and starts afresh
ROBOT_MAX_FAILURES = 5

__all__ = [
    "NotifyResult",
    "Outcome",
    "contact_gaps",
    "contact_problems",
    "notified_items",
    "publish_notified",
    "raise_for_failures",
    "send_notices",
    "summary_line",
]


def backoff(failures: int) -> dt.timedelta:
    """Wait after the ``failures``-th consecutive failure: 15 min, 30 min, 1 h, … at most 1 day."""
    return min(BACKOFF_FIRST * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


@dataclass
class Outcome:
    notice: Notice
    status: str  # sent | failed | waiting | stopped | dry-run
    error: str | None = None
    next_attempt_at: dt.datetime | None = None
    postponed: int = 0  # items that did not fit in a robot message: listed next run


@dataclass
class NotifyResult:
    as_of: dt.datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    #: agencies with items to notify and no usable contact: (code, name, items)
    unreached: list[tuple[str, str | None, int]] = field(default_factory=list)
    #: contacts that cannot be used: (agency code, contact name, reason)
    bad_contacts: list[tuple[str, str, str]] = field(default_factory=list)

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.by_status("failed") and not self.by_status("waiting") and not self.by_status("stopped")


# --------------------------------------------------------------------------- what to send


def _candidates(con, as_of: dt.datetime, agency: str | None, scheme) -> pl.DataFrame:
    """Items to notify: (target agency, level, item) rows from the supervision list, plus the
    escalations of overdue, unescalated rectifications to the responsible authority."""
    items = supervision_items(con, as_of, agency=agency, scheme=scheme)
    items = items.filter(pl.col("state").is_in([SOON, OVERDUE]))
    if items.is_empty():
        return items.with_columns(
            level=pl.lit(None, pl.String), target=pl.lit(None, pl.String), target_name=pl.lit(None, pl.String)
        )
    con.register("_notify_items", items.to_arrow())
    try:
        out = frame(
            con,
            """
            with authority as (   -- DESIGN §3: a 县区 agency's authority is its region's, else the 市级 one
                select a.agency_code,
                       coalesce(
                         (select min(c.agency_code) from agencies c where c.is_authority and a.level = '县区'
                            and c.level = '县区' and c.region = a.region),
                         (select min(c.agency_code) from agencies c where c.is_authority and c.level = '市级'),
                         (select min(c.agency_code) from agencies c where c.is_authority)) as authority_code
                from agencies a
            ),
            own as (
                select i.*, i.state as level, i.agency_code as target
                from _notify_items i where i.agency_code is not null
            ),
            escalations as (   -- 第四十七条: overdue rectifications not yet escalated at the as-of time
                select i.*, '逾期上报' as level, au.authority_code as target
                from _notify_items i
                join rectifications r on i.record_table = 'rectifications' and r.notice_id = i.record_id
                                     and r.agency_code = i.agency_code
                join authority au on au.agency_code = i.agency_code
                where i.metric_id = 'rectification_on_time' and i.state = '逾期'
                  and (r.escalated_at is null or r.escalated_at > $as_of)
                  and au.authority_code is not null and au.authority_code <> i.agency_code
            )
            select x.*, t.agency_name as target_name, mi.rule_profile
            from (select * from own union all by name select * from escalations) x
            left join agencies t on t.agency_code = x.target
            -- the rule profile each item's deadline came from (the metric SQL joined it by trigger day)
            left join metric_items mi on mi.metric_id = x.metric_id and mi.record_table = x.record_table
                                      and mi.record_id = x.record_id and mi.agency_code = x.agency_code
            order by x.target, x.level, x.due_at, x.record_id
        """,
            {"as_of": as_of},
        )
    finally:
        con.unregister("_notify_items")
    profiles = {s.profile.name: s.profile for s in scheme.ruleset.spans}
    # (metric, profile, article): a metric's items may quote different paragraphs (第二十八条 / 第二十八条第二款)
    pairs = out.select("metric_id", "rule_profile", "article", "due_date").unique(
        ["metric_id", "rule_profile", "article"]
    )
    texts = pl.DataFrame(
        [
            (m, p, a, deadline_text(m, profiles.get(p) or scheme.ruleset.in_force(d), a))
            for m, p, a, d in pairs.iter_rows()
        ],
        schema={"metric_id": pl.String, "rule_profile": pl.String, "article": pl.String, "deadline_text": pl.String},
        orient="row",
    )
    out = out.join(texts, on=["metric_id", "rule_profile", "article"], how="left", nulls_equal=True)
    return out.with_columns(
        pl.concat_str(
            [pl.col(c).fill_null("") for c in ("metric_id", "record_table", "record_id", "agency_code")], separator="|"
        ).alias("item_key"),  # the ledger's item key: metric|table|record|agency
    )


@dataclass(frozen=True)
class Recipient:
    channel: str
    recipient: str
    address: str
    contact_name: str


def _has_table(con, name: str) -> bool:
    """False for a warehouse made before the table existed, opened read-only (``--dry-run``)."""
    return bool(
        con.execute("select count(*) from information_schema.tables where table_name = $n", {"n": name}).fetchall()[0][
            0
        ]
    )


def _recipients(con, result: NotifyResult) -> dict[str, list[Recipient]]:
    """Usable recipients per agency from ``contacts``; unusable ones go to ``result.bad_contacts``."""
    out: dict[str, list[Recipient]] = {}
    if not _has_table(con, "contacts"):
        return out
    rows = con.execute("select agency_code, name, email, webhook from contacts order by agency_code, name").fetchall()
    for code, name, email, webhook in rows:
        found = []
        if email:
            if valid_email(email.strip()):
                found.append(Recipient("email", email.strip().lower(), email.strip(), name))
            else:
                result.bad_contacts.append((code, name, "邮箱格式无效"))
        if webhook:
            kind = robot_kind(webhook.strip())
            if kind:
                found.append(Recipient(kind, robot_label(webhook.strip()), webhook.strip(), name))
            else:
                result.bad_contacts.append((code, name, "机器人地址无效（须为企业微信或钉钉的 https 地址）"))
        if not email and not webhook:
            result.bad_contacts.append((code, name, "未填写邮箱或机器人地址"))
        seen = {(r.channel, r.recipient) for r in out.get(code, [])}
        out.setdefault(code, []).extend(r for r in found if (r.channel, r.recipient) not in seen)
    return out


def _ledger(con) -> tuple[set[tuple], dict[tuple, tuple[int, dt.datetime | None]]]:
    """What was delivered (item, level, channel, recipient) and, per recipient whose latest
    messages failed, (consecutive failures, next attempt time)."""
    if not _has_table(con, "notices"):
        return set(), {}
    sent = set(
        con.execute("select distinct item_key, level, channel, recipient from notices where status = 'sent'").fetchall()
    )
    rows = con.execute("""
        with msgs as (
            select channel, recipient, notice_id, max(status) as status, max(attempted_at) as attempted_at,
                   max(next_attempt_at) as next_attempt_at
            from notices group by channel, recipient, notice_id
        ),
        last_ok as (select channel, recipient, max(attempted_at) as t from msgs where status = 'sent' group by all)
        select m.channel, m.recipient, count(*) as failures, max(m.next_attempt_at)
        from msgs m left join last_ok o using (channel, recipient)
        where m.status = 'failed' and (o.t is null or m.attempted_at > o.t)
        group by m.channel, m.recipient
    """).fetchall()
    return sent, {(c, r): (n, t) for c, r, n, t in rows}


# --------------------------------------------------------------------------- the run


def send_notices(
    con,
    as_of: dt.datetime,
    *,
    dry_run: bool = False,
    agency: str | None = None,
    now: dt.datetime | None = None,
    smtp: SmtpConfig | None = None,
    scheme=None,
    robot_max_bytes: int = channels.ROBOT_MAX_BYTES,
) -> NotifyResult:
    """Compose and deliver the notices due at ``as_of`` on the open warehouse ``con`` (writable
    unless ``dry_run``). ``now`` is the wall-clock time of the attempts (backoff is real time);
    ``smtp`` defaults to :meth:`SmtpConfig.from_env`."""
    now = now or dt.datetime.now().replace(microsecond=0)
    scheme = scheme or latest_scheme_for(as_of.year)
    result = NotifyResult(as_of=as_of, dry_run=dry_run)
    cand = _candidates(con, as_of, agency, scheme)
    recipients = _recipients(con, result)
    sent, failing = _ledger(con)
    escalation_article = provision("escalation", as_of, scheme.ruleset)
    mailer = None
    try:
        for (target,), rows in cand.partition_by("target", as_dict=True, maintain_order=True).items():
            items = rows.to_dicts()
            reach = recipients.get(target, [])
            if not reach:
                result.unreached.append((target, items[0]["target_name"], len(items)))
                continue
            for rcpt in reach:
                todo = [i for i in items if (i["item_key"], i["level"], rcpt.channel, rcpt.recipient) not in sent]
                if not todo:
                    continue
                notice = Notice(
                    target,
                    items[0]["target_name"],
                    rcpt.channel,
                    rcpt.recipient,
                    rcpt.address,
                    rcpt.contact_name,
                    as_of,
                    todo,
                    escalation_article,
                )
                failures, next_at = failing.get((rcpt.channel, rcpt.recipient), (0, None))
                if rcpt.channel != "email" and failures >= ROBOT_MAX_FAILURES:
                    result.outcomes.append(Outcome(notice, "stopped"))
                    continue
                if next_at is not None and now < next_at:
                    result.outcomes.append(Outcome(notice, "waiting", next_attempt_at=next_at))
                    continue
                if rcpt.channel == "email":
                    mailer = mailer or Mailer(
                        smtp if smtp is not None else (None if dry_run else SmtpConfig.from_env())
                    )
                outcome = _deliver(notice, mailer, dry_run, robot_max_bytes)
                if outcome.status == "failed":
                    outcome.next_attempt_at = now + backoff(failures + 1)
                    failing[(rcpt.channel, rcpt.recipient)] = (failures + 1, outcome.next_attempt_at)
                    log.warning(
                        "notice to %s %s for %s failed: %s",
                        CHANNEL_ZH[rcpt.channel],
                        rcpt.recipient,
                        target,
                        outcome.error,
                    )
                if not dry_run:
                    _record(con, outcome, now)
                result.outcomes.append(outcome)
    finally:
        if mailer is not None:
            mailer.close()
    return result


def _deliver(notice: Notice, mailer: Mailer | None, dry_run: bool, robot_max_bytes: int) -> Outcome:
    listed = notice.items
    try:
        if notice.channel == "email":
            if not dry_run:
                assert mailer is not None  # deliver() opens one for every email notice it sends
                mailer.send(notice.address, subject(notice), plain_text(notice), html_body(notice))
        else:
            text, listed = robot_markdown(notice, robot_max_bytes)
            if not listed:
                raise SendError("消息超出机器人长度限制 / message exceeds the robot's size limit")
            if not dry_run:
                secret = dingtalk_secret(notice.address) if notice.channel == "dingtalk" else None
                send_robot(notice.address, robot_payload(notice.channel, notice, text), secret=secret)
    except SendError as exc:
        return Outcome(notice, "failed", error=channels.scrub(str(exc), notice.address))
    postponed = len(notice.items) - len(listed)
    notice.items = listed
    return Outcome(notice, "dry-run" if dry_run else "sent", postponed=postponed)


def _record(con, outcome: Outcome, now: dt.datetime) -> None:
    """One row per item of the message, written in one transaction right after the attempt."""
    n = outcome.notice
    ok = outcome.status == "sent"
    notice_id = f"N{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:10]}"
    data = pl.DataFrame(
        {
            "notice_id": [notice_id] * len(n.items),
            "agency_code": [n.agency_code] * len(n.items),
            "item_key": [i["item_key"] for i in n.items],
            "level": [i["level"] for i in n.items],
            "channel": [n.channel] * len(n.items),
            "recipient": [n.recipient] * len(n.items),
            "sent_at": [now if ok else None] * len(n.items),
            "status": ["sent" if ok else "failed"] * len(n.items),
            "error": [outcome.error] * len(n.items),
            "attempted_at": [now] * len(n.items),
            "next_attempt_at": [outcome.next_attempt_at] * len(n.items),
            "as_of": [n.as_of] * len(n.items),
            "metric_id": [i["metric_id"] for i in n.items],
            "record_table": [i["record_table"] for i in n.items],
            "record_id": [i["record_id"] for i in n.items],
            "subject_agency": [i["agency_code"] for i in n.items],
            "due_at": [i["due_at"] for i in n.items],
            "contact_name": [clean(n.contact_name, 80)] * len(n.items),
        },
        schema_overrides={"sent_at": pl.Datetime("us"), "next_attempt_at": pl.Datetime("us"), "error": pl.String},
    )
    con.register("_notice_rows", data.to_arrow())
    try:
        con.execute("begin transaction")
        con.execute(f"insert into notices ({', '.join(data.columns)}) select * from _notice_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_notice_rows")


# --------------------------------------------------------------------------- reading the ledger


def notified_items(con, agency: str | None = None) -> pl.DataFrame:
    """When each item was first notified, per level: (metric_id, record_table, record_id,
    agency_code, notified_soon_at, notified_overdue_at, escalated_notice_at) from ``notices``.
    For the dashboard's 督办 page (join on metric_id, record_table, record_id, agency_code)."""
    return frame(
        con,
        """
        select metric_id, record_table, record_id, subject_agency as agency_code,
               min(sent_at) filter (where level = '即将到期') as notified_soon_at,
               min(sent_at) filter (where level = '逾期') as notified_overdue_at,
               min(sent_at) filter (where level = '逾期上报') as escalation_notice_at
        from notices
        where status = 'sent' and ($agency is null or subject_agency = $agency)
        group by all
    """,
        {"agency": agency},
    )


def publish_notified(con, db=None) -> Path:
    """Write :func:`notified_items` to ``published/notified.parquet`` (atomic replace) for readers
    that cannot open the live warehouse: the dashboard's 督办 page (:func:`hzeval.runs.with_notified`)."""
    folder = published_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    final, tmp = folder / NOTIFIED_FILE, folder / f".{NOTIFIED_FILE}.tmp"
    notified_items(con).write_parquet(tmp)
    os.replace(tmp, final)
    return final


def contact_gaps(con) -> list[tuple[str, str | None]]:
    """Agencies in the register with no contact to send 督办 notices to (for ``validate``)."""
    rows = con.execute("""
        select a.agency_code, a.agency_name from agencies a
        where not exists (select 1 from contacts c where c.agency_code = a.agency_code
                          and (nullif(trim(c.email), '') is not null or nullif(trim(c.webhook), '') is not null))
        order by a.agency_code
    """).fetchall()
    return [(c, n) for c, n in rows]


def contact_problems(con) -> list[tuple[str, str, str]]:
    """Contacts that cannot be used (for ``validate``): (where, who, why). Rows of the latest load
    of each contacts file that were rejected for their address (``rejects``), and loaded rows whose
    address :func:`hzeval.notify.channels.valid_email` or :func:`robot_kind` refuses (loaded before
    a rule existed, or too long)."""
    out: list[tuple[str, str, str]] = []
    if _has_table(con, "rejects") and _has_table(con, "loads"):
        rows = con.execute("""
            select r.file, r.line, r.column_name, r.reason from rejects r
            where r.table_name = 'contacts' and r.column_name in ('email', 'webhook')
              and r.load_id in (select max(load_id) from loads where table_name = 'contacts' group by file)
            order by r.file, r.line
        """).fetchall()
        out += [(f"{Path(file).name} 第 {line} 行", column, reason) for file, line, column, reason in rows]
    probe = NotifyResult(as_of=dt.datetime.min, dry_run=True)
    _recipients(con, probe)
    out += [(code, name, why) for code, name, why in probe.bad_contacts if why != "未填写邮箱或机器人地址"]
    return out


# --------------------------------------------------------------------------- summary


def summary_line(result: NotifyResult) -> str:
    done = result.by_status("dry-run" if result.dry_run else "sent")
    failed, waiting = result.by_status("failed"), result.by_status("waiting")
    agencies = {o.notice.agency_code for o in done}
    mails = sum(1 for o in done if o.notice.channel == "email")
    verb = "将发送" if result.dry_run else "已发送"
    parts = [
        f"督办通知（截至 {result.as_of:%Y-%m-%d %H:%M}{'，演练：不发送、不记录' if result.dry_run else ''}）："
        f"{verb} {len(done)} 条（邮件 {mails}、群机器人 {len(done) - mails}），送达 {len(agencies)} 个机构"
    ]
    if failed:
        parts.append(f"失败 {len(failed)} 条（已记录，下次运行重试）")
    if waiting:
        parts.append(f"待重试 {len(waiting)} 条（未到重试时间）")
    stopped = result.by_status("stopped")
    if stopped:
        parts.append(f"停止重试 {len(stopped)} 条（机器人连续失败 {ROBOT_MAX_FAILURES} 次，请核对联系人）")
    postponed = sum(o.postponed for o in done)
    if postponed:
        parts.append(f"{postponed} 项超出机器人消息长度，下次列出")
    if result.unreached:
        parts.append(f"{len(result.unreached)} 个有待办事项的机构没有督办联系人")
    return "；".join(parts)


def raise_for_failures(result: NotifyResult) -> None:
    """Raise :class:`NotifyError` (non-zero exit) when deliveries failed or wait for a retry."""
    if result.ok:
        return
    failed, waiting = len(result.by_status("failed")), len(result.by_status("waiting"))
    stopped = len(result.by_status("stopped"))
    tail_zh = f"、{stopped} 条停止重试" if stopped else ""
    tail_en = f", {stopped} no longer retried" if stopped else ""
    raise NotifyError(
        f"{failed} 条督办通知发送失败、{waiting} 条等待重试{tail_zh}（见 notices 表）",
        f"{failed} notice(s) failed and {waiting} wait for a retry{tail_en} (see the notices table)",
    )
