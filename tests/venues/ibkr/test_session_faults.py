"""IbkrSession when things go wrong: refused executions, a failing resync, orders the gateway
does not know, a lost run lease, missing cash (TWS simulator, real ib_async, loopback)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from support.ibkr import order, run, wait_until

from openclaw.journal import Journal, RunStatus
from openclaw.model.orders import OrderStatus
from openclaw.sim import tws
from openclaw.venues.ibkr.pacing import Backoff
from openclaw.venues.ibkr.session import ANOMALY_RUN_NAME, IbkrError, IbkrSession

ACCOUNT = "DU7654321"


class RecordingAlerter:
    """Collects what the session alerts (the interface of ``openclaw.alerts.Alerter``)."""

    def __init__(self) -> None:
        self.halts: list[str] = []
        self.other: list[tuple[str, tuple[Any, ...]]] = []

    def halt(self, reason: str) -> bool:
        self.halts.append(reason)
        return True

    def disconnect(self, venue: str, detail: str) -> bool:
        self.other.append(("disconnect", (venue, detail)))
        return True

    def fill(self, *args: Any) -> bool:
        self.other.append(("fill", args))
        return True


def _session(sim: Any, journal: Journal, alerter: RecordingAlerter | None = None,
             client_id: int = 31) -> IbkrSession:
    return IbkrSession(sim.host, sim.port, client_id, journal, simulator=True,
                       max_messages_per_s=0, reconnect=Backoff(base_s=0.05, cap_s=0.3),
                       alerter=alerter)


async def _start(tmp: Path, alerter: RecordingAlerter | None = None) -> tuple:
    sim = await tws.start_tws(seed=3, port=0, account=ACCOUNT, cash=1_000_000.0,
                              universe_size=20)
    journal = await Journal.open(tmp / "journal.sqlite", synchronous="NORMAL")
    session = _session(sim, journal, alerter)
    await session.start()
    return sim, journal, session


def _rest_price(sim: Any, symbol: str) -> str:
    bid, _, _ = sim.quote(symbol)
    return f"{bid * 0.8:.2f}"  # a buy far below the market: rests until the test fills it


def test_refused_execution_is_journaled_alerted_and_halts(tmp_path: Path) -> None:
    """An execution the state machine refuses (here: an overfill, as an execution correction
    under a new execId would cause) is not dropped: journaled raw, HIGH alert, halt, surfaced
    at the next resync and by the next start-up."""

    async def body() -> None:
        alerter = RecordingAlerter()
        sim, journal, session = await _start(tmp_path, alerter)
        try:
            sym = sim.universe[0]
            rest = order(sym, "buy", 7, _rest_price(sim, sym))
            await session.submit(rest)
            await wait_until(lambda: rest.status is OrderStatus.ACKED)
            # the order is already filled here (a correction counted under another id)...
            t = session._tracked[rest.client_id]
            session._apply(t, rest.fill("correction-1", 7, rest.price))
            # ...and the gateway's execution of the same shares arrives: an overfill
            assert sim.fill_resting(sym) == 1
            await wait_until(lambda: bool(session.anomalies), timeout=15)
            [(exec_id, raw)] = session.anomalies.items()
            assert raw["client_id"] == rest.client_id and raw["shares"] in ("7", "7.0")
            assert "past qty" in raw["error"]
            assert session.halted is not None and alerter.halts
            with pytest.raises(IbkrError, match="halted"):
                await session.submit(order(sym, "buy", 1))
            runs = await journal.runs(RunStatus.FAILED)
            mine = [r for r in runs if r.name == ANOMALY_RUN_NAME]
            assert len(mine) == 1 and json.loads(mine[0].detail)["exec_id"] == exec_id
            # the next resync (after a drop) replays the execution: not journaled twice,
            # alerted again
            before = len(alerter.halts)
            sim.inject_fault("drop")
            await wait_until(lambda: session.stats.reconnects >= 1 and session.connected,
                             timeout=20)
            assert len(alerter.halts) > before
            assert len([r for r in await journal.runs() if r.name == ANOMALY_RUN_NAME]) == 1
            session.resume()
            assert session.halted is None
        finally:
            await session.close()
        # a new process reports it at start-up
        s2 = _session(sim, journal, client_id=32)
        try:
            report = await s2.start()
            assert [a["exec_id"] for a in report.anomalies] == [exec_id]
        finally:
            await s2.close()
            await journal.close()
            await sim.aclose()

    run(body)


def test_reconnect_survives_an_unexpected_error(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """A bug in the resync (any exception) is logged with its traceback and alerted, and the
    session keeps retrying until it is connected again."""

    async def body() -> None:
        alerter = RecordingAlerter()
        sim, journal, session = await _start(tmp_path, alerter)
        real = session._resync
        calls = 0

        async def flaky() -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("boom in resync")
            await real()

        session._resync = flaky  # type: ignore[method-assign]
        try:
            sim.inject_fault("drop")
            await wait_until(lambda: session.stats.reconnects >= 1 and session.connected,
                             timeout=20)
            assert calls >= 2
            assert any("boom in resync" in h for h in alerter.halts)
            assert any(r.exc_info and "reconnect attempt" in r.getMessage()
                       for r in caplog.records)
            o = order(sim.universe[1], "buy", 1)
            assert (await session.place_orders([o], timeout=15)).all_filled
        finally:
            await session.close()
            await journal.close()
            await sim.aclose()

    with caplog.at_level(logging.ERROR, logger="openclaw.venues.ibkr.session"):
        run(body)


def test_unknown_order_not_at_the_gateway(tmp_path: Path) -> None:
    """After a crash: an order the journal holds only as NEW (the write never happened) is
    REJECTED; one journaled SENT (written, but swallowed on the way) stays UNKNOWN, alerted."""

    async def body() -> None:
        sim, journal, s1 = await _start(tmp_path)
        sym = sim.universe[2]
        never_sent = order(sym, "buy", 2)
        swallowed = order(sym, "buy", 3)
        try:
            await journal.record_new(never_sent)  # journaled, crash before the send
            sim.inject_fault("stall", msg_id=3)  # the next placeOrder never arrives
            await s1.submit(swallowed)
            assert swallowed.status is OrderStatus.SENT
            s1._closing = True  # crash: nothing finished
            s1.ib.disconnect()
            await wait_until(lambda: not sim.client_ids(), timeout=5)
            assert sim.orders() == []
            alerter = RecordingAlerter()
            s2 = _session(sim, journal, alerter)
            report = await s2.start()
            try:
                assert report.resolved[never_sent.client_id] == "rejected"
                assert report.resolved[swallowed.client_id] == "unknown"
                assert report.unresolved == [swallowed.client_id]
                assert any(swallowed.client_id in h for h in alerter.halts)
                j = await journal.order(swallowed.client_id)
                assert j is not None and j.status is OrderStatus.UNKNOWN
                j = await journal.order(never_sent.client_id)
                assert j is not None and j.status is OrderStatus.REJECTED
            finally:
                await s2.close()
        finally:
            await journal.close()
            await sim.aclose()

    run(body)


def test_fx_run_without_cash_is_a_typed_error(tmp_path: Path) -> None:
    """No TotalCashValue from the gateway: ``run_fx`` refuses instead of sizing with 0."""
    from openclaw.app.ibkr import run_fx

    async def body() -> None:
        sim, journal, session = await _start(tmp_path)
        try:
            # what a gateway that never pushed the cash value looks like to the session
            session.ib.wrapper.accountValues.clear()
            assert session.cash() is None
            with pytest.raises(IbkrError, match="TotalCashValue"):
                await run_fx(session, 1.0, ignore_window=True)
        finally:
            await session.close()
            await journal.close()
            await sim.aclose()

    run(body)


def test_manual_run_stops_when_its_lease_is_lost(tmp_path: Path) -> None:
    """``run_momentum`` cancels its rebalance when the lease renewal fails, as the Scheduler
    does, and says so (MomentumRunError); nothing is sent after that."""
    from openclaw.app.ibkr import MomentumRunError, run_momentum
    from openclaw.strategies.momentum import MomentumConfig

    async def body() -> None:
        sim, journal, session = await _start(tmp_path)
        try:
            sim.inject_fault("stall", msg_id=20, count=10_000)  # bars never come: a long run
            cfg = MomentumConfig(universe=sim.universe, top_n=5)
            task = asyncio.create_task(run_momentum(
                session, journal, cfg, run_id="lease-run", execute=True, lease_s=0.3,
                owner="me"))
            await wait_until(lambda: bool(sim.faults_applied), timeout=15)  # it is fetching
            rec = await journal.run("lease-run")
            assert rec is not None and rec.status is RunStatus.RUNNING
            await journal.finish_run("lease-run", "me", RunStatus.CANCELED,
                                     detail="taken away by the test")
            with pytest.raises(MomentumRunError, match="lost its lease"):
                await asyncio.wait_for(task, 20)
            assert sim.orders() == []
            assert session.positions() == {}
        finally:
            await session.close()
            await journal.close()
            await sim.aclose()

    run(body)
