"""RiskGate: Order lists through the Cython engine, all-or-nothing, state fed back."""

from decimal import Decimal

from openclaw import OrderBook
from openclaw.model.orders import Order
from openclaw.risk.gate import RiskGate
from openclaw.risk.limits import InstrumentLimits, RiskLimits, VenueLimits, build_engine


def _gate(max_notional: str) -> tuple[RiskGate, OrderBook]:
    book = OrderBook("0.01", "0.0001", 16)
    book.apply_snapshot([("100.00", "5")], [("100.02", "5")])
    book.state = 1                                      # LIVE
    limits = RiskLimits(
        venues=[VenueLimits(name="okx", max_orders=10, interval_ms=1000)],
        instruments=[InstrumentLimits(venue="okx", symbol="ETH-USDT", base="ETH", quote="USDT",
                                      tick_size=Decimal("0.01"), lot_size=Decimal("0.0001"),
                                      max_order_notional=Decimal(max_notional),
                                      collar_bps=Decimal(50), max_book_age_ms=None)])
    engine = build_engine(limits)
    ix = engine.index
    engine.set_balance(ix.venue("okx"), ix.asset("USDT"), ix.to_asset_units("USDT", "10000"))
    engine.set_balance(ix.venue("okx"), ix.asset("ETH"), ix.to_asset_units("ETH", "10"))
    gate = RiskGate(engine, ix, {("okx", "ETH-USDT"): book}, {("okx", "ETH/USDT"): "ETH-USDT"})
    return gate, book


def _order(cid: str, side: str, qty: str, price: str) -> Order:
    return Order(cid, "okx", "ETH/USDT", side, "limit", Decimal(qty), Decimal(price), 1, 0)


def test_list_passes_then_notional_cap_refuses() -> None:
    gate, _ = _gate("150")
    assert gate.check([_order("C1", "buy", "1", "100.02")]) is None
    verdict = gate.check([_order("C2", "buy", "1", "100.02"), _order("C3", "buy", "2", "100.02")])
    assert verdict is not None and "NOTIONAL_EXCEEDS_ORDER_LIMIT" in verdict
    assert "LIST_REJECTED" in verdict                  # the good leg is refused with the list
    assert gate.refused == 1


def test_collar_and_duplicate_id() -> None:
    gate, _ = _gate("100000")
    assert "PRICE_OUTSIDE_COLLAR" in (gate.check([_order("C1", "buy", "1", "101.00")]) or "")
    assert gate.check([_order("C2", "buy", "1", "100.02")]) is None
    assert "DUPLICATE_ORDER_ID" in (gate.check([_order("C2", "buy", "1", "100.02")]) or "")
