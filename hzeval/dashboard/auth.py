"""Dashboard login: a users file with salted PBKDF2 hashes, a signed cookie, slowed-down retries.

Users file (JSON)::

    {"zhang": {"salt": "<hex>", "hash": "<hex>", "iterations": 310000, "role": "leader"}, ...}

Roles: ``leader``, ``evaluator`` (adds evidence export), ``agency:<code>``. Passwords are never
stored, only PBKDF2-HMAC-SHA256 over a per-user random salt. The cookie is signed with
``$HZEVAL_COOKIE_SECRET`` (never in the repository). Repeated failed logins for a user name or
from an address are answered ever more slowly (:class:`Throttle`).

The tornado handlers render self-contained pages (no CDN, no external resources) and the
provider plugs into Panel/Bokeh's ``auth_provider`` hook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import os
import secrets
import threading
import time
from pathlib import Path

from hzeval.dashboard.store import User, valid_role
from hzeval.errors import HzevalError

ITERATIONS = 310_000
COOKIE_ENV = "HZEVAL_COOKIE_SECRET"
USERS_ENV = "HZEVAL_USERS"
COOKIE_DAYS = 1


# --------------------------------------------------------------------------- users file


def hash_password(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations).hex()


def read_users(path: Path | str) -> dict[str, dict]:
    p = Path(path)
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HzevalError(f"无法读取用户文件 {p}：{exc}", f"cannot read users file {p}: {exc}", file=str(p)) from exc
    if not isinstance(data, dict):
        raise HzevalError(f"用户文件 {p} 格式错误", f"users file {p} is not a JSON object", file=str(p))
    return data


def add_user(path: Path | str, name: str, password: str, role: str, iterations: int = ITERATIONS) -> None:
    """Add or replace a user (atomic write, file mode 600)."""
    if not valid_role(role):
        raise HzevalError(f"无效角色 {role}（应为 leader、evaluator 或 agency:机构代码）",
                          f"invalid role {role!r} (leader, evaluator or agency:CODE)")
    if not name or name == "guest" or any(c in name for c in " \t\r\n"):
        raise HzevalError(f"无效用户名 {name!r}", f"invalid user name {name!r}")
    if len(password) < 8:
        raise HzevalError("密码至少 8 个字符", "password must have at least 8 characters")
    p = Path(path)
    users = read_users(p)
    salt = secrets.token_bytes(16)
    users[name] = {"salt": salt.hex(), "hash": hash_password(password, salt, iterations),
                   "iterations": iterations, "role": role}
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(users, f, ensure_ascii=False, indent=2)
    os.replace(tmp, p)


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


def lookup(users_file: Path | str, name: str | None) -> User | None:
    """The current role of a logged-in user (re-read each time: removals take effect)."""
    if not name:
        return None
    entry = read_users(users_file).get(name)
    if not isinstance(entry, dict) or not valid_role(entry.get("role", "")):
        return None
    return User(name, entry["role"])


def cookie_secret() -> str:
    secret = os.environ.get(COOKIE_ENV, "")
    if len(secret) < 32:
        raise HzevalError(
            f"请设置环境变量 {COOKIE_ENV}（至少 32 个字符的随机串，例如 python -c 'import secrets; print(secrets.token_hex(32))'）",
            f"set {COOKIE_ENV} to a random string of at least 32 characters",
        )
    return secret


# --------------------------------------------------------------------------- throttling


class Throttle:
    """Delay before checking a login: grows with recent failures per user name and per address.

    The first ``free`` failures in ``window`` seconds cost nothing, then the delay doubles from
    1 s up to ``cap`` seconds. A success clears the user name's failures.
    """

    def __init__(self, free: int = 3, cap: float = 30.0, window: float = 900.0, clock=time.monotonic):
        self.free, self.cap, self.window, self.clock = free, cap, window, clock
        self._fails: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> int:
        now = self.clock()
        times = [t for t in self._fails.get(key, []) if now - t < self.window]
        self._fails[key] = times
        return len(times)

    def delay(self, name: str, address: str) -> float:
        with self._lock:
            n = max(self._recent(f"u:{name}"), self._recent(f"a:{address}"))
        return 0.0 if n < self.free else min(2.0 ** (n - self.free), self.cap)

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            for key in (f"u:{name}", f"a:{address}"):
                self._fails.setdefault(key, []).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{name}", None)


# --------------------------------------------------------------------------- pages

_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f3f5f8;margin:0}
.box{max-width:360px;margin:12vh auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 2px 12px #0002}
h1{font-size:20px;margin:0 0 20px;color:#1f3b63}label{display:block;margin:12px 0 4px;color:#333}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #bbb;border-radius:4px;font-size:15px}
button{margin-top:20px;width:100%;padding:10px;background:#1f5fa8;color:#fff;border:0;border-radius:4px;font-size:16px}
.err{color:#b00020;margin-top:12px}
"""


def login_page(error: str = "", next_url: str = "/") -> str:
    err = f'<p class="err" id="login-error">{html.escape(error)}</p>' if error else ""
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>登录 · 惠州市公共数据管理评估</title><style>{_STYLE}</style></head><body>
<form class="box" method="post" action="/login" autocomplete="off">
<h1>惠州市公共数据管理评估<br>领导驾驶舱 · 登录</h1>
<label for="username">用户名</label><input id="username" name="username" required autofocus>
<label for="password">密码</label><input id="password" name="password" type="password" required>
<input type="hidden" name="next" value="{html.escape(next_url)}">
<button type="submit" id="login-submit">登录</button>{err}
</form></body></html>"""


def logout_page() -> str:
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>已退出</title>
<style>{_STYLE}</style></head><body><div class="box"><h1>已退出登录</h1><p><a href="/login">重新登录</a></p></div></body></html>"""


def _safe_next(url: str | None) -> str:
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


def make_provider(users_file: Path | str, throttle: Throttle | None = None):
    """A Bokeh/Panel auth provider checking ``users_file`` (imported lazily: tornado/bokeh only here)."""
    import tornado.web
    from bokeh.server.auth_provider import AuthProvider
    from panel.config import config

    users_file = Path(users_file)
    throttle = throttle or Throttle()

    class LoginHandler(tornado.web.RequestHandler):
        def get(self):
            self.set_header("Cache-Control", "no-store")
            self.write(login_page(self.get_argument("error", ""), _safe_next(self.get_argument("next", "/"))))

        async def post(self):
            name = self.get_argument("username", "").strip()
            password = self.get_argument("password", "")
            address = self.request.remote_ip or ""
            wait = throttle.delay(name, address)
            if wait:
                await asyncio.sleep(wait)
            user = await asyncio.get_running_loop().run_in_executor(None, verify, read_users(users_file), name, password)
            if user is None:
                throttle.failed(name, address)
                self.set_status(401)
                self.write(login_page("用户名或密码错误", _safe_next(self.get_argument("next", "/"))))
                return
            throttle.succeeded(name)
            self.set_secure_cookie("user", user.name, expires_days=COOKIE_DAYS, httponly=True,
                                   samesite="Strict", path=config.cookie_path)
            self.redirect(_safe_next(self.get_argument("next", "/")))

    class LogoutHandler(tornado.web.RequestHandler):
        def get(self):
            for c in ("user", "id_token", "access_token", "is_guest"):
                self.clear_cookie(c, path=config.cookie_path)
            self.write(logout_page())

    class Provider(AuthProvider):
        def __init__(self):
            super().__init__()

        @property
        def get_user(self):
            def get_user(handler):
                raw = handler.get_secure_cookie("user", max_age_days=COOKIE_DAYS)
                name = raw.decode("utf-8") if raw else None
                user = lookup(users_file, name)
                return user.name if user else None
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
