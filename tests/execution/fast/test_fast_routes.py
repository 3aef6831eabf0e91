"""The fast routes (venue trading WebSockets) against the simulators on loopback, through the
same Router, state machine and journal as the ccxt route.

Every order's truth is read back from the simulator's own order list (``GET /_sim/orders``) so
that "no duplicate" and "recovered state" are checked against the venue, not against ourselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

pytest.importorskip("ccxt")

from openclaw.execution.client_ids import ClientIdFactory  # noqa: E402
from openclaw.execution.fast import (  # noqa: E402
    FastConfig,
    LoginError,
    VenueRejected,
    make_fast_route,
)
from openclaw.execution.orders import Order, OrderStatus  # noqa: E402
from openclaw.execution.ratelimit import TokenBucket  # noqa: E402
from openclaw.execution.router import Router, VenueRoute  # noqa: E402
from openclaw.execution.venues import Credentials, make_client  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.sim import start_simulators  # noqa: E402

VENUES = ("binance", "okx", "bybit")
WS_KEY = {"binance": "ws_api", "okx": "ws_private", "bybit": "ws_trade"}


def run(coro_fn: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    async def guarded() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(guarded())


class AlertLog:
    """Collects what the routes report through the Alerter interface they use."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def disconnect(self, venue: str, detail: str) -> bool:
        self.lines.append((venue, detail))
        return True


class Rig:
    def __init__(self, sims: Any, journal: Journal, routes: dict[str, VenueRoute],
                 alerts: AlertLog) -> None:
        self.sims = sims
        self.journal = journal
        self.routes = routes
        self.router = Router(routes, journal)
        self.alerts = alerts
        self.ids = ClientIdFactory()

    def fast(self, venue: str) -> Any:
        return self.routes[venue].fast

    def legs(self, qty: str = "0.01", kind: str = "market", price: str | None = None,
             venues: tuple[str, ...] = VENUES, side: str = "buy") -> list[Order]:
        opp = self.ids.next_opportunity()
        px = Decimal(price) if price is not None else None
        return [Order(self.ids.make(opp, k), v, "BTC/USDT", side, kind, Decimal(qty), px, opp, k)
                for k, v in enumerate(venues)]

    async def venue_orders(self, venue: str, client_id: str) -> list[dict[str, Any]]:
        """The simulator's own record of every order with this client id."""
        url = self.sims.urls[venue]["control"] + "/_sim/orders"
        async with aiohttp.ClientSession() as s, s.get(url) as r:
            body = await r.json()
        return [o for o in body["orders"] if o["client_id"] == client_id]

    async def close(self) -> None:
        for r in self.routes.values():
            await r.close()
        await self.journal.close()
        await self.sims.aclose()


async def _rig(tmp: Path, *, timeout_s: float = 3.0, creds: Credentials | None = None,
               backoff: float = 0.05, start: bool = True) -> Rig:
    sims = await start_simulators(seed=5, rate=20)
    journal = await Journal.open(tmp / "journal.sqlite", synchronous="NORMAL")
    alerts = AlertLog()
    sim_creds = Credentials.simulator()
    cfg = FastConfig(timeout_s=timeout_s, backoff_initial=backoff, backoff_max=max(2.0, backoff))
    routes = {v: VenueRoute(v, make_client(v, sim_creds, sims.urls[v]["rest"]),
                            timeout_s=timeout_s,
                            fast=make_fast_route(v, sims.urls[v][WS_KEY[v]], creds or sim_creds,
                                                 cfg, alerts))
              for v in VENUES}
    rig = Rig(sims, journal, routes, alerts)
    if start:
        try:
            for r in routes.values():
                await r.start()
        except BaseException:
            await rig.close()
            raise
    return rig


async def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


def test_three_legs_acked_and_filled_through_the_fast_routes(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            orders = await rig.router.send_list(rig.legs())
            for o in orders:     # acknowledged by the socket reply, before any query
                assert o.status in (OrderStatus.ACKED, OrderStatus.FILLED), (o.venue, o.status,
                                                                            o.reason)
                assert o.venue_order_id
            # Binance's FULL reply already carries the fills; OKX/Bybit reply with ids only
            assert {o.venue: o.status for o in orders}["binance"] is OrderStatus.FILLED
            await rig.router.reconcile_unknown(orders)
            for o in orders:
                assert o.status is OrderStatus.FILLED, (o.venue, o.status, o.reason)
                assert o.filled_qty == Decimal("0.01")
                assert o.avg_price is not None and o.avg_price > 0
                assert o.fees.get("BTC") == Decimal("0.00001"), (o.venue, o.fees)
                truth = await rig.venue_orders(o.venue, o.client_id)
                assert len(truth) == 1 and truth[0]["status"] == "filled"
                assert str(truth[0]["id"]) == o.venue_order_id
                assert rig.fast(o.venue).stats.sent == 1
                assert rig.fast(o.venue).stats.fallbacks == 0
            assert await rig.journal.consistency_check() == []
            for o in orders:
                row = await rig.journal.order(o.client_id)
                assert row is not None and row.status is OrderStatus.FILLED
        finally:
            await rig.close()

    run(body)


def test_ioc_limit_without_liquidity_expires(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            orders = await rig.router.send_list(rig.legs(kind="limit", price="1000"))
            await rig.router.reconcile_unknown(orders)
            for o in orders:
                assert o.status is OrderStatus.CANCELED, (o.venue, o.status, o.reason)
                assert o.filled_qty == 0
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_reject_is_the_venues_error_and_the_others_fill(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            for v in VENUES:
                rig.sims.servers[v].inject_fault("order_reject")
                orders = await rig.router.send_list(rig.legs())
                await rig.router.reconcile_unknown(orders)
                by = {o.venue: o for o in orders}
                assert by[v].status is OrderStatus.REJECTED, (v, by[v].status, by[v].reason)
                assert "VenueRejected" in (by[v].reason or "")
                want = {"binance": "-1013", "okx": "51006", "bybit": "17019"}[v]
                assert want in (by[v].reason or ""), by[v].reason
                for other in VENUES:
                    if other != v:
                        assert by[other].status is OrderStatus.FILLED, (other, by[other].reason)
                assert await rig.venue_orders(v, by[v].client_id) == []
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_partial_fill(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            for v in VENUES:
                rig.sims.servers[v].inject_fault("partial_fill", ratio=0.5)
            orders = await rig.router.send_list(rig.legs(qty="0.02"))
            await rig.router.reconcile_unknown(orders)
            for o in orders:
                assert o.filled_qty == Decimal("0.01"), (o.venue, o.filled_qty)
                assert o.status is OrderStatus.CANCELED, (o.venue, o.status)  # IOC rest expired
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_rate_limit_ours_and_the_venues(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            # our own bucket refuses before anything is sent, on either route
            rig.routes["okx"].bucket = TokenBucket(rate=0.001, burst=1)
            rig.routes["okx"].bucket.tokens = 0
            orders = await rig.router.send_list(rig.legs(venues=("okx",)))
            assert orders[0].status is OrderStatus.REJECTED
            assert "bucket empty" in (orders[0].reason or "")
            assert rig.fast("okx").stats.sent == 0
            # the venue's own rate-limit answer over the socket: refused, never retried
            for v in ("binance", "bybit"):
                rig.sims.servers[v].inject_fault("rate_limit", scope="order")
            orders = await rig.router.send_list(rig.legs(venues=("binance", "bybit")))
            for o in orders:
                assert o.status is OrderStatus.REJECTED, (o.venue, o.status, o.reason)
                assert await rig.venue_orders(o.venue, o.client_id) == []
                assert rig.fast(o.venue).stats.sent == 1
                assert "rate" in (o.reason or "").lower() or "many" in (o.reason or "").lower()
                assert rig.routes[o.venue].stats.backoffs == 1     # the bucket backs off
        finally:
            await rig.close()

    run(body)


def test_bad_signature_gets_the_venues_error(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Credentials.simulator()
        bad = Credentials(sim.api_key, "not-the-secret", sim.password)
        rig = await _rig(tmp_path, creds=bad, start=False)
        try:
            # OKX and Bybit refuse the login at start-up with their own codes
            for v, code in (("okx", "60007"), ("bybit", "10004")):
                with pytest.raises(LoginError) as err:
                    await rig.fast(v).start()
                assert err.value.code == code, (v, err.value.code, err.value.msg)
                assert "not-the-secret" not in str(err.value)
            # Binance signs each request: the order itself is refused with -1022
            await rig.routes["binance"].start()
            orders = await rig.router.send_list(rig.legs(venues=("binance",)))
            o = orders[0]
            assert o.status is OrderStatus.REJECTED
            assert "-1022" in (o.reason or ""), o.reason
            assert await rig.venue_orders("binance", o.client_id) == []
        finally:
            await rig.close()

    run(body)


def test_expired_session_surfaces_the_error_and_logs_in_again(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            for v in ("okx", "bybit"):
                rig.sims.servers[v].inject_fault("expire_session")
                orders = await rig.router.send_list(rig.legs(venues=(v,)))
                o = orders[0]
                assert o.status is OrderStatus.REJECTED, (v, o.status, o.reason)
                assert "VenueRejected" in (o.reason or "")
                assert await rig.venue_orders(v, o.client_id) == []
                fast = rig.fast(v)
                await _until(lambda fast=fast: fast.up and fast.stats.relogins == 1)
                assert fast.stats.logins == 2
                again = await rig.router.send_list(rig.legs(venues=(v,)))
                assert again[0].status is OrderStatus.ACKED, (v, again[0].reason)
                assert any(v == venue for venue, _ in rig.alerts.lines)
            # Binance signs every request: an expired session changes nothing for HMAC keys
            rig.sims.servers["binance"].inject_fault("expire_session")
            orders = await rig.router.send_list(rig.legs(venues=("binance",)))
            assert orders[0].status is OrderStatus.FILLED, orders[0].reason
        finally:
            await rig.close()

    run(body)


def test_socket_drop_with_orders_in_flight_recovers_by_client_id(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            for v in VENUES:
                rig.sims.servers[v].inject_fault("drop_ws")
            orders = await rig.router.send_list(rig.legs())
            for o in orders:
                assert o.status is OrderStatus.UNKNOWN, (o.venue, o.status, o.reason)
                row = await rig.journal.order(o.client_id)
                assert row is not None and row.status is OrderStatus.UNKNOWN
            await rig.router.reconcile_unknown(orders)
            for o in orders:
                truth = await rig.venue_orders(o.venue, o.client_id)
                assert len(truth) <= 1                          # never sent twice
                if truth:
                    assert o.status is OrderStatus.FILLED, (o.venue, o.status, o.reason)
                    assert o.venue_order_id == str(truth[0]["id"])
                    assert o.filled_qty == Decimal(truth[0]["filled"])
                else:
                    assert o.status is OrderStatus.REJECTED, (o.venue, o.status, o.reason)
            # every route reconnected and logged in again on its own
            for v in VENUES:
                fast = rig.fast(v)
                await _until(lambda fast=fast: fast.up)
                assert fast.stats.reconnects == 1 and fast.stats.fallbacks == 0
            again = await rig.router.send_list(rig.legs())
            assert all(o.status in (OrderStatus.ACKED, OrderStatus.FILLED) for o in again)
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_fallback_to_ccxt_while_the_socket_is_down_never_both(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path, backoff=30.0)         # stays down for the test
        try:
            fast = rig.fast("bybit")
            rig.sims.servers["bybit"].inject_fault("drop_ws")
            first = await rig.router.send_list(rig.legs(venues=("bybit",)))
            await _until(lambda: not fast.up)
            sent_before = fast.stats.sent
            orders = await rig.router.send_list(rig.legs())
            await rig.router.reconcile_unknown(first + orders)
            by = {o.venue: o for o in orders}
            assert fast.stats.fallbacks == 1 and fast.stats.sent == sent_before
            assert by["bybit"].status is OrderStatus.FILLED, by["bybit"].reason
            for o in orders:
                truth = await rig.venue_orders(o.venue, o.client_id)
                assert len(truth) == 1, (o.venue, truth)          # sent exactly once
            assert rig.fast("okx").stats.fallbacks == 0
            assert any(v == "bybit" and "ccxt" in text for v, text in rig.alerts.lines)
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_cancel_and_status_by_client_id(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            for v in VENUES:
                [o] = await rig.router.send_list(rig.legs(venues=(v,)))
                await rig.router.reconcile_unknown([o])
                assert o.status is OrderStatus.FILLED
                # cancelling a filled order: the venue's own "unknown order" refusal
                with pytest.raises(VenueRejected) as err:
                    await rig.fast(v).cancel(o)
                assert err.value.code in {"binance": ("-2011",), "okx": ("51400", "51401",
                                                                         "51402"),
                                          "bybit": ("170213", "110001")}[v], err.value
            [o] = await rig.router.send_list(rig.legs(venues=("binance",)))
            rec = await rig.fast("binance").status(o)
            assert rec["id"] == o.venue_order_id and rec["status"] == "closed"
            assert Decimal(rec["filled"]) == o.filled_qty
        finally:
            await rig.close()

    run(body)


def test_keepalive_pings_are_answered(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path, start=False)
        try:
            for v in ("okx", "bybit"):
                rig.fast(v).config.ping_interval = 0.05
                await rig.routes[v].start()
            await _until(lambda: all(rig.fast(v).stats.pongs >= 3 for v in ("okx", "bybit")))
            assert rig.fast("okx").up and rig.fast("bybit").up
            [o] = await rig.router.send_list(rig.legs(venues=("okx",)))
            assert o.status is OrderStatus.ACKED
        finally:
            await rig.close()

    run(body)


def test_timeout_is_unknown_until_the_venue_answers(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path, timeout_s=1.0)
        try:
            rig.sims.bybit.inject_fault("order_timeout")
            orders = await rig.router.send_list(rig.legs())
            by = {o.venue: o for o in orders}
            assert by["bybit"].status is OrderStatus.UNKNOWN      # never REJECTED on a timeout
            assert rig.fast("bybit").stats.timeouts == 1
            row = await rig.journal.order(by["bybit"].client_id)
            assert row is not None and row.status is OrderStatus.UNKNOWN
            await rig.router.reconcile_unknown(orders)
            assert by["bybit"].status is OrderStatus.FILLED       # the venue executed it
            assert by["bybit"].filled_qty == Decimal("0.01")
            assert len(await rig.venue_orders("bybit", by["bybit"].client_id)) == 1
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_server_error_not_executed_resolves_to_rejected(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path)
        try:
            for v in VENUES:
                rig.sims.servers[v].inject_fault("server_error", scope="order")
            orders = await rig.router.send_list(rig.legs())
            for o in orders:                  # a 5xx-class answer may hide an order
                assert o.status is OrderStatus.UNKNOWN, (o.venue, o.status, o.reason)
            await rig.router.reconcile_unknown(orders)
            for o in orders:                  # the venue has no such order
                assert o.status is OrderStatus.REJECTED, (o.venue, o.status, o.reason)
                assert await rig.venue_orders(o.venue, o.client_id) == []
            assert await rig.journal.consistency_check() == []
        finally:
            await rig.close()

    run(body)


def test_restart_recovers_fast_route_orders_left_unanswered(tmp_path: Path) -> None:
    async def body() -> None:
        rig = await _rig(tmp_path, timeout_s=1.0)
        try:
            legs = rig.legs()
            never_sent, unanswered = legs[0], legs[1]
            await rig.journal.record_new(never_sent)          # crash before sending it
            rig.sims.okx.inject_fault("order_timeout")
            await rig.router.send_list([unanswered])          # executed, reply never arrives
            assert unanswered.status is OrderStatus.UNKNOWN
            await rig.journal.close()
            journal2 = await Journal.open(tmp_path / "journal.sqlite")
            rig.journal = journal2
            recovered = {o.client_id: o for o in await Router(rig.routes, journal2).recover()}
            assert recovered[never_sent.client_id].status is OrderStatus.REJECTED
            assert recovered[unanswered.client_id].status is OrderStatus.FILLED
            assert await journal2.open_orders() == []
            assert len(await rig.venue_orders("okx", unanswered.client_id)) == 1
        finally:
            await rig.close()

    run(body)
