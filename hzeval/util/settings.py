"""Settings (DESIGN §10): one file, ``hzeval.toml`` (or the file ``$HZEVAL_CONFIG`` names), with
environment variables overriding it, every setting declared here once and validated at start.

The file holds the settings by their short names, at the top or under ``[hzeval]``::

    db = "/srv/hzeval/hzeval.duckdb"
    smtp_host = "mail.gov.example"
    smtp_port = 587

:func:`apply` validates the file and the environment and puts each file value the environment does
not already set into the environment as ``HZEVAL_<NAME>``, so every part of the package (and the
report workers and kernels it starts) reads one set of values; ``hzeval config show`` prints them
with their source, secrets masked. An unknown key, a value of the wrong type or a secret kept in a
file others can read is a configuration error (exit 4), before any work starts.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hzeval.errors import ConfigError, clip

CONFIG_ENV = "HZEVAL_CONFIG"
DEFAULT_FILE = "hzeval.toml"
MASK = "******"


@dataclass(frozen=True)
class Setting:
    name: str  # the file's key; the environment variable is HZEVAL_<NAME>
    kind: str  # str | path | int | float | bool | choice | robot_secrets
    doc: str
    secret: bool = False
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return "HZEVAL_" + self.name.upper()


SETTINGS = {
    s.name: s
    for s in (
        # where things are
        Setting("db", "path", "the warehouse file (default ./hzeval.duckdb; `--db` wins)"),
        Setting(
            "published",
            "path",
            "the published runs' folder the notebooks read (default published/ beside the warehouse)",
        ),
        Setting("users", "path", "the dashboard's users file (default users.json beside the warehouse)"),
        Setting("notebooks", "path", "the report notebooks' folder (default notebooks/ of the source tree)"),
        Setting("chromium", "str", "the Chromium executable for PDFs and screenshots (default: chromium on PATH)"),
        # waiting and locks
        Setting(
            "wait_seconds", "float", "how long a reader waits for a writer when nothing is published (default 600)"
        ),
        Setting("lock_wait", "float", "seconds a writer waits for another process to let go of the warehouse"),
        # loading
        Setting("load_sql", "bool", "read plain CSV and Parquet with DuckDB's readers (default true)"),
        Setting("load_batch_rows", "int", "rows per batch when a file is read in pieces"),
        Setting("load_check_mb", "int", "memory for the load's key checks before they spill to disk, MB"),
        Setting("max_field_chars", "int", "characters in one cell: a longer value rejects its row"),
        Setting("max_columns", "int", "columns in one file: more refuses the file"),
        Setting("max_xlsx_rows", "int", "rows in one XLSX sheet: more refuses the file"),
        Setting("max_xlsx_bytes", "int", "uncompressed bytes of one XLSX file: more refuses the file"),
        Setting("reader_threads", "int", "DuckDB threads of a published run's reader (report workers use 1)"),
        # the dashboard and the lab
        Setting("cookie_secret", "str", "the dashboard's signing secret (login cookie, session ids)", secret=True),
        Setting("session_recheck", "float", "seconds between checks that a dashboard user still exists (default 20)"),
        Setting("lab_token", "str", "JupyterLab's token for `hzeval lab` (default: a random one)", secret=True),
        # mail
        Setting("smtp_host", "str", "the mail server for 督办 notices"),
        Setting("smtp_port", "int", "its port (default 587, or 465 with ssl)"),
        Setting(
            "smtp_security",
            "choice",
            "starttls (default), ssl, or none (loopback only)",
            choices=("starttls", "ssl", "none"),
        ),
        Setting("smtp_user", "str", "the mail account"),
        Setting("smtp_password", "str", "its password", secret=True),
        Setting("smtp_from", "str", "the sender address of 督办 notices"),
        Setting("smtp_cafile", "path", "an internal CA's certificate file for the mail server"),
        # robots
        Setting(
            "dingtalk_secrets",
            "robot_secrets",
            "钉钉 robots' 加签 secrets: `<robot>=<SEC…>` pairs separated by commas, `<robot>` the robot's name "
            "as `notify --dry-run` shows it (`oapi.dingtalk.com#<hash>`); in hzeval.toml also a table",
            secret=True,
        ),
        # tests only
        Setting("fault", "str", "crash tests only: kill the process at a named checkpoint"),
    )
}

#: a robot's name (:func:`hzeval.notify.channels.robot_label`: host, ``#``, 12 hex digits) and a secret
ROBOT_NAME_RE = re.compile(r"[A-Za-z0-9.\-\[\]:]{1,255}#[0-9a-f]{12}")
ROBOT_SECRET_RE = re.compile(r"[A-Za-z0-9._~+/-]{1,256}")
MAX_ROBOT_SECRETS = 1000


def robot_secrets(text: str) -> dict[str, str]:
    """``{robot name: secret}`` from ``name=secret`` pairs separated by commas or white space;
    a ValueError naming the entry's position (never the secret) when one is malformed."""
    out: dict[str, str] = {}
    entries = [e for e in re.split(r"[,\s]+", text or "") if e]
    if len(entries) > MAX_ROBOT_SECRETS:
        raise ValueError(f"more than {MAX_ROBOT_SECRETS} entries")
    for n, entry in enumerate(entries, 1):
        name, sep, secret = entry.partition("=")
        if not sep or ROBOT_NAME_RE.fullmatch(name) is None or ROBOT_SECRET_RE.fullmatch(secret) is None:
            raise ValueError(f"entry {n} is not <host>#<12 hex digits>=<secret>")
        out[name.lower()] = secret
    return out


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _check(s: Setting, value: object, where: str) -> str:
    """``value`` as the environment string, or a ConfigError naming ``where`` it came from."""
    if s.kind == "robot_secrets" and isinstance(value, dict):  # a TOML table {robot = secret}
        value = ",".join(f"{k}={v}" for k, v in value.items())
    text = str(value).strip() if not isinstance(value, bool) else ("1" if value else "0")
    shown = MASK if s.secret else clip(text, 60)
    if s.kind == "robot_secrets":
        try:
            robot_secrets(text)
        except ValueError as exc:
            raise ConfigError(
                f"{where}：设置 {s.name} 无效（{exc}），应为 <机器人>=<密钥>，以逗号分隔",
                f"{where}: setting {s.name} is invalid ({exc}): expected <robot>=<secret>, comma-separated",
            ) from None
        return text
    try:
        if s.kind == "int":
            int(text)
        elif s.kind == "float":
            float(text)
        elif s.kind == "bool" and text.lower() not in _TRUE | _FALSE:
            raise ValueError
        elif s.kind == "choice" and text.lower() not in s.choices:
            raise ValueError
    except ValueError:
        want = {
            "int": "整数 an integer",
            "float": "数值 a number",
            "bool": "true/false",
            "choice": " | ".join(s.choices),
        }[s.kind]
        raise ConfigError(
            f"{where}：设置 {s.name} 的值 {shown} 无效，应为 {want.split(' ')[0]}",
            f"{where}: setting {s.name} = {shown} is invalid: expected {want}",
        ) from None
    return text


def config_file() -> Path | None:
    """``$HZEVAL_CONFIG`` (which must exist), else ``./hzeval.toml`` when there is one."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(
                f"配置文件 {path} 不存在（{CONFIG_ENV}）", f"config file {path} ({CONFIG_ENV}) does not exist"
            )
        return path
    local = Path(DEFAULT_FILE)
    return local if local.is_file() else None


def read_file(path: Path) -> dict[str, str]:
    """The file's settings as environment strings, validated."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"无法读取配置文件 {path}：{clip(exc, 120)}", f"cannot read config file {path}: {clip(exc, 120)}"
        ) from None
    table = data.get("hzeval", data)
    if not isinstance(table, dict):
        raise ConfigError(f"配置文件 {path}：[hzeval] 应为表", f"config file {path}: [hzeval] must be a table")
    out = {}
    for key, value in table.items():
        if key == "hzeval" and isinstance(value, dict):
            continue
        s = SETTINGS.get(str(key).lower())
        if s is None:
            raise ConfigError(
                f"配置文件 {path}：未知的设置 {clip(key, 40)}（hzeval config show 列出全部设置）",
                f"config file {path}: unknown setting {clip(key, 40)!r} (hzeval config show lists them)",
            )
        out[s.name] = _check(s, value, str(path))
    if any(SETTINGS[k].secret for k in out) and os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"配置文件 {path} 含密钥，但其他用户可读（权限 {mode:o}）：请 chmod 600 {path}",
                f"config file {path} holds secrets but is readable by others (mode {mode:o}): chmod 600 it",
            )
    return out


def apply(environ: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Validate the file and the environment; put the file's values the environment lacks into it.
    Returns ``{name: (value, source)}`` of every setting that is set (source ``file`` or ``env``)."""
    env = os.environ if environ is None else environ
    path = config_file()
    from_file = read_file(path) if path else {}
    result = {}
    for s in SETTINGS.values():
        if s.env in env:
            result[s.name] = (_check(s, env[s.env], f"环境变量 {s.env}"), "env")
        elif s.name in from_file:
            env[s.env] = from_file[s.name]
            result[s.name] = (from_file[s.name], f"file {path}")
    return result


def shown(name: str, value: str) -> str:
    return MASK if SETTINGS[name].secret and value else value


def settings_table() -> str:
    """The README's settings table (Markdown), one row per setting."""
    rows = ["| setting (hzeval.toml) | environment | kind | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{s.name}` | `{s.env}` | {s.kind}{' (secret)' if s.secret else ''} | {s.doc} |" for s in SETTINGS.values()
    ]
    return "\n".join(rows)
