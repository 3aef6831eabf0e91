"""IbkrSession against the TWS simulator with the real ib_async client (loopback, port 0)."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from support.ibkr import order, run, wait_until

from openclaw.journal import Journal
from openclaw.model.orders import EventKind, Order, OrderEvent, OrderStatus
from openclaw.sim import tws  # a broken simulator must fail, not skip
from openclaw.venues.ibkr.pacing import Backoff, HistoricalLimits
from openclaw.venues.ibkr.session import IbkrSession

ACCOUNT = "DU7654321"


async def _open(tmp: Path, sim_kw: dict | None = None, client_id: int = 11,
                **session_kw) -> tuple:  # noqa: ANN001
    sim = await tws.start_tws(seed=3, port=0, account=ACCOUNT, cash=1_000_000.0,
                              universe_size=40, **(sim_kw or {}))
    journal = await Journal.open(tmp / "journal.sqlite", synchronous="NORMAL")
    session = _session(sim, journal, client_id, **session_kw)
    await session.start()
    return sim, journal, session


def _session(sim, journal: Journal, client_id: int = 11, **kw) -> IbkrSession:  # noqa: ANN001
    kw.setdefault("reconnect", Backoff(base_s=0.05, cap_s=0.5))
    return IbkrSession(sim.host, sim.port, client_id, journal, simulator=True,
                       max_messages_per_s=0, **kw)


async def _close(sim, journal: Journal, *sessions: IbkrSession) -> None:  # noqa: ANN001
    for s in sessions:
        await s.close()
    await journal.close()
    await sim.aclose()


def _limit_price(sim, symbol: str, side: str) -> str:  # noqa: ANN001
    bid, ask, _ = sim.quote(symbol)
    # far from the market: rests until the test fills it
    px = bid * 0.8 if side == "buy" else ask * 1.2
    return f"{px:.2f}"


def test_connect_positions_and_account(tmp_path: Path) -> None:
    async def body() -> None:
        sim = await tws.start_tws(seed=3, port=0, account=ACCOUNT, cash=500_000.0,
                                  universe_size=40)
        a, b = sim.universe[:2]
        sim.set_positions({a: 100, b: (-20, 50.0)})
        journal = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL")
        session = _session(sim, journal)
        report = await session.start()
        try:
            assert report.loaded == 0
            assert session.connected and session.account == ACCOUNT
            assert session.positions() == sim.positions() == {a: Decimal(100), b: Decimal(-20)}
            assert await session.fetch_positions() == sim.positions()
            cash = session.cash()
            assert cash is not None and abs(float(cash) - sim.cash()) < 1e-6
        finally:
            await _close(sim, journal, session)

    run(body)


def test_orders_journaled_filled_and_mapped(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(tmp_path)
        events: list[OrderEvent] = []
        session.add_listener(lambda o, ev: events.append(ev))
        try:
            syms = sim.universe[:5]
            orders = [order(s, "buy", 10 + i) for i, s in enumerate(syms)]
            result = await session.place_orders(orders, timeout=20)
            assert result.all_filled, [(o.symbol, o.status, o.reason) for o in orders]
            assert result.elapsed_ms > 0
            for o in orders:
                j = await journal.order(o.client_id)
                assert j is not None and j.status is OrderStatus.FILLED
                assert j.filled_qty == o.qty and len(j.fills) >= 1
                cid, oid, perm = (int(x) for x in j.venue_order_id.split("."))
                assert cid == 11 and oid > 0 and perm > 0
                kinds = [e.kind for e in await journal.events(o.client_id)]
                assert kinds[0] is EventKind.SENT and EventKind.ACK in kinds
            assert await journal.consistency_check() == []
            assert sim.positions() == {s: Decimal(10 + i) for i, s in enumerate(syms)}
            await wait_until(lambda: session.positions() == sim.positions())
            assert sorted(o.order_ref for o in sim.orders()) == sorted(o.client_id for o in orders)
            assert len(sim.order_log) == len(orders)
            fills = [ev for ev in events if ev.kind is EventKind.FILL]
            assert len(fills) == sum(len(o.fills) for o in orders)
        finally:
            await _close(sim, journal, session)

    run(body)


def test_partial_fills_counted_once(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(tmp_path, {"fill_mode": "partial",
                                                       "partial_slices": 3})
        try:
            o = order(sim.universe[0], "buy", 30)
            result = await session.place_orders([o], timeout=20)
            assert result.all_filled
            assert len(o.fills) == 3 and sum(f.qty for f in o.fills.values()) == 30
            events = await journal.events(o.client_id)
            assert [e.status for e in events if e.kind is EventKind.FILL][:2] == [
                OrderStatus.PARTIALLY_FILLED, OrderStatus.PARTIALLY_FILLED]
            assert await journal.consistency_check() == []
        finally:
            await _close(sim, journal, session)

    run(body)


def test_reject_and_cancel(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(tmp_path)
        try:
            sym = sim.universe[1]
            sim.inject_fault("reject", count=1)
            bad = order(sym, "buy", 5)
            await session.place_orders([bad], timeout=10)
            assert bad.status is OrderStatus.REJECTED and "201" in (bad.reason or "")
            rest = order(sym, "buy", 5, _limit_price(sim, sym, "buy"))
            done = await session.submit(rest)
            await wait_until(lambda: rest.status is OrderStatus.ACKED)
            session.cancel(rest)
            assert (await asyncio.wait_for(done, 10)).status is OrderStatus.CANCELED
            assert await journal.consistency_check() == []
        finally:
            await _close(sim, journal, session)

    run(body)


async def _outage_fill(tmp_path: Path, fault: str) -> None:
    sim, journal, session = await _open(tmp_path)
    fills: Counter[str] = Counter()
    session.add_listener(
        lambda o, ev: fills.update([ev.fill.trade_id]) if ev.kind is EventKind.FILL else None)
    try:
        sym = sim.universe[2]
        rest = order(sym, "sell", 7, _limit_price(sim, sym, "sell"))
        done = await session.submit(rest)
        await wait_until(lambda: rest.status is OrderStatus.ACKED)
        if fault == "drop":
            sim.inject_fault("drop")
        else:
            sim.inject_fault("restart", seconds=0.5)
        assert sim.fill_resting(sym) == 1  # the fill happens while nobody is connected
        await wait_until(lambda: not session.connected, timeout=5)
        final = await asyncio.wait_for(done, 20)
        assert final.status is OrderStatus.FILLED and final.filled_qty == 7
        assert session.stats.reconnects >= 1 and session.stats.replayed_fills >= 1
        await session.fetch_positions()  # a round trip: anything sent before it has arrived
        assert fills and all(n == 1 for n in fills.values()), fills
        assert len(fills) == len(final.fills)
        j = await journal.order(rest.client_id)
        assert j is not None and j.status is OrderStatus.FILLED and j.filled_qty == 7
        assert await journal.consistency_check() == []
        # the session keeps trading after the reconnect
        more = order(sym, "buy", 3)
        assert (await session.place_orders([more], timeout=10)).all_filled
    finally:
        await _close(sim, journal, session)


def test_reconnect_after_drop_recovers_outage_fill_once(tmp_path: Path) -> None:
    run(lambda: _outage_fill(tmp_path, "drop"))


def test_reconnect_after_restart_recovers_outage_fill_once(tmp_path: Path) -> None:
    run(lambda: _outage_fill(tmp_path, "restart"))


def test_restart_of_this_process_reconciles_journal(tmp_path: Path) -> None:
    """A crash between journaling and the gateway's answer: the next session finds out."""

    async def body() -> None:
        sim, journal, s1 = await _open(tmp_path)
        try:
            sym = sim.universe[3]
            rest = order(sym, "buy", 4, _limit_price(sim, sym, "buy"))
            filled_later = order(sym, "buy", 6, _limit_price(sim, sym, "buy"))
            never_sent = order(sym, "buy", 2)
            await s1.submit(rest)
            await s1.submit(filled_later)
            await wait_until(lambda: rest.status is OrderStatus.ACKED
                             and filled_later.status is OrderStatus.ACKED)
            await journal.record_new(never_sent)  # journaled, crash before the send
            s1._closing = True  # "crash": the socket goes away, nothing is finished
            s1.ib.disconnect()
            await wait_until(lambda: not sim.client_ids(), timeout=5)
            sim.set_price(sym, float(filled_later.price) * 0.99)  # crosses both buy limits
            s2 = _session(sim, journal)
            report = await s2.start()
            try:
                assert report.loaded == 3
                assert report.resolved[never_sent.client_id] == "rejected"
                assert report.not_found == [never_sent.client_id]
                for o in (rest, filled_later):
                    assert report.resolved[o.client_id] == "filled", report
                assert await journal.consistency_check() == []
            finally:
                await s2.close()
        finally:
            await journal.close()
            await sim.aclose()

    run(body)


def test_historical_pacing_waits_instead_of_failing(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(
            tmp_path, {"hist_pacing_limit": 4, "hist_pacing_window": 1.5},
            hist_limits=HistoricalLimits(max_requests=4, window_s=1.6, identical_s=0.0))
        try:
            syms = sim.universe[:10]
            seen: list[int] = []
            m = await session.daily_closes(syms, 30, progress=lambda d, t, s: seen.append(d))
            assert m.symbols == tuple(syms) and m.closes.shape == (10, 30)
            assert session.pacer.stats.waited >= 1 and session.pacer.stats.violations == 0
            assert seen[-1] == 10
            true = [b.close for b in sim.bars(syms[0])][-30:]
            assert list(m.closes[0]) == pytest.approx(true)
        finally:
            await _close(sim, journal, session)

    run(body)


def test_historical_pacing_violation_backs_off_and_retries(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(
            tmp_path, {"hist_pacing_limit": 3, "hist_pacing_window": 1.0},
            hist_limits=HistoricalLimits(max_requests=60, identical_s=0.0),
            hist_backoff=Backoff(base_s=0.3, cap_s=1.2))
        try:
            syms = sim.universe[:7]
            m = await session.daily_closes(syms, 20)
            assert m.closes.shape == (7, 20) and not (m.closes != m.closes).any()
            assert session.pacer.stats.violations >= 1
            assert session.stats.hist_retries >= 1
        finally:
            await _close(sim, journal, session)

    run(body)


def test_fx_quotes_stream_with_receive_time(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(tmp_path)
        got: list[tuple[str, float, float, int]] = []
        try:
            cancel = await session.subscribe_fx(["EUR.USD", "GBP.USD"],
                                                lambda p, b, a, t: got.append((p, b, a, t)))
            await wait_until(lambda: {g[0] for g in got} == {"EUR.USD", "GBP.USD"}, timeout=10)
            cancel()
            for _pair, bid, ask, t in got:
                assert 0 < bid < ask and t > 0
        finally:
            await _close(sim, journal, session)

    run(body)


def test_unknown_venue_and_resubmit_refused(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(tmp_path)
        try:
            from openclaw.venues.ibkr.session import IbkrError

            o = Order("Xbad1", "binance", "AAPL", "buy", "market", Decimal(1), None, 0, 0)
            with pytest.raises(IbkrError):
                await session.submit(o)
            ok = order(sim.universe[0], "buy", 1)
            await session.place_orders([ok], timeout=10)
            with pytest.raises(IbkrError):
                await session.submit(ok)
        finally:
            await _close(sim, journal, session)

    run(body)


def test_message_throttle_paces_a_large_burst(tmp_path: Path) -> None:
    """Above the per-second message cap ib_async queues the orders: paced, all filled."""

    async def body() -> None:
        sim = await tws.start_tws(seed=3, port=0, account=ACCOUNT, universe_size=40)
        journal = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL")
        session = IbkrSession(sim.host, sim.port, 12, journal, simulator=True,
                              max_messages_per_s=10)
        await session.start()
        throttled: list[bool] = []
        session.ib.client.throttleStart += lambda: throttled.append(True)
        try:
            orders = [order(s, "buy", 1) for s in sim.universe[:25]]
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            result = await session.place_orders(orders, timeout=30)
            assert result.all_filled
            assert throttled and loop.time() - t0 >= 1.0  # 25 messages at 10/s: > 1 s
            assert len(sim.order_log) == 25
        finally:
            await _close(sim, journal, session)

    run(body)


def test_order_rate_error_is_resent_not_lost(tmp_path: Path) -> None:
    async def body() -> None:
        sim, journal, session = await _open(tmp_path)
        try:
            sim.inject_fault("pacing", msg_id=3, count=1)  # next placeOrder: error 100
            o = order(sim.universe[4], "buy", 2)
            result = await session.place_orders([o], timeout=15)
            assert result.all_filled and session.stats.resends == 1
            assert [e.result for e in sim.order_log][0].startswith("error 100")
            assert [x.order_ref for x in sim.orders()] == [o.client_id]
            assert await journal.consistency_check() == []
        finally:
            await _close(sim, journal, session)

    run(body)


def test_client_id_in_use_is_a_typed_error(tmp_path: Path) -> None:
    async def body() -> None:
        from openclaw.venues.ibkr.session import IbkrError

        sim = await tws.start_tws(seed=3, port=0, account=ACCOUNT, universe_size=10)
        journal = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL")
        session = IbkrSession(sim.host, sim.port, 13, journal, simulator=True,
                              connect_timeout=1.0)
        sim.inject_fault("client_id_in_use", count=1)
        try:
            with pytest.raises(IbkrError) as err:
                await session.start()
            assert err.value.code == 326
        finally:
            await _close(sim, journal, session)

    run(body)
