"""The command is ``openclaw-trading`` (and ``python -m openclaw``); ``openclaw`` is the agent's."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata


def test_distribution_installs_openclaw_trading_and_no_openclaw_command() -> None:
    eps = metadata.distribution("openclaw-trading").entry_points
    scripts = {e.name: e.value for e in eps if e.group == "console_scripts"}
    assert scripts == {"openclaw-trading": "openclaw.cli:main"}, scripts


def test_python_m_openclaw_runs_the_cli() -> None:
    p = subprocess.run([sys.executable, "-m", "openclaw", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    for cmd in ("run", "demo", "bench", "ibkr", "sim", "config"):
        assert cmd in p.stdout, cmd
