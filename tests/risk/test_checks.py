"""One test per check: it fires at one tick/lot/unit past its limit and not at the limit.

Limits are loaded from config (pydantic) so the decimal -> integer conversion is exercised too;
the setup is described in conftest.py (mid 100.00 = 10000 ticks, lot 0.001, Q unit 1e-5).
"""

from __future__ import annotations

import numpy as np
import pytest

from openclaw import OrderBook
from openclaw.model.errors import RiskError
from openclaw.risk import (
    ACTIVE,
    BUY,
    CANCEL,
    HALTED,
    LIMIT,
    MARKET,
    REASONS,
    REDUCING,
    SELL,
    RiskLimits,
    build_engine,
    protective_price,
    reason_name,
)

from .conftest import MID, NOW, T0, make_setup

R = REASONS


class Ids:
    """Fresh client order ids."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def check(s, qty, price=MID, side=BUY, mid=MID, now=NOW, kind=LIMIT, inst=0, cid=None):
    """Check one order with a fresh id; return its reason name."""
    cid = cid if cid is not None else check.ids()
    return reason_name(s.engine.check_order(inst, side, qty, price, mid, cid, now, kind))


check.ids = Ids()


def codes_of(s, orders, now=NOW):
    arr = s.engine.new_orders(len(orders))
    for k, o in enumerate(orders):
        arr[k] = o
    codes = np.zeros(len(orders), dtype=np.int32)
    failed = s.engine.check(arr, codes, now)
    return failed, [reason_name(c) for c in codes], arr


# ---- instrument conformance -------------------------------------------------------------------


def test_price_increment() -> None:
    s = make_setup({"price_increment": "0.05"})  # 5 ticks
    assert check(s, 100, price=10_000) == "PASS"
    assert check(s, 100, price=9_995) == "PASS"
    assert check(s, 100, price=10_001) == "PRICE_NOT_ON_TICK"
    assert check(s, 100, price=9_999) == "PRICE_NOT_ON_TICK"


def test_size_increment() -> None:
    s = make_setup({"size_increment": "0.01"})  # 10 lots
    assert check(s, 10) == "PASS"
    assert check(s, 11) == "QTY_NOT_ON_LOT"
    assert check(s, 9) == "QTY_NOT_ON_LOT"


def test_min_qty_rounds_up_to_the_lot() -> None:
    s = make_setup({"min_qty": "0.1"})
    assert check(s, 100) == "PASS"
    assert check(s, 99) == "QTY_BELOW_MIN"
    s = make_setup({"min_qty": "0.1005"})  # not on the lot: 101 lots is the least that conforms
    assert check(s, 101) == "PASS"
    assert check(s, 100) == "QTY_BELOW_MIN"


def test_max_qty_rounds_down_to_the_lot() -> None:
    s = make_setup({"max_qty": "1"})
    assert check(s, 1000) == "PASS"
    assert check(s, 1001) == "QTY_ABOVE_MAX"
    s = make_setup({"max_qty": "0.9999"})
    assert check(s, 999) == "PASS"
    assert check(s, 1000) == "QTY_ABOVE_MAX"


def test_min_notional_exact_to_one_unit() -> None:
    # 100 lots at 10000 ticks = 1e6 notional units = 10.00000 Q
    s = make_setup({"min_notional": "10"})
    assert check(s, 100) == "PASS"
    assert check(s, 100, price=9_999) == "NOTIONAL_BELOW_MIN"
    s = make_setup({"min_notional": "10.00001"})  # one notional unit more
    assert check(s, 100) == "NOTIONAL_BELOW_MIN"
    assert check(s, 100, price=10_001) == "PASS"


def test_max_notional_exact_to_one_unit() -> None:
    s = make_setup({"max_notional": "10"})
    assert check(s, 100) == "PASS"
    assert check(s, 100, price=10_001) == "NOTIONAL_ABOVE_MAX"
    s = make_setup({"max_notional": "9.99999"})  # one notional unit less
    assert check(s, 100) == "NOTIONAL_ABOVE_MAX"
    assert check(s, 100, price=9_999) == "PASS"


# ---- per-order risk limits --------------------------------------------------------------------


def test_max_order_qty() -> None:
    s = make_setup({"max_order_qty": "0.5"})
    assert check(s, 500) == "PASS"
    assert check(s, 501) == "QTY_EXCEEDS_ORDER_LIMIT"


def test_max_order_notional() -> None:
    s = make_setup({"max_order_notional": "50"})  # 5e6 units
    assert check(s, 500) == "PASS"
    assert check(s, 500, price=10_001) == "NOTIONAL_EXCEEDS_ORDER_LIMIT"
    assert check(s, 501) == "NOTIONAL_EXCEEDS_ORDER_LIMIT"


# ---- price collar -----------------------------------------------------------------------------


@pytest.mark.parametrize("side", [BUY, SELL])
def test_collar_band_is_inclusive_to_the_tick(side: int) -> None:
    s = make_setup({"collar_bps": "50"})  # 0.5 % of 10000 ticks = 50 ticks
    for price in (10_050, 9_950, 10_000):
        assert check(s, 10, price=price, side=side) == "PASS"
    assert check(s, 10, price=10_051, side=side) == "PRICE_OUTSIDE_COLLAR"
    assert check(s, 10, price=9_949, side=side) == "PRICE_OUTSIDE_COLLAR"


def test_fractional_bps_collar() -> None:
    s = make_setup({"collar_bps": "1.5"})  # 1.5 ticks at mid 10000
    assert check(s, 10, price=10_001) == "PASS"
    assert check(s, 10, price=10_002) == "PRICE_OUTSIDE_COLLAR"
    assert check(s, 10, price=20_003, mid=20_000) == "PASS"  # 3 ticks at mid 20000
    assert check(s, 10, price=20_004, mid=20_000) == "PRICE_OUTSIDE_COLLAR"


def test_no_reference_price() -> None:
    s = make_setup({"collar_bps": "50"})
    assert check(s, 10, mid=0) == "NO_REFERENCE_PRICE"
    assert check(s, 10, mid=-5) == "NO_REFERENCE_PRICE"
    assert check(s, 10, mid=1) == "PRICE_OUTSIDE_COLLAR"


# ---- market orders: protective limit from the book walk -------------------------------------


def test_protective_limit_walks_the_book() -> None:
    s = make_setup()
    assert protective_price(s.book, BUY, 5000) == 10_001  # the whole first ask level
    assert protective_price(s.book, BUY, 5001) == 10_002
    assert protective_price(s.book, SELL, 5000) == 9_999
    assert protective_price(s.book, SELL, 10_001) == 9_990
    assert protective_price(s.book, BUY, 110_000) == 10_010  # everything
    assert protective_price(s.book, BUY, 110_001) is None
    assert protective_price(s.book, BUY, 5001, price_mult=5) == 10_005  # rounded outward
    assert protective_price(s.book, SELL, 5001, price_mult=5) == 9_995


def test_market_order_collar_on_the_protective_limit() -> None:
    s = make_setup({"collar_bps": "1"})  # 1 tick at mid 10000
    failed, names, arr = codes_of(s, [(1, 0, 5000, MID, 0, BUY, MARKET)])
    assert (failed, names, int(arr[0]["price"])) == (0, ["PASS"], 10_001)
    failed, names, arr = codes_of(s, [(2, 0, 5001, MID, 0, BUY, MARKET)])
    assert (names, int(arr[0]["price"])) == (["PRICE_OUTSIDE_COLLAR"], 10_002)
    failed, names, arr = codes_of(s, [(3, 0, 5000, MID, 0, SELL, MARKET)])
    assert (names, int(arr[0]["price"])) == (["PASS"], 9_999)


def test_market_order_without_liquidity() -> None:
    s = make_setup()
    assert check(s, 110_000, kind=MARKET) == "PASS"
    assert check(s, 110_001, kind=MARKET) == "INSUFFICIENT_LIQUIDITY"
    s.book.clear()
    assert check(s, 1, side=SELL, kind=MARKET) == "INSUFFICIENT_LIQUIDITY"


def test_market_order_balance_uses_the_protective_limit() -> None:
    need = 5001 * 10_002  # worst-case price of a 5001-lot buy
    s = make_setup(balances=(0, need))
    assert check(s, 5001, kind=MARKET, price=0) == "PASS"
    s = make_setup(balances=(0, need - 1))
    assert check(s, 5001, kind=MARKET) == "INSUFFICIENT_BALANCE"


# ---- stale data -------------------------------------------------------------------------------


def test_book_age() -> None:
    s = make_setup({"max_book_age_ms": 100})
    assert check(s, 10, now=T0 + 100_000_000) == "PASS"
    assert check(s, 10, now=T0 + 100_000_001) == "BOOK_STALE"
    assert check(s, 10, now=T0 - 5) == "PASS"  # a book newer than "now" is not stale


def test_book_not_live_and_no_book() -> None:
    s = make_setup()
    for state in (0, 2, 3):  # SYNCING, STALE, RESYNCING
        s.book.state = state
        assert check(s, 10) == "BOOK_NOT_LIVE"
    s.book.state = 1
    assert check(s, 10) == "PASS"
    s.engine.unbind_book(0)
    assert check(s, 10) == "NO_MARKET_DATA"


# ---- position and gross exposure ----------------------------------------------------------------


def test_position_cap_projected() -> None:
    s = make_setup({"max_position": "1"})  # 1000 lots
    assert check(s, 1000) == "PASS"
    assert check(s, 1001) == "POSITION_LIMIT"
    assert check(s, 1001, side=SELL) == "POSITION_LIMIT"
    s.engine.on_fill(0, BUY, 400, MID)
    assert check(s, 600) == "PASS"
    assert check(s, 601) == "POSITION_LIMIT"
    assert check(s, 1400, side=SELL) == "PASS"  # 400 -> -1000
    assert check(s, 1401, side=SELL) == "POSITION_LIMIT"


def test_position_cap_never_blocks_a_reducing_order() -> None:
    s = make_setup({"max_position": "1"})
    s.engine.on_fill(0, BUY, 3000, MID)  # above the cap (e.g. the cap was lowered)
    assert check(s, 1, side=SELL) == "PASS"
    assert check(s, 1) == "POSITION_LIMIT"
    assert check(s, 3000, side=SELL) == "PASS"  # 3000 -> 0
    assert check(s, 4000, side=SELL) == "PASS"  # 3000 -> -1000: a flip must fit the cap
    assert check(s, 4001, side=SELL) == "POSITION_LIMIT"  # 3000 -> -1001


def test_position_cap_accumulates_over_the_list() -> None:
    s = make_setup({"max_position": "1"})
    failed, names, _ = codes_of(
        s, [(1, MID, 600, MID, 0, BUY, LIMIT), (2, MID, 400, MID, 0, BUY, LIMIT)]
    )
    assert (failed, names) == (0, ["PASS", "PASS"])
    failed, names, _ = codes_of(
        s, [(3, MID, 600, MID, 0, BUY, LIMIT), (4, MID, 401, MID, 0, BUY, LIMIT)]
    )
    assert (failed, names) == (1, ["LIST_REJECTED", "POSITION_LIMIT"])


# binary-exact weights (tick 0.5 x lot 0.25 = 0.125 Q per notional unit), so "at the cap" is exact
GROSS_INST = {"tick_size": "0.5", "lot_size": "0.25"}
GROSS_LEVELS = ([("99.5", "10")], [("100.5", "10")])


def test_gross_exposure_cap() -> None:
    # buying q lots at mid 200 ticks (100.0) adds q * 200 * 0.125 = 25 q
    s = make_setup(GROSS_INST, levels=GROSS_LEVELS, max_gross_exposure=1000.0)
    assert check(s, 40, price=200, mid=200) == "PASS"
    assert check(s, 41, price=200, mid=200) == "GROSS_EXPOSURE_LIMIT"
    s.engine.on_fill(0, BUY, 30, 200)  # 750 of exposure valued at the mark 200
    assert s.engine.gross_exposure == 750.0
    assert check(s, 10, price=200, mid=200) == "PASS"
    assert check(s, 11, price=200, mid=200) == "GROSS_EXPOSURE_LIMIT"
    assert check(s, 11, price=200, mid=200, side=SELL) == "PASS"  # reduces
    assert check(s, 70, price=200, mid=200, side=SELL) == "PASS"  # 30 -> -40: 1000, at the cap
    assert check(s, 71, price=200, mid=200, side=SELL) == "GROSS_EXPOSURE_LIMIT"


def test_gross_exposure_values_the_order_at_its_mid_and_others_at_their_marks() -> None:
    s = make_setup(GROSS_INST, levels=GROSS_LEVELS, max_gross_exposure=1000.0)
    s.engine.on_fill(0, BUY, 20, 200)  # at its mark of 200 ticks: 500
    assert s.engine.gross_exposure == 500.0
    # the order's instrument is valued at the order's mid (100 ticks): (20 + q) * 100 * 0.125
    assert check(s, 60, price=100, mid=100) == "PASS"
    assert check(s, 61, price=100, mid=100) == "GROSS_EXPOSURE_LIMIT"


def test_gross_exposure_uses_the_quote_asset_value() -> None:
    s = make_setup(GROSS_INST, levels=GROSS_LEVELS, max_gross_exposure=1000.0)
    s.engine.set_asset_value(s.ix.asset("Q"), 2.0)
    assert check(s, 20, price=200, mid=200) == "PASS"
    assert check(s, 21, price=200, mid=200) == "GROSS_EXPOSURE_LIMIT"


# ---- free balance -----------------------------------------------------------------------------


def test_buy_consumes_quote_exactly() -> None:
    s = make_setup(balances=(0, 1_000_000))
    assert check(s, 100) == "PASS"  # 100 lots x 10000 ticks = 1e6 Q units
    assert s.engine.balance(0, s.ix.asset("Q")) == 0
    s = make_setup(balances=(0, 999_999))
    assert check(s, 100) == "INSUFFICIENT_BALANCE"
    assert check(s, 99) == "PASS"


def test_sell_consumes_base_exactly() -> None:
    s = make_setup(balances=(100, 0))
    assert check(s, 101, side=SELL) == "INSUFFICIENT_BALANCE"
    assert check(s, 100, side=SELL) == "PASS"
    assert s.engine.balance(0, s.ix.asset("X")) == 0


def test_balance_is_cumulative_over_the_list() -> None:
    s = make_setup(balances=(150, 1_000_000))
    legs = [
        (1, MID, 50, MID, 0, BUY, LIMIT),
        (2, MID, 50, MID, 0, BUY, LIMIT),
        (3, MID, 100, MID, 0, SELL, LIMIT),
        (4, MID, 51, MID, 0, SELL, LIMIT),
    ]
    before = s.snapshot()
    failed, names, _ = codes_of(s, legs)
    assert (failed, names) == (1, ["LIST_REJECTED"] * 3 + ["INSUFFICIENT_BALANCE"])
    assert s.snapshot() == before
    legs[3] = (4, MID, 50, MID, 0, SELL, LIMIT)
    failed, names, _ = codes_of(s, legs)
    assert (failed, names) == (0, ["PASS"] * 4)
    assert s.engine.balance(0, s.ix.asset("Q")) == 0
    assert s.engine.balance(0, s.ix.asset("X")) == 0


# ---- throttle and open orders ------------------------------------------------------------------


def test_token_bucket_on_the_injected_clock() -> None:
    s = make_setup(venue={"max_orders": 2, "interval_ms": 1000})  # one token per 500 ms
    assert check(s, 1, now=NOW) == "PASS"
    assert check(s, 1, now=NOW) == "PASS"
    assert check(s, 1, now=NOW) == "RATE_LIMITED"
    assert check(s, 1, now=NOW + 499_999_999) == "RATE_LIMITED"
    assert check(s, 1, now=NOW + 500_000_000) == "PASS"
    assert s.engine.tokens(0, NOW + 500_000_000) == 0.0
    assert s.engine.tokens(0, NOW + 10**12) == 2.0  # refills to the bucket size, not beyond


def test_token_bucket_counts_the_legs_of_a_list() -> None:
    s = make_setup(venue={"max_orders": 3, "interval_ms": 1000})
    legs = [(k, MID, 1, MID, 0, BUY, LIMIT) for k in range(1, 5)]
    failed, names, _ = codes_of(s, legs)
    assert (failed, names) == (1, ["LIST_REJECTED"] * 3 + ["RATE_LIMITED"])
    assert s.engine.tokens(0, NOW) == 3.0
    failed, names, _ = codes_of(s, legs[:3])
    assert failed == 0 and s.engine.tokens(0, NOW) == 0.0


def test_cancels_pass_and_take_no_token() -> None:
    s = make_setup(venue={"max_orders": 1, "interval_ms": 1000})
    assert check(s, 1) == "PASS"
    assert check(s, 0, kind=CANCEL) == "PASS"
    assert check(s, 1) == "RATE_LIMITED"


def test_max_open_orders() -> None:
    s = make_setup(venue={"max_open_orders": 2})
    assert check(s, 1, cid=101) == "PASS"
    assert check(s, 1, cid=102) == "PASS"
    assert check(s, 1, cid=103) == "MAX_OPEN_ORDERS"
    assert s.engine.open_orders(0) == 2
    assert s.engine.on_order_close(101) is True
    assert s.engine.on_order_close(101) is False
    assert check(s, 1, cid=103) == "PASS"
    assert s.engine.on_order_open(555, 0) is True  # reconciled from the venue
    assert check(s, 1) == "MAX_OPEN_ORDERS"


# ---- trading state ----------------------------------------------------------------------------


def test_reducing_state_passes_only_reducing_orders() -> None:
    s = make_setup()
    s.engine.set_trading_state(REDUCING)
    assert check(s, 1) == "REDUCE_ONLY"
    assert check(s, 1, side=SELL) == "REDUCE_ONLY"
    s.engine.on_fill(0, BUY, 1000, MID)
    assert check(s, 1) == "REDUCE_ONLY"
    assert check(s, 1001, side=SELL) == "REDUCE_ONLY"  # would flip
    assert check(s, 1000, side=SELL) == "PASS"
    failed, names, _ = codes_of(
        s, [(900, MID, 600, MID, 0, SELL, LIMIT), (901, MID, 401, MID, 0, SELL, LIMIT)]
    )
    assert names == ["LIST_REJECTED", "REDUCE_ONLY"]  # 1000 -> 400 -> -1: the second flips


def test_halted_passes_nothing_but_cancels() -> None:
    s = make_setup()
    s.engine.kill()
    assert s.engine.trading_state == HALTED and s.engine.halt_reason == 1  # MANUAL
    assert check(s, 1) == "TRADING_HALTED"
    assert check(s, 1, kind=MARKET) == "TRADING_HALTED"
    assert check(s, 0, kind=CANCEL) == "PASS"
    s.engine.set_trading_state(ACTIVE)
    assert s.engine.halt_reason == 0
    assert check(s, 1) == "PASS"


def test_daily_loss_limit_halts_at_the_limit() -> None:
    s = make_setup(daily_loss_limit=2.5)
    s.engine.add_pnl(-2.0)
    s.engine.add_pnl(-0.25)
    assert s.engine.trading_state == ACTIVE
    assert check(s, 1) == "PASS"
    s.engine.add_pnl(-0.25)  # -2.5 exactly
    assert s.engine.trading_state == HALTED and s.engine.halt_reason == 2  # LOSS_LIMIT
    assert check(s, 1) == "TRADING_HALTED"
    s.engine.reset_day()
    assert s.engine.trading_state == HALTED  # only a manual decision resumes
    s.engine.set_trading_state(ACTIVE)
    assert check(s, 1) == "PASS"


def test_daily_loss_from_fills() -> None:
    # binary-exact weight 0.125: buy 8 lots at 200, sell them at 198 -> -2 ticks * 8 * 0.125 = -2
    s = make_setup(GROSS_INST, levels=GROSS_LEVELS, daily_loss_limit=2.0)
    s.engine.on_fill(0, BUY, 8, 200)
    s.engine.on_fill(0, SELL, 4, 199)  # -0.5
    assert (s.engine.daily_pnl, s.engine.trading_state) == (-0.5, ACTIVE)
    s.engine.on_fill(0, SELL, 4, 197)  # -1.5 more
    assert (s.engine.daily_pnl, s.engine.trading_state) == (-2.0, HALTED)
    assert s.engine.position(0) == 0


# ---- client order ids -------------------------------------------------------------------------


def test_duplicate_client_order_id() -> None:
    s = make_setup()
    assert check(s, 1, cid=7) == "PASS"
    assert check(s, 1, cid=7) == "DUPLICATE_ORDER_ID"
    assert s.engine.has_id(7)
    s.engine.on_order_close(7)
    assert check(s, 1, cid=7) == "PASS"
    failed, names, _ = codes_of(
        s, [(8, MID, 1, MID, 0, BUY, LIMIT), (8, MID, 1, MID, 0, BUY, LIMIT)]
    )
    assert names == ["LIST_REJECTED", "DUPLICATE_ORDER_ID"]
    assert not s.engine.has_id(8)


def test_id_table_full() -> None:
    s = make_setup(max_open_ids=2)
    assert check(s, 1) == "PASS"
    assert check(s, 1) == "PASS"
    assert check(s, 1) == "ID_TABLE_FULL"
    with pytest.raises(RiskError, match="full"):
        s.engine.on_order_open(99, 0)


# ---- order validation, lists ------------------------------------------------------------------


def test_invalid_orders_and_unknown_instrument() -> None:
    s = make_setup()
    assert check(s, 0) == "INVALID_ORDER"
    assert check(s, -1) == "INVALID_ORDER"
    assert check(s, 1, price=0) == "INVALID_ORDER"
    assert check(s, 1, side=0) == "INVALID_ORDER"
    assert check(s, 1, kind=7) == "INVALID_ORDER"
    assert check(s, 1, cid=0) == "INVALID_ORDER"
    assert check(s, 2**62) == "INVALID_ORDER"
    assert check(s, 1, inst=1) == "UNKNOWN_INSTRUMENT"
    assert check(s, 1, inst=-1) == "UNKNOWN_INSTRUMENT"


def test_list_too_long() -> None:
    s = make_setup(max_list_len=3)
    legs = [(k, MID, 1, MID, 0, BUY, LIMIT) for k in range(1, 5)]
    assert codes_of(s, legs)[:2] == (4, ["LIST_TOO_LONG"] * 4)
    assert codes_of(s, legs[:3])[:2] == (0, ["PASS"] * 3)


def test_list_is_all_or_nothing_and_every_failing_leg_has_its_code() -> None:
    s = make_setup(
        {"max_qty": "1", "collar_bps": "10"}, venue={"max_orders": 10, "max_open_orders": 10}
    )
    s.engine.check_order(0, BUY, 1, MID, MID, 500, NOW)  # one open order with id 500
    before = s.snapshot()
    legs = [
        (1, MID, 10, MID, 0, BUY, LIMIT),  # fine
        (2, MID, 1001, MID, 0, BUY, LIMIT),  # QTY_ABOVE_MAX
        (3, MID, 10, MID, 0, SELL, LIMIT),  # fine
        (4, 10_011, 10, MID, 0, BUY, LIMIT),  # PRICE_OUTSIDE_COLLAR
        (500, MID, 10, MID, 0, BUY, LIMIT),  # DUPLICATE_ORDER_ID
        (6, 0, 10, MID, 0, SELL, CANCEL),  # a cancel passes
    ]
    failed, names, _ = codes_of(s, legs)
    assert failed == 3
    assert names == [
        "LIST_REJECTED",
        "QTY_ABOVE_MAX",
        "LIST_REJECTED",
        "PRICE_OUTSIDE_COLLAR",
        "DUPLICATE_ORDER_ID",
        "LIST_REJECTED",
    ]
    assert s.snapshot() == before
    assert not any(s.engine.has_id(k) for k in (1, 3, 4, 6))


def test_accepted_list_commits_everything() -> None:
    s = make_setup(venue={"max_orders": 10, "max_open_orders": 10}, balances=(1000, 10**9))
    legs = [(1, MID, 10, MID, 0, BUY, LIMIT), (2, MID, 20, MID, 0, SELL, LIMIT)]
    failed, names, _ = codes_of(s, legs)
    assert (failed, names) == (0, ["PASS", "PASS"])
    e = s.engine
    assert e.balance(0, s.ix.asset("Q")) == 10**9 - 10 * MID
    assert e.balance(0, s.ix.asset("X")) == 1000 - 20
    assert (e.open_orders(0), e.n_open_ids, e.tokens(0, NOW)) == (2, 2, 8.0)
    assert e.position(0) == 0  # positions move on fills only


def test_fill_credits_proceeds_and_sets_the_mark() -> None:
    s = make_setup(balances=(0, 0))
    e = s.engine
    e.on_fill(0, BUY, 100, 10_000)
    assert (e.position(0), e.balance(0, s.ix.asset("X")), e.mark(0)) == (100, 100, 10_000)
    e.on_fill(0, SELL, 40, 10_100)
    assert e.balance(0, s.ix.asset("Q")) == 40 * 10_100
    assert e.avg_price(0) == 10_000.0 and e.position(0) == 60
    e.on_fill(0, SELL, 100, 9_900)  # 60 -> -40: flips, average becomes the fill price
    assert (e.position(0), e.avg_price(0)) == (-40, 9_900.0)
    with pytest.raises(RiskError):
        e.on_fill(0, 0, 1, 1)


def test_python_list_wrapper() -> None:
    s = make_setup()
    got = s.engine.check_orders([(0, BUY, 10, MID, MID, 1), (0, SELL, 10, MID, MID, 2, LIMIT)], NOW)
    assert got == [0, 0]
    with pytest.raises(RiskError):
        s.engine.check(s.engine.new_orders(2), np.zeros(1, dtype=np.int32), NOW)


def test_gross_exposure_of_a_list_values_earlier_legs_at_their_mids() -> None:
    """Leg 1 re-values its instrument at its own mid for the legs after it (docs: m*)."""
    spec = {
        "venue": "v",
        "base": "X",
        "quote": "Q",
        "tick_size": "0.5",
        "lot_size": "0.5",
        "max_book_age_ms": None,
    }
    limits = RiskLimits.model_validate(
        {
            "venues": [{"name": "v"}],
            "instruments": [{**spec, "symbol": "A"}, {**spec, "symbol": "B", "base": "Y"}],
            "max_gross_exposure": 300.0,
        }
    )
    e = build_engine(limits)
    for i in (0, 1):
        book = OrderBook(tick_size="0.5", lot_size="0.5")
        book.apply_snapshot([("49.5", "10")], [("50.5", "10")], recv_ts=T0)
        book.state = 1
        e.bind_book(i, book)
    for a in range(e.n_assets):
        e.set_balance(0, a, 10**12)
    e.on_fill(0, BUY, 4, 100)  # A: 4 lots marked at 100 ticks, weight 0.25 -> 100
    assert e.gross_exposure == 100.0

    def legs(q: int, cid: int) -> list:
        # A sells 1 at mid 200 (A is then 3 * 200 * 0.25 = 150), B buys q at mid 100 (25 q)
        return [(cid, 200, 1, 200, 0, SELL, LIMIT), (cid + 1, 100, q, 100, 1, BUY, LIMIT)]

    arr = e.new_orders(2)
    codes = np.zeros(2, dtype=np.int32)
    for k, o in enumerate(legs(7, 1)):
        arr[k] = o
    assert e.check(arr, codes, NOW) == 1  # 150 + 175 > 300 (at A's mark it would be 75 + 175)
    assert [reason_name(c) for c in codes] == ["LIST_REJECTED", "GROSS_EXPOSURE_LIMIT"]
    for k, o in enumerate(legs(6, 3)):
        arr[k] = o
    assert e.check(arr, codes, NOW) == 0  # 150 + 150 = 300: at the cap


def test_reason_codes_are_the_documented_ones() -> None:
    from refrisk import NAMES

    from openclaw.risk import REASON_NAMES

    assert list(REASON_NAMES) == NAMES  # the numbering of docs/risk-api.md
    assert [reason_name(c) for c in (0, 26, 999)] == ["PASS", "DUPLICATE_ORDER_ID", "UNKNOWN(999)"]
