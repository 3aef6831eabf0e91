"""The venue-independent half of the simulated trading WebSocket APIs.

Binance's WebSocket API (``/ws-api/v3``), OKX's private WebSocket (``/ws/v5/private``) and
Bybit's trade WebSocket (``/v5/trade``) run on the venue server's own port next to its REST API
and call the **same** functions as the REST side (``rest_binance.py``, ``rest_okx.py``,
``rest_bybit.py``): signature checks, the matching engine, the account and the trading faults of
``trading.TradingApi`` (``order_reject``, ``order_timeout``, ``partial_fill``, ``server_error``,
``rate_limit``) — an order placed on one route is visible on the other.

This module holds the connection loop (one ``WsSession`` per socket, requests answered in
order, replies written straight to the socket), the session state, held replies
(``order_timeout``) and the WebSocket-only faults:

* ``drop_ws``: the next order placed over the WebSocket (of ``symbol``, if given) is accepted and
  executed, then every trading socket of the venue is cut (TCP abort, no reply): the client must
  find the order by its client id over REST;
* ``expire_session``: every logged-in session of the venue is logged out now (OKX/Bybit: the
  next private request gets the venue's "please log in" error; Binance: the ``session.logon``
  key is forgotten);
* ``drop_stream``: the next order (of ``symbol``, if given), placed on any route, is executed,
  then every socket subscribed to the venue's private order stream (Binance user data, OKX
  ``orders``, Bybit ``order``/``execution``) is cut before that order's pushes are written:
  the client learns the order's fate from its REST/WS answer or a query.

Venue modules subclass ``WsApi`` and implement ``handle`` (one text frame in, the reply bytes
out, or None).
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from aiohttp import WSMsgType, web

from openclaw.sim.engine.base import FaultError
from openclaw.sim.engine.market import normalize_symbol
from openclaw.sim.engine.trading import Call, RestFault

if TYPE_CHECKING:
    from openclaw.sim.engine.base import VenueSim
    from openclaw.sim.engine.market import InstrumentSpec
    from openclaw.sim.engine.trading import TradingApi

__all__ = ["WS_FAULTS", "WsApi", "WsFault", "WsSession"]

log = logging.getLogger("openclaw.sim")

#: Fault kinds that only the trading WebSocket APIs have.
WS_FAULTS: tuple[str, ...] = ("drop_ws", "expire_session", "drop_stream")

_TEXT = WSMsgType.TEXT


@dataclass
class WsFault:
    """An armed or applied WebSocket-only fault."""

    kind: str
    symbol: str | None = None  # normalized venue symbol (drop_ws only)
    count: int = 1


class WsSession:
    """One trading WebSocket connection and its login state."""

    __slots__ = (
        "api",
        "closed",
        "conn_id",
        "connected_at",
        "key",
        "authed_at",
        "meta",
        "request",
        "subs",
        "ws",
    )

    def __init__(self, api: WsApi, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.api = api
        self.ws = ws
        self.request = request
        self.conn_id = os.urandom(4).hex()
        self.connected_at = api.trading.now_ms()
        self.key: str | None = None  # API key of the logged-in session
        self.authed_at: int | None = None
        self.subs: list[dict[str, Any]] = []  # OKX private channel subscriptions
        self.meta: dict[str, Any] = {}
        self.closed = False

    @property
    def authed(self) -> bool:
        """True while a login / auth / session.logon is in force."""
        return self.key is not None

    def logout(self) -> None:
        """Forget the session's key (``session.logout``, ``expire_session``)."""
        self.key = None
        self.authed_at = None

    def push(self, data: bytes) -> None:
        """Queue one text frame from outside the request loop (pushes, held replies); frames
        are written in the order they were pushed."""
        if self.closed:
            return
        task = asyncio.ensure_future(self._send(data))
        tasks = self.api.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _send(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            await self.ws.send_frame(data, _TEXT)
        except (ConnectionError, RuntimeError):
            self.closed = True

    def abort(self) -> None:
        """Cut the TCP connection without a close frame."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()


def dumpb(obj: Any) -> bytes:
    """Compact JSON bytes (orjson)."""
    return orjson.dumps(obj)


class WsApi:
    """Base of a venue's trading WebSocket API (see module docstring)."""

    venue: ClassVar[str] = ""
    path: ClassVar[str] = ""
    fault_kinds: ClassVar[tuple[str, ...]] = WS_FAULTS

    def __init__(self, server: VenueSim, trading: TradingApi) -> None:
        self.server = server
        self.trading = trading
        self.engine = trading.engine
        self.market = server.market
        self.sessions: set[WsSession] = set()
        self.faults: list[WsFault] = []
        self.faults_applied: list[dict[str, Any]] = []
        self.requests = 0
        self.held: set[asyncio.TimerHandle] = set()
        self.tasks: set[asyncio.Future[None]] = set()  # pushes being written

    # ---- setup -------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Mount the WebSocket endpoint."""
        app.router.add_get(self.path, self._h_ws)

    async def close(self) -> None:
        """Drop held replies and close every trading socket."""
        for handle in list(self.held):
            handle.cancel()
        self.held.clear()
        sessions = list(self.sessions)
        for sess in sessions:
            sess.closed = True
        await asyncio.gather(
            *(asyncio.wait_for(s.ws.close(code=1001), 2.0) for s in sessions),
            return_exceptions=True,
        )

    # ---- connection loop ---------------------------------------------------------------

    async def _h_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        sess = WsSession(self, ws, request)
        self.sessions.add(sess)
        self.on_open(sess)
        handle = self.handle
        try:
            async for msg in ws:
                if msg.type is _TEXT:
                    self.requests += 1
                    try:
                        out = handle(sess, msg.data)
                    except Exception:
                        log.exception("%s trading WebSocket request failed", self.venue)
                        out = self.internal_error(sess, msg.data)
                    if out is not None and not sess.closed:
                        await ws.send_frame(out, _TEXT)
                elif msg.type is WSMsgType.ERROR:
                    break
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        finally:
            sess.closed = True
            self.sessions.discard(sess)
            self.on_close(sess)
        return ws

    def on_open(self, sess: WsSession) -> None:
        """A client connected."""

    def on_close(self, sess: WsSession) -> None:
        """A client is gone."""

    def handle(self, sess: WsSession, text: str) -> bytes | None:
        """Answer one text frame (None = no reply now)."""
        raise NotImplementedError

    def internal_error(self, sess: WsSession, text: str) -> bytes | None:
        """Reply for a bug in the simulator itself."""
        return None

    # ---- shared request machinery ------------------------------------------------------

    @staticmethod
    def call(private: bool, order: bool, params: dict[str, Any] | None = None) -> Call:
        """A ``trading.Call`` for one WebSocket request (scopes the trading faults; orders
        placed through it are recorded ``via="ws"``)."""
        return Call(private, order, params or {}, "", via="ws")

    def request_fault(self, call: Call) -> RestFault | None:
        """Consume an armed ``server_error`` / ``rate_limit`` fault that hits this request."""
        if not self.trading.faults:
            return None
        for kind in ("server_error", "rate_limit"):
            fault = self.trading._take(kind, None, call)
            if fault is not None:
                return fault
        return None

    def take_drop(self, spec: InstrumentSpec | None) -> bool:
        """Consume an armed ``drop_ws`` fault for an order of ``spec``."""
        for fault in self.faults:
            if fault.kind != "drop_ws":
                continue
            if fault.symbol is not None and (
                spec is None or normalize_symbol(spec.venue_symbol) != fault.symbol
            ):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            self.faults_applied.append(
                {"kind": "drop_ws", "symbol": None if spec is None else spec.venue_symbol}
            )
            return True
        return False

    def take_stream_drop(self, spec: InstrumentSpec | None) -> bool:
        """Consume an armed ``drop_stream`` fault for an order of ``spec``; if one was armed,
        cut every socket with a private-stream subscription (True: push nothing)."""
        for fault in self.faults:
            if fault.kind != "drop_stream":
                continue
            if fault.symbol is not None and (
                spec is None or normalize_symbol(spec.venue_symbol) != fault.symbol
            ):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            self.faults_applied.append(
                {"kind": "drop_stream", "symbol": None if spec is None else spec.venue_symbol}
            )
            for sess in list(self.sessions):
                if sess.subs:
                    sess.abort()
            return True
        return False

    def drop_all(self) -> None:
        """Cut every trading socket of this venue (the ``drop_ws`` fault)."""
        for sess in list(self.sessions):
            sess.abort()

    def hold(self, sess: WsSession, data: bytes, seconds: float) -> None:
        """Send ``data`` only after ``seconds`` (``order_timeout``: the order exists already);
        dropped if the socket closes first or the server stops."""
        loop = asyncio.get_running_loop()

        def release() -> None:
            self.held.discard(handle)
            sess.push(data)

        handle = loop.call_later(seconds, release)
        self.held.add(handle)

    # ---- faults ------------------------------------------------------------------------

    def inject_fault(
        self,
        kind: str,
        symbol: str | None = None,
        *,
        category: str | None = None,
        count: int = 1,
        **params: Any,
    ) -> WsFault:
        """``drop_ws`` (armed for the next WebSocket order), ``drop_stream`` (the next order's
        pushes) or ``expire_session`` (now)."""
        if kind not in self.fault_kinds:
            raise FaultError(f"unknown WebSocket API fault {kind!r}")
        params = {k: v for k, v in params.items() if v is not None}
        if params:
            raise FaultError(f"unknown fault parameters {sorted(params)}")
        if kind == "expire_session":
            if symbol:
                raise FaultError("expire_session applies to sessions, not symbols")
            n = self.expire_sessions()
            self.faults_applied.append({"kind": kind, "sessions": n})
            return WsFault(kind, None, n)
        norm = None
        if symbol:
            norm = normalize_symbol(self.server.resolve(symbol, category or "spot").venue_symbol)
        fault = WsFault(kind, norm, max(1, int(count)))
        self.faults.append(fault)
        return fault

    def expire_sessions(self) -> int:
        """Log out every logged-in session; how many there were."""
        n = 0
        for sess in self.sessions:
            if sess.authed:
                sess.logout()
                sess.meta["expired"] = True
                n += 1
        return n

    def status(self) -> dict[str, Any]:
        """For ``GET /_sim/status``."""
        return {
            "path": self.path,
            "connections": len(self.sessions),
            "logged_in": sum(1 for s in self.sessions if s.authed),
            "requests": self.requests,
            "armed_faults": [asdict(f) for f in self.faults],
            "faults_applied": len(self.faults_applied),
            "held_replies": len(self.held),
        }
