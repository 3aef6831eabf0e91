"""Configuration: the example validates; bad files list every error with its path."""

from pathlib import Path

import pytest
from support.paths import EXAMPLES

from openclaw.app.config import ConfigError, load_config, parse_config


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLES / "triarb.toml")
    assert set(cfg.venues) == {"binance", "okx", "bybit"}
    assert cfg.strategy.triarb.min_profit_bps == 5
    assert str(cfg.instruments[0].tick_size) == "0.01"


def test_every_error_is_listed_with_its_path() -> None:
    data = {
        "venues": {"okx": {"taker_fee_bps": -1, "mode": "paper"}},
        "instruments": [
            {"venue": "okx", "symbol": "BTC-USDT", "base": "BTC", "quote": "USDT",
             "tick_size": "0", "lot_size": "0.001"},
            {"venue": "kraken", "symbol": "X", "base": "X", "quote": "Y",
             "tick_size": "1", "lot_size": "1"},
        ],
        "strategy": {"triarb": {"min_profit_bps": "lots"}},
        "surprise": 1,
    }
    with pytest.raises(ConfigError) as err:
        parse_config(data, "bad.toml")
    paths = {p for p, _ in err.value.errors}
    assert {"venues.okx.taker_fee_bps", "venues.okx.mode", "instruments[0].tick_size",
            "instruments[1].venue", "strategy.triarb.min_profit_bps", "surprise"} <= paths
    assert "bad.toml" in str(err.value)


def test_instrument_on_unconfigured_venue() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"venues": {"okx": {}}, "instruments": [
            {"venue": "binance", "symbol": "BTCUSDT", "base": "BTC", "quote": "USDT",
             "tick_size": "0.01", "lot_size": "0.001"}]})
    assert "not configured" in str(err.value)


def test_live_venue_needs_endpoints_and_key_names(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[venues.binance]\nmode = "live"\n[[instruments]]\nvenue = "binance"\n'
                 'symbol = "BTCUSDT"\nbase = "BTC"\nquote = "USDT"\ntick_size = "0.01"\n'
                 'lot_size = "0.00001"\n')
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "api_key_env" in str(err.value)


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[venues\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.errors[0][0] == "(syntax)"
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.toml")
