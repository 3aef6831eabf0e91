"""OKX as a venue: its depth decoder in C (``depth``), depth feed (``feed``), trading
WebSocket route (``trade_ws``) and order history (``history``); facts and sources:
docs/venues/okx.md. ``KIT`` is what the registry (``openclaw.venues.registry``) binds."""

from openclaw.venues.kit import VenueKit
from openclaw.venues.okx import feed, history, probe
from openclaw.venues.okx.depth import OkxDepthDecoder
from openclaw.venues.okx.private import OkxPrivateStream
from openclaw.venues.okx.trade_ws import OkxFastRoute

KIT = VenueKit(feed=feed, depth=OkxDepthDecoder, trade_ws=OkxFastRoute,
               history=history.list_orders, probe=probe,
               private=OkxPrivateStream)
