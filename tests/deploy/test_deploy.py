"""deploy/: the container's entry command run as a plain process (no container runtime here),
the compose project's services, and the systemd unit's hardening."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import EXAMPLES, ROOT

DEPLOY = ROOT / "deploy"
CONFIG_IN_IMAGE = "/config/run.toml"


def _final_stage(dockerfile: str) -> list[str]:
    """The instructions of the last stage, continuation lines joined."""
    text = dockerfile.replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    last = max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM "))
    return lines[last:]


def _exec_form(stage: list[str], instruction: str) -> list[str]:
    found = [ln for ln in stage if ln.split()[0].upper() == instruction]
    assert len(found) == 1, f"one {instruction} in the final stage, found {found}"
    return json.loads(found[0][len(instruction):].strip())


def test_image_is_multi_stage_and_runs_as_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    froms = [ln for ln in text.splitlines() if ln.upper().startswith("FROM ")]
    assert len(froms) >= 2 and " AS " in froms[0].upper()
    assert "pip wheel" in text and "--from=build" in text
    stage = _final_stage(text)
    users = [ln.split()[1] for ln in stage if ln.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert not any(ln.upper().startswith(("RUN APT", "RUN APT-GET")) for ln in stage)


def test_the_entry_command_runs_a_simulated_file(tmp_path: Path) -> None:
    pytest.importorskip("ccxt")
    stage = _final_stage((DEPLOY / "Dockerfile").read_text())
    argv = _exec_form(stage, "ENTRYPOINT") + _exec_form(stage, "CMD")
    assert argv[:3] == ["openclaw-trading", "run", CONFIG_IN_IMAGE]
    run_file = tmp_path / "run.toml"
    shutil.copy(EXAMPLES / "triarb.toml", run_file)          # every venue mode = "sim"
    assert 'mode = "live"' not in run_file.read_text()
    argv = [sys.executable, "-m", "openclaw.cli",
            *(str(run_file) if a == CONFIG_IN_IMAGE else a for a in argv[1:]), "--seconds", "3"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["journal_consistent"] is True
    assert summary["lost_orders"] == 0
    assert (tmp_path / "openclaw-journal.sqlite").is_file()   # relative to WORKDIR


def test_compose_has_the_gateway_the_engine_and_the_mcp_server() -> None:
    yaml = pytest.importorskip("yaml")
    project = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = project["services"]
    assert services["openclaw-gateway"]["image"].startswith("ghcr.io/openclaw/openclaw")
    assert services["engine"]["build"]["dockerfile"] == "deploy/Dockerfile"
    mcp = services["mcp"]["entrypoint"]
    assert mcp[:3] == ["openclaw-trading", "mcp", "--http"]
    assert "ports" not in services["mcp"] and "ports" not in services["engine"]
    for name in ("engine", "mcp"):
        assert "no-new-privileges:true" in services[name]["security_opt"]
        assert services[name]["cap_drop"] == ["ALL"]
    assert all(not str(e).startswith("/") or "engine.env" in str(e)
               for e in services["engine"]["env_file"])


def test_systemd_unit_is_hardened() -> None:
    keys: dict[str, list[str]] = {}
    section = ""
    for line in (DEPLOY / "openclaw-trading.service").read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif line and not line.startswith("#") and section == "[Service]":
            k, _, v = line.partition("=")
            keys.setdefault(k, []).append(v)
    assert keys["User"] == ["openclaw-trading"]
    assert keys["NoNewPrivileges"] == ["yes"]
    assert keys["ProtectSystem"] == ["strict"]
    assert keys["PrivateTmp"] == ["yes"]
    assert keys["ReadWritePaths"] == ["/var/lib/openclaw-trading"]
    assert keys["WorkingDirectory"] == ["/var/lib/openclaw-trading"]
    (env_file,) = keys["EnvironmentFile"]
    assert env_file.startswith("/etc/") and not env_file.startswith(str(ROOT))
    assert keys["CapabilityBoundingSet"] == [""]
    assert "run" in keys["ExecStart"][0].split()
    text = (DEPLOY / "openclaw-trading.service").read_text()
    assert "0600" in text and "Environment=" not in text.replace("EnvironmentFile=", "")
