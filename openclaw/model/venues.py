"""The one list of venues (the registry): what every part needs to know of a venue, as data.

Why one list: a venue named anywhere (a config file, an instrument, an order, a route) is
checked against this table, and every per-venue choice is a field here or a lookup keyed by
it; an unknown venue is ``UnknownVenueError``, never a fallthrough to another venue's code.

It is plain data, so it lives in the domain model where every layer may read it (the services
below the venue packages too); ``openclaw.venues.registry`` is its public name for the upper
layers. The venues' implementations (depth sync, trading WebSocket, ccxt options, order history)
are looked up by these names in the services' own tables, which tests/architecture/
test_venues.py keeps equal to this list. Facts and sources per venue: docs/venues/<venue>.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from openclaw.model.errors import OpenclawError

__all__ = ["CRYPTO_VENUES", "MODES", "VENUES", "Endpoints", "UnknownModeError",
           "UnknownVenueError", "VenueSpec", "crypto_venue", "endpoints", "venue"]

#: where a crypto venue's orders go: the real venue, its test or demo environment, or the
#: local simulators (docs/venues/<venue>.md lists each venue's URLs and sources)
MODES: tuple[str, ...] = ("live", "testnet", "demo", "sim")


class UnknownVenueError(OpenclawError, KeyError, ValueError):
    """A venue name that is not in the registry: names it and the known ones."""

    def __init__(self, name: object, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown venue {name!r}; known venues: {', '.join(known)}")

    def __str__(self) -> str:           # KeyError would quote the whole message
        return self.args[0]


class UnknownModeError(OpenclawError, ValueError):
    """A mode a venue does not offer (Binance has no demo here): names venue, mode, offered."""

    def __init__(self, venue: str, mode: str, offered: tuple[str, ...]) -> None:
        self.venue, self.mode, self.offered = venue, mode, offered
        super().__init__(f"{venue} has no {mode!r} environment; offered: "
                         f"{', '.join(offered) or 'none'} (or sim)")


@dataclass(frozen=True)
class Endpoints:
    """A venue's public URLs in one mode (as published by the venue, docs/venues/<v>.md).

    ``ws`` is what the venue's depth feed takes (Binance and Bybit: the host, the feed adds the
    path; OKX: the full public URL); ``ws_trade`` the trading WebSocket ("" where the
    environment has none: the route falls back to ccxt only if ``ws_trade`` is configured);
    ``headers`` go on every REST request (OKX demo trading: ``x-simulated-trading: 1``).
    """

    rest: str
    ws: str
    ws_trade: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VenueSpec:
    """One venue's facts (see docs/venues/<name>.md for each and its source)."""

    name: str
    kind: Literal["crypto", "broker"]
    ccxt_id: str | None              # the ccxt exchange class
    order_query_param: str | None    # the client-id parameter of the order query
    needs_passphrase: bool           # API keys carry a passphrase (OKX)
    categories: tuple[str, ...]      # market categories the feeds know
    category_in_book_key: bool       # book keys read "category:SYMBOL" (Bybit's topics differ)
    sim_trade_ws_key: str | None     # where the simulators publish the trading WebSocket
    ed25519_logon: bool = False      # trading WebSocket session.logon with an Ed25519 key
    # the simulator server's attribute that is this venue's ``ws`` endpoint (the feed's base)
    sim_ws_attr: str = "ws_base"
    # ccxt: options merged into the client's, capability overrides, and the sections of ccxt's
    # error maps consulted before the general ones (docs/venues/ccxt.md)
    ccxt_options: Mapping[str, Any] = field(default_factory=dict)
    ccxt_has: Mapping[str, bool] = field(default_factory=dict)
    ccxt_error_sections: tuple[str, ...] = ()
    # the account's spot taker fee through ccxt: "fetch_trading_fees" (every market at once)
    # or "fetch_trading_fee" (one market's rate stands for all spot markets); "" none
    ccxt_fee_call: str = ""
    # the venue's environments: mode ("live", "testnet", "demo") -> its public URLs
    endpoints: Mapping[str, Endpoints] = field(default_factory=dict)


VENUES: dict[str, VenueSpec] = {v.name: v for v in (
    VenueSpec("binance", "crypto", "binance", "origClientOrderId", False, ("spot",), False,
              "ws_api", ed25519_logon=True,
              ccxt_options={"fetchCurrencies": False, "fetchMargins": False},
              ccxt_error_sections=("spot",), ccxt_fee_call="fetch_trading_fees",
              endpoints={
                  "live": Endpoints("https://api.binance.com", "wss://stream.binance.com:9443",
                                    "wss://ws-api.binance.com:443/ws-api/v3"),
                  "testnet": Endpoints("https://testnet.binance.vision",
                                       "wss://stream.testnet.binance.vision",
                                       "wss://ws-api.testnet.binance.vision/ws-api/v3"),
              }),
    VenueSpec("okx", "crypto", "okx", "clOrdId", True, ("spot",), False, "ws_private",
              ccxt_has={"fetchCurrencies": False}, sim_ws_attr="ws_url",
              ccxt_fee_call="fetch_trading_fee",
              endpoints={
                  "live": Endpoints("https://www.okx.com", "wss://ws.okx.com:8443/ws/v5/public",
                                    "wss://ws.okx.com:8443/ws/v5/private"),
                  # demo trading: the same REST host with the header, the "pap" WebSocket hosts
                  "demo": Endpoints("https://www.okx.com",
                                    "wss://wspap.okx.com:8443/ws/v5/public",
                                    "wss://wspap.okx.com:8443/ws/v5/private",
                                    headers={"x-simulated-trading": "1"}),
              }),
    VenueSpec("bybit", "crypto", "bybit", "orderLinkId", False, ("spot", "linear", "inverse"),
              True, "ws_trade", ccxt_has={"fetchCurrencies": False},
              ccxt_options={"defaultType": "spot", "enableUnifiedAccount": True,
                            "enableUnifiedMargin": False,
                            "fetchOrder": {"acknowledged": True}},
              ccxt_fee_call="fetch_trading_fee",   # fetchTradingFees: not for spot in ccxt
              endpoints={
                  "live": Endpoints("https://api.bybit.com", "wss://stream.bybit.com",
                                    "wss://stream.bybit.com/v5/trade"),
                  "testnet": Endpoints("https://api-testnet.bybit.com",
                                       "wss://stream-testnet.bybit.com",
                                       "wss://stream-testnet.bybit.com/v5/trade"),
                  # demo trading: its own REST host; market data is production's; no trade WS
                  "demo": Endpoints("https://api-demo.bybit.com", "wss://stream.bybit.com"),
              }),
    VenueSpec("ibkr", "broker", None, None, False, ("stock", "fx"), False, None),
)}

#: the crypto venues, in registry order (what a crypto run file may name under [venues])
CRYPTO_VENUES: tuple[str, ...] = tuple(n for n, v in VENUES.items() if v.kind == "crypto")


def venue(name: str) -> VenueSpec:
    """The spec of ``name``; ``UnknownVenueError`` if the registry does not list it."""
    try:
        return VENUES[name]
    except (KeyError, TypeError):
        raise UnknownVenueError(name, tuple(VENUES)) from None


def crypto_venue(name: str) -> VenueSpec:
    """``venue(name)``, which must be a crypto venue (feeds, ccxt routes)."""
    spec = VENUES.get(name) if isinstance(name, str) else None
    if spec is None or spec.kind != "crypto":
        raise UnknownVenueError(name, CRYPTO_VENUES)
    return spec


def endpoints(name: str, mode: str) -> Endpoints:
    """The built-in URLs of crypto venue ``name`` in ``mode`` (``live``, ``testnet``,
    ``demo``); ``UnknownVenueError`` / ``UnknownModeError`` when there are none."""
    spec = crypto_venue(name)
    try:
        return spec.endpoints[mode]
    except KeyError:
        raise UnknownModeError(name, mode, tuple(spec.endpoints)) from None
