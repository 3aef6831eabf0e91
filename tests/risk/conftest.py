"""A one-instrument risk setup with round numbers, for the fire / does-not-fire tests.

Instrument ``v:XQ`` (base X, quote Q): tick 0.01, lot 0.001, so the Q balance unit is
tick*lot = 1e-5 and the X unit is 1e-3 (both factors 1: a buy of ``q`` lots at ``p`` ticks
needs exactly ``p*q`` Q units). The book is LIVE around 100.00 (mid = 10000 ticks):
bids 99.99 x 5, 99.98 x 5, 99.90 x 100; asks 100.01 x 5, 100.02 x 5, 100.10 x 100.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from openclaw import OrderBook
from openclaw.risk import RiskEngine, RiskLimits, build_engine

T0 = 10**12  # the book's recv_ts
NOW = T0 + 1_000_000  # 1 ms later
MID = 10_000
BIG = 10**15


@dataclass
class Setup:
    engine: RiskEngine
    book: OrderBook
    limits: RiskLimits

    @property
    def ix(self) -> Any:
        return self.engine.index

    def snapshot(self) -> dict[str, Any]:
        """Every piece of state a check may consume."""
        e = self.engine
        return {
            "bal": [e.balance(v, a) for v in range(e.n_venues) for a in range(e.n_assets)],
            "open": [e.open_orders(v) for v in range(e.n_venues)],
            "tokens": [e.tokens(v, NOW) for v in range(e.n_venues)],
            "ids": e.n_open_ids,
            "pos": [e.position(i) for i in range(e.n_instruments)],
        }


def make_setup(
    inst: dict[str, Any] | None = None,
    venue: dict[str, Any] | None = None,
    balances: tuple[int, int] = (BIG, BIG),
    levels: tuple[list[tuple[str, str]], list[tuple[str, str]]] | None = None,
    **top: Any,
) -> Setup:
    spec = {
        "venue": "v",
        "symbol": "XQ",
        "base": "X",
        "quote": "Q",
        "tick_size": "0.01",
        "lot_size": "0.001",
        "max_book_age_ms": None,
    }
    spec.update(inst or {})
    limits = RiskLimits.model_validate(
        {"venues": [{"name": "v", **(venue or {})}], "instruments": [spec], **top}
    )
    engine = build_engine(limits)
    book = OrderBook(tick_size=spec["tick_size"], lot_size=spec["lot_size"], capacity=64)
    bids, asks = levels or (
        [("99.99", "5"), ("99.98", "5"), ("99.90", "100")],
        [("100.01", "5"), ("100.02", "5"), ("100.10", "100")],
    )
    book.apply_snapshot(bids, asks, recv_ts=T0)
    book.state = 1  # LIVE
    engine.bind_book(0, book)
    ix = engine.index
    engine.set_balance(0, ix.asset("X"), balances[0])
    engine.set_balance(0, ix.asset("Q"), balances[1])
    return Setup(engine, book, limits)


@pytest.fixture
def setup() -> Callable[..., Setup]:
    return make_setup
