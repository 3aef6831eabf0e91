"""The venues' own record of a run's orders, against the journal: lost and duplicate orders.

Why: the journal is our word; the venue's order history is the truth. At the end of a run every
venue is asked for its orders on the run's symbols since the run began (through the same ccxt
client, paging with each venue's own cursor) and the run's orders (client ids of this session)
are compared with the journal:

* lost: an order the venue holds that the journal does not, or an order the journal says traded
  that the venue does not hold, or a filled quantity that differs;
* duplicate: one client id the venue holds more than once.

Paging, per venue (documented limits): Binance ``GET /api/v3/allOrders`` ascending, 1,000 per
page, continued from the next ``orderId``; OKX ``GET /api/v5/trade/orders-history`` (filled,
then canceled) newest first, 100 per page, continued ``after`` the oldest order id, plus
``orders-pending``; Bybit
``GET /v5/order/history`` newest first, 50 per page, continued with ``nextPageCursor``, plus
``/v5/order/realtime``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["Lister", "VenueRecordAudit", "audit_orders", "venue_orders"]

Lister = Callable[[Any, str, int], Awaitable[list[dict[str, Any]]]]
_MAX_PAGES = 1000


async def venue_orders(lister: Lister, client: Any, symbols: Iterable[str], since_ms: int,
                       before_call: Callable[[], Awaitable[Any]] | None = None
                       ) -> list[dict[str, Any]]:
    """Every order (ccxt unified dicts) the venue holds on ``symbols`` since ``since_ms``,
    through its ``lister`` (``venues/<venue>/history.py``, ``venues.registry.VENUE_HISTORY``);
    ``before_call`` is awaited before each symbol (the venue's request bucket)."""
    out = []
    for sym in sorted(set(symbols)):
        if before_call is not None:
            await before_call()
        out += [o for o in await lister(client, sym, since_ms)
                if (o.get("timestamp") or since_ms) >= since_ms]
    return out


@dataclass
class VenueRecordAudit:
    """Per venue: how many of the run's orders the venue holds, and the lost and duplicates."""

    orders_at_venue: dict[str, int] = field(default_factory=dict)
    lost: dict[str, list[str]] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)     # venue -> why it was not read

    def summary(self) -> dict[str, Any]:
        return {"orders_at_venue": self.orders_at_venue,
                "lost_orders": sum(len(x) for x in self.lost.values()),
                "duplicate_orders": sum(len(x) for x in self.duplicates.values()),
                "lost_by_venue": {v: x[:20] for v, x in self.lost.items() if x},
                "duplicates_by_venue": {v: x[:20] for v, x in self.duplicates.items() if x},
                "venue_record_errors": self.errors}


def audit_orders(journal_orders: Iterable[Any], at_venue: dict[str, list[dict[str, Any]]],
                 owns: Callable[[str], bool], errors: dict[str, str] | None = None
                 ) -> VenueRecordAudit:
    """Compare the journal's orders (``Order`` s of this run) with the venues' records."""
    rep = VenueRecordAudit(errors=dict(errors or {}))
    ours: dict[str, dict[str, Any]] = {}
    for o in journal_orders:
        ours.setdefault(o.venue, {})[o.client_id] = o
    for venue, records in at_venue.items():
        mine = [r for r in records if owns(str(r.get("clientOrderId") or ""))]
        count = Counter(str(r["clientOrderId"]) for r in mine)
        filled = {str(r["clientOrderId"]): Decimal(str(r.get("filled") or 0)) for r in mine}
        rep.orders_at_venue[venue] = len(count)
        rep.duplicates[venue] = sorted(c for c, n in count.items() if n > 1)
        journal = ours.get(venue, {})
        lost = [c for c in count if c not in journal]
        lost += [c for c, o in journal.items() if o.filled_qty > 0 and c not in count]
        lost += [c for c, o in journal.items() if c in filled and filled[c] != o.filled_qty]
        rep.lost[venue] = sorted(set(lost))
    return rep
