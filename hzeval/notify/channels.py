"""Delivery channels for 督办 notices: mail over SMTP and 企业微信 / 钉钉 group robots.

Secrets stay out of the repository, the warehouse and the logs:

- SMTP settings come from environment variables (:meth:`SmtpConfig.from_env`); the password is
  only handed to ``smtplib.login`` and never formatted into a message.
- A robot's URL carries its key; the ledger and every message name a robot by
  :func:`robot_label` (host and a short hash), and :func:`scrub` removes the URL and its key from
  any error text before it is stored or logged.

钉钉 robots with 加签 (the default for new robots) have each post signed (:func:`dingtalk_sign`) with
the robot's secret, which lives in the setting ``dingtalk_secrets`` (``HZEVAL_DINGTALK_SECRETS`` or
``hzeval.toml``), keyed by the robot's name (:func:`robot_label`): never in the contacts the agencies
send, nor in the repository. A 企业微信 robot's key is the ``key`` of its URL, checked for shape and
never shown. :func:`send_robot` makes one bounded retry within the run when a failure may pass
(unreachable, HTTP 5xx/429, the vendors' rate limits) before the item waits for a later run.

Plain-text transports (SMTP without TLS, robots over ``http://``) are allowed only to loopback
addresses, which is what the tests use.
"""

from __future__ import annotations

import base64
import email.errors
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from hzeval.contract import EMAIL_PATTERN
from hzeval.errors import ConfigError
from hzeval.util.settings import robot_secrets

#: the robots' JSON message formats, recognised by host, else by the vendors' URL paths
ROBOT_HOSTS = {"qyapi.weixin.qq.com": "wecom", "oapi.dingtalk.com": "dingtalk"}
ROBOT_PATHS = {"/cgi-bin/webhook/send": "wecom", "/robot/send": "dingtalk"}
CHANNEL_ZH = {"email": "邮件", "wecom": "企业微信机器人", "dingtalk": "钉钉机器人"}
#: 企业微信 markdown content is limited to 4096 bytes (UTF-8); 钉钉 accepts more, we keep one budget
ROBOT_MAX_BYTES = 4000
#: the contract's address pattern (checked at load); :func:`valid_email` adds the lengths and the mail library
EMAIL_RE = re.compile(EMAIL_PATTERN)
TIMEOUT = 15
#: the URL parameter carrying each vendor's robot key, and the shape of that key
ROBOT_KEY_PARAM = {"wecom": "key", "dingtalk": "access_token"}
ROBOT_KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
#: failures that may pass on their own get one more attempt after this many seconds (the run's only retry)
ROBOT_RETRY_DELAY = 3.0
#: errcodes meaning "too fast": 钉钉 130101 (more than 20 a minute), 企业微信 45009 (frequency), -1 (busy)
ROBOT_RETRY_ERRCODES = {130101, 45009, -1}
#: 钉钉's errcode when the signature (or another security setting) does not match
DINGTALK_SIGN_ERRCODE = 310000


class SendError(Exception):
    """One delivery failed; ``str()`` is a short, secret-free reason; ``retry``: whether another
    attempt may succeed (unreachable, HTTP 5xx/429, a rate limit), else it would fail the same way.

    Internal control flow, not an :class:`~hzeval.errors.HzevalError`: each is caught where the delivery
    is attempted and recorded in ``notices``; the user sees :class:`~hzeval.errors.NotifyError` for the run."""

    def __init__(self, reason: str, retry: bool = False):
        super().__init__(reason)
        self.retry = retry


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- addresses


def valid_email(addr: str | None) -> bool:
    """An address the mail library takes as it is: the contract's pattern (no encoded words, no
    header syntax), at most 64 characters before the ``@`` and 254 in all, and parsed by
    :mod:`email` back to exactly itself with no defect."""
    if not addr or len(addr) > 254 or EMAIL_RE.fullmatch(addr) is None or len(addr.rsplit("@", 1)[0]) > 64:
        return False
    try:
        header = EmailMessage()
        header["To"] = addr
        parsed = header["To"]
        return not parsed.defects and [a.addr_spec for a in parsed.addresses] == [addr]
    except (ValueError, TypeError, IndexError, email.errors.MessageError):
        return False


def robot_kind(url: str | None) -> str | None:
    """``wecom`` / ``dingtalk`` for a usable robot URL (https, or http to loopback), else None."""
    if not url or len(url) > 1000 or any(c.isspace() for c in url):
        return None
    try:
        u = urllib.parse.urlsplit(url)
        host = u.hostname
    except ValueError:
        return None
    if u.scheme == "http" and not is_loopback(host):
        return None
    if u.scheme not in ("https", "http") or not host or u.username or u.password:
        return None
    kind = ROBOT_HOSTS.get(host.lower()) or ROBOT_PATHS.get(u.path.rstrip("/"))
    if kind is None:
        return None
    # the robot's key (企业微信 key, 钉钉 access_token): exactly one, of the vendors' shape
    keys = urllib.parse.parse_qs(u.query, keep_blank_values=True).get(ROBOT_KEY_PARAM[kind], [])
    if len(keys) != 1 or ROBOT_KEY_RE.fullmatch(keys[0]) is None:
        return None
    return kind


def robot_label(url: str) -> str:
    """How a robot is named in the ledger, logs and summaries: host and a hash, never its key."""
    host = urllib.parse.urlsplit(url).hostname or "?"
    return f"{host}#{hashlib.sha256(url.encode('utf-8')).hexdigest()[:12]}"


def scrub(text: str, *secrets: str | None) -> str:
    """An error text without the given secrets (URLs, their query strings, passwords), one line, bounded."""
    out = str(text)
    for s in secrets:
        if not s:
            continue
        out = out.replace(s, "***")
        if "?" in s:
            out = out.replace(s.split("?", 1)[1], "***")
    out = re.sub(r"(key|access_token|token|sign|secret)=[^&\s'\"]+", r"\1=***", out, flags=re.I)
    return " ".join(out.split())[:300]


# --------------------------------------------------------------------------- mail


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # starttls | ssl | none (loopback only)
    user: str | None
    password: str | None
    sender: str
    cafile: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r})"

    @classmethod
    def from_env(cls, env=None) -> SmtpConfig | None:
        """``HZEVAL_SMTP_HOST`` (none: mail is not configured), ``HZEVAL_SMTP_PORT``,
        ``HZEVAL_SMTP_SECURITY`` (starttls, ssl; none only to loopback), ``HZEVAL_SMTP_USER``,
        ``HZEVAL_SMTP_PASSWORD``, ``HZEVAL_SMTP_FROM``, ``HZEVAL_SMTP_CAFILE`` (an internal CA)."""
        env = os.environ if env is None else env
        host = (env.get("HZEVAL_SMTP_HOST") or "").strip()
        if not host:
            return None
        security = (env.get("HZEVAL_SMTP_SECURITY") or "starttls").strip().lower()
        if security not in ("starttls", "ssl", "none"):
            raise ConfigError(
                f"HZEVAL_SMTP_SECURITY 只能是 starttls、ssl 或 none：{security}",
                f"HZEVAL_SMTP_SECURITY must be starttls, ssl or none, not {security!r}",
            )
        if security == "none" and not is_loopback(host):
            raise ConfigError(
                f"不加密的 SMTP 只允许连接本机（HZEVAL_SMTP_HOST={host}），请用 starttls 或 ssl",
                f"unencrypted SMTP is only allowed to loopback, not {host}: use starttls or ssl",
            )
        port_text = (env.get("HZEVAL_SMTP_PORT") or "").strip()
        try:
            port = int(port_text) if port_text else {"ssl": 465, "starttls": 587, "none": 25}[security]
        except ValueError:
            raise ConfigError(
                f"HZEVAL_SMTP_PORT 不是端口号：{port_text}", f"HZEVAL_SMTP_PORT is not a port: {port_text!r}"
            ) from None
        user = env.get("HZEVAL_SMTP_USER") or None
        sender = (env.get("HZEVAL_SMTP_FROM") or user or "").strip()
        if not valid_email(sender):
            raise ConfigError(
                "HZEVAL_SMTP_FROM（发件地址）缺失或无效", "HZEVAL_SMTP_FROM (sender address) missing or invalid"
            )
        return cls(
            host,
            port,
            security,
            user,
            env.get("HZEVAL_SMTP_PASSWORD") or None,
            sender,
            env.get("HZEVAL_SMTP_CAFILE") or None,
        )


class Mailer:
    """One SMTP session per notify run, opened on the first message."""

    def __init__(self, config: SmtpConfig | None):
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        #: a session that could not be opened fails the run's other mails at once (no N timeouts)
        self._open_error: SendError | None = None

    def _open(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg is None:
            raise SendError("未配置邮件服务器（环境变量 HZEVAL_SMTP_HOST）/ mail not configured")
        ctx = ssl.create_default_context(cafile=cfg.cafile)
        smtp: smtplib.SMTP
        try:
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=TIMEOUT, context=ctx)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=TIMEOUT)
                if cfg.security == "starttls":
                    smtp.starttls(context=ctx)
            if cfg.user:
                smtp.login(cfg.user, cfg.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"邮件服务器拒绝登录 / SMTP authentication failed ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise SendError(
                scrub(
                    f"无法连接邮件服务器 {cfg.host}:{cfg.port} / cannot reach SMTP server: {type(exc).__name__}: {exc}",
                    cfg.password,
                )
            ) from None
        return smtp

    def send(self, to: str, subject: str, text: str, html: str) -> None:
        if self._open_error is not None:
            raise SendError(str(self._open_error))
        if self._smtp is None:
            try:
                self._smtp = self._open()
            except SendError as exc:
                self._open_error = exc
                raise
        cfg = self.config
        assert cfg is not None  # a connection is open only with a configuration (_open)
        msg = EmailMessage()
        try:
            msg["Subject"] = " ".join(subject.split())
            msg["From"] = formataddr(("公共数据督办", cfg.sender))
            msg["To"] = to
            msg["Message-ID"] = make_msgid(domain=cfg.sender.rsplit("@", 1)[1])
            msg.set_content(text, charset="utf-8")
            msg.add_alternative(html, subtype="html", charset="utf-8")
        except (ValueError, TypeError, IndexError, email.errors.MessageError) as exc:
            # an address the mail library refuses fails this notice only, never the run's others
            raise SendError(f"邮件无法生成（收件地址无效）/ cannot build the message: {type(exc).__name__}") from None
        try:
            refused = self._smtp.send_message(msg, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused:
            raise SendError(f"邮件服务器拒收收件人 {to} / recipient refused") from None
        except (ValueError, TypeError, UnicodeError, email.errors.MessageError) as exc:
            # refused by smtplib (e.g. CR/LF in RCPT TO): end the half-begun transaction so the
            # session stays usable for the others, or start a new one for the next
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self.close()
            raise SendError(f"邮件无法发送（收件地址无效）/ message refused by smtplib: {type(exc).__name__}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SendError(
                scrub(f"发送邮件失败 / sending failed: {type(exc).__name__}: {exc}", cfg.password)
            ) from None
        if refused:
            raise SendError(f"邮件服务器拒收收件人 {to} / recipient refused")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


# --------------------------------------------------------------------------- robots


#: the robot's answer is read up to this many bytes; only its ``errcode`` (a number) is kept
ROBOT_MAX_ANSWER = 65536


def robot_address_allowed(ip: str, loopback_ok: bool) -> bool:
    """Whether a robot may be reached at the resolved address ``ip``: a public unicast address, or,
    only when the robot's URL itself names loopback (the tests' local robots), a loopback address.
    Private, link-local, multicast, unspecified and reserved addresses are never reached, nor an
    IPv4 address wrapped in IPv6 (``::ffff:127.0.0.1``) that would not pass on its own."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if loopback_ok:
        return addr.is_loopback
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_unspecified
        or addr.is_reserved
    )


def _resolve(host: str, port: int, label: str) -> str:
    """The address to connect to, after every address the name resolves to was checked."""
    loopback_ok = is_loopback(host)  # the loopback switch: http/https to 127.0.0.1, ::1 or localhost
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise SendError(f"无法解析机器人 {label} 的地址 / cannot resolve the robot's host", retry=True) from None
    ips = [str(info[4][0]) for info in infos]
    if not ips or not all(robot_address_allowed(ip, loopback_ok) for ip in ips):
        raise SendError(
            f"机器人 {label} 的地址指向内网或保留地址，拒绝连接 / robot host resolves to a non-public address"
        )
    return ips[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to the checked address ``ip`` (no second lookup: no DNS rebinding)."""

    def __init__(self, host: str, port: int, ip: str):
        super().__init__(host, port, timeout=TIMEOUT)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to the checked address ``ip``, the certificate verified for ``host``."""

    def __init__(self, host: str, port: int, ip: str):
        self._ctx = ssl.create_default_context()
        super().__init__(host, port, timeout=TIMEOUT, context=self._ctx)
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64 of HMAC-SHA256 over ``"<timestamp>\\n<secret>"`` keyed by the secret, URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def dingtalk_secret(url: str, env=None) -> str | None:
    """The 加签 secret of the 钉钉 robot at ``url`` from the setting ``dingtalk_secrets``, else None."""
    env = os.environ if env is None else env
    try:
        secrets = robot_secrets(env.get("HZEVAL_DINGTALK_SECRETS") or "")
    except ValueError:  # validated at start (hzeval.util.settings); a later bad value signs nothing
        return None
    return secrets.get(robot_label(url))


def signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """``url`` with ``&timestamp=<ms>&sign=<…>`` (any earlier timestamp/sign dropped)."""
    u = urllib.parse.urlsplit(url)
    timestamp = int(time.time() * 1000) if now_ms is None else now_ms
    kept = [p for p in u.query.split("&") if p and p.split("=", 1)[0] not in ("timestamp", "sign")]
    query = "&".join([*kept, f"timestamp={timestamp}", f"sign={dingtalk_sign(secret, timestamp)}"])
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, query, ""))


def send_robot(url: str, payload: dict, secret: str | None = None, delay: float | None = None) -> int:
    """Post with :func:`post_robot`, signed when ``secret`` is given (freshly for each attempt), and
    once more after ``delay`` seconds (default :data:`ROBOT_RETRY_DELAY`) when the failure may
    pass; returns the number of attempts made. The second failure is raised with a note that it
    was retried; the item then waits for a later run (:mod:`hzeval.notify.notices`)."""
    for attempt in (1, 2):
        try:
            post_robot(signed_url(url, secret) if secret else url, payload, label=robot_label(url))
            return attempt
        except SendError as exc:
            if attempt == 2:
                raise SendError(f"{exc}（已重试 1 次 / retried once）") from None
            if not exc.retry:
                if secret is None and robot_kind(url) == "dingtalk" and f"errcode {DINGTALK_SIGN_ERRCODE}" in str(exc):
                    raise SendError(
                        f"{exc}；未配置此机器人的加签密钥（设置 dingtalk_secrets）/ no 加签 secret set for this robot"
                    ) from None
                raise
            time.sleep(ROBOT_RETRY_DELAY if delay is None else delay)
    raise AssertionError("unreachable")  # pragma: no cover


def post_robot(url: str, payload: dict, label: str | None = None) -> None:
    """POST a robot message; raise :class:`SendError` unless the robot answers HTTP 200 with ``errcode`` 0.

    No redirect is followed (a 3xx is a failure with its status), every address the host resolves
    to is checked (:func:`robot_address_allowed`) and the connection goes to the checked address;
    the robot's answer is never kept beyond its HTTP status and ``errcode``. One attempt
    (:func:`send_robot` retries); ``label`` names the robot in errors (default: of ``url``)."""
    if robot_kind(url) is None:
        raise SendError("机器人地址无效（须为 https）/ invalid robot URL (https required)")
    u = urllib.parse.urlsplit(url)
    label = label or robot_label(url)
    host = u.hostname or ""
    try:
        port = u.port or (443 if u.scheme == "https" else 80)
    except ValueError:
        raise SendError("机器人地址无效（端口）/ invalid robot URL (port)") from None
    ip = _resolve(host, port, label)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    target = (u.path or "/") + (f"?{u.query}" if u.query else "")
    conn = _PinnedHTTPS(host, port, ip) if u.scheme == "https" else _PinnedHTTP(host, port, ip)
    try:
        conn.request("POST", target, body=body, headers={"Content-Type": "application/json; charset=utf-8"})
        resp = conn.getresponse()
        status = resp.status
        raw = resp.read(ROBOT_MAX_ANSWER) if status == 200 else b""
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        reason = type(exc).__name__
        raise SendError(f"无法连接机器人 {label} / cannot reach robot: {reason}", retry=True) from None
    finally:
        conn.close()
    if 300 <= status < 400:
        raise SendError(
            f"机器人 {label} 返回 HTTP {status}（不跟随重定向）/ robot answered HTTP {status} (redirect not followed)"
        )
    if status != 200:
        retry = status >= 500 or status == 429
        raise SendError(f"机器人 {label} 返回 HTTP {status} / robot answered HTTP {status}", retry=retry)
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SendError(f"机器人 {label} 的应答不是 JSON / robot answer is not JSON") from None
    code = answer.get("errcode") if isinstance(answer, dict) else None
    if code != 0:
        shown = code if isinstance(code, int) and not isinstance(code, bool) and abs(code) < 10**9 else "?"
        raise SendError(
            f"机器人 {label} 拒收（errcode {shown}）/ robot refused the message", retry=shown in ROBOT_RETRY_ERRCODES
        )
