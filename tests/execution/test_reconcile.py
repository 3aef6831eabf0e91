"""Reconciliation against the simulators through the real ccxt clients (loopback).

A matching run passes; a balance moved at the venue behind our back, or a fill made at the
venue by someone else, halts trading (risk engine HALTED, pipeline stopped) with an alert at the
fake Telegram server; tolerance is respected; a venue that does not answer is reported, not
read as zero.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt")

import aiohttp  # noqa: E402
from pipeline_child import build, sim_spec  # noqa: E402
from support.aio import deadline, until

from openclaw.alerts import Alerter, TelegramSink  # noqa: E402
from openclaw.execution.ratelimit import TokenBucket  # noqa: E402
from openclaw.execution.reconcile import (  # noqa: E402
    AssetTolerance,
    ReconcileConfig,
    Reconciler,
    expected_balances,
)
from openclaw.execution.router import Router, VenueRoute  # noqa: E402
from openclaw.execution.venues import Credentials, make_client  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.model.client_ids import ClientIdFactory  # noqa: E402
from openclaw.model.orders import Order, OrderStatus  # noqa: E402
from openclaw.risk import ACTIVE, HALTED, InstrumentLimits, RiskLimits, VenueLimits  # noqa: E402
from openclaw.risk import build_engine as build_risk  # noqa: E402
from openclaw.sim import start_simulators  # noqa: E402
from openclaw.sim.telegram import TelegramSim  # noqa: E402

VENUES = ("binance", "okx", "bybit")
TOKEN = "123456:AAreconcileTokenForTheFakeServer00001"
CHAT = "99"


run = deadline(90.0)


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
        # a short visibility window: an order the venue does not know settles within a test
        router = Router(routes, journal, visibility_window_s=0.3)
        yield Env(sims, tg, alerter, journal, routes, router, ClientIdFactory(), http)
    finally:
        await router.aclose()
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
            await until(lambda: not h.pipeline.manager.busy, 20, "the arbitrage to finish")
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


def test_open_order_the_venue_does_not_have_is_settled_not_a_mismatch(tmp_path: Path) -> None:
    """"No such order" is what settles a journaled order that never reached the venue: the
    reconciler hands it to the resolver (pending, no halt), which journals it as never placed
    once the visibility window has passed."""

    async def body() -> None:
        async with env(tmp_path) as e:
            rec = Reconciler(e.router, e.journal)
            await rec.snapshot()
            ghost = legs(e.ids, "buy")[1]                     # okx
            await e.journal.record_new(ghost)                 # journaled, never sent
            rep = await rec.run_once(["okx"])
            assert rep.order_mismatches == [] and rec.halted is None, rep.text()
            assert rep.pending == [ghost.client_id]
            assert await e.router.resolver.settle(10) == []
            row = await e.journal.order(ghost.client_id)
            assert row is not None and row.status is OrderStatus.REJECTED, row
            assert "no such order" in (row.reason or "")
            rep = await rec.run_once(["okx"])
            assert rep.ok and rep.pending == [], rep.text()

    run(body)


def test_open_order_whose_journaled_fill_the_venue_lacks_is_a_mismatch(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            rec = Reconciler(e.router, e.journal)
            await rec.snapshot()
            ghost = legs(e.ids, "buy")[1]                     # okx
            await e.journal.record_new(ghost)
            events = [ghost.mark_sent(), ghost.ack("V-ghost")]
            events.append(ghost.fill("V-ghost-1", Decimal("0.005"), Decimal("50000"),
                                     Decimal(0), None))
            await e.journal.record_event(ghost, *events)
            rep = await rec.run_once(["okx"])
            assert [(m.client_id, m.venue_status) for m in rep.order_mismatches] == [
                (ghost.client_id, None)]
            assert rec.halted is not None and "has no such order" in rec.halted
            assert ghost.client_id in rec.halted and "filled 0.005" in rec.halted

    run(body)


def test_difference_pending_orders_explain_is_not_a_mismatch(tmp_path: Path) -> None:
    """While an order is still being resolved, a balance difference it could explain (a fill
    of its remaining quantity at its limit or better, with a fee) does not halt; one it cannot
    explain does, and the halt names the orders still pending. Once nothing is pending, the
    venue's balances refresh the risk gate."""

    async def body() -> None:
        async with env(tmp_path) as e:
            router = Router(e.routes, e.journal, visibility_window_s=60)  # stays pending
            gate = _Refreshes()
            rec = Reconciler(router, e.journal, risk=gate)
            await rec.snapshot()
            o = Order(e.ids.make(e.ids.next_opportunity(), 0), "okx", "BTC/USDT", "buy",
                      "limit", Decimal("0.01"), Decimal("50000"), 1, 0)
            await e.journal.record_new(o)
            await e.journal.record_event(o, o.mark_sent(), o.mark_unknown("timeout"))
            router.resolver.watch(o)
            # as if it had filled 0.006 at 49,900 with a 0.01 USDT fee: the journal knows nothing
            await e.move_balance("okx", "BTC", "0.006")
            await e.move_balance("okx", "USDT", "-299.41")
            rep = await rec.run_once(["okx"])
            assert rep.ok and rec.halted is None, rep.text()
            assert rep.pending == [o.client_id] and len(rep.explained) == 2, rep.explained
            assert rep.refreshed == [] and gate.calls == []      # something is open on okx
            # more than the order could ever do: a mismatch, and the halt says what is pending
            await e.move_balance("okx", "BTC", "0.01")
            rep = await rec.run_once(["okx"])
            assert [m.asset for m in rep.balance_mismatches] == ["BTC"], rep.text()
            assert rec.halted is not None and o.client_id in rec.halted, rec.halted
            await router.aclose()

    run(body)


class _Refreshes:
    """Records what the reconciler hands to the risk gate."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def balance_epoch(self, venue: str) -> int:
        return 0

    def refresh_balances(self, venue: str, balances: dict[str, Decimal],
                         epoch: int | None = None) -> bool:
        self.calls.append(venue)
        return True


def test_quiet_venue_refreshes_the_risk_gate(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path) as e:
            gate = _Refreshes()
            rec = Reconciler(e.router, e.journal, risk=gate)
            await rec.snapshot()
            rep = await rec.run_once()
            assert rep.ok and sorted(rep.refreshed) == sorted(VENUES) == sorted(gate.calls)
            assert rec.summary()["risk_refreshes"] == 3

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
    from openclaw.app.demo import run_demo

    summary = asyncio.run(asyncio.wait_for(run_demo(4.0, seed=3), 90))
    assert summary["arbitrages"] > 0
    assert summary["reconciliations"] >= 2, summary["reconciliations"]   # during + final
    assert summary["halted"] is False, summary["halt_reason"]
    assert summary["halt_reason"] == ""
    assert summary["journal_consistent"] is True and summary["lost_orders"] == 0


def test_raising_on_halt_callback_cannot_cost_the_alert(tmp_path: Path) -> None:
    """The engine halts and the HIGH alert goes out before the callbacks; a callback that
    raises is logged and the next one still runs."""

    async def body() -> None:
        async with env(tmp_path) as e:
            engine = risk_engine()
            seen: list[str] = []

            def broken(reason: str) -> None:
                raise RuntimeError("callback broke")

            rec = Reconciler(e.router, e.journal, alerter=e.alerter, engine=engine,
                             on_halt=[broken, seen.append])
            await rec.snapshot()
            await e.move_balance("bybit", "USDT", "-100")
            rep = await rec.run_once(["bybit"])          # the broken callback does not escape
            assert rep.mismatched and rec.halted is not None
            assert engine.trading_state == HALTED
            assert seen == [rec.halted]
            await e.alerter.flush(10)
            assert "HALT: trading halted: reconciliation mismatch: bybit USDT" in e.texts()

    run(body)


def test_background_failures_alert_after_n_in_a_row_and_keep_trying(tmp_path: Path) -> None:
    """Runs that raise (here: the reconciler's journal is closed) are retried; the third in a
    row sends one DISCONNECT alert, and the task keeps going."""

    async def body() -> None:
        async with env(tmp_path) as e:
            other = await Journal.open(tmp_path / "other.sqlite", synchronous="NORMAL")
            rec = Reconciler(e.router, other, alerter=e.alerter, config=ReconcileConfig(
                interval_s=0.05, min_gap_s=0.0, alert_after_failures=3))
            await rec.snapshot()
            await other.close()
            rec.start()
            try:
                await until(lambda: rec.failures >= 6, 30, "six failed runs")
                assert rec._task is not None and not rec._task.done()   # still retrying
                assert rec.runs == 0 and rec.halted is None
            finally:
                await rec.stop()
            await e.alerter.flush(10)
            text = e.texts()
            assert text.count("DISCONNECT: reconciliation: 3 runs in a row failed") == 1, text
            assert "JournalClosedError" in text, text
            assert rec.summary()["reconcile_failures"] >= 6

    run(body)


class _RecordingBucket(TokenBucket):
    """A real bucket that remembers how many tokens each take left behind."""

    def __init__(self, rate: float, burst: float) -> None:
        super().__init__(rate, burst)
        self.left: list[float] = []

    def try_acquire(self, n: float = 1.0) -> bool:
        took = super().try_acquire(n)
        if took and n > 0:
            self.left.append(self.tokens)
        return took


def test_queries_leave_the_token_reserve_to_orders(tmp_path: Path) -> None:
    """Balance and open-order queries only take a token once ``reserve_tokens`` more are in
    the venue's bucket: an order arriving meanwhile always finds its tokens."""

    async def body() -> None:
        async with env(tmp_path) as e:
            rec = Reconciler(e.router, e.journal, config=ReconcileConfig(reserve_tokens=5))
            await rec.snapshot()
            ghost = legs(e.ids, "buy")[1]                     # okx, journaled, never sent
            await e.journal.record_new(ghost)
            bucket = _RecordingBucket(rate=40.0, burst=10.0)
            bucket.tokens = 0.0                               # empty: everything must wait
            e.routes["okx"].bucket = bucket
            rep = await rec.run_once(["okx"])
            assert rep.order_mismatches == [] and rep.pending == [ghost.client_id]
            assert len(bucket.left) == 2, bucket.left          # the balance and the order
            assert min(bucket.left) >= 5 - 1e-9, bucket.left

    run(body)


class _Fetches(VenueRoute):
    """A real route whose order query raises a chosen exception (the error class is the point:
    ccxt's OrderNotFound, a subclass of it, or an unrelated class with the same name)."""

    error: Exception

    async def fetch(self, order: Order) -> dict[str, Any]:
        await self.bucket.acquire()
        raise self.error


def test_order_not_found_is_recognised_by_class_not_by_name(tmp_path: Path) -> None:
    import ccxt

    class VenueOrderNotFound(ccxt.OrderNotFound):
        pass

    lookalike = type("OrderNotFound", (Exception,), {})

    async def body() -> None:
        async with env(tmp_path) as e:
            route = _Fetches("okx", e.routes["okx"].client)
            router = Router({**e.routes, "okx": route}, e.journal)
            rec = Reconciler(router, e.journal,
                             config=ReconcileConfig(attempts=1, retry_delay_s=0))
            await rec.snapshot()
            ghost = legs(e.ids, "buy")[1]                     # okx
            await e.journal.record_new(ghost)
            route.error = VenueOrderNotFound("gone")          # a venue's subclass: not found
            rep = await rec.run_once(["okx"])
            # not found settles it (the resolver takes it): pending, not unreachable
            assert not rep.order_mismatches and rep.pending == [ghost.client_id]
            assert "okx" not in rep.unreachable, rep.unreachable
            await router.aclose()
            ghost2 = legs(e.ids, "buy")[1]
            await e.journal.record_new(ghost2)
            route.error = lookalike("not ccxt's")             # same name, other class: a failure
            rep = await rec.run_once(["okx"])
            assert not rep.order_mismatches
            assert "order query" in rep.unreachable["okx"], rep.unreachable

    run(body)


def _live_toml(sims: Any, tmp: Path, tg_url: str, triarb: bool) -> str:
    """Every venue 'live' at this test's simulators (so the test can move balances there),
    alerts to this test's fake Telegram server, reconciliation every 0.3 s."""
    ws = {"binance": sims.binance.ws_base, "okx": sims.okx.ws_url, "bybit": sims.bybit.ws_base}
    text = ""
    for v in VENUES:
        text += (f'[venues.{v}]\nmode = "live"\nws = "{ws[v]}"\nrest = "{sims.servers[v].url}"\n'
                 'api_key_env = "T_KEY"\nsecret_env = "T_SECRET"\n'
                 + ('passphrase_env = "T_PASS"\n' if v == "okx" else "") + "\n")
        for spec in sims.market.instruments(v, "spot"):
            base, quote = spec.symbol.split("/")
            text += (f'[[instruments]]\nvenue = "{v}"\nsymbol = "{spec.venue_symbol}"\n'
                     f'base = "{base}"\nquote = "{quote}"\ntick_size = "{spec.tick}"\n'
                     f'lot_size = "{spec.lot}"\n\n')
    # triarb on (the pipeline is wired to the reconciler) but never profitable enough to trade
    text += (f"[strategy.triarb]\nenabled = {'true' if triarb else 'false'}\n"
             "min_profit_bps = 5000\nmax_book_age_ms = 2000\n\n")
    text += f'[journal]\npath = "{tmp / "journal.sqlite"}"\n\n'
    text += (f'[alerts.telegram]\ntoken_env = "T_TG_TOKEN"\nchat_env = "T_TG_CHAT"\n'
             f'base_url = "{tg_url}"\n\n')
    return text + "[reconcile]\ninterval_s = 0.3\n"


@pytest.fixture
def live_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from openclaw.execution.venues import SIM_KEY, SIM_PASSPHRASE, SIM_SECRET

    for k, v in (("T_KEY", SIM_KEY), ("T_SECRET", SIM_SECRET), ("T_PASS", SIM_PASSPHRASE),
                 ("T_TG_TOKEN", TOKEN), ("T_TG_CHAT", CHAT)):
        monkeypatch.setenv(k, v)


def test_openclaw_run_reconciles_and_halts_on_a_moved_balance(tmp_path: Path,
                                                              live_env: None) -> None:
    """``openclaw-trading run`` (run_config, in process) reconciles from its start: money moved at a
    venue behind its back -> HALT alert at the Telegram server, and the run summary says
    halted (not ok)."""
    from openclaw.app.config import load_config
    from openclaw.app.runner import run_config

    async def body() -> dict[str, Any]:
        sims = await start_simulators(seed=5, rate=20)
        tg = await TelegramSim(TOKEN).start()
        http = aiohttp.ClientSession()
        try:
            path = tmp_path / "run.toml"
            path.write_text(_live_toml(sims, tmp_path, tg.url, triarb=True))
            cfg = load_config(path)
            assert cfg.reconcile.interval_s == 0.3
            stop = asyncio.Event()
            lines: list[str] = []
            run_task = asyncio.create_task(run_config(
                cfg, source=str(path), stop=stop, install_signals=False, status=lines.append))
            await until(lambda: bool(lines) or run_task.done(), 60, "the run to start")
            assert not run_task.done(), run_task.result()
            url = sims.okx.url
            async with http.get(f"{url}/_sim/balances") as r:
                bal = (await r.json())["balances"]
            new = {a: b["total"] for a, b in bal.items()}
            new["USDT"] = str(Decimal(new["USDT"]) - Decimal("250"))
            async with http.post(f"{url}/_sim/balances", json=new) as r:
                assert r.status == 200, await r.text()
            want = "HALT: trading halted: reconciliation mismatch: okx USDT"
            await until(lambda: any(want in m["text"] for m in tg.messages)
                        or run_task.done(), 30, "the HALT alert")
            stop.set()
            summary = await run_task
        finally:
            await http.close()
            await tg.stop()
            await sims.aclose()
        return summary

    summary = run(body, 150)
    assert summary["halted"] is True, summary
    assert "okx USDT" in summary["halt_reason"], summary["halt_reason"]
    assert summary["reconciliations"] >= 1
    assert summary["ok"] is False                      # a halted run is not a clean run
    assert summary["journal_consistent"] and summary["open_orders"] == []


def test_reconcile_section_defaults_and_errors() -> None:
    """``[reconcile]`` is optional (defaults), typed, and a bad value is a listed ConfigError."""
    from openclaw.app.config import ConfigError, parse_config

    base = {"venues": {"okx": {}}, "instruments": [
        {"venue": "okx", "symbol": "BTC-USDT", "base": "BTC", "quote": "USDT",
         "tick_size": "0.1", "lot_size": "0.00000001"}]}
    cfg = parse_config(base)
    assert cfg.reconcile == ReconcileConfig() and cfg.reconcile.interval_s == 5.0
    assert cfg.reconcile.alert_after_failures == 3
    cfg = parse_config({**base, "reconcile": {"interval_s": 1.5, "tolerances": {
        "USDT": {"abs": "0.01", "rel": "0"}}}})
    assert cfg.reconcile.tolerance_of("USDT") == AssetTolerance(abs=Decimal("0.01"),
                                                                rel=Decimal(0))
    assert cfg.reconcile.tolerance_of("BTC") == AssetTolerance()
    with pytest.raises(ConfigError) as e:
        parse_config({**base, "reconcile": {"interval_s": 0, "bogus": 1}})
    paths = [p for p, _ in e.value.errors]
    assert "reconcile.interval_s" in paths and "reconcile.bogus" in paths, e.value.errors
