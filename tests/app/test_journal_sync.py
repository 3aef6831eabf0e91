"""``[journal] synchronous``: validated, resolved per use (FULL when orders reach a live venue,
NORMAL when every order is simulated), honoured by ``openclaw-trading run`` and ``openclaw-trading
demo``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT

from openclaw.app.config import ConfigError, journal_synchronous, parse_config

INSTR = [{"venue": "binance", "symbol": "BTCUSDT", "base": "BTC", "quote": "USDT",
          "tick_size": "0.01", "lot_size": "0.00001"}]
LIVE = {"mode": "live", "ws": "wss://x", "rest": "https://x", "api_key_env": "K",
        "secret_env": "S"}


def _cfg(venue: dict[str, Any], journal: dict[str, Any] | None = None) -> Any:
    data: dict[str, Any] = {"venues": {"binance": venue}, "instruments": INSTR}
    if journal is not None:
        data["journal"] = journal
    return parse_config(data)


def test_default_is_full_for_live_normal_for_simulated() -> None:
    assert journal_synchronous(_cfg(LIVE)) == "FULL"
    assert journal_synchronous(_cfg(LIVE), paper=True) == "NORMAL"   # orders to simulators
    assert journal_synchronous(_cfg({"mode": "sim"})) == "NORMAL"
    mixed = parse_config({"venues": {"binance": {"mode": "sim"}, "okx": LIVE},
                          "instruments": INSTR})
    assert journal_synchronous(mixed) == "FULL"


def test_explicit_setting_wins_and_is_case_insensitive() -> None:
    assert journal_synchronous(_cfg(LIVE, {"synchronous": "normal"})) == "NORMAL"
    assert journal_synchronous(_cfg({"mode": "sim"}, {"synchronous": "Full"})) == "FULL"


def test_bad_value_is_listed_with_its_path() -> None:
    with pytest.raises(ConfigError) as e:
        _cfg(LIVE, {"synchronous": "OFF"})
    assert [p for p, _ in e.value.errors] == ["journal.synchronous"]
    with pytest.raises(ConfigError) as e:
        _cfg(LIVE, {"synchronous": 1})
    assert [p for p, _ in e.value.errors] == ["journal.synchronous"]


def test_run_honours_explicit_full_on_simulators(tmp_path: Path) -> None:
    """An all-simulated run that asks for FULL gets FULL (not inline), and ends clean."""
    from openclaw.app.runner import run_config

    data = tomllib.loads((ROOT / "examples" / "triarb.toml").read_text())
    data["journal"] = {"path": str(tmp_path / "j.sqlite"), "synchronous": "full"}
    data.pop("alerts", None)
    cfg = parse_config(data)
    summary = asyncio.run(asyncio.wait_for(
        run_config(cfg, seconds=1.0, install_signals=False), 150))
    assert summary["journal_synchronous"] == "FULL" and summary["journal_inline"] is False
    assert summary["ok"], summary


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openclaw.cli", "demo", *args],
                          capture_output=True, text=True, timeout=240)


def test_demo_journal_sync_option() -> None:
    """Default NORMAL (inline send path), ``--journal-sync full`` FULL; both end consistent."""
    for flag, want, inline in ((), "NORMAL", True), (("--journal-sync", "full"), "FULL", False):
        p = _demo("--seconds", "2", "--json", *flag)
        assert p.returncode == 0, p.stderr[-3000:]
        summary = json.loads(p.stdout.strip().splitlines()[-1])
        assert summary["journal_synchronous"] == want and summary["journal_inline"] is inline
        assert summary["journal_consistent"] and summary["lost_orders"] == 0
        assert "latency_us" in summary and "route" in summary      # existing keys kept


def test_demo_rejects_unknown_journal_sync() -> None:
    p = _demo("--seconds", "1", "--journal-sync", "off")
    assert p.returncode == 2 and "--journal-sync must be full or normal" in p.stderr
