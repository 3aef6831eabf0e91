"""pytest-benchmark cases of the IBKR strategies' logic: ``pytest bench/ --benchmark-only``.

Same data as ``openclaw.bench.ibkr_logic``: the 500-stock momentum decision from a close matrix
(target: cache read + decision under 20 ms) and one FX quote through the scalper with risk on
(target: quote -> order handed to the socket, p50 under 100 us). ``extra_info`` holds the
figures the targets are about.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pytest_benchmark")

from openclaw.bench.ibkr_logic import (  # noqa: E402
    ou_mids,
    run_fx_bench,
    run_momentum_bench,
    synthetic_universe,
)
from openclaw.risk.quotes import QuoteRisk, fx_limits  # noqa: E402
from openclaw.strategies.fx import FxScalper, FxScalperConfig  # noqa: E402
from openclaw.strategies.momentum import (  # noqa: E402
    AccountSnapshot,
    MomentumConfig,
    momentum_scores,
    plan_from_closes,
    rank_top,
)

M = synthetic_universe(500)
CFG = MomentumConfig(universe=list(M.symbols), top_n=50)
ACCT = AccountSnapshot(1_000_000.0, 200_000.0, {s: 100 for s in M.symbols[::25]}, {})


def test_momentum_scores_and_rank_500(benchmark: Any) -> None:
    """The vectorised scan alone: 12-1 scores of 500 stocks and the top 50."""
    benchmark.group = "momentum"
    picks = benchmark(lambda: rank_top(momentum_scores(M.closes, 252, 21), M.symbols, 50))
    assert len(picks) == 50


def test_momentum_plan_500(benchmark: Any) -> None:
    """The whole decision from the close matrix: scores, picks, targets, orders, reasons."""
    benchmark.group = "momentum"
    plan = benchmark(plan_from_closes, "momentum-2026-11-23", CFG, M, ACCT)
    assert len(plan.picks) == 50 and plan.orders


def test_momentum_cache_and_plan_500(benchmark: Any) -> None:
    """Cache read (matrix file, via a worker thread) + decision: the 20 ms target."""
    benchmark.group = "momentum"
    res = benchmark.pedantic(run_momentum_bench, kwargs={"reps": 10}, rounds=1, iterations=1)
    benchmark.extra_info.update(res)
    assert res["total_median_ms"] > 0


def test_fx_quiet_quote(benchmark: Any) -> None:
    """One quote that does not trade (signal update, window check): the common case."""
    benchmark.group = "fx"
    cfg = FxScalperConfig(window=120)
    s = FxScalper(cfg, risk=QuoteRisk(fx_limits(cfg.pairs)))
    mids = ou_mids(4096)
    i = [0]

    def one() -> None:
        k = i[0] = (i[0] + 1) & 4095
        s.on_quote("GBP/USD", mids[k] + 0.2, mids[k] + 0.20002, 1, 1)  # wall 1970: no window

    benchmark(one)
    assert s.intents == 0


def test_fx_quote_to_socket(benchmark: Any) -> None:
    """Quote -> order on a loopback socket (risk on): the 100 us p50 target."""
    benchmark.group = "fx"
    res = benchmark.pedantic(run_fx_bench, kwargs={"quotes": 20_000}, rounds=1, iterations=1)
    benchmark.extra_info.update({"orders": res["orders"],
                                 "quote_to_socket_us": res["quote_to_socket_us"]})
    assert res["orders"] > 0 and res["quote_to_socket_us"]["count"] == res["orders"]
