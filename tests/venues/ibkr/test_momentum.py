"""Momentum rebalances through IbkrSession against the TWS simulator (real ib_async)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from support.ibkr import run, wait_until

from openclaw.app.ibkr import run_momentum
from openclaw.execution.manager import OrderManager
from openclaw.feeds.bar_cache import BarCache
from openclaw.journal import Journal, RunStatus
from openclaw.model.orders import Order, OrderStatus
from openclaw.schedule import run_order_prefix
from openclaw.sim import tws  # a broken simulator must fail, not skip
from openclaw.strategies.momentum import MomentumConfig, plan_from_closes
from openclaw.venues.ibkr.pacing import Backoff, HistoricalLimits
from openclaw.venues.ibkr.route import IbkrRoute
from openclaw.venues.ibkr.session import IbkrSession


async def _setup(tmp: Path, universe: int = 60, cache: bool = True) -> tuple:
    sim = await tws.start_tws(seed=5, port=0, account="DU1112223", cash=1_000_000.0,
                              universe_size=universe, hist_pacing_limit=100_000)
    journal = await Journal.open(tmp / "journal.sqlite", synchronous="NORMAL")
    session = _session(sim, journal, tmp if cache else None)
    await session.start()
    return sim, journal, session


def _session(sim, journal: Journal, tmp: Path | None) -> IbkrSession:  # noqa: ANN001
    return IbkrSession(sim.host, sim.port, 21, journal, simulator=True, max_messages_per_s=0,
                       reconnect=Backoff(base_s=0.05, cap_s=0.5),
                       hist_limits=HistoricalLimits(max_requests=100_000, identical_s=0.0,
                                                    per_contract=100),
                       bar_cache=BarCache(tmp / "bars") if tmp else None)


def _cfg(sim, top: int = 30) -> MomentumConfig:  # noqa: ANN001
    return MomentumConfig(universe=sim.universe, top_n=top, max_orders_per_s=200)


async def _teardown(sim, journal: Journal, *sessions: IbkrSession) -> None:  # noqa: ANN001
    for s in sessions:
        await s.close()
    await journal.close()
    await sim.aclose()


def _no_duplicate_refs(sim) -> Counter:  # noqa: ANN001
    refs = Counter(o.order_ref for o in sim.orders())
    assert all(n == 1 for n in refs.values()), [r for r, n in refs.items() if n > 1]
    return refs


def test_dry_run_plans_without_sending(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _setup(tmp_path)
        try:
            seen: list[int] = []
            s = await run_momentum(session, journal, _cfg(sim), run_id="dry-1", execute=False,
                                   progress=lambda d, t, sym: seen.append(d))
            assert s["dry_run"] and s["orders"] == 30 and s["sent"] == 0
            assert s["universe"] == 60 and s["scan_ms"] > 0 and seen[-1] == 60
            assert sim.order_log == [] and await journal.orders_by_prefix(
                run_order_prefix("dry-1")) == []
            assert await journal.run("dry-1") is None
            # a second scan reads the cache: no historical request goes out
            before = session.stats.hist_requests
            await run_momentum(session, journal, _cfg(sim), run_id="dry-2", execute=False)
            assert session.stats.hist_requests == before
        finally:
            await _teardown(sim, journal, session)

    run(body)


def test_full_30_stock_rebalance_reaches_targets(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _setup(tmp_path)
        try:
            held = sim.universe[-3:]  # positions the plan will probably sell
            sim.set_positions({s: 50 for s in held})
            await wait_until(lambda: set(session.positions()) == set(held))
            s = await run_momentum(session, journal, _cfg(sim), run_id="momentum-t1",
                                   execute=True)
            assert s["positions_match_target"], s["mismatches"]
            assert s["filled"] == s["orders"] == s["sent"] >= 30
            assert s["rebalance_ms"] > 0 and s["denied"] == []
            truth = sim.positions()
            assert {k: int(v) for k, v in truth.items()} == {
                k: v for k, v in s["targets"].items() if v}
            assert len([v for v in s["targets"].values() if v]) == 30
            refs = _no_duplicate_refs(sim)
            assert len(refs) == s["orders"]
            assert await journal.consistency_check() == []
            rec = await journal.run("momentum-t1")
            assert rec is not None and rec.status is RunStatus.SUCCEEDED
        finally:
            await _teardown(sim, journal, session)

    run(body)


def test_crash_mid_rebalance_sends_only_missing_orders(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, s1 = await _setup(tmp_path)
        run_id = "momentum-crash"
        try:
            cfg = _cfg(sim)
            # attempt 1: claim with a lease that expires at once, plan, send half, crash
            await journal.claim_run(run_id, "momentum_manual", "crashed-owner",
                                    now_ns=time.time_ns(), lease_ns=1)
            from openclaw.app.ibkr import IbkrMomentumBroker

            snap = await IbkrMomentumBroker(s1).account_snapshot()
            m = await s1.daily_closes(cfg.universe, cfg.lookback_days + 1)
            plan = plan_from_closes(run_id, cfg, m, snap)
            await journal.record_run_plan(run_id, plan.to_json())
            half = plan.orders[: len(plan.orders) // 2]
            for po in half[:-1]:
                await s1.submit(Order(po.client_id, "ibkr", po.symbol, po.side, "limit",
                                      po.qty, po.limit_price, 0, 0))
            last = half[-1]  # journaled, then the crash comes before the send
            await journal.record_new(Order(last.client_id, "ibkr", last.symbol, last.side,
                                           "limit", last.qty, last.limit_price, 0, 0))
            s1._closing = True  # crash: no waiting, no close
            s1.ib.disconnect()
            await wait_until(lambda: not sim.client_ids(), timeout=5)
            at_crash = {o.order_ref for o in sim.orders()}
            lost = [po for po in half if po.client_id not in at_crash]
            assert last in lost and len(at_crash) == len(half) - len(lost)
            # attempt 2: a new session (same clientId) and the same run id
            s2 = _session(sim, journal, tmp_path)
            rep = await s2.start()
            assert rep.loaded <= len(half)
            try:
                s = await run_momentum(s2, journal, cfg, run_id=run_id, execute=True)
                assert s["plan"] == "journaled (rerun)" and s["attempt"] == 2
                assert s["already_sent"] == len(half) - len(lost)
                assert len(s["retried_lost"]) == len(lost)
                assert s["sent"] == len(plan.orders) - len(half) + len(lost)
                assert s["filled"] == len(plan.orders)
                assert s["positions_match_target"], s["mismatches"]
                refs = _no_duplicate_refs(sim)
                final_ids = [po.client_id for po in plan.orders if po not in lost]
                assert sorted(refs) == sorted(final_ids + s["retried_lost"])
                assert len(sim.order_log) == len(plan.orders)  # one placeOrder per order
                assert await journal.consistency_check() == []
                for cid in final_ids + s["retried_lost"]:
                    o = await journal.order(cid)
                    assert o is not None and o.status is OrderStatus.FILLED
                for po in lost:  # the lost ones: journaled, resolved as never arrived
                    o = await journal.order(po.client_id)
                    assert o is not None and o.status is OrderStatus.REJECTED
            finally:
                await s2.close()
        finally:
            await journal.close()
            await sim.aclose()

    run(body)


def test_rerun_of_finished_run_is_refused(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _setup(tmp_path, universe=40)
        try:
            from openclaw.app.ibkr import MomentumRunError

            await run_momentum(session, journal, _cfg(sim, top=5), run_id="r-once",
                               execute=True)
            n = len(sim.order_log)
            with pytest.raises(MomentumRunError):
                await run_momentum(session, journal, _cfg(sim, top=5), run_id="r-once",
                                   execute=True)
            await session.fetch_positions()  # a round trip: any order sent has arrived
            assert len(sim.order_log) == n
        finally:
            await _teardown(sim, journal, session)

    run(body)


def test_scheduled_run_through_the_session(tmp_path: Path) -> None:
    """The scheduler's job (``MomentumStrategy.run``) with the session as bars, account and
    order sender: the slot executes once, its orders fill, a second poll does nothing."""

    async def body() -> None:
        from datetime import datetime, timedelta
        from datetime import time as dtime
        from zoneinfo import ZoneInfo

        from openclaw.app.ibkr import IbkrMomentumBroker
        from openclaw.schedule import Scheduler, WeeklySchedule
        from openclaw.strategies.momentum import MomentumStrategy

        sim, journal, session = await _setup(tmp_path, universe=40)
        try:
            schedule = WeeklySchedule(0, dtime(9, 45))
            slot = schedule.next_slot(datetime.now(ZoneInfo("America/New_York")))

            class Clock:
                def now(self) -> datetime:
                    return slot.at + timedelta(minutes=1)

                async def sleep(self, seconds: float) -> None:
                    await asyncio.sleep(min(seconds, 0.01))

            broker = IbkrMomentumBroker(session)
            job = MomentumStrategy(_cfg(sim, top=8), session, broker,
                                   OrderManager(IbkrRoute(session, order_timeout=20))).run
            sched = Scheduler(journal, schedule, job, clock=Clock())
            first = await sched.poll()
            assert [o.status for o in first.outcomes] == [RunStatus.SUCCEEDED], first.outcomes
            assert len(sim.order_log) == 8
            assert len([q for q in sim.positions().values() if q]) == 8
            again = await sched.poll()
            assert again.outcomes == [] and len(sim.order_log) == 8
            _no_duplicate_refs(sim)
        finally:
            await _teardown(sim, journal, session)

    run(body)
