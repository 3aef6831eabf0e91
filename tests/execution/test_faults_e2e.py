"""Faults end to end on loopback: the real pipeline (feeds -> books -> detection -> ccxt ->
journal -> alerts -> reconciliation) against the simulators, one fault per test.

Each test ends with every order in its true state (the simulator's own order list is the
truth), no client id twice at a venue, the journal's fills equal to the venue's trades, a
reconciliation that matches, and the expected alert (or none) at the fake Telegram server.
Router-level tests of the same faults (state only) are in test_router.py; ccxt-level ones in
tests/sim/engine/test_ccxt_faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt")

import aiohttp  # noqa: E402
from pipeline_child import Harness, build, sim_spec  # noqa: E402
from support.aio import deadline, until

from openclaw.alerts import Alerter, TelegramSink  # noqa: E402
from openclaw.execution.reconcile import ReconcileConfig  # noqa: E402
from openclaw.execution.router import Router, VenueRoute  # noqa: E402
from openclaw.execution.venues import Credentials, make_client  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.model.orders import Order, OrderStatus  # noqa: E402
from openclaw.sim import start_simulators  # noqa: E402
from openclaw.sim.telegram import TelegramSim  # noqa: E402

TOKEN = "123456:AAfaultsE2eTokenForTheFakeServer000001"
CHAT = "77"
CHILD = Path(__file__).with_name("pipeline_child.py")


run = deadline(120.0)


@dataclass
class Env:
    sims: Any
    tg: TelegramSim
    alerter: Alerter
    journal: Journal
    h: Harness
    http: aiohttp.ClientSession

    async def venue_orders(self, venue: str) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.sims.servers[venue].url}/_sim/orders") as r:
            r.raise_for_status()
            return (await r.json())["orders"]

    def texts(self) -> str:
        return "\n".join(m["text"] for m in self.tg.messages)


@contextlib.asynccontextmanager
async def env(tmp: Path, venues: list[str], *, route_timeout_s: float = 3.0
              ) -> AsyncIterator[Env]:
    sims = await start_simulators(seed=5, rate=20)
    tg = await TelegramSim(TOKEN).start()
    alerter = await Alerter([TelegramSink(TOKEN, CHAT, base_url=tg.url, min_interval=0.0)],
                            batch_window=0.05).start()
    journal = await Journal.open(tmp / "journal.sqlite", synchronous="NORMAL")
    h = build(sim_spec(sims, venues), journal, alerter=alerter,
              reconcile=ReconcileConfig(interval_s=2.0), route_timeout_s=route_timeout_s)
    http = aiohttp.ClientSession()
    try:
        await h.start()
        yield Env(sims, tg, alerter, journal, h, http)
    finally:
        await h.close()
        await alerter.aclose()
        await http.close()
        await journal.close()
        await tg.stop()
        await sims.aclose()


async def one_arbitrage(e: Env, venue: str) -> list[Order]:
    """Open a triangle on ``venue``, let the pipeline trade it once, stop new arbitrages."""
    e.sims.servers[venue].market.dislocate(venue, "ETH/BTC", 100.0)
    await until(lambda: e.h.pipeline.stats.arbitrages >= 1, 20, "an arbitrage")
    await e.h.pipeline.drain(30)        # no new one starts; the one in flight finishes
    assert await e.h.router.resolver.settle(15) == []   # legs in doubt are settled too
    return await _journal_orders(e)


async def _journal_orders(e: Env) -> list[Order]:
    cids = [r[0] for r in sqlite3.connect(e.journal.path).execute(
        "SELECT client_id FROM orders ORDER BY created_ns")]
    out = []
    for cid in cids:
        o = await e.journal.order(cid)
        assert o is not None
        out.append(o)
    return out


_TRUE_STATUS = {"filled": {OrderStatus.FILLED},
                "expired": {OrderStatus.CANCELED}, "canceled": {OrderStatus.CANCELED},
                "partially_filled": {OrderStatus.PARTIALLY_FILLED},
                "new": {OrderStatus.ACKED}}


async def assert_true_state(e: Env, orders: list[Order]) -> None:
    """Every journaled order as the venue has it; no duplicates; fills equal trades."""
    assert orders, "no order was journaled"
    assert await e.journal.consistency_check() == []
    fills = {}
    for f in await e.journal.fills():
        fills.setdefault(f.client_id, []).append(f.fill)
    for venue in {o.venue for o in orders}:
        at_venue: dict[str, list[dict[str, Any]]] = {}
        for vo in await e.venue_orders(venue):
            at_venue.setdefault(vo["client_id"], []).append(vo)
        for o in (o for o in orders if o.venue == venue):
            recs = at_venue.get(o.client_id, [])
            assert len(recs) <= 1, f"{o.client_id} {len(recs)} times at {venue}"
            if not recs:
                assert o.status is OrderStatus.REJECTED, (o.client_id, o.status, o.reason)
                assert o.filled_qty == 0 and o.client_id not in fills
                continue
            vo = recs[0]
            assert o.status in _TRUE_STATUS[vo["status"]], (o.client_id, o.status, vo)
            assert o.filled_qty == Decimal(vo["filled"]), (o.client_id, o.filled_qty, vo)
            assert o.venue_order_id == str(vo["id"])
            ours = fills.get(o.client_id, [])
            assert sum((f.qty for f in ours), Decimal(0)) == sum(
                (Decimal(t["qty"]) for t in vo["fills"]), Decimal(0))
            # the journal's notional agrees with the venue's cost up to its 8-decimal rounding
            assert abs(o.notional - Decimal(vo["cost"])) <= Decimal("1e-6"), (o, vo)


async def final_reconcile_ok(e: Env) -> None:
    rep = await e.h.reconciler.run_once()   # type: ignore[union-attr]
    assert rep.ok, rep.text() or rep.unreachable
    assert e.h.reconciler.halted is None    # type: ignore[union-attr]


def test_reject_mid_arbitrage_is_unwound_and_alerted(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path, ["okx"]) as e:
            e.sims.okx.inject_fault("order_reject")
            orders = await one_arbitrage(e, "okx")
            rejected = [o for o in orders if o.status is OrderStatus.REJECTED]
            assert len(rejected) == 1, [(o.status, o.reason) for o in orders]
            ms = e.h.pipeline.manager.stats
            assert ms.incomplete >= 1 and ms.unwinds >= 1
            await assert_true_state(e, orders)
            await final_reconcile_ok(e)
            await e.alerter.flush(10)
            text = e.texts()
            assert f"UNWIND: opportunity {rejected[0].opportunity_id}: unwinding" in text, text
            assert "=rejected" in text and "HALT" not in text, text

    run(body)


def test_server_error_mid_arbitrage_resolves_and_is_unwound(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path, ["binance"]) as e:
            e.sims.binance.inject_fault("server_error", status=503, scope="order")
            orders = await one_arbitrage(e, "binance")
            # the 5xx leg went UNKNOWN (it might have existed) and the query found nothing
            ev = {o.client_id: await e.journal.events(o.client_id) for o in orders}
            failed = [o for o in orders if o.status is OrderStatus.REJECTED]
            assert len(failed) == 1, [(o.status, o.reason) for o in orders]
            kinds = [x.kind.value for x in ev[failed[0].client_id]]
            assert kinds == ["sent", "unknown", "reject"], kinds
            await assert_true_state(e, orders)
            await final_reconcile_ok(e)
            await e.alerter.flush(10)
            text = e.texts()
            assert f"UNWIND: opportunity {failed[0].opportunity_id}: unwinding" in text, text
            assert "HALT" not in text

    run(body)


def test_partial_fill_mid_arbitrage_is_unwound_and_alerted(tmp_path: Path) -> None:
    async def body() -> None:
        async with env(tmp_path, ["bybit"]) as e:
            e.sims.bybit.inject_fault("partial_fill", ratio=0.5)
            orders = await one_arbitrage(e, "bybit")
            part = [o for o in orders if 0 < o.filled_qty < o.qty]
            assert len(part) == 1, [(o.status, o.filled_qty, o.qty) for o in orders]
            # Bybit reports the expired rest as closed: the order is over, CANCELED with fills
            assert part[0].status is OrderStatus.CANCELED
            await assert_true_state(e, orders)
            await final_reconcile_ok(e)
            await e.alerter.flush(10)
            text = e.texts()
            assert f"UNWIND: opportunity {part[0].opportunity_id}: unwinding" in text, text
            assert "=canceled" in text and "HALT" not in text, text

    run(body)


def test_reply_lost_mid_order_resolves_by_client_id_without_duplicate(tmp_path: Path) -> None:
    """The venue executes the order but its reply never comes; our side gives up the request
    (the connection is dropped by the client timeout). The leg is UNKNOWN, then the query by
    client id finds it filled; nothing is sent twice; no unwind, no halt."""

    async def body() -> None:
        async with env(tmp_path, ["okx"], route_timeout_s=1.0) as e:
            e.sims.okx.inject_fault("order_timeout", seconds=3600)
            orders = await one_arbitrage(e, "okx")
            first = orders[:3]
            lost = [o for o in first
                    if any(x.kind.value == "unknown" for x in await e.journal.events(o.client_id))]
            assert len(lost) == 1, [(o.status, o.reason) for o in first]
            assert lost[0].status is OrderStatus.FILLED
            assert all(o.status is OrderStatus.FILLED for o in first)
            assert e.h.pipeline.manager.stats.unwinds == 0
            await assert_true_state(e, orders)
            await final_reconcile_ok(e)
            await e.alerter.flush(10)
            text = e.texts()
            assert f"({lost[0].client_id})" in text, text      # its fill alert
            assert "UNWIND" not in text and "HALT" not in text, text

    run(body)


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
def test_rate_limit_rejects_backs_off_and_never_duplicates(tmp_path: Path, venue: str) -> None:
    """The venue's rate-limit reply (with its headers): the order was not executed, so it is
    REJECTED; the route's bucket is emptied for the venue's Retry-After; an order sent during
    the back-off never leaves the process; after it, the next one fills, exactly once."""

    async def body() -> None:
        from openclaw.model.client_ids import ClientIdFactory

        sims = await start_simulators(seed=5, rate=20)
        journal = await Journal.open(tmp_path / "journal.sqlite", synchronous="NORMAL")
        route = VenueRoute(venue, make_client(venue, Credentials.simulator(),
                                              sims.servers[venue].url))
        await route.start()
        router = Router({venue: route}, journal)
        ids = ClientIdFactory()

        def leg() -> Order:
            opp = ids.next_opportunity()
            return Order(ids.make(opp, 0), venue, "BTC/USDT", "buy", "market",
                         Decimal("0.01"), None, opp, 0)

        async def at_venue() -> list[dict[str, Any]]:
            async with aiohttp.ClientSession() as s, s.get(
                    f"{sims.servers[venue].url}/_sim/orders") as r:
                return (await r.json())["orders"]

        try:
            sims.servers[venue].inject_fault("rate_limit", scope="order", seconds=2)
            limited = leg()
            t0 = time.monotonic()
            await router.send_list([limited])
            assert limited.status is OrderStatus.REJECTED
            assert "RateLimitExceeded" in limited.reason or "DDoSProtection" in limited.reason
            assert route.stats.backoffs == 1
            during = leg()
            await router.send_list([during])
            assert during.status is OrderStatus.REJECTED
            assert "bucket empty" in (during.reason or "")
            await router.reconcile_unknown([limited, during])     # nothing UNKNOWN to resolve
            venue_ids = [o["client_id"] for o in await at_venue()]
            assert limited.client_id not in venue_ids and during.client_id not in venue_ids
            # the bucket refills after the venue's wait (Binance/Bybit headers say 2 s, OKX
            # sends none: our default of 1 s); poll, never taking a token while waiting
            await until(lambda: (route.bucket.try_acquire(0.0), route.bucket.tokens)[1] >= 1,
                        10, "the bucket to refill")
            waited = time.monotonic() - t0
            assert waited >= (0.9 if venue == "okx" else 1.5), waited
            after = leg()
            await router.send_list([after])
            await router.reconcile_unknown([after])
            assert after.status is OrderStatus.FILLED, (after.status, after.reason)
            venue_ids = [o["client_id"] for o in await at_venue()]
            assert venue_ids.count(after.client_id) == 1
            assert len(venue_ids) == 1          # only the order sent after the back-off
            assert await journal.consistency_check() == []
        finally:
            await route.close()
            await journal.close()
            await sims.aclose()

    run(body, 60)


def test_kill9_mid_arbitrage_then_recovery(tmp_path: Path) -> None:
    """A child process runs the whole pipeline against the simulators of this process. Every
    leg's reply is held back (the venue executes it), the journal holds the legs as sent but
    unanswered, the child is SIGKILLed. A new router on the same journal brings every order to
    its true state: fills equal the venue's trades, nothing sent twice, the reconciliation
    matches."""

    async def body() -> None:
        sims = await start_simulators(seed=5, rate=20)
        venue = "binance"
        jpath = tmp_path / "journal.sqlite"
        spec = {**sim_spec(sims, [venue]), "journal": str(jpath), "route_timeout_s": 60}
        spec_path = tmp_path / "spec.json"
        spec_path.write_text(json.dumps(spec))
        err_path = tmp_path / "child.stderr"
        err_file = err_path.open("w")
        proc = subprocess.Popen([sys.executable, str(CHILD), str(spec_path)],
                                stdout=subprocess.PIPE, stderr=err_file, text=True,
                                cwd=tmp_path)
        lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        assert proc.stdout is not None
        out = proc.stdout
        threading.Thread(target=lambda: [lines.put(ln) for ln in out], daemon=True).start()

        async def line(timeout: float) -> str:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    return lines.get_nowait()
                assert proc.poll() is None, err_path.read_text()
                await asyncio.sleep(0.02)
            raise AssertionError("child silent: " + err_path.read_text()[-2000:])

        def sent_in_journal() -> list[tuple[str, str]]:
            if not jpath.exists():
                return []
            con = sqlite3.connect(f"file:{jpath}?mode=ro", uri=True)
            try:
                return con.execute("SELECT client_id, status FROM orders").fetchall()
            except sqlite3.OperationalError:
                return []
            finally:
                con.close()

        try:
            assert (await line(60)).strip() == "READY"
            start_bal = {a: Decimal(b["total"]) for a, b in
                         sims.servers[venue].trading.account.snapshot().items()}
            sims.binance.inject_fault("order_timeout", count=3, seconds=3600)
            sims.binance.market.dislocate(venue, "ETH/BTC", 100.0)
            assert (await line(30)).startswith("ARB")
            # the router journals each leg NEW before sending it and its SENT event together
            # with the venue's answer: mid-flight, the journal holds three unanswered legs
            await until(lambda: sum(s == "new" for _, s in sent_in_journal()) == 3, 30,
                        "three unanswered legs in the journal")
            # the venue holds all three (executed, replies held back)
            await until(lambda: len(sims.binance.trading.engine.all_orders()) == 3, 30,
                        "three orders at the venue")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.returncode == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err_file.close()

        # restart: a new journal handle, new clients, nothing from the child's memory
        journal = await Journal.open(jpath)
        route = VenueRoute(venue, make_client(venue, Credentials.simulator(), sims.binance.url))
        try:
            await route.start()
            router = Router({venue: route}, journal)
            recovered = await router.recover()
            assert len(recovered) == 3
            assert await journal.open_orders() == []
            assert await journal.consistency_check() == []
            venue_orders = [o.as_dict() for o in sims.binance.trading.engine.all_orders()]
            by_cid: dict[str, list[dict[str, Any]]] = {}
            for vo in venue_orders:
                by_cid.setdefault(vo["client_id"], []).append(vo)
            fills: dict[str, Decimal] = {}
            for f in await journal.fills():
                fills[f.client_id] = fills.get(f.client_id, Decimal(0)) + f.fill.qty
            for o in recovered:
                assert len(by_cid.get(o.client_id, [])) == 1, (o.client_id, by_cid)
                vo = by_cid[o.client_id][0]
                assert o.status is {"filled": OrderStatus.FILLED,
                                    "expired": OrderStatus.CANCELED}[vo["status"]], (o, vo)
                assert o.filled_qty == Decimal(vo["filled"])
                assert fills.get(o.client_id, Decimal(0)) == sum(
                    (Decimal(t["qty"]) for t in vo["fills"]), Decimal(0))
            assert len(venue_orders) == 3               # no order was sent again
            # the journal's fills explain the venue's balances exactly (to its rounding)
            from openclaw.execution.reconcile import Reconciler, expected_balances

            rows = [(f.venue, f.symbol, f.side, f.fill.qty, f.fill.price, f.fill.fee,
                     f.fill.fee_asset) for f in await journal.fills()]
            exp = expected_balances({venue: start_bal}, rows)[venue]
            now = {a: Decimal(b["total"]) for a, b in
                   sims.binance.trading.account.snapshot().items()}
            for asset in set(exp) | set(now):
                assert abs(exp.get(asset, Decimal(0)) - now.get(asset, Decimal(0))) \
                    <= Decimal("1e-6"), (asset, exp, now)
            rec = Reconciler(router, journal)
            await rec.snapshot()
            assert (await rec.run_once()).ok
        finally:
            await route.close()
            await journal.close()
            await sims.aclose()

    run(body, 150)
