"""``openclaw-trading ibkr ...`` and ``openclaw-trading schedule status`` end to end (subprocess,
simulator)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import orjson
import pytest
from support.cli import cli
from support.paths import ROOT

from openclaw.app.ibkr import cli_fx

_cli = partial(cli, timeout=90.0, cwd=ROOT)


def test_momentum_execute_json(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    p = _cli("ibkr", "momentum", "--execute", "--json", "--universe", "60", "--top", "20",
             "--journal", str(journal), "--run-id", "cli-run-1")
    assert p.returncode == 0, p.stderr[-2000:]
    s = orjson.loads(p.stdout.strip().splitlines()[-1])
    for key in ("universe", "scan_ms", "orders", "filled", "rebalance_ms",
                "positions_match_target"):
        assert key in s, key
    assert s["universe"] == 60 and s["orders"] == s["filled"] == 20
    # measured, not timed here (speed is the benchmarks' business)
    assert s["scan_ms"] > 0 and s["rebalance_ms"] > 0
    assert s["positions_match_target"] is True
    assert s["simulator_positions_match_target"] is True
    # the run is in the journal: schedule status shows it as the last manual run
    st = _cli("schedule", "status", "--journal", str(journal), "--json")
    assert st.returncode == 0, st.stderr
    status = orjson.loads(st.stdout)
    assert status["last_manual"]["run_id"] == "cli-run-1"
    assert status["last_manual"]["status"] == "succeeded"
    assert status["next"]["run_id"].startswith("momentum-")


def test_momentum_top50_is_paced_not_rejected(tmp_path: Path) -> None:
    """50 orders at max_orders_per_s = 40 (default): the sender waits for its turn, the risk
    throttle (40/s) refuses none, ib_async keeps IB's 45 msgs/s and the simulator (enforcing
    IB's 50 msgs/s with error 100) refuses nothing; every order fills."""
    p = _cli("ibkr", "momentum", "--execute", "--json", "--universe", "120", "--top", "50",
             "--journal", str(tmp_path / "j.sqlite"), "--run-id", "top50")
    assert p.returncode == 0, p.stderr[-2000:]
    s = orjson.loads(p.stdout.strip().splitlines()[-1])
    assert s["orders"] == s["filled"] == 50 and s["denied"] == []
    assert s["paced"]["rate"] == 40 and s["paced"]["waited"] >= 5
    assert s["simulator_rate_errors"] == 0
    assert s["positions_match_target"] and s["simulator_positions_match_target"]


def test_momentum_needs_one_mode() -> None:
    p = _cli("ibkr", "momentum", "--json")
    assert p.returncode == 2 and "exactly one" in p.stderr


def test_momentum_dry_run_table() -> None:
    p = _cli("ibkr", "momentum", "--dry-run", "--universe", "40", "--top", "5")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "dry run" in p.stdout and "orders" in p.stdout


def test_fx_ignore_window_json() -> None:
    p = _cli("ibkr", "fx", "--seconds", "3", "--ignore-window", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    s = orjson.loads(p.stdout.strip().splitlines()[-1])
    assert s["traded"] is True and s["quotes"] > 0
    assert set(s["latency"]["stages"]) == {"signal", "risk", "sent", "ack", "fill"}
    assert s["errors"] == []


def test_fx_outside_window_does_not_trade() -> None:
    saturday = int(datetime(2026, 11, 28, 14, 0, tzinfo=UTC).timestamp() * 1e9)

    async def no_sim(**kw: object) -> object:
        raise AssertionError("nothing may start outside the window")

    s = asyncio.run(cli_fx(config_path=None, seconds=5, ignore_window=False, host=None,
                           port=None, client_id=None, journal_path="", seed=1,
                           start_sim=no_sim, now_ns=saturday))
    assert s["traded"] is False and "outside" in s["reason"]


def test_schedule_status_without_journal_fails_cleanly(tmp_path: Path) -> None:
    p = _cli("schedule", "status", "--journal", str(tmp_path / "missing.sqlite"))
    assert p.returncode == 2 and "no journal" in p.stderr


@pytest.mark.parametrize("name", ["momentum.toml", "fx.toml"])
def test_examples_validate(name: str) -> None:
    from openclaw.app.config import load_ibkr_config

    cfg = load_ibkr_config(ROOT / "examples" / name)
    assert cfg.ibkr.port in (None, 4002, 7497)


def test_schedule_status_help_shows_the_section_name() -> None:
    """rich markup must not eat ``[schedule]`` in the option's help."""
    p = _cli("schedule", "status", "--help", timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "[schedule]" in p.stdout


def test_simulator_run_removes_its_temporary_directory(tmp_path: Path) -> None:
    """Without --journal the simulator run's journal and bar cache live in a temporary
    directory, which is removed at the end (the summary names it)."""
    p = _cli("ibkr", "momentum", "--dry-run", "--json", "--universe", "40", "--top", "5")
    assert p.returncode == 0, p.stderr[-2000:]
    s = orjson.loads(p.stdout.strip().splitlines()[-1])
    assert s["tmp_dir"] and s["journal_kept"] is False
    assert not Path(s["tmp_dir"]).exists()
