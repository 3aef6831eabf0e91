"""The venue registry: the one list of venues (defined as data in ``openclaw.model.venues``).

A new crypto venue is one ``VenueSpec`` line there, its implementations in the services' tables
(a depth feed in ``feeds/aggregator.py``, a trading WebSocket in ``execution/fast``, an order
history lister in ``execution/audit.py``, ccxt options in ``execution/venues.py``) and its
simulator under ``sim/``; tests/architecture/test_venues.py fails until every table has it.
"""

from openclaw.model.venues import (
    CRYPTO_VENUES,
    VENUES,
    UnknownVenueError,
    VenueSpec,
    crypto_venue,
    venue,
)

__all__ = ["CRYPTO_VENUES", "VENUES", "UnknownVenueError", "VenueSpec", "crypto_venue", "venue"]
