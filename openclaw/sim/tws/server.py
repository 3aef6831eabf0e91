"""TWS / IB Gateway simulator on 127.0.0.1 for the unmodified ib_async and ib_insync clients.

It speaks the TWS socket API (``docs/venues/ibkr.md``): the ``API\\0`` hello, version negotiation
(``min(client max, 178)``: 178 for ib_async, 176 for ib_insync), startApi, and the messages those
clients use for accounts, positions, contract details, daily historical bars, live quotes and
orders.  State (cash, positions, orders, executions, the next order id of every clientId) lives in
the ``TwsSim`` object and survives client disconnects and the ``restart`` fault.

    sim = await start_tws(seed=1, port=0)          # 500 synthetic stocks + EUR.USD, GBP.USD
    ib = IB(); await ib.connectAsync(sim.host, sim.port, clientId=7)
    sim.inject_fault("restart", seconds=2)         # the daily gateway restart
    await sim.aclose()

``python -m openclaw.sim.tws --port 7497`` runs it standalone.  See ``README.md`` ("TWS gateway")
for the control API.  Nothing here imports openclaw.feeds/execution/venues/strategies/_core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from openclaw.sim.tws import wire
from openclaw.sim.tws.account import (
    Account,
    OrderLogEntry,
    Position,
    SimExecution,
    SimOrder,
    now_text,
    parse_position_spec,
)
from openclaw.sim.tws.universe import (
    DailyBar,
    Instrument,
    LiveQuote,
    Universe,
    fx_sessions,
    nyse_sessions,
)

__all__ = [
    "FAULT_KINDS",
    "OrderLogEntry",
    "SimExecution",
    "SimOrder",
    "TwsFaultError",
    "TwsSim",
    "main",
    "start_tws",
]

log = logging.getLogger("openclaw.sim.tws")

#: Fault kinds accepted by ``TwsSim.inject_fault``.
FAULT_KINDS: tuple[str, ...] = ("drop", "restart", "pacing", "client_id_in_use", "stall", "reject")

PACING_TEXT = (
    "Historical Market Data Service error message:Historical data request pacing violation"
)
RATE_TEXT = "Max rate of messages per second has been exceeded:max=50 rec=51 (1)"
CLIENT_ID_TEXT = (
    "Unable to connect as the client id is already in use. Retry with a unique client id."
)
NO_SECDEF_TEXT = "No security definition has been found for the request"
BAD_ORDER = "Error validating request.-'bO' : cause - "
ZERO = Decimal(0)


class TwsFaultError(ValueError):
    """A control call that cannot be applied (unknown fault kind, bad argument, unknown symbol)."""


@dataclass
class _Fault:
    kind: str
    count: int = 1
    seconds: float = 1.0
    msg_id: int | None = None


def _to_decimal(text: str) -> Decimal:
    try:
        d = Decimal(text) if text else ZERO
    except InvalidOperation:
        return Decimal(-1)
    return d if d.is_finite() else Decimal(-1)


# ---- connection ----------------------------------------------------------------------------


class _Conn(asyncio.Protocol):
    """One client socket: hello, startApi, then request dispatch; one write per reply batch."""

    def __init__(self, sim: TwsSim) -> None:
        self.sim = sim
        self.reader = wire.FrameReader()
        self.transport: asyncio.Transport | None = None
        self.version = 0
        self.client_id: int | None = None
        self.ready = False
        self.closed = False
        self.min_order_id = 1
        self._out: list[bytes] = []
        self._flush_pending = False
        self.positions_sub = False
        self.account_sub = False
        self.multi_subs: set[int] = set()
        self.mkt: dict[int, Instrument] = {}
        self.md_type = 1
        self.msg_tokens = 0.0  # IB's message pacing: a bucket of msg_rate_limit per second
        self.msg_last = 0.0
        self.arrived = 0.0  # monotonic time the current batch of bytes arrived

    # transport callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's TCP transport is not an asyncio.Transport subclass: no isinstance check)
        self.transport = transport  # type: ignore[assignment]
        self.sim._conns.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.sim._forget(self)

    def data_received(self, data: bytes) -> None:
        self.arrived = time.monotonic()
        try:
            payloads = self.reader.feed(data)
        except wire.WireError as exc:
            log.warning("tws: bad client bytes: %s", exc)
            self.abort()
            return
        for payload in payloads:
            if self.closed:
                return
            if not self.version:
                self._hello(payload)
                continue
            fields = wire.fields_of(payload)
            if not fields:
                continue
            try:
                self.sim._dispatch(self, fields)
            except Exception:
                log.exception("tws: error handling %s", fields[:3])
        self.flush()

    # output

    def send(self, msg: bytes) -> None:
        """Queue one framed message; written at the end of the current batch."""
        if self.closed:
            return
        self._out.append(msg)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write everything queued in one call."""
        self._flush_pending = False
        if not self._out or self.transport is None or self.closed:
            self._out.clear()
            return
        data = b"".join(self._out)
        self._out.clear()
        self.transport.write(data)
        if self.transport.get_write_buffer_size() > 64 << 20:
            log.warning("tws: client %s too slow, dropping", self.client_id)
            self.abort()

    def abort(self) -> None:
        """Cut the connection (no flush)."""
        self.closed = True
        self._out.clear()
        if self.transport is not None:
            self.transport.abort()

    def close_after_flush(self) -> None:
        """Write what is queued, then close."""
        self.flush()
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # handshake

    def _hello(self, payload: bytes) -> None:
        try:
            _lo, hi, _opts = wire.parse_hello(payload)
        except wire.WireError as exc:
            log.warning("tws: %s", exc)
            self.abort()
            return
        version = min(hi, self.sim.max_server_version)
        if version < wire.MIN_SERVER_VERSION:
            log.warning(
                "tws: client max version %d below %d (the simulator encodes %d..%d)",
                hi,
                wire.MIN_SERVER_VERSION,
                wire.MIN_SERVER_VERSION,
                wire.MAX_SERVER_VERSION,
            )
            self.abort()
            return
        self.version = version
        self.send(wire.frame([version, now_text()]))


# ---- the simulator ---------------------------------------------------------------------------


class TwsSim:
    """A simulated TWS / IB Gateway: one paper account, synthetic stocks and FX (see module doc).

    Construct and ``await start()`` (or use ``start_tws``); ``await aclose()`` when done.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        account: str = "DU1234567",
        cash: float = 1_000_000.0,
        universe_size: int = 500,
        fx_rate: float = 20.0,
        stock_rate: float = 2.0,
        fill_mode: str = "full",
        partial_slices: int = 3,
        partial_delay: float = 0.02,
        hist_pacing_limit: int = 60,
        hist_pacing_window: float = 600.0,
        leverage: float = 1.0,
        max_server_version: int = wire.MAX_SERVER_VERSION,
        msg_rate_limit: int = 0,
    ) -> None:
        if not account:
            raise ValueError("account must be a non-empty string")
        if not (wire.MIN_SERVER_VERSION <= max_server_version <= wire.MAX_SERVER_VERSION):
            raise ValueError(
                "max_server_version must be in "
                f"{wire.MIN_SERVER_VERSION}..{wire.MAX_SERVER_VERSION}"
            )
        if fx_rate < 0 or stock_rate < 0:
            raise ValueError("quote rates must be >= 0")
        if partial_slices < 2:
            raise ValueError("partial_slices must be >= 2")
        if leverage <= 0:
            raise ValueError("leverage must be > 0")
        if msg_rate_limit < 0 or hist_pacing_limit < 1:
            raise ValueError("msg_rate_limit must be >= 0 and hist_pacing_limit >= 1")
        self.seed = seed
        self.host = host
        self.port = port
        self.account = account
        self.fx_rate = float(fx_rate)
        self.stock_rate = float(stock_rate)
        self.fill_mode = fill_mode
        self.partial_slices = int(partial_slices)
        self.partial_delay = float(partial_delay)
        self.hist_pacing_limit = int(hist_pacing_limit)
        self.hist_pacing_window = float(hist_pacing_window)
        self.max_server_version = int(max_server_version)
        #: IB's message pacing (~50 client messages/s per connection); 0 = not enforced
        self.msg_rate_limit = int(msg_rate_limit)
        self.rate_errors = 0  # messages refused with error 100 by ``msg_rate_limit``
        self.messages_in = 0  # client messages dispatched (after the handshake)
        self.u = Universe(seed, universe_size)
        self.acct = Account(account, cash, leverage, self.u, self._mid)
        self._orders: dict[tuple[int, int], SimOrder] = {}
        self._resting: dict[str, list[SimOrder]] = {}
        self._max_order_id: dict[int, int] = {}
        self.order_log: list[OrderLogEntry] = []
        self._perm_id = random.Random(f"tws-perm-{seed}").randrange(100_000_000, 1_900_000_000)
        self._quotes: dict[str, LiveQuote] = {}
        self._conns: set[_Conn] = set()
        self._by_client: dict[int, _Conn] = {}
        self._faults: list[_Fault] = []
        self.faults_applied: list[dict[str, Any]] = []
        self._hist_times: deque[float] = deque()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._push_pending = False
        self._dirty: set[str] = set()
        self._closing = False
        self._reopen: asyncio.Task[None] | None = None
        self.accepting = False
        self._handlers: dict[int, Callable[[_Conn, list[str]], None]] = {
            71: self._h_start_api,
            61: self._h_req_positions,
            64: self._h_cancel_positions,
            5: self._h_req_open_orders,
            16: self._h_req_all_open_orders,
            15: self._h_noop,
            99: self._h_req_completed_orders,
            6: self._h_req_account_updates,
            76: self._h_req_account_updates_multi,
            77: self._h_cancel_account_updates_multi,
            62: self._h_req_account_summary,
            63: self._h_noop,
            7: self._h_req_executions,
            8: self._h_req_ids,
            3: self._h_place_order,
            4: self._h_cancel_order,
            58: self._h_global_cancel,
            9: self._h_req_contract_details,
            20: self._h_req_historical_data,
            25: self._h_noop,
            1: self._h_req_mkt_data,
            2: self._h_cancel_mkt_data,
            59: self._h_req_market_data_type,
            49: self._h_req_current_time,
            17: self._h_req_managed_accts,
        }
        self.set_fill_mode(fill_mode)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> TwsSim:
        """Listen on ``host:port`` (0 = ephemeral) and start the quote clock."""
        await self._listen()
        self._spawn(self._ticker(), "tws-ticker")
        log.info("TWS simulator on %s:%d", self.host, self.port)
        return self

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Conn(self), self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.accepting = True

    async def aclose(self) -> None:
        """Close every connection and the listener; stop timers."""
        self._closing = True
        for t in list(self._timers):
            t.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for conn in list(self._conns):
            conn.abort()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        self.accepting = False

    async def __aenter__(self) -> TwsSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            if not self._closing:
                fn()

        handle = loop.call_later(delay, run)
        self._timers.add(handle)

    # ---- public properties and control -------------------------------------------------------

    @property
    def url(self) -> str:
        """``tws://host:port``."""
        return f"tws://{self.host}:{self.port}"

    @property
    def leverage(self) -> float:
        """Buying power multiple of the margin check (1.0: buys need the cash)."""
        return self.acct.leverage

    @leverage.setter
    def leverage(self, value: float) -> None:
        if not (value > 0 and math.isfinite(value)):
            raise TwsFaultError("leverage must be > 0")
        self.acct.leverage = float(value)
        self.acct.invalidate()

    @property
    def universe(self) -> list[str]:
        """Stock symbols (deterministic by seed)."""
        return self.u.symbols

    @property
    def fx_pairs(self) -> list[str]:
        """FX pairs served on IDEALPRO (``"EUR.USD"``, ``"GBP.USD"``)."""
        return [i.symbol for i in self.u.fx]

    @property
    def connections(self) -> int:
        """Client connections that completed startApi."""
        return sum(1 for c in self._conns if c.ready and not c.closed)

    def client_ids(self) -> list[int]:
        """clientIds of the live connections."""
        return sorted(self._by_client)

    def instrument(self, symbol: str) -> Instrument:
        """The instrument of a symbol ("ABCD", "EUR.USD"); TwsFaultError if unknown."""
        inst = self.u.by_symbol.get(symbol.upper())
        if inst is None:
            raise TwsFaultError(f"unknown symbol {symbol!r}")
        return inst

    def set_fill_mode(self, mode: str) -> None:
        """``"full"`` (one execution per order) or ``"partial"`` (``partial_slices`` fills)."""
        if mode not in ("full", "partial"):
            raise TwsFaultError(f"fill_mode must be 'full' or 'partial', got {mode!r}")
        self.fill_mode = mode

    def inject_fault(
        self,
        kind: str,
        *,
        seconds: float | None = None,
        count: int = 1,
        msg_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a fault (``FAULT_KINDS``); ``drop``/``restart`` act now, the others are armed.

        * ``drop``: abort every client connection.
        * ``restart``: abort all, stop listening for ``seconds`` (default 1), listen again on the
          same port; all state is kept.
        * ``pacing``: the next ``count`` requests with ``msg_id`` (default 20, reqHistoricalData)
          get error 162 (historical) or 100 (other message ids) and no answer.
        * ``client_id_in_use``: the next ``count`` startApi get error 326 and the socket closes.
        * ``stall``: the next ``count`` requests with ``msg_id`` (None = any) are swallowed.
        * ``reject``: the next ``count`` orders are rejected with error 201.
        """
        if kind not in FAULT_KINDS:
            raise TwsFaultError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count < 1:
            raise TwsFaultError("count must be >= 1")
        if seconds is not None and not (seconds >= 0 and math.isfinite(seconds)):
            raise TwsFaultError("seconds must be a finite number >= 0")
        if kind == "pacing" and msg_id is None:
            msg_id = 20
        fault = _Fault(kind, int(count), 1.0 if seconds is None else float(seconds), msg_id)
        record = {**asdict(fault), "at": time.time()}
        if kind == "drop":
            for conn in list(self._conns):
                conn.abort()
            self.faults_applied.append(record)
        elif kind == "restart":
            self.faults_applied.append(record)
            self._restart(fault.seconds)
        else:
            self._faults.append(fault)
        return record

    @property
    def armed_faults(self) -> list[dict[str, Any]]:
        """Faults still waiting for their request."""
        return [asdict(f) for f in self._faults]

    def _restart(self, seconds: float) -> None:
        for conn in list(self._conns):
            conn.abort()
        server, self._server = self._server, None
        self.accepting = False
        if server is not None:
            server.close()

        async def reopen() -> None:
            await asyncio.sleep(seconds)
            if self._closing:
                return
            try:
                await self._listen()
            except OSError:
                log.exception("TWS simulator cannot listen again on %s:%d", self.host, self.port)
                raise
            log.info("TWS simulator listening again on %s:%d", self.host, self.port)

        if self._reopen is not None and not self._reopen.done():
            self._reopen.cancel()  # a restart during an outage: the outage starts again
        self._reopen = self._spawn(reopen(), "tws-restart")

    def _take_fault(self, kind: str, msg_id: int | None = None) -> _Fault | None:
        for f in self._faults:
            if f.kind != kind:
                continue
            if kind in ("stall", "pacing") and f.msg_id is not None and f.msg_id != msg_id:
                continue
            f.count -= 1
            if f.count <= 0:
                self._faults.remove(f)
            self.faults_applied.append({**asdict(f), "at": time.time(), "msg": msg_id})
            return f
        return None

    # state inspection

    def positions(self) -> dict[str, Decimal]:
        """Non-zero positions by symbol (FX pairs in base-currency units)."""
        return {s: p.qty for s, p in self.acct.positions.items() if p.qty}

    def avg_costs(self) -> dict[str, float]:
        """Average cost per unit (commission included) of every non-zero position."""
        return {s: p.avg_cost for s, p in self.acct.positions.items() if p.qty}

    def set_positions(self, positions: Mapping[str, Any]) -> None:
        """Replace positions: ``{symbol: qty}`` or ``{symbol: (qty, avg_cost)}``; cash unchanged.

        The average cost defaults to the current mid.  Subscribed clients get the new positions.
        """
        new: dict[str, tuple[Decimal, float]] = {}
        for sym, spec in positions.items():
            inst = self.instrument(sym)
            try:
                qty, cost = parse_position_spec(spec)
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise TwsFaultError(f"bad position for {sym!r}: {spec!r}") from exc
            new[inst.symbol] = (qty, cost if cost is not None else self._quote(inst).mid)
        gone = set(self.acct.positions) - set(new)
        self.acct.set_positions(new)
        self._dirty.update(new)
        self._dirty.update(gone)
        self._schedule_push()

    def cash(self) -> float:
        """USD cash balance."""
        return self.acct.cash

    def set_cash(self, amount: float) -> None:
        """Set the USD cash balance."""
        if not math.isfinite(amount):
            raise TwsFaultError("cash must be finite")
        self.acct.cash = float(amount)
        self.acct.invalidate()
        self._schedule_push()

    def net_liquidation(self) -> float:
        """Cash plus every position at its current mid (USD)."""
        return self.acct.numbers()["NetLiquidation"]

    def orders(self) -> list[SimOrder]:
        """Every order accepted (open and done), in placement order."""
        return list(self._orders.values())

    def open_orders(self) -> list[SimOrder]:
        """Orders still working."""
        return [o for o in self._orders.values() if not o.done]

    def executions(self) -> list[SimExecution]:
        """Every execution, oldest first."""
        return list(self.acct.executions)

    def next_order_id(self, client_id: int) -> int:
        """The nextValidId a (re)connecting clientId gets."""
        return self._max_order_id.get(client_id, 0) + 1

    def quote(self, symbol: str) -> tuple[float, float, float]:
        """Current live (bid, ask, last)."""
        q = self._quote(self.instrument(symbol))
        return q.bid, q.ask, q.last

    def set_price(self, symbol: str, price: float) -> None:
        """Move the live mid of a symbol now; resting orders it crosses fill at once."""
        inst = self.instrument(symbol)
        q = self._quote(inst)
        try:
            self.u.set_mid(inst, q, float(price), time.monotonic())
        except ValueError as exc:
            raise TwsFaultError(str(exc)) from exc
        self._publish_quote(inst, q)
        self._check_resting(inst)

    def bars(self, symbol: str, end: date | None = None, days: int | None = None) -> list[DailyBar]:
        """The true daily bars up to ``end`` (default: last completed session), last ``days``."""
        inst = self.instrument(symbol)
        last = self.u.last_completed_session()
        end = min(end or last, last)
        bars = self.u.bars(inst, None, end)
        return bars[-days:] if days else bars

    def fill_resting(self, symbol: str | None = None) -> int:
        """Fill every resting LMT order (of ``symbol``) now at its limit price; returns the count.

        Works while no client is connected: the fills are replayed on reconnect.
        """
        if symbol is not None:
            self.instrument(symbol)
        n = 0
        for sym, lst in list(self._resting.items()):
            if symbol is not None and sym != symbol.upper():
                continue
            for o in list(lst):
                if not o.done and not o.slicing:
                    self._execute(o, lambda o=o: o.lmt_price or 0.0, liquidity=1)
                    n += 1
        return n

    # ---- quotes ------------------------------------------------------------------------------

    def _quote(self, inst: Instrument) -> LiveQuote:
        loop_time = time.monotonic()
        q = self._quotes.get(inst.symbol)
        if q is None:
            q = self.u.new_quote(inst, loop_time)
            self._quotes[inst.symbol] = q
        else:
            self.u.advance(inst, q, loop_time)
        return q

    async def _ticker(self) -> None:
        """The quote clock: FX at ``fx_rate``, subscribed stocks at ``stock_rate`` (both may be
        changed at run time), and resting-order checks on every move."""
        next_stock = time.monotonic()
        while True:
            await asyncio.sleep(1.0 / self.fx_rate if self.fx_rate > 0 else 0.05)
            try:
                now = time.monotonic()
                for inst in self.u.fx:
                    q = self._quotes.get(inst.symbol)
                    if q is not None and (q.subscribers or self._resting.get(inst.symbol)):
                        if self.fx_rate > 0 and self.u.advance(inst, q, now):
                            self._publish_quote(inst, q)
                            self._check_resting(inst)
                if self.stock_rate > 0 and now >= next_stock:
                    next_stock = now + 1.0 / self.stock_rate
                    for sym, q in list(self._quotes.items()):
                        inst = self.u.by_symbol[sym]
                        if inst.is_fx or not (q.subscribers or self._resting.get(sym)):
                            continue
                        if self.u.advance(inst, q, now):
                            self._publish_quote(inst, q)
                            self._check_resting(inst)
            except Exception:
                log.exception("tws: ticker failed")

    def _publish_quote(self, inst: Instrument, q: LiveQuote) -> None:
        for conn, req_id in list(q.subscribers):  # type: ignore[misc]
            if conn.closed:
                q.subscribers.discard((conn, req_id))
                continue
            conn.send(wire.tick_price(req_id, 1, q.bid, q.bid_size))
            conn.send(wire.tick_price(req_id, 2, q.ask, q.ask_size))
            if not inst.is_fx:
                conn.send(wire.tick_price(req_id, 4, q.last, q.last_size))
                conn.send(wire.tick_size(req_id, 8, q.volume))

    def _send_all_ticks(self, conn: _Conn, req_id: int, inst: Instrument, q: LiveQuote) -> None:
        conn.send(wire.tick_price(req_id, 1, q.bid, q.bid_size))
        conn.send(wire.tick_price(req_id, 2, q.ask, q.ask_size))
        if not inst.is_fx:
            conn.send(wire.tick_price(req_id, 4, q.last, q.last_size))
            conn.send(wire.tick_size(req_id, 8, q.volume))
        conn.send(wire.tick_price(req_id, 9, q.prev_close, 0))

    # ---- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, conn: _Conn, f: list[str]) -> None:
        try:
            msg_id = int(f[0])
        except ValueError:
            log.warning("tws: bad message id %r", f[0])
            return
        self.messages_in += 1
        if msg_id != 71:
            if not conn.ready:
                log.warning("tws: message %d before startApi ignored", msg_id)
                return
            if self.msg_rate_limit and self._over_rate(conn):
                self.rate_errors += 1
                if msg_id == 3:
                    self._log_order(conn, f, f[3] if len(f) > 3 else "", "error 100")
                self._pacing_error(conn, msg_id, f)
                return
            if self._faults:
                if self._take_fault("stall", msg_id) is not None:
                    if msg_id == 3:
                        self._log_order(conn, f, f[3] if len(f) > 3 else "", "stalled")
                    return
                if self._take_fault("pacing", msg_id) is not None:
                    if msg_id == 3:
                        self._log_order(conn, f, f[3] if len(f) > 3 else "", "error 100")
                    self._pacing_error(conn, msg_id, f)
                    return
        handler = self._handlers.get(msg_id)
        if handler is None:
            self._unsupported(conn, msg_id, f)
            return
        handler(conn, f)

    def _over_rate(self, conn: _Conn) -> bool:
        """Count one message of ``conn`` (at its arrival time); True if it is over IB's pace:
        a bucket of ``msg_rate_limit`` messages refilled at ``msg_rate_limit`` per second, so
        a client's 45-per-second bursts pass and a sustained higher rate does not. A refused
        message (error 100) takes no token."""
        rate = float(self.msg_rate_limit)
        if conn.msg_last == 0.0:
            conn.msg_tokens, conn.msg_last = rate, conn.arrived
        dt = conn.arrived - conn.msg_last
        if dt > 0:
            conn.msg_tokens = min(rate, conn.msg_tokens + dt * rate)
            conn.msg_last = conn.arrived
        if conn.msg_tokens < 1.0:
            return True
        conn.msg_tokens -= 1.0
        return False

    # request ids sit right after the message id for these (no version field), else after it
    _NO_VERSION_REQ = frozenset({78, 79, 81, 84, 85, 86, 87, 88, 89, 90, 91, 92, 94, 96, 97})

    def _unsupported(self, conn: _Conn, msg_id: int, f: list[str]) -> None:
        """Answer a request the simulator does not serve with error 322 (never a silent hang)."""
        idx = 1 if msg_id in self._NO_VERSION_REQ else 2
        req_id = -1
        with contextlib.suppress(IndexError, ValueError):
            req_id = int(f[idx])
        log.warning("tws: unsupported request %d (reqId %d) refused", msg_id, req_id)
        self._error(  # 322, not 321: the clients treat 321 as a warning and keep waiting
            conn,
            req_id,
            322,
            f"Error processing request.-'{msg_id}' : cause - message {msg_id} is not supported "
            "by the openclaw TWS simulator",
        )

    def _pacing_error(self, conn: _Conn, msg_id: int, f: list[str]) -> None:
        req_id = -1
        # the request / order id sits at index 1 (no version field) or 2 (after a version field)
        with contextlib.suppress(IndexError, ValueError):
            if msg_id in (3, 20):
                req_id = int(f[1])
            elif msg_id in (1, 2, 4, 7, 9, 25, 62, 76):
                req_id = int(f[2])
        if msg_id == 20:
            conn.send(wire.error_msg(conn.version, req_id, 162, PACING_TEXT))
        else:
            conn.send(wire.error_msg(conn.version, req_id, 100, RATE_TEXT))

    def _error(self, conn: _Conn, req_id: int, code: int, text: str) -> None:
        conn.send(wire.error_msg(conn.version, req_id, code, text))

    def _forget(self, conn: _Conn) -> None:
        self._conns.discard(conn)
        if conn.client_id is not None and self._by_client.get(conn.client_id) is conn:
            del self._by_client[conn.client_id]
        for req_id, inst in conn.mkt.items():
            q = self._quotes.get(inst.symbol)
            if q is not None:
                q.subscribers.discard((conn, req_id))
        conn.mkt.clear()

    # ---- session -----------------------------------------------------------------------------

    def _h_noop(self, conn: _Conn, f: list[str]) -> None:
        return None

    def _h_start_api(self, conn: _Conn, f: list[str]) -> None:
        if conn.ready:
            return
        try:
            client_id = int(f[2])
        except (IndexError, ValueError):
            conn.abort()
            return
        other = self._by_client.get(client_id)
        forced = self._take_fault("client_id_in_use")
        if forced is not None or (other is not None and not other.closed):
            self._error(conn, -1, 326, CLIENT_ID_TEXT)
            conn.close_after_flush()
            return
        conn.client_id = client_id
        conn.ready = True
        self._by_client[client_id] = conn
        conn.min_order_id = self.next_order_id(client_id)
        conn.send(wire.frame([15, 1, self.acct.name]))
        conn.send(wire.frame([9, 1, conn.min_order_id]))
        for code, text in (
            (2104, "Market data farm connection is OK:usfarm"),
            (2106, "HMDS data farm connection is OK:ushmds"),
            (2158, "Sec-def data farm connection is OK:secdefil"),
        ):
            self._error(conn, -1, code, text)

    def _h_req_ids(self, conn: _Conn, f: list[str]) -> None:
        assert conn.client_id is not None
        nxt = max(conn.min_order_id, self.next_order_id(conn.client_id))
        conn.send(wire.frame([9, 1, nxt]))

    def _h_req_current_time(self, conn: _Conn, f: list[str]) -> None:
        conn.send(wire.frame([49, 1, int(time.time())]))

    def _h_req_managed_accts(self, conn: _Conn, f: list[str]) -> None:
        conn.send(wire.frame([15, 1, self.acct.name]))

    # ---- account and positions ---------------------------------------------------------------

    def _mid(self, inst: Instrument) -> float:
        """Current mid for valuation (the quote as last advanced; created if missing)."""
        q = self._quotes.get(inst.symbol)
        return q.mid if q is not None else self._quote(inst).mid

    def _position_msg(self, sym: str) -> bytes:
        inst = self.u.by_symbol[sym]
        p = self.acct.positions.get(sym) or Position()
        return wire.frame(
            [61, 3, self.acct.name, *wire.contract11(inst), wire.fmt_qty(p.qty), repr(p.avg_cost)]
        )

    def _portfolio_msg(self, sym: str) -> bytes:
        inst = self.u.by_symbol[sym]
        p = self.acct.positions.get(sym) or Position()
        mid = round(self._mid(inst), 6)
        qty = float(p.qty)
        return wire.frame(
            [
                7,
                8,
                inst.con_id,
                inst.ib_symbol,
                inst.sec_type,
                "",
                "0",
                "",
                "",
                "" if inst.is_fx else inst.primary_exchange,
                inst.currency,
                inst.local_symbol,
                inst.trading_class,
                wire.fmt_qty(p.qty),
                repr(mid),
                f"{qty * mid:.2f}",
                repr(p.avg_cost),
                f"{(mid - p.avg_cost) * qty:.2f}",
                f"{p.realized:.2f}",
                self.acct.name,
            ]
        )

    def _h_req_positions(self, conn: _Conn, f: list[str]) -> None:
        conn.positions_sub = True
        for sym, p in self.acct.positions.items():
            if p.qty:
                conn.send(self._position_msg(sym))
        conn.send(wire.frame([62, 1]))

    def _h_cancel_positions(self, conn: _Conn, f: list[str]) -> None:
        conn.positions_sub = False

    def _h_req_account_updates(self, conn: _Conn, f: list[str]) -> None:
        subscribe = len(f) > 2 and f[2] == "1"
        acct = f[3] if len(f) > 3 else ""
        if acct and acct != self.account:
            self._error(
                conn, -1, 321, f"Error validating request.-'bB' : cause - Invalid account {acct}"
            )
            return
        conn.account_sub = subscribe
        if not subscribe:
            return
        for key, value, ccy in self.acct.values():
            conn.send(wire.frame([6, 2, key, value, ccy, self.acct.name]))
        for sym, p in self.acct.positions.items():
            if p.qty:
                conn.send(self._portfolio_msg(sym))
        conn.send(wire.frame([8, 1, datetime.now(UTC).strftime("%H:%M")]))
        conn.send(wire.frame([54, 1, self.acct.name]))

    def _h_req_account_updates_multi(self, conn: _Conn, f: list[str]) -> None:
        req_id = int(f[2])
        acct = f[3] if len(f) > 3 else ""
        if acct and acct not in (self.acct.name, "All"):
            self._error(conn, req_id, 322, f"Error processing request: unknown account {acct}")
            return
        conn.multi_subs.add(req_id)
        for key, value, ccy in self.acct.values():
            conn.send(wire.frame([73, 1, req_id, self.acct.name, "", key, value, ccy]))
        conn.send(wire.frame([74, 1, req_id]))

    def _h_cancel_account_updates_multi(self, conn: _Conn, f: list[str]) -> None:
        with contextlib.suppress(IndexError, ValueError):
            conn.multi_subs.discard(int(f[2]))

    def _h_req_account_summary(self, conn: _Conn, f: list[str]) -> None:
        req_id = int(f[2])
        tags = {t.strip() for t in (f[4] if len(f) > 4 else "").split(",") if t.strip()}
        seen: set[str] = set()
        for key, value, ccy in self.acct.values():
            if key in tags and key not in seen and ccy in ("", "USD"):
                seen.add(key)
                conn.send(wire.frame([63, 1, req_id, self.acct.name, key, value, ccy]))
        conn.send(wire.frame([64, 1, req_id]))

    def _schedule_push(self) -> None:
        if not self._push_pending:
            self._push_pending = True
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().call_soon(self._push)
                return
            self._push_pending = False

    def _push(self) -> None:
        """Position / portfolio / account pushes to subscribed connections (coalesced)."""
        self._push_pending = False
        dirty, self._dirty = self._dirty, set()
        conns = [c for c in self._conns if c.ready and not c.closed]
        if not any(c.positions_sub or c.account_sub or c.multi_subs for c in conns):
            return
        values = self.acct.values()
        now_hm = datetime.now(UTC).strftime("%H:%M")
        for conn in conns:
            if conn.positions_sub:
                for sym in dirty:
                    conn.send(self._position_msg(sym))
            if conn.account_sub:
                for sym in dirty:
                    conn.send(self._portfolio_msg(sym))
                for key, value, ccy in values:
                    conn.send(wire.frame([6, 2, key, value, ccy, self.acct.name]))
                conn.send(wire.frame([8, 1, now_hm]))
            for req_id in conn.multi_subs:
                for key, value, ccy in values:
                    conn.send(wire.frame([73, 1, req_id, self.acct.name, "", key, value, ccy]))

    # ---- contracts and data ------------------------------------------------------------------

    def _resolve(self, f: list[str], i: int) -> tuple[Instrument | None, str]:
        """Instrument of the 12 contract fields starting at ``f[i]``, plus the exchange."""
        try:
            con_id = int(f[i] or 0)
        except ValueError:
            return None, ""
        symbol, sec_type = f[i + 1], f[i + 2]
        exchange, currency, local = f[i + 7], f[i + 9], f[i + 10]
        inst = self.u.find(con_id, symbol, sec_type, currency, local)
        if inst is None:
            return None, exchange
        ex = exchange.upper()
        if inst.is_fx:
            if ex not in ("", "IDEALPRO"):
                return None, exchange
            return inst, "IDEALPRO"
        if ex and ex not in (
            "SMART",
            inst.primary_exchange,
            inst.exec_exchange,
            "ARCA",
            "BATS",
            "IEX",
        ):
            return None, exchange
        return inst, ex or "SMART"

    def _h_req_contract_details(self, conn: _Conn, f: list[str]) -> None:
        req_id = int(f[2])
        inst, exchange = self._resolve(f, 3)
        if inst is None:
            self._error(conn, req_id, 200, NO_SECDEF_TEXT)
            return
        self._quote(inst)  # generate the history now (lookup time) rather than on the 1st order
        conn.send(wire.contract_details(conn.version, req_id, inst, exchange))
        conn.send(wire.frame([52, 1, req_id]))

    def _h_req_mkt_data(self, conn: _Conn, f: list[str]) -> None:
        req_id = int(f[2])
        inst, _ = self._resolve(f, 3)
        if inst is None:
            self._error(conn, req_id, 200, NO_SECDEF_TEXT)
            return
        i = 15  # no BAG legs: combos never resolve to an instrument
        dnc = f[i] == "1"
        i += 4 if dnc else 1
        snapshot = len(f) > i + 1 and f[i + 1] == "1"
        q = self._quote(inst)
        conn.send(wire.frame([58, 1, req_id, conn.md_type]))
        conn.send(wire.frame([81, req_id, repr(inst.min_tick), "9c0001", 3]))
        self._send_all_ticks(conn, req_id, inst, q)
        if snapshot:
            conn.send(wire.frame([57, 1, req_id]))
            return
        conn.mkt[req_id] = inst
        q.subscribers.add((conn, req_id))

    def _h_cancel_mkt_data(self, conn: _Conn, f: list[str]) -> None:
        with contextlib.suppress(IndexError, ValueError):
            req_id = int(f[2])
            inst = conn.mkt.pop(req_id, None)
            if inst is not None:
                q = self._quotes.get(inst.symbol)
                if q is not None:
                    q.subscribers.discard((conn, req_id))

    def _h_req_market_data_type(self, conn: _Conn, f: list[str]) -> None:
        with contextlib.suppress(IndexError, ValueError):
            conn.md_type = int(f[2])

    def _h_req_historical_data(self, conn: _Conn, f: list[str]) -> None:
        req_id = int(f[1])
        inst, _ = self._resolve(f, 2)
        if inst is None:
            self._error(conn, req_id, 200, NO_SECDEF_TEXT)
            return
        end_text, bar_size, duration, what = f[15], f[16], f[17], f[19].upper()
        now = time.monotonic()
        window = self._hist_times
        while window and now - window[0] > self.hist_pacing_window:
            window.popleft()
        if len(window) >= self.hist_pacing_limit:
            self._error(conn, req_id, 162, PACING_TEXT)
            return
        window.append(now)
        if bar_size.strip().lower() not in ("1 day", "1 d", "1day"):
            self._error(  # 162, not 321: ib_async treats 321 as a warning and keeps waiting
                conn,
                req_id,
                162,
                "Historical Market Data Service error message:bar size "
                f"{bar_size!r} is not served by the simulator (only '1 day')",
            )
            return
        allowed = ("MIDPOINT", "BID", "ASK", "BID_ASK") if inst.is_fx else (
            "TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"
        )  # fmt: skip
        if what not in allowed:
            self._error(
                conn,
                req_id,
                162,
                "Historical Market Data Service error message:No historical market data for "
                f"{inst.ib_symbol}/{inst.sec_type}@{'IDEALPRO' if inst.is_fx else 'SMART'} {what}",
            )
            return
        try:
            end = self._parse_end(end_text)
            start = self._duration_start(inst, end, duration)
        except ValueError as exc:
            self._error(conn, req_id, 162, f"Historical Market Data Service error message:{exc}")
            return
        last = self.u.last_completed_session()
        bars = self.u.bars(inst, start, min(end, last))
        if not bars:
            self._error(
                conn,
                req_id,
                162,
                "Historical Market Data Service error message:HMDS query returned no data: "
                f"{inst.ib_symbol}@SMART {what.title()}",
            )
            return
        conn.send(
            wire.historical_data(
                req_id,
                bars[0].date.strftime("%Y%m%d") + " 00:00:00",
                min(end, last).strftime("%Y%m%d") + " 23:59:59",
                bars,
                inst.is_fx,
            )
        )

    @staticmethod
    def _parse_end(text: str) -> date:
        text = text.strip()
        if not text:
            return datetime.now(UTC).date()
        digits = text[:8]
        if len(digits) != 8 or not digits.isdigit():
            raise ValueError(f"End date/time: invalid format {text!r}")
        return datetime.strptime(digits, "%Y%m%d").date()

    def _duration_start(self, inst: Instrument, end: date, duration: str) -> date:
        parts = duration.strip().split()
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) < 1:
            raise ValueError(f"Historical data query duration {duration!r} is invalid")
        n, unit = int(parts[0]), parts[1].upper()
        if unit in ("S", "D"):
            sessions_n = n if unit == "D" else max(1, math.ceil(n / 86400))
            span = (fx_sessions if inst.is_fx else nyse_sessions)(
                end - timedelta(days=sessions_n * 2 + 10), end
            )
            span = [d for d in span if d <= self.u.last_completed_session()]
            return span[-sessions_n] if len(span) >= sessions_n else span[0] if span else end
        if unit == "W":
            return end - timedelta(days=7 * n - 1)
        if unit == "M":
            y, m = divmod(end.year * 12 + end.month - 1 - n, 12)
            return _safe_date(y, m + 1, end.day) + timedelta(days=1)
        if unit == "Y":
            return _safe_date(end.year - n, end.month, end.day) + timedelta(days=1)
        raise ValueError(f"Historical data query duration unit {unit!r} is invalid")

    # ---- orders ------------------------------------------------------------------------------

    def _log_order(self, conn: _Conn, f: list[str], symbol: str, result: str) -> None:
        self.order_log.append(
            OrderLogEntry(
                time.time(),
                conn.client_id if conn.client_id is not None else -1,
                int(f[1]) if f[1].lstrip("-").isdigit() else -1,
                symbol,
                f[16] if len(f) > 16 else "",
                f[17] if len(f) > 17 else "",
                f[18] if len(f) > 18 else "",
                f[19] if len(f) > 19 else "",
                result,
                f[26] if len(f) > 26 else "",
            )
        )

    def _reject(
        self, conn: _Conn, f: list[str], sym: str, order_id: int, code: int, text: str
    ) -> None:
        self._log_order(conn, f, sym, f"error {code}")
        self._error(conn, order_id, code, text)

    def _h_place_order(self, conn: _Conn, f: list[str]) -> None:
        assert conn.client_id is not None
        client_id = conn.client_id
        if len(f) < 35:
            log.warning("tws: short placeOrder (%d fields) ignored", len(f))
            return
        try:
            order_id = int(f[1])
        except ValueError:
            self._reject(
                conn, f, f[3], -1, 321, "Error validating request.-'bO' : cause - bad order id"
            )
            return
        inst, exchange = self._resolve(f, 2)
        sym = inst.symbol if inst is not None else f[3]
        key = (client_id, order_id)
        existing = self._orders.get(key)
        if existing is not None and existing.done:
            self._reject(conn, f, sym, order_id, 103, "Duplicate order id")
            return
        if existing is None and (
            order_id < conn.min_order_id or order_id <= self._max_order_id.get(client_id, 0)
        ):
            self._reject(conn, f, sym, order_id, 103, "Duplicate order id")
            return
        # from here on the id is used, even if the order is rejected below
        self._max_order_id[client_id] = max(self._max_order_id.get(client_id, 0), order_id)
        if inst is None:
            self._reject(conn, f, sym, order_id, 200, NO_SECDEF_TEXT)
            return
        action = f[16].upper()
        if action == "SSHORT":
            action = "SELL"
        if action not in ("BUY", "SELL"):
            self._reject(
                conn,
                f,
                sym,
                order_id,
                321,
                f"Error validating request.-'bO' : cause - Invalid action {f[16]!r}",
            )
            return
        qty = _to_decimal(f[17])
        if qty <= 0:
            self._reject(conn, f, sym, order_id, 434, "The order size cannot be zero")
            return
        order_type = f[18].upper()
        if order_type not in ("MKT", "LMT"):
            self._reject(
                conn,
                f,
                sym,
                order_id,
                387,
                f"Unsupported order type {f[18]!r} (the simulator serves MKT and LMT)",
            )
            return
        lmt: float | None = None
        if order_type == "LMT":
            try:
                lmt = float(f[19])
            except ValueError:
                lmt = None
            if lmt is None or not (lmt > 0 and math.isfinite(lmt)):
                self._reject(
                    conn,
                    f,
                    sym,
                    order_id,
                    321,
                    BAD_ORDER + "The limit price is missing or invalid",
                )
                return
        account = f[23] or self.account
        if account != self.account:
            self._reject(
                conn,
                f,
                sym,
                order_id,
                321,
                f"Error validating request.-'bO' : cause - The account code {account} is not known",
            )
            return
        if existing is not None:
            self._modify(conn, f, existing, qty, lmt)
            return
        if self._take_fault("reject") is not None:
            self._reject(
                conn,
                f,
                sym,
                order_id,
                201,
                "Order rejected - reason:Rejected by the simulator (fault injection)",
            )
            return
        q = self._quote(inst)
        px = q.ask if action == "BUY" else q.bid
        if lmt is not None and (action == "BUY" and lmt < px or action == "SELL" and lmt > px):
            px = lmt  # resting: reserve at the limit
        reason = self.acct.margin_shortfall(inst, action, qty, px)
        if reason:
            self._reject(conn, f, sym, order_id, 201, reason)
            return
        self._perm_id += 1
        tif = f[21].upper() or "DAY"
        o = SimOrder(
            client_id=client_id,
            order_id=order_id,
            perm_id=self._perm_id,
            inst=inst,
            action=action,
            qty=qty,
            order_type=order_type,
            lmt_price=lmt,
            tif=tif,
            account=account,
            order_ref=f[26],
            outside_rth=f[33] == "1",
            exchange=exchange,
        )
        self._orders[key] = o
        self._log_order(conn, f, sym, "accepted")
        o.status = "Submitted"
        conn.send(wire.open_order(conn.version, o))
        conn.send(wire.order_status(o))
        self._match(o)

    def _modify(
        self, conn: _Conn, f: list[str], o: SimOrder, qty: Decimal, lmt: float | None
    ) -> None:
        if qty < o.filled:
            self._reject(
                conn,
                f,
                o.symbol,
                o.order_id,
                321,
                BAD_ORDER + "The quantity is below the filled quantity",
            )
            return
        o.qty = qty
        if lmt is not None:
            o.lmt_price = lmt
        self._log_order(conn, f, o.symbol, "modified")
        if o.filled >= o.qty:  # cut down to what already filled: done
            self._unrest(o)
            o.slicing = False
            o.status = "Filled"
            o.completed_time = now_text()
            o.completed_status = "Filled Size: " + wire.fmt_qty(o.filled)
            conn.send(wire.open_order(conn.version, o))
            conn.send(wire.order_status(o))
            return
        conn.send(wire.open_order(conn.version, o))
        conn.send(wire.order_status(o))
        if not o.slicing:
            self._unrest(o)
            self._match(o)

    def _match(self, o: SimOrder) -> None:
        """Execute a marketable order now, or let it rest."""
        q = self._quote(o.inst)
        marketable = o.order_type == "MKT" or (
            o.lmt_price is not None
            and (
                o.action == "BUY"
                and q.ask <= o.lmt_price
                or o.action == "SELL"
                and q.bid >= o.lmt_price
            )
        )
        if marketable:
            self._execute(o, lambda: self._take_price(o), liquidity=2)
        else:
            self._resting.setdefault(o.symbol, []).append(o)

    def _take_price(self, o: SimOrder) -> float:
        q = self._quote(o.inst)
        px = q.ask if o.action == "BUY" else q.bid
        if o.lmt_price is not None:
            px = min(px, o.lmt_price) if o.action == "BUY" else max(px, o.lmt_price)
        return px

    def _check_resting(self, inst: Instrument) -> None:
        lst = self._resting.get(inst.symbol)
        if not lst:
            return
        q = self._quotes[inst.symbol]
        for o in list(lst):
            if o.done or o.slicing or o.lmt_price is None:
                continue
            if (
                o.action == "BUY"
                and q.ask <= o.lmt_price
                or o.action == "SELL"
                and q.bid >= o.lmt_price
            ):
                self._execute(o, lambda o=o: o.lmt_price or 0.0, liquidity=1)

    def _unrest(self, o: SimOrder) -> None:
        lst = self._resting.get(o.symbol)
        if lst and o in lst:
            lst.remove(o)
            if not lst:
                del self._resting[o.symbol]

    def _execute(self, o: SimOrder, price: Callable[[], float], liquidity: int) -> None:
        """Fill the rest of ``o``: one execution, or ``partial_slices`` spaced executions."""
        self._unrest(o)
        remaining = o.remaining
        if self.fill_mode != "partial" or remaining <= 1:
            self._fill(o, remaining, price(), liquidity)
            return
        k = self.partial_slices
        step = remaining / k
        if remaining == remaining.to_integral_value():
            step = (remaining / k).to_integral_value(rounding="ROUND_FLOOR") or Decimal(1)
        sizes = [step] * (k - 1)
        sizes = [s for s in sizes if s > 0]
        last = remaining - sum(sizes, ZERO)
        while last <= 0 and sizes:
            last += sizes.pop()
        sizes.append(last)
        o.slicing = True

        def run(i: int) -> None:
            if o.done:
                o.slicing = False
                return
            final = i == len(sizes) - 1
            size = o.remaining if final else min(sizes[i], o.remaining)  # modified meanwhile
            if final or size <= 0:
                o.slicing = False
            if size <= 0:
                return
            self._fill(o, size, price(), liquidity)
            if not final and not o.done:
                self._later(self.partial_delay, lambda: run(i + 1))

        run(0)

    def _fill(self, o: SimOrder, shares: Decimal, px: float, liquidity: int) -> None:
        """Book one execution and report it: execDetails, orderStatus, (openOrder), commission."""
        if shares <= 0:
            return
        e = self.acct.fill(o, shares, px, liquidity)
        conn = self._by_client.get(o.client_id)
        if conn is not None and not conn.closed:
            conn.send(wire.exec_details(conn.version, -1, e))
            conn.send(wire.order_status(o))
            if o.done:
                conn.send(wire.open_order(conn.version, o))
            conn.send(wire.commission_report(e))
        self._dirty.add(o.inst.symbol)
        self._schedule_push()

    def _cancel(self, o: SimOrder, conn: _Conn | None) -> None:
        self._unrest(o)
        o.slicing = False
        o.status = "Cancelled"
        o.completed_time = now_text()
        o.completed_status = "Cancelled by Trader"
        target = conn or self._by_client.get(o.client_id)
        if target is not None and not target.closed:
            target.send(wire.order_status(o))
            self._error(target, o.order_id, 202, "Order Canceled - reason:")

    def _h_cancel_order(self, conn: _Conn, f: list[str]) -> None:
        assert conn.client_id is not None
        order_id = int(f[2])
        o = self._orders.get((conn.client_id, order_id))
        if o is None:
            self._error(
                conn,
                order_id,
                10147,
                f"OrderId {order_id} that needs to be cancelled is not found.",
            )
        elif o.done:
            self._error(
                conn,
                order_id,
                161,
                "Cancel attempted when order is not in a cancellable state.  Order permId ="
                + str(o.perm_id),
            )
        else:
            self._cancel(o, conn)

    def _h_global_cancel(self, conn: _Conn, f: list[str]) -> None:
        for o in self.open_orders():
            self._cancel(o, None)

    def _h_req_open_orders(self, conn: _Conn, f: list[str]) -> None:
        for o in self._orders.values():
            if not o.done and (o.client_id == conn.client_id or conn.client_id == 0):
                conn.send(wire.open_order(conn.version, o))
                conn.send(wire.order_status(o))
        conn.send(wire.frame([53, 1]))

    def _h_req_all_open_orders(self, conn: _Conn, f: list[str]) -> None:
        for o in self._orders.values():
            if not o.done:
                conn.send(wire.open_order(conn.version, o))
                conn.send(wire.order_status(o))
        conn.send(wire.frame([53, 1]))

    def _h_req_completed_orders(self, conn: _Conn, f: list[str]) -> None:
        for o in self._orders.values():
            if o.done:
                conn.send(wire.completed_order(conn.version, o))
        conn.send(wire.frame([102]))

    def _h_req_executions(self, conn: _Conn, f: list[str]) -> None:
        req_id = int(f[2])
        f = f + [""] * (10 - len(f))
        client_id = int(f[3] or 0)
        acct, since, symbol, sec_type, exchange, side = f[4], f[5], f[6], f[7], f[8], f[9]
        since_epoch = 0.0
        if since.strip():
            with contextlib.suppress(ValueError):
                since_epoch = (
                    datetime.strptime(since.strip()[:17].replace("-", " "), "%Y%m%d %H:%M:%S")
                    .replace(tzinfo=UTC)
                    .timestamp()
                )
        for e in self.acct.executions:
            o = e.order
            if client_id and o.client_id != client_id:
                continue
            if acct and acct != o.account:
                continue
            if symbol and symbol.upper() != o.inst.ib_symbol:
                continue
            if sec_type and sec_type.upper() != o.inst.sec_type:
                continue
            if exchange and exchange.upper() != e.exchange:
                continue
            if side and (side.upper() in ("BUY", "BOT")) != (o.action == "BUY"):
                continue
            if e.epoch < since_epoch:
                continue
            conn.send(wire.exec_details(conn.version, req_id, e))
            conn.send(wire.commission_report(e))
        conn.send(wire.frame([55, 1, req_id]))


def _safe_date(year: int, month: int, day: int) -> date:
    """date(year, month, day), clamping the day to the month's length."""
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


async def start_tws(**kwargs: Any) -> TwsSim:
    """Create and start a ``TwsSim`` (keyword arguments as ``TwsSim``)."""
    return await TwsSim(**kwargs).start()


# ---- CLI -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m openclaw.sim.tws`` (and ``openclaw-trading sim tws``)."""
    p = argparse.ArgumentParser(
        prog="python -m openclaw.sim.tws", description="TWS gateway simulator"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = ephemeral (printed)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--universe", type=int, default=500, help="number of synthetic stocks")
    p.add_argument("--account", default="DU1234567")
    p.add_argument("--cash", type=float, default=1_000_000.0)
    p.add_argument("--fx-rate", type=float, default=20.0, help="FX quotes per second per pair")
    p.add_argument("--stock-rate", type=float, default=2.0, help="stock quote updates per second")
    p.add_argument("--fill-mode", choices=("full", "partial"), default="full")
    p.add_argument("--hist-limit", type=int, default=60,
                   help="historical pacing: requests per 10 minutes (IB: 60)")
    p.add_argument("--msg-rate-limit", type=int, default=0,
                   help="client messages per second before error 100 (IB: ~50; 0 = off)")
    return p


async def _serve(args: argparse.Namespace) -> None:
    sim = await start_tws(
        seed=args.seed,
        host=args.host,
        port=args.port,
        account=args.account,
        cash=args.cash,
        universe_size=args.universe,
        fx_rate=args.fx_rate,
        stock_rate=args.stock_rate,
        fill_mode=args.fill_mode,
        hist_pacing_limit=args.hist_limit,
        msg_rate_limit=args.msg_rate_limit,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"urls": {"tws": {"host": sim.host, "port": sim.port}}}), flush=True)
    try:
        await stop.wait()
    finally:
        await sim.aclose()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator in the foreground until SIGINT/SIGTERM; print the URL as JSON."""
    args = build_parser().parse_args(argv)
    if args.universe < 1 or args.hist_limit < 1 or args.msg_rate_limit < 0:
        print("--universe and --hist-limit must be >= 1, --msg-rate-limit >= 0",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
