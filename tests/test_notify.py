"""督办 notices (``hzeval notify``) against a local SMTP server (aiosmtpd) and a local HTTP server
standing in for the 企业微信 / 钉钉 robots.

Deadlines worked out by hand (State Council notice: Sun 2025-09-28 is a working day, 10-01..10-08
are holidays, Sat 10-11 works). The 2025 scheme gives a share reply 2 working days (第二十四条).

As of Mon 2025-09-29 09:00:
- S1, S4: received Fri 09-26 10:00 → 2 wd are Sun 09-28 and Mon 09-29 → due "2025-09-29 24:00"
  (due_at 09-30 00:00); 0 working days left → 即将到期, "今日 24:00 截止".
- S2: received Tue 09-23 10:00 → 09-24, 09-25 → due "2025-09-25 24:00"; working days after it up
  to 09-29: 09-26, 09-28, 09-29 → 逾期 3.
- S3: received Mon 09-29 08:00 → 09-30, (holidays), 10-09 → due "2025-10-09 24:00"; 2 left → 未到期,
  not notified.
- R1 (C, a 惠城区 agency): deadline Fri 09-19, open, not escalated → 逾期 09-22..26, 09-28, 09-29 = 7;
  escalated to 惠城区's own authority ZC, not to the city authority Z (DESIGN §3 本级).
- R2 (A): deadline Wed 09-24, open, escalated 09-26 → 逾期 09-25, 09-26, 09-28, 09-29 = 4 to A; no
  escalation (already escalated).
As of Tue 09-30 09:00: S1 and S4 are overdue by 1 (09-30); S3 has 1 working day left (10-01..08 are
holidays, 10-09 is the next working day) → 即将到期.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from conftest import insert

from hzeval.cli.console import print_result
from hzeval.errors import NotifyError
from hzeval.notify import backoff, contact_gaps, notified_items, raise_for_failures, send_notices
from hzeval.notify.channels import SmtpConfig, robot_kind, scrub
from hzeval.notify.compose import md
from hzeval.store.warehouse import connect

AS_OF = dt.datetime(2025, 9, 29, 9, 0)
NOW = dt.datetime(2025, 9, 29, 9, 5)
HOSTILE = '<script>alert(1)</script>[点我](http://evil.example)*粗*<font color="warning">红</font>\n# 标题'
KEY_A = "SECRETKEY-A-0123456789"
#: the share_reply sentence of the packaged rule profile (hzeval/rules/huizhou-draft-2022.yaml)
DRAFT_REPLY = (
    "有条件共享的公共数据，由公共管理和服务机构通过市“一网共享”平台向数源部门提出共享申请，"
    "数源部门应当在 2 个工作日内予以答复"
)
TOKEN_B = "SECRETTOKEN-B-abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- local servers


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, addr: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if addr in rcpts]


def parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield inbox, SmtpConfig("127.0.0.1", ctl.port, "none", None, None, "duban@example.org")
    ctl.stop()


class Robots:
    """A local HTTP server receiving robot messages; ``answers`` maps a path to (status, errcode)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.answers: dict[str, tuple[int, int]] = {}
        #: answers given once each, first to last, before ``answers`` (a failure the retry gets past)
        self.script: dict[str, list[tuple[int, int]]] = {}
        #: when set, a 钉钉 post must carry timestamp and sign made with this secret (DingTalk's check)
        self.dingtalk_secret: str | None = None
        self.hits = 0  # every POST, whatever the answer
        self.hits_by: dict[str, int] = {}
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                path = self.path.split("?")[0]
                status, code = robots.answers.get(path, (200, 0))
                if robots.script.get(path):
                    status, code = robots.script[path].pop(0)
                elif path == "/robot/send" and robots.dingtalk_secret is not None:
                    code = 0 if robots.signed(self.path) else 310000  # 钉钉: "sign not match"
                robots.hits += 1
                robots.hits_by[path] = robots.hits_by.get(path, 0) + 1
                if status == 200:
                    robots.received.append((self.path, json.loads(body)))
                out = json.dumps({"errcode": code, "errmsg": "ok" if code == 0 else "invalid webhook url"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def signed(self, target: str) -> bool:
        """DingTalk's check, written here independently of hzeval: ``sign`` (URL-decoded) is the
        base64 HMAC-SHA256 of ``"<timestamp>\\n<secret>"`` and ``timestamp`` (ms) within an hour."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        if len(query.get("timestamp", [])) != 1 or len(query.get("sign", [])) != 1:
            return False
        timestamp = query["timestamp"][0]
        secret = self.dingtalk_secret or ""
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        fresh = abs(int(timestamp) - time.time() * 1000) < 3600 * 1000
        return fresh and hmac.compare_digest(base64.b64encode(digest).decode(), query["sign"][0])

    def url(self, kind: str, secret: str) -> str:
        if kind == "wecom":
            return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={secret}"
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={secret}"

    def messages(self, secret: str) -> list[dict]:
        return [m for path, m in self.received if secret in path]


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch):
    """The robots' one retry within a run waits ROBOT_RETRY_DELAY seconds; not in the tests."""
    from hzeval.notify import channels

    monkeypatch.setattr(channels, "ROBOT_RETRY_DELAY", 0.0)
    monkeypatch.delenv("HZEVAL_DINGTALK_SECRETS", raising=False)


@pytest.fixture
def robots():
    r = Robots()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


# --------------------------------------------------------------------------- data


def city(con, robots: Robots) -> None:
    insert(
        con,
        "agencies",
        {"agency_code": "A", "agency_name": "甲局", "level": "市级", "region": "惠州市"},
        {"agency_code": "B", "agency_name": HOSTILE, "level": "市级", "region": "惠州市"},
        {"agency_code": "C", "agency_name": "惠城区乙局", "level": "县区", "region": "惠城区"},
        {"agency_code": "N", "agency_name": "丙局", "level": "市级", "region": "惠州市"},
        {"agency_code": "Z", "agency_name": "市数据局", "level": "市级", "region": "惠州市", "is_authority": True},
        {"agency_code": "ZC", "agency_name": "惠城区数据局", "level": "县区", "region": "惠城区", "is_authority": True},
    )
    app = dict(applicant_code="C", share_type="有条件共享", resource_code="RX")
    insert(
        con,
        "share_applications",
        {**app, "application_id": "S1", "provider_code": "A", "submitted_at": "2025-09-26 10:00"},
        {**app, "application_id": "S2", "provider_code": "A", "submitted_at": "2025-09-23 10:00"},
        {**app, "application_id": "S3", "provider_code": "A", "submitted_at": "2025-09-29 08:00"},
        {**app, "application_id": "S4", "provider_code": "B", "submitted_at": "2025-09-26 10:00"},
        {**app, "application_id": "S5", "provider_code": "N", "submitted_at": "2025-09-26 10:00"},
    )
    insert(
        con,
        "rectifications",
        {"notice_id": "R1", "agency_code": "C", "issued_at": "2025-09-01 10:00", "deadline": "2025-09-19"},
        {
            "notice_id": "R2",
            "agency_code": "A",
            "issued_at": "2025-09-01 10:00",
            "deadline": "2025-09-24",
            "escalated_at": "2025-09-26 10:00",
        },
    )
    # every graded agency filed its 2025 open plan (第三十六条), so 督办 lists no 开放计划未备案 item here
    # every agency, the authorities too (DESIGN §5b: they owe their own plan), filed its plan in time
    insert(
        con,
        "open_plans",
        *(
            {"agency_code": code, "year": 2025, "filed_at": "2025-02-01 10:00"}
            for code in ("A", "B", "C", "N", "Z", "ZC")
        ),
    )
    insert(
        con,
        "contacts",
        {"agency_code": "A", "name": "陈敏", "email": "a@example.org", "role": "数据专员"},
        {"agency_code": "A", "name": "甲局督办群", "webhook": robots.url("wecom", KEY_A)},
        {"agency_code": "B", "name": "<b>王</b>", "email": "b@example.org", "webhook": robots.url("dingtalk", TOKEN_B)},
        {"agency_code": "C", "name": "李伟", "email": "c@example.org"},
        {"agency_code": "Z", "name": "市局", "email": "z@example.org"},
        {"agency_code": "ZC", "name": "区局", "email": "zc@example.org"},
    )


@pytest.fixture
def con(wh, robots):
    city(wh, robots)
    return wh


def ledger(con) -> list[tuple]:
    return con.execute(
        "select record_id, level, channel, recipient, status from notices "
        "order by record_id, level, channel, recipient, attempted_at"
    ).fetchall()


# --------------------------------------------------------------------------- content


def test_mail_and_robot_content_deadlines_and_articles(con, smtp_server, robots):
    inbox, smtp = smtp_server
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    assert result.ok

    [mail] = inbox.to("a@example.org")
    assert mail["Subject"] == "【督办提醒】甲局（A）：逾期 2 项、即将到期 1 项（截至 2025-09-29 09:00）"
    text, html_part = parts(mail)
    # oldest deadline first
    assert "1. 限期整改 R2：截止 2025-09-24 24:00，已逾期 4 个工作日" in text
    assert "2. 共享申请答复 S2：截止 2025-09-25 24:00，已逾期 3 个工作日" in text
    assert "1. 共享申请答复 S1：截止 2025-09-29 24:00，今日 24:00 截止" in text
    assert f"依据 第二十四条：{DRAFT_REPLY}" in text  # the draft profile's sentence
    assert "依据 第四十七条：按整改通知规定的期限完成" in text
    assert "S3" not in text  # 2 working days left: not yet
    assert text.index("【已逾期】") < text.index("【即将到期】")
    assert "<td>共享申请答复 S2</td><td>2025-09-25 24:00</td><td>已逾期 3 个工作日</td>" in html_part

    [robot] = robots.messages(KEY_A)
    assert robot["msgtype"] == "markdown" and set(robot["markdown"]) == {"content"}  # 企业微信 format
    content = robot["markdown"]["content"]
    assert f"共享申请答复 S2：截止 2025-09-25 24:00，已逾期 3 个工作日；第二十四条：{DRAFT_REPLY}" in content
    assert "共享申请答复 S1：截止 2025-09-29 24:00，今日 24:00 截止" in content

    [robot_b] = robots.messages(TOKEN_B)
    assert robot_b["msgtype"] == "markdown" and set(robot_b["markdown"]) == {"title", "text"}  # 钉钉 format
    assert "共享申请答复 S4：截止 2025-09-29 24:00，今日 24:00 截止" in robot_b["markdown"]["text"]

    # 第四十七条: R1 (惠城区) is escalated to 惠城区's authority, not to the city's
    [esc] = inbox.to("zc@example.org")
    text, _ = parts(esc)
    assert "整改逾期、尚未上报督办（第四十七条）" in text
    assert "惠城区乙局（C）限期整改 R1：截止 2025-09-19 24:00，已逾期 7 个工作日" in text
    assert inbox.to("z@example.org") == []  # R2 was escalated already; Z has no items of its own
    [own] = inbox.to("c@example.org")
    assert "限期整改 R1：截止 2025-09-19 24:00，已逾期 7 个工作日" in parts(own)[0]

    assert result.unreached == [("N", "丙局", 1)]  # S5's provider has no contact
    assert len(inbox.messages) == 4 and len(robots.received) == 2


def test_article_and_deadline_text_from_the_profile_in_force_on_the_trigger_day(con, smtp_server, tmp_path):
    """A scheme with a second profile from Sat 2025-09-27 giving share replies 1 working day and its
    own sentence: S1 (received 09-26) keeps the draft's 2 days and text; S3 (received Mon 09-29
    08:00) is due after 1 working day, end of 09-30 → 1 left at 09-29 09:00 → 即将到期, with the new text."""
    import yaml

    from hzeval.assessment.scheme import default_scheme_path, load_scheme
    from hzeval.rules import packaged_profile_path

    prof = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    prof["title"] = "测试规则（2025-09-27 起）"
    prof["deadlines"]["share_reply"] = {
        "days": 1,
        "article": "第二十四条",
        "text": "数源部门应当在 1 个工作日内予以答复（测试）",
    }
    (tmp_path / "later.yaml").write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")
    sch = yaml.safe_load(default_scheme_path(2025).read_text(encoding="utf-8"))
    sch["rules"] = [
        {"profile": "huizhou-draft-2022", "from": "2022-01-01"},
        {"profile": "./later.yaml", "from": "2025-09-27"},
    ]
    (tmp_path / "scheme.yaml").write_text(yaml.safe_dump(sch, allow_unicode=True), encoding="utf-8")
    scheme = load_scheme(tmp_path / "scheme.yaml")

    inbox, smtp = smtp_server
    send_notices(con, AS_OF, now=NOW, smtp=smtp, scheme=scheme)
    text = parts(inbox.to("a@example.org")[0])[0]
    assert f"共享申请答复 S1：截止 2025-09-29 24:00，今日 24:00 截止\n   依据 第二十四条：{DRAFT_REPLY}" in text
    assert (
        "共享申请答复 S3：截止 2025-09-30 24:00，剩余 1 个工作日\n"
        "   依据 第二十四条：数源部门应当在 1 个工作日内予以答复（测试）"
    ) in text


def test_deadline_at_midnight_is_written_as_24_00_of_the_day_before(con, smtp_server):
    inbox, smtp = smtp_server
    send_notices(con, AS_OF, now=NOW, smtp=smtp)
    due_at = con.execute("select due_at from notices where record_id = 'S1' limit 1").fetchall()[0][0]
    assert due_at == dt.datetime(2025, 9, 30, 0, 0)
    text = parts(inbox.to("a@example.org")[0])[0]
    assert "2025-09-29 24:00" in text and "2025-09-30" not in text


# --------------------------------------------------------------------------- exactly once


def test_each_item_and_level_once_across_reruns(con, smtp_server, robots):
    inbox, smtp = smtp_server
    send_notices(con, AS_OF, now=NOW, smtp=smtp)
    first = ledger(con)
    n_mail, n_robot = len(inbox.messages), len(robots.received)

    again = send_notices(con, AS_OF, now=NOW + dt.timedelta(hours=1), smtp=smtp)
    assert again.outcomes == [] and again.ok
    assert (len(inbox.messages), len(robots.received)) == (n_mail, n_robot)
    assert ledger(con) == first

    # a day later S1 and S4 turn overdue (1 working day: 09-30) and S3 falls due soon (1 working
    # day left: 10-09, after the holidays); only they are sent
    later = send_notices(con, dt.datetime(2025, 9, 30, 9, 0), now=NOW + dt.timedelta(days=1), smtp=smtp)
    [mail] = inbox.messages[n_mail:][:1]
    assert mail[0] == ["a@example.org"]
    text = parts(mail[1])[0]
    assert "共享申请答复 S1：截止 2025-09-29 24:00，已逾期 1 个工作日" in text
    assert "共享申请答复 S3：截止 2025-10-09 24:00，剩余 1 个工作日" in text
    assert "S2" not in text and "R2" not in text
    sent_ids = sorted({(i["record_id"], i["level"]) for o in later.outcomes for i in o.notice.items})
    assert sent_ids == [("S1", "逾期"), ("S3", "即将到期"), ("S4", "逾期")]
    # and nothing more on a third run
    assert (
        send_notices(con, dt.datetime(2025, 9, 30, 10, 0), now=NOW + dt.timedelta(days=1, hours=1), smtp=smtp).outcomes
        == []
    )
    rows = con.execute(
        "select record_id, level, count(*) from notices where channel = 'email' "
        "and recipient = 'a@example.org' group by all order by all"
    ).fetchall()
    assert rows == [
        ("R2", "逾期", 1),
        ("S1", "即将到期", 1),
        ("S1", "逾期", 1),
        ("S2", "逾期", 1),
        ("S3", "即将到期", 1),
    ]


def test_failed_send_is_recorded_retried_after_backoff_and_reported(con, smtp_server, robots):
    inbox, smtp = smtp_server
    closed = SmtpConfig("127.0.0.1", free_port(), "none", None, None, "duban@example.org")  # nothing listens
    first = send_notices(con, AS_OF, now=NOW, smtp=closed)
    assert not first.ok
    failed = first.by_status("failed")
    assert {o.notice.recipient for o in failed} == {"a@example.org", "b@example.org", "c@example.org", "zc@example.org"}
    assert all(o.next_attempt_at == NOW + dt.timedelta(minutes=15) for o in failed)
    with pytest.raises(NotifyError) as exc:
        raise_for_failures(first)
    assert exc.value.exit_code != 0 and "4 条督办通知发送失败" in exc.value.message
    rows = con.execute(
        "select status, error, next_attempt_at from notices where recipient = 'a@example.org'"
    ).fetchall()
    assert len(rows) == 3 and all(r[0] == "failed" and "无法连接邮件服务器" in r[1] for r in rows)
    assert len(robots.received) == 2  # the robots worked and are not resent below

    # 5 minutes later: before the backoff time, nothing is attempted, still reported
    early = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=5), smtp=smtp)
    assert len(early.by_status("waiting")) == 4 and not early.by_status("sent") and not early.ok
    assert inbox.messages == []

    # a second failure doubles the wait: 15 min after the first, then 30 min
    second = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=16), smtp=closed)
    assert {o.next_attempt_at for o in second.by_status("failed")} == {NOW + dt.timedelta(minutes=46)}

    # after the backoff, with the server reachable: delivered once, the robots are not resent
    ok = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=47), smtp=smtp)
    assert ok.ok and len(ok.by_status("sent")) == 4
    assert len(inbox.to("a@example.org")) == 1 and len(robots.received) == 2
    assert "共享申请答复 S2：截止 2025-09-25 24:00，已逾期 3 个工作日" in parts(inbox.to("a@example.org")[0])[0]
    assert send_notices(con, AS_OF, now=NOW + dt.timedelta(hours=2), smtp=smtp).outcomes == []


def test_robot_refusal_is_a_failure(con, smtp_server, robots):
    _, smtp = smtp_server
    robots.answers["/robot/send"] = (200, 310000)  # 钉钉: e.g. keyword or signature check failed
    robots.answers["/cgi-bin/webhook/send"] = (500, 0)
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    errors = {o.notice.channel: o.error for o in result.by_status("failed")}
    assert set(errors) == {"wecom", "dingtalk"}
    assert "errcode 310000" in errors["dingtalk"] and "HTTP 500" in errors["wecom"]
    assert not result.ok


def test_backoff_doubles_and_is_capped_at_a_day():
    assert [backoff(n) for n in (1, 2, 3, 7)] == [dt.timedelta(minutes=m) for m in (15, 30, 60, 960)]
    assert backoff(8) == dt.timedelta(days=1)  # 15 min × 2^7 = 32 h, capped
    assert backoff(30) == dt.timedelta(days=1)


# --------------------------------------------------------------------------- secrets and hostile text


def test_no_secret_in_logs_ledger_or_summary(con, robots, caplog):
    from rich.console import Console

    robots.answers["/cgi-bin/webhook/send"] = (500, 0)
    dead_robot = f"http://127.0.0.1:{free_port()}/robot/send?access_token={TOKEN_B}"  # connection refused
    con.execute("update contacts set webhook = $u where agency_code = 'B'", {"u": dead_robot})
    smtp = SmtpConfig("127.0.0.1", free_port(), "none", "duban", "pw-SECRET-42", "duban@example.org")
    caplog.set_level(logging.DEBUG)
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    console = Console(record=True, width=200)
    print_result(result, console)
    with pytest.raises(NotifyError) as exc:
        raise_for_failures(result)
    stored = " ".join(str(v) for row in con.execute("select * from notices").fetchall() for v in row)
    texts = {
        "logs": caplog.text,
        "ledger": stored,
        "summary": console.export_text(),
        "error": exc.value.message,
        "repr": repr(smtp),
    }
    for where, text in texts.items():
        for secret in (KEY_A, TOKEN_B, "pw-SECRET-42"):
            assert secret not in text, (where, secret)
    assert "无法连接机器人" in stored and "HTTP 500" in stored  # the failures are there, without their keys


def test_scrub_removes_keys_from_error_text():
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"
    assert scrub(f"cannot POST {url}", url) == "cannot POST ***"
    assert scrub("GET /x?access_token=zzz&sign=yyy failed") == "GET /x?access_token=***&sign=*** failed"


def test_hostile_agency_name_escaped_in_mail_html_and_robot_markdown(con, smtp_server, robots):
    inbox, smtp = smtp_server
    send_notices(con, AS_OF, now=NOW, smtp=smtp)
    [mail] = inbox.to("b@example.org")
    text, html_part = parts(mail)
    assert "<script>" not in html_part and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part
    assert "<font" not in html_part and "href" not in html_part
    assert "\n# 标题" not in text and "\n" not in mail["Subject"]  # one line: no header or heading injection
    [robot] = robots.messages(TOKEN_B)
    body = robot["markdown"]["text"] + robot["markdown"]["title"]
    for bad in ("<script", "<font", "[点我]", "](", "http://evil", "*粗*", "\n#"):
        assert bad not in body, bad
    assert "＜script＞alert（1）＜/script＞［点我］（http：//ev" in body  # shown, inert, bounded


def test_markdown_escape_keeps_plain_chinese():
    assert md("惠州市公安局") == "惠州市公安局"
    assert md("a_b*c") == "a＿b＊c"


def test_plain_http_and_unencrypted_smtp_only_to_loopback():
    from hzeval.errors import ConfigError

    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k") == "wecom"
    assert robot_kind("https://oapi.dingtalk.com/robot/send?access_token=t") == "dingtalk"
    assert robot_kind("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k") is None
    assert robot_kind("http://127.0.0.1:8080/robot/send?access_token=t") == "dingtalk"
    assert robot_kind("https://example.org/other") is None
    assert robot_kind("javascript:alert(1)") is None
    with pytest.raises(ConfigError):
        SmtpConfig.from_env(
            {
                "HZEVAL_SMTP_HOST": "smtp.example.org",
                "HZEVAL_SMTP_SECURITY": "none",
                "HZEVAL_SMTP_FROM": "a@example.org",
            }
        )
    cfg = SmtpConfig.from_env(
        {"HZEVAL_SMTP_HOST": "smtp.example.org", "HZEVAL_SMTP_USER": "duban@example.org", "HZEVAL_SMTP_PASSWORD": "p"}
    )
    assert (cfg.security, cfg.port, cfg.sender) == ("starttls", 587, "duban@example.org")
    assert SmtpConfig.from_env({}) is None


def test_mail_without_smtp_configuration_fails_and_is_kept(con, robots, monkeypatch):
    monkeypatch.delenv("HZEVAL_SMTP_HOST", raising=False)
    result = send_notices(con, AS_OF, now=NOW)
    errors = {o.error for o in result.by_status("failed")}
    assert errors == {"未配置邮件服务器（环境变量 HZEVAL_SMTP_HOST）/ mail not configured"}
    assert len(result.by_status("sent")) == 2  # the robots


# --------------------------------------------------------------------------- robots' size limit


def test_robot_message_size_limit_postpones_the_rest(con, smtp_server, robots):
    _, smtp = smtp_server
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp, robot_max_bytes=500)
    [wecom] = [o for o in result.outcomes if o.notice.channel == "wecom"]
    assert len(wecom.notice.items) == 1 and wecom.postponed == 2
    assert len(robots.messages(KEY_A)[0]["markdown"]["content"].encode()) <= 500
    assert "另有 2 项将在下次通知中列出" in robots.messages(KEY_A)[0]["markdown"]["content"]
    nxt = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=1), smtp=smtp, robot_max_bytes=500)
    [wecom2] = [o for o in nxt.outcomes if o.notice.channel == "wecom"]
    assert len(wecom2.notice.items) == 1 and wecom2.postponed == 1
    assert wecom2.notice.items[0]["record_id"] != wecom.notice.items[0]["record_id"]


# --------------------------------------------------------------------------- the ledger for the dashboard


def test_notified_items_gives_when_each_item_was_notified(con, smtp_server):
    _, smtp = smtp_server
    send_notices(con, AS_OF, now=NOW, smtp=smtp)
    send_notices(con, dt.datetime(2025, 9, 30, 9, 0), now=NOW + dt.timedelta(days=1), smtp=smtp)
    got = {r["record_id"]: r for r in notified_items(con, "A").iter_rows(named=True)}
    assert set(got) == {"S1", "S2", "S3", "R2"}
    assert got["S1"]["notified_soon_at"] == NOW and got["S1"]["notified_overdue_at"] == NOW + dt.timedelta(days=1)
    assert got["S2"]["notified_soon_at"] is None and got["S2"]["notified_overdue_at"] == NOW
    r1 = notified_items(con, "C").row(0, named=True)
    assert r1["record_id"] == "R1" and r1["escalation_notice_at"] == NOW


def test_contact_gaps_lists_agencies_without_contacts(con):
    assert contact_gaps(con) == [("N", "丙局")]


# --------------------------------------------------------------------------- CLI, dry run, migration, scheduled run


DROP = {
    "agencies.csv": "agency_code,agency_name,level,region,is_authority\n"
    "A,甲局,市级,惠州市,否\nN,丙局,市级,惠州市,否\nZ,市数据局,市级,惠州市,是\n",
    "share_applications.csv": "application_id,provider_code,applicant_code,share_type,submitted_at\n"
    "S1,A,N,有条件共享,2025-09-26 10:00\nS2,A,N,有条件共享,2025-09-23 10:00\n"
    "S5,N,A,有条件共享,2025-09-26 10:00\n",
    # all three (the authority Z owes its own, DESIGN §5b) filed their 2025 open plan (第三十六条): no
    # 开放计划未备案 item in this 督办 list
    "open_plans.csv": "agency_code,year,filed_at\nA,2025,2025-02-01 10:00\nN,2025,2025-02-01 10:00\n"
    "Z,2025,2025-02-01 10:00\n",
    "contacts.csv": "机构代码,联系人,邮箱,机器人地址,角色\nA,陈敏,a@example.org,,数据专员\nA,王军,,,分管领导\n"
    "Z,市局,z@example.org,,领导\n",
}


@pytest.fixture
def drop(tmp_path):
    d = tmp_path / "drop"
    d.mkdir()
    for name, text in DROP.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def smtp_env(monkeypatch, smtp: SmtpConfig) -> None:
    monkeypatch.setenv("HZEVAL_SMTP_HOST", smtp.host)
    monkeypatch.setenv("HZEVAL_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("HZEVAL_SMTP_SECURITY", "none")
    monkeypatch.setenv("HZEVAL_SMTP_FROM", "duban@example.org")


def test_cli_dry_run_prints_and_writes_nothing_then_sends_once(tmp_path, drop, smtp_server, monkeypatch, capsys):
    from hzeval.cli.main import main
    from hzeval.ingest import load_paths

    inbox, smtp = smtp_server
    smtp_env(monkeypatch, smtp)
    db = tmp_path / "wh.duckdb"
    with connect(db) as c:
        load_paths(c, [drop], progress=False)
        assert c.execute("select agency_code, name, role from contacts order by all").fetchall() == [
            ("A", "王军", "分管领导"),
            ("A", "陈敏", "数据专员"),
            ("Z", "市局", "分管领导"),
        ]
        c.execute("drop table notices")  # a warehouse made before notices existed
    mtime = db.stat().st_mtime_ns

    main(["--db", str(db), "notify", "--as-of", "2025-09-29T09:00", "--dry-run"])
    out = capsys.readouterr().out
    assert "共享申请答复 S1：截止 2025-09-29 24:00，今日 24:00 截止" in out
    assert "将发送 1 条（邮件 1、群机器人 0）" in out and "丙局（N，1 项）" in out
    assert inbox.messages == [] and db.stat().st_mtime_ns == mtime

    main(["--db", str(db), "notify", "--as-of", "2025-09-29T09:00"])  # opens writable: notices is created
    assert "已发送 1 条" in capsys.readouterr().out and len(inbox.messages) == 1
    main(["--db", str(db), "notify", "--as-of", "2025-09-29T09:00"])
    assert "已发送 0 条" in capsys.readouterr().out and len(inbox.messages) == 1

    main(["--db", str(db), "validate"])
    out = capsys.readouterr().out
    assert "未登记督办联系人" in out and "丙局（N）" in out and "甲局（A）" not in out


def test_cli_exit_status_non_zero_when_a_send_fails(tmp_path, drop, monkeypatch, capsys):
    from hzeval.cli.main import main
    from hzeval.ingest import load_paths

    smtp_env(monkeypatch, SmtpConfig("127.0.0.1", free_port(), "none", None, None, "duban@example.org"))
    db = tmp_path / "wh.duckdb"
    with connect(db) as c:
        load_paths(c, [drop], progress=False)
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), "notify", "--as-of", "2025-09-29T09:00"])
    assert exc.value.code == NotifyError.exit_code != 0
    captured = capsys.readouterr()
    assert "失败 1 条" in captured.out and "1 条督办通知发送失败" in captured.err
    with connect(db, read_only=True) as c:
        assert c.execute("select status, count(*) from notices group by all").fetchall() == [("failed", 2)]


def test_scheduled_run_notifies_after_assessing(tmp_path, drop, smtp_server, monkeypatch):
    from types import SimpleNamespace

    from hzeval.scheduled import scheduled_run

    inbox, smtp = smtp_server
    smtp_env(monkeypatch, smtp)
    monkeypatch.setenv("HZEVAL_SMTP_PASSWORD", "pw-SECRET-42")
    db = tmp_path / "wh.duckdb"
    rendered = []

    def render_year(db, year, agency, formats, out, workers, published=None, **_):  # reports are not under test here
        rendered.append(published)
        return SimpleNamespace(results=[], out_dir=out)

    monkeypatch.setattr("hzeval.services.render_year", render_year)
    log_file = tmp_path / "run.log"
    from rich.console import Console

    kw = dict(
        drop=drop,
        year=2025,
        as_of="2025-09-29T09:00",
        scheme=None,
        formats=("html",),
        out=tmp_path / "reports",
        workers=1,
        log_file=log_file,
        wait=True,
        console=Console(width=200),
        notify=True,
    )
    scheduled_run(str(db), **kw)
    assert rendered and len(inbox.messages) == 1
    with connect(db, read_only=True) as c:
        assert c.execute("select count(*) from runs where status = 'finished'").fetchall() == [(1,)]
        assert c.execute("select record_id, level from notices order by all").fetchall() == [
            ("S1", "即将到期"),
            ("S2", "逾期"),
        ]
    scheduled_run(str(db), **kw)  # rerun: nothing sent twice
    assert len(inbox.messages) == 1
    log_text = log_file.read_text(encoding="utf-8")
    assert "notify: 督办通知" in log_text and "pw-SECRET-42" not in log_text


# --------------------------------------------------------------------------- dashboard 督办 page


def test_dashboard_supervision_shows_when_each_item_was_notified(sample_warehouse, tmp_path_factory, smtp_server):
    import panel as pn
    from conftest import copy_sample

    from hzeval.dashboard.store import Store, User
    from hzeval.dashboard.views import supervision_page
    from hzeval.notify import publish_notified
    from hzeval.store.published import published_dir

    inbox, smtp = smtp_server
    db = copy_sample(sample_warehouse, tmp_path_factory, "notify_dash")
    as_of = dt.datetime(2026, 1, 5, 9, 0)
    with connect(db) as c:
        c.execute("update contacts set webhook = null")  # the sample's robots are placeholders
        result = send_notices(c, as_of, agency="HZ101", now=dt.datetime(2026, 1, 5, 9, 5), smtp=smtp)
        publish_notified(c, db)
    notified = {i["record_id"] for o in result.by_status("sent") for i in o.notice.items}
    assert notified and len(inbox.messages) == len(result.by_status("sent"))

    own = Store(published_dir(db), User("u101", "agency:HZ101")).supervision(as_of)
    shown = own.filter(pl.col("state") != "未到期")
    assert set(shown["record_id"]) == notified
    # the sample's one open HZ101 item: objection OB-E01, due 2026-01-05 24:00 (the as-of day), so 即将到期
    assert shown.select("record_id", "notified").rows() == [("OB-E01", "即将到期 01-05 09:05")]
    other = Store(published_dir(db), User("u102", "agency:HZ102")).supervision(as_of)
    assert set(other["agency_code"]) == {"HZ102"} and set(other["notified"]) == {""}  # HZ102 was not notified

    page = supervision_page(Store(published_dir(db), User("boss", "leader")), {"龙门": "HZ101"}, now=as_of)
    tables = [o for o in page.select(pn.widgets.Tabulator) if "已通知" in o.value.columns]
    assert tables and (tables[0].value["已通知"] != "").sum() == len(notified)


def test_starttls_login_with_env_credentials(tmp_path, con, monkeypatch, caplog):
    """STARTTLS against a local server with a self-signed certificate (trusted through
    HZEVAL_SMTP_CAFILE) that requires TLS before AUTH; the password comes from the environment."""
    import ssl
    import subprocess

    from aiosmtpd.smtp import AuthResult

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, session.ssl is not None))
        return AuthResult(success=auth_data.login == b"duban" and auth_data.password == b"pw-SECRET-42", handled=False)

    inbox = Inbox()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_exclude_mechanism=["LOGIN"],
    )
    ctl.start()
    try:
        env = {
            "HZEVAL_SMTP_HOST": "127.0.0.1",
            "HZEVAL_SMTP_PORT": str(ctl.port),
            "HZEVAL_SMTP_SECURITY": "starttls",
            "HZEVAL_SMTP_USER": "duban",
            "HZEVAL_SMTP_PASSWORD": "pw-SECRET-42",
            "HZEVAL_SMTP_FROM": "duban@example.org",
            "HZEVAL_SMTP_CAFILE": str(cert),
        }
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        caplog.set_level(logging.DEBUG)
        result = send_notices(con, AS_OF, now=NOW)
        assert result.ok and len(inbox.to("a@example.org")) == 1
        assert logins and all(who == b"duban" and over_tls for who, over_tls in logins)
        # a wrong password is a recorded failure, and the password shows nowhere
        monkeypatch.setenv("HZEVAL_SMTP_PASSWORD", "wrong-SECRET")
        con.execute("delete from notices")
        bad = send_notices(con, AS_OF, now=NOW)
        assert {o.error for o in bad.by_status("failed")} == {"邮件服务器拒绝登录 / SMTP authentication failed (535)"}
        stored = str(con.execute("select * from notices").fetchall())
        assert "SECRET" not in stored and "SECRET" not in caplog.text
    finally:
        ctl.stop()


def test_published_runs_carry_no_contacts(sample_warehouse):
    """Robot URLs carry keys: the contacts stay in the live warehouse, out of published copies."""
    import duckdb

    from hzeval.store.published import latest_published

    with connect(sample_warehouse, read_only=True) as c:
        assert c.execute("select count(*) from contacts where webhook like '%key=%'").fetchall()[0][0] > 0
    pub = duckdb.connect(str(latest_published(sample_warehouse)), read_only=True)
    try:
        tables = {r[0] for r in pub.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        pub.close()
    assert "share_applications" in tables and "contacts" not in tables


# --------------------------------------------------------------------------- robots: redirects, addresses, retries


class Listener:
    """A TCP port on loopback that records every connection and what was sent on it: the internal
    target an attacker would point a redirect at (an HTTP service, an FTP server)."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1"):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    self.connections.append(conn.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def close(self):
        self._stop.set()
        self.thread.join()
        self.sock.close()


class Redirector:
    """A robot that answers every POST with ``status`` and ``Location: target``, with a body that
    looks like a robot's answer carrying internal data."""

    def __init__(self, status: int, target: str):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                body = json.dumps({"errcode": 0, "errmsg": "INTERNAL-SECRET-PAGE"}).encode()
                self.send_response(status)
                self.send_header("Location", target)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key={KEY_A}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "status, scheme",
    [
        (302, "http4"),
        (301, "http6"),
        (303, "ftp"),
        (308, "http4"),
    ],
)
def test_robot_redirect_is_never_followed_and_its_answer_not_kept(con, smtp_server, status, scheme, caplog):
    """A robot answering 3xx towards an internal target: the target sees no connection at all and
    the ledger keeps only the short status (no errmsg, no Location)."""
    if scheme == "http6" and not _ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    leak = Listener(socket.AF_INET6, "::1") if scheme == "http6" else Listener()
    target = {
        "http4": f"http://127.0.0.1:{leak.port}/leak",
        "http6": f"http://[::1]:{leak.port}/leak",
        "ftp": f"ftp://127.0.0.1:{leak.port}/",
    }[scheme]
    robot = Redirector(status, target)
    try:
        _, smtp = smtp_server
        con.execute("update contacts set webhook = $u where name = '甲局督办群'", {"u": robot.url})
        caplog.set_level(logging.DEBUG)
        result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
        time_left = threading.Event()
        time_left.wait(0.5)  # a followed redirect would have connected by now
    finally:
        robot.close()
        leak.close()
    assert leak.connections == []
    [failed] = [o for o in result.by_status("failed") if o.notice.channel == "wecom"]
    label = failed.notice.recipient
    expected = (
        f"机器人 {label} 返回 HTTP {status}（不跟随重定向）/ robot answered HTTP {status} (redirect not followed)"
    )
    assert failed.error == expected
    stored = con.execute("select distinct error from notices where channel = 'wecom'").fetchall()
    assert stored == [(expected,)]
    for text in (caplog.text, expected):
        assert "INTERNAL-SECRET-PAGE" not in text and str(leak.port) not in text and KEY_A not in text


PUBLIC = "93.184.216.34"  # a public unicast address (example.com's former address)


@pytest.mark.parametrize(
    "resolved",
    [
        ["127.0.0.1"],
        ["::1"],
        ["10.1.2.3"],
        ["172.16.5.4"],
        ["192.168.1.1"],
        ["169.254.169.254"],  # cloud metadata
        ["fe80::1"],
        ["fc00::1"],
        ["0.0.0.0"],
        ["::"],
        ["224.0.0.1"],
        ["ff02::1"],
        ["100.64.0.1"],  # carrier-grade NAT (shared address space)
        ["::ffff:127.0.0.1"],  # IPv4-mapped loopback
        ["::ffff:10.0.0.1"],
        [PUBLIC, "10.0.0.1"],  # every address is checked, not only the first
    ],
)
def test_robot_host_resolving_to_a_non_public_address_is_not_contacted(monkeypatch, resolved):
    from hzeval.notify import channels

    def fake_getaddrinfo(host, port, *args, **kwargs):
        assert host == "robot.example.org"
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in resolved
        ]

    def no_connection(*args, **kwargs):
        raise AssertionError("connected")

    monkeypatch.setattr(channels.socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(channels.socket, "create_connection", no_connection)
    url = "https://robot.example.org/robot/send?access_token=t"
    with pytest.raises(channels.SendError) as exc:
        channels.post_robot(url, {"msgtype": "text"})
    assert "内网或保留地址" in str(exc.value) and "access_token" not in str(exc.value)


def test_robot_address_rules():
    from hzeval.notify.channels import robot_address_allowed

    assert robot_address_allowed(PUBLIC, loopback_ok=False)
    assert robot_address_allowed("2606:2800:220:1:248:1893:25c8:1946", loopback_ok=False)
    assert not robot_address_allowed("127.0.0.1", loopback_ok=False)
    # the loopback switch (a robot URL naming 127.0.0.1, ::1 or localhost: the tests' robots) allows
    # loopback and nothing else
    assert robot_address_allowed("127.0.0.1", loopback_ok=True) and robot_address_allowed("::1", loopback_ok=True)
    assert not robot_address_allowed(PUBLIC, loopback_ok=True)
    assert not robot_address_allowed("10.0.0.1", loopback_ok=True)
    assert not robot_address_allowed("not-an-ip", loopback_ok=False)


def test_robot_answer_text_is_not_kept(con, smtp_server, robots):
    """The robot's errmsg is the target's text: only the errcode number is kept."""
    _, smtp = smtp_server
    robots.answers["/robot/send"] = (200, 310000)
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    [failed] = [o for o in result.by_status("failed") if o.notice.channel == "dingtalk"]
    assert failed.error == (
        f"机器人 {failed.notice.recipient} 拒收（errcode 310000）/ robot refused the message"
        "；未配置此机器人的加签密钥（设置 dingtalk_secrets）/ no 加签 secret set for this robot"
    )  # 310000 from an unsigned 钉钉 post: the hint names the setting
    assert "invalid webhook url" not in " ".join(
        r[0] or "" for r in con.execute("select error from notices").fetchall()
    )


def test_robot_retries_are_bounded(con, smtp_server, robots):
    """A failing robot is tried twice per run (HTTP 500 may pass: one retry within the run), and
    after ROBOT_MAX_FAILURES (5) failed runs in a row no more: backoffs 15, 30, 60, 120 min after
    failures 1–4, so runs at +0, +16 min, +47 min, +1 h 48 min, +3 h 49 min make the 5 attempts;
    the run at +1 day stops without connecting."""
    from hzeval.notify.notices import ROBOT_MAX_FAILURES

    _, smtp = smtp_server
    robots.answers["/cgi-bin/webhook/send"] = (500, 0)
    robots.answers["/robot/send"] = (500, 0)
    assert ROBOT_MAX_FAILURES == 5
    offsets = [0, 16, 47, 108, 229]  # minutes after NOW
    for minutes in offsets:
        run = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=minutes), smtp=smtp)
        assert len([o for o in run.by_status("failed") if o.notice.channel != "email"]) == 2, minutes
    assert robots.hits == 2 * 5 * 2  # two robots, 5 runs, an attempt and its one retry each
    last = send_notices(con, AS_OF, now=NOW + dt.timedelta(days=1), smtp=smtp)
    assert robots.hits == 20
    assert {o.notice.channel for o in last.by_status("stopped")} == {"wecom", "dingtalk"}
    assert not last.ok
    with pytest.raises(NotifyError) as exc:
        raise_for_failures(last)
    assert "2 条停止重试" in exc.value.message


# --------------------------------------------------------------------------- 钉钉 加签, 企业微信 keys, the retry

DING_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def test_dingtalk_sign_is_dingtalks_scheme():
    """DingTalk's documented 加签: sign = urlencode(base64(HMAC-SHA256(key=secret, "<ms>\\n<secret>"))).
    Worked out with openssl, independently of Python:
    printf '1700000000000\\nSECtest' | openssl dgst -sha256 -hmac SECtest -binary | base64
    → aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=  ('+' '/' '=' URL-encoded: only '=' here → %3D)."""
    from hzeval.notify.channels import dingtalk_sign, signed_url

    assert dingtalk_sign("SECtest", 1700000000000) == "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
    url = "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1&sign=old"  # a stale pair is replaced
    assert signed_url(url, "SECtest", now_ms=1700000000000) == (
        "https://oapi.dingtalk.com/robot/send?access_token=t"
        "&timestamp=1700000000000&sign=aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
    )


def _ding_secret(monkeypatch, robots, secret: str) -> str:
    """Set the 钉钉 robot's secret (HZEVAL_DINGTALK_SECRETS, keyed by its name); return its name."""
    from hzeval.notify.channels import robot_label

    name = robot_label(robots.url("dingtalk", TOKEN_B))
    monkeypatch.setenv("HZEVAL_DINGTALK_SECRETS", f"example.org#0123456789ab=other,{name}={secret}")
    return name


def test_signed_dingtalk_post_with_the_right_secret_is_accepted(con, smtp_server, robots, monkeypatch):
    _, smtp = smtp_server
    robots.dingtalk_secret = DING_SECRET  # the robot refuses any post not signed with it
    _ding_secret(monkeypatch, robots, DING_SECRET)
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    assert result.ok
    [(path, message)] = [(p, m) for p, m in robots.received if p.startswith("/robot/send")]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert set(query) == {"access_token", "timestamp", "sign"} and query["access_token"] == [TOKEN_B]
    assert robots.hits_by["/robot/send"] == 1 and message["msgtype"] == "markdown"
    assert DING_SECRET not in " ".join(str(r) for r in con.execute("select * from notices").fetchall())


def test_dingtalk_post_with_a_wrong_or_no_secret_is_refused_and_not_retried(con, smtp_server, robots, monkeypatch):
    _, smtp = smtp_server
    robots.dingtalk_secret = DING_SECRET
    _ding_secret(monkeypatch, robots, "SECwrong")
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    [failed] = [o for o in result.by_status("failed") if o.notice.channel == "dingtalk"]
    assert "errcode 310000" in failed.error and "SECwrong" not in failed.error and "加签密钥" not in failed.error
    assert robots.hits_by["/robot/send"] == 1  # a signature that does not match fails the same way again
    assert failed.next_attempt_at == NOW + dt.timedelta(minutes=15)  # then waits for a later run

    monkeypatch.delenv("HZEVAL_DINGTALK_SECRETS")  # unsigned: refused, and the error names the setting
    later = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=16), smtp=smtp)
    [unsigned] = [o for o in later.by_status("failed") if o.notice.channel == "dingtalk"]
    assert "dingtalk_secrets" in unsigned.error and robots.hits_by["/robot/send"] == 2


@pytest.mark.parametrize(
    "first, retried",
    [
        ((500, 0), True),  # the robot's server failed: may pass
        ((429, 0), True),  # too many requests
        ((200, 45009), True),  # 企业微信: frequency limit
        ((200, 130101), True),  # 钉钉: more than 20 a minute
        ((404, 0), False),  # wrong path: fails the same way again
        ((200, 93000), False),  # 企业微信: invalid webhook key
    ],
)
def test_one_retry_within_the_run_when_the_failure_may_pass(con, smtp_server, robots, first, retried):
    _, smtp = smtp_server
    robots.script["/cgi-bin/webhook/send"] = [first]  # this answer once, then success
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    [wecom] = [o for o in result.outcomes if o.notice.channel == "wecom"]
    if retried:
        assert wecom.status == "sent" and robots.hits_by["/cgi-bin/webhook/send"] == 2  # the retry, observed once
    else:
        assert wecom.status == "failed" and robots.hits_by["/cgi-bin/webhook/send"] == 1
        assert "已重试" not in wecom.error


def test_the_retry_is_bounded_to_one_and_signs_afresh(con, smtp_server, robots, monkeypatch):
    _, smtp = smtp_server
    robots.dingtalk_secret = DING_SECRET
    _ding_secret(monkeypatch, robots, DING_SECRET)
    robots.script["/robot/send"] = [(503, 0), (503, 0), (503, 0)]
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    [failed] = [o for o in result.by_status("failed") if o.notice.channel == "dingtalk"]
    assert robots.hits_by["/robot/send"] == 2 and "HTTP 503" in failed.error and "已重试 1 次" in failed.error
    assert failed.next_attempt_at == NOW + dt.timedelta(minutes=15)  # the item waits for the next run
    robots.script["/robot/send"] = [(503, 0)]  # next run: fails once, the retry is signed and accepted
    again = send_notices(con, AS_OF, now=NOW + dt.timedelta(minutes=16), smtp=smtp)
    assert [o.status for o in again.outcomes if o.notice.channel == "dingtalk"] == ["sent"]
    assert robots.hits_by["/robot/send"] == 4


def test_robot_keys_are_checked_for_shape():
    """企业微信: exactly one ``key``; 钉钉: exactly one ``access_token``; letters, digits, - and _."""
    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send") is None  # no key
    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=") is None
    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a&key=b") is None
    assert robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a%0Ab") is None
    assert robot_kind("https://oapi.dingtalk.com/robot/send?key=t") is None  # 钉钉 names it access_token
    assert robot_kind("https://oapi.dingtalk.com/robot/send?access_token=" + "x" * 129) is None


def test_dingtalk_secrets_setting_is_validated_and_masked(tmp_path, monkeypatch):
    from hzeval.errors import ConfigError
    from hzeval.util import settings

    monkeypatch.delenv("HZEVAL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    good = {"HZEVAL_DINGTALK_SECRETS": f"oapi.dingtalk.com#0123456789ab={DING_SECRET}"}
    assert settings.apply(good)["dingtalk_secrets"][1] == "env"
    assert settings.shown("dingtalk_secrets", good["HZEVAL_DINGTALK_SECRETS"]) == settings.MASK
    for bad in ("oapi.dingtalk.com=SECx", f"oapi.dingtalk.com#0123456789ab {DING_SECRET}", "h#0123456789ab=a b=c"):
        with pytest.raises(ConfigError) as exc:
            settings.apply({"HZEVAL_DINGTALK_SECRETS": bad})
        assert "dingtalk_secrets" in exc.value.message and DING_SECRET not in str(exc.value.args)
    # in hzeval.toml also as a table (a file with a secret must be mode 600)
    path = tmp_path / "hzeval.toml"
    path.write_text(f'[hzeval.dingtalk_secrets]\n"oapi.dingtalk.com#0123456789ab" = "{DING_SECRET}"\n')
    path.chmod(0o600)
    env: dict[str, str] = {}
    settings.apply(env)
    assert settings.robot_secrets(env["HZEVAL_DINGTALK_SECRETS"]) == {"oapi.dingtalk.com#0123456789ab": DING_SECRET}


# --------------------------------------------------------------------------- addresses


ENCODED = "=?utf-8?q?x=0D=0ABcc=3A_e=40evil.example?=@example.org"


def test_valid_email_takes_addresses_as_the_mail_library_uses_them():
    from hzeval.notify.channels import valid_email

    assert valid_email("chen.min@hz.gov.cn") and valid_email("o'brien+duban@example.org")
    assert not valid_email(ENCODED)  # decodes to "x\r\nBcc: e@evil.example"
    assert not valid_email("x=?a?=@example.org")  # no "?" at all: no encoded word
    assert not valid_email("a..b@example.org") and not valid_email(".a@example.org")  # defects in email
    assert not valid_email('"a b"@example.org') and not valid_email("a@example.org, b@evil.example")
    assert not valid_email("Name <a@example.org>") and not valid_email("a@example.org\r\nBcc: b@evil.example")
    assert not valid_email("x" * 65 + "@example.org")  # local part at most 64
    # "a@" (2) + five 50-letter labels (250) + 4 dots + ".org" (4) = 260 characters > 254
    assert not valid_email("a@" + ".".join(c * 50 for c in "bcdef") + ".org")
    assert valid_email("a@" + ".".join(c * 50 for c in "bcd") + ".org")  # 2 + 150 + 2 + 4 = 158


def test_one_bad_address_fails_its_notice_only(con, smtp_server, monkeypatch):
    """An address the check would miss (simulated) makes the mail library raise for A: A's notice is
    a failed row in the ledger, and B, C and ZC, after it, are still sent."""
    from hzeval.notify import notices

    inbox, smtp = smtp_server
    monkeypatch.setattr(notices, "valid_email", lambda addr: True)
    con.execute("update contacts set email = $e where agency_code = 'A' and email is not null", {"e": ENCODED})
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    mails = [o for o in result.outcomes if o.notice.channel == "email"]
    assert [(o.notice.agency_code, o.status) for o in mails] == [
        ("A", "failed"),
        ("B", "sent"),
        ("C", "sent"),
        ("ZC", "sent"),
    ]
    assert mails[0].error == "邮件无法生成（收件地址无效）/ cannot build the message: ValueError"
    assert [r[0] for r in inbox.messages] == [["b@example.org"], ["c@example.org"], ["zc@example.org"]]
    stored = con.execute("select distinct status, error from notices where agency_code = 'A' and channel = 'email'")
    assert stored.fetchall() == [("failed", mails[0].error)]


def test_smtplib_refusal_leaves_the_session_usable(con, smtp_server, monkeypatch):
    """smtplib refusing one recipient after MAIL FROM (a ValueError for CR/LF in RCPT TO) ends that
    transaction (RSET); the next agency's mail goes out on the same session."""
    import smtplib

    inbox, smtp = smtp_server
    real = smtplib.SMTP.rcpt

    def rcpt(self, recip, options=()):
        if recip == "a@example.org":
            raise ValueError("command and arguments contain prohibited newline characters")
        return real(self, recip, options)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt)
    result = send_notices(con, AS_OF, now=NOW, smtp=smtp)
    mails = {o.notice.agency_code: o for o in result.outcomes if o.notice.channel == "email"}
    assert mails["A"].status == "failed" and "ValueError" in mails["A"].error
    assert {k: o.status for k, o in mails.items() if k != "A"} == {"B": "sent", "C": "sent", "ZC": "sent"}
    assert sorted(r[0][0] for r in inbox.messages) == ["b@example.org", "c@example.org", "zc@example.org"]


def test_validate_lists_rejected_and_unusable_addresses(tmp_path, drop, capsys):
    from hzeval.cli.main import main

    (drop / "contacts.csv").write_text(
        f"机构代码,联系人,邮箱,机器人地址,角色\nA,陈敏,a@example.org,,数据专员\nN,王军,{ENCODED},,分管领导\n"
        "Z,市局,z@example.org,https://example.org/not-a-robot,领导\n",
        encoding="utf-8",
    )
    db = tmp_path / "wh.duckdb"
    main(["--db", str(db), "load", str(drop)])
    capsys.readouterr()
    main(["--db", str(db), "validate"])
    out = " ".join(capsys.readouterr().out.split())
    assert "无法使用的督办联系人 2 条" in out
    assert "contacts.csv 第 3 行 email：邮箱格式无效" in out  # rejected at load
    assert "Z 市局：机器人地址无效" in out  # loaded, but not a robot URL
    assert "丙局（N）" in out  # N's only contact was rejected: N has no contact


def test_a_notice_for_a_data_subject_objection_quotes_the_second_paragraph():
    """The issue's notice told a receiving agency the 数源部门's sentence (第一款): the article picks the paragraph."""
    from hzeval.metrics.profiles import load_profile
    from hzeval.notify.compose import deadline_text

    draft = load_profile("huizhou-draft-2022")
    assert deadline_text("objection_timeliness", draft, "第二十八条第二款").startswith(
        "如数据主体办理业务过程中，对公共数据有异议，公共管理和服务机构应当自收到反馈之日起 10 个工作日内"
    )
    assert deadline_text("objection_timeliness", draft, "第二十八条").startswith("数源部门在收到反馈 10 个工作日内")
    assert deadline_text("objection_timeliness", draft) == draft.deadlines["objection"].text
