"""Interactive Brokers session over the TWS socket API (ib_async): orders that are never lost.

One ``IbkrSession`` owns one persistent connection (one clientId) to TWS / IB Gateway (or the
project's simulator) and keeps three promises:

* **Journal first.** Every order is journaled (``Journal.record_new``, committed) before its
  ``placeOrder`` message is written; every status and fill is journaled as it arrives. The IB
  ``orderRef`` carries our client order id, so an order is recognised after a reconnect, a
  gateway restart or a crash of this process, whatever orderId/permId IB gave it.
* **Every fill exactly once.** After a drop or a gateway restart the session reconnects (capped
  exponential backoff with jitter, ``ib.disconnectedEvent``), re-queries open orders, completed
  orders and executions, and delivers each execution it had not seen (keyed by ``execId``; the
  journal's fills of an order seed the key set, so this holds across process restarts too).
* **Paced, never rejected.** Order messages go through ib_async's client throttle
  (``Client.MaxRequests`` per second, 45 against a real gateway); historical-data requests go
  through ``HistoricalPacer`` (60 per 10 min, no identical request within 15 s, 6 per contract
  per 2 s), and a pacing error (162/366/100) backs off and retries instead of failing.

Hot path (``submit_nowait``): the contract is built once per symbol and each ib_async ``Order``
is a copy of a per (symbol, side, type) template. What remains after the journal commit is
ib_async's: ``placeOrder`` encodes the ~100 order fields (tens of us) and then logs
``f"placeOrder: New order {trade}"`` at INFO -- an f-string, formatted whatever the logger
level (~40 us per order, and again for openOrder/orderStatus/execDetails on the way back). The
socket write comes before that log line (the ``sent`` stamp excludes it) but the loop pays it.
It is not patched here; ib_async's DEBUG message dumps are guarded by ``isEnabledFor``, and the
session warns when ``ib_async.client`` is at DEBUG.

Order model mapping (``openclaw.model.orders.Order``): venue ``"ibkr"``; symbol is the
stock ticker (``AAPL``, SMART-routed in USD) or an IDEALPRO pair as IB's local symbol
(``EUR.USD``); side buy/sell -> BUY/SELL; qty = shares or base-currency units; a market order
has no price, a limit order its limit. The venue order id journaled with the ack is
``"<clientId>.<orderId>.<permId>"`` (orderId 0 when the order was recovered from the completed
orders list, which carries only the permId).

Start-up reconciliation: orders that the journal holds as not final are loaded; NEW and SENT
ones become UNKNOWN (they may or may not have reached IB) and every one is matched by
``orderRef`` against what the gateway reports, then brought to its true state (acked, filled,
cancelled). An order the gateway has no trace of is REJECTED only when the journal shows it
never got past NEW (``record_new`` commits before the socket write, the SENT record follows the
write): IB's completed-orders and executions lists are time-limited, so an order the journal
saw written stays UNKNOWN, is alerted (HIGH) and is listed in ``ReconcileReport.unresolved``.

Anomalies: an execution the order state machine refuses (a fill of a REJECTED order, an
execution correction that overfills) is never dropped: the raw execution is journaled (a run
named ``ibkr_anomaly``, status FAILED, detail = the execution as JSON: the journal has no other
record for it), a HIGH alert is sent, the session is halted (new orders refused until
``resume``) and every resync logs and alerts it again until then; ``start`` reports the
journaled ones (earlier processes' anomalies are reported, not alerted at each resync).

Errors are ``IbkrError`` with the IB error code (0 when the failure is not an IB error).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from ib_async import IB, Forex, LimitOrder, MarketOrder, StartupFetch, Stock
from ib_async.contract import Contract
from ib_async.objects import Fill as IbFill
from ib_async.order import Order as IbOrder
from ib_async.order import Trade

from openclaw.feeds.bar_cache import BarCache, CachedBars, CloseMatrix, DailyBars
from openclaw.journal import Journal, RunStatus
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import (
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
    VenueAnswer,
)
from openclaw.venues.ibkr.pacing import (
    PACING_CODES,
    Backoff,
    HistoricalLimits,
    HistoricalPacer,
    message_limit,
)

__all__ = [
    "ANOMALY_RUN_NAME",
    "VENUE",
    "IbkrError",
    "IbkrSession",
    "PlaceResult",
    "ReconcileReport",
    "SessionStats",
    "contract_for",
    "symbol_of",
]

log = logging.getLogger("openclaw.venues.ibkr.session")

VENUE = "ibkr"
#: journal run name under which refused executions (anomalies) are recorded
ANOMALY_RUN_NAME = "ibkr_anomaly"
_FX_RE = re.compile(r"[A-Z]{3}\.[A-Z]{3}")
_STK_RE = re.compile(r"[A-Z0-9][A-Z0-9.\- ]{0,11}")
_LIVE = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "PendingCancel"})
_CANCELLED = frozenset({"Cancelled", "ApiCancelled", "Inactive"})
#: error codes that are information, not a failure of the order they name
_INFO_CODES = frozenset({202, 399, 2104, 2106, 2107, 2108, 2119, 2158})
_STARTUP = StartupFetch.POSITIONS | StartupFetch.ACCOUNT_UPDATES | StartupFetch.SUB_ACCOUNT_UPDATES
_MAX_RESENDS = 5
#: list-valued fields of ib_async's Order (fresh lists in every copy of a template)
_ORDER_LIST_FIELDS = tuple(
    f.name for f in dataclasses.fields(IbOrder) if isinstance(getattr(IbOrder(), f.name), list))

Listener = Callable[[Order, OrderEvent], None]
QuoteCallback = Callable[[str, float, float, int], None]
ProgressCallback = Callable[[int, int, str], None]


class IbkrError(OpenclawError):
    """A failure of the IB session; ``code`` is IB's error code (0: not an IB error)."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(f"IB error {code}: {message}" if code else message)


def contract_for(symbol: str) -> Contract:
    """The IB contract of an order symbol: ``EUR.USD`` -> IDEALPRO cash pair, else a SMART stock."""
    if not isinstance(symbol, str):
        raise IbkrError(0, f"symbol must be a string, not {symbol!r}")
    if _FX_RE.fullmatch(symbol):
        return Forex(symbol[:3] + symbol[4:], exchange="IDEALPRO")
    if not _STK_RE.fullmatch(symbol):
        raise IbkrError(0, f"not a stock ticker or an FX pair like EUR.USD: {symbol!r}")
    return Stock(symbol, "SMART", "USD")


def symbol_of(contract: Contract) -> str:
    """Our order symbol of an IB contract (inverse of ``contract_for``)."""
    if contract.secType == "CASH":
        return f"{contract.symbol}.{contract.currency}"
    return contract.symbol


def _dec(x: float | int | str | Decimal) -> Decimal:
    """An exact Decimal of a number IB sent (ib_async decodes quantities and prices as floats)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            raise IbkrError(0, f"non-finite number from the gateway: {x!r}")
        return Decimal(repr(x))
    return Decimal(x)


def _ib_qty(q: Decimal) -> int | float:
    return int(q) if q == q.to_integral_value() else float(q)


def _ns(t: datetime | None) -> int:
    if t is None or not isinstance(t, datetime) or t.year < 1980:
        return time.time_ns()
    return int(t.timestamp() * 1e9)


class _ProgressFetcher:
    """The session as a ``BarFetcher`` that reports each fetched symbol to a progress hook."""

    def __init__(self, session: IbkrSession, total: int, progress: ProgressCallback | None
                 ) -> None:
        self.session, self.total, self.progress, self.done = session, total, progress, 0

    async def fetch_daily_bars(self, symbol: str, days: int) -> DailyBars:
        """The session's ``fetch_daily_bars``, then the progress hook."""
        bars = await self.session.fetch_daily_bars(symbol, days)
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, symbol)
        return bars


@dataclass(slots=True, eq=False)
class _Tracked:
    """One of our orders and what IB told us about it."""

    order: Order
    contract: Contract
    ib_order: IbOrder | None = None
    ib_client_id: int = 0
    ib_order_id: int = 0
    perm_id: int = 0
    done: asyncio.Future[Order] | None = None
    sent_perf_ns: int = 0
    journaled_perf_ns: int = 0  # record_new committed (its callback ran)
    final_perf_ns: int = 0
    resends: int = 0
    seen_at_resync: bool = False
    gateway_status: str = ""
    written: bool = False  # the placeOrder write happened (journal: SENT or later)
    unknown_alerted: bool = False


@dataclass(slots=True)
class SessionStats:
    """Counters of one session (all since ``start``)."""

    connects: int = 0
    disconnects: int = 0
    reconnects: int = 0
    orders_sent: int = 0
    resends: int = 0
    fills: int = 0
    duplicate_fills: int = 0
    replayed_fills: int = 0  # fills first seen in a re-query after a reconnect
    foreign_fills: int = 0  # executions of orders that are not ours
    journal_errors: int = 0
    hist_requests: int = 0
    hist_retries: int = 0
    cache_hits: int = 0


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What start-up reconciliation found for the orders the journal held as open."""

    loaded: int
    resolved: dict[str, str]  # client id -> status after reconciliation
    not_found: list[str]
    #: written to the gateway (journal) but not found there: still UNKNOWN, alerted
    unresolved: list[str] = field(default_factory=list)
    #: refused executions journaled so far (this process or earlier ones), raw JSON dicts
    anomalies: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class PlaceResult:
    """Outcome of ``place_orders``: every order in its state at the end, and the timing."""

    orders: list[Order]
    first_sent_perf_ns: int = 0
    last_final_perf_ns: int = 0
    timed_out: list[str] = field(default_factory=list)

    @property
    def filled(self) -> list[Order]:
        """The orders that ended FILLED."""
        return [o for o in self.orders if o.status is OrderStatus.FILLED]

    @property
    def all_filled(self) -> bool:
        """True when every order ended FILLED."""
        return all(o.status is OrderStatus.FILLED for o in self.orders)

    @property
    def elapsed_ms(self) -> float:
        """From the first order written to the socket to the last final state journaled."""
        if not self.first_sent_perf_ns or not self.last_final_perf_ns:
            return float("nan")
        return (self.last_final_perf_ns - self.first_sent_perf_ns) / 1e6


class IbkrSession:
    """A persistent, journaled, self-healing connection to TWS / IB Gateway (one clientId).

    ``await session.start()`` connects and reconciles the journal; ``await session.close()``
    disconnects. Orders: ``submit`` (journal, send, return a future resolved when the order is
    final and journaled) and ``place_orders`` (many in parallel, with a deadline). Data:
    ``daily_closes`` (paced, cached) and ``subscribe_fx`` (quotes with their receive time).
    """

    def __init__(
        self,
        host: str,
        port: int,
        client_id: int,
        journal: Journal,
        *,
        account: str = "",
        simulator: bool = False,
        max_messages_per_s: int | None = None,
        connect_timeout: float = 4.0,
        request_timeout: float = 30.0,
        reconnect: Backoff | None = None,
        hist_limits: HistoricalLimits | None = None,
        hist_backoff: Backoff | None = None,
        hist_retries: int = 8,
        commission_wait_s: float = 0.5,
        bar_cache: BarCache | None = None,
        alerter: Any = None,
    ) -> None:
        """Nothing connects until ``start``. ``simulator``: the gateway is the local simulator,
        which allows ``max_messages_per_s`` above IB's 45 (0 = unthrottled)."""
        if not isinstance(port, int) or not 0 < port < 65536:
            raise IbkrError(0, f"port must be 1..65535, not {port!r}")
        if not isinstance(client_id, int) or client_id < 0:
            raise IbkrError(0, f"client id must be an int >= 0, not {client_id!r}")
        self.host = host
        self.port = port
        self.client_id = client_id
        self.journal = journal
        self.account = account
        self.simulator = simulator
        try:
            self._max_msgs = message_limit(simulator, max_messages_per_s)
        except ValueError as e:
            raise IbkrError(0, str(e)) from None
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.reconnect_backoff = reconnect or Backoff(base_s=0.05, cap_s=5.0, jitter=0.5)
        self.pacer = HistoricalPacer(
            hist_limits or HistoricalLimits(), hist_backoff or Backoff(base_s=1.0, cap_s=60.0)
        )
        self.hist_retries = hist_retries
        self.commission_wait_s = commission_wait_s
        self.bar_cache = bar_cache
        self.alerter = alerter
        self.ib = IB()
        self.stats = SessionStats()
        self._tracked: dict[str, _Tracked] = {}
        self._by_oid: dict[tuple[int, int], str] = {}
        self._by_perm: dict[int, str] = {}
        self._pending_fills: dict[str, tuple[str, IbFill, asyncio.TimerHandle]] = {}
        self._listeners: list[Listener] = []
        self._connected = asyncio.Event()
        self._closing = False
        self._started = False
        self._up = False  # start() completed: from then on a drop means reconnect
        self._reconnect_task: asyncio.Task[None] | None = None
        self._req_errors: dict[int, tuple[int, str]] = {}
        self._fx: dict[int, tuple[str, QuoteCallback]] = {}
        self._fx_handler: Callable[[Any], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: refused executions by execId (raw, as journaled); see the module docstring
        self.anomalies: dict[str, dict[str, Any]] = {}
        #: why new orders are refused (an anomaly), None while trading normally
        self.halted: str | None = None
        # anomalies already surfaced for good: an earlier process's (reported by ``start``)
        # and those an operator acknowledged with ``resume``
        self._acknowledged: set[str] = set()
        # per symbol: its Contract (ib_async never mutates the contract of an order we place)
        # and per (symbol, side, type) a template ib_async Order copied for each new order
        self._contracts: dict[str, Contract] = {}
        self._templates: dict[tuple[str, Side, OrderType], IbOrder] = {}
        self.last_error: IbkrError | None = None
        ib = self.ib
        # stamp the moment each message is handed to the socket (``sent`` of the stage clock)
        self.last_write_ns = 0
        conn_send = ib.client.conn.sendMsg

        def stamped_send(msg: bytes) -> None:
            conn_send(msg)
            self.last_write_ns = time.perf_counter_ns()

        ib.client.conn.sendMsg = stamped_send  # type: ignore[method-assign]
        if logging.getLogger("ib_async.client").isEnabledFor(logging.DEBUG):
            # ib_async then formats every message it sends and receives (tens of us each)
            log.warning("ib_async logs at DEBUG: every API message is formatted; set the "
                        "'ib_async' logger to INFO or above for trading")
        ib.orderStatusEvent += self._on_status
        ib.openOrderEvent += self._on_status
        ib.execDetailsEvent += self._on_exec
        ib.commissionReportEvent += self._on_commission
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnected

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return (
            f"IbkrSession({self.host}:{self.port}, clientId={self.client_id}, "
            f"account={self.account or '?'}, {state})"
        )

    # ---- life cycle -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the API connection is up and synchronised."""
        return self._connected.is_set() and self.ib.isConnected()

    async def start(self) -> ReconcileReport:
        """Connect (IbkrError after ``connect_timeout``), then reconcile the journal's open
        orders against the gateway. Call once."""
        if self._started:
            raise IbkrError(0, "session already started")
        self._started = True
        self._loop = asyncio.get_running_loop()
        try:
            await self._connect_once()
        except (OSError, TimeoutError, ConnectionError) as e:
            code, msg = self._req_errors.get(-1, (0, ""))
            if code == 326:
                raise IbkrError(326, f"client id {self.client_id} is already in use at "
                                f"{self.host}:{self.port}: {msg}") from None
            raise IbkrError(0, f"cannot connect to {self.host}:{self.port}: {e!r}") from None
        loaded = await self._load_journal()
        await self._load_anomalies()
        try:
            await self._resync()
        except (OSError, TimeoutError, ConnectionError) as e:
            self.ib.disconnect()
            raise IbkrError(0, f"start-up resync with {self.host}:{self.port} failed: {e!r}"
                            ) from None
        self._connected.set()
        self._up = True
        resolved = {cid: self._tracked[cid].order.status.value for cid in loaded}
        not_found = [
            cid for cid in loaded if not self._tracked[cid].seen_at_resync
        ]
        unresolved = [cid for cid in not_found
                      if self._tracked[cid].order.status is OrderStatus.UNKNOWN]
        log.info("ibkr session up: account %s, %d journaled open orders reconciled",
                 self.account, len(loaded))
        return ReconcileReport(len(loaded), resolved, not_found, unresolved,
                               list(self.anomalies.values()))

    async def close(self) -> None:
        """Stop reconnecting, deliver pending fills, disconnect."""
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconnect_task
        for exec_id in list(self._pending_fills):
            self._take_pending(exec_id)
        self._connected.clear()
        self.ib.disconnect()

    async def __aenter__(self) -> IbkrSession:
        """``start`` the session (``async with IbkrSession(...) as s``)."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """``close`` the session."""
        await self.close()

    def resume(self) -> None:
        """Accept new orders again after an anomaly halted the session (an operator's call,
        once the refused executions in ``anomalies`` are understood)."""
        if self.halted is not None:
            log.warning("ibkr: trading resumed (was halted: %s)", self.halted)
        self.halted = None
        self._acknowledged.update(self.anomalies)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected and synchronised; IbkrError after ``timeout`` seconds."""
        if self.connected:
            return
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise IbkrError(0, f"not connected to {self.host}:{self.port} after {timeout} s"
                            ) from None

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(order, event)`` for every accepted order event (acks, fills, cancels...)."""
        self._listeners.append(fn)

    async def _connect_once(self) -> None:
        await self.ib.connectAsync(
            self.host, self.port, clientId=self.client_id, timeout=self.connect_timeout,
            account=self.account, fetchFields=_STARTUP,
        )
        self.ib.client.MaxRequests = self._max_msgs
        accounts = self.ib.managedAccounts()
        if not self.account:
            if not accounts:
                raise IbkrError(0, "the gateway reported no managed account")
            self.account = accounts[0]
        elif self.account not in accounts:
            self.ib.disconnect()
            raise IbkrError(0, f"account {self.account} is not managed by this login "
                            f"({', '.join(accounts)})")
        self.stats.connects += 1

    def _on_disconnected(self) -> None:
        if self._closing or self._loop is None or not self._up:
            return
        self._connected.clear()
        self.stats.disconnects += 1
        log.warning("ibkr: connection to %s:%s lost; reconnecting", self.host, self.port)
        if self.alerter is not None:
            with contextlib.suppress(Exception):
                self.alerter.disconnect(VENUE, f"connection to {self.host}:{self.port} lost")
        for t in self._tracked.values():
            if t.order.status is OrderStatus.SENT:
                self._apply(t, t.order.mark_unknown("connection lost before the gateway answered"))
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = self._loop.create_task(self._reconnect())
            self._reconnect_task.add_done_callback(self._reconnect_done)

    def _reconnect_done(self, task: asyncio.Task[None]) -> None:
        """The reconnect loop ended: fine when connected or closing, else alert (HIGH)."""
        if self._closing or (not task.cancelled() and task.exception() is None
                             and self._connected.is_set()):
            return
        err = None if task.cancelled() else task.exception()
        log.critical("ibkr: the reconnect loop of %s:%s died (%r): the session stays "
                     "disconnected", self.host, self.port, err or "cancelled", exc_info=err)
        self._alert_halt(f"ibkr reconnect loop died: {err!r}")

    def _alert_halt(self, text: str) -> None:
        """A HIGH alert (``Alerter.halt``) when an alerter is configured; never raises."""
        if self.alerter is None:
            return
        try:
            self.alerter.halt(text)
        except Exception:  # an alert sink's bug must not stop order handling
            log.exception("ibkr: alert failed: %s", text)

    async def _reconnect(self) -> None:
        attempt = 0
        alerted = False
        while not self._closing:
            await asyncio.sleep(self.reconnect_backoff.delay(attempt))
            attempt += 1
            try:
                if not self.ib.isConnected():
                    await self._connect_once()
                await self._resync()
            except (OSError, TimeoutError, ConnectionError, IbkrError) as e:
                log.info("ibkr: reconnect attempt %d failed: %r", attempt, e)
                if self.ib.isConnected() and not self._closing:
                    self.ib.disconnect()
                continue
            except Exception as e:  # a bug or an unexpected answer: keep trying, loudly
                log.exception("ibkr: reconnect attempt %d failed unexpectedly", attempt)
                if not alerted:
                    alerted = True
                    self._alert_halt(f"ibkr reconnect to {self.host}:{self.port} failing: "
                                     f"{type(e).__name__}: {e}")
                if self.ib.isConnected() and not self._closing:
                    self.ib.disconnect()
                continue
            self.stats.reconnects += 1
            self._connected.set()
            log.warning("ibkr: reconnected to %s:%s after %d attempt(s)", self.host, self.port,
                        attempt)
            return

    # ---- journal reconciliation -----------------------------------------------------------

    async def _load_journal(self) -> list[str]:
        """Track the journal's non-final ibkr orders; NEW/SENT ones become UNKNOWN."""
        loaded = []
        for order in await self.journal.open_orders(VENUE):
            if order.client_id in self._tracked:
                continue
            t = _Tracked(order, contract_for(order.symbol))
            t.done = self._loop.create_future() if self._loop else None  # type: ignore[union-attr]
            t.written = order.sent_ns is not None  # SENT was journaled: the write happened
            self._tracked[order.client_id] = t
            if order.venue_order_id:
                parts = order.venue_order_id.split(".")
                if len(parts) == 3 and all(p.isdigit() for p in parts):
                    t.ib_client_id, t.ib_order_id, t.perm_id = map(int, parts)
                    self._by_perm[t.perm_id] = order.client_id
                    if t.ib_order_id:
                        self._by_oid[(t.ib_client_id, t.ib_order_id)] = order.client_id
            if order.status in (OrderStatus.NEW, OrderStatus.SENT):
                why = ("found NEW at start-up: the send may have happened before a crash"
                       if order.status is OrderStatus.NEW
                       else "found SENT at start-up: no answer was journaled")
                self._apply(t, order.mark_unknown(why))
            loaded.append(order.client_id)
        return loaded

    async def _resync(self) -> None:
        """Re-query open orders, completed orders and executions; bring our orders up to date."""
        ib, to = self.ib, self.request_timeout
        # all API clients: a journal may hold orders another clientId of ours placed
        open_trades = await asyncio.wait_for(ib.reqAllOpenOrdersAsync(), to)
        completed = await asyncio.wait_for(ib.reqCompletedOrdersAsync(False), to)
        fills = await asyncio.wait_for(ib.reqExecutionsAsync(), to)
        for t in self._tracked.values():
            t.seen_at_resync = False
        seen: dict[str, Trade] = {}
        for trade in list(completed) + list(open_trades):  # open last: the live state wins
            cid = self._cid_of(trade.order.orderRef, trade.order.permId,
                               trade.order.clientId, trade.order.orderId)
            if cid is not None:
                seen[cid] = trade
        exec_cids: dict[str, list[IbFill]] = {}
        for f in sorted(fills, key=lambda f: f.time):
            ex = f.execution
            cid = self._cid_of(ex.orderRef, ex.permId, ex.clientId, ex.orderId)
            if cid is None:
                continue
            exec_cids.setdefault(cid, []).append(f)
        for cid, t in list(self._tracked.items()):
            try:
                self._resync_order(cid, t, seen.get(cid), exec_cids.get(cid, []))
            except OpenclawError as e:  # one order's refused transition must not stop the rest
                log.exception("ibkr: resync of order %s failed", cid)
                self._alert_halt(f"ibkr resync of order {cid} failed: {e}")
        open_ = sorted(set(self.anomalies) - self._acknowledged)
        if open_:  # surfaced at every resync until an operator resumes
            log.critical("ibkr: %d refused execution(s) journaled as %s, trading halted: %s",
                         len(open_), ANOMALY_RUN_NAME, open_)
            self._alert_halt(f"ibkr: {len(open_)} refused execution(s) ({', '.join(open_)}) "
                             f"journaled as {ANOMALY_RUN_NAME}; trading halted")

    def _resync_order(self, cid: str, t: _Tracked, trade: Trade | None,
                      execs: list[IbFill]) -> None:
        """Bring one tracked order up to date with what the gateway reported."""
        order = t.order
        if order.is_final and order.status is not OrderStatus.CANCELED:
            return
        if trade is None and not execs:
            if order.status is OrderStatus.UNKNOWN:
                self._not_found(t)
            return
        t.seen_at_resync = True
        if trade is not None:
            self._learn_ids(t, trade.order.clientId, trade.order.orderId,
                            trade.order.permId or trade.orderStatus.permId)
            t.gateway_status = trade.orderStatus.status
        elif execs:
            ex = execs[0].execution
            self._learn_ids(t, ex.clientId, ex.orderId, ex.permId)
        if order.status is OrderStatus.UNKNOWN:
            st = trade.orderStatus.status if trade is not None else "Submitted"
            answer = VenueAnswer(cid, True, self._venue_order_id(t),
                                 OrderStatus.ACKED, detail=f"gateway status {st or '?'}")
            self._apply(t, *order.resolve(answer))
        elif order.venue_order_id is None and t.perm_id:
            self._apply(t, order.ack(self._venue_order_id(t)))
        for f in execs:
            self._deliver_fill(t, f, replay=True)
        if trade is not None and trade.orderStatus.status in _CANCELLED:
            if order.status in (OrderStatus.ACKED, OrderStatus.PARTIALLY_FILLED):
                self._apply(t, order.cancel(reason=f"gateway: {trade.orderStatus.status}"))
        if trade is not None and trade.orderStatus.status in _LIVE and order.is_final is False:
            t.ib_order = trade.order  # cancels go to the live order object
        self._check_done(t)

    def _not_found(self, t: _Tracked) -> None:
        """An UNKNOWN order the gateway has no trace of (open, completed, executions).

        REJECTED only if the journal shows it never got past NEW: ``record_new`` commits before
        the socket write and SENT is recorded right after it, so no SENT record means the write
        did not happen (short of a crash inside that one synchronous call: see the report of
        P1-10). An order that was written stays UNKNOWN -- IB's completed-orders and executions
        lists are time-limited, absence there is no proof -- and is alerted once."""
        order = t.order
        if not t.written and order.sent_ns is None:
            self._apply(t, *order.resolve(VenueAnswer(
                order.client_id, False,
                detail="not in open orders, completed orders or executions; the journal shows "
                       "it was never written to the gateway")))
            return
        if not t.unknown_alerted:
            t.unknown_alerted = True
            text = (f"ibkr order {order.client_id} ({order.symbol} {order.side.value} "
                    f"{order.qty}) was written to the gateway but is not in its open orders, "
                    "completed orders or executions: left UNKNOWN, check it at the broker")
            log.critical("%s", text)
            self._alert_halt(text)

    async def _load_anomalies(self) -> None:
        """Seed ``anomalies`` with the refused executions journaled by earlier processes (so a
        replayed one is not journaled twice, and ``start`` reports them)."""
        for r in await self.journal.runs():
            if r.name != ANOMALY_RUN_NAME:
                continue
            try:
                raw = json.loads(r.detail or "{}")
            except ValueError:
                raw = {"detail": r.detail}
            key = str(raw.get("exec_id") or r.run_id)
            self.anomalies.setdefault(key, raw)
            self._acknowledged.add(key)  # reported by ``start``, not alerted at each resync

    def _fill_refused(self, t: _Tracked, f: IbFill, err: OpenclawError) -> None:
        """An execution the order state machine refused: journal it raw, alert, halt."""
        ex, cr = f.execution, f.commissionReport
        if ex.execId in self.anomalies:  # replayed at a resync: journaled already
            return
        order = t.order
        raw: dict[str, Any] = {
            "exec_id": ex.execId, "client_id": order.client_id, "order_ref": ex.orderRef,
            "ib_client_id": ex.clientId, "ib_order_id": ex.orderId, "perm_id": ex.permId,
            "symbol": order.symbol, "side": ex.side, "shares": str(ex.shares),
            "price": str(ex.price), "cum_qty": str(ex.cumQty), "avg_price": str(ex.avgPrice),
            "time": f.time.isoformat() if isinstance(f.time, datetime) else str(f.time),
            "account": ex.acctNumber, "exchange": ex.exchange,
            "commission": str(cr.commission) if cr.currency else None,
            "commission_currency": cr.currency or None,
            "order_status": order.status.value, "order_qty": str(order.qty),
            "order_filled": str(order.filled_qty), "error": str(err),
        }
        self.anomalies[ex.execId] = raw
        self.halted = f"execution {ex.execId} of {order.client_id} refused: {err}"
        fut = self.journal.record_run(f"{ANOMALY_RUN_NAME}-{ex.execId}", RunStatus.FAILED,
                                      name=ANOMALY_RUN_NAME, detail=json.dumps(raw))

        def journaled(fu: asyncio.Future[None]) -> None:
            e = fu.exception()
            if e is not None:
                self.stats.journal_errors += 1
                log.critical("ibkr: journaling refused execution %s failed: %s (raw: %s)",
                             ex.execId, e, raw)

        fut.add_done_callback(journaled)
        log.critical("ibkr: execution refused by the order state machine, trading halted: %s",
                     raw)
        self._alert_halt(f"ibkr {self.halted} (raw execution journaled as "
                         f"{ANOMALY_RUN_NAME})")

    def _learn_ids(self, t: _Tracked, client_id: int, order_id: int, perm_id: int) -> None:
        cid = t.order.client_id
        if order_id and order_id > 0 and not t.ib_order_id:
            t.ib_client_id, t.ib_order_id = client_id, order_id
        if order_id and order_id > 0:
            self._by_oid[(client_id, order_id)] = cid
        if perm_id and not t.perm_id:
            t.perm_id = perm_id
        if perm_id:
            self._by_perm[perm_id] = cid

    def _venue_order_id(self, t: _Tracked) -> str:
        return f"{t.ib_client_id}.{t.ib_order_id}.{t.perm_id}"

    def _cid_of(self, order_ref: str, perm_id: int, client_id: int, order_id: int) -> str | None:
        if order_ref and order_ref in self._tracked:
            return order_ref
        if perm_id and perm_id in self._by_perm:
            return self._by_perm[perm_id]
        if order_id and order_id > 0:
            return self._by_oid.get((client_id, order_id))
        return None

    async def adopt(self, client_id: str) -> Order | None:
        """Track a journaled order of this venue (final or not) by client id, e.g. to re-check
        an order of an interrupted run; returns it in its journaled state, or None."""
        t = self._tracked.get(client_id)
        if t is not None:
            return t.order
        order = await self.journal.order(client_id)
        if order is None:
            return None
        if order.venue != VENUE:
            raise IbkrError(0, f"order {client_id} belongs to venue {order.venue}")
        t = _Tracked(order, contract_for(order.symbol))
        t.done = asyncio.get_running_loop().create_future()
        t.written = order.sent_ns is not None
        self._tracked[client_id] = t
        self._check_done(t)
        return order

    def timing(self, client_ids: Iterable[str]) -> tuple[int, int]:
        """(first ``perf_counter_ns`` an order of ``client_ids`` was written to the socket,
        last one an order became final and journaled); 0 where unknown. Orders adopted from
        the journal (sent by an earlier process) have no send time here."""
        sent = [self._tracked[c].sent_perf_ns for c in client_ids if c in self._tracked]
        final = [self._tracked[c].final_perf_ns for c in client_ids if c in self._tracked]
        sent = [x for x in sent if x]
        return (min(sent) if sent else 0,
                max(final) if final and all(final) else 0)

    def send_times(self, client_id: str) -> tuple[int, int]:
        """(record_new committed, order written to the socket) as ``perf_counter_ns`` of an
        order sent with ``submit_nowait``; 0 where unknown."""
        t = self._tracked.get(client_id)
        return (0, 0) if t is None else (t.journaled_perf_ns, t.sent_perf_ns)

    def portfolio_prices(self) -> dict[str, float]:
        """Market price of each held instrument as the gateway last pushed it (portfolio)."""
        return {symbol_of(p.contract): float(p.marketPrice)
                for p in self.ib.portfolio(self.account) if p.position and p.marketPrice > 0}

    def order(self, client_id: str) -> Order | None:
        """A tracked order (in memory), or None."""
        t = self._tracked.get(client_id)
        return None if t is None else t.order

    # ---- orders ---------------------------------------------------------------------------

    async def submit(self, order: Order, *, connect_timeout: float | None = None
                     ) -> asyncio.Future[Order]:
        """Journal ``order`` (committed), then send it; returns a future that resolves to the
        order once it is final (filled, cancelled, rejected) and that state is journaled.

        Waits up to ``connect_timeout`` for the connection if it is down (IbkrError after);
        the order is then journaled but not sent (rejected: never left this process).
        """
        if order.venue != VENUE:
            raise IbkrError(0, f"order {order.client_id} is for venue {order.venue!r}, not ibkr")
        if order.status is not OrderStatus.NEW:
            raise IbkrError(0, f"order {order.client_id} is {order.status}, not new")
        if order.client_id in self._tracked:
            raise IbkrError(0, f"order {order.client_id} was already submitted")
        if self.halted is not None:
            raise IbkrError(0, f"session halted, order {order.client_id} not taken: "
                            f"{self.halted}")
        contract = contract_for(order.symbol)
        loop = asyncio.get_running_loop()
        t = _Tracked(order, contract, done=loop.create_future())
        self._tracked[order.client_id] = t
        try:
            # on disk before anything can reach IB (inline with a NORMAL journal)
            await self.journal.record_new_batch((order,))
        except BaseException:
            self._tracked.pop(order.client_id, None)  # not journaled: never sent, not ours
            raise
        if not self.connected:
            try:
                await self.wait_connected(connect_timeout)
            except IbkrError as e:
                self._apply(t, order.reject(f"never sent: {e}"))
                return t.done  # type: ignore[return-value]
        self._send(t)
        return t.done  # type: ignore[return-value]

    def submit_nowait(self, order: Order, on_sent: Callable[[int], None] | None = None
                      ) -> asyncio.Future[Order]:
        """The hot-path ``submit``: no task, no wait. The journal write is queued now and the
        order is written to the socket from the commit's callback (journal first, still);
        ``on_sent(perf_counter_ns)`` is called right after that write. If the connection is
        down at that moment the order is rejected (never sent), not queued.
        Returns the future of the order's final state (exception: the journal refused it)."""
        if order.venue != VENUE or order.status is not OrderStatus.NEW:
            raise IbkrError(0, f"order {order.client_id}: venue {order.venue}, {order.status}"
                            " (a new ibkr order is needed)")
        if order.client_id in self._tracked:
            raise IbkrError(0, f"order {order.client_id} was already submitted")
        if self.halted is not None:
            raise IbkrError(0, f"session halted, order {order.client_id} not taken: "
                            f"{self.halted}")
        contract = self._contract(order.symbol)
        assert self._loop is not None, "start() the session first"
        t = _Tracked(order, contract, done=self._loop.create_future())
        self._tracked[order.client_id] = t
        # NORMAL journal: committed inline, ``written`` is done; FULL: the writer thread fsyncs
        written = self.journal.record_new_batch((order,))
        prebuilt = self._ib_order(order)  # built while the journal thread commits

        def journaled(f: asyncio.Future[None]) -> None:
            t.journaled_perf_ns = time.perf_counter_ns()
            err = f.exception()
            if err is not None:
                self.stats.journal_errors += 1
                if t.done is not None and not t.done.done():
                    t.done.set_exception(err)
                return
            if not self.connected:
                self._apply(t, order.reject("never sent: not connected"))
                return
            self._send(t, prebuilt)
            if on_sent is not None and order.status is OrderStatus.SENT:
                on_sent(t.sent_perf_ns)

        if written.done():  # committed inline: send now, no loop round trip
            journaled(written)
        else:
            written.add_done_callback(journaled)
        return t.done  # type: ignore[return-value]

    def _contract(self, symbol: str) -> Contract:
        """``contract_for(symbol)``, built once per symbol (the FX hot path)."""
        c = self._contracts.get(symbol)
        if c is None:
            c = self._contracts[symbol] = contract_for(symbol)
        return c

    def _ib_order(self, o: Order) -> IbOrder:
        """The ib_async order of ``o`` (orderRef = our client id), without an orderId yet.

        A copy of a per (symbol, side, type) template: ``copy.copy`` of the dataclass (its
        list-valued fields replaced by fresh lists, so no two orders share one) costs a third
        of building the ~100-field ``Order`` again."""
        key = (o.symbol, o.side, o.order_type)
        tpl = self._templates.get(key)
        if tpl is None:
            action = "BUY" if o.side is Side.BUY else "SELL"
            tpl = MarketOrder(action, 0) if o.order_type is OrderType.MARKET else LimitOrder(
                action, 0, 0.0)
            tpl.tif = "DAY"
            if self.account:
                tpl.account = self.account
            self._templates[key] = tpl
        ib_order = copy.copy(tpl)
        for name in _ORDER_LIST_FIELDS:
            setattr(ib_order, name, [])
        ib_order.totalQuantity = _ib_qty(o.qty)
        if o.order_type is not OrderType.MARKET:
            ib_order.lmtPrice = float(o.price)  # type: ignore[arg-type]
        ib_order.orderRef = o.client_id
        return ib_order

    def _send(self, t: _Tracked, prebuilt: IbOrder | None = None) -> None:
        """Write the placeOrder message (synchronously: no await between check and send)."""
        o = t.order
        ib_order = prebuilt if prebuilt is not None else self._ib_order(o)
        try:
            ib_order.orderId = self.ib.client.getReqId()
            self._by_oid[(self.client_id, ib_order.orderId)] = o.client_id
            self.ib.placeOrder(t.contract, ib_order)
        except (ConnectionError, OSError) as e:
            if o.status is OrderStatus.NEW:
                self._apply(t, o.reject(f"never sent: {e!r}"))
            else:  # a re-send that could not go out: the reconnect's resync decides
                log.warning("ibkr: re-send of %s failed: %r", o.client_id, e)
            return
        t.written = True
        t.ib_order = ib_order
        t.ib_client_id = self.client_id
        t.ib_order_id = ib_order.orderId
        # the socket write inside placeOrder (later if ib_async's throttle queued the message)
        wrote = self.last_write_ns
        t.sent_perf_ns = wrote if wrote and not self.ib.client._isThrottling else (
            time.perf_counter_ns())
        self.stats.orders_sent += 1
        if o.status is OrderStatus.NEW:
            self._apply(t, o.mark_sent())

    async def place_orders(self, orders: Sequence[Order], timeout: float = 30.0) -> PlaceResult:
        """Journal and send ``orders`` in parallel (one group commit), then wait until each is
        final or ``timeout`` seconds passed. Orders still SENT at the deadline become UNKNOWN
        (the next resync resolves them); ACKED/partially filled ones stay open."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        futs = await asyncio.gather(
            *(self.submit(o, connect_timeout=timeout) for o in orders)
        )
        result = PlaceResult(list(orders))
        sent = [self._tracked[o.client_id].sent_perf_ns for o in orders]
        sent = [s for s in sent if s]
        result.first_sent_perf_ns = min(sent) if sent else 0
        remaining = max(0.0, deadline - loop.time())
        if futs:
            _, pending = await asyncio.wait(futs, timeout=remaining)
        else:
            pending = set()
        for o in orders:
            t = self._tracked[o.client_id]
            if not o.is_final:
                result.timed_out.append(o.client_id)
                if o.status is OrderStatus.SENT:
                    self._apply(t, o.mark_unknown(f"no answer within {timeout} s"))
        finals = [self._tracked[o.client_id].final_perf_ns for o in orders]
        result.last_final_perf_ns = max(finals) if finals and all(finals) else 0
        if pending:
            await self.journal.record_event(orders[0], None)  # barrier: the UNKNOWNs committed
        return result

    async def wait_final(self, orders: Iterable[Order], timeout: float) -> bool:
        """Wait until every order is final (and journaled); False at the deadline."""
        futs = [self._tracked[o.client_id].done for o in orders]
        futs = [f for f in futs if f is not None]
        if not futs:
            return True
        _, pending = await asyncio.wait(futs, timeout=timeout)
        return not pending

    def cancel(self, order: Order) -> None:
        """Ask IB to cancel a live order (the cancel arrives as an event)."""
        t = self._tracked.get(order.client_id)
        if t is None:
            raise IbkrError(0, f"order {order.client_id} is not tracked by this session")
        if order.is_final:
            return
        target = None
        for trade in self.ib.openTrades():
            if trade.order.orderRef == order.client_id:
                target = trade.order
        target = target or t.ib_order
        if target is None or not target.orderId:
            raise IbkrError(0, f"order {order.client_id}: no live IB order to cancel")
        self.ib.cancelOrder(target)

    # ---- event handlers (called by ib_async on the loop) ---------------------------------

    def _tracked_of_trade(self, trade: Trade) -> _Tracked | None:
        o = trade.order
        cid = self._cid_of(o.orderRef, o.permId or trade.orderStatus.permId, o.clientId,
                           o.orderId)
        return None if cid is None else self._tracked.get(cid)

    def _on_status(self, trade: Trade) -> None:
        t = self._tracked_of_trade(trade)
        if t is None:
            return
        try:
            self._status(t, trade)
        except OpenclawError as e:  # a refused transition: log, keep the order as it was
            log.error("ibkr: order %s: status %s refused: %s", t.order.client_id,
                      trade.orderStatus.status, e)

    def _status(self, t: _Tracked, trade: Trade) -> None:
        order, st = t.order, trade.orderStatus.status
        t.gateway_status = st
        perm = trade.order.permId or trade.orderStatus.permId
        self._learn_ids(t, trade.order.clientId or t.ib_client_id,
                        trade.order.orderId or t.ib_order_id, perm)
        if st in _LIVE or st == "Filled":
            if perm and order.venue_order_id is None and order.status in (
                OrderStatus.SENT, OrderStatus.UNKNOWN, OrderStatus.ACKED,
                OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELED,
            ):
                self._apply(t, order.ack(self._venue_order_id(t)))
            return
        if st not in _CANCELLED:
            return
        entry = trade.log[-1] if trade.log else None
        code = entry.errorCode if entry is not None else 0
        text = entry.message if entry is not None else st
        if code in PACING_CODES and order.status is OrderStatus.SENT and not trade.fills:
            self._schedule_resend(t, code, text)
            return
        if order.status is OrderStatus.SENT and code and code not in _INFO_CODES:
            self._apply(t, order.reject(f"IB error {code}: {text}"))
        elif order.status in (OrderStatus.SENT, OrderStatus.ACKED, OrderStatus.PARTIALLY_FILLED,
                              OrderStatus.UNKNOWN):
            why = f"IB error {code}: {text}" if code and code not in _INFO_CODES else st
            self._apply(t, order.cancel(reason=why))

    def _schedule_resend(self, t: _Tracked, code: int, text: str) -> None:
        t.resends += 1
        if t.resends > _MAX_RESENDS:
            self._apply(t, t.order.reject(f"IB error {code} after {_MAX_RESENDS} re-sends: {text}"))
            return
        delay = self.reconnect_backoff.delay(t.resends)
        self.stats.resends += 1
        log.warning("ibkr: %s paced by the gateway (%d); re-sending in %.2f s",
                    t.order.client_id, code, delay)

        def again() -> None:
            if t.order.status is OrderStatus.SENT and self.connected:
                self._send(t)

        assert self._loop is not None
        self._loop.call_later(delay, again)

    def _on_exec(self, trade: Trade, fill: IbFill) -> None:
        ex = fill.execution
        cid = self._cid_of(ex.orderRef, ex.permId, ex.clientId, ex.orderId)
        t = None if cid is None else self._tracked.get(cid)
        if t is None:
            self.stats.foreign_fills += 1
            return
        if ex.execId in t.order.fills or ex.execId in self._pending_fills:
            self.stats.duplicate_fills += 1
            return
        if fill.commissionReport.currency:  # the commission is already known
            self._deliver_fill(t, fill)
            return
        assert self._loop is not None
        handle = self._loop.call_later(self.commission_wait_s, self._take_pending, ex.execId)
        self._pending_fills[ex.execId] = (t.order.client_id, fill, handle)

    def _on_commission(self, trade: Trade, fill: IbFill, report: Any) -> None:
        self._take_pending(fill.execution.execId)

    def _take_pending(self, exec_id: str) -> None:
        """Deliver a fill held for its commission: the commission came (``_on_commission``)
        or did not come in time (the timer), or the session closes."""
        pending = self._pending_fills.pop(exec_id, None)
        if pending is None:
            return
        cid, f, handle = pending
        handle.cancel()
        t = self._tracked.get(cid)
        if t is not None:
            self._deliver_fill(t, f)

    def _deliver_fill(self, t: _Tracked, f: IbFill, replay: bool = False) -> None:
        ex = f.execution
        order = t.order
        if ex.execId in order.fills:
            self.stats.duplicate_fills += 1
            return
        if ex.execId in self._pending_fills:  # the live copy is waiting for its commission
            if replay:
                _, _, handle = self._pending_fills.pop(ex.execId)
                handle.cancel()
            else:
                return
        cr = f.commissionReport
        fee = _dec(cr.commission) if cr.currency and cr.commission else Decimal(0)
        try:
            ev = order.fill(ex.execId, _dec(ex.shares), _dec(ex.price), fee,
                            cr.currency if fee else None, _ns(f.time))
        except OpenclawError as e:  # never dropped: journaled raw, alerted, halted
            self._fill_refused(t, f, e)
            return
        if ev is None:
            self.stats.duplicate_fills += 1
            return
        self.stats.fills += 1
        if replay:
            self.stats.replayed_fills += 1
        if order.venue_order_id is None and ex.permId:
            self._learn_ids(t, ex.clientId, ex.orderId, ex.permId)
            self._apply(t, ev, order.ack(self._venue_order_id(t)))
        else:
            self._apply(t, ev)
        if self.alerter is not None:
            with contextlib.suppress(Exception):
                self.alerter.fill(VENUE, order.symbol, order.side.value, str(ev.fill.qty),
                                  str(ev.fill.price), order.client_id)

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        if code in _INFO_CODES or 2100 <= code < 2200:
            return
        self._req_errors[req_id] = (code, message)
        if len(self._req_errors) > 10_000:
            self._req_errors.clear()
        cid = self._by_oid.get((self.client_id, req_id))
        if cid is not None:
            log.warning("ibkr: order %s: IB error %d: %s", cid, code, message)
        elif req_id == -1:
            log.info("ibkr: gateway message %d: %s", code, message)

    # ---- state and journaling ------------------------------------------------------------

    def _apply(self, t: _Tracked, *events: OrderEvent | None) -> None:
        """Journal the accepted events, tell the listeners, resolve ``done`` when final."""
        real = [e for e in events if e is not None]
        if not real:
            return
        fut = self.journal.record_event(t.order, *real)
        final = t.order.is_final
        fut.add_done_callback(lambda f, t=t, final=final: self._journaled(t, f, final))
        for ev in real:
            for fn in self._listeners:
                try:
                    fn(t.order, ev)
                except Exception:  # a listener's bug must not stop order handling
                    log.exception("ibkr: order listener failed")

    def _journaled(self, t: _Tracked, fut: asyncio.Future[None], final: bool) -> None:
        err = fut.exception()
        if err is not None:
            self.stats.journal_errors += 1
            log.critical("ibkr: journal write for %s failed: %s", t.order.client_id, err)
            if t.done is not None and not t.done.done():
                t.done.set_exception(err)
            return
        if final:
            self._check_done(t)

    def _check_done(self, t: _Tracked) -> None:
        if t.order.is_final and t.done is not None and not t.done.done():
            t.final_perf_ns = time.perf_counter_ns()
            t.done.set_result(t.order)

    # ---- positions ------------------------------------------------------------------------

    def positions(self) -> dict[str, Decimal]:
        """Non-zero positions of the account as the gateway last pushed them."""
        out: dict[str, Decimal] = {}
        for p in self.ib.positions(self.account):
            q = _dec(p.position)
            if q:
                out[symbol_of(p.contract)] = q
        return out

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Positions freshly queried from the gateway (reqPositions)."""
        await self.wait_connected(self.request_timeout)
        plist = await asyncio.wait_for(self.ib.reqPositionsAsync(), self.request_timeout)
        out: dict[str, Decimal] = {}
        for p in plist:
            if self.account and p.account != self.account:
                continue
            q = _dec(p.position)
            if q:
                out[symbol_of(p.contract)] = q
        return out

    def cash(self, currency: str = "USD") -> Decimal | None:
        """TotalCashValue of the account in ``currency`` (None if the gateway sent none)."""
        for v in self.ib.accountValues(self.account):
            if v.tag == "TotalCashValue" and v.currency == currency:
                return Decimal(v.value)
        return None

    def net_liquidation(self, currency: str = "USD") -> Decimal | None:
        """NetLiquidation of the account in ``currency`` (None if the gateway sent none)."""
        for v in self.ib.accountValues(self.account):
            if v.tag == "NetLiquidation" and v.currency == currency:
                return Decimal(v.value)
        return None

    # ---- historical data -------------------------------------------------------------------

    async def daily_closes(
        self,
        symbols: Sequence[str],
        days: int,
        progress: ProgressCallback | None = None,
    ) -> CloseMatrix:
        """The last ``days`` daily closes of ``symbols`` as a ``CloseMatrix`` (NaN where a
        symbol has no bar): from the disk cache (``bar_cache``, the strategies' ``BarCache``)
        when it is fresh, else fetched in parallel within IB's historical-data pacing.

        ``progress(done, total, symbol)`` is called after each symbol fetched from the gateway
        and once at the end with ``done == total`` (cache hits are not fetched).
        """
        if days < 1:
            raise IbkrError(0, f"days must be >= 1, not {days}")
        total = len(symbols)
        counter = _ProgressFetcher(self, total, progress)
        conc = self.pacer.limits.max_requests
        if self.bar_cache is not None:
            provider = CachedBars(self.bar_cache, counter, concurrency=conc)
            m = await provider.daily_closes(symbols, days)
            self.stats.cache_hits += provider.stats.hits + provider.stats.matrix_hits
        else:
            sem = asyncio.Semaphore(conc)

            async def one(s: str) -> DailyBars:
                async with sem:
                    return await counter.fetch_daily_bars(s, days)

            m = CloseMatrix.from_bars(await asyncio.gather(*(one(s) for s in symbols)), days)
        if progress is not None:
            progress(total, total, "")
        return m

    async def fetch_daily_bars(self, symbol: str, days: int) -> DailyBars:
        """At least the last ``days`` daily bars of ``symbol`` (``BarFetcher`` of the bar
        cache), within the pacing rules; a pacing error backs off and retries."""
        contract = contract_for(symbol)
        cal_days = int(days * 7 / 5) + 10
        duration = f"{cal_days} D" if cal_days <= 365 else f"{math.ceil(cal_days / 365)} Y"
        what = "MIDPOINT" if contract.secType == "CASH" else "TRADES"
        key = (symbol, duration, "1 day", what)
        last_error: tuple[int, str] = (0, "no answer")
        for attempt in range(self.hist_retries + 1):
            await self.wait_connected(self.request_timeout * 4)
            await self.pacer.acquire(key, (symbol, what))
            self.stats.hist_requests += 1
            try:
                bars = await self.ib.reqHistoricalDataAsync(
                    contract, "", duration, "1 day", what, True, formatDate=1,
                    timeout=self.request_timeout,
                )
            except ConnectionError as e:  # dropped mid-request: wait for the reconnect, retry
                last_error = (0, f"connection lost: {e}")
                self.stats.hist_retries += 1
                continue
            err = self._req_errors.pop(bars.reqId, None)
            if err is not None:
                code, msg = err
                last_error = err
                if code in PACING_CODES:
                    delay = self.pacer.violation()
                    self.stats.hist_retries += 1
                    log.info("ibkr: historical %s paced (%d), backing off %.1f s (attempt %d)",
                             symbol, code, delay, attempt + 1)
                    continue
                raise IbkrError(code, f"historical data for {symbol}: {msg}")
            if not bars:
                last_error = (0, f"no bars for {symbol} (timeout or empty answer)")
                self.stats.hist_retries += 1
                continue
            self.pacer.success()
            dates = [b.date if isinstance(b.date, date) and not isinstance(b.date, datetime)
                     else b.date.date() for b in bars]
            return DailyBars(symbol, np.array(dates, dtype="datetime64[D]"),
                             np.array([float(b.close) for b in bars]))
        raise IbkrError(last_error[0], f"historical data for {symbol} failed after "
                        f"{self.hist_retries + 1} attempts: {last_error[1]}")

    # ---- FX quotes -------------------------------------------------------------------------

    async def subscribe_fx(self, pairs: Sequence[str], on_quote: QuoteCallback
                           ) -> Callable[[], None]:
        """Stream ``on_quote(pair, bid, ask, recv_ns)`` for IDEALPRO pairs (``EUR.USD``);
        ``recv_ns`` is ``time.perf_counter_ns()`` when ib_async handed the update over
        (``pendingTickersEvent``). Returns a function that cancels the subscriptions."""
        contracts = [contract_for(p) for p in pairs]
        for p, c in zip(pairs, contracts, strict=True):
            if c.secType != "CASH":
                raise IbkrError(0, f"not an FX pair: {p}")
        await self.wait_connected(self.request_timeout)
        q = await asyncio.wait_for(self.ib.qualifyContractsAsync(*contracts),
                                   self.request_timeout)
        for p, c in zip(pairs, q, strict=True):
            if c is None or not getattr(c, "conId", 0):
                raise IbkrError(200, f"no security definition for {p}")
        by_id: dict[int, tuple[str, QuoteCallback]] = {}
        tickers = []
        for p, c in zip(pairs, contracts, strict=True):
            tk = self.ib.reqMktData(c, "", False, False)
            tickers.append(tk)
            by_id[id(tk)] = (p, on_quote)
        self._fx.update(by_id)
        if self._fx_handler is None:
            self._fx_handler = self._on_tickers
            self.ib.pendingTickersEvent += self._fx_handler

        def cancel() -> None:
            for tk, c in zip(tickers, contracts, strict=True):
                self._fx.pop(id(tk), None)
                with contextlib.suppress(Exception):
                    self.ib.cancelMktData(c)

        return cancel

    def _on_tickers(self, tickers: Any) -> None:
        recv = time.perf_counter_ns()
        fx = self._fx
        for tk in tickers:
            sub = fx.get(id(tk))
            if sub is None:
                continue
            bid, ask = tk.bid, tk.ask
            if bid == bid and ask == ask and bid > 0 and ask > 0:  # not NaN, both sides
                sub[1](sub[0], bid, ask, recv)

