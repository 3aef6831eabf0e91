"""The arbitrage demo end to end on the simulators: nothing lost, nothing duplicated."""

import asyncio

import pytest

pytest.importorskip("ccxt")

from openclaw.app.demo import STAGE_PAIRS, run_demo  # noqa: E402


def test_demo_short_run_keeps_every_order() -> None:
    summary = asyncio.run(asyncio.wait_for(run_demo(4.0, seed=11), 90))
    for key in ("seconds", "opportunities", "arbitrages", "orders", "fills", "unwinds",
                "lost_orders", "duplicate_orders", "journal_consistent", "pnl", "latency_us"):
        assert key in summary
    assert summary["lost_orders"] == 0
    assert summary["duplicate_orders"] == 0
    assert summary["journal_consistent"] is True
    assert summary["pipeline_errors"] == 0
    assert summary["arbitrages"] > 0, "the nudged market produced no arbitrage"
    # every arbitrage sends three legs; an unwind sends one order per filled leg (1 or 2)
    assert 3 * summary["arbitrages"] + summary["unwinds"] <= summary["orders"]
    # an unwind sends one order per leg that traded (1-3: a partly filled leg counts)
    assert summary["orders"] <= 3 * summary["arbitrages"] + 3 * summary["unwinds"]
    assert set(summary["latency_us"]) == set(STAGE_PAIRS)
    assert summary["latency_us"]["ingest"]["count"] > 0
