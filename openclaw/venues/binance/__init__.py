"""Binance as a venue: its depth decoder in C (``depth``), depth feed (``feed``), trading
WebSocket route (``trade_ws``) and order history (``history``); facts and sources:
docs/venues/binance.md. ``KIT`` is what the registry (``openclaw.venues.registry``) binds."""

from openclaw.venues.binance import feed, history, probe
from openclaw.venues.binance.depth import BinanceDepthDecoder
from openclaw.venues.binance.private import BinancePrivateStream
from openclaw.venues.binance.trade_ws import BinanceFastRoute
from openclaw.venues.kit import VenueKit

KIT = VenueKit(feed=feed, depth=BinanceDepthDecoder, trade_ws=BinanceFastRoute,
               history=history.list_orders, probe=probe,
               private=BinancePrivateStream)
