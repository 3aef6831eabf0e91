"""Every per-venue table of the services lists exactly the registry's crypto venues, and an
unknown venue is an error wherever a venue is named (never a fallthrough to another venue)."""

from __future__ import annotations

import tomllib

import pytest

from openclaw.app.config import ConfigError, parse_config
from openclaw.execution.router import VenueRoute
from openclaw.execution.venues import VENUE_CLASSES, Credentials, make_client
from openclaw.model.instrument import Instrument
from openclaw.sim import CRYPTO_VENUES as SIM_VENUES
from openclaw.venues.registry import (
    CRYPTO_VENUES,
    FEEDS,
    KITS,
    PROBES,
    SIM_URL_KEYS,
    TRADE_WS,
    VENUE_HISTORY,
    UnknownVenueError,
    crypto_venue,
)


def test_service_tables_list_exactly_the_registry() -> None:
    want = set(CRYPTO_VENUES)
    for name, table in (("venues.registry KITS", KITS), ("FEEDS", FEEDS),
                        ("TRADE_WS", TRADE_WS), ("VENUE_HISTORY", VENUE_HISTORY),
                        ("PROBES", PROBES),
                        ("SIM_URL_KEYS", SIM_URL_KEYS),
                        ("execution/venues VENUE_CLASSES", VENUE_CLASSES),
                        ("sim CRYPTO_VENUES", SIM_VENUES)):
        assert set(table) == want, name


@pytest.mark.parametrize("make", [
    lambda: crypto_venue("kraken"),
    lambda: crypto_venue("ibkr"),                     # a broker, not a crypto venue
    lambda: Instrument("kraken", "BTCUSD", "0.1", "0.001"),
    lambda: VenueRoute("kraken", client=None),
    lambda: make_client("kraken", Credentials.simulator()),
])
def test_unknown_venue_is_an_error(make) -> None:  # noqa: ANN001
    with pytest.raises(UnknownVenueError, match="kraken|ibkr"):
        make()


def test_config_refuses_an_unknown_venue() -> None:
    text = ('[venues.kraken]\nmode = "sim"\n\n[[instruments]]\nvenue = "kraken"\n'
            'symbol = "X"\nbase = "A"\nquote = "B"\ntick_size = "1"\nlot_size = "1"\n')
    with pytest.raises(ConfigError, match="unknown venue 'kraken'"):
        parse_config(tomllib.loads(text), "<test>")


def test_every_venue_folder_provides_its_kit() -> None:
    """A venue folder provides a depth decoder (its own Cython module), a depth feed
    (connection, replay_sync), a trading WebSocket route and an order history lister
    (venues/_template/README.md)."""
    import inspect

    from openclaw._core.wire import DepthDecoder
    from openclaw.execution.fast.base import FastRoute

    for name, kit in KITS.items():
        assert issubclass(kit.depth, DepthDecoder), name
        assert kit.depth.__module__ == f"openclaw.venues.{name}.depth", name
        assert callable(kit.feed.connection) and callable(kit.feed.replay_sync), name
        assert issubclass(kit.trade_ws, FastRoute), name
        assert inspect.iscoroutinefunction(kit.history), name
