"""Local venue simulators speaking the real Binance, OKX and Bybit order-book protocols,
spot trading REST APIs (as ccxt's async clients use them) and trading WebSocket APIs
(Binance ``/ws-api/v3``, OKX ``/ws/v5/private``, Bybit ``/v5/trade``) on the same state.

They serve on 127.0.0.1 for tests and demos (no internet needed) and are an independent peer of
openclaw's client code: nothing here imports ``openclaw.feeds``, ``openclaw.execution`` or
``openclaw._core``.

    sims = await start_simulators(seed=7)
    sims.urls["binance"]["ws"]        # ws://127.0.0.1:PORT
    ...
    await sims.aclose()

or ``python -m openclaw.sim`` to run them standalone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openclaw.sim._base import COMMON_FAULTS, Fault, FaultError, VenueSim
from openclaw.sim.binance import BinanceSim
from openclaw.sim.bybit import BybitSim
from openclaw.sim.clock import MarketClock
from openclaw.sim.market import InstrumentSpec, SymbolParams, SyntheticMarket
from openclaw.sim.okx import OkxSim, okx_checksum

__all__ = [
    "COMMON_FAULTS",
    "BinanceSim",
    "BybitSim",
    "Fault",
    "FaultError",
    "InstrumentSpec",
    "MarketClock",
    "OkxSim",
    "Simulators",
    "SymbolParams",
    "SyntheticMarket",
    "VenueSim",
    "okx_checksum",
    "start_simulators",
]


@dataclass
class Simulators:
    """Three running venue servers sharing one market and one clock."""

    market: SyntheticMarket
    clock: MarketClock
    binance: BinanceSim
    okx: OkxSim
    bybit: BybitSim
    urls: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def servers(self) -> dict[str, VenueSim]:
        """The servers by venue name."""
        return {"binance": self.binance, "okx": self.okx, "bybit": self.bybit}

    async def aclose(self) -> None:
        """Stop the clock and every server."""
        await self.clock.stop()
        for server in (self.binance, self.okx, self.bybit):
            await server.stop()

    async def __aenter__(self) -> Simulators:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def simulator_urls(binance: BinanceSim, okx: OkxSim, bybit: BybitSim) -> dict[str, dict[str, str]]:
    """The client-facing URLs of running servers (``control`` takes ``/_sim/...``); the trading
    WebSocket keys (``ws_api``, ``ws_private``, ``ws_trade``) only where that API is served."""
    urls = {
        "binance": {
            "ws": binance.ws_base,
            "ws_raw": f"{binance.ws_base}/ws",
            "ws_combined": f"{binance.ws_base}/stream",
            "ws_api": f"{binance.ws_base}/ws-api/v3",
            "rest": binance.url,
            "control": binance.url,
        },
        "okx": {
            "ws": okx.ws_url,
            "ws_private": f"{okx.ws_base}/ws/v5/private",
            "rest": okx.url,
            "control": okx.url,
        },
        "bybit": {
            "ws_spot": bybit.ws_url("spot"),
            "ws_linear": bybit.ws_url("linear"),
            "ws_trade": f"{bybit.ws_base}/v5/trade",
            "rest": bybit.url,
            "control": bybit.url,
        },
    }
    for venue, server, key in (
        ("binance", binance, "ws_api"),
        ("okx", okx, "ws_private"),
        ("bybit", bybit, "ws_trade"),
    ):
        if server.wsapi is None:
            del urls[venue][key]
    return urls


async def start_simulators(
    *,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    seed: int = 1,
    rate: float = 10.0,
    depth: int = 250,
    paused: bool = False,
    okx_checksum: str = "zero",
    okx_initial_snapshot: bool = True,
    market: SyntheticMarket | None = None,
    binance_options: dict[str, Any] | None = None,
    okx_options: dict[str, Any] | None = None,
    bybit_options: dict[str, Any] | None = None,
    trading: dict[str, Any] | bool | None = None,
) -> Simulators:
    """Start Binance, OKX and Bybit simulators (ephemeral ports by default) on one market.

    ``rate`` is market steps per second (one depth message per subscribed symbol and step,
    default 10/s); ``paused=True`` starts with the clock stopped (drive it with ``clock.step``).
    The ``*_options`` dicts go to the server constructors (keepalive timings and the like).
    ``trading`` configures the spot trading REST API of every venue (``api_key``, ``secret``,
    ``passphrase``, ``balances``, ``taker_fee`` ...; see openclaw/sim/README.md); a venue's own
    ``*_options["trading"]`` wins; ``False`` turns the trading API off.
    """
    ports = ports or {}
    if trading is not None:
        binance_options = {"trading": trading, **(binance_options or {})}
        okx_options = {"trading": trading, **(okx_options or {})}
        bybit_options = {"trading": trading, **(bybit_options or {})}
    market = market or SyntheticMarket(seed, depth=depth)
    clock = MarketClock(market, rate, paused=paused)
    binance = BinanceSim(
        market, clock, host=host, port=ports.get("binance", 0), **(binance_options or {})
    )
    okx = OkxSim(
        market,
        clock,
        host=host,
        port=ports.get("okx", 0),
        checksum=okx_checksum,
        initial_snapshot=okx_initial_snapshot,
        **(okx_options or {}),
    )
    bybit = BybitSim(market, clock, host=host, port=ports.get("bybit", 0), **(bybit_options or {}))
    started: list[VenueSim] = []
    try:
        servers: tuple[VenueSim, ...] = (binance, okx, bybit)
        for server in servers:
            await server.start()
            started.append(server)
        await clock.start()
    except BaseException:
        await clock.stop()
        for running in started:
            await running.stop()
        raise
    return Simulators(market, clock, binance, okx, bybit, simulator_urls(binance, okx, bybit))
