"""The TWS simulator against the real ib_async client: session, contracts, bars, quotes, orders."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from ib_async import IB, Forex, LimitOrder, MarketOrder, Stock
from support.twsclient import connect, run, tws, wait_until

from openclaw.sim.tws.server import TwsFaultError, TwsSim
from openclaw.sim.tws.universe import nyse_sessions


def test_connect_accounts_values_and_positions() -> None:
    async def body() -> None:
        async with tws(universe_size=500, cash=250_000.0) as sim:
            assert len(sim.universe) == 500 and len(set(sim.universe)) == 500
            a, b = sim.universe[:2]
            sim.set_positions({a: 100, b: (-50, 20.0), "EUR.USD": 10_000})
            ib, _ = await connect(sim, client_id=3)
            try:
                assert ib.client.serverVersion() == 178
                assert ib.managedAccounts() == ["DU1234567"]
                values = {
                    (v.tag, v.currency): v.value for v in ib.accountValues() if v.currency == "USD"
                }
                for tag in ("NetLiquidation", "TotalCashValue", "BuyingPower"):
                    assert (tag, "USD") in values, tag
                assert float(values[("NetLiquidation", "USD")]) == pytest.approx(
                    sim.net_liquidation(), rel=1e-3
                )
                pos = {p.contract.localSymbol: p.position for p in ib.positions()}
                assert pos == {a: 100.0, b: -50.0, "EUR.USD": 10_000.0}
                avg = {p.contract.localSymbol: p.avgCost for p in ib.positions()}
                assert avg[b] == 20.0
                port = {p.contract.symbol: p.position for p in ib.portfolio()}
                assert port[a] == 100.0 and port["EUR"] == 10_000.0
                summary = {v.tag: v.value for v in await ib.accountSummaryAsync()}
                assert float(summary["TotalCashValue"]) > 0
                assert float(summary["NetLiquidation"]) == pytest.approx(
                    sim.net_liquidation(), rel=1e-3
                )
                t = await ib.reqCurrentTimeAsync()
                assert abs(t.timestamp() - time.time()) < 60
            finally:
                ib.disconnect()

    run(body)


def test_qualify_stock_fx_and_unknown() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, errors = await connect(sim)
            try:
                sym = sim.universe[5]
                stock = Stock(sym, "SMART", "USD")
                eur, gbp = Forex("EURUSD"), Forex("GBPUSD")
                bad = Stock("ZZZZZZ", "SMART", "USD")
                res = await ib.qualifyContractsAsync(stock, eur, gbp, bad)
                assert res[3] is None
                assert stock.conId == sim.instrument(sym).con_id
                assert stock.primaryExchange in ("NASDAQ", "NYSE")
                assert eur.conId == 12087792 and eur.exchange == "IDEALPRO"
                assert eur.localSymbol == "EUR.USD"
                assert gbp.conId == 12087797
                await wait_until(lambda: errors.has(200), what="error 200")
                [details] = await ib.reqContractDetailsAsync(Stock(conId=stock.conId))
                assert details.contract.symbol == sym and details.minTick == 0.01
                assert details.stockType == "COMMON"
            finally:
                ib.disconnect()

    run(body)


def test_calendar_matches_exchange_calendars_xnys() -> None:
    xcals = pytest.importorskip("exchange_calendars")
    cal = xcals.get_calendar("XNYS")
    start, end = date(2016, 1, 4), min(date(2026, 12, 31), cal.last_session.date())
    expected = [d.date() for d in cal.sessions_in_range(start.isoformat(), end.isoformat())]
    assert nyse_sessions(start, end) == expected


def test_historical_daily_bars() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, errors = await connect(sim)
            try:
                sym = sim.universe[7]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                bars = await ib.reqHistoricalDataAsync(c, "", "1 Y", "1 day", "TRADES", True)
                # calendar durations count back from the requested end (now, UTC date)
                today = datetime.now(UTC).date()
                last = sim.bars(sym)[-1].date
                sessions = nyse_sessions(
                    today.replace(year=today.year - 1) + timedelta(days=1), last
                )
                assert [b.date for b in bars] == sessions
                assert 245 <= len(bars) <= 256
                for b in bars:
                    assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
                    assert b.low > 0 and b.volume > 0
                truth = sim.bars(sym, days=len(bars))
                assert [(b.date, b.close) for b in bars] == [(t.date, t.close) for t in truth]
                # trading days only, and real trends: not a flat line
                closes = [b.close for b in bars]
                assert len(set(closes)) > 100
                more = await ib.reqHistoricalDataAsync(c, "", "400 D", "1 day", "TRADES", True)
                assert len(more) == 400
                weeks = await ib.reqHistoricalDataAsync(c, "", "2 W", "1 day", "TRADES", True)
                assert 8 <= len(weeks) <= 10
                months = await ib.reqHistoricalDataAsync(c, "", "3 M", "1 day", "TRADES", True)
                assert 58 <= len(months) <= 66
                two_y = await ib.reqHistoricalDataAsync(c, "", "2 Y", "1 day", "TRADES", True)
                assert 495 <= len(two_y) <= 510 and list(two_y)[-len(bars) :] == list(bars)
                end = bars[100].date
                upto = await ib.reqHistoricalDataAsync(c, end, "10 D", "1 day", "TRADES", True)
                assert [b.date for b in upto] == [b.date for b in bars[91:101]]
                # FX: MIDPOINT served, TRADES refused like IB does
                [eur] = await ib.qualifyContractsAsync(Forex("EURUSD"))
                fx = await ib.reqHistoricalDataAsync(eur, "", "1 M", "1 day", "MIDPOINT", True)
                assert fx and all(1.0 < b.close < 1.2 for b in fx)
                n_err = len(errors.items)
                none = await ib.reqHistoricalDataAsync(eur, "", "1 M", "1 day", "TRADES", True)
                assert len(none) == 0 and errors.has(162) and len(errors.items) > n_err
            finally:
                ib.disconnect()

    run(body)


def test_momentum_is_dispersed_across_the_universe() -> None:
    async def body() -> None:
        async with tws(universe_size=500) as sim:
            rets = []
            for sym in sim.universe[:120]:
                b = sim.bars(sym, days=253)
                rets.append(b[-22].close / b[0].close - 1.0)
            rets.sort()
            # a meaningful ranking: the top decile clearly apart from the bottom decile
            assert rets[-12] - rets[11] > 0.4

    run(body)


def test_fx_streaming_ticks_and_cancel() -> None:
    async def body() -> None:
        async with tws(fx_rate=20.0) as sim:
            ib, _ = await connect(sim)
            try:
                [eur] = await ib.qualifyContractsAsync(Forex("EURUSD"))
                ticker = ib.reqMktData(eur)
                seen: list[tuple[float, float]] = []
                ticker.updateEvent += lambda t: seen.append((t.bid, t.ask))
                await wait_until(lambda: len(seen) >= 10, what="10 FX ticker updates")
                bid, ask = ticker.bid, ticker.ask
                assert 1.0 < bid < ask < 1.2
                spreads = [a - b for b, a in seen if a > 0 and b > 0]
                assert all(0.0000099 <= s <= 0.0000601 for s in spreads), spreads
                assert len({b for b, _ in seen}) > 1  # it moves
                [gbp] = await ib.qualifyContractsAsync(Forex("GBPUSD"))
                other = ib.reqMktData(gbp)
                ib.cancelMktData(eur)
                # a round trip: the cancel is processed; ticks already in flight are counted
                await asyncio.wait_for(ib.reqCurrentTimeAsync(), 10.0)
                n = len(seen)
                gbp_seen: list[float] = []
                other.updateEvent += lambda t: gbp_seen.append(t.bid)
                # the simulator's ticker runs on: GBP keeps ticking, EUR must not
                await wait_until(lambda: len(gbp_seen) >= 5, what="5 GBP ticks after cancel")
                assert len(seen) == n
                ib.cancelMktData(gbp)
                # snapshot of a stock: reqTickers ends with tickSnapshotEnd
                [stk] = await ib.qualifyContractsAsync(Stock(sim.universe[0], "SMART", "USD"))
                [t] = await ib.reqTickersAsync(stk)
                sb, sa, sl = sim.quote(sim.universe[0])
                assert t.bid > 0 and t.ask > t.bid and t.last > 0 and t.close > 0
                assert abs(t.bid - sb) / sb < 0.01
            finally:
                ib.disconnect()

    run(body)


def _fill_price_ok(price: float, quote: tuple[float, float, float]) -> bool:
    bid, ask, _ = quote
    return 0.95 * bid <= price <= 1.05 * ask


def test_market_order_fill_commission_and_account_moves() -> None:
    async def body() -> None:
        async with tws(cash=1_000_000.0) as sim:
            ib, _ = await connect(sim, client_id=11)
            try:
                sym = sim.universe[3]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                cash0 = sim.cash()
                trade = ib.placeOrder(c, MarketOrder("BUY", 100))
                await wait_until(trade.isDone, what="MKT filled")
                assert trade.orderStatus.status == "Filled"
                assert trade.order.permId > 0
                [fill] = trade.fills
                assert fill.execution.shares == 100 and fill.execution.side == "BOT"
                assert _fill_price_ok(fill.execution.price, sim.quote(sym))
                await wait_until(lambda: fill.commissionReport.commission > 0, what="commission")
                assert fill.commissionReport.commission == pytest.approx(0.35)
                cost = 100 * fill.execution.price + 0.35
                assert sim.cash() == pytest.approx(cash0 - cost)
                assert sim.positions() == {sym: Decimal(100)}
                await wait_until(
                    lambda: any(p.position == 100 for p in ib.positions()), what="position push"
                )
                await wait_until(
                    lambda: any(
                        v.tag == "TotalCashValue" and abs(float(v.value) - sim.cash()) < 0.01
                        for v in ib.accountValues()
                    ),
                    what="cash push",
                )
                # sell it back: realised PnL reported, position gone
                sell = ib.placeOrder(c, MarketOrder("SELL", 100))
                await wait_until(sell.isDone)
                assert sell.orderStatus.status == "Filled"
                assert sim.positions() == {}
                await wait_until(lambda: not [p for p in ib.positions() if p.position])
                # FX: 0.2 bp, min 2 USD
                [eur] = await ib.qualifyContractsAsync(Forex("EURUSD"))
                fx = ib.placeOrder(eur, MarketOrder("BUY", 20_000))
                await wait_until(fx.isDone)
                await wait_until(lambda: fx.fills and fx.fills[0].commissionReport.commission > 0)
                assert fx.fills[0].commissionReport.commission == pytest.approx(2.0)
                assert sim.positions()["EUR.USD"] == 20_000
                big = ib.placeOrder(eur, MarketOrder("SELL", 500_000))
                await wait_until(big.isDone)
                assert big.orderStatus.status == "Filled"
                comm = big.fills[0].execution.price * 500_000 * 0.00002
                await wait_until(lambda: big.fills[0].commissionReport.commission > 0)
                assert big.fills[0].commissionReport.commission == pytest.approx(comm, rel=1e-6)
            finally:
                ib.disconnect()

    run(body)


def test_limit_order_rests_then_cancel() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, errors = await connect(sim)
            try:
                sym = sim.universe[4]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                bid = sim.quote(sym)[0]
                trade = ib.placeOrder(c, LimitOrder("BUY", 10, round(bid * 0.8, 2)))
                await wait_until(lambda: trade.orderStatus.status == "Submitted")
                assert trade in ib.openTrades() and trade.order.permId > 0
                assert [o.order_id for o in sim.open_orders()] == [trade.order.orderId]
                ib.cancelOrder(trade.order)
                await wait_until(lambda: trade.orderStatus.status == "Cancelled")
                assert errors.has(202, trade.order.orderId)
                assert sim.open_orders() == [] and sim.positions() == {}
            finally:
                ib.disconnect()

    run(body)


def test_limit_order_fills_when_quote_crosses() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim)
            try:
                sym = sim.universe[6]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                bid, ask, _ = sim.quote(sym)
                limit = round(bid * 0.9, 2)
                trade = ib.placeOrder(c, LimitOrder("BUY", 20, limit))
                await wait_until(lambda: trade.orderStatus.status == "Submitted")
                sim.set_price(sym, limit * 0.99)
                await wait_until(trade.isDone, what="resting LMT filled")
                assert trade.orderStatus.status == "Filled"
                assert trade.fills[0].execution.price == pytest.approx(limit)
                assert sim.positions() == {sym: Decimal(20)}
                # a marketable LMT fills at once, at the quote (not worse than the limit)
                bid, ask, _ = sim.quote(sym)
                sell = ib.placeOrder(c, LimitOrder("SELL", 20, round(bid * 0.98, 2)))
                await wait_until(sell.isDone)
                assert sell.fills[0].execution.price >= round(bid * 0.98, 2)
                # fill_resting fills a resting order on demand at its limit
                t2 = ib.placeOrder(c, LimitOrder("SELL", 5, round(ask * 1.5, 2)))
                await wait_until(lambda: t2.orderStatus.status == "Submitted")
                assert sim.fill_resting(sym) == 1
                await wait_until(t2.isDone)
                assert t2.fills[0].execution.price == pytest.approx(round(ask * 1.5, 2))
            finally:
                ib.disconnect()

    run(body)


def test_partial_fills() -> None:
    async def body() -> None:
        async with tws(fill_mode="partial", partial_slices=3) as sim:
            ib, _ = await connect(sim)
            try:
                sym = sim.universe[8]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                statuses: list[tuple[str, float]] = []
                trade = ib.placeOrder(c, MarketOrder("BUY", 1000))
                trade.statusEvent += lambda t: statuses.append(
                    (t.orderStatus.status, t.orderStatus.filled)
                )
                await wait_until(trade.isDone, what="partial order filled")
                assert trade.orderStatus.status == "Filled"
                assert len(trade.fills) == 3
                assert sum(f.execution.shares for f in trade.fills) == 1000
                assert [f.execution.cumQty for f in trade.fills] == sorted(
                    f.execution.cumQty for f in trade.fills
                )
                assert any(s == "Submitted" and 0 < filled < 1000 for s, filled in statuses)
                await wait_until(lambda: all(f.commissionReport.commission for f in trade.fills))
                total = sum(f.commissionReport.commission for f in trade.fills)
                assert total == pytest.approx(3.5)
                assert sim.positions() == {sym: Decimal(1000)}
            finally:
                ib.disconnect()

    run(body)


def test_burst_of_30_orders() -> None:
    async def body() -> None:
        async with tws(universe_size=500) as sim:
            ib, _ = await connect(sim, client_id=21)
            try:
                ib.client.MaxRequests = 0  # the client's own 45 msg/s throttle, this test only
                syms = sim.universe[:30]
                contracts = await ib.qualifyContractsAsync(
                    *[Stock(s, "SMART", "USD") for s in syms]
                )
                sizes = {s: (10 + i) * (1 if i % 3 else -1) for i, s in enumerate(syms)}
                t0 = time.perf_counter()
                trades = [
                    ib.placeOrder(c, MarketOrder("BUY" if sizes[s] > 0 else "SELL", abs(sizes[s])))
                    for s, c in zip(syms, contracts, strict=True)
                ]
                await wait_until(lambda: all(t.isDone() for t in trades), what="30 fills")
                elapsed = time.perf_counter() - t0
                print(f"\n30-order burst: {elapsed * 1000:.1f} ms until all Filled")
                assert all(t.orderStatus.status == "Filled" for t in trades)
                assert sim.positions() == {s: Decimal(q) for s, q in sizes.items()}
                await wait_until(
                    lambda: (
                        {p.contract.symbol: p.position for p in ib.positions()}
                        == {s: float(q) for s, q in sizes.items()}
                    ),
                    what="client positions",
                )
                log = [e for e in sim.order_log if e.result == "accepted"]
                assert len(log) == 30 and len({e.order_id for e in log}) == 30
            finally:
                ib.disconnect()

    run(body)


def test_order_errors() -> None:
    async def body() -> None:
        async with tws(cash=10_000.0) as sim:
            ib, errors = await connect(sim)
            try:
                sym = sim.universe[9]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                zero = ib.placeOrder(c, MarketOrder("BUY", 0))
                await wait_until(lambda: errors.has(434, zero.order.orderId), what="434")
                unknown = ib.placeOrder(Stock("QQQQQQ", "SMART", "USD"), MarketOrder("BUY", 1))
                await wait_until(lambda: errors.has(200, unknown.order.orderId), what="200")
                await wait_until(lambda: unknown.orderStatus.status == "Cancelled")
                # insufficient cash for a buy -> 201, like IB's margin check
                price = sim.quote(sym)[1]
                too_big = int(20_000 / price) + 1
                broke = ib.placeOrder(c, MarketOrder("BUY", too_big))
                await wait_until(lambda: errors.has(201, broke.order.orderId), what="201 margin")
                assert broke.orderStatus.status == "Cancelled"
                # reject on demand
                sim.inject_fault("reject")
                rej = ib.placeOrder(c, MarketOrder("BUY", 1))
                await wait_until(lambda: errors.has(201, rej.order.orderId), what="201 fault")
                ok = ib.placeOrder(c, MarketOrder("BUY", 1))
                await wait_until(ok.isDone)
                assert ok.orderStatus.status == "Filled"
                # duplicate order id, sent through the low-level client
                used = ok.order.orderId
                ib.client.placeOrder(used, c, MarketOrder("BUY", 1))
                await wait_until(lambda: errors.has(103, used), what="103")
                results = [e.result for e in sim.order_log if e.order_id == used]
                assert results == ["accepted", "error 103"]
                assert sim.positions() == {sym: Decimal(1)}
            finally:
                ib.disconnect()

    run(body)


def test_control_api_validation() -> None:
    sim = TwsSim(universe_size=5)
    with pytest.raises(TwsFaultError):
        sim.inject_fault("explode")
    with pytest.raises(TwsFaultError):
        sim.inject_fault("stall", count=0)
    with pytest.raises(TwsFaultError):
        sim.set_fill_mode("sometimes")
    with pytest.raises(TwsFaultError):
        sim.instrument("NOPE")
    with pytest.raises(ValueError):
        TwsSim(max_server_version=200)
    with pytest.raises(ValueError):
        TwsSim(account="")


def test_modify_resting_order_req_ids_and_global_cancel() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim, client_id=2)
            try:
                sym = sim.universe[10]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                bid, ask, _ = sim.quote(sym)
                order = LimitOrder("BUY", 10, round(bid * 0.7, 2))
                trade = ib.placeOrder(c, order)
                await wait_until(lambda: trade.orderStatus.status == "Submitted")
                # modify: same order id, new price and size (still resting)
                order.lmtPrice = round(bid * 0.75, 2)
                order.totalQuantity = 12
                ib.placeOrder(c, order)
                await wait_until(lambda: sim.open_orders()[0].qty == 12)
                assert sim.open_orders()[0].lmt_price == round(bid * 0.75, 2)
                assert [e.result for e in sim.order_log] == ["accepted", "modified"]
                # modify to a marketable price: fills at once
                order.lmtPrice = round(ask * 1.01, 2)
                ib.placeOrder(c, order)
                await wait_until(trade.isDone, what="modified order filled")
                assert trade.orderStatus.status == "Filled" and sim.positions() == {sym: 12}
                # reqIds answers above every id used
                next_id = await asyncio.wait_for(_req_ids(ib), 5)
                assert next_id > trade.order.orderId
                # global cancel
                t1 = ib.placeOrder(c, LimitOrder("BUY", 1, round(bid * 0.5, 2)))
                t2 = ib.placeOrder(c, LimitOrder("SELL", 1, round(ask * 2.0, 2)))
                await wait_until(lambda: len(sim.open_orders()) == 2)
                ib.reqGlobalCancel()
                await wait_until(
                    lambda: t1.orderStatus.status == t2.orderStatus.status == "Cancelled"
                )
                assert sim.open_orders() == []
            finally:
                ib.disconnect()

    run(body)


async def _req_ids(ib: IB) -> int:
    """Send reqIds and wait for the nextValidId answer."""
    got: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    wrapper = ib.wrapper
    original = wrapper.nextValidId

    def hook(req_id: int) -> None:
        original(req_id)
        if not got.done():
            got.set_result(req_id)

    wrapper.nextValidId = hook
    try:
        ib.client.reqIds(1)
        return await got
    finally:
        wrapper.nextValidId = original


def test_realized_pnl_avg_cost_and_seeded_positions_push() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim)
            try:
                sym = sim.universe[11]
                [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
                buy = ib.placeOrder(c, MarketOrder("BUY", 200))
                await wait_until(buy.isDone)
                px = buy.fills[0].execution.price
                avg = (200 * px + 0.7) / 200  # commission 0.0035 * 200 = 0.70 in the cost
                assert sim.avg_costs()[sym] == pytest.approx(avg)
                sim.set_price(sym, px * 1.10)
                sell = ib.placeOrder(c, MarketOrder("SELL", 80))
                await wait_until(sell.isDone)
                await wait_until(lambda: sell.fills[0].commissionReport.commission > 0)
                sp = sell.fills[0].execution.price
                realized = (sp - avg) * 80 - 0.35
                assert sell.fills[0].commissionReport.realizedPNL == pytest.approx(realized)
                assert sim.positions() == {sym: 120}
                assert sim.avg_costs()[sym] == pytest.approx(avg)
                # seeding positions mid-session pushes them to the subscribed client
                other = sim.universe[12]
                sim.set_positions({other: (30, 12.5)})
                await wait_until(
                    lambda: (
                        {p.contract.symbol: p.position for p in ib.positions() if p.position}
                        == {other: 30.0}
                    ),
                    what="seeded positions pushed",
                )
            finally:
                ib.disconnect()

    run(body)


def test_universe_is_deterministic_by_seed_and_needs_no_client_library() -> None:
    import subprocess
    import sys

    a, b, c = TwsSim(seed=5, universe_size=50), TwsSim(seed=5, universe_size=50), TwsSim(seed=6)
    assert a.universe == b.universe and a.universe != c.universe[:50]
    sym = a.universe[0]
    assert a.instrument(sym).con_id == b.instrument(sym).con_id
    assert a.bars(sym, days=300) == b.bars(sym, days=300)
    small = TwsSim(seed=5, universe_size=10)  # a stock does not depend on the universe size
    assert small.universe == a.universe[:10]
    assert small.bars(sym, days=300) == a.bars(sym, days=300)
    assert {a.instrument(s).primary_exchange for s in a.universe} == {"NASDAQ", "NYSE"}
    code = (
        "import sys, openclaw.sim.tws\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('ib_async', 'ib_insync', 'exchange_calendars', 'pandas')\n"
        " or m.startswith(('openclaw.feeds', 'openclaw.execution', 'openclaw.venues.ibkr',"
        " 'openclaw.strategies', 'openclaw._core'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_unserved_requests_fail_fast() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, errors = await connect(sim)
            try:
                [c] = await ib.qualifyContractsAsync(Stock(sim.universe[0], "SMART", "USD"))
                bars = await asyncio.wait_for(
                    ib.reqHistoricalDataAsync(c, "", "1 D", "1 min", "TRADES", True), 5
                )
                assert len(bars) == 0 and errors.has(162)
                bad = await asyncio.wait_for(
                    ib.reqHistoricalDataAsync(c, "", "1 X", "1 day", "TRADES", True), 5
                )
                assert len(bad) == 0 and errors.codes().count(162) == 2
                old = await asyncio.wait_for(
                    ib.reqHistoricalDataAsync(c, date(2010, 1, 8), "5 D", "1 day", "TRADES", True),
                    5,
                )
                assert len(old) == 0
                assert "HMDS query returned no data" in errors.items[-1][2]
                # a message the simulator does not implement: error 322, the request ends
                head = await asyncio.wait_for(ib.reqHeadTimeStampAsync(c, "TRADES", True, 1), 5)
                assert head == [] and errors.has(322)
            finally:
                ib.disconnect()

    run(body)
