"""Config -> engine: exact conversion of decimal limits, derived asset units, config errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from openclaw import OrderBook
from openclaw.model.errors import OpenclawError, RiskConfigError
from openclaw.risk import BUY, RiskEngine, RiskLimits, build_engine, load_limits

INT64_MAX = 2**63 - 1


def triangle(**over) -> dict:
    """BTC/USDT, ETH/BTC and ETH/USDT on one venue (Binance-like ticks and lots)."""
    cfg = {
        "venues": [{"name": "binance", "max_orders": 50, "interval_ms": 10_000}],
        "instruments": [
            {
                "venue": "binance",
                "symbol": "BTCUSDT",
                "base": "BTC",
                "quote": "USDT",
                "tick_size": "0.01",
                "lot_size": "0.00001",
                "min_notional": "5",
                "max_qty": "9000",
                "collar_bps": "25",
            },
            {
                "venue": "binance",
                "symbol": "ETHBTC",
                "base": "ETH",
                "quote": "BTC",
                "tick_size": "0.00001",
                "lot_size": "0.0001",
                "min_notional": "0.0001",
            },
            {
                "venue": "binance",
                "symbol": "ETHUSDT",
                "base": "ETH",
                "quote": "USDT",
                "tick_size": "0.01",
                "lot_size": "0.0001",
                "max_position": "12.34567",
            },
        ],
    }
    cfg.update(over)
    return cfg


def test_asset_units_are_the_finest_each_asset_needs() -> None:
    e = build_engine(RiskLimits.model_validate(triangle()))
    ix = e.index
    assert ix.asset_units == {
        "BTC": Decimal("1e-9"),  # ETHBTC's tick*lot, finer than BTCUSDT's lot
        "USDT": Decimal("1e-7"),  # BTCUSDT's tick*lot, finer than ETHUSDT's 1e-6
        "ETH": Decimal("1e-4"),
    }
    btc, ethbtc, eth = (ix.instrument("binance", s) for s in ("BTCUSDT", "ETHBTC", "ETHUSDT"))
    lb, le, lu = (e.instrument_limits(i) for i in (btc, ethbtc, eth))
    assert (lb["quote_factor"], lb["base_factor"]) == (1, 10_000)  # 1e-7 USDT; 1e-5 / 1e-9 BTC
    assert (le["quote_factor"], le["base_factor"]) == (1, 1)
    assert (lu["quote_factor"], lu["base_factor"]) == (10, 1)
    assert lb["min_notional"] == 5 * 10**7 and lb["max_qty"] == 9000 * 10**5
    assert lb["collar_e8"] == 250_000 and lb["max_notional"] == INT64_MAX
    assert lu["max_position"] == 123_456  # floor(12.34567 / 0.0001)
    assert le["min_notional"] == 100_000  # 0.0001 / 1e-9
    assert ix.to_asset_units("USDT", "1.23456789") == 12_345_678  # rounds down


def test_explicit_units_must_divide() -> None:
    cfg = triangle(assets=[{"name": "USDT", "unit": "0.000001"}])  # coarser than 1e-7
    with pytest.raises(RiskConfigError, match="quote asset's unit"):
        build_engine(RiskLimits.model_validate(cfg))
    cfg = triangle(assets=[{"name": "USDT", "unit": "1e-8", "value": 1.0}])
    e = build_engine(RiskLimits.model_validate(cfg))
    assert e.instrument_limits(0)["quote_factor"] == 10


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"collar_bps": "0.00001"}, "4 decimal places"),
        ({"max_notional": "1e30"}, "2\\*\\*62"),
        ({"price_increment": "0.015"}, "multiple of 0.01"),
        ({"size_increment": "0.000001"}, "multiple"),
        ({"venue": "okx"}, "unknown venue"),
        ({"quote": "BTC"}, "same"),
    ],
)
def test_config_errors_name_the_field(change: dict, match: str) -> None:
    cfg = triangle()
    cfg["instruments"][0] = {**cfg["instruments"][0], **change}
    with pytest.raises(RiskConfigError, match=match) as info:
        build_engine(RiskLimits.model_validate(cfg))
    assert isinstance(info.value, OpenclawError) and isinstance(info.value, ValueError)


def test_duplicates_are_errors() -> None:
    cfg = triangle()
    cfg["instruments"].append(cfg["instruments"][0])
    with pytest.raises(RiskConfigError, match="duplicate instrument"):
        build_engine(RiskLimits.model_validate(cfg))
    with pytest.raises(RiskConfigError, match="duplicate venue"):
        build_engine(RiskLimits.model_validate(triangle(venues=[{"name": "binance"}] * 2)))


@pytest.mark.parametrize(
    "bad",
    [
        {"tick_size": "-0.01"},
        {"tick_size": "nan"},
        {"min_qty": "-1"},
        {"max_book_age_ms": -1},
        {"surprise": 1},
    ],
)
def test_pydantic_rejects_bad_fields(bad: dict) -> None:
    cfg = triangle()
    cfg["instruments"][0] = {**cfg["instruments"][0], **bad}
    with pytest.raises(ValidationError):
        RiskLimits.model_validate(cfg)


def test_reload_keeps_state_and_changes_limits() -> None:
    e = build_engine(RiskLimits.model_validate(triangle()))
    e.set_balance(0, e.index.asset("USDT"), 123)
    e.on_fill(0, BUY, 5, 6_500_000)
    cfg = triangle()
    cfg["instruments"][0] = {**cfg["instruments"][0], "max_qty": "1"}
    load_limits(e, RiskLimits.model_validate(cfg))
    assert e.instrument_limits(0)["max_qty"] == 10**5
    assert e.balance(0, e.index.asset("USDT")) == 123 and e.position(0) == 5
    other = RiskEngine(2, 1, 3)
    with pytest.raises(RiskConfigError, match="shape"):
        load_limits(other, RiskLimits.model_validate(triangle()))


def test_bound_book_must_have_the_instrument_units() -> None:
    e = build_engine(RiskLimits.model_validate(triangle()))
    with pytest.raises(RiskConfigError, match="tick/lot"):
        e.bind_book(0, OrderBook(tick_size="0.1", lot_size="0.00001"))
    e.bind_book(0, OrderBook(tick_size="0.010", lot_size="1e-5"))  # same units, other spelling


def test_index_conversions_are_exact() -> None:
    ix = build_engine(RiskLimits.model_validate(triangle())).index
    assert ix.to_ticks(0, "65000.01") == 6_500_001
    assert ix.to_lots(0, Decimal("0.00123")) == 123
    with pytest.raises(RiskConfigError, match="not a multiple"):
        ix.to_ticks(0, "65000.001")
    with pytest.raises(RiskConfigError, match="unknown"):
        ix.instrument("binance", "DOGEUSDT")
