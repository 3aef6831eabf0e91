"""The simulated order route of a backtest: each leg reaches its venue after a latency drawn
from the venue's distribution and fills against the recorded book as it stands then.

Implements the ``OrderManager`` route protocol (``send_list``, ``reconcile_unknown``); time is
the backtest's simulated clock (``Clock``), advanced by the engine (``engine.py``), which runs
the due venue arrivals (``due``/``run_due``) between recorded frames.
"""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openclaw._core.book import OrderBook
from openclaw.app.backtest.fill import fill_ioc
from openclaw.model.orders import Order, OrderType, Side

DEPTH = 200          # levels read from the recorded book per leg


@dataclass
class LatencyModel:
    """Per venue, samples of (to the venue, answer back) in µs; a draw picks one sample pair
    (seeded). ``default``: for a venue without samples."""

    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    default: tuple[float, float] = (2000.0, 4000.0)

    def draw(self, rng: random.Random, venue: str) -> tuple[int, int]:
        """(ns to reach the venue, ns until the answer), answer >= arrival."""
        s = self.samples.get(venue)
        to, ack = rng.choice(s) if s else self.default
        return int(to * 1e3), int(max(ack, to) * 1e3)

    @classmethod
    def from_legs(cls, legs: dict[str, dict[str, list[float]]]) -> LatencyModel:
        """From ``latency.json``'s ``legs`` (a recorded run's measured leg latencies)."""
        return cls({v: list(zip(d["to_venue_us"], d["ack_us"], strict=True))
                    for v, d in legs.items() if d.get("to_venue_us")})

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for v, s in self.samples.items():
            to = sorted(x for x, _ in s)
            out[v] = {"n": len(to), "to_venue_p50_us": to[len(to) // 2],
                      "to_venue_max_us": to[-1]}
        return out


@dataclass
class LegOutcome:
    """What happened to one leg at its venue (for the per-arbitrage report)."""

    order: Order
    arrive_ns: int
    fillable: bool            # the whole qty was there at the limit when it landed


class SimRoute:
    """Fills legs against ``books[(venue, 'BASE/QUOTE')]`` at simulated arrival times."""

    def __init__(self, books: dict[tuple[str, str], OrderBook], fees_bps: dict[str, float],
                 latency: LatencyModel, clock: Callable[[], int], seed: int = 0) -> None:
        self.books = books
        self.fees = {v: Decimal(repr(b)) / Decimal(10000) for v, b in fees_bps.items()}
        self.latency = latency
        self.clock = clock
        self.rng = random.Random(seed)
        self.queue: list[tuple[int, int, str, Any]] = []     # (time, seq, kind, payload)
        self._seq = 0
        self.outcomes: list[LegOutcome] = []
        self._trade = 0
        self.units: dict[tuple[str, str], tuple[Decimal, Decimal]] = {
            k: (Decimal(b.tick_size), Decimal(b.lot_size)) for k, b in books.items()}

    # -- the route protocol --------------------------------------------------------------------
    async def send_list(self, orders: list[Order], *,
                        on_first_send: Callable[[], None] | None = None,
                        wait_tokens: bool = False) -> None:
        """Every leg sent now (simulated); returns when every leg is answered."""
        loop = asyncio.get_running_loop()
        now = self.clock()
        futs = []
        for o in orders:
            o.mark_sent(now)
            to, ack = self.latency.draw(self.rng, o.venue)
            fut = loop.create_future()
            self._push(now + to, "arrive", o)
            self._push(now + ack, "answer", (o, fut))
            futs.append(fut)
        if on_first_send is not None:
            on_first_send()
        await asyncio.gather(*futs)

    async def reconcile_unknown(self, orders: list[Order]) -> None:
        """Nothing is ever unknown in a simulation."""

    # -- driven by the engine ------------------------------------------------------------------
    def _push(self, t: int, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (t, self._seq, kind, payload))

    def at(self, t: int, fn: Callable[[], None]) -> None:
        """Call ``fn`` at simulated time ``t`` (the engine's probes)."""
        self._push(t, "call", fn)

    def next_due(self) -> int | None:
        """The time of the next venue event (None: none pending)."""
        return self.queue[0][0] if self.queue else None

    def run_next(self) -> None:
        """Carry out the next venue event (the clock already reads its time)."""
        t, _, kind, payload = heapq.heappop(self.queue)
        if kind == "arrive":
            self._arrive(payload, t)
        elif kind == "call":
            payload()
        else:
            o, fut = payload
            if not fut.done():
                fut.set_result(None)

    def _arrive(self, o: Order, t: int) -> None:
        """Match ``o`` against its book now: IOC (limit) or market, level by level."""
        book = self.books[(o.venue, o.symbol)]
        tick, lot = self.units[(o.venue, o.symbol)]
        buy = o.side is Side.BUY
        bp, bq, ap, aq = book.top_ticks(DEPTH)
        px, qy = (ap, aq) if buy else (bp, bq)
        levels = list(zip(px.tolist(), qy.tolist(), strict=True))
        qty = int(o.qty / lot)
        limit = None if o.order_type is OrderType.MARKET or o.price is None else int(
            o.price / tick)
        fills = fill_ioc(levels, buy, qty, limit)
        self._trade += 1
        o.ack(f"bt{self._trade}", t)
        base, quote = o.symbol.split("/")
        rate = self.fees.get(o.venue, Decimal(0))
        filled = 0
        for k, (p, q) in enumerate(fills):
            price, size = tick * p, lot * q
            fee, asset = (size * rate, base) if buy else (price * size * rate, quote)
            o.fill(f"bt{self._trade}-{k}", size, price, fee, asset, t)
            filled += q
        if not o.is_final:
            o.cancel(t, "IOC remainder" if filled else "IOC: nothing at the limit")
        self.outcomes.append(LegOutcome(o, t, filled >= qty))
