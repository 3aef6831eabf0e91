"""Momentum scan, ranking, sizing and rebalance orders, held to a plain-Python reference."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openclaw.feeds.bar_cache import CloseMatrix
from openclaw.model.orders import Side
from openclaw.schedule import run_client_id
from openclaw.strategies.momentum import (
    AccountSnapshot,
    MomentumConfig,
    MomentumError,
    PriceError,
    RebalancePlan,
    exclusion_reasons,
    momentum_scores,
    plan_from_closes,
    rank_top,
    rebalance_orders,
    target_quantities,
    trim_buys,
)

RUN = "momentum-2026-11-23"


def ref_scores(rows: list[list[float]], lookback: int, skip: int) -> list[float]:
    """Plain Python: price skip sessions ago over price lookback sessions ago, minus one."""
    out = []
    for row in rows:
        past, recent, last = row[-1 - lookback], row[-1 - skip], row[-1]
        if math.isnan(past) or math.isnan(recent) or math.isnan(last):
            out.append(math.nan)
        else:
            out.append(recent / past - 1.0)
    return out


@st.composite
def close_matrices(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    lookback = draw(st.integers(2, 40))
    skip = draw(st.integers(0, lookback - 1))
    days = draw(st.integers(lookback + 1, lookback + 30))
    n = draw(st.integers(1, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    c = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, days)), axis=1))
    for i in range(n):
        kind = draw(st.sampled_from(["full", "short", "gap"]))
        if kind == "short":  # listed recently: leading NaN
            c[i, : draw(st.integers(1, days))] = np.nan
        elif kind == "gap":  # one missing bar somewhere
            c[i, draw(st.integers(0, days - 1))] = np.nan
    return c, lookback, skip


@settings(max_examples=200, deadline=None)
@given(close_matrices())
def test_scores_match_the_reference(data: tuple[np.ndarray, int, int]) -> None:
    c, lookback, skip = data
    got = momentum_scores(c, lookback, skip)
    want = ref_scores(c.tolist(), lookback, skip)
    assert got.shape == (c.shape[0],)
    for g, w in zip(got.tolist(), want, strict=True):
        if math.isnan(w):
            assert math.isnan(g)
        else:
            assert g == pytest.approx(w, rel=1e-12, abs=1e-15)
    # the valid mask is the same as NaN
    mask = ~np.isnan(c)
    filled = np.where(mask, c, 1.0)
    np.testing.assert_array_equal(
        np.isnan(momentum_scores(filled, lookback, skip, valid=mask)), np.isnan(got)
    )


def test_twelve_minus_one_on_a_known_series() -> None:
    days = 300
    c = np.tile(np.linspace(100.0, 200.0, days), (3, 1))
    c[1] = 100.0  # flat
    c[2, : days - 200] = np.nan  # 200 days of history: too short for 252
    s = momentum_scores(c, 252, 21)
    assert s[0] == pytest.approx(c[0, -22] / c[0, -253] - 1)
    assert s[1] == 0.0
    assert math.isnan(s[2])
    why = exclusion_reasons(c, ["A", "B", "C"], 252, 21)
    assert why == {"C": "history too short (200 of 253 days)"}


def test_bad_prices_are_errors_naming_the_symbol() -> None:
    c = np.full((3, 30), 10.0)
    for bad in (0.0, -1.0, np.inf):
        m = c.copy()
        m[1, 20] = bad
        with pytest.raises(PriceError, match="B: close"):
            momentum_scores(m, 20, 5, symbols=["A", "B", "C"])
    # outside the lookback window nothing is read
    m = c.copy()
    m[1, 0] = 0.0
    assert not np.isnan(momentum_scores(m, 20, 5)).any()
    with pytest.raises(MomentumError, match="needs 21"):
        momentum_scores(np.ones((2, 20)), 20, 5)
    with pytest.raises(MomentumError, match="skip_days"):
        momentum_scores(np.ones((2, 30)), 20, 20)
    with pytest.raises(MomentumError, match="2-D"):
        momentum_scores(np.ones(30), 20, 5)


def test_missing_bars_exclusion_reasons() -> None:
    c = np.full((4, 30), 10.0)
    c[0, :] = np.nan
    c[1, -1] = np.nan
    c[2, -6] = np.nan  # the skip date (skip 5)
    why = exclusion_reasons(c, ["A", "B", "C", "D"], 20, 5)
    assert why == {
        "A": "no bars",
        "B": "no bar on the last session",
        "C": "missing bar at the lookback or skip date",
    }


def test_rank_top_is_deterministic() -> None:
    s = np.array([0.1, np.nan, 0.3, 0.1, 0.3, -0.2])
    syms = ["F", "E", "D", "C", "B", "A"]
    assert rank_top(s, syms, 4) == [("B", 0.3), ("D", 0.3), ("C", 0.1), ("F", 0.1)]
    assert rank_top(s, syms, 10, min_score=0.0) == [("B", 0.3), ("D", 0.3), ("C", 0.1),
                                                    ("F", 0.1)]
    assert rank_top(s, syms, 0) == []
    assert rank_top(np.full(3, np.nan), ["A", "B", "C"], 2) == []
    with pytest.raises(MomentumError):
        rank_top(s, syms[:3], 2)


def test_target_quantities_floor_and_errors() -> None:
    t = target_quantities({"A": 0.5, "B": 0.5}, {"A": 33.0, "B": Decimal("1000")}, 10_000, 0.02)
    assert t == {"A": math.floor(4900 / 33), "B": 4}
    with pytest.raises(PriceError, match="A: price"):
        target_quantities({"A": 1.0}, {"A": float("nan")}, 10_000)
    with pytest.raises(PriceError, match="A: price"):
        target_quantities({"A": 1.0}, {"A": 0.0}, 10_000)
    with pytest.raises(PriceError, match="no price"):
        target_quantities({"A": 1.0}, {}, 10_000)
    with pytest.raises(MomentumError, match="sum"):
        target_quantities({"A": 0.7, "B": 0.7}, {"A": 1.0, "B": 1.0}, 10_000)


def test_rebalance_sells_first_then_buys_within_cash() -> None:
    cur = {"OLD": 100, "KEEP": 10, "GROW": 5}
    tgt = {"KEEP": 10, "GROW": 20, "NEW": 50}
    px = {"OLD": 50.0, "KEEP": 10.0, "GROW": 100.0, "NEW": 20.0}
    orders = rebalance_orders(cur, tgt, px, cash=0.0, run_id=RUN, cost_bps=10, limit_bps=50)
    assert [(o.symbol, o.side, o.qty) for o in orders][0] == ("OLD", Side.SELL, 100)
    sides = [o.side for o in orders]
    assert sides == sorted(sides, key=lambda s: s is Side.BUY)  # every sell before any buy
    proceeds = 100 * 50.0 * (1 - 0.001)
    cost = sum(o.qty * o.ref_price * 1.001 for o in orders if o.side is Side.BUY)
    assert cost <= proceeds  # needs 2500 for the buys, has 4995: untrimmed
    assert {(o.symbol, o.qty) for o in orders if o.side is Side.BUY} == {("GROW", 15),
                                                                         ("NEW", 50)}
    o = orders[0]
    assert o.client_id == run_client_id(RUN, "OLD:sell")
    assert o.limit_price == Decimal("49.75")  # 50 * (1 - 50 bps), rounded down
    buy = next(x for x in orders if x.symbol == "NEW")
    assert buy.limit_price == Decimal("20.10")
    # not enough cash: buys scaled down together, never above cash + proceeds
    orders = rebalance_orders({}, {"A": 100, "B": 100}, {"A": 10.0, "B": 30.0}, cash=2000.0,
                              run_id=RUN, cost_bps=10)
    got = {o.symbol: o.qty for o in orders}
    assert got == {"A": 49, "B": 49}
    assert sum(got[s] * p * 1.001 for s, p in (("A", 10.0), ("B", 30.0))) <= 2000.0
    # no cash, nothing to sell: no buys at all
    assert rebalance_orders({}, {"A": 5}, {"A": 10.0}, cash=0.0, run_id=RUN) == []
    with pytest.raises(PriceError, match="OLD"):
        rebalance_orders({"OLD": 1}, {}, {}, cash=0.0, run_id=RUN)
    with pytest.raises(MomentumError, match="long-only"):
        rebalance_orders({}, {"A": -1}, {"A": 1.0}, cash=0.0, run_id=RUN)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from("ABCDEFGH"), st.integers(0, 500), max_size=8),
    st.dictionaries(st.sampled_from("ABCDEFGH"), st.integers(0, 500), max_size=8),
    st.lists(st.floats(0.5, 2000.0), min_size=8, max_size=8),
    st.floats(0.0, 1e6),
    st.floats(0.0, 100.0),
)
def test_rebalance_properties(cur: dict[str, int], tgt: dict[str, int], prices: list[float],
                              cash: float, cost_bps: float) -> None:
    px = dict(zip("ABCDEFGH", prices, strict=True))
    orders = rebalance_orders(cur, tgt, px, cash, run_id=RUN, cost_bps=cost_bps)
    k = cost_bps / 1e4
    sells = [o for o in orders if o.side is Side.SELL]
    buys = [o for o in orders if o.side is Side.BUY]
    assert orders == sells + buys
    # sells: exactly down to target; buys: at most up to target, all >= 1 share
    for o in sells:
        assert o.qty == cur.get(o.symbol, 0) - tgt.get(o.symbol, 0)
    for o in buys:
        assert 1 <= o.qty <= tgt.get(o.symbol, 0) - cur.get(o.symbol, 0)
    left = cash + sum(o.qty * px[o.symbol] * (1 - k) for o in sells) - sum(
        o.qty * px[o.symbol] * (1 + k) for o in buys)
    assert left >= -1e-6 * max(1.0, cash)
    assert len({o.client_id for o in orders}) == len(orders)
    assert orders == rebalance_orders(cur, tgt, px, cash, run_id=RUN, cost_bps=cost_bps)


def test_trim_buys_keeps_what_fits() -> None:
    assert trim_buys([("A", 10, 10.0)], 1000.0, 0) == [("A", 10)]
    assert trim_buys([("A", 10, 10.0), ("B", 1, 10.0)], 55.0, 0) == [("A", 5)]
    assert trim_buys([("A", 10, 10.0)], -5.0, 0) == []


def _matrix(n: int = 30, days: int = 260, seed: int = 7) -> CloseMatrix:
    rng = np.random.default_rng(seed)
    c = 20 + 80 * rng.random((n, 1)) * np.exp(np.cumsum(rng.normal(0.0005, 0.02, (n, days)),
                                                        axis=1))
    c[0, :100] = np.nan
    dates = np.arange(np.datetime64("2025-11-01"), np.datetime64("2025-11-01") + days)
    return CloseMatrix(tuple(f"S{i:02d}" for i in range(n)), dates, c)


def test_plan_from_closes_end_to_end_and_json_round_trip() -> None:
    m = _matrix()
    cfg = MomentumConfig(universe=list(m.symbols), top_n=5, lookback_days=252, skip_days=21)
    held = {"S01": 10, "S02": 0, "GONE": 7}
    acct = AccountSnapshot(100_000.0, 20_000.0, held, {"GONE": 12.5})
    plan = plan_from_closes(RUN, cfg, m, acct)
    assert len(plan.picks) == 5 and "S00" not in dict(plan.picks)
    assert plan.excluded == {"S00": "history too short (160 of 253 days)"}
    assert sorted(plan.weights) == sorted(s for s, _ in plan.picks)
    assert any(o.symbol == "GONE" and o.side is Side.SELL and o.qty == 7 for o in plan.orders)
    sides = [o.side for o in plan.orders]
    assert sides == sorted(sides, key=lambda s: s is Side.BUY)
    for s in plan.targets:
        assert plan.targets[s] * plan.prices[s] <= 100_000 * 0.98 / 5 + 1e-9
    again = RebalancePlan.from_json(plan.to_json())
    assert again.to_json() == plan.to_json()
    assert again.orders == plan.orders
