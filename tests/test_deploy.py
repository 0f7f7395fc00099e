"""deploy/: the systemd units name only real commands and options; the env file only real settings."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from hzeval.cli.main import cli
from hzeval.util import settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def _service(path: Path) -> configparser.SectionProxy:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(path, encoding="utf-8")
    return unit["Service"]


def test_there_are_the_nightly_run_and_the_dashboard():
    assert {p.name for p in UNITS} == {"hzeval-run.service", "hzeval-dashboard.service"}
    assert (DEPLOY / "hzeval-run.timer").is_file() and (DEPLOY / "nginx-hzeval-dashboard.conf").is_file()


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_execstart_uses_real_commands_and_options(path, tmp_path):
    service = _service(path)
    assert service["EnvironmentFile"] == "/etc/hzeval/hzeval.env"
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "hzeval"
    command, args = argv[1], argv[2:]
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    for arg in args:
        if arg.startswith("--"):
            assert f"{arg.split('=', 1)[0]} " in result.output or f"{arg}\n" in result.output, (path.name, arg)
    # and the whole line parses as that command's options (nothing unknown, every value valid; the
    # inbox, which must exist, stands in as a temporary folder)
    parsed = [str(tmp_path) if a == "/srv/hzeval/inbox" else a for a in args]
    ctx = cli.commands[command].make_context(command, parsed)
    assert ctx.params


def test_env_example_sets_only_declared_settings():
    declared = {s.env for s in settings.SETTINGS.values()}
    for line in (DEPLOY / "hzeval.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert name in declared, name
            assert value.strip('"'), name


def test_dashboard_behind_tls_matches_the_proxy():
    argv = shlex.split(_service(DEPLOY / "hzeval-dashboard.service")["ExecStart"])
    nginx = (DEPLOY / "nginx-hzeval-dashboard.conf").read_text(encoding="utf-8")
    assert "--secure-cookies" in argv and argv[argv.index("--address") + 1] == "127.0.0.1"
    port = argv[argv.index("--port") + 1]
    origin = argv[argv.index("--allow-origin") + 1]
    assert f"proxy_pass http://127.0.0.1:{port};" in nginx and f"server_name {origin};" in nginx
    for line in ("proxy_set_header Upgrade $http_upgrade;", 'proxy_set_header Connection "upgrade";'):
        assert line in nginx  # the Bokeh websocket
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
