"""Order model and its state machine.

::

    NEW -> SENT -> ACKED -> PARTIALLY_FILLED -> FILLED
      |      |       |              |
      |      |       +--------------+-------> CANCELED
      |      +-> REJECTED (the venue refused the request)
      |      +-> UNKNOWN (timeout: the order may or may not exist at the venue)
      +-> UNKNOWN (found NEW at start-up: the send may have happened before the crash)
      +-> REJECTED (the request never left this process)

UNKNOWN leaves only on evidence from the venue: an ack, a fill or a cancel for the order, or a
``VenueAnswer`` to a query by client order id (``resolve``). It never becomes REJECTED otherwise:
a timed-out order may be live, and forgetting it leaves an unhedged position.

Fills are idempotent by trade id (the same fill from the WebSocket and from a REST query counts
once), the filled quantity never exceeds the order quantity, and a refused event raises a typed
error leaving the order exactly as it was. Every accepted change returns the ``OrderEvent`` to
journal (``Journal.record_event``); a no-op (a duplicate) returns ``None``.

Quantities, prices and fees are exact ``Decimal`` s (the venues' strings); floats are refused.
An ``Order`` belongs to the event-loop thread (no locking).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from openclaw.model.errors import OrderFieldError, OrderStateError, OverfillError

__all__ = [
    "FINAL_STATUSES",
    "EventKind",
    "Fill",
    "Order",
    "OrderEvent",
    "OrderStatus",
    "OrderType",
    "Side",
    "VenueAnswer",
    "to_decimal",
]

_ZERO = Decimal(0)
_new_order = object.__new__
_CLIENT_ID = re.compile(r"[A-Za-z0-9]{1,32}")


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order type: a limit order carries a price limit, a market order none."""

    LIMIT = "limit"
    MARKET = "market"


class OrderStatus(StrEnum):
    """Where an order is in its life (see the module docstring for the transitions)."""

    NEW = "new"  # journaled, not yet sent
    SENT = "sent"  # request written to the venue, no answer yet
    ACKED = "acked"  # the venue holds it (venue order id known)
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"  # canceled or expired at the venue (may carry fills)
    REJECTED = "rejected"  # the venue refused it, or it never left this process
    UNKNOWN = "unknown"  # timed out: may or may not exist at the venue


#: Statuses an order never leaves (except CANCELED, which still accepts late fills).
FINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED}
)


class EventKind(StrEnum):
    """Kind of an order event, as journaled."""

    SENT = "sent"
    ACK = "ack"
    FILL = "fill"
    CANCEL = "cancel"
    REJECT = "reject"
    UNKNOWN = "unknown"


def to_decimal(name: str, value: Decimal | str | int) -> Decimal:
    """An exact, finite Decimal from a Decimal, a decimal string or an int; floats are refused.

    Floats are refused because ``0.1`` is not 0.1: a quantity must round-trip exactly.
    """
    if type(value) is Decimal and value.is_finite():  # the common case, checked cheaply
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise OrderFieldError(name, value, "must be a Decimal, a decimal string or an int")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation:
        raise OrderFieldError(name, value, "not a decimal number") from None
    if not dec.is_finite():
        raise OrderFieldError(name, value, "must be finite")
    return dec


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order, identified by the venue's trade id."""

    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal = _ZERO  # negative for a rebate
    fee_asset: str | None = None
    ts_ns: int = 0

    def same_as(self, other: Fill) -> bool:
        """True if ``other`` reports the same execution (timestamps may differ per source)."""
        return (
            self.trade_id == other.trade_id
            and self.qty == other.qty
            and self.price == other.price
            and self.fee == other.fee
            and (self.fee_asset if self.fee else None) == (other.fee_asset if other.fee else None)
        )


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One accepted change of an order, with the status it left the order in."""

    client_id: str
    kind: EventKind
    status: OrderStatus  # status after the event
    ts_ns: int
    venue_order_id: str | None = None
    fill: Fill | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VenueAnswer:
    """The venue's answer to a query by client order id: the only way UNKNOWN becomes REJECTED.

    ``found=False`` means the venue answered and has no such order. ``status`` is the venue's
    status mapped to ours (ACKED, PARTIALLY_FILLED, FILLED, CANCELED or REJECTED).
    """

    client_id: str
    found: bool
    venue_order_id: str | None = None
    status: OrderStatus | None = None
    detail: str = ""


_RESOLVABLE = frozenset(
    {
        OrderStatus.ACKED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
    }
)


@dataclass(slots=True, eq=False)
class Order:
    """One order of one leg of one opportunity, and its life at the venue.

    Mutate it only through ``mark_sent``, ``ack``, ``fill``, ``cancel``, ``reject``,
    ``mark_unknown`` and ``resolve``; each validates before it changes anything.
    """

    client_id: str
    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None  # price limit; None for a market order
    opportunity_id: int
    leg: int
    venue_order_id: str | None = None
    filled_qty: Decimal = _ZERO
    notional: Decimal = _ZERO  # sum of fill qty * fill price, exact
    fees: dict[str, Decimal] = field(default_factory=dict)  # asset -> total fee
    status: OrderStatus = OrderStatus.NEW
    reason: str | None = None  # why it was rejected / canceled / unknown
    created_ns: int = field(default_factory=time.time_ns)
    sent_ns: int | None = None
    acked_ns: int | None = None
    updated_ns: int = 0  # 0: same as created_ns
    closed_ns: int | None = None
    fills: dict[str, Fill] = field(default_factory=dict)  # trade id -> fill

    def __post_init__(self) -> None:
        if not isinstance(self.client_id, str) or not _CLIENT_ID.fullmatch(self.client_id):
            raise OrderFieldError("client_id", self.client_id, "must match [A-Za-z0-9]{1,32}")
        for name in ("venue", "symbol"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise OrderFieldError(name, value, "must be a non-empty string")
        # enum members pass as they are (the trading path builds orders with them)
        if type(self.side) is not Side:
            try:
                self.side = Side(self.side)
            except ValueError:
                raise OrderFieldError("side", self.side, "must be buy or sell") from None
        if type(self.order_type) is not OrderType:
            try:
                self.order_type = OrderType(self.order_type)
            except ValueError:
                raise OrderFieldError(
                    "order_type", self.order_type, "must be limit or market"
                ) from None
        if type(self.status) is not OrderStatus:
            try:
                self.status = OrderStatus(self.status)
            except ValueError:
                raise OrderFieldError("status", self.status, "not an OrderStatus") from None
        self.qty = to_decimal("qty", self.qty)
        if self.qty <= 0:
            raise OrderFieldError("qty", self.qty, "must be > 0")
        if self.order_type is OrderType.LIMIT:
            if self.price is None:
                raise OrderFieldError("price", None, "a limit order needs a price limit")
            self.price = to_decimal("price", self.price)
            if self.price <= 0:
                raise OrderFieldError("price", self.price, "must be > 0")
        elif self.price is not None:
            raise OrderFieldError("price", self.price, "a market order has no price limit")
        for name in ("opportunity_id", "leg"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise OrderFieldError(name, value, "must be an int >= 0")
        self.filled_qty = to_decimal("filled_qty", self.filled_qty)
        if not _ZERO <= self.filled_qty <= self.qty:
            raise OrderFieldError("filled_qty", self.filled_qty, f"must be in [0, qty={self.qty}]")
        if self.updated_ns == 0:
            self.updated_ns = self.created_ns

    @classmethod
    def trusted(
        cls,
        client_id: str,
        venue: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        price: Decimal | None,
        opportunity_id: int,
        leg: int,
        created_ns: int,
    ) -> Order:
        """A NEW order from values the caller has already validated, without re-validating.

        For the trading hot path, where every field comes from a checked source: the client id
        from ``ClientIdFactory.make``, venue and symbol validated at start-up, ``Side`` and
        ``OrderType`` members, ``qty``/``price`` exact Decimals the risk engine saw > 0 (as
        lots/ticks). The result is the same object ``Order(...)`` builds from those values
        (tests/risk/test_fast_path.py compares them field by field); anything else must go
        through ``Order(...)``.
        """
        o = _new_order(cls)
        o.client_id = client_id
        o.venue = venue
        o.symbol = symbol
        o.side = side
        o.order_type = order_type
        o.qty = qty
        o.price = price
        o.opportunity_id = opportunity_id
        o.leg = leg
        o.venue_order_id = None
        o.filled_qty = _ZERO
        o.notional = _ZERO
        o.fees = {}
        o.status = OrderStatus.NEW
        o.reason = None
        o.created_ns = created_ns
        o.sent_ns = None
        o.acked_ns = None
        o.updated_ns = created_ns
        o.closed_ns = None
        o.fills = {}
        return o

    # ---- read-only views ------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        """True once FILLED, CANCELED or REJECTED (start-up recovery skips these)."""
        return self.status in FINAL_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        """Quantity not filled yet."""
        return self.qty - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        """Volume-weighted fill price, or None before the first fill."""
        return self.notional / self.filled_qty if self.filled_qty else None

    # ---- transitions ----------------------------------------------------------------------

    def mark_sent(self, ts_ns: int | None = None) -> OrderEvent:
        """NEW -> SENT: the request is being written to the venue (after ``record_new``)."""
        self._require(EventKind.SENT, {OrderStatus.NEW})
        ts = _now(ts_ns)
        self.sent_ns = ts
        return self._event(EventKind.SENT, OrderStatus.SENT, ts)

    def ack(self, venue_order_id: str, ts_ns: int | None = None) -> OrderEvent | None:
        """The venue holds the order: SENT/UNKNOWN -> ACKED.

        A late ack (after fills or a cancel) only records the venue order id; a repeated ack
        returns None; a different venue order id raises.
        """
        if not isinstance(venue_order_id, str) or not venue_order_id:
            raise OrderFieldError("venue_order_id", venue_order_id, "must be a non-empty string")
        self._require(EventKind.ACK, _ALLOWED[EventKind.ACK])
        if self.venue_order_id is not None and self.venue_order_id != venue_order_id:
            raise OrderStateError(
                self.client_id,
                self.status,
                EventKind.ACK,
                f"venue order id {venue_order_id!r} != {self.venue_order_id!r}",
            )
        if self.status in (OrderStatus.SENT, OrderStatus.UNKNOWN):
            new = OrderStatus.ACKED
        elif self.venue_order_id == venue_order_id:
            return None  # repeated ack
        else:
            new = self.status  # late ack: keep the status fills or a cancel gave it
        ts = _now(ts_ns)
        self.venue_order_id = venue_order_id
        if self.acked_ns is None:
            self.acked_ns = ts
        return self._event(EventKind.ACK, new, ts, venue_order_id=venue_order_id)

    def fill(
        self,
        trade_id: str,
        qty: Decimal | str | int,
        price: Decimal | str | int,
        fee: Decimal | str | int = _ZERO,
        fee_asset: str | None = None,
        ts_ns: int | None = None,
    ) -> OrderEvent | None:
        """Count one execution once: a trade id already seen returns None.

        Moves SENT/UNKNOWN/ACKED/PARTIALLY_FILLED to PARTIALLY_FILLED or FILLED. A late fill on a
        CANCELED order is counted (the money moved) and keeps it CANCELED unless it completes
        the order. Raises ``OverfillError`` past ``qty`` and ``OrderStateError`` on a trade id
        seen with different numbers, or on a NEW or REJECTED order.
        """
        if not isinstance(trade_id, str) or not trade_id:
            raise OrderFieldError("trade_id", trade_id, "must be a non-empty string")
        q = to_decimal("fill qty", qty)
        px = to_decimal("fill price", price)
        fee_d = to_decimal("fee", fee)
        if q <= 0:
            raise OrderFieldError("fill qty", q, "must be > 0")
        if px <= 0:
            raise OrderFieldError("fill price", px, "must be > 0")
        if fee_d and (not isinstance(fee_asset, str) or not fee_asset):
            raise OrderFieldError("fee_asset", fee_asset, "a non-zero fee needs its asset")
        ts = _now(ts_ns)
        new_fill = Fill(trade_id, q, px, fee_d, fee_asset if fee_d else None, ts)
        seen = self.fills.get(trade_id)
        if seen is not None:
            if seen.same_as(new_fill):
                return None
            raise OrderStateError(
                self.client_id,
                self.status,
                EventKind.FILL,
                f"trade {trade_id!r} seen before with other numbers: {seen} vs {new_fill}",
            )
        self._require(EventKind.FILL, _ALLOWED[EventKind.FILL])
        filled = self.filled_qty + q
        if filled > self.qty:
            raise OverfillError(
                self.client_id,
                self.status,
                EventKind.FILL,
                f"trade {trade_id!r} qty {q} takes filled {self.filled_qty} past qty {self.qty}",
            )
        if filled == self.qty:
            new = OrderStatus.FILLED
        elif self.status is OrderStatus.CANCELED:
            new = OrderStatus.CANCELED
        else:
            new = OrderStatus.PARTIALLY_FILLED
        self.fills[trade_id] = new_fill
        self.filled_qty = filled
        self.notional += q * px
        if fee_d:
            assert fee_asset is not None
            self.fees[fee_asset] = self.fees.get(fee_asset, _ZERO) + fee_d
        return self._event(EventKind.FILL, new, ts, fill=new_fill)

    def cancel(self, ts_ns: int | None = None, reason: str | None = None) -> OrderEvent | None:
        """The venue canceled (or expired) the order: -> CANCELED; a repeat returns None."""
        if self.status is OrderStatus.CANCELED:
            return None
        self._require(EventKind.CANCEL, _ALLOWED[EventKind.CANCEL])
        ts = _now(ts_ns)
        self.reason = reason
        return self._event(EventKind.CANCEL, OrderStatus.CANCELED, ts, reason=reason)

    def reject(self, reason: str, ts_ns: int | None = None) -> OrderEvent | None:
        """SENT -> REJECTED (the venue refused the request), or NEW -> REJECTED (never sent).

        Refused for UNKNOWN: only ``resolve`` with the venue's answer may reject it. A repeat
        returns None.
        """
        if self.status is OrderStatus.REJECTED:
            return None
        if self.status is OrderStatus.UNKNOWN:
            raise OrderStateError(
                self.client_id,
                self.status,
                EventKind.REJECT,
                "an UNKNOWN order is rejected only by resolve() with the venue's answer",
            )
        self._require(EventKind.REJECT, _ALLOWED[EventKind.REJECT])
        ts = _now(ts_ns)
        self.reason = reason
        return self._event(EventKind.REJECT, OrderStatus.REJECTED, ts, reason=reason)

    def mark_unknown(self, reason: str, ts_ns: int | None = None) -> OrderEvent | None:
        """SENT -> UNKNOWN on a timeout (or NEW -> UNKNOWN at start-up); a repeat returns None."""
        if self.status is OrderStatus.UNKNOWN:
            return None
        self._require(EventKind.UNKNOWN, _ALLOWED[EventKind.UNKNOWN])
        ts = _now(ts_ns)
        self.reason = reason
        return self._event(EventKind.UNKNOWN, OrderStatus.UNKNOWN, ts, reason=reason)

    def resolve(self, answer: VenueAnswer, ts_ns: int | None = None) -> list[OrderEvent]:
        """Leave UNKNOWN on the venue's answer to a query by this client order id.

        Not found (or rejected) -> REJECTED; found -> ACKED, then CANCELED if the venue says so.
        A venue FILLED/PARTIALLY_FILLED resolves to ACKED: the fills themselves (with trade ids)
        come from the venue's trade history through ``fill``.
        """
        if self.status is not OrderStatus.UNKNOWN:
            raise OrderStateError(
                self.client_id, self.status, "resolve", "only an UNKNOWN order is resolved"
            )
        if answer.client_id != self.client_id:
            raise OrderStateError(
                self.client_id,
                self.status,
                "resolve",
                f"the answer is for client id {answer.client_id!r}",
            )
        if answer.found and answer.status not in _RESOLVABLE:
            raise OrderStateError(
                self.client_id,
                self.status,
                "resolve",
                f"venue status {answer.status!r} is not an answer (ACKED..REJECTED expected)",
            )
        detail = f": {answer.detail}" if answer.detail else ""
        if not answer.found or answer.status is OrderStatus.REJECTED:
            ts = _now(ts_ns)
            what = "not found" if not answer.found else "rejected"
            self.reason = f"venue query: {what}{detail}"
            return [self._event(EventKind.REJECT, OrderStatus.REJECTED, ts, reason=self.reason)]
        events: list[OrderEvent] = []
        ts = _now(ts_ns)
        if answer.venue_order_id is not None:
            if not isinstance(answer.venue_order_id, str) or not answer.venue_order_id:
                raise OrderFieldError(
                    "venue_order_id", answer.venue_order_id, "must be a non-empty string"
                )
            self.venue_order_id = answer.venue_order_id
        if self.acked_ns is None:
            self.acked_ns = ts
        events.append(
            self._event(
                EventKind.ACK,
                OrderStatus.ACKED,
                ts,
                venue_order_id=self.venue_order_id,
                reason=f"venue query: found{detail}",
            )
        )
        if answer.status is OrderStatus.CANCELED:
            reason = f"venue query: canceled{detail}"
            self.reason = reason
            events.append(self._event(EventKind.CANCEL, OrderStatus.CANCELED, ts, reason=reason))
        return events

    # ---- internals ------------------------------------------------------------------------

    def _require(
        self, kind: EventKind | str, allowed: frozenset[OrderStatus] | set[OrderStatus]
    ) -> None:
        if self.status not in allowed:
            raise OrderStateError(self.client_id, self.status, kind)

    def _event(
        self,
        kind: EventKind,
        new: OrderStatus,
        ts: int,
        *,
        venue_order_id: str | None = None,
        fill: Fill | None = None,
        reason: str | None = None,
    ) -> OrderEvent:
        self.status = new
        self.updated_ns = ts
        if new in FINAL_STATUSES and self.closed_ns is None:
            self.closed_ns = ts
        return OrderEvent(self.client_id, kind, new, ts, venue_order_id, fill, reason)


_S = OrderStatus
#: From which statuses each event is accepted (repeats and duplicates are handled before).
_ALLOWED: dict[EventKind, frozenset[OrderStatus]] = {
    EventKind.SENT: frozenset({_S.NEW}),
    EventKind.ACK: frozenset(
        {_S.SENT, _S.UNKNOWN, _S.ACKED, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED}
    ),
    # FILLED: so that a new trade id on a filled order raises OverfillError
    EventKind.FILL: frozenset(
        {_S.SENT, _S.UNKNOWN, _S.ACKED, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED}
    ),
    EventKind.CANCEL: frozenset({_S.SENT, _S.UNKNOWN, _S.ACKED, _S.PARTIALLY_FILLED}),
    EventKind.REJECT: frozenset({_S.NEW, _S.SENT}),
    EventKind.UNKNOWN: frozenset({_S.NEW, _S.SENT}),
}


def _now(ts_ns: int | None) -> int:
    return time.time_ns() if ts_ns is None else ts_ns
