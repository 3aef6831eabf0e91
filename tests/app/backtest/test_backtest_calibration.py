"""The honesty test: a short demo recorded, backtested with its own measured latencies, must
match the demo's arbitrages, filled legs and P&L within the tolerances of docs/recording.md."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openclaw.app.backtest import load_recording, run_backtest, settings_from
from openclaw.app.config import Config
from openclaw.app.demo import run_demo


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    d = tmp_path_factory.mktemp("demo-rec")
    summary = asyncio.run(run_demo(5.0, seed=7, journal_path=str(d / "journal.sqlite"),
                                   record=str(d / "rec")))
    return summary, d / "rec"


def _backtest(rec_dir: Path, seed: int = 7) -> dict:
    rec = load_recording([rec_dir])
    return asyncio.run(run_backtest(rec, Config.model_validate(rec.meta["config"]),
                                    settings_from(rec, seed)))


def test_demo_backtest_matches_the_demo(recorded: tuple[dict, Path]) -> None:
    demo, rec_dir = recorded
    assert demo["record"]["frames"] > 300 and demo["record"]["dropped"] == 0
    bt = _backtest(rec_dir)
    assert demo["arbitrages"] >= 3
    # tolerances and why: docs/recording.md, "Calibration"
    assert abs(bt["arbitrages"] - demo["arbitrages"]) <= max(2, 0.25 * demo["arbitrages"])
    # filled legs (unwind legs included): not calibrated yet, the gap goes both ways between
    # runs (backtest 70 and 77 vs the demo's 49; 57 vs 72): within a factor of 2 either way
    # (docs/recording.md, "Calibration"); never more than the orders the backtest sent
    assert demo["filled_legs"] / 2 <= bt["filled_legs"] <= min(2 * demo["filled_legs"],
                                                                bt["orders"])
    assert abs(bt["incomplete"] - demo["incomplete"]) <= 3
    # marked P&L: within 2 USDT per arbitrage (about one arbitrage's own profit: a loose
    # calibration, the open item of docs/recording.md; seen: 1.5, 21.4 USDT apart)
    assert abs(bt["pnl_usdt_marked"] - demo["pnl_usdt_marked"]) <= max(
        20.0, 2.0 * demo["arbitrages"])
    assert bt["pipeline_errors"] == 0
    assert 0.0 <= bt["ghost_rate"] <= 1.0 and len(bt["per_arbitrage"]) == bt["arbitrages"]


def test_backtest_is_deterministic_for_a_seed(recorded: tuple[dict, Path]) -> None:
    _, rec_dir = recorded
    a, b = _backtest(rec_dir, 3), _backtest(rec_dir, 3)
    for k in ("wall_s", "frames_per_s"):
        a.pop(k), b.pop(k)
    assert a == b
