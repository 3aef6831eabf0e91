"""Broker sessions (Interactive Brokers over the TWS socket API)."""

from openclaw.brokers.ibkr import IbkrError, IbkrSession, PlaceResult, contract_for, symbol_of
from openclaw.brokers.pacing import Backoff, HistoricalLimits, HistoricalPacer

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
