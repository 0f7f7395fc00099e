"""The words of a 督办 notice: plain text and HTML for mail, markdown for group robots.

Everything that comes from the data (agency names, record ids, contact names) is hostile:
:func:`clean` makes it one bounded line, HTML gets :func:`html.escape`, robot markdown gets
:func:`md` (markup characters replaced by their full-width forms, links defused), so a name
cannot add links, colours, headings or tags to a message.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from hzeval import present
from hzeval.metrics.registry import METRICS
from hzeval.rules import item_deadline_key

SOON, OVERDUE, ESCALATE = "即将到期", "逾期", "逾期上报"
LEVELS = (SOON, OVERDUE, ESCALATE)
#: the level's heading in a notice, in the order notices list them
HEADINGS = {OVERDUE: "已逾期", SOON: "即将到期", ESCALATE: "整改逾期、尚未上报督办"}
ORDER = {OVERDUE: 0, ESCALATE: 1, SOON: 2}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MD = str.maketrans(
    {
        "\\": "＼",
        "`": "｀",
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "#": "＃",
        "|": "｜",
        "!": "！",
        "~": "～",
        "{": "｛",
        "}": "｝",
        "&": "＆",
        '"': "＂",
        "=": "＝",
    }
)


def clean(value, limit: int = 80) -> str:
    """One line of at most ``limit`` characters, without control or direction-override characters."""
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md(value, limit: int = 80) -> str:
    """Text safe inside robot markdown: markup characters become full-width, links are defused."""
    return clean(value, limit).translate(_MD).replace("://", "：//").replace("www.", "www．")


def deadline_words(due_date: dt.date) -> str:
    """A deadline the way the rules count it: the end of the day, ``2025-09-29 24:00``."""
    return present.deadline(due_date)


def days_words(item: dict) -> str:
    if item["level"] in (OVERDUE, ESCALATE):
        n = item["wd_overdue"]
        return f"已逾期 {n} 个工作日" if n else "已逾期"
    n = item["wd_left"]
    return f"剩余 {n} 个工作日" if n else "今日 24:00 截止"


def deadline_text(metric_id: str, profile, article: str | None = None) -> str:
    """How the rules word an item's deadline: the sentence the rule profile (``hzeval.rules``) in
    force on the item's trigger day gives its deadline key -- or the key's variant whose article is
    the item's (a 数据主体 objection: 第二十八条第二款, :data:`hzeval.rules.DEADLINE_VARIANTS`). The one
    place notices take rule text from. A rectification's deadline is the notice's own date, which no
    profile key gives."""
    key = METRICS[metric_id].deadline if metric_id in METRICS else None
    if key:
        key = item_deadline_key(key, article, profile)
    rule = profile.deadlines.get(key) if key and profile is not None else None
    return rule.text if rule is not None else "按整改通知规定的期限完成"


@dataclass
class Notice:
    """One message to one recipient: a target agency's items (or, for the authority, escalations)."""

    agency_code: str
    agency_name: str | None
    channel: str
    recipient: str  # the ledger's name for the recipient (mail address, or robot label)
    address: str  # where to deliver (mail address or robot URL): never logged
    contact_name: str
    as_of: dt.datetime
    items: list[dict] = field(default_factory=list)
    #: the articles the rule profile in force cites for escalation (provision ``escalation``)
    escalation_article: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {lv: sum(1 for i in self.items if i["level"] == lv) for lv in LEVELS}


def heading(notice: Notice, level: str) -> str:
    if level == ESCALATE and notice.escalation_article:
        return f"{HEADINGS[level]}（{clean(notice.escalation_article, 40)}）"
    return HEADINGS[level]


def _who(notice: Notice) -> str:
    return f"{clean(notice.agency_name or '（未登记）', 40)}（{clean(notice.agency_code, 32)}）"


def subject(notice: Notice) -> str:
    c = notice.counts
    parts = [
        f"{k} {c[lv]} 项" for lv, k in ((OVERDUE, "逾期"), (SOON, "即将到期"), (ESCALATE, "整改逾期待上报")) if c[lv]
    ]
    return f"【督办提醒】{_who(notice)}：{'、'.join(parts)}（截至 {notice.as_of:%Y-%m-%d %H:%M}）"


def _sorted(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda i: (ORDER[i["level"]], i["due_date"], i["agency_code"] or "", i["record_id"]))


def _groups(items: list[dict]):
    for lv in (OVERDUE, ESCALATE, SOON):
        rows = [i for i in _sorted(items) if i["level"] == lv]
        if rows:
            yield lv, rows


def _what(item: dict, plain=clean) -> str:
    what = f"{plain(item['category'], 20)} {plain(item['record_id'], 64)}"
    if item["level"] == ESCALATE:
        what = f"{plain(item['agency_name'] or '（未登记）', 40)}（{plain(item['agency_code'], 32)}）{what}"
    return what


ACTION = {
    OVERDUE: "请立即办结，并在平台登记办理时间。",
    SOON: "请在截止时间前办结。",
    ESCALATE: "请核实并依规上报督办，已上报的请登记上报督办时间。",
}
FOOTER = "本通知由公共数据管理评估系统（hzeval）按督办清单自动发送；事项已办结的，以平台登记的办理时间为准。"


def plain_text(notice: Notice) -> str:
    lines = [f"{_who(notice)}：", f"截至 {notice.as_of:%Y-%m-%d %H:%M}，以下事项需要处理。", ""]
    for lv, rows in _groups(notice.items):
        lines.append(f"【{heading(notice, lv)}】{len(rows)} 项 — {ACTION[lv]}")
        for n, i in enumerate(rows, 1):
            lines.append(f"{n}. {_what(i)}：截止 {deadline_words(i['due_date'])}，{days_words(i)}")
            lines.append(f"   依据 {clean(i['article'], 40)}：{clean(i['deadline_text'], 200)}")
        lines.append("")
    lines.append(FOOTER)
    return "\n".join(lines) + "\n"


def html_body(notice: Notice) -> str:
    esc = html.escape
    out = [
        '<html><body style="font-family: sans-serif">',
        f"<p>{esc(_who(notice))}：</p>",
        f"<p>截至 {notice.as_of:%Y-%m-%d %H:%M}，以下事项需要处理。</p>",
    ]
    for lv, rows in _groups(notice.items):
        colour = "#c62828" if lv != SOON else "#b26a00"
        out.append(
            f'<h3 style="color:{colour}">{esc(heading(notice, lv))}：{len(rows)} 项</h3><p>{esc(ACTION[lv])}</p>'
        )
        out.append(
            '<table border="1" cellspacing="0" cellpadding="4"><tr><th>事项</th><th>截止时间</th>'
            "<th>工作日</th><th>依据</th></tr>"
        )
        for i in rows:
            out.append(
                f"<tr><td>{esc(_what(i))}</td><td>{esc(deadline_words(i['due_date']))}</td>"
                f"<td>{esc(days_words(i))}</td>"
                f"<td>{esc(clean(i['article'], 40))}：{esc(clean(i['deadline_text'], 200))}</td></tr>"
            )
        out.append("</table>")
    out.append(f'<p style="color:#666">{esc(FOOTER)}</p></body></html>')
    return "\n".join(out) + "\n"


def robot_markdown(notice: Notice, max_bytes: int) -> tuple[str, list[dict]]:
    """The robot's markdown and the items it lists: as many as fit in ``max_bytes`` (UTF-8);
    the rest wait for the next run (and are reported), they are not marked notified."""
    head = [
        f"**【督办提醒】{md(notice.agency_name or '（未登记）', 40)}（{md(notice.agency_code, 32)}）**",
        f"截至 {notice.as_of:%Y-%m-%d %H:%M}",
    ]
    tail_more = "\n> 另有 {n} 项将在下次通知中列出，全部事项见督办清单。"
    body: list[str] = []
    included: list[dict] = []
    size = len("\n".join(head).encode()) + len(tail_more.encode()) + 16
    for lv, rows in _groups(notice.items):
        block_head = f"\n**{md(heading(notice, lv))}**（{ACTION[lv]}）"
        lines: list[str] = []
        for i in rows:
            line = (
                f"- {_what(i, md)}：截止 {deadline_words(i['due_date'])}，{days_words(i)}；"
                f"{md(i['article'], 40)}：{md(i['deadline_text'], 120)}"
            )
            extra = len(line.encode()) + 1 + (0 if lines else len(block_head.encode()) + 1)
            if size + extra > max_bytes:
                break
            size += extra
            lines.append(line)
            included.append(i)
        if lines:
            body.append(block_head)
            body.extend(lines)
    rest = len(notice.items) - len(included)
    text = "\n".join(head + body) + (tail_more.format(n=rest) if rest else "")
    return text, included


def robot_payload(kind: str, notice: Notice, text: str) -> dict:
    """The robot's JSON message format (企业微信 ``markdown.content``; 钉钉 ``markdown.title/text``)."""
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    title = f"督办提醒 {clean(notice.agency_name or notice.agency_code, 40)}"
    return {"msgtype": "markdown", "markdown": {"title": md(title, 60), "text": text}}
