"""Fast order entry: the venues' own trading WebSocket APIs beside ccxt (docs/fast-routes.md).

One persistent, logged-in socket per venue; the Router sends an order this way when the venue's
``route`` is ``"ws"`` and the socket is up, else through ccxt (counted and alerted), never both.
The venue-independent machinery is ``base``; each venue's route is ``venues/<venue>/trade_ws.py``
and ``openclaw.venues.registry`` picks one by venue (``fast_route_for``, ``make_fast_route``).
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

__all__ = [
    "FastConfig",
    "FastRoute",
    "FastRouteError",
    "FastStats",
    "LoginError",
    "ReplyLost",
    "RouteDown",
    "VenueRejected",
    "route_report",
]


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
