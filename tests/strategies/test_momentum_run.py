"""The momentum job under the scheduler: risk on every order, sells then buys, crash resume."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from support.aio import deadline

from openclaw.execution.manager import OrderManager
from openclaw.feeds.bar_cache import BarCache, CachedBars, DailyBars
from openclaw.journal import Journal, RunStatus
from openclaw.model.orders import Order, OrderStatus, Side
from openclaw.schedule import Scheduler, WeeklySchedule, run_order_prefix
from openclaw.strategies.momentum import (
    AccountSnapshot,
    MomentumConfig,
    MomentumStrategy,
    RebalancePlan,
)

NY = ZoneInfo("America/New_York")
SYMS = [f"S{i:02d}" for i in range(12)]
D0 = np.datetime64("2025-10-01")


run = deadline(30.0)


class FakeClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float) -> None:
        end = self.t + timedelta(seconds=seconds)
        while self.t < end:  # only the test moves the time
            await asyncio.sleep(0.002)


class Fetcher:
    def __init__(self) -> None:
        rng = np.random.default_rng(11)
        self.calls = 0
        drift = np.linspace(-0.002, 0.003, len(SYMS))  # S11 has the best momentum
        self.h = {
            s: DailyBars(s, D0 + np.arange(300),
                         50 * np.exp(np.cumsum(drift[i] + rng.normal(0, 0.004, 300))))
            for i, s in enumerate(SYMS)
        }

    async def fetch_daily_bars(self, symbol: str, days: int) -> DailyBars:
        self.calls += 1
        b = self.h[symbol]
        return DailyBars(symbol, b.dates[-days:], b.closes[-days:])


class Broker:
    """Account + order sender over the journal, as the IBKR session does it (journal first)."""

    def __init__(self, journal: Journal, cash: float, positions: dict[str, int],
                 prices: dict[str, float]) -> None:
        self.journal = journal
        self.cash = cash
        self.positions = dict(positions)
        self.prices = prices
        self.submitted: list[str] = []
        self.hang_on: str | None = None
        self.hanging = asyncio.Event()
        self.unfilled_sells = False

    async def account_snapshot(self) -> AccountSnapshot:
        nlv = self.cash + sum(q * self.prices[s] for s, q in self.positions.items())
        return AccountSnapshot(nlv, self.cash, dict(self.positions),
                               {s: self.prices[s] for s in self.positions})

    async def send_list(self, orders: list[Order], *, on_first_send: object = None,
                        wait_tokens: bool = False) -> None:
        """The order route: journal first, then the venue's answers, as the IBKR route does."""
        await asyncio.gather(*(self._one(o) for o in orders))

    async def reconcile_unknown(self, orders: list[Order]) -> None:
        return None

    async def _one(self, order: Order) -> None:
        key = f"{order.symbol}:{order.side.value}"
        if key == self.hang_on:
            self.hanging.set()
            await asyncio.Event().wait()
        await self.journal.record_new(order)
        self.submitted.append(key)
        await self.journal.record_event(order, order.mark_sent(), order.ack(f"v{order.client_id}"))
        await asyncio.sleep(0.002)
        if order.side is Side.SELL and self.unfilled_sells:
            await self.journal.record_event(order, order.cancel(reason="expired"))
            return
        px = Decimal(str(round(self.prices[order.symbol], 2)))
        qty = int(order.qty)
        await self.journal.record_event(order, order.fill(f"t{order.client_id}", qty, px))
        sign = 1 if order.side is Side.BUY else -1
        self.positions[order.symbol] = self.positions.get(order.symbol, 0) + sign * qty
        self.cash -= sign * qty * float(px)


def _setup(tmp_path: Path, journal: Journal, **cfg: object
           ) -> tuple[MomentumStrategy, Broker, Fetcher]:
    fetcher = Fetcher()
    prices = {s: float(fetcher.h[s].closes[-1]) for s in SYMS}
    broker = Broker(journal, 20_000.0, {"S00": 100, "S01": 50}, prices)
    bars = CachedBars(BarCache(tmp_path / "bars"), fetcher,
                      through=lambda: fetcher.h["S00"].last_date)
    config = MomentumConfig(universe=SYMS, top_n=4, **cfg)
    return MomentumStrategy(config, bars, broker, OrderManager(broker)), broker, fetcher


SCHED = WeeklySchedule(0, time(15, 45))
T0 = datetime(2026, 11, 23, 15, 45, tzinfo=NY)


def test_rebalance_runs_sells_then_buys_and_lands_on_targets(tmp_path: Path) -> None:
    async def body() -> None:
        async with await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL") as j:
            strat, broker, _ = _setup(tmp_path, j)
            r = await Scheduler(j, SCHED, strat.run, clock=FakeClock(T0)).poll()
            assert [o.action for o in r.outcomes] == ["executed"], r
            plan = RebalancePlan.from_json(await j.run_plan("momentum-2026-11-23"))
            assert [s for s, _ in plan.picks] == ["S11", "S10", "S09", "S08"]
            keys = broker.submitted
            assert keys[:2] == ["S00:sell", "S01:sell"]
            assert sorted(keys[2:]) == ["S08:buy", "S09:buy", "S10:buy", "S11:buy"]
            assert {s: q for s, q in broker.positions.items() if q} == plan.targets
            assert broker.cash >= 0
            rec = await j.run("momentum-2026-11-23")
            assert rec.status is RunStatus.SUCCEEDED
            assert "sent=6 (filled=6) denied=0 already_sent=0" in rec.detail

    run(body)


def test_crash_in_the_buy_phase_rerun_sends_only_the_missing_order(tmp_path: Path) -> None:
    async def body() -> None:
        path = tmp_path / "j.sqlite"
        clock = FakeClock(T0)
        j1 = await Journal.open(path, synchronous="NORMAL")
        strat, broker, fetcher = _setup(tmp_path, j1)
        broker.hang_on = "S09:buy"
        task = asyncio.ensure_future(
            Scheduler(j1, SCHED, strat.run, clock=clock, owner="p1").poll())
        await asyncio.wait_for(broker.hanging.wait(), 10)
        await asyncio.sleep(0.1)  # the other buys finish
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await j1.close()
        assert sorted(broker.submitted) == ["S00:sell", "S01:sell", "S08:buy", "S10:buy",
                                            "S11:buy"]
        fetched = fetcher.calls

        # the process restarts after the dead owner's lease; same broker account state
        clock.t = T0 + timedelta(minutes=10)
        async with await Journal.open(path, synchronous="NORMAL") as j2:
            broker.journal = j2
            broker.hang_on = None
            broker.submitted.clear()
            r = await Scheduler(j2, SCHED, strat.run, clock=clock, owner="p2").poll()
            assert [o.action for o in r.outcomes] == ["resumed"]
            assert broker.submitted == ["S09:buy"]
            assert fetcher.calls == fetched  # the journaled plan was reused, not recomputed
            plan = RebalancePlan.from_json(await j2.run_plan("momentum-2026-11-23"))
            assert {s: q for s, q in broker.positions.items() if q} == plan.targets
            orders = await j2.orders_by_prefix(run_order_prefix("momentum-2026-11-23"))
            assert len(orders) == 6 and all(o.status is OrderStatus.FILLED for o in orders)
            rec = await j2.run("momentum-2026-11-23")
            assert rec.status is RunStatus.SUCCEEDED and "already_sent=5" in rec.detail

    run(body)


def test_risk_denies_orders_over_the_notional_limit(tmp_path: Path) -> None:
    async def body() -> None:
        async with await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL") as j:
            strat, broker, _ = _setup(tmp_path, j, max_order_notional=Decimal(3000))
            snap = await broker.account_snapshot()
            from openclaw.strategies.momentum import plan_rebalance

            plan = await plan_rebalance("momentum-2026-11-23", strat.config, strat.bars, snap)
            rep = await strat.execute(plan)
            big = {o.key for o in plan.orders if float(o.limit_price) * o.qty > 3000}
            assert big and {o.key for o, _ in rep.denied} == big
            assert {v.reason for _, v in rep.denied} == {"NOTIONAL_EXCEEDS_ORDER_LIMIT"}
            assert not big & set(broker.submitted)
            assert len(broker.submitted) == len(plan.orders) - len(big)

    run(body)


def test_buys_are_held_to_the_real_cash_after_the_sells(tmp_path: Path) -> None:
    async def body() -> None:
        async with await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL") as j:
            strat, broker, _ = _setup(tmp_path, j)
            broker.unfilled_sells = True  # sells expire: no proceeds
            snap = await broker.account_snapshot()
            from openclaw.strategies.momentum import plan_rebalance

            plan = await plan_rebalance("momentum-2026-11-23", strat.config, strat.bars, snap)
            rep = await strat.execute(plan)
            assert rep.trimmed  # the plan counted on the proceeds
            spent = sum(o.filled_qty * float(o.avg_price) for o in rep.outcomes
                        if o.side is Side.BUY)
            assert spent <= 20_000.0
            assert broker.cash >= 0

    run(body)
