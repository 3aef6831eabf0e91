"""What a crypto venue's folder provides to the registry (one ``KIT`` per venue)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from openclaw._core.wire import DepthDecoder
from openclaw.execution.fast.base import FastRoute
from openclaw.execution.stream import PrivateStream

#: async list_orders(ccxt client, symbol, since_ms) -> the venue's orders (ccxt dicts)
HistoryLister = Callable[[Any, str, int], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class KeyPermissions:
    """What an API key may do, as the venue's key endpoint says (preflight: a key that can
    withdraw is refused)."""

    trade: bool
    withdraw: bool
    ip_restricted: bool = False


@dataclass(frozen=True)
class VenueKit:
    """A crypto venue's implementations (the modules of ``venues/<venue>/``)."""

    feed: ModuleType                 # connection, replay_sync (feeds.aggregator.VenueFeed)
    depth: type[DepthDecoder]        # the depth decoder in C (depth.pyx), which feed.py uses
    trade_ws: type[FastRoute]        # the trading WebSocket route (execution.fast.base.FastRoute)
    history: HistoryLister           # the venue's order history, paged
    # preflight probes (probe.py): key_permissions(ccxt client) -> KeyPermissions and
    # public_ws_url(feed ws) -> the public WebSocket the doctor pings
    probe: ModuleType
    # the private order stream (private.py): order states and fills pushed (executionReport,
    # OKX orders channel, Bybit order/execution), applied by the Router
    private: type[PrivateStream]
