"""The preflight against the simulators in ``mode = "live"`` (``ws``/``rest`` pointed at them):
a clean report, then each refusal the simulators can be told to provoke, with its message;
the run refuses the same venue before sending anything; the built-in endpoints per mode."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.aio import deadline

from openclaw.app.config import ConfigError, parse_config, venue_urls
from openclaw.app.doctor import doctor_config
from openclaw.app.runner import PreflightError, run_config
from openclaw.sim import start_simulators

run = deadline(60.0)
KEYS = {"OC_T_KEY": "openclaw-test-key", "OC_T_SECRET": "openclaw-test-secret",
        "OC_T_PASS": "openclaw-test-pass"}


def live_config(sims: Any, tmp: Path, extra: str = "") -> Any:
    """Only venues (mode, key variable names) and unified symbols; URLs are the simulators'."""
    text = ""
    for name, ws in (("binance", sims.binance.ws_base), ("okx", sims.okx.ws_url),
                     ("bybit", sims.bybit.ws_base)):
        text += (f'[venues.{name}]\nmode = "live"\nrest = "{sims.servers[name].url}"\n'
                 f'ws = "{ws}"\napi_key_env = "OC_T_KEY"\nsecret_env = "OC_T_SECRET"\n')
        if name == "okx":
            text += 'passphrase_env = "OC_T_PASS"\n'
        for sym in ("BTC/USDT", "ETH/USDT", "ETH/BTC"):
            text += f'[[instruments]]\nvenue = "{name}"\nsymbol = "{sym}"\n'
    text += (f'[journal]\npath = "{tmp / "j.sqlite"}"\n[metadata]\n'
             f'cache_dir = "{tmp / "meta"}"\nmax_age_s = 0\n' + extra)
    return parse_config(tomllib.loads(text), "<live-on-sims>")


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)


def test_doctor_report_and_every_refusal(keys: None, tmp_path: Path) -> None:
    async def body() -> None:
        sims = await start_simulators(seed=7, rate=20)
        try:
            cfg = live_config(sims, tmp_path, extra='')
            # a hand-written tick on one market: checked against the venue's
            cfg = cfg.model_copy(update={"instruments": [
                i.model_copy(update={"tick_size": "0.01"}) if (i.venue, i.symbol) == (
                    "binance", "ETH/USDT") else i for i in cfg.instruments]})
            rep = await doctor_config(cfg, samples=3, ws_samples=2)
            assert rep["ok"], rep
            for name, v in rep["venues"].items():
                assert set(v) >= {"reachable", "clock_offset_ms", "rtt_ms", "ws_rtt_ms",
                                  "permissions", "instruments_ok", "problems"}, name
                assert v["reachable"] and v["instruments_ok"] and v["problems"] == []
                assert set(v["rtt_ms"]) == {"p50", "p99"} and v["ws_rtt_ms"]["p50"] > 0
                assert v["permissions"]["trade"] is True
                assert v["permissions"]["withdraw"] is False
                assert abs(v["clock_offset_ms"]) < 200
                assert {"USDT", "BTC", "ETH"} <= set(v["balances"])

            # the simulators are told: skewed clock, a key that can withdraw, a halted
            # market, a changed tick size
            sims.binance.trading.set_config("time_offset_ms", 4000)
            sims.okx.trading.set_config("withdraw_enabled", True)
            sims.bybit.trading.set_instrument("BTCUSDT", status="halted")
            sims.binance.trading.set_instrument("ETHUSDT", tick_size="0.1")
            rep = await doctor_config(cfg, samples=3, ws_samples=1)
            assert rep["ok"] is False
            b, o, y = (rep["venues"][n] for n in ("binance", "okx", "bybit"))
            offsets = [int(m.group(1)) for p in b["problems"] if "beyond 1000 ms" in p
                       for m in [re.search(r"clock offset \+(\d+) ms", p)] if m]
            assert offsets and 3900 <= offsets[0] <= 4100, b["problems"]   # 4000 +- the RTT
            assert any("instruments[1].tick_size: binance ETH/USDT: config 0.01 but the "
                       "venue publishes 0.1" in p for p in b["problems"]), b["problems"]
            assert b["instruments_ok"] is False
            assert o["permissions"]["withdraw"] is True
            assert any("can withdraw funds: refused" in p for p in o["problems"])
            assert o["instruments_ok"] is True
            assert any("bybit BTC/USDT is not trading (venue status Closed)" in p
                       for p in y["problems"]), y["problems"]
        finally:
            await sims.aclose()

    run(body)


def test_run_refuses_a_withdrawal_key_before_any_order(keys: None, tmp_path: Path) -> None:
    async def body() -> None:
        sims = await start_simulators(seed=7, rate=20)
        try:
            sims.bybit.trading.set_config("withdraw_enabled", True)
            cfg = live_config(sims, tmp_path)
            with pytest.raises(PreflightError) as err:
                await run_config(cfg, seconds=1, install_signals=False)
            assert ("venues.bybit", "the API key can withdraw funds: refused (make a key "
                    "without withdrawal permission)") in err.value.errors
            for name in ("binance", "okx", "bybit"):
                assert not sims.servers[name].trading.engine.orders, name
        finally:
            await sims.aclose()

    run(body)


def test_built_in_endpoints_per_mode() -> None:
    def cfg(**venues: dict[str, Any]) -> Any:
        data = {"venues": venues, "instruments": [
            {"venue": n, "symbol": "BTC/USDT"} for n in venues]}
        return parse_config(data, "<t>")

    keys = {"api_key_env": "K", "secret_env": "S"}
    c = cfg(binance={"mode": "testnet", **keys}, okx={"mode": "demo", **keys},
            bybit={"mode": "demo", **keys})
    b = venue_urls("binance", c.venues["binance"])
    assert (b.rest, b.ws) == ("https://testnet.binance.vision",
                              "wss://stream.testnet.binance.vision")
    assert b.source["rest"] == "built-in testnet"
    o = venue_urls("okx", c.venues["okx"])
    assert o.headers == {"x-simulated-trading": "1"} and "wspap.okx.com" in o.ws
    assert venue_urls("bybit", c.venues["bybit"]).rest == "https://api-demo.bybit.com"
    live = cfg(bybit={"mode": "live", "ws": "ws://127.0.0.1:1", **keys})
    u = venue_urls("bybit", live.venues["bybit"])
    assert (u.rest, u.ws, u.source["ws"]) == ("https://api.bybit.com", "ws://127.0.0.1:1",
                                              "config")
    with pytest.raises(ConfigError, match="binance has no 'demo' environment"):
        cfg(binance={"mode": "demo", **keys})
    with pytest.raises(ConfigError, match="bybit demo has no trading WebSocket"):
        cfg(bybit={"mode": "demo", "route": "ws", **keys})
    with pytest.raises(ConfigError, match="testnet mode needs api_key_env"):
        cfg(okx={"mode": "testnet"})
