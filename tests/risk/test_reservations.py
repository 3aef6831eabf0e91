"""Risk balances follow reality: free = venue balance - reservations still open, whatever happens.

Random outcome sequences (fills with price improvement and fees, partial fills, rejects, cancels,
UNKNOWN orders resolved either way, repeated reports of the same order, venue refreshes, stale
refreshes) go through ``RiskGate`` with real ``Order`` objects; a plain model of the venue's
balances and of the open orders' reservations (limit x remaining quantity of the quote for a
buy, the remaining quantity for a sell) is kept beside it, and after every step the engine's free
balance of each asset must equal the model's venue balance less the model's open reservations,
exactly (asset units).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from openclaw import OrderBook
from openclaw.model.orders import Order, OrderStatus, VenueAnswer
from openclaw.risk.gate import RiskGate
from openclaw.risk.limits import InstrumentLimits, RiskLimits, VenueLimits, build_engine

TICK, LOT = Decimal("0.01"), Decimal("0.0001")
START = {"USDT": Decimal("2000"), "ETH": Decimal("5")}


def _gate() -> RiskGate:
    book = OrderBook(str(TICK), str(LOT), 16)
    book.apply_snapshot([("100.00", "50")], [("100.02", "50")])
    book.state = 1                                      # LIVE
    limits = RiskLimits(
        venues=[VenueLimits(name="okx", max_orders=10_000, interval_ms=1000)],
        instruments=[InstrumentLimits(venue="okx", symbol="ETH-USDT", base="ETH", quote="USDT",
                                      tick_size=TICK, lot_size=LOT, collar_bps=Decimal(100),
                                      max_book_age_ms=None)])
    engine = build_engine(limits)
    ix = engine.index
    for asset, amount in START.items():
        engine.set_balance(ix.venue("okx"), ix.asset(asset), ix.to_asset_units(asset, amount))
    return RiskGate(engine, ix, {("okx", "ETH-USDT"): book}, {("okx", "ETH/USDT"): "ETH-USDT"})


class Model:
    """The venue's balances (start + fills - fees) and our open orders' reservations."""

    def __init__(self) -> None:
        self.venue = dict(START)
        self.open: dict[str, Order] = {}

    def reserved(self, asset: str) -> Decimal:
        total = Decimal(0)
        for o in self.open.values():
            left = o.qty - o.filled_qty
            if o.side.value == "buy" and asset == "USDT":
                total += left * o.price  # type: ignore[operator]
            elif o.side.value == "sell" and asset == "ETH":
                total += left
        return total

    def fill(self, o: Order, qty: Decimal, price: Decimal, fee: Decimal, fee_asset: str) -> None:
        sign = 1 if o.side.value == "buy" else -1
        self.venue["ETH"] += sign * qty
        self.venue["USDT"] -= sign * qty * price
        self.venue[fee_asset] -= fee


OPS = st.lists(st.tuples(
    st.sampled_from(["new", "new", "fill", "fill", "final", "unknown", "resolve", "repeat",
                     "refresh", "stale_refresh"]),
    st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6)), min_size=5, max_size=60)


@settings(max_examples=150, deadline=None)
@given(ops=OPS)
def test_free_balance_is_venue_balance_minus_open_reservations(ops: list) -> None:
    gate = _gate()
    ix, e = gate.index, gate.engine
    v = ix.venue("okx")
    m = Model()
    n = 0
    unknown: dict[str, Order] = {}
    for op, a, b, c in ops:
        live = [o for o in m.open.values() if o.status is not OrderStatus.UNKNOWN]
        if op == "new":
            n += 1
            side = "buy" if a % 2 else "sell"
            qty = LOT * (1 + a % 40_000)                       # up to 4 ETH: may be refused
            price = Decimal("100.01") + TICK * (b % 41 - 20)
            o = Order(f"C{n}", "okx", "ETH/USDT", side, "limit", qty, price, n, 0)
            if gate.check([o]) is not None:
                continue                                      # refused: nothing reserved
            m.open[o.client_id] = o
            o.mark_sent()
            if c % 5 == 0:
                o.reject("venue said no")
            elif c % 5 == 1:
                o.mark_unknown("timeout")
                unknown[o.client_id] = o
            else:
                o.ack(f"V{n}")
        elif op == "fill" and live:
            o = live[a % len(live)]
            if o.is_final:
                continue
            left = (o.qty - o.filled_qty) / LOT
            qty = LOT * (1 + b % int(left))
            improve = TICK * (c % 7)
            price = o.price - improve if o.side.value == "buy" else o.price + improve
            fee_asset = "USDT" if c % 2 else "ETH"
            fee = (Decimal("0.000001") if fee_asset == "USDT" else LOT) * (c % 3)
            o.fill(f"T{o.client_id}-{o.filled_qty + qty}", qty, price, fee, fee_asset)
            m.fill(o, qty, price, fee, fee_asset)
        elif op == "final" and live:
            o = live[a % len(live)]
            if not o.is_final:
                o.cancel(reason="IOC remainder expired")
        elif op == "resolve" and unknown:
            o = unknown.pop(sorted(unknown)[a % len(unknown)])
            if b % 2:
                o.resolve(VenueAnswer(o.client_id, False, detail="never placed"))
            else:
                o.resolve(VenueAnswer(o.client_id, True, f"V{o.client_id}", OrderStatus.ACKED))
        elif op == "repeat" and m.open:
            pass                                              # every order is reported again
        elif op == "refresh":
            gate.refresh_balances("okx", dict(m.venue), gate.balance_epoch("okx"))
        elif op == "stale_refresh" and m.open:
            # balances read before a fill reached the engine must not overwrite it
            epoch = gate.balance_epoch("okx")
            o = next(iter(m.open.values()))
            gate._epoch["okx"] += 1 if not o.is_final else 0
            applied = gate.refresh_balances("okx", {"USDT": Decimal(0), "ETH": Decimal(0)}, epoch)
            assert not applied
        for o in list(m.open.values()):
            gate.on_order_update(o)
            if op == "repeat":
                gate.on_order_update(o)                      # idempotent
            if o.is_final:
                del m.open[o.client_id]
        for asset in ("USDT", "ETH"):
            a_ix = ix.asset(asset)
            want = ix.to_asset_units(asset, m.venue[asset] - m.reserved(asset))
            assert e.balance(v, a_ix) == want, (asset, op, m.venue, m.reserved(asset))
            assert e.reserved(v, a_ix) == ix.to_asset_units(asset, m.reserved(asset)), asset
    assert e.open_orders(v) == len(m.open)


def test_refresh_waits_for_open_orders_and_then_takes_the_venue() -> None:
    gate = _gate()
    ix, e = gate.index, gate.engine
    o = Order("C1", "okx", "ETH/USDT", "buy", "limit", Decimal("1"), Decimal("100.02"), 1, 0)
    assert gate.check([o]) is None
    usdt = ix.asset("USDT")
    assert e.reserved(0, usdt) == ix.to_asset_units("USDT", "100.02")
    assert e.order_reservation(1) == e.reserved(0, usdt)       # the gate's first engine id
    assert not gate.refresh_balances("okx", {"USDT": Decimal("1500"), "ETH": Decimal("5")})
    assert gate.refresh_skipped == 1
    o.mark_sent()
    o.ack("V1")
    o.fill("T1", Decimal("0.4"), Decimal("100.00"), Decimal("0.000002"), "USDT")
    o.cancel(reason="expired")
    gate.on_order_update(o)
    # spent 40.000002 of 2000; the unfilled 0.6 and the 0.02 improvement on 0.4 came back
    assert e.balance(0, usdt) == ix.to_asset_units("USDT", "1959.999998")
    assert e.reserved(0, usdt) == 0 and e.order_reservation(1) == -1    # closed
    assert gate.refresh_balances("okx", {"USDT": Decimal("1500"), "ETH": Decimal("7")})
    assert e.balance(0, usdt) == ix.to_asset_units("USDT", "1500")
    assert e.balance(0, ix.asset("ETH")) == ix.to_asset_units("ETH", "7")
