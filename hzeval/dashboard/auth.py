"""Dashboard login: a users file with salted PBKDF2 hashes, signed cookies bound to a user's
session version, signed Bokeh sessions bound to the user who opened them, throttled retries.

Users file (JSON)::

    {"zhang": {"salt": "<hex>", "hash": "<hex>", "iterations": 600000, "role": "leader", "epoch": 3}, ...}

The file must be readable by its owner only (mode 600: ``hzeval user add`` creates it so); a file
others can read is refused. A hash made with fewer than :data:`ITERATIONS` iterations (older
files: 310,000) is made again at :data:`ITERATIONS` on the user's next successful login.

Roles: ``leader``, ``evaluator`` (adds evidence export), ``agency:<code>``. Passwords are never
stored, only PBKDF2-HMAC-SHA256 over a per-user random salt. ``epoch`` is the user's session
version: the login cookie carries it, and logging out, resetting the user (``user add`` again)
or removing the user changes it, which ends every cookie and every open dashboard session of
that user (open sessions re-check it every :data:`RECHECK_SECONDS`).

Server secret: ``$HZEVAL_COOKIE_SECRET`` or ``$BOKEH_SECRET_KEY`` (at least 32 characters and 10
distinct ones: :func:`hzeval.util.secret.weak_secret`), else
a random one generated once into ``.hzeval-dashboard.secret`` beside the users file (mode 600,
never in the repository). It signs the login cookie and, through a derived key, Bokeh's
session ids and tokens (``sign_sessions``).

Every request's user is the cookie's user as the users file has it now (:func:`identity`);
a Bokeh session id or token chosen by the client is accepted only for a session of that same
user (:data:`OWNERS`), so a leaked dashboard URL or token gives nobody else the session.

The Bokeh session token (in the page's HTML, sent back in ``Sec-WebSocket-Protocol``) carries no
cookie and no ``Cookie`` header (``include_cookies=[]``, ``exclude_headers=["Cookie"]``): the
HttpOnly login cookie never reaches a script. It carries instead a login claim
(:func:`login_claim`: the user's ``epoch:name`` and when the login cookie expires), signed with the
token. The login and CSRF cookies are ``Secure`` with ``--secure-cookies`` (behind TLS) or when the
request itself came over https.

The tornado handlers render self-contained pages (no CDN, no external resources); login and
logout are POST forms with a CSRF token, and the provider plugs into Panel/Bokeh's
``auth_provider`` hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import unicodedata
from pathlib import Path

from hzeval.dashboard.store import User, valid_role
from hzeval.errors import ConfigError, HzevalError
from hzeval.util.escape import html_text
from hzeval.util.secret import weak_secret

#: PBKDF2-HMAC-SHA256 iterations for new and upgraded hashes (OWASP 2023: 600,000)
ITERATIONS = 600_000
#: what the Bokeh session token carries instead of the login cookie (:func:`login_claim`)
CLAIM_KEY = "hz_login"
COOKIE_ENV = "HZEVAL_COOKIE_SECRET"
BOKEH_ENV = "BOKEH_SECRET_KEY"
USERS_ENV = "HZEVAL_USERS"
SECRET_FILE = ".hzeval-dashboard.secret"
COOKIE_DAYS = 1
#: seconds between two checks of an open session against the users file (removal, role change, logout)
RECHECK_SECONDS = float(os.environ.get("HZEVAL_SESSION_RECHECK", "20"))
LOGIN_COOKIE = "user"
CSRF_COOKIE = "hz_csrf"
MAX_NAME = 64


# --------------------------------------------------------------------------- users file


def hash_password(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations).hex()


def read_users(path: Path | str) -> dict[str, dict]:
    """The users file's entries ({} when there is none); refused when others may read it."""
    p = Path(path)
    if not p.exists():
        return {}
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise HzevalError(f"无法读取用户文件 {p}：{exc}", f"cannot read users file {p}: {exc}", file=str(p)) from exc
    if mode & 0o077:
        raise ConfigError(
            f"用户文件 {p} 权限过宽（{oct(mode & 0o777)[2:]}），其中有密码哈希：请执行 chmod 600 {p}",
            f"users file {p} is readable by others (mode {oct(mode & 0o777)[2:]}): chmod 600 it",
            file=str(p),
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HzevalError(f"无法读取用户文件 {p}：{exc}", f"cannot read users file {p}: {exc}", file=str(p)) from exc
    if not isinstance(data, dict):
        raise HzevalError(f"用户文件 {p} 格式错误", f"users file {p} is not a JSON object", file=str(p))
    return data


@contextlib.contextmanager
def _editing(path: Path):
    """Read-modify-write of the users file under an exclusive lock (CLI and server may both write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        users = read_users(path)
        yield users
        tmp = path.with_name(f".{path.name}.tmp")
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(out, "w", encoding="utf-8") as f:
            json.dump(users, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        os.close(fd)  # releases the lock


def valid_name(name: str) -> bool:
    return (
        0 < len(name) <= MAX_NAME
        and name != "guest"
        and not any(c.isspace() or unicodedata.category(c)[0] in "CZ" for c in name)
    )


def add_user(path: Path | str, name: str, password: str, role: str, iterations: int = ITERATIONS) -> None:
    """Add or replace a user (atomic write, file mode 600). Replacing ends the user's sessions."""
    if not valid_role(role):
        raise HzevalError(
            f"无效角色 {role}（应为 leader、evaluator 或 agency:机构代码）",
            f"invalid role {role!r} (leader, evaluator or agency:CODE)",
        )
    if not valid_name(name):
        raise HzevalError(
            f"无效用户名 {name!r}（1–{MAX_NAME} 个字符，不含空白和控制字符，不能是 guest）",
            f"invalid user name {name!r} (1-{MAX_NAME} characters, no spaces or control characters, not guest)",
        )
    if len(password) < 8:
        raise HzevalError("密码至少 8 个字符", "password must have at least 8 characters")
    salt = secrets.token_bytes(16)
    entry = {
        "salt": salt.hex(),
        "hash": hash_password(password, salt, iterations),
        "iterations": iterations,
        "role": role,
    }
    with _editing(Path(path)) as users:
        old = users.get(name)
        entry["epoch"] = _epoch(old) + 1 if isinstance(old, dict) else 1
        users[name] = entry


def remove_user(path: Path | str, name: str) -> None:
    """Remove a user: their cookies stop working at once, open sessions close at the next re-check."""
    p = Path(path)
    with _editing(p) as users:
        if name not in users:
            raise HzevalError(f"用户文件 {p} 中没有用户 {name}", f"no user {name!r} in {p}", file=str(p))
        del users[name]


def list_users(path: Path | str) -> list[tuple[str, str]]:
    """(name, role) of every user, sorted by name."""
    return sorted((n, str(e.get("role", "?"))) for n, e in read_users(path).items() if isinstance(e, dict))


def end_sessions(path: Path | str, name: str) -> None:
    """Logout: a new session version for ``name`` (every cookie and open session of it ends)."""
    with _editing(Path(path)) as users:
        if isinstance(users.get(name), dict):
            users[name]["epoch"] = _epoch(users[name]) + 1


def _epoch(entry: dict) -> int:
    try:
        return int(entry.get("epoch", 0))
    except (TypeError, ValueError):
        return -1


_DUMMY_SALT = secrets.token_bytes(16)


def verify(users: dict[str, dict], name: str, password: str) -> User | None:
    """The user when the password matches, else None (same work for unknown names)."""
    entry = users.get(name)
    if not isinstance(entry, dict) or not {"salt", "hash", "role"} <= entry.keys():
        hash_password(password, _DUMMY_SALT)  # equalise timing for unknown names
        return None
    digest = hash_password(password, bytes.fromhex(entry["salt"]), int(entry.get("iterations", ITERATIONS)))
    if hmac.compare_digest(digest, entry["hash"]) and valid_role(entry["role"]):
        return User(name, entry["role"])
    return None


def login(users_file: Path | str, name: str, password: str, iterations: int = ITERATIONS) -> User | None:
    """:func:`verify` against the users file; on success a hash made with fewer than ``iterations``
    iterations is made again with them (new salt; same role and session version, so the cookie
    this login sets stays valid). The entry is rewritten only if nobody changed it meanwhile."""
    users = read_users(users_file)
    user = verify(users, name, password)
    if user is None:
        return None
    old = users[name]
    if int(old.get("iterations", ITERATIONS)) < iterations:
        salt = secrets.token_bytes(16)
        fresh = {**old, "salt": salt.hex(), "hash": hash_password(password, salt, iterations), "iterations": iterations}
        with _editing(Path(users_file)) as now:
            if now.get(name) == old:
                now[name] = fresh
    return user


def lookup(users_file: Path | str, name: str | None) -> User | None:
    """The current role of a user name (re-read each time: removals take effect)."""
    if not name:
        return None
    entry = read_users(users_file).get(name)
    if not isinstance(entry, dict) or not valid_role(entry.get("role", "")):
        return None
    return User(name, entry["role"])


def cookie_value(users_file: Path | str, name: str) -> str:
    """What the login cookie carries for ``name``: its current session version and the name."""
    return f"{_epoch(read_users(users_file).get(name) or {})}:{name}"


def identity(users_file: Path | str, value: str | bytes | None) -> User | None:
    """The user of a (verified) login cookie value, as the users file has it now; None when the
    user is gone or the cookie's session version has ended (logout, reset)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not value or ":" not in value:
        return None
    epoch, name = value.split(":", 1)
    entry = read_users(users_file).get(name)
    if not isinstance(entry, dict) or not valid_role(entry.get("role", "")) or str(_epoch(entry)) != epoch:
        return None
    return User(name, entry["role"])


def signed_identity(secret: str, users_file: Path | str, signed: str | bytes | None) -> User | None:
    """:func:`identity` of a login cookie as the browser holds it (signed; forged or expired: None)."""
    if not signed:
        return None
    from tornado.web import decode_signed_value

    try:
        value = decode_signed_value(secret, LOGIN_COOKIE, signed, max_age_days=COOKIE_DAYS)
    except Exception:  # noqa: BLE001 - a malformed cookie is no login
        return None
    return identity(users_file, value)


# --------------------------------------------------------------------------- secrets


def cookie_secret(users_file: Path | str | None = None) -> str:
    """The server secret: from the environment, else the secret file beside ``users_file``
    (created with mode 600 on first use)."""
    for env in (COOKIE_ENV, BOKEH_ENV):
        value = os.environ.get(env, "")
        if value:
            weak = weak_secret(value)
            if weak:
                raise ConfigError(f"环境变量 {env} {weak[0]}", f"{env} is {weak[1]}")
            return value
    if users_file is None:
        raise HzevalError(
            f"请设置环境变量 {COOKIE_ENV}（至少 32 个字符的随机串，"
            "例如 python -c 'import secrets; print(secrets.token_hex(32))'）",
            f"set {COOKIE_ENV} to a random string of at least 32 characters",
        )
    path = Path(users_file).parent / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32))
    if path.stat().st_mode & 0o077:
        raise HzevalError(
            f"密钥文件 {path} 权限过宽：请执行 chmod 600 {path}",
            f"secret file {path} is readable by others: chmod 600 it",
            file=str(path),
        )
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise HzevalError(
            f"密钥文件 {path} 内容无效：删除后重新启动即可生成",
            f"secret file {path} is invalid: delete it",
            file=str(path),
        )
    return value


def _derive(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).hexdigest()


def session_key(secret: str) -> bytes:
    """The key Bokeh signs session ids and tokens with (derived: never the cookie key itself)."""
    return _derive(secret, "bokeh-session-ids").encode("ascii")


def login_csrf_token(secret: str, nonce: str) -> str:
    return _derive(secret, "login-csrf:" + nonce)


def logout_csrf_token(secret: str, login_value: str) -> str:
    """The logout form's token: tied to the login's ``epoch:name`` (what the HttpOnly login cookie
    carries, :func:`cookie_value`), so it ends with the session version and needs the secret."""
    return _derive(secret, "logout-csrf:" + login_value)


def cookie_login(secret: str, signed: str | bytes | None) -> tuple[str, float] | None:
    """(``epoch:name``, expiry as a Unix time) of a verified login cookie, else None."""
    if not signed:
        return None
    from tornado.web import decode_signed_value

    try:
        value = decode_signed_value(secret, LOGIN_COOKIE, signed, max_age_days=COOKIE_DAYS)
        if value is None:
            return None
        text = signed.decode("ascii") if isinstance(signed, bytes) else signed
        # tornado's signed value, version 2: "2|1:0|10:<timestamp>|4:user|…" (checked just above)
        issued = int(text.split("|")[2].split(":", 1)[1])
    except Exception:  # noqa: BLE001 - a malformed cookie is no login
        return None
    return value.decode("utf-8", "replace"), issued + COOKIE_DAYS * 86400.0


def login_claim(secret: str, signed: str | bytes | None) -> dict | None:
    """What a Bokeh session token carries instead of the login cookie: the login's ``epoch:name``
    and its expiry (the token is signed: the claim cannot be changed by the browser)."""
    found = cookie_login(secret, signed)
    return None if found is None else {"login": found[0], "until": found[1]}


def claim_identity(users_file: Path | str, claim: object, now: float | None = None) -> User | None:
    """:func:`identity` of a token's login claim while its login cookie would still be valid."""
    if not isinstance(claim, dict) or not isinstance(claim.get("login"), str):
        return None
    until = claim.get("until")
    if not isinstance(until, (int, float)) or (time.time() if now is None else now) >= until:
        return None
    return identity(users_file, claim["login"])


def claim_handler(secret: str):
    """A Bokeh application handler adding :func:`login_claim` to every session token it issues
    (``process_request``); it changes no document (imported lazily: bokeh only here)."""
    from bokeh.application.handlers.handler import Handler

    class LoginClaim(Handler):
        def modify_document(self, doc) -> None:
            pass

        def process_request(self, request) -> dict:
            morsel = request.cookies.get(LOGIN_COOKIE)
            claim = login_claim(secret, morsel.value if morsel is not None else None)
            return {CLAIM_KEY: claim} if claim else {}

    return LoginClaim()


# --------------------------------------------------------------------------- session owners


class SessionOwners:
    """Which user each live Bokeh session belongs to (one server process)."""

    def __init__(self):
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def bind(self, session_id: str, name: str) -> bool:
        """Record ``name`` as the owner; False when the session already belongs to someone else."""
        with self._lock:
            return self._owners.setdefault(session_id, name) == name

    def owner(self, session_id: str) -> str | None:
        with self._lock:
            return self._owners.get(session_id)

    def release(self, session_id: str) -> None:
        with self._lock:
            self._owners.pop(session_id, None)


OWNERS = SessionOwners()


# --------------------------------------------------------------------------- throttling


class Throttle:
    """Login attempts, counted BEFORE the password is checked (under a lock, so parallel guesses
    see each other), per user name and per (address, user name).

    Per key, the first ``free`` attempts in ``window`` seconds pass; after that an attempt is
    allowed only ``2 ** (n - free)`` seconds (at most ``cap``) after the previous one, and one
    arriving sooner is refused without checking the password. A success clears the name's counts.
    Keys include the user name, so failures for one name never slow down another user behind
    the same address; per name, guessing is at most about ``window / cap`` tries per window.
    """

    def __init__(
        self,
        free: int = 5,
        pair_free: int = 3,
        cap: float = 30.0,
        window: float = 900.0,
        clock=time.monotonic,
        max_keys: int = 50_000,
    ):
        self.free, self.pair_free, self.cap, self.window, self.clock = free, pair_free, cap, window, clock
        self.max_keys = max_keys
        self._tries: dict[tuple, list[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str):
        name = name[: MAX_NAME + 1]
        return ((("u", name), self.free), (("p", address, name), self.pair_free))

    def _wait(self, key, free: int, now: float) -> float:
        times = [t for t in self._tries.get(key, ()) if now - t < self.window]
        if times:
            self._tries[key] = times
        else:
            self._tries.pop(key, None)
        if len(times) < free:
            return 0.0
        spacing = min(2.0 ** (len(times) - free), self.cap)
        return max(0.0, times[-1] + spacing - now)

    def attempt(self, name: str, address: str) -> float:
        """0 when this attempt may check the password (and is counted now), else the seconds to wait."""
        with self._lock:
            now = self.clock()
            keys = self._keys(name, address)
            wait = max(self._wait(k, free, now) for k, free in keys)
            if wait > 0:
                return wait
            if len(self._tries) >= self.max_keys:  # bounded memory under a flood of names
                for k in [k for k, v in self._tries.items() if now - v[-1] >= self.window]:
                    del self._tries[k]
            for k, _ in keys:
                self._tries.setdefault(k, []).append(now)
            return 0.0

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            for k, _ in self._keys(name, address):
                self._tries.pop(k, None)


# --------------------------------------------------------------------------- pages

_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f3f5f8;margin:0}
.box{box-sizing:border-box;max-width:360px;margin:12vh auto;background:#fff;
padding:32px;border-radius:8px;box-shadow:0 2px 12px #0002}
h1{font-size:20px;margin:0 0 20px;color:#1f3b63}label{display:block;margin:12px 0 4px;color:#333}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #bbb;border-radius:4px;font-size:15px}
button{margin-top:20px;width:100%;padding:10px;background:#1f5fa8;color:#fff;border:0;border-radius:4px;font-size:16px}
.err{color:#b00020;margin-top:12px}
@media (max-width:420px){.box{margin:6vh 10px;padding:20px}}
"""

#: the only messages the login page shows (never text from the request)
LOGIN_ERRORS = {
    "bad": "用户名或密码错误",
    "csrf": "登录页面已过期，请重新输入后提交",
    "wait": "尝试过于频繁，请 {} 秒后再试",
}


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{html_text(title)}</title><style>{_STYLE}</style></head>
<body>{body}</body></html>"""


def login_page(error: str = "", next_url: str = "/", csrf: str = "") -> str:
    err = f'<p class="err" id="login-error">{html_text(error)}</p>' if error else ""
    return _page(
        "登录 · 惠州市公共数据管理评估",
        f"""<form class="box" method="post" action="/login" autocomplete="off">
<h1>惠州市公共数据管理评估<br>领导驾驶舱 · 登录</h1>
<label for="username">用户名</label><input id="username" name="username" required autofocus maxlength="{MAX_NAME}">
<label for="password">密码</label><input id="password" name="password" type="password" required>
<input type="hidden" name="next" value="{html_text(next_url)}">\
<input type="hidden" name="csrf" value="{html_text(csrf)}">
<button type="submit" id="login-submit">登录</button>{err}
</form>""",
    )


def logout_form(csrf: str, label: str = "退出登录", css: str = "") -> str:
    """The POST form that logs out (used by the logout page and the dashboard sidebar)."""
    return (
        f'<form method="post" action="/logout" class="hz-logout {html_text(css)}" style="margin:0">'
        f'<input type="hidden" name="csrf" value="{html_text(csrf)}">'
        f'<button type="submit" id="logout-submit">{html_text(label)}</button></form>'
    )


def logout_page(csrf: str | None = None) -> str:
    if csrf is None:
        return _page("已退出", '<div class="box"><h1>已退出登录</h1><p><a href="/login">重新登录</a></p></div>')
    return _page("退出登录", f'<div class="box"><h1>退出登录？</h1>{logout_form(csrf, "确认退出登录")}</div>')


def safe_next(url: str | None) -> str:
    """``url`` when it is a path on this site, else ``/``: starts with one ``/``, no ``//`` or
    backslash anywhere, only printable non-space characters (a tab or vertical tab would let a
    browser read ``/\\t/evil.example`` as ``//evil.example``), at most 2,000 characters."""
    if not url or len(url) > 2000 or not url.startswith("/") or "//" in url or "\\" in url:
        return "/"
    if any(c.isspace() or unicodedata.category(c)[0] in "CZ" for c in url):
        return "/"
    return url


_safe_next = safe_next  # older name


def _session_refs(handler) -> tuple[str | None, str | None]:
    """(session id, token) a request names: ``bokeh-session-id`` / ``Bokeh-Session-Id`` or a token
    (``bokeh-token`` argument, or the websocket's ``Sec-WebSocket-Protocol: bokeh, <token>``)."""
    sid = handler.get_argument("bokeh-session-id", None) or handler.request.headers.get("Bokeh-Session-Id")
    token = handler.get_argument("bokeh-token", None)
    proto = handler.request.headers.get("Sec-WebSocket-Protocol")
    if proto:
        parts = [p.strip() for p in proto.split(",")]
        if len(parts) == 2:
            token = parts[1]
    return sid, token


def make_provider(
    users_file: Path | str,
    throttle: Throttle | None = None,
    secret: str | None = None,
    secure_cookies: bool = False,
    iterations: int = ITERATIONS,
):
    """A Bokeh/Panel auth provider checking ``users_file`` (imported lazily: tornado/bokeh only here).
    ``secure_cookies``: the login and CSRF cookies are sent over https only (behind TLS)."""
    import tornado.web
    from bokeh.server.auth_provider import AuthProvider
    from bokeh.util.token import check_token_signature, get_session_id, get_token_payload
    from panel.config import config

    users_file = Path(users_file)
    throttle = throttle or Throttle()
    signing_secret: str = secret or cookie_secret(users_file)
    bokeh_key = session_key(signing_secret)

    def cookie_user(signed: str | None) -> User | None:
        return signed_identity(signing_secret, users_file, signed)

    def check_binding(handler, name: str) -> None:
        """Refuse (403) a session id or token that belongs to another user or was chosen by the client."""
        sid, token = _session_refs(handler)
        if token is not None:
            try:
                ok = check_token_signature(token, secret_key=bokeh_key, signed=True)
                payload = get_token_payload(token) if ok else {}
                sid = get_session_id(token) if ok else None
            except Exception:  # noqa: BLE001 - any malformed token is simply refused
                ok, payload = False, {}
            holder = claim_identity(users_file, payload.get(CLAIM_KEY)) if ok else None
            if holder is None or holder.name != name:
                raise tornado.web.HTTPError(403, reason="session token belongs to another login")
            owner = OWNERS.owner(sid) if sid is not None else None
            if owner is not None and owner != name:
                raise tornado.web.HTTPError(403, reason="session belongs to another user")
        elif sid is not None and OWNERS.owner(sid) != name:
            raise tornado.web.HTTPError(403, reason="session belongs to another user")

    class LoginHandler(tornado.web.RequestHandler):
        def _secure(self) -> bool:
            return secure_cookies or self.request.protocol == "https"

        def _csrf(self) -> str:
            nonce = self.get_cookie(CSRF_COOKIE)
            if not nonce or len(nonce) != 32:
                nonce = secrets.token_hex(16)
                self.set_cookie(
                    CSRF_COOKIE,
                    nonce,
                    httponly=True,
                    samesite="Strict",
                    secure=self._secure(),
                    path=config.cookie_path or "/",
                )
            return login_csrf_token(signing_secret, nonce)

        def _show(self, status: int, error: str = ""):
            self.set_status(status)
            self.set_header("Cache-Control", "no-store")
            self.set_header("X-Frame-Options", "DENY")
            self.write(login_page(error, safe_next(self.get_argument("next", "/")), self._csrf()))

        def get(self):  # any ?error=... is ignored: the page shows only its own messages
            self._show(200)

        async def post(self):
            nonce = self.get_cookie(CSRF_COOKIE) or ""
            sent = self.get_argument("csrf", "")
            if not nonce or not hmac.compare_digest(sent.encode(), login_csrf_token(signing_secret, nonce).encode()):
                return self._show(403, LOGIN_ERRORS["csrf"])
            name = self.get_argument("username", "").strip()[: MAX_NAME + 1]
            password = self.get_argument("password", "")
            address = self.request.remote_ip or ""
            wait = throttle.attempt(name, address)
            if wait:
                self.set_header("Retry-After", str(int(wait) + 1))
                return self._show(429, LOGIN_ERRORS["wait"].format(int(wait) + 1))
            user = await asyncio.get_running_loop().run_in_executor(None, login, users_file, name, password, iterations)
            if user is None:
                return self._show(401, LOGIN_ERRORS["bad"])
            throttle.succeeded(name, address)
            self.set_secure_cookie(
                LOGIN_COOKIE,
                cookie_value(users_file, user.name),
                expires_days=COOKIE_DAYS,
                httponly=True,
                samesite="Strict",
                secure=self._secure(),
                path=config.cookie_path or "/",
            )
            self.redirect(safe_next(self.get_argument("next", "/")))

    class LogoutHandler(tornado.web.RequestHandler):
        def _signed(self) -> str | None:
            return self.get_cookie(LOGIN_COOKIE)

        def _csrf(self, signed: str | None) -> str:
            found = cookie_login(signing_secret, signed)
            return logout_csrf_token(signing_secret, found[0] if found else "")

        def get(self):  # shows a confirmation form; a GET never logs anybody out
            self.set_header("Cache-Control", "no-store")
            signed = self._signed()
            self.write(logout_page(self._csrf(signed) if cookie_user(signed) else None))

        def post(self):
            self.set_header("Cache-Control", "no-store")
            signed = self._signed()
            user = cookie_user(signed)
            if user is None:  # nothing to end (a cross-site POST arrives without the SameSite cookie)
                return self.write(logout_page())
            sent = self.get_argument("csrf", "")
            if not hmac.compare_digest(sent.encode(), self._csrf(signed).encode()):
                self.set_status(403)
                return self.write(logout_page(self._csrf(signed)))
            end_sessions(users_file, user.name)
            for c in (LOGIN_COOKIE, "id_token", "access_token", "is_guest"):
                self.clear_cookie(c, path=config.cookie_path or "/")
            self.write(logout_page())

    class Provider(AuthProvider):
        def __init__(self):
            super().__init__()

        @property
        def get_user(self):
            def get_user(handler):
                user = cookie_user(handler.get_cookie(LOGIN_COOKIE))
                if user is None:
                    return None
                check_binding(handler, user.name)
                return user.name

            return get_user

        @property
        def login_url(self):
            return "/login"

        @property
        def login_handler(self):
            return LoginHandler

        @property
        def logout_url(self):
            return "/logout"

        @property
        def logout_handler(self):
            return LogoutHandler

    return Provider()
