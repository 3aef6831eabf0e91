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

from openclaw.sim.binance.server import BinanceSim
from openclaw.sim.bybit.server import BybitSim
from openclaw.sim.engine.base import COMMON_FAULTS, Fault, FaultError, VenueSim
from openclaw.sim.engine.clock import MarketClock
from openclaw.sim.engine.market import InstrumentSpec, SymbolParams, SyntheticMarket
from openclaw.sim.okx.server import OkxSim, okx_checksum

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
    "start_venues",
    "venue_urls",
    "CRYPTO_VENUES",
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


CRYPTO_VENUES = ("binance", "okx", "bybit")


def venue_urls(server: VenueSim) -> dict[str, str]:
    """The client-facing URLs of one running venue server (``control`` takes ``/_sim/...``);
    the trading WebSocket key (``ws_api``, ``ws_private``, ``ws_trade``) only where served."""
    if isinstance(server, BinanceSim):
        urls = {
            "ws": server.ws_base,
            "ws_raw": f"{server.ws_base}/ws",
            "ws_combined": f"{server.ws_base}/stream",
            "ws_api": f"{server.ws_base}/ws-api/v3",
        }
        trade_key = "ws_api"
    elif isinstance(server, OkxSim):
        urls = {"ws": server.ws_url, "ws_private": f"{server.ws_base}/ws/v5/private"}
        trade_key = "ws_private"
    elif isinstance(server, BybitSim):
        urls = {
            "ws_spot": server.ws_url("spot"),
            "ws_linear": server.ws_url("linear"),
            "ws_trade": f"{server.ws_base}/v5/trade",
            "ws_private": f"{server.ws_base}/v5/private",
        }
        trade_key = "ws_trade"
    else:
        raise TypeError(f"not a venue simulator: {type(server).__name__}")
    if server.wsapi is None:
        del urls[trade_key]
        urls.pop("ws_private", None)
    urls["rest"] = server.url
    urls["control"] = server.url
    return urls


def simulator_urls(binance: BinanceSim, okx: OkxSim, bybit: BybitSim) -> dict[str, dict[str, str]]:
    """The client-facing URLs of the three running servers, by venue."""
    return {"binance": venue_urls(binance), "okx": venue_urls(okx), "bybit": venue_urls(bybit)}


async def start_venues(
    venues: tuple[str, ...] | list[str] = CRYPTO_VENUES,
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
) -> tuple[SyntheticMarket, MarketClock, dict[str, VenueSim]]:
    """Start the named venue servers (a subset of binance/okx/bybit) on one market and clock.

    Returns the market, the running clock and the servers by name; the caller stops them
    (clock first). ``start_simulators`` is this with all three venues.
    """
    unknown = [v for v in venues if v not in CRYPTO_VENUES]
    if unknown or not venues:
        raise ValueError(f"venues must be a non-empty subset of {CRYPTO_VENUES}, got {venues!r}")
    ports = ports or {}
    if trading is not None:
        binance_options = {"trading": trading, **(binance_options or {})}
        okx_options = {"trading": trading, **(okx_options or {})}
        bybit_options = {"trading": trading, **(bybit_options or {})}
    market = market or SyntheticMarket(seed, depth=depth)
    clock = MarketClock(market, rate, paused=paused)
    servers: dict[str, VenueSim] = {}
    for venue in CRYPTO_VENUES:
        if venue not in venues:
            continue
        port = ports.get(venue, 0)
        if venue == "binance":
            servers[venue] = BinanceSim(market, clock, host=host, port=port,
                                        **(binance_options or {}))
        elif venue == "okx":
            servers[venue] = OkxSim(
                market, clock, host=host, port=port, checksum=okx_checksum,
                initial_snapshot=okx_initial_snapshot, **(okx_options or {}),
            )
        else:
            servers[venue] = BybitSim(market, clock, host=host, port=port,
                                      **(bybit_options or {}))
    started: list[VenueSim] = []
    try:
        for server in servers.values():
            await server.start()
            started.append(server)
        await clock.start()
    except BaseException:
        await clock.stop()
        for running in started:
            await running.stop()
        raise
    return market, clock, servers


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
    market, clock, servers = await start_venues(
        CRYPTO_VENUES, host=host, ports=ports, seed=seed, rate=rate, depth=depth, paused=paused,
        okx_checksum=okx_checksum, okx_initial_snapshot=okx_initial_snapshot, market=market,
        binance_options=binance_options, okx_options=okx_options, bybit_options=bybit_options,
        trading=trading,
    )
    binance, okx, bybit = servers["binance"], servers["okx"], servers["bybit"]
    assert isinstance(binance, BinanceSim) and isinstance(okx, OkxSim)
    assert isinstance(bybit, BybitSim)
    return Simulators(market, clock, binance, okx, bybit, simulator_urls(binance, okx, bybit))
