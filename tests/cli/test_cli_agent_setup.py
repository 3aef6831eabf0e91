"""``openclaw-trading agent-setup``: the printed plan, and ``--apply`` through the ``openclaw``
CLI found on PATH (absent; then a fake one that logs its argv)."""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

from support.cli import cli
from support.paths import ROOT

TOKEN = "tok-" + "9f8e7d6c5b4a" * 4
KEY = "venue-secret-0123456789abcdef"


def _env(tmp_path: Path, path: str) -> dict[str, str]:
    """An environment whose engine state names a token file, with a venue key set."""
    token = tmp_path / "openclaw-control.token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    state = tmp_path / "openclaw-control.json"
    state.write_text(f'{{"url": "http://127.0.0.1:1", "pid": 1, "token_file": "{token}"}}')
    return {**os.environ, "PATH": path, "OPENCLAW_TRADING_STATE": str(state),
            "BINANCE_API_KEY": KEY, "TELEGRAM_BOT_TOKEN": KEY}


def _commands(stdout: str) -> list[list[str]]:
    return [shlex.split(line) for line in stdout.splitlines()
            if line and not line.startswith("#")]


def test_the_plan_names_every_command_and_no_secret(tmp_path: Path) -> None:
    env = _env(tmp_path, os.environ.get("PATH", ""))
    done = cli("agent-setup", "--channel", "telegram", "--to", "123456", env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    cmds = _commands(out)
    assert all(c[0] == "openclaw" for c in cmds)
    state = str((tmp_path / "openclaw-control.json").resolve())
    joined = [" ".join(c) for c in cmds]
    skills = str((ROOT / "skills").resolve())
    assert any(c[:4] == ["openclaw", "config", "set", "skills.load.extraDirs"]
               and skills in c[4] for c in cmds)
    assert ["openclaw", "skills", "check"] in cmds
    mcp = next(c for c in cmds if c[1:3] == ["mcp", "set"])
    assert mcp[3] == "openclaw-trading" and '"mcp", "--state", "' + state in mcp[4]
    cron = next(c for c in cmds if c[1:3] == ["cron", "create"])
    assert '"openclaw-trading", "alerts", "drain"' in " ".join(cron)
    assert cron[-4:] == ["--channel", "telegram", "--to", "123456"]
    allowed = [c[-1] for c in cmds if c[1:4] == ["approvals", "allowlist", "add"]]
    assert "openclaw-trading ctl status*" in allowed and "openclaw-trading ctl halt*" in allowed
    # read-only and halt only: nothing that starts or increases risk
    for word in ("resume", "flatten", "reload-risk", " run", "demo", "ibkr"):
        assert not any(word in a for a in allowed), word
    assert any("--security allowlist" in j for j in joined)
    for secret in (TOKEN, KEY):
        assert secret not in out and secret not in done.stderr


def test_apply_without_openclaw_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done = cli("agent-setup", "--apply", env=_env(tmp_path, str(empty)))
    assert done.returncode != 0
    assert "openclaw (the agent) not found" in done.stderr


def test_apply_runs_exactly_the_printed_commands(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "argv.log"
    fake = bindir / "openclaw"
    # one record (\036) per call, one unit (\037) per argument
    fake.write_text(f"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\037' \"$a\" >> '{log}'; done\n"
                    f"printf '\\036' >> '{log}'\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    path = os.pathsep.join([str(bindir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    done = cli("agent-setup", "--apply", "--channel", "telegram", "--to", "42",
               env=_env(tmp_path, path))
    assert done.returncode == 0, done.stderr
    calls = [rec.split("\037")[:-1] for rec in log.read_text().split("\036")[:-1]]
    assert calls == [c[1:] for c in _commands(done.stdout)]
    assert len(calls) > 5


def test_apply_stops_at_the_first_failure(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "openclaw"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    path = os.pathsep.join([str(bindir), "/usr/bin", "/bin"])
    done = cli("agent-setup", "--apply", env=_env(tmp_path, path))
    assert done.returncode == 1
    assert "exited 3; stopped (0 of" in done.stderr
