"""Reconciliation against the simulators through the real ccxt clients (loopback).

A matching run passes; a balance moved at the venue behind our back, or a fill made at the
venue by someone else, halts trading (risk engine HALTED, pipeline stopped) with an alert at the
fake Telegram server; tolerance is respected; a venue that does not answer is reported, not
read as zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt")

import aiohttp  # noqa: E402
from pipeline_child import build, sim_spec  # noqa: E402

from openclaw.alerts import Alerter, TelegramSink  # noqa: E402
from openclaw.execution.client_ids import ClientIdFactory  # noqa: E402
from openclaw.execution.orders import Order, OrderStatus  # noqa: E402
from openclaw.execution.reconcile import (  # noqa: E402
    AssetTolerance,
    ReconcileConfig,
    Reconciler,
    expected_balances,
)
from openclaw.execution.router import Router, VenueRoute  # noqa: E402
from openclaw.execution.venues import Credentials, make_client  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.risk import ACTIVE, HALTED, InstrumentLimits, RiskLimits, VenueLimits  # noqa: E402
from openclaw.risk import build_engine as build_risk  # noqa: E402
from openclaw.sim import start_simulators  # noqa: E402
from openclaw.sim.telegram import TelegramSim  # noqa: E402

VENUES = ("binance", "okx", "bybit")
TOKEN = "123456:AAreconcileTokenForTheFakeServer00001"
CHAT = "99"


def run(coro_fn: Callable[[], Any], timeout: float = 90.0) -> Any:
    async def guarded() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(guarded())


async def until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def risk_engine() -> Any:
    """A real risk engine (one instrument per venue) to be halted."""
    return build_risk(RiskLimits(
        venues=[VenueLimits(name=v) for v in VENUES],
        instruments=[InstrumentLimits(venue=v, symbol="BTCUSDT", base="BTC", quote="USDT",
                                      tick_size=Decimal("0.1"), lot_size=Decimal("0.00001"))
                     for v in VENUES]))


@dataclass
class Env:
    sims: Any
    tg: TelegramSim
    alerter: Alerter
    journal: Journal
    routes: dict[str, VenueRoute]
    router: Router
    ids: ClientIdFactory
    http: aiohttp.ClientSession

    async def sim(self, venue: str, path: str, body: Any = None) -> Any:
        url = f"{self.sims.servers[venue].url}{path}"
        if body is None:
            async with self.http.get(url) as r:
                r.raise_for_status()
                return await r.json()
        async with self.http.post(url, json=body) as r:
            r.raise_for_status()
            return await r.json()

    async def move_balance(self, venue: str, asset: str, delta: str) -> None:
        """Change one balance at the venue, as a deposit or a withdrawal would."""
        bal = (await self.sim(venue, "/_sim/balances"))["balances"]
        new = {a: b["total"] for a, b in bal.items()}
        new[asset] = str(Decimal(new[asset]) + Decimal(delta))
        await self.sim(venue, "/_sim/balances", new)

    def texts(self) -> str:
        return "\n".join(m["text"] for m in self.tg.messages)


@contextlib.asynccontextmanager
async def env(tmp: Path) -> AsyncIterator[Env]:
    sims = await start_simulators(seed=5, rate=20)
    tg = await TelegramSim(TOKEN).start()
    alerter = await Alerter([TelegramSink(TOKEN, CHAT, base_url=tg.url, min_interval=0.0)],
                            batch_window=0.05).start()
    journal = await Journal.open(tmp / "journal.sqlite", synchronous="NORMAL")
    routes = {v: VenueRoute(v, make_client(v, Credentials.simulator(), sims.servers[v].url))
              for v in VENUES}
    http = aiohttp.ClientSession()
    try:
        for r in routes.values():
            await r.start()
        yield Env(sims, tg, alerter, journal, routes, Router(routes, journal),
                  ClientIdFactory(), http)
    finally:
        for r in routes.values():
            await r.close()
        await http.close()
        await alerter.aclose()
        await journal.close()
        await tg.stop()
        await sims.aclose()


def legs(ids: ClientIdFactory, side: str, symbol: str = "BTC/USDT",
         qty: str = "0.01") -> list[Order]:
    opp = ids.next_opportunity()
    return [Order(ids.make(opp, k), v, symbol, side, "market", Decimal(qty), None, opp, k)
            for k, v in enumerate(VENUES)]


def test_expected_balances_arithmetic() -> None:
    start = {"x": {"BTC": Decimal("1"), "USDT": Decimal("100")}}
    fills = [("x", "BTC/USDT", "buy", Decimal("0.5"), Decimal("10"), Decimal("0.0005"), "BTC"),
             ("x", "ETH/BTC", "sell", Decimal("2"), Decimal("0.05"), Decimal("0.0001"), "BTC")]
    got = expected_balances(start, fills)["x"]
    assert got == {"BTC": Decimal("1") + Decimal("0.5") - Decimal("0.0005") + Decimal("0.1")
                   - Decimal("0.0001"),
                   "USDT": Decimal("95"), "ETH": Decimal("-2")}
    assert start["x"]["BTC"] == 1      # the start snapshot is not modified


def test_matching_run_passes_and_journals_balances(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            engine = risk_engine()
            rec = Reconciler(e.router, e.journal, alerter=e.alerter, engine=engine)
            start = await rec.snapshot()
            assert set(start) == set(VENUES) and start["okx"]["USDT"] == Decimal("100000")
            for side, symbol in (("buy", "BTC/USDT"), ("sell", "ETH/USDT"),
                                 ("buy", "ETH/BTC")):
                orders = await e.router.send_list(legs(e.ids, side, symbol))
                await e.router.reconcile_unknown(orders)
                assert all(o.status is OrderStatus.FILLED for o in orders), orders
            rep = await rec.run_once()
            assert rep.ok, rep.text() or rep.unreachable
            for v in VENUES:
                # the venue moved (fees included) and the journal explains every unit of it
                assert rep.actual[v]["BTC"] != start[v]["BTC"]
                assert abs(rep.actual[v]["USDT"] - rep.expected[v]["USDT"]) <= Decimal("1e-6")
                snap = await e.journal.balances(v)
                assert snap is not None
                assert {a: x for a, x in snap.balances.items() if x} == {
                    a: x for a, x in rep.actual[v].items() if x}
            assert engine.trading_state == ACTIVE and rec.halted is None
            await e.alerter.flush(10)
            assert "HALT" not in e.texts()

    run(body)


def test_external_balance_change_halts_alerts_and_stops_trading(tmp_path: Path) -> None:
    """The whole pipeline with a background reconciler: money leaves the venue behind our
    back -> HALTED, alert, and no order afterwards even though the market offers arbitrage."""

    async def body() -> None:
        sims = await start_simulators(seed=5, rate=20)
        tg = await TelegramSim(TOKEN).start()
        alerter = await Alerter([TelegramSink(TOKEN, CHAT, base_url=tg.url, min_interval=0.0)],
                                batch_window=0.05).start()
        journal = await Journal.open(tmp_path / "journal.sqlite", synchronous="NORMAL")
        engine = risk_engine()
        h = build(sim_spec(sims, ["okx"]), journal, alerter=alerter, engine=engine,
                  reconcile=ReconcileConfig(interval_s=0.3))
        http = aiohttp.ClientSession()
        try:
            await h.start()
            rec = h.reconciler
            assert rec is not None
            # a first arbitrage, reconciled after it: all good
            sims.okx.market.dislocate("okx", "ETH/BTC", 100.0)
            await until(lambda: h.pipeline.stats.arbitrages >= 1, 20, "an arbitrage")
            await until(lambda: not h.pipeline.busy, 20, "the arbitrage to finish")
            n_runs = rec.runs
            await until(lambda: rec.runs > n_runs, 20, "a reconciliation after it")
            assert rec.halted is None, rec.halted
            await h.pipeline.drain(20)          # pause trading while we move the money
            h.pipeline.stopped = False
            url = sims.okx.url
            async with http.get(f"{url}/_sim/balances") as r:
                bal = (await r.json())["balances"]
            new = {a: b["total"] for a, b in bal.items()}
            new["USDT"] = str(Decimal(new["USDT"]) - Decimal("250"))
            async with http.post(f"{url}/_sim/balances", json=new) as r:
                assert r.status == 200, await r.text()
            await until(lambda: rec.halted is not None, 20, "the halt")
            assert "okx USDT" in rec.halted, rec.halted
            last = rec.last
            assert last is not None
            (m,) = last.balance_mismatches
            assert (m.venue, m.asset) == ("okx", "USDT")
            assert abs(m.diff + Decimal("250")) <= Decimal("1e-6"), m
            assert engine.trading_state == HALTED
            assert h.pipeline.halted is not None
            await alerter.flush(10)
            text = "\n".join(m["text"] for m in tg.messages)
            assert "HALT: trading halted: reconciliation mismatch: okx USDT" in text, text
            # the market still offers arbitrage; nothing may be sent
            async with http.get(f"{url}/_sim/orders") as r:
                before = len((await r.json())["orders"])
            arbs = h.pipeline.stats.arbitrages
            book = h.pipeline.books[0]
            seen = book.updates
            sims.okx.market.dislocate("okx", "ETH/BTC", -150.0)
            await until(lambda: book.updates > seen + 20, 20, "book updates after the halt")
            async with http.get(f"{url}/_sim/orders") as r:
                assert len((await r.json())["orders"]) == before
            assert h.pipeline.stats.arbitrages == arbs
        finally:
            await h.close()
            await http.close()
            await alerter.aclose()
            await journal.close()
            await tg.stop()
            await sims.aclose()
        assert h.reconciler is not None and h.reconciler._task is None

    run(body, 120)


def test_fill_unknown_to_the_journal_is_a_mismatch(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            engine = risk_engine()
            rec = Reconciler(e.router, e.journal, alerter=e.alerter, engine=engine)
            await rec.snapshot()
            # someone trades on the account directly at the venue (own client, own id)
            other = make_client("binance", Credentials.simulator(), e.sims.binance.url)
            try:
                placed = await other.create_order("BTC/USDT", "market", "buy", 0.01, None,
                                                  {"clientOrderId": "someoneElse1"})
                assert placed["id"]
            finally:
                await other.close()
            rep = await rec.run_once()
            assert not rep.ok
            assets = {(m.venue, m.asset) for m in rep.balance_mismatches}
            assert assets == {("binance", "BTC"), ("binance", "USDT")}, rep.text()
            btc = next(m for m in rep.balance_mismatches if m.asset == "BTC")
            assert btc.diff == Decimal("0.00999")       # 0.01 less the 0.1 % fee in BTC
            assert rec.halted is not None and engine.trading_state == HALTED
            await e.alerter.flush(10)
            assert "HALT: trading halted: reconciliation mismatch: binance BTC" in e.texts()

    run(body)


def test_tolerance_is_respected(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            loose = Reconciler(e.router, e.journal)        # default: 1e-6 + 0.1 ppm
            strict = Reconciler(e.router, e.journal, config=ReconcileConfig(
                tolerances={"USDT": AssetTolerance(abs=Decimal("0.001"), rel=Decimal(0))}))
            await loose.snapshot()
            await strict.snapshot()
            # 0.005 USDT on 100,000: inside 0.1 ppm (0.01), outside 0.001 absolute
            await e.move_balance("okx", "USDT", "0.005")
            assert (await loose.run_once(["okx"])).ok
            rep = await strict.run_once(["okx"])
            assert [(m.venue, m.asset, m.diff) for m in rep.balance_mismatches] == [
                ("okx", "USDT", Decimal("0.005"))]
            await e.move_balance("okx", "USDT", "0.02")      # now 0.025: beyond both
            rep = await loose.run_once(["okx"])
            assert [m.asset for m in rep.balance_mismatches] == ["USDT"]
            assert loose.halted is not None

    run(body)


def test_unanswering_venue_is_reported_not_read_as_zero(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            rec = Reconciler(e.router, e.journal, alerter=e.alerter,
                             config=ReconcileConfig(attempts=2, retry_delay_s=0.05))
            await rec.snapshot()
            e.sims.bybit.inject_fault("server_error", status=503, scope="private", count=2)
            rep = await rec.run_once()
            assert set(rep.unreachable) == {"bybit"}, rep.unreachable
            assert "ExchangeNotAvailable" in rep.unreachable["bybit"]
            assert "bybit" not in rep.actual and not rep.balance_mismatches
            assert rec.halted is None and not rep.ok
            await e.alerter.flush(10)
            assert "DISCONNECT: bybit: reconciliation could not read the venue" in e.texts()
            assert (await rec.run_once()).ok       # the venue answers again: all matches

    run(body)


def test_open_order_the_venue_does_not_have_is_a_mismatch(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            rec = Reconciler(e.router, e.journal)
            await rec.snapshot()
            ghost = legs(e.ids, "buy")[1]                     # okx
            await e.journal.record_new(ghost)                 # journaled, never sent
            rep = await rec.run_once(["okx"])
            assert [(m.client_id, m.venue_status) for m in rep.order_mismatches] == [
                (ghost.client_id, None)]
            assert not rep.balance_mismatches and rec.halted is not None
            assert "has no such order" in rec.halted

    run(body)


def test_in_flight_orders_defer_the_comparison(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            busy = {"gen": None}
            rec = Reconciler(e.router, e.journal, activity=lambda: busy["gen"],
                             config=ReconcileConfig(quiet_timeout_s=0.2))
            await rec.snapshot()
            rep = await rec.run_once()
            assert rep.deferred and not rep.ok and rec.runs == 0
            busy["gen"] = 1
            assert (await rec.run_once()).ok and rec.runs == 1
            # the background task: request() after an arbitrage, periodic runs, clean stop
            rec.start()
            rec.request(["okx"])
            await until(lambda: rec.runs >= 2, 20, "the requested reconciliation")
            await rec.stop()
            assert rec._task is None

    run(body)


def test_demo_reconciles_without_false_halt() -> None:
    """The demo (public JSON contract) reconciles after its arbitrages and at the end, and a
    normal run on the simulators never halts."""
    from openclaw.demo import run_demo

    summary = asyncio.run(asyncio.wait_for(run_demo(4.0, seed=3, show=False), 90))
    assert summary["arbitrages"] > 0
    assert summary["reconciliations"] >= 2, summary["reconciliations"]   # during + final
    assert summary["halted"] is False, summary["halt_reason"]
    assert summary["halt_reason"] == ""
    assert summary["journal_consistent"] is True and summary["lost_orders"] == 0
