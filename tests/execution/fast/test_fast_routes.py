"""The fast routes (venue trading WebSockets) against the simulators on loopback, through the
same Router, state machine and journal as the ccxt route.

Every order's truth is read back from the simulator's own order list (``GET /_sim/orders``) so
that "no duplicate" and "recovered state" are checked against the venue, not against ourselves.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt")

from support.aio import deadline, until
from support.rigs import VENUES, trading_rig

from openclaw.execution.fast import LoginError, VenueRejected  # noqa: E402
from openclaw.execution.ratelimit import TokenBucket  # noqa: E402
from openclaw.execution.router import Router  # noqa: E402
from openclaw.execution.venues import Credentials  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.model.orders import Order, OrderStatus  # noqa: E402
from openclaw.venues.registry import make_fast_route  # noqa: E402

run = deadline(60.0)


def test_three_legs_acked_and_filled_through_the_fast_routes(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
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

    run(body)


def test_ioc_limit_without_liquidity_expires(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
            orders = await rig.router.send_list(rig.legs(kind="limit", price="1000"))
            await rig.router.reconcile_unknown(orders)
            for o in orders:
                assert o.status is OrderStatus.CANCELED, (o.venue, o.status, o.reason)
                assert o.filled_qty == 0
            assert await rig.journal.consistency_check() == []

    run(body)


def test_reject_is_the_venues_error_and_the_others_fill(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
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

    run(body)


def test_partial_fill(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
            for v in VENUES:
                rig.sims.servers[v].inject_fault("partial_fill", ratio=0.5)
            orders = await rig.router.send_list(rig.legs(qty="0.02"))
            await rig.router.reconcile_unknown(orders)
            for o in orders:
                assert o.filled_qty == Decimal("0.01"), (o.venue, o.filled_qty)
                assert o.status is OrderStatus.CANCELED, (o.venue, o.status)  # IOC rest expired
            assert await rig.journal.consistency_check() == []

    run(body)


def test_rate_limit_ours_and_the_venues(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
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

    run(body)


def test_bad_signature_gets_the_venues_error(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Credentials.simulator()
        bad = Credentials(sim.api_key, "not-the-secret", sim.password)
        async with trading_rig(tmp_path, creds=bad, start=False) as rig:
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

    run(body)


def test_expired_session_surfaces_the_error_and_logs_in_again(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
            for v in ("okx", "bybit"):
                rig.sims.servers[v].inject_fault("expire_session")
                orders = await rig.router.send_list(rig.legs(venues=(v,)))
                o = orders[0]
                assert o.status is OrderStatus.REJECTED, (v, o.status, o.reason)
                assert "VenueRejected" in (o.reason or "")
                assert await rig.venue_orders(v, o.client_id) == []
                fast = rig.fast(v)
                await until(lambda fast=fast: fast.up and fast.stats.relogins == 1, 15.0)
                assert fast.stats.logins == 2
                again = await rig.router.send_list(rig.legs(venues=(v,)))
                assert again[0].status is OrderStatus.ACKED, (v, again[0].reason)
                assert any(v == venue for venue, _ in rig.alerts.lines)
            # Binance signs every request: an expired session changes nothing for HMAC keys
            rig.sims.servers["binance"].inject_fault("expire_session")
            orders = await rig.router.send_list(rig.legs(venues=("binance",)))
            assert orders[0].status is OrderStatus.FILLED, orders[0].reason

    run(body)


def test_socket_drop_with_orders_in_flight_recovers_by_client_id(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
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
                await until(lambda fast=fast: fast.up, 15.0)
                assert fast.stats.reconnects == 1 and fast.stats.fallbacks == 0
            again = await rig.router.send_list(rig.legs())
            assert all(o.status in (OrderStatus.ACKED, OrderStatus.FILLED) for o in again)
            assert await rig.journal.consistency_check() == []

    run(body)


def test_fallback_to_ccxt_while_the_socket_is_down_never_both(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, backoff=30.0) as rig:         # stays down for the test
            fast = rig.fast("bybit")
            rig.sims.servers["bybit"].inject_fault("drop_ws")
            first = await rig.router.send_list(rig.legs(venues=("bybit",)))
            await until(lambda: not fast.up, 15.0)
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

    run(body)


def test_cancel_and_status_by_client_id(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
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

    run(body)


def test_keepalive_pings_are_answered(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, start=False) as rig:
            for v in ("okx", "bybit"):
                rig.fast(v).config.ping_interval = 0.05
                await rig.routes[v].start()
            await until(lambda: all(rig.fast(v).stats.pongs >= 3 for v in ("okx", "bybit")),
                        15.0)
            assert rig.fast("okx").up and rig.fast("bybit").up
            [o] = await rig.router.send_list(rig.legs(venues=("okx",)))
            assert o.status is OrderStatus.ACKED

    run(body)


def test_timeout_is_unknown_until_the_venue_answers(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, timeout_s=1.0) as rig:
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

    run(body)


def test_server_error_not_executed_resolves_to_rejected(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
            for v in VENUES:
                rig.sims.servers[v].inject_fault("server_error", scope="order")
            orders = await rig.router.send_list(rig.legs())
            for o in orders:                  # a 5xx-class answer may hide an order
                assert o.status is OrderStatus.UNKNOWN, (o.venue, o.status, o.reason)
            await rig.router.reconcile_unknown(orders)
            # not found inside the window: followed until the window has passed, then settled
            assert await rig.router.resolver.settle(10) == []
            for o in orders:                  # the venue has no such order
                assert o.status is OrderStatus.REJECTED, (o.venue, o.status, o.reason)
                assert await rig.venue_orders(o.venue, o.client_id) == []
            assert await rig.journal.consistency_check() == []

    run(body)


def test_restart_recovers_fast_route_orders_left_unanswered(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, timeout_s=1.0) as rig:
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

    run(body)


# ---- outcome of venue error codes: the same on the fast route as on ccxt ---------------------

def _ccxt_error(venue: str, code: str) -> Exception | None:
    """The exception ccxt's own error handler raises for ``code`` in a REST error reply."""
    import json

    import ccxt

    ex = getattr(ccxt, venue)()
    numeric = code.lstrip("-").isdigit()
    if venue == "okx":
        body: dict[str, Any] = {"code": "1", "msg": "",
                                "data": [{"sCode": code, "sMsg": "m", "ordId": ""}]}
        status, url = 200, "https://www.okx.com/api/v5/trade/order"
    elif venue == "bybit":
        body = {"retCode": int(code) if numeric else code, "retMsg": "m"}
        status, url = 200, "https://api.bybit.com/v5/order/create"
    else:
        body = ({"code": int(code), "msg": "m"} if numeric else {"code": -9999, "msg": code})
        status, url = 400, "https://api.binance.com/api/v3/order"
    try:
        ex.handle_errors(status, "", url, "POST", {}, json.dumps(body), body, None, None)
    except ccxt.BaseError as e:
        return e
    return None


def _fast_outcome(route: Any, code: str) -> str:
    """What the fast route makes of the same code in its WebSocket reply."""
    from openclaw.execution.fast import ReplyLost

    numeric = code.lstrip("-").isdigit()
    cid = "C1"
    if route.venue == "okx":
        msg: dict[str, Any] = {"id": cid, "op": "order", "code": "1", "msg": "",
                               "data": [{"sCode": code, "sMsg": "m", "ordId": ""}]}
    elif route.venue == "bybit":
        msg = {"reqId": cid, "retCode": int(code) if numeric else code, "retMsg": "m"}
    else:
        err = {"code": int(code), "msg": "m"} if numeric else {"code": -9999, "msg": code}
        msg = {"id": cid, "status": 400, "error": err}
    order = Order(cid, route.venue, "BTC/USDT", "buy", "market", Decimal("1"), None, 1, 0)
    try:
        route._parse_place(order, msg)
    except ReplyLost:
        return "maybe"
    except VenueRejected as e:
        return "rate_limited" if e.rate_limited else "refused"
    raise AssertionError(f"{route.venue} {code}: the fast route accepted an error reply")


def test_fast_routes_classify_venue_codes_as_ccxt_does() -> None:
    import ccxt

    from openclaw.execution.fast.codes import outcome_of

    creds = Credentials.simulator()
    checked = 0
    for venue in VENUES:
        route = make_fast_route(venue, "ws://127.0.0.1:1/x", creds)
        exc = getattr(ccxt, venue)().exceptions
        codes = set(exc["exact"]) | (set(exc["spot"]["exact"]) if venue == "binance" else set())
        for code in sorted(codes):
            err = _ccxt_error(venue, code)
            if err is None or type(err) is ccxt.ExchangeError:
                continue        # not an error / ccxt's unclassified error (docs/fast-routes.md)
            if not isinstance(err, (ccxt.NetworkError, ccxt.OperationFailed)):
                continue        # refusals: InvalidOrder, InsufficientFunds ...
            assert _fast_outcome(route, code) == outcome_of(err), (venue, code, type(err))
            checked += 1
    assert checked > 40
    # the reviewer's cases: timeouts / "unknown state" codes are never REJECTED
    for venue, code in (("okx", "50004"), ("bybit", "170007"), ("binance", "-1006"),
                        ("binance", "-1007")):
        route = make_fast_route(venue, "ws://127.0.0.1:1/x", creds)
        assert _fast_outcome(route, code) == "maybe", (venue, code)


def test_router_outcome_of_ccxt_errors_is_by_class() -> None:
    import ccxt

    from openclaw.execution.fast.codes import outcome_of
    from openclaw.execution.router import _order_not_found

    for cls in (ccxt.BadResponse, ccxt.NullResponse, ccxt.RequestTimeout,
                ccxt.ExchangeNotAvailable, ccxt.OnMaintenance, ccxt.NetworkError,
                ccxt.OperationFailed, ccxt.ExchangeError):
        assert outcome_of(cls("x")) == "maybe", cls
    for cls in (ccxt.RateLimitExceeded, ccxt.DDoSProtection):
        assert outcome_of(cls("x")) == "rate_limited", cls
    for cls in (ccxt.InvalidNonce, ccxt.InsufficientFunds, ccxt.InvalidOrder,
                ccxt.AuthenticationError, ccxt.OrderNotFound):
        assert outcome_of(cls("x")) == "refused", cls
    assert outcome_of(ValueError("x")) is None
    assert _order_not_found(ccxt.OrderNotFound("x"))
    assert not _order_not_found(ccxt.ExchangeError("OrderNotFound"))


def test_binance_unknown_order_status_is_never_guessed() -> None:
    from openclaw.execution.fast import ReplyLost
    from openclaw.venues.binance.trade_ws import binance_unified

    with pytest.raises(ReplyLost, match="unknown status"):
        binance_unified({"orderId": 7, "status": "SOMETHING_NEW", "executedQty": "0"})
    assert binance_unified({"orderId": 7, "status": "NEW", "executedQty": "0"})["status"] == "open"


def test_shared_symbol_and_reply_id_helpers() -> None:
    creds = Credentials.simulator()
    want = {"binance": ("BTCUSDT", "id"), "okx": ("BTC-USDT", "id"), "bybit": ("BTCUSDT", "reqId")}
    for venue, (sym, key) in want.items():
        route = make_fast_route(venue, "ws://127.0.0.1:1/x", creds)
        assert route.venue_symbol("BTC/USDT") == sym
        assert route._reply_id({key: "C9"}) == "C9"
        assert route._reply_id({key: 9}) is None
        with pytest.raises(ValueError, match="BASE/QUOTE"):
            route.venue_symbol("BTCUSDT")


# ---- supervisor, cancelled requests, send stamp -----------------------------------------------

def test_supervisor_survives_an_unexpected_error(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, backoff=0.05) as rig:
            fast = rig.fast("okx")
            real = fast._login_frame
            calls = {"n": 0}

            def broken() -> bytes | None:
                calls["n"] += 1
                if calls["n"] == 1:
                    raise RuntimeError("surprise in login")
                return real()

            fast._login_frame = broken          # the next (re)login fails unexpectedly once
            rig.sims.servers["okx"].inject_fault("drop_ws")
            await rig.router.send_list(rig.legs(venues=("okx",)))   # triggers the drop
            await until(lambda: fast.stats.supervisor_errors == 1, 30)
            assert any("RuntimeError" in d for _, d in rig.alerts.lines), rig.alerts.lines
            await until(lambda: fast.up, 30)               # and it reconnected
            [o] = await rig.router.send_list(rig.legs(venues=("okx",)))
            assert o.status is OrderStatus.ACKED, (o.status, o.reason)
            assert fast._supervisor is not None and not fast._supervisor.done()

    run(body, timeout=90)


def test_cancelled_place_leaves_nothing_pending(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, timeout_s=30.0) as rig:
            rig.sims.bybit.inject_fault("order_timeout")
            fast = rig.fast("bybit")
            [order] = rig.legs(venues=("bybit",))
            task = asyncio.get_running_loop().create_task(fast.place(order))
            await until(lambda: fast.stats.sent == 1, 15.0)
            assert order.client_id in fast._pending
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert order.client_id not in fast._pending

    run(body)


@pytest.mark.parametrize("route", ["ws", "ccxt"])
def test_first_send_stamp_between_hand_off_and_venue_receipt(tmp_path: Path, route: str) -> None:
    import time

    async def body() -> None:
        async with trading_rig(tmp_path) as rig:
            if route == "ccxt":
                for r in rig.routes.values():
                    await r.fast.close()
                    r.fast = None
            received: dict[str, int] = {}
            for v in VENUES:
                def seen(o: Any) -> None:
                    received.setdefault(o.client_id, time.monotonic_ns())
                rig.sims.servers[v].trading.engine.listeners.append(seen)
            stamps: list[int] = []
            orders = rig.legs()
            handed = time.monotonic_ns()
            await rig.router.send_list(orders, on_first_send=stamps.append)
            assert len(stamps) == 1                       # once per list, not per leg
            first_receipt = min(received[o.client_id] for o in orders)
            assert handed <= stamps[0] <= first_receipt, (handed, stamps, first_receipt)
            assert all(o.status is not OrderStatus.NEW for o in orders)

    run(body)


def test_unexpected_relogin_error_reconnects(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, backoff=0.05) as rig:
            fast = rig.fast("okx")
            real = fast._login_frame
            calls = {"n": 0}

            def broken() -> bytes | None:
                calls["n"] += 1
                if calls["n"] == 1:
                    raise RuntimeError("surprise in re-login")
                return real()

            fast._login_frame = broken
            fast._session_lost("60011")            # as if the venue said "log in again"
            await until(lambda: fast.stats.reconnects >= 1 and fast.up, 30)
            assert any("RuntimeError" in d for _, d in rig.alerts.lines), rig.alerts.lines
            [o] = await rig.router.send_list(rig.legs(venues=("okx",)))
            assert o.status is OrderStatus.ACKED, (o.status, o.reason)

    run(body, timeout=90)


def test_reader_error_reconnects_and_close_reports_failed_tasks(tmp_path: Path) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, backoff=0.05) as rig:
            fast = rig.fast("bybit")
            real = fast._reply_id
            calls = {"n": 0}

            def broken(msg: dict[str, Any]) -> str | None:
                calls["n"] += 1
                if calls["n"] == 1:
                    raise RuntimeError("surprise in the reader")
                return real(msg)

            fast._reply_id = broken
            [o] = await rig.router.send_list(rig.legs(venues=("bybit",)))
            assert o.status is OrderStatus.UNKNOWN, (o.status, o.reason)   # reply lost
            await until(lambda: fast.stats.reconnects >= 1 and fast.up, 30)
            assert any("RuntimeError" in d for _, d in rig.alerts.lines), rig.alerts.lines
            [o2] = await rig.router.send_list(rig.legs(venues=("bybit",)))
            assert o2.status is OrderStatus.ACKED, (o2.status, o2.reason)

            # close() reports a task that had failed instead of swallowing it
            async def failing() -> None:
                raise ValueError("task failure")

            t = asyncio.get_running_loop().create_task(failing(), name="probe")
            await asyncio.wait([t])
            fast._tasks.add(t)
            await fast.close()
            assert any("probe had failed" in d and "ValueError" in d
                       for _, d in rig.alerts.lines), rig.alerts.lines

    run(body, timeout=90)
