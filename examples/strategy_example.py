"""A strategy written only against openclaw's public API (``openclaw.Session``).

Cross-venue taker arbitrage on one pair: when one venue's best bid is above another venue's
best ask by more than both taker fees plus ``--edge-bps``, buy the ask and sell the bid at once
(two IOC limits at those prices, one order list: risk-checked as a whole, journaled, sent
together). Sizes are the smaller of the two top levels, capped, on both venues' lot grids.

    python examples/strategy_example.py examples/cross_venue.toml --seconds 20

Against the simulators the venues rarely cross by themselves; ``openclaw-trading sim`` control
(``POST /_sim/dislocate``) or a test moves one venue's price. For real venues, set the venues to
``mode = "live"`` in the config (and start with ``--paper`` to send the orders to the local
simulators while reading the real feeds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import ROUND_DOWN, Decimal
from typing import Any

from openclaw import BookChange, OrderRefused, Session


class CrossVenue:
    """Watches every book of ``pair``; sends one buy/sell list when two venues cross."""

    def __init__(self, session: Session, pair: str, edge_bps: float, max_qty: Decimal) -> None:
        self.s = session
        self.pair = pair
        self.max_qty = max_qty
        self.insts = [i for i in session.instruments if f"{i.base}/{i.quote}" == pair]
        if len(self.insts) < 2:
            raise ValueError(f"{pair}: need books on two venues, have {len(self.insts)}")
        fees: dict[str, float] = {v: c.taker_fee_bps for v, c in session.config.venues.items()}
        self.need = {(a.venue, b.venue): (fees[a.venue] + fees[b.venue] + edge_bps) / 1e4
                     for a in self.insts for b in self.insts if a is not b}
        self.in_flight = False
        self.traded_at: dict[tuple[str, str], tuple[int, int]] = {}
        self.lists = 0
        self.refused = 0
        self.filled_legs = 0
        self.changes = 0

    def on_change(self, change: BookChange) -> None:
        """Book callback: find the best crossing pair of venues; send at most one list at a
        time (the next change after it completes may send again)."""
        self.changes += 1
        if self.in_flight or change.instrument not in self.insts:
            return
        best: tuple[float, Any, Any, tuple[float, float], tuple[float, float]] | None = None
        for buy in self.insts:
            ask = self.s.book(buy.venue, buy.symbol, buy.category).best_ask()
            if ask is None:
                continue
            for sell in self.insts:
                if sell is buy:
                    continue
                bid = self.s.book(sell.venue, sell.symbol, sell.category).best_bid()
                if bid is None:
                    continue
                edge = bid[0] / ask[0] - 1
                # after trading a pair of books, both must show a new update (the liquidity we
                # took is still in them until the venues publish)
                if self.traded_at.get((buy.venue, sell.venue)) == self._updates(buy, sell):
                    continue
                if edge > self.need[(buy.venue, sell.venue)] and (best is None or edge > best[0]):
                    best = (edge, buy, sell, ask, bid)
        if best is None:
            return
        self.s.mark_signal(change.event)
        _, buy, sell, ask, bid = best
        lot = max(Decimal(buy.lot_size), Decimal(sell.lot_size))
        qty = min(Decimal(repr(min(ask[1], bid[1]))), self.max_qty)
        qty = (qty / lot).to_integral_value(ROUND_DOWN) * lot
        if qty <= 0:
            return
        orders = self.s.order_list([
            (buy.venue, self.pair, "buy", qty, _on_tick(ask[0], buy.tick_size)),
            (sell.venue, self.pair, "sell", qty, _on_tick(bid[0], sell.tick_size)),
        ])
        try:
            task = self.s.submit_nowait(orders, change.event)
        except OrderRefused:
            self.refused += 1
            return
        self.in_flight = True
        self.traded_at[(buy.venue, sell.venue)] = self._updates(buy, sell)
        self.lists += 1
        task.add_done_callback(self._done)

    def _updates(self, a: Any, b: Any) -> tuple[int, int]:
        return (self.s.book(a.venue, a.symbol, a.category).updates,
                self.s.book(b.venue, b.symbol, b.category).updates)

    def _done(self, task: asyncio.Task[list[Any]]) -> None:
        self.in_flight = False
        if not task.cancelled() and task.exception() is None:
            self.filled_legs += sum(o.filled_qty > 0 for o in task.result())


def _on_tick(price: float, tick: str) -> Decimal:
    """A book price (float of a tick multiple) back to its exact decimal."""
    return Decimal(repr(price)).quantize(Decimal(tick))


async def main(config: str, seconds: float, pair: str = "BTC/USDT", edge_bps: float = 5.0,
               max_qty: str = "0.01", paper: bool = False) -> dict[str, Any]:
    """Run the strategy for ``seconds``; returns the session's closing summary plus the
    strategy's counters and the latency report."""
    session = await Session.start(config, paper=paper)
    try:
        strat = CrossVenue(session, pair, edge_bps, Decimal(max_qty))
        session.subscribe(strat.on_change)
        await asyncio.sleep(seconds)
    finally:
        summary = await session.close()
    summary.update(changes=strat.changes, lists=strat.lists, refused=strat.refused,
                   filled_legs=strat.filled_legs, latency=session.latency_report(worst=0))
    return summary


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--pair", default="BTC/USDT")
    ap.add_argument("--edge-bps", type=float, default=5.0)
    ap.add_argument("--max-qty", default="0.01")
    ap.add_argument("--paper", action="store_true")
    a = ap.parse_args()
    out = asyncio.run(main(a.config, a.seconds, a.pair, a.edge_bps, a.max_qty, a.paper))
    print(json.dumps(out, default=str))
    sys.exit(0 if out["ok"] else 1)
