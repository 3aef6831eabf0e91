"""Execution layer: the order model and state machine, and venue-safe client order ids.

Imports nothing heavy (no ccxt): venue clients live in ``openclaw.execution.venues``.
"""

from openclaw.model.client_ids import ClientIdFactory, ClientIdParts, parse_client_id
from openclaw.model.orders import (
    FINAL_STATUSES,
    EventKind,
    Fill,
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
    VenueAnswer,
)

__all__ = [
    "FINAL_STATUSES",
    "ClientIdFactory",
    "ClientIdParts",
    "EventKind",
    "Fill",
    "Order",
    "OrderEvent",
    "OrderStatus",
    "OrderType",
    "Side",
    "VenueAnswer",
    "parse_client_id",
]
