"""The venue registry: the one list of venues and, for each, its implementations.

The facts of every venue (names, ccxt class and options, the order query's client-id parameter,
categories...) are plain data in ``openclaw.model.venues`` (every layer reads them); this module
binds each crypto venue to the code in its folder ``venues/<venue>/``: its depth decoder in C
(``depth.pyx``), its depth feed (``feed.py``: ``connection`` and ``replay_sync``), its trading
WebSocket route (``trade_ws.py``) and its order-history lister (``history.py``). The services
take these tables from the app layer (``Aggregator(feeds=FEEDS)``, ``replay``,
``fast_route_for``, ``VENUE_HISTORY``), so that no service imports a venue. A new crypto venue:
a folder ``venues/<new>/`` (see ``venues/_template/README.md``), its simulator ``sim/<new>/``,
one ``VenueSpec`` line in ``model/venues.py`` and one ``VenueKit`` line here;
tests/architecture/test_venues.py and the conformance suite then cover it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openclaw.execution.fast.base import FastConfig, FastRoute
from openclaw.execution.stream import PrivateStream
from openclaw.execution.venues import Credentials
from openclaw.feeds.replay import ReplayResult
from openclaw.feeds.replay import replay as replay_with
from openclaw.model.venues import (
    CRYPTO_VENUES,
    VENUES,
    UnknownVenueError,
    VenueSpec,
    crypto_venue,
    venue,
)
from openclaw.venues import binance, bybit, okx
from openclaw.venues.binance.trade_ws import Ed25519Key
from openclaw.venues.kit import KeyPermissions, VenueKit

__all__ = [
    "CRYPTO_VENUES", "FEEDS", "KITS", "PRIVATE", "PROBES", "SIM_PRIVATE_URL_KEYS",
    "SIM_URL_KEYS", "TRADE_WS", "VENUES",
    "VENUE_HISTORY",
    "Ed25519Key", "KeyPermissions", "UnknownVenueError", "VenueKit", "VenueSpec", "crypto_venue",
    "fast_route_for", "make_fast_route", "make_private_stream", "private_stream_for", "replay",
    "venue",
]


#: one line per crypto venue (the same names as model/venues.py's crypto venues)
KITS: dict[str, VenueKit] = {
    "binance": binance.KIT,
    "okx": okx.KIT,
    "bybit": bybit.KIT,
}

FEEDS = {name: kit.feed for name, kit in KITS.items()}
TRADE_WS: dict[str, type[FastRoute]] = {name: kit.trade_ws for name, kit in KITS.items()}
VENUE_HISTORY = {name: kit.history for name, kit in KITS.items()}
#: each venue's preflight probes (probe.py: key permissions, the public WebSocket to ping)
PROBES = {name: kit.probe for name, kit in KITS.items()}
#: each venue's private order stream (private.py)
PRIVATE: dict[str, type[PrivateStream]] = {name: kit.private for name, kit in KITS.items()}
#: where the simulators serve each venue's private stream (``Simulators.urls[venue][key]``)
SIM_PRIVATE_URL_KEYS = {"binance": "ws_api", "okx": "ws_private", "bybit": "ws_private"}
#: where the simulators publish each venue's trading WebSocket (``Simulators.urls[venue][key]``)
SIM_URL_KEYS = {n: v.sim_trade_ws_key for n, v in VENUES.items() if v.sim_trade_ws_key}


def replay(venue_name: str, paths: list[Path], category: str = "linear") -> ReplayResult:
    """``feeds.replay.replay`` with the venue's own depth sync."""
    from openclaw.feeds.replay import ReplayError

    if venue_name not in FEEDS:
        raise ReplayError(str(UnknownVenueError(venue_name, tuple(FEEDS))))
    return replay_with(venue_name, paths, FEEDS[venue_name], category)


def fast_route_for(venue: str, venue_config: Any, credentials: Credentials, *,
                   sim_urls: dict[str, dict[str, str]] | None = None,
                   config: FastConfig | None = None, alerter: Any = None,
                   ed25519: Ed25519Key | None = None) -> FastRoute | None:
    """The fast route a venue's config asks for (``route = "ws"``), else None (ccxt only).

    ``sim_urls`` (the simulators' URL table) when the venue runs against the simulators;
    otherwise the config's ``ws_trade`` URL. ``ed25519`` (Binance only): log on with that key
    (``session.logon``) instead of signing every request. Pass the result to
    ``VenueRoute(..., fast=)``.
    """
    if getattr(venue_config, "route", "ccxt") != "ws":
        return None
    if sim_urls is not None:
        url = sim_urls[venue][SIM_URL_KEYS[venue]]
    else:
        url = getattr(venue_config, "ws_trade", "")
        if not url:
            raise ValueError(f"{venue}: route = \"ws\" needs ws_trade (the trading WebSocket)")
    return make_fast_route(venue, url, credentials, config, alerter, ed25519=ed25519)


def make_fast_route(venue: str, url: str, credentials: Credentials,
                    config: FastConfig | None = None, alerter: Any = None, *,
                    ed25519: Ed25519Key | None = None) -> FastRoute:
    """The fast route of ``venue`` at ``url`` (``ws://127.0.0.1:PORT/ws-api/v3`` for the
    simulator's Binance, ``.../ws/v5/private`` for OKX, ``.../v5/trade`` for Bybit)."""
    cls = TRADE_WS.get(venue)
    if cls is None:
        raise UnknownVenueError(venue, tuple(TRADE_WS))
    if ed25519 is not None:
        if not crypto_venue(venue).ed25519_logon:
            offered = [n for n in CRYPTO_VENUES if crypto_venue(n).ed25519_logon]
            raise ValueError(f"{venue}: Ed25519 session logon is offered by {', '.join(offered)}"
                             " only")
        return cls(url, credentials, config, alerter, ed25519=ed25519)  # type: ignore[call-arg]
    return cls(url, credentials, config, alerter)


def make_private_stream(venue: str, url: str, credentials: Credentials) -> PrivateStream:
    """The private order stream of ``venue`` at ``url`` (Binance: the WS-API, OKX:
    ``/ws/v5/private``, Bybit: ``/v5/private``). Give it to ``VenueRoute(..., private=)``."""
    cls = PRIVATE.get(venue)
    if cls is None:
        raise UnknownVenueError(venue, tuple(PRIVATE))
    return cls(url, credentials)


def private_stream_for(venue: str, venue_config: Any, credentials: Credentials, *,
                       sim_urls: dict[str, dict[str, str]] | None = None
                       ) -> PrivateStream | None:
    """The private stream a venue's config asks for, else None (``private_stream = false``).

    ``private_stream`` unset: on against the simulators (``sim_urls``), off for a remote venue;
    ``true`` for a remote venue takes its URL from ``ws_trade`` (Binance WS-API, OKX private;
    Bybit's ``/v5/trade`` becomes ``/v5/private``)."""
    wanted = getattr(venue_config, "private_stream", None)
    if wanted is False or (wanted is None and sim_urls is None):
        return None
    if sim_urls is not None:
        return make_private_stream(venue, sim_urls[venue][SIM_PRIVATE_URL_KEYS[venue]],
                                   credentials)
    url = getattr(venue_config, "ws_trade", "")
    if venue == "bybit":
        url = url.replace("/v5/trade", "/v5/private")
    if not url:
        raise ValueError(f"{venue}: private_stream = true needs ws_trade (its WebSocket)")
    return make_private_stream(venue, url, credentials)
