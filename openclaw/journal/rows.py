"""Orders and their events as journal rows, and back; the consistency check of the rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

from openclaw.journal.records import (
    Inconsistency,
)
from openclaw.model.errors import (
    DuplicateClientIdError,
    JournalError,
)
from openclaw.model.orders import (
    FINAL_STATUSES,
    EventKind,
    Fill,
    Order,
    OrderEvent,
    OrderStatus,
)


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def fees_json(fees: Mapping[str, Decimal]) -> str:
    return orjson.dumps({k: str(v) for k, v in sorted(fees.items())}).decode()


def order_snapshot(order: Order) -> tuple[Any, ...]:
    """The mutable columns of an order, taken on the loop thread at call time."""
    return (
        order.status.value,
        order.venue_order_id,
        str(order.filled_qty),
        str(order.notional),
        fees_json(order.fees),
        order.reason,
        order.sent_ns,
        order.acked_ns,
        order.updated_ns,
        order.closed_ns,
        1 if order.is_final else 0,
    )


def event_row(ev: OrderEvent, recorded_ns: int) -> tuple[Any, ...]:
    f = ev.fill
    return (
        ev.client_id,
        ev.kind.value,
        ev.status.value,
        ev.ts_ns,
        ev.venue_order_id,
        f.trade_id if f else None,
        str(f.qty) if f else None,
        str(f.price) if f else None,
        str(f.fee) if f else None,
        f.fee_asset if f else None,
        ev.reason,
        recorded_ns,
    )


ORDER_COLS = (
    "client_id, venue, symbol, side, order_type, qty, price, opportunity_id, leg, venue_order_id,"
    " filled_qty, notional, fees, status, reason, created_ns, sent_ns, acked_ns, updated_ns,"
    " closed_ns, final"
)


INSERT_ORDER = f"INSERT INTO orders ({ORDER_COLS}) VALUES ({', '.join('?' * 21)})"


def new_row(order: Order) -> tuple[Any, ...]:
    """The orders row of a NEW order (checked: NEW, no fills), taken at call time."""
    if not isinstance(order, Order):
        raise JournalError(f"not an Order: {order!r}")
    if order.status is not OrderStatus.NEW or order.fills:
        raise JournalError(
            f"record_new takes a NEW order without fills; {order.client_id} is {order.status}"
        )
    return (
        order.client_id,
        order.venue,
        order.symbol,
        order.side.value,
        order.order_type.value,
        str(order.qty),
        None if order.price is None else str(order.price),
        order.opportunity_id,
        order.leg,
        order.venue_order_id,
        str(order.filled_qty),
        str(order.notional),
        fees_json(order.fees),
        order.status.value,
        order.reason,
        order.created_ns,
        order.sent_ns,
        order.acked_ns,
        order.updated_ns,
        order.closed_ns,
        0,
    )


def insert_new(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """INSERT NEW orders inside the caller's transaction (all or nothing is the caller's)."""
    for row in rows:
        try:
            conn.execute(INSERT_ORDER, row)
        except sqlite3.IntegrityError:
            raise DuplicateClientIdError(
                f"client id {row[0]} is already in the journal (ids are never reused)"
            ) from None


def load_order(conn: sqlite3.Connection, row: tuple[Any, ...]) -> Order:
    fills: dict[str, Fill] = {}
    for r in conn.execute(
        "SELECT trade_id, qty, price, fee, fee_asset, ts_ns FROM order_events"
        " WHERE client_id=? AND kind='fill' ORDER BY id",
        (row[0],),
    ):
        fills[r[0]] = Fill(r[0], Decimal(r[1]), Decimal(r[2]), Decimal(r[3]), r[4], r[5])
    return Order(
        client_id=row[0],
        venue=row[1],
        symbol=row[2],
        side=row[3],
        order_type=row[4],
        qty=Decimal(row[5]),
        price=dec(row[6]),
        opportunity_id=row[7],
        leg=row[8],
        venue_order_id=row[9],
        filled_qty=Decimal(row[10]),
        notional=Decimal(row[11]),
        fees={k: Decimal(v) for k, v in orjson.loads(row[12]).items()},
        status=row[13],
        reason=row[14],
        created_ns=row[15],
        sent_ns=row[16],
        acked_ns=row[17],
        updated_ns=row[18],
        closed_ns=row[19],
        fills=fills,
    )


def row_event(r: tuple[Any, ...]) -> OrderEvent:
    fill = None
    if r[1] == EventKind.FILL.value:
        fill = Fill(r[5], Decimal(r[6]), Decimal(r[7]), Decimal(r[8]), r[9], r[3])
    return OrderEvent(r[0], EventKind(r[1]), OrderStatus(r[2]), r[3], r[4], fill, r[10])


NO_FILL_STATUSES = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.SENT,
        OrderStatus.UNKNOWN,
        OrderStatus.ACKED,
        OrderStatus.REJECTED,
    }
)


def consistency(conn: sqlite3.Connection) -> list[Inconsistency]:
    out: list[Inconsistency] = []
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        out.append(Inconsistency(None, "integrity_check", "; ".join(integrity[:10])))
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        out.append(Inconsistency(None, "foreign_key_check", f"{len(fk)} rows, first {fk[0]}"))

    sums: dict[str, tuple[Decimal, Decimal, dict[str, Decimal]]] = {}
    last_status: dict[str, str] = {}
    for cid, kind, status, qty, price, fee, fee_asset in conn.execute(
        "SELECT client_id, kind, status, qty, price, fee, fee_asset FROM order_events ORDER BY id"
    ):
        last_status[cid] = status
        if kind != EventKind.FILL.value:
            continue
        q, n, fees = sums.get(cid, (Decimal(0), Decimal(0), {}))
        q += Decimal(qty)
        n += Decimal(qty) * Decimal(price)
        if fee is not None and Decimal(fee):
            fees[fee_asset] = fees.get(fee_asset, Decimal(0)) + Decimal(fee)
        sums[cid] = (q, n, fees)

    final_values = {s.value for s in FINAL_STATUSES}
    for cid, qty_s, filled_s, notional_s, fees_s, status, final in conn.execute(
        "SELECT client_id, qty, filled_qty, notional, fees, status, final FROM orders"
    ):

        def bad(check: str, detail: str, cid: str = cid) -> None:
            out.append(Inconsistency(cid, check, detail))

        qty, filled, notional = Decimal(qty_s), Decimal(filled_s), Decimal(notional_s)
        fees = {k: Decimal(v) for k, v in orjson.loads(fees_s).items()}
        f_qty, f_notional, f_fees = sums.get(cid, (Decimal(0), Decimal(0), {}))
        if filled != f_qty:
            bad("filled_qty", f"order says {filled}, fills sum to {f_qty}")
        if notional != f_notional:
            bad("notional", f"order says {notional}, fills sum to {f_notional}")
        if {k: v for k, v in fees.items() if v} != {k: v for k, v in f_fees.items() if v}:
            bad("fees", f"order says {fees}, fills sum to {f_fees}")
        if not Decimal(0) <= filled <= qty:
            bad("filled_range", f"filled {filled} outside [0, {qty}]")
        try:
            st = OrderStatus(status)
        except ValueError:
            bad("status", f"unknown status {status!r}")
            continue
        if (filled == qty) != (st is OrderStatus.FILLED):
            bad("status_vs_filled", f"status {status} with filled {filled} of {qty}")
        if st is OrderStatus.PARTIALLY_FILLED and not Decimal(0) < filled < qty:
            bad("status_vs_filled", f"partially_filled with filled {filled} of {qty}")
        if st in NO_FILL_STATUSES and filled != 0:
            bad("status_vs_filled", f"status {status} with filled {filled}")
        expected_last = last_status.get(cid, OrderStatus.NEW.value)
        if status != expected_last:
            bad("status_vs_events", f"order says {status}, last event says {expected_last}")
        if bool(final) != (status in final_values):
            bad("final_flag", f"final={final} with status {status}")
    return out
