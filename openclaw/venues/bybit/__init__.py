"""Bybit as a venue: its depth decoder in C (``depth``), depth feed (``feed``), trading
WebSocket route (``trade_ws``) and order history (``history``); facts and sources:
docs/venues/bybit.md. ``KIT`` is what the registry (``openclaw.venues.registry``) binds."""

from openclaw.venues.bybit import feed, history, probe
from openclaw.venues.bybit.depth import BybitDepthDecoder
from openclaw.venues.bybit.private import BybitPrivateStream
from openclaw.venues.bybit.trade_ws import BybitFastRoute
from openclaw.venues.kit import VenueKit

KIT = VenueKit(feed=feed, depth=BybitDepthDecoder, trade_ws=BybitFastRoute,
               history=history.list_orders, probe=probe,
               private=BybitPrivateStream)
