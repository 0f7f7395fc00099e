"""One settings file, the environment over it, every setting declared once (DESIGN §10)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hzeval.cli.main import cli, main
from hzeval.errors import ConfigError, ExitCode
from hzeval.util import settings

ROOT = Path(__file__).resolve().parents[1]
#: names in the code that are not settings: the file's own variable, the crash tests' stderr marker
NOT_SETTINGS = {"HZEVAL_CONFIG", "HZEVAL_PAUSED"}


def test_every_environment_variable_the_package_reads_is_declared():
    used = set()
    for path in (ROOT / "hzeval").rglob("*.py"):
        used |= set(re.findall(r"HZEVAL_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    declared = {s.env for s in settings.SETTINGS.values()}
    assert used - NOT_SETTINGS <= declared, f"undeclared: {sorted(used - NOT_SETTINGS - declared)}"
    assert declared <= used, f"declared but never read: {sorted(declared - used)}"


def test_readme_lists_every_setting():
    assert settings.settings_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def _file(tmp_path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "hzeval.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_file_fills_what_the_environment_does_not_set(tmp_path, monkeypatch):
    path = _file(tmp_path, '[hzeval]\nsmtp_host = "mail.example"\nsmtp_port = 2525\nwait_seconds = 5\n')
    monkeypatch.setenv("HZEVAL_CONFIG", str(path))
    env = {"HZEVAL_SMTP_PORT": "587"}
    got = settings.apply(env)
    assert env["HZEVAL_SMTP_HOST"] == "mail.example" and env["HZEVAL_WAIT_SECONDS"] == "5"
    assert env["HZEVAL_SMTP_PORT"] == "587" and got["smtp_port"] == ("587", "env")  # the environment wins
    assert got["smtp_host"][1] == f"file {path}"


@pytest.mark.parametrize(
    "text, words",
    [
        ('smtp_port = "twenty"\n', "smtp_port"),  # not an integer
        ('smtp_security = "tls1.0"\n', "smtp_security"),  # not one of the choices
        ('smpt_host = "x"\n', "unknown setting"),  # a typo is refused, not ignored
        ("smtp_host = \n", "cannot read"),  # not TOML
    ],
)
def test_bad_files_are_configuration_errors(tmp_path, monkeypatch, text, words):
    monkeypatch.setenv("HZEVAL_CONFIG", str(_file(tmp_path, text)))
    with pytest.raises(ConfigError) as err:
        settings.apply({})
    assert words in str(err.value) and err.value.exit_code == ExitCode.BAD_CONFIG


def test_a_secret_in_a_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HZEVAL_CONFIG", str(_file(tmp_path, 'smtp_password = "s3cret"\n', mode=0o644)))
    with pytest.raises(ConfigError, match="chmod 600"):
        settings.apply({})


def test_a_bad_environment_value_stops_the_command_before_it_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HZEVAL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HZEVAL_WAIT_SECONDS", "soon")
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(tmp_path / "w.duckdb"), "rules", "--year", "2025"])
    assert exit_.value.code == 4 and "HZEVAL_WAIT_SECONDS" in capsys.readouterr().err


def test_config_show_masks_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("HZEVAL_CONFIG", str(_file(tmp_path, 'smtp_password = "s3cret"\nsmtp_host = "m.example"\n')))
    monkeypatch.delenv("HZEVAL_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("HZEVAL_SMTP_HOST", raising=False)
    out = CliRunner().invoke(cli, ["config", "show"], terminal_width=300).output
    assert "s3cret" not in out and "******" in out and "m.example" in out
