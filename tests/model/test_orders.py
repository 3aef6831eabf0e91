"""The order state machine against a hand-written transition table, fills, UNKNOWN handling."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.orders import make_order

from openclaw.execution import (
    EventKind,
    Order,
    OrderEvent,
    OrderStatus,
    VenueAnswer,
)
from openclaw.model.errors import OrderFieldError, OrderStateError, OverfillError

S = OrderStatus
ERR = "error"
SAME = "no-op"

Op = Callable[[Order], object]

OPS: dict[str, Op] = {
    "sent": lambda o: o.mark_sent(),
    "ack": lambda o: o.ack("V1"),
    "fill_part": lambda o: o.fill("tP", "0.4", "100"),
    "fill_all": lambda o: o.fill("tA", o.remaining_qty or Decimal("0.1"), "100"),
    "cancel": lambda o: o.cancel(),
    "reject": lambda o: o.reject("venue said no"),
    "unknown": lambda o: o.mark_unknown("timeout"),
}

# how to reach each status with legal steps
PATHS: dict[OrderStatus, list[Op]] = {
    S.NEW: [],
    S.SENT: [OPS["sent"]],
    S.ACKED: [OPS["sent"], OPS["ack"]],
    S.PARTIALLY_FILLED: [OPS["sent"], OPS["ack"], lambda o: o.fill("t0", "0.4", "100")],
    S.FILLED: [OPS["sent"], OPS["ack"], lambda o: o.fill("t0", "1.0", "100")],
    S.CANCELED: [OPS["sent"], OPS["ack"], OPS["cancel"]],
    S.REJECTED: [OPS["sent"], OPS["reject"]],
    S.UNKNOWN: [OPS["sent"], OPS["unknown"]],
}

# the specification, written independently of the implementation's table
PF = S.PARTIALLY_FILLED
TABLE: dict[OrderStatus, dict[str, object]] = {
    S.NEW: dict(sent=S.SENT, ack=ERR, fill_part=ERR, fill_all=ERR, cancel=ERR,
                reject=S.REJECTED, unknown=S.UNKNOWN),
    S.SENT: dict(sent=ERR, ack=S.ACKED, fill_part=PF, fill_all=S.FILLED, cancel=S.CANCELED,
                 reject=S.REJECTED, unknown=S.UNKNOWN),
    S.ACKED: dict(sent=ERR, ack=SAME, fill_part=PF, fill_all=S.FILLED, cancel=S.CANCELED,
                  reject=ERR, unknown=ERR),
    PF: dict(sent=ERR, ack=SAME, fill_part=PF, fill_all=S.FILLED, cancel=S.CANCELED,
             reject=ERR, unknown=ERR),
    S.FILLED: dict(sent=ERR, ack=SAME, fill_part=ERR, fill_all=ERR, cancel=ERR, reject=ERR,
                   unknown=ERR),
    S.CANCELED: dict(sent=ERR, ack=SAME, fill_part=S.CANCELED, fill_all=S.FILLED, cancel=SAME,
                     reject=ERR, unknown=ERR),
    S.REJECTED: dict(sent=ERR, ack=ERR, fill_part=ERR, fill_all=ERR, cancel=ERR, reject=SAME,
                     unknown=ERR),
    S.UNKNOWN: dict(sent=ERR, ack=S.ACKED, fill_part=PF, fill_all=S.FILLED, cancel=S.CANCELED,
                    reject=ERR, unknown=SAME),
}  # fmt: skip


def order_in(status: OrderStatus) -> Order:
    o = make_order(qty="1.0")
    for step in PATHS[status]:
        step(o)
    assert o.status is status
    return o


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("op", list(OPS))
def test_transition_table(status: OrderStatus, op: str) -> None:
    o = order_in(status)
    before = asdict(o)
    want = TABLE[status][op]
    if want == ERR:
        with pytest.raises(OrderStateError):
            OPS[op](o)
        assert asdict(o) == before, "a refused event must leave the order unchanged"
    elif want == SAME:
        assert OPS[op](o) is None
        assert asdict(o) == before
    else:
        ev = OPS[op](o)
        assert isinstance(ev, OrderEvent)
        assert o.status is want and ev.status is want and ev.client_id == o.client_id
        assert o.is_final == (want in (S.FILLED, S.CANCELED, S.REJECTED))
        if o.is_final:
            assert o.closed_ns is not None


def test_happy_path_events_and_fields() -> None:
    o = make_order(qty="2", price="100")
    kinds = []
    for ev in (
        o.mark_sent(ts_ns=1),
        o.ack("V9", ts_ns=2),
        o.fill("t1", "0.5", "100", "0.01", "USDT", ts_ns=3),
        o.fill("t2", "1.5", "99.5", "0.02", "USDT", ts_ns=4),
    ):
        assert ev is not None
        kinds.append((ev.kind, ev.status))
    assert kinds == [
        (EventKind.SENT, S.SENT),
        (EventKind.ACK, S.ACKED),
        (EventKind.FILL, S.PARTIALLY_FILLED),
        (EventKind.FILL, S.FILLED),
    ]
    assert o.filled_qty == Decimal("2") and o.remaining_qty == 0
    assert o.avg_price == (Decimal("0.5") * 100 + Decimal("1.5") * Decimal("99.5")) / 2
    assert o.fees == {"USDT": Decimal("0.03")}
    assert (o.sent_ns, o.acked_ns, o.updated_ns, o.closed_ns) == (1, 2, 4, 4)
    assert o.venue_order_id == "V9"


def test_fill_seen_twice_counts_once() -> None:
    o = order_in(S.ACKED)
    assert o.fill("t1", "0.3", "100", "0.001", "BTC") is not None
    assert o.fill("t1", "0.3", "100", "0.001", "BTC") is None  # same trade from the REST query
    assert o.fill("t1", Decimal("0.30"), "100.0", "0.0010", "BTC") is None  # same numbers
    assert o.filled_qty == Decimal("0.3") and len(o.fills) == 1
    assert o.fees == {"BTC": Decimal("0.001")}


def test_same_trade_id_other_numbers_raises() -> None:
    o = order_in(S.ACKED)
    o.fill("t1", "0.3", "100")
    before = asdict(o)
    with pytest.raises(OrderStateError, match="seen before"):
        o.fill("t1", "0.4", "100")
    assert asdict(o) == before


def test_overfill_raises_and_changes_nothing() -> None:
    o = order_in(S.ACKED)
    o.fill("t1", "0.7", "100")
    before = asdict(o)
    with pytest.raises(OverfillError, match="past qty"):
        o.fill("t2", "0.4", "100")
    assert asdict(o) == before
    assert o.fill("t3", "0.3", "100") is not None and o.status is S.FILLED


def test_ack_with_another_venue_id_raises() -> None:
    o = order_in(S.ACKED)
    with pytest.raises(OrderStateError, match="venue order id"):
        o.ack("V2")


def test_late_ack_after_fill_keeps_status() -> None:
    o = order_in(S.SENT)
    o.fill("t1", "0.4", "100")  # the fill arrived before the REST ack
    ev = o.ack("V1")
    assert ev is not None and ev.status is S.PARTIALLY_FILLED
    assert o.status is S.PARTIALLY_FILLED and o.venue_order_id == "V1"


def test_late_fill_on_canceled_order_is_counted() -> None:
    o = order_in(S.ACKED)
    o.fill("t1", "0.2", "100")
    o.cancel(reason="user")
    ev = o.fill("t2", "0.3", "100")  # traded just before the cancel took effect
    assert ev is not None and o.status is S.CANCELED and o.filled_qty == Decimal("0.5")


# ---- UNKNOWN ------------------------------------------------------------------------------


def test_unknown_is_not_rejected_without_a_venue_answer() -> None:
    o = order_in(S.UNKNOWN)
    with pytest.raises(OrderStateError, match="resolve"):
        o.reject("we gave up waiting")
    assert o.status is S.UNKNOWN


def test_unknown_resolve_needs_the_same_client_id() -> None:
    o = order_in(S.UNKNOWN)
    other = make_order()
    with pytest.raises(OrderStateError, match="answer is for client id"):
        o.resolve(VenueAnswer(other.client_id, found=False))
    assert o.status is S.UNKNOWN


def test_unknown_resolved_not_found_becomes_rejected() -> None:
    o = order_in(S.UNKNOWN)
    (ev,) = o.resolve(VenueAnswer(o.client_id, found=False, detail="code -2013"))
    assert ev.kind is EventKind.REJECT and o.status is S.REJECTED
    assert o.reason is not None and "not found" in o.reason and "-2013" in o.reason


def test_unknown_resolved_found_open_becomes_acked() -> None:
    o = order_in(S.UNKNOWN)
    (ev,) = o.resolve(VenueAnswer(o.client_id, True, "V7", S.PARTIALLY_FILLED))
    assert ev.kind is EventKind.ACK and o.status is S.ACKED and o.venue_order_id == "V7"
    # the fills come with trade ids afterwards
    assert o.fill("t1", "0.5", "100") is not None and o.status is S.PARTIALLY_FILLED


def test_unknown_resolved_found_canceled() -> None:
    o = order_in(S.UNKNOWN)
    evs = o.resolve(VenueAnswer(o.client_id, True, "V7", S.CANCELED))
    assert [e.kind for e in evs] == [EventKind.ACK, EventKind.CANCEL]
    assert [e.status for e in evs] == [S.ACKED, S.CANCELED]
    assert o.status is S.CANCELED


def test_resolve_refuses_non_answers_and_non_unknown_orders() -> None:
    o = order_in(S.UNKNOWN)
    with pytest.raises(OrderStateError, match="not an answer"):
        o.resolve(VenueAnswer(o.client_id, True, "V7", S.SENT))
    sent = order_in(S.SENT)
    with pytest.raises(OrderStateError, match="only an UNKNOWN"):
        sent.resolve(VenueAnswer(sent.client_id, found=False))


def test_new_found_at_startup_can_become_unknown() -> None:
    o = order_in(S.NEW)
    ev = o.mark_unknown("recovered NEW: the send may have happened")
    assert ev is not None and o.status is S.UNKNOWN


# ---- fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"qty": 0.1}, "qty"),  # float: inexact
        ({"qty": "0"}, "qty"),
        ({"qty": "NaN"}, "qty"),
        ({"price": None}, "price"),  # limit without a price
        ({"order_type": "market"}, "price"),  # market with a price
        ({"client_id": "has-dash"}, "client_id"),
        ({"client_id": "x" * 33}, "client_id"),
        ({"side": "long"}, "side"),
        ({"leg": -1}, "leg"),
        ({"venue": ""}, "venue"),
    ],
)
def test_bad_fields_raise_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = dict(
        client_id="Cabc",
        venue="okx",
        symbol="BTC-USDT",
        side="sell",
        order_type="limit",
        qty="1",
        price="10",
        opportunity_id=1,
        leg=0,
    )
    base.update(kwargs)
    with pytest.raises(OrderFieldError) as info:
        Order(**base)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_fill_values_raise() -> None:
    o = order_in(S.ACKED)
    with pytest.raises(OrderFieldError):
        o.fill("t", 0.5, "100")  # type: ignore[arg-type]
    with pytest.raises(OrderFieldError):
        o.fill("t", "0.5", "100", fee="0.1")  # a fee without its asset
    with pytest.raises(OrderFieldError):
        o.fill("", "0.5", "100")
    assert o.filled_qty == 0


# ---- property: fills ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 15), st.integers(1, 400)),  # (trade id, qty in lots)
        max_size=40,
    )
)
def test_fills_property(stream: list[tuple[int, int]]) -> None:
    """Any stream of fills (duplicates, overfills) leaves filled == sum of accepted <= qty."""
    lot = Decimal("0.001")
    o = order_in(S.ACKED)
    accepted: dict[str, Decimal] = {}
    for tid, lots in stream:
        trade, q = f"t{tid}", lots * lot
        before = copy.deepcopy(asdict(o))
        try:
            ev = o.fill(trade, q, "100")
        except OverfillError:
            assert sum(accepted.values(), Decimal(0)) + q > o.qty
            assert asdict(o) == before
            continue
        except OrderStateError:
            assert trade in accepted and accepted[trade] != q  # same id, other numbers
            assert asdict(o) == before
            continue
        if ev is None:
            assert accepted[trade] == q
        else:
            assert trade not in accepted
            accepted[trade] = q
        total = sum(accepted.values(), Decimal(0))
        assert o.filled_qty == total <= o.qty
        assert o.status is (S.FILLED if total == o.qty else S.PARTIALLY_FILLED)
