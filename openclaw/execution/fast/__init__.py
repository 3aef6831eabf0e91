"""Fast order entry: the venues' own trading WebSocket APIs beside ccxt (docs/fast-routes.md).

One persistent, logged-in socket per venue; the Router sends an order this way when the venue's
``route`` is ``"ws"`` and the socket is up, else through ccxt (counted and alerted), never both.
"""

from __future__ import annotations

from typing import Any

from openclaw.execution.fast.base import (
    FastConfig,
    FastRoute,
    FastRouteError,
    FastStats,
    LoginError,
    ReplyLost,
    RouteDown,
    VenueRejected,
)
from openclaw.execution.fast.binance import BinanceFastRoute, Ed25519Key
from openclaw.execution.fast.bybit import BybitFastRoute
from openclaw.execution.fast.okx import OkxFastRoute
from openclaw.execution.venues import Credentials
from openclaw.model.venues import VENUES

__all__ = [
    "FAST_ROUTES",
    "BinanceFastRoute",
    "BybitFastRoute",
    "Ed25519Key",
    "FastConfig",
    "FastRoute",
    "FastRouteError",
    "FastStats",
    "LoginError",
    "OkxFastRoute",
    "ReplyLost",
    "RouteDown",
    "VenueRejected",
    "SIM_URL_KEYS",
    "fast_route_for",
    "make_fast_route",
    "route_report",
]

FAST_ROUTES: dict[str, type[FastRoute]] = {
    "binance": BinanceFastRoute,
    "okx": OkxFastRoute,
    "bybit": BybitFastRoute,
}


#: where the simulators publish each venue's trading WebSocket (``Simulators.urls[venue][key]``)
SIM_URL_KEYS = {n: v.sim_trade_ws_key for n, v in VENUES.items() if v.sim_trade_ws_key}


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
    cls = FAST_ROUTES.get(venue)
    if cls is None:
        raise ValueError(f"no fast route for venue {venue!r}: expected one of "
                         f"{sorted(FAST_ROUTES)}")
    if ed25519 is not None:
        if cls is not BinanceFastRoute:
            raise ValueError(f"{venue}: Ed25519 session logon is Binance's only")
        return BinanceFastRoute(url, credentials, config, alerter, ed25519=ed25519)
    return cls(url, credentials, config, alerter)


def route_report(route: Any) -> dict[str, Any]:
    """One venue route's order entry and counters (for run summaries): ``route`` ("ws" or
    "ccxt"), the Router's counts, and the fast route's own under ``ws_*`` (``ws_fallbacks``:
    orders sent through ccxt because the socket was down)."""
    out: dict[str, Any] = {"route": "ws" if route.fast is not None else "ccxt",
                           "sent": route.stats.sent, "acked": route.stats.acked,
                           "rejected": route.stats.rejected, "unknown": route.stats.unknown,
                           "refused_locally": route.stats.refused_locally,
                           "queries": route.stats.queries}
    fast = route.fast
    if fast is not None:
        f = fast.stats
        out.update(ws_up=fast.up, ws_sent=f.sent, ws_acked=f.acked, ws_rejected=f.rejected,
                   ws_lost=f.lost, ws_timeouts=f.timeouts, ws_fallbacks=f.fallbacks,
                   ws_reconnects=f.reconnects, ws_logins=f.logins, ws_relogins=f.relogins)
    return out
