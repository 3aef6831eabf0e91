"""Interactive Brokers as a venue: the session over the TWS socket API (``session``), IB's
pacing rules (``pacing``). Facts and sources: docs/venues/ibkr.md."""

from openclaw.venues.ibkr.pacing import Backoff, HistoricalLimits, HistoricalPacer
from openclaw.venues.ibkr.session import (
    IbkrError,
    IbkrSession,
    PlaceResult,
    contract_for,
    symbol_of,
)

__all__ = [
    "Backoff",
    "HistoricalLimits",
    "HistoricalPacer",
    "IbkrError",
    "IbkrSession",
    "PlaceResult",
    "contract_for",
    "symbol_of",
]
