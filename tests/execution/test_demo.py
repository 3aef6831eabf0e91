"""The arbitrage demo end to end on the simulators: nothing lost, nothing duplicated."""

import asyncio

import pytest

pytest.importorskip("ccxt")

from openclaw.demo import STAGE_PAIRS, run_demo  # noqa: E402


def test_demo_short_run_keeps_every_order() -> None:
    summary = asyncio.run(asyncio.wait_for(run_demo(4.0, seed=11, show=False), 90))
    for key in ("seconds", "opportunities", "arbitrages", "orders", "fills", "unwinds",
                "lost_orders", "duplicate_orders", "journal_consistent", "pnl", "latency_us"):
        assert key in summary
    assert summary["lost_orders"] == 0
    assert summary["duplicate_orders"] == 0
    assert summary["journal_consistent"] is True
    assert summary["arbitrages"] > 0, "the nudged market produced no arbitrage"
    assert summary["orders"] == 3 * summary["arbitrages"]
    assert set(summary["latency_us"]) == set(STAGE_PAIRS)
    assert summary["latency_us"]["ingest"]["count"] > 0
