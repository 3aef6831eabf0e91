"""Every per-venue table of the services lists exactly the registry's crypto venues, and an
unknown venue is an error wherever a venue is named (never a fallthrough to another venue)."""

from __future__ import annotations

import tomllib

import pytest

from openclaw.config import ConfigError, parse_config
from openclaw.execution.audit import LISTERS
from openclaw.execution.fast import FAST_ROUTES, SIM_URL_KEYS
from openclaw.execution.router import VenueRoute
from openclaw.execution.venues import VENUE_CLASSES
from openclaw.feeds.aggregator import FEED_VENUES
from openclaw.model.instrument import Instrument
from openclaw.sim import CRYPTO_VENUES as SIM_VENUES
from openclaw.venues.registry import CRYPTO_VENUES, UnknownVenueError, crypto_venue


def test_service_tables_list_exactly_the_registry() -> None:
    want = set(CRYPTO_VENUES)
    for name, table in (("feeds/aggregator FEED_VENUES", FEED_VENUES),
                        ("execution/fast FAST_ROUTES", FAST_ROUTES),
                        ("execution/fast SIM_URL_KEYS", SIM_URL_KEYS),
                        ("execution/audit LISTERS", LISTERS),
                        ("execution/venues VENUE_CLASSES", VENUE_CLASSES),
                        ("sim CRYPTO_VENUES", SIM_VENUES)):
        assert set(table) == want, name


@pytest.mark.parametrize("make", [
    lambda: crypto_venue("kraken"),
    lambda: crypto_venue("ibkr"),                     # a broker, not a crypto venue
    lambda: Instrument("kraken", "BTCUSD", "0.1", "0.001"),
    lambda: VenueRoute("kraken", client=None),
])
def test_unknown_venue_is_an_error(make) -> None:  # noqa: ANN001
    with pytest.raises(UnknownVenueError, match="kraken|ibkr"):
        make()


def test_config_refuses_an_unknown_venue() -> None:
    text = ('[venues.kraken]\nmode = "sim"\n\n[[instruments]]\nvenue = "kraken"\n'
            'symbol = "X"\nbase = "A"\nquote = "B"\ntick_size = "1"\nlot_size = "1"\n')
    with pytest.raises(ConfigError, match="unknown venue 'kraken'"):
        parse_config(tomllib.loads(text), "<test>")
