"""Order routing through ccxt: one client per venue, order lists sent concurrently.

Every order is journaled before it is sent and every answer as it arrives. A reply without an
order id is a failure, never a success. A leg that times out is UNKNOWN, never REJECTED, until
the venue has answered a query for its client id (``reconcile_unknown``, then the
``OrderResolver`` until the venue answers: it never gives up). Fills come from the
venue's own order record (``fetch_order``): one fill per new increment of the filled quantity,
with a trade id derived from the venue order id and the cumulative quantity, so reading the
same state twice never counts a fill twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from openclaw.execution.fast.base import RouteDown
from openclaw.execution.fast.codes import MAYBE, RATE_LIMITED, outcome_of
from openclaw.execution.ratelimit import TokenBucket
from openclaw.execution.resolver import OrderResolver
from openclaw.execution.stream import OrderUpdate
from openclaw.journal import Journal
from openclaw.model.orders import Order, OrderStatus, OrderType, VenueAnswer
from openclaw.model.venues import crypto_venue

log = logging.getLogger("openclaw.execution")

_STATUS = {  # ccxt unified status -> ours (for queries)
    "open": OrderStatus.ACKED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


# What a ccxt error means for an order is ``fast.codes.outcome_of`` (by class, isinstance): the
# NetworkError/OperationFailed family (RequestTimeout, ExchangeNotAvailable, OnMaintenance,
# BadResponse, NullResponse ...) and ccxt's unclassified ExchangeError -> the order may exist,
# UNKNOWN until a query answers; RateLimitExceeded/DDoSProtection -> refused, back off;
# InvalidNonce, InsufficientFunds, InvalidOrder ... -> refused. The fast routes read the same
# ccxt maps, so one venue code means the same thing on both routes.
RATE_LIMIT_BACKOFF_S = 1.0      # when the venue says nothing about when to come back


class FirstSend:
    """Calls ``callback(time.monotonic_ns())`` once: when the first leg of an order list is
    handed to its client (ccxt: right before ``create_order`` is called; fast route: right after
    the frame is written to the transport). The stamp is CLOCK_MONOTONIC, the stage clock's."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[int], object]) -> None:
        self.callback: Callable[[int], object] | None = callback

    def __call__(self) -> None:
        cb = self.callback
        if cb is not None:
            self.callback = None
            cb(time.monotonic_ns())


class LocalRefusal(RuntimeError):
    """The order was refused here, before any byte left (the venue's request bucket is empty)."""


class VenueReplyError(ValueError):
    """A venue reply that cannot be trusted (no order id, a fill without a price)."""


@dataclass
class RouteStats:
    sent: int = 0
    acked: int = 0
    rejected: int = 0
    unknown: int = 0
    queries: int = 0
    backoffs: int = 0               # rate-limit replies that emptied the bucket
    refused_locally: int = 0        # legs refused before sending (request bucket empty)
    ack_latency_ns: list[int] = field(default_factory=list)


@dataclass
class StreamApplyStats:
    """What the private streams did for the Router (the run summary can read these)."""

    applied: int = 0                # pushes applied to a tracked order
    changes: int = 0                # ... that changed it (journaled)
    fills: int = 0                  # fill events made from pushes
    untracked: int = 0              # pushes of orders not sent by this router
    gaps: int = 0                   # pushes whose fee was not knowable: queried instead
    errors: int = 0
    resyncs: int = 0                # reconnects: open orders handed to the resolver
    waited: int = 0                 # legs that waited for their stream after the answer
    settled_by_stream: int = 0      # ... and were final without a query


class VenueRoute:
    """One venue: its ccxt client (created once, session reused), its request bucket."""

    def __init__(self, venue: str, client: Any, bucket: TokenBucket | None = None,
                 timeout_s: float = 3.0, fast: Any = None, private: Any = None) -> None:
        crypto_venue(venue)                 # UnknownVenueError for a venue not in the registry
        self.venue = venue
        self.client = client
        self.bucket = bucket or TokenBucket(rate=10.0, burst=20.0)
        self.timeout_s = timeout_s
        self.stats = RouteStats()
        # config route = "ws": the venue's trading WebSocket (openclaw.execution.fast); orders go
        # there while it is up, else through ccxt (counted, alerted); queries stay on ccxt
        self.fast = fast
        # config private_stream: the venue's private order stream (execution.stream); the
        # Router applies its pushes to the orders sent here (``tracked``, by client id)
        self.private = private
        self.tracked: dict[str, Order] = {}
        self.answering: set[str] = set()    # client ids whose answer is awaited
        self.on_answered: Callable[[Order], None] | None = None

    @property
    def streaming(self) -> bool:
        """The private order stream is up: order states and fills arrive pushed."""
        return self.private is not None and self.private.up

    async def start(self) -> None:
        """Load the venue's spot markets once; open and log in the fast route and the private
        stream if any."""
        markets = await self.client.load_markets()
        if self.fast is not None:
            self.fast.use_markets(markets or {})
            await self.fast.start()
        if self.private is not None:
            await self.private.start()

    async def close(self) -> None:
        if self.private is not None:
            await self.private.close()
        if self.fast is not None:
            await self.fast.close()
        await self.client.close()

    def back_off(self, seconds: float) -> None:
        """The venue rate-limited us: empty the bucket so that it takes ``seconds`` before the
        next request (trading refuses at once, queries wait)."""
        b = self.bucket
        b.try_acquire(0.0)                          # refill up to now
        b.tokens = min(b.tokens, -b.rate * max(0.0, seconds) + 1e-9)
        self.stats.backoffs += 1

    def retry_after(self) -> float:
        """Seconds the venue asked us to wait in its last reply's headers (Binance
        ``Retry-After``, Bybit ``X-Bapi-Limit-Reset-Timestamp``), else the default."""
        headers = getattr(self.client, "last_response_headers", None) or {}
        low = {str(k).lower(): v for k, v in headers.items()}
        try:
            if "retry-after" in low:
                return min(300.0, max(0.0, float(low["retry-after"])))
            if "x-bapi-limit-reset-timestamp" in low:
                reset_ms = float(low["x-bapi-limit-reset-timestamp"])
                return min(300.0, max(0.0, reset_ms / 1000.0 - time.time()))
        except ValueError:
            pass
        return RATE_LIMIT_BACKOFF_S

    async def with_fee(self, order: Order, reply: dict[str, Any]) -> dict[str, Any]:
        """``reply`` with the order's cumulative fee from the venue's trades when the order
        record has new fills but no fee (Binance ``GET /api/v3/order``): without it the
        journal would count those fills free and the balances would not reconcile."""
        if not _fee_missing(order, reply):
            return reply
        await self.bucket.acquire()
        self.stats.queries += 1
        trades = await asyncio.wait_for(
            self.client.fetch_order_trades(reply["id"], order.symbol), self.timeout_s)
        qty = sum((Decimal(str(t["amount"])) for t in trades), Decimal(0))
        if qty != Decimal(str(reply["filled"])):
            raise VenueReplyError(f"{self.venue}: trades of {order.client_id} sum to {qty}, "
                                  f"the order says filled {reply['filled']}")
        fees: dict[str, Decimal] = {}
        for t in trades:
            fee = t.get("fee") or {}
            if fee.get("cost") is not None and fee.get("currency"):
                fees[fee["currency"]] = fees.get(fee["currency"], Decimal(0)) + Decimal(
                    str(fee["cost"]))
        if len(fees) > 1:
            raise VenueReplyError(f"{self.venue}: {order.client_id} paid fees in "
                                  f"{sorted(fees)}; one asset expected")
        if not fees:
            return reply
        (asset, cost), = fees.items()
        return {**reply, "fee": {"cost": str(cost), "currency": asset}}

    def _params(self, order: Order) -> dict[str, str]:
        """Our client id on every order; limit orders are IOC (arbitrage legs never rest)."""
        params = {"clientOrderId": order.client_id}
        if order.order_type is OrderType.LIMIT:
            params["timeInForce"] = "IOC"
        return params

    async def place(self, order: Order, on_sent: Callable[[], None] | None = None,
                    token_taken: bool = False) -> dict[str, Any]:
        """Send one order; returns ccxt's parsed reply. Raises on any venue error.

        ``on_sent`` (optional) is called once the order is handed to the client: right after
        the fast route wrote its frame, or right before ccxt's ``create_order`` is called.
        ``token_taken``: the caller already took this order's request token (``Router``
        takes a list's tokens all at once)."""
        if not token_taken and not self.bucket.try_acquire():
            raise LocalRefusal(f"{self.venue}: request bucket empty")   # risk throttles first
        if self.private is None:
            return await self._place(order, on_sent)
        # pushes may beat the answer: the Router applies them at once and journals them
        # right after the answer's own events (``on_answered``), so the journal stays in order
        cid = order.client_id
        self.tracked[cid] = order
        self.answering.add(cid)
        try:
            return await self._place(order, on_sent)
        finally:
            self.answering.discard(cid)
            if self.on_answered is not None:
                asyncio.get_running_loop().call_soon(self.on_answered, order)

    async def _place(self, order: Order, on_sent: Callable[[], None] | None) -> dict[str, Any]:
        fast = self.fast
        if fast is not None:
            if fast.up:
                try:
                    return await fast.place(order, on_sent)
                except RouteDown:
                    pass            # nothing was written: this order goes through ccxt alone
            fast.note_fallback(order)
        price = None if order.order_type is OrderType.MARKET else float(order.price)  # type: ignore[arg-type]
        if on_sent is not None:
            on_sent()
        return await asyncio.wait_for(
            self.client.create_order(order.symbol, order.order_type.value, order.side.value,
                                     float(order.qty), price,
                                     self._params(order)),
            self.timeout_s)

    async def fetch(self, order: Order) -> dict[str, Any]:
        """The venue's record of ``order``, by client id (works for UNKNOWN orders too)."""
        await self.bucket.acquire()
        self.stats.queries += 1
        param = crypto_venue(self.venue).order_query_param
        assert param is not None
        params = {param: order.client_id}
        return await asyncio.wait_for(
            self.client.fetch_order(order.venue_order_id, order.symbol, params), self.timeout_s)


def _fee_missing(order: Order, reply: dict[str, Any]) -> bool:
    """A reply with new filled quantity but no fee (Binance's order query carries none)."""
    filled = reply.get("filled")
    if not filled or Decimal(str(filled)) <= order.filled_qty:
        return False
    return (reply.get("fee") or {}).get("cost") is None


def apply_venue_state(order: Order, reply: dict[str, Any]) -> list[Any]:
    """Bring ``order`` to the state in a ccxt order record; returns the order events made."""
    events = []
    vid = reply.get("id")
    if not vid:
        raise VenueReplyError(f"{order.venue} answered without an order id for "
                              f"{order.client_id}")
    if order.status is OrderStatus.UNKNOWN:
        events += order.resolve(VenueAnswer(order.client_id, True, str(vid),
                                            _STATUS.get(reply.get("status") or "open",
                                                        OrderStatus.ACKED)))
    else:
        ev = order.ack(str(vid))
        if ev is not None:
            events.append(ev)
    filled = reply.get("filled")
    if filled is not None:
        filled_d = Decimal(str(filled))
        if filled_d > order.filled_qty:
            inc = filled_d - order.filled_qty
            avg = reply.get("average") or reply.get("price")
            # the increment's price: from the cumulative average and what we have counted
            if avg is not None:
                total = Decimal(str(avg)) * filled_d
                px = (total - order.notional) / inc
            else:
                raise VenueReplyError(f"{order.venue}: fill without a price for "
                                      f"{order.client_id}")
            # the venue reports the cumulative fee: this increment pays the difference
            fee = reply.get("fee") or {}
            asset = fee.get("currency")
            fee_inc = Decimal(0)
            if fee.get("cost") is not None and asset:
                fee_inc = Decimal(str(fee["cost"])) - order.fees.get(asset, Decimal(0))
            ev = order.fill(f"{vid}-{filled_d}", inc, px.quantize(Decimal("1e-12")),
                            fee_inc, asset)
            if ev is not None:
                events.append(ev)
    status = reply.get("status")
    # Bybit reports an IOC whose rest expired after a partial fill as closed
    # (PartiallyFilledCanceled): the order is over with part of it filled, i.e. canceled
    over = status in ("canceled", "cancelled", "expired") or (
        status == "closed" and order.status is OrderStatus.PARTIALLY_FILLED)
    if over and order.status not in (OrderStatus.FILLED, OrderStatus.CANCELED):
        ev = order.cancel(reason=str(status))
        if ev is not None:
            events.append(ev)
    if status == "rejected" and order.status in (OrderStatus.SENT, OrderStatus.ACKED):
        ev = order.reject("venue status rejected")
        if ev is not None:
            events.append(ev)
    return events


class Router:
    """Sends order lists concurrently, journaling every step."""

    def __init__(self, routes: dict[str, VenueRoute], journal: Journal, *,
                 visibility_window_s: float = 10.0, query_backoff_s: float = 0.25,
                 query_backoff_max_s: float = 5.0, reserve_tokens: float = 5.0,
                 stream_wait_s: float = 1.0) -> None:
        """``visibility_window_s``: an order the venue does not know this long after its send
        was never placed (see ``openclaw.execution.resolver``); the query backoff and the
        tokens a query leaves for orders are the resolver's. ``stream_wait_s``: how long a
        list's acknowledged legs wait for their venue's private stream (when up) to push their
        end before they are queried."""
        self.routes = routes
        self.journal = journal
        self.visibility_window_s = visibility_window_s
        self.lists_refused_locally = 0      # lists not sent: a venue's request bucket was short
        # orders left open after their list's query are followed here until they are final;
        # ``resolver.on_update`` gets every change (the risk gate's ``on_order_update``)
        self.resolver = OrderResolver(self, visibility_window_s=visibility_window_s,
                                      backoff_s=query_backoff_s,
                                      backoff_max_s=query_backoff_max_s,
                                      reserve_tokens=reserve_tokens)
        self.stream_wait_s = stream_wait_s
        self.stream_stats = StreamApplyStats()
        self._final_waiters: dict[str, asyncio.Future[None]] = {}
        self._bg: set[asyncio.Future[Any]] = set()
        for route in routes.values():
            if route.private is not None:
                route.private.sink = partial(self._on_push, route)
                route.private.on_resync.append(partial(self._resync, route))
                route.on_answered = self._journal_deferred
        self._deferred: dict[str, list[Any]] = {}

    # ---- private streams ---------------------------------------------------------------------

    def _on_push(self, route: VenueRoute, update: OrderUpdate) -> None:
        """One pushed order state: applied like an answer (fills once per cumulative
        increment, so a fill seen here and in an answer counts once), journaled."""
        order = route.tracked.get(update.client_id)
        st = self.stream_stats
        if order is None:
            st.untracked += 1
            return
        if order.status is OrderStatus.NEW:
            st.untracked += 1               # not sent yet by our account: cannot be ours
            return
        reply = update.as_reply(order)
        if reply is None:                   # a trade's fee is not knowable from this push
            st.gaps += 1
            self._spawn(self._refresh_quietly(order))
            return
        try:
            events = apply_venue_state(order, reply)
        except Exception as e:  # noqa: BLE001 - a push we cannot apply: ask the venue
            st.errors += 1
            log.warning("%s: push for %s not applied (%s: %s), querying", route.venue,
                        order.client_id, type(e).__name__, str(e)[:160])
            self._spawn(self._refresh_quietly(order))
            return
        st.applied += 1
        if events:
            st.changes += 1
            st.fills += sum(1 for ev in events if ev.fill is not None)
            if order.client_id in route.answering:      # after the answer's SENT, in order
                self._deferred.setdefault(order.client_id, []).extend(events)
            else:
                self._spawn(self.journal.record_event(order, *events))
        if order.is_final:
            route.tracked.pop(order.client_id, None)
            fut = self._final_waiters.pop(order.client_id, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
            self.resolver.notify_final(order)

    def _journal_deferred(self, order: Order) -> None:
        """The answer of ``order`` was journaled (or is being): now the pushes it beat."""
        events = self._deferred.pop(order.client_id, None)
        if events:
            self._spawn(self.journal.record_event(order, *events))

    def _resync(self, route: VenueRoute) -> None:
        """The stream reconnected: pushes of the gap are lost, so every order still open on
        the venue is followed by queries until final."""
        self.stream_stats.resyncs += 1
        for o in list(route.tracked.values()):
            if o.is_final:
                route.tracked.pop(o.client_id, None)
            elif o.status is not OrderStatus.SENT:    # SENT: its answer is still coming
                self.resolver.watch(o)

    async def _refresh_quietly(self, order: Order) -> None:
        try:
            await self.refresh(order)
        except Exception as e:  # noqa: BLE001 - the resolver keeps asking
            log.warning("%s: query of %s failed: %s", order.venue, order.client_id, e)
            self.resolver.watch(order)

    def _spawn(self, aw: Any) -> None:
        fut = asyncio.ensure_future(aw)
        self._bg.add(fut)
        fut.add_done_callback(self._bg_done)

    def _bg_done(self, fut: asyncio.Future[Any]) -> None:
        self._bg.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            log.error("private stream: journaling failed", exc_info=fut.exception())

    async def _await_stream(self, orders: list[Order]) -> None:
        """Wait up to ``stream_wait_s`` for the private streams to finish the acknowledged
        orders of ``orders`` (no query needed); returns early when a stream goes down."""
        loop = asyncio.get_running_loop()
        waiting: dict[str, asyncio.Future[None]] = {}
        for o in orders:
            route = self.routes[o.venue]
            if o.is_final or o.status is OrderStatus.UNKNOWN or not route.streaming:
                continue
            fut = self._final_waiters.get(o.client_id)
            if fut is None or fut.done():
                fut = self._final_waiters[o.client_id] = loop.create_future()
            waiting[o.client_id] = fut
        if not waiting:
            return
        deadline = loop.time() + self.stream_wait_s
        try:
            while True:
                left = deadline - loop.time()
                pending = [f for f in waiting.values() if not f.done()]
                if not pending or left <= 0:
                    break
                if not all(self.routes[o.venue].streaming for o in orders
                           if o.client_id in waiting and not o.is_final):
                    break
                await asyncio.wait(pending, timeout=min(0.05, left))
        finally:
            for cid in waiting:
                self._final_waiters.pop(cid, None)
        self.stream_stats.waited += len(waiting)
        self.stream_stats.settled_by_stream += sum(
            1 for o in orders if o.client_id in waiting and o.is_final)

    async def aclose(self) -> None:
        """Stop following orders (those still pending stay open in the journal: the next
        start-up's ``recover`` settles them)."""
        await self.resolver.stop()

    async def send_list(self, orders: list[Order],
                        on_first_send: Callable[[int], object] | None = None,
                        wait_tokens: bool = False) -> list[Order]:
        """Journal every leg, then send all legs at once; returns the orders (updated).

        The legs are journaled in one transaction (all or none), committed before any byte is
        sent: inline on this thread with a NORMAL journal (kill -9 safe), through the writer
        thread with FULL (fsynced: power-loss safe). See docs/journal.md.

        ``on_first_send(ns)`` (optional) is called once, with ``time.monotonic_ns()`` (the stage
        clock's CLOCK_MONOTONIC), when the first leg is handed to its client (``FirstSend``):
        the end of a "tick -> first order on the wire" measurement.

        Every leg's request token is taken first, all or none: when a venue's bucket is short
        the whole list is journaled as refused here (``LocalRefusal``, nothing sent), or with
        ``wait_tokens`` (unwinds: a position must not stay open) the tokens are waited for."""
        for o in orders:
            if o.venue not in self.routes:
                raise KeyError(f"no route for venue {o.venue!r}")
        # every leg's request token is taken before anything is sent, all or none: a list is
        # never sent with a leg the bucket would refuse (a naked leg of our own making)
        short = self._take_tokens(orders)
        if short is not None and wait_tokens:
            for o in orders:
                await self.routes[o.venue].bucket.acquire()
            short = None
        await self.journal.record_new_batch(orders)
        if short is not None:
            self.lists_refused_locally += 1
            for o in orders:
                self.routes[o.venue].stats.refused_locally += 1
                ev = o.reject(f"LocalRefusal: {short}: request bucket empty, list not sent")
                await self.journal.record_event(o, ev)
            return orders
        first = FirstSend(on_first_send) if on_first_send is not None else None
        await asyncio.gather(*(self._send_one(o, first, True) for o in orders))
        return orders

    def _take_tokens(self, orders: list[Order]) -> str | None:
        """Take one request token per leg from its venue's bucket, all or none; returns the
        first venue that was short (its tokens given back), or None."""
        taken: list[Any] = []
        for o in orders:
            bucket = self.routes[o.venue].bucket
            if not bucket.try_acquire():
                for b in taken:
                    b.tokens += 1.0
                return o.venue
            taken.append(bucket)
        return None

    async def _send_one(self, order: Order, first: FirstSend | None = None,
                        token_taken: bool = False) -> None:
        route = self.routes[order.venue]
        events = [order.mark_sent()]
        route.stats.sent += 1
        t0 = time.monotonic_ns()
        try:
            reply = await route.place(order, first, token_taken)
        except TimeoutError:
            route.stats.unknown += 1
            ev = (order.mark_unknown("timeout: no answer from the venue")
                  if order.status is OrderStatus.SENT else None)   # else: a push told us
            events += [ev] if ev is not None else []
        except Exception as e:  # noqa: BLE001 - any venue/ccxt error is a typed rejection
            kind = type(e).__name__
            outcome = outcome_of(e)
            if order.status is not OrderStatus.SENT:
                # the private stream already pushed this order's state: the venue holds it
                route.stats.unknown += 1
                ev = None
            elif outcome == MAYBE or getattr(e, "maybe_executed", False):
                route.stats.unknown += 1
                ev = order.mark_unknown(f"{kind}: the order may exist")
            else:
                route.stats.rejected += 1
                # refused, not executed: back off, never retry
                if outcome == RATE_LIMITED or getattr(e, "rate_limited", False):
                    route.back_off(route.retry_after())
                ev = order.reject(f"{kind}: {str(e)[:200]}")
            events += [ev] if ev is not None else []
        else:
            route.stats.ack_latency_ns.append(time.monotonic_ns() - t0)
            try:
                events += apply_venue_state(order, reply)
                route.stats.acked += 1
            except VenueReplyError as e:
                route.stats.unknown += 1
                ev = order.mark_unknown(str(e))
                events += [ev] if ev is not None else []
        await self.journal.record_event(order, *events)

    async def refresh(self, order: Order) -> None:
        """Read the venue's record of one order and journal what changed."""
        route = self.routes[order.venue]
        reply = await route.with_fee(order, await route.fetch(order))
        events = apply_venue_state(order, reply)
        if events:
            await self.journal.record_event(order, *events)

    async def recover(self) -> list[Order]:
        """Start-up: every order the journal holds as not final is brought to its true state at
        its venue (by client id) before trading begins. NEW and SENT orders may or may not have
        reached the venue: they become UNKNOWN first, then the venue's answer decides."""
        orders = await self.journal.open_orders()
        for o in orders:
            if o.venue not in self.routes:
                raise KeyError(f"journal holds an order on {o.venue!r}, which has no route")
            if o.status in (OrderStatus.NEW, OrderStatus.SENT):
                ev = o.mark_unknown("found unanswered in the journal at start-up")
                if ev is not None:
                    await self.journal.record_event(o, ev)
        await self.reconcile_unknown(orders)
        if any(self.resolver.is_pending(o.client_id) for o in orders):
            # the venue has not settled them yet (query failures, or inside the visibility
            # window): wait for the resolver rather than start with orders in doubt
            await self.resolver.settle(self.visibility_window_s + 5.0)
        return orders

    async def reconcile_unknown(self, orders: list[Order]) -> None:
        """Query every UNKNOWN or non-final order by client id once; an order the venue does not
        know is settled as never placed once the visibility window since its send has passed.
        Whatever is still not final afterwards goes to ``resolver``, which keeps asking (with
        backoff) until the venue answers: a failed query never leaves an order open.

        Acknowledged orders of a venue whose private stream is up wait for its pushes first
        (``stream_wait_s``); only those still open after that are queried."""
        await self._await_stream(orders)
        for o in orders:
            if o.is_final:
                self.routes[o.venue].tracked.pop(o.client_id, None)
                continue
            try:
                await self.refresh(o)
            except Exception as e:  # noqa: BLE001
                age_s = (time.time_ns() - (o.sent_ns or o.created_ns)) / 1e9
                if (_order_not_found(e) and o.status is OrderStatus.UNKNOWN
                        and age_s >= self.visibility_window_s):
                    events = o.resolve(VenueAnswer(
                        o.client_id, False,
                        detail=f"venue has no such order {age_s:.1f} s after the send "
                               f"(window {self.visibility_window_s:g} s): {str(e)[:160]}"))
                    await self.journal.record_event(o, *events)
                else:
                    log.warning("%s: query of %s failed, following it: %s: %s", o.venue,
                                o.client_id, type(e).__name__, str(e)[:200])
            if not o.is_final:
                self.resolver.watch(o)


def _order_not_found(exc: BaseException) -> bool:
    """The venue says it has no such order (ccxt ``OrderNotFound``, by class)."""
    import ccxt  # type: ignore[import-untyped]

    return isinstance(exc, ccxt.OrderNotFound)
