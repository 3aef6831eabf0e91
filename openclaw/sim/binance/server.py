"""Binance spot market-data simulator: diff depth WebSocket streams and the REST depth snapshot.

Serves, on one port (docs/venues/binance.md §1):

* ``/ws/<stream>[/<stream>...]`` raw streams (bare payloads) and ``/ws`` for live subscription;
* ``/stream?streams=<s1>/<s2>`` combined streams, wrapped ``{"stream":..,"data":..}``;
  ``timeUnit=MICROSECOND`` switches ``E`` to microseconds;
* streams ``<sym>@depth@100ms`` (one event per market step), ``<sym>@depth`` (1000 ms: ten steps
  merged), ``<sym>@depth5|10|20[@100ms]`` (partial book) and ``<sym>@bookTicker``;
* JSON ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` / ``SET_PROPERTY`` /
  ``GET_PROPERTY``; server ping frames every 20 s and a close after 60 s without a matching pong;
  at most 5 incoming frames per second per connection;
* ``GET /api/v3/depth?symbol=BTCUSDT&limit=N`` with ``lastUpdateId`` on the same id sequence as
  the stream (``U`` = previous ``u`` + 1, several engine updates merged per event).

Extra fault kinds: ``stale_snapshot`` (the next REST snapshot is older than the stream) and
``server_shutdown`` (a ``serverShutdown`` event, then the close).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from openclaw.sim.binance.rest import BinanceTrading
from openclaw.sim.binance.wsapi import BinanceWsApi
from openclaw.sim.engine.base import Conn, Fault, VenueSim, dumps
from openclaw.sim.engine.clock import MarketClock
from openclaw.sim.engine.market import (
    ASK,
    BID,
    BookDiff,
    Formatter,
    InstrumentSpec,
    MarketStep,
    SimBook,
    SyntheticMarket,
)

__all__ = ["BinanceSim"]

_STREAM_RE = re.compile(r"^([a-z0-9]+)@(depth|depth5|depth10|depth20|bookTicker)(@100ms)?$")
_SYMBOL_RE = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
_ID_STR_RE = re.compile(r"^[A-Za-z0-9]{1,36}$")
_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_PARTIALS = tuple(f"depth{n}{sfx}" for n in (5, 10, 20) for sfx in ("", "@100ms"))


@dataclass
class _Frame:
    """An outbound payload plus its event time in microseconds (for ``timeUnit``)."""

    data: dict[str, Any]
    e_us: int | None = None


@dataclass
class _Sym:
    spec: InstrumentSpec
    fmt: Formatter
    name: str  # lowercase stream prefix
    u: int  # last update id
    acc_bids: dict[int, int] = field(default_factory=dict)
    acc_asks: dict[int, int] = field(default_factory=dict)
    acc_first: int | None = None  # U of the pending 1000 ms event
    bbo: tuple[int, int, int, int] | None = None
    stale: list[tuple[int, SimBook]] = field(default_factory=list)


class BinanceSim(VenueSim):
    """Binance spot depth simulator (see module docstring)."""

    venue = "binance"
    venue_faults = ("stale_snapshot", "server_shutdown")

    def __init__(
        self,
        market: SyntheticMarket | None = None,
        clock: MarketClock | None = None,
        *,
        ping_interval: float = 20.0,
        pong_timeout: float = 60.0,
        max_incoming_per_s: int | None = 5,
        max_streams: int = 1024,
        max_connection_age: float = 24 * 3600.0,
        slow_steps: int = 10,
        trading: dict[str, Any] | bool | None = None,
        wsapi: dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(market, clock, **kwargs)
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.max_incoming_per_s = max_incoming_per_s
        self.max_streams = max_streams
        self.max_connection_age = max_connection_age
        self.slow_steps = max(1, slow_steps)
        rng = random.Random(self.market.seed * 7919 + 1)
        self._syms: dict[str, _Sym] = {}
        for spec in self.market.instruments(self.venue):
            self._syms[spec.venue_symbol] = _Sym(
                spec,
                self.market.formatter(spec.key),
                spec.venue_symbol.lower(),
                rng.randrange(100_000_000, 9_000_000_000),
            )
        self._by_name = {s.name: s for s in self._syms.values()}
        if trading is not False:  # the spot trading REST API on the same port
            opts = trading if isinstance(trading, dict) else {}
            self._attach_trading(BinanceTrading(self, **opts))
            if wsapi is not False:  # the WebSocket API (/ws-api/v3) on the same state
                ws_opts = wsapi if isinstance(wsapi, dict) else {}
                self._attach_wsapi(BinanceWsApi(self, self.trading, **ws_opts))

    # ---- routes ------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws", self._h_ws_raw)
        app.router.add_get("/ws/{streams:.+}", self._h_ws_raw)
        app.router.add_get("/stream", self._h_ws_combined)
        app.router.add_get("/api/v3/depth", self._h_depth)

    @staticmethod
    def _micro(request: web.Request) -> bool:
        return request.query.get("timeUnit", "").upper() == "MICROSECOND"

    async def _h_ws_raw(self, request: web.Request) -> web.StreamResponse:
        streams = [s for s in request.match_info.get("streams", "").split("/") if s]
        return await self._serve_ws(
            request, variant=(False, self._micro(request)), autoping=False, initial=streams
        )

    async def _h_ws_combined(self, request: web.Request) -> web.StreamResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self._serve_ws(
            request, variant=(True, self._micro(request)), autoping=False, initial=streams
        )

    def ws_url(self, *streams: str, combined: bool = True) -> str:
        """URL of a raw (``/ws/a``) or combined (``/stream?streams=a/b``) connection."""
        if combined:
            return f"{self.ws_base}/stream?streams={'/'.join(streams)}"
        return f"{self.ws_base}/ws/{'/'.join(streams)}" if streams else f"{self.ws_base}/ws"

    # ---- connection --------------------------------------------------------------------

    def _on_open(self, conn: Conn, initial: Iterable[str]) -> None:
        loop = asyncio.get_running_loop()
        conn.meta["last_ping"] = loop.time()
        conn.meta["ping_payload"] = None
        conn.meta["incoming"] = deque()
        for stream in initial:
            # Streams named in the URL are taken as given; unknown ones simply stay silent.
            if len(conn.subs) < self.max_streams:
                self.subscribe(conn, stream)

    def _on_frame_in(self, conn: Conn) -> bool:
        limit = self.max_incoming_per_s
        if limit is None:
            return True
        now = asyncio.get_running_loop().time()
        times: deque[float] = conn.meta["incoming"]
        times.append(now)
        while times and now - times[0] > 1.0:
            times.popleft()
        if len(times) > limit:
            conn.close_soon(1008)
            return False
        return True

    def _on_pong(self, conn: Conn, payload: bytes) -> None:
        # Only a pong that echoes our ping keeps the connection alive (unsolicited ones do not).
        if conn.meta.get("ping_payload") is not None and payload == conn.meta["ping_payload"]:
            conn.last_pong = asyncio.get_running_loop().time()

    def _periodic(self, now: float) -> None:
        for conn in list(self.conns):
            if conn.closed:
                continue
            if now - conn.created > self.max_connection_age:
                conn.close_soon(1000)
                continue
            if now - conn.last_pong > self.pong_timeout:
                conn.close_soon(1008)
                continue
            if now - conn.meta["last_ping"] >= self.ping_interval and not conn.stalled:
                payload = str(time.time_ns() // 1_000_000).encode()
                conn.meta["last_ping"] = now
                conn.meta["ping_payload"] = payload
                asyncio.ensure_future(self._ping(conn, payload))

    @staticmethod
    async def _ping(conn: Conn, payload: bytes) -> None:
        with contextlib.suppress(Exception):
            await conn.ws.ping(payload)

    # ---- control messages --------------------------------------------------------------

    def _error(
        self, conn: Conn, code: int, msg: str, req_id: Any = None, has_id: bool = False
    ) -> None:
        # With a usable request id the error is wrapped and echoes it; otherwise it is bare
        # (both shapes are seen on the wire; see openclaw/sim/README.md).
        if has_id:
            self.send_json(conn, {"error": {"code": code, "msg": msg}, "id": req_id})
        else:
            self.send_json(conn, {"code": code, "msg": msg})

    def _on_text(self, conn: Conn, text: str) -> None:
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._error(conn, 3, "Invalid JSON: expected value at line 1 column 1")
            return
        if not isinstance(req, dict):
            self._error(conn, 3, "Invalid JSON: expected an object at line 1 column 1")
            return
        req_id = req.get("id")
        id_ok = (
            req_id is None
            or (
                isinstance(req_id, int)
                and not isinstance(req_id, bool)
                and -(2**63) <= req_id < 2**63
            )
            or (isinstance(req_id, str) and bool(_ID_STR_RE.match(req_id)))
        )
        if not id_ok:
            self._error(conn, 2, "Invalid request: request ID must be an unsigned integer")
            return
        method = req.get("method")
        if method is None:
            self._error(
                conn,
                2,
                f"Invalid request: missing field `method` at line 1 column {len(text)}",
                req_id,
                True,
            )
            return
        if method not in _METHODS:
            expected = ", ".join(f"`{m}`" for m in _METHODS)
            self._error(
                conn,
                2,
                f"Invalid request: unknown variant `{method}`, expected one "
                f"of {expected} at line 1 column 28",
                req_id,
                True,
            )
            return
        params = req.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                self._error(conn, 2, "Invalid request: invalid value for 'params'", req_id, True)
                return
            if any(not _STREAM_RE.match(p) for p in params):
                self._error(conn, 2, "Invalid request: invalid stream", req_id, True)
                return
            if method == "SUBSCRIBE":
                if len(conn.subs | set(params)) > self.max_streams:
                    self._error(conn, 2, "Invalid request: too many streams", req_id, True)
                    return
                for p in params:
                    self.subscribe(conn, p)
            else:
                for p in params:
                    self.unsubscribe(conn, p)
            self.send_json(conn, {"result": None, "id": req_id})
        elif method == "LIST_SUBSCRIPTIONS":
            self.send_json(conn, {"result": sorted(conn.subs), "id": req_id})
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            if not isinstance(params, list) or not params or not isinstance(params[0], str):
                self._error(
                    conn, 2, "Invalid request: property name must be a string", req_id, True
                )
                return
            if params[0] != "combined":
                self.send_json(conn, {"code": 0, "msg": "Unknown property", "id": req_id})
                return
            combined, micro = conn.variant
            if method == "GET_PROPERTY":
                self.send_json(conn, {"result": combined, "id": req_id})
                return
            if len(params) != 2 or not isinstance(params[1], bool):
                self._error(conn, 1, "Invalid value type: expected Boolean", req_id, True)
                return
            conn.variant = (params[1], micro)
            self.send_json(conn, {"result": None, "id": req_id})

    # ---- stream messages ---------------------------------------------------------------

    def _encode(self, stream: str, payload: Any, variant: Any) -> str:
        combined, micro = variant
        frame: _Frame = payload
        data = frame.data
        if micro and frame.e_us is not None:
            data = {**data, "E": frame.e_us}
        if combined:
            return dumps({"stream": stream, "data": data})
        return dumps(data)

    def streams_of(self, spec: InstrumentSpec) -> Collection[str]:
        name = spec.venue_symbol.lower()
        return [f"{name}@depth@100ms", f"{name}@depth", f"{name}@bookTicker"] + [
            f"{name}@{p}" for p in _PARTIALS
        ]

    def _on_step(self, step: MarketStep) -> None:
        us = time.time_ns() // 1000
        ms = us // 1000
        # A trade-driven change (between clock steps) only touches its own book and never
        # flushes the 1000 ms stream (that stays on the clock's cadence).
        flush = not step.trade and step.index % self.slow_steps == 0
        for st in self._syms.values():
            diff = step.diffs.get(st.spec.key)
            if step.trade and not diff:
                continue
            if diff:
                self._depth_event(st, diff, ms, us)
            if flush and st.acc_first is not None:
                self._flush_slow(st, ms, us)
            self._partials(st, flush)
            self._book_ticker(st)

    def _depth_event(self, st: _Sym, diff: BookDiff, ms: int, us: int) -> None:
        first = st.u + 1
        st.u += diff.updates
        if st.acc_first is None:
            st.acc_first = first
        st.acc_bids.update(diff.bids)
        st.acc_asks.update(diff.asks)
        stream = f"{st.name}@depth@100ms"
        if not self.has_subscribers(stream):
            return
        faults = self.take_faults(st.spec, (stream,))
        data = {
            "e": "depthUpdate",
            "E": ms,
            "s": st.spec.venue_symbol,
            "U": first,
            "u": st.u,
            "b": diff.bid_levels(),
            "a": diff.ask_levels(),
        }
        self.emit(stream, _Frame(data, us), faults)

    def _flush_slow(self, st: _Sym, ms: int, us: int) -> None:
        stream = f"{st.name}@depth"
        first, st.acc_first = st.acc_first, None
        bids, asks = st.acc_bids, st.acc_asks
        st.acc_bids, st.acc_asks = {}, {}
        if not self.has_subscribers(stream):
            return
        faults = self.take_faults(st.spec, (stream,))
        data = {
            "e": "depthUpdate",
            "E": ms,
            "s": st.spec.venue_symbol,
            "U": first,
            "u": st.u,
            "b": st.fmt.levels(sorted(bids.items(), reverse=True)),
            "a": st.fmt.levels(sorted(asks.items())),
        }
        self.emit(stream, _Frame(data, us), faults)

    def _partials(self, st: _Sym, flush: bool) -> None:
        book = None
        for p in _PARTIALS:
            stream = f"{st.name}@{p}"
            if not self.has_subscribers(stream) or (not p.endswith("100ms") and not flush):
                continue
            if book is None:
                book = self.market.book(st.spec.key)
            n = int(p[5:].split("@")[0])
            data = {
                "lastUpdateId": st.u,
                "bids": st.fmt.levels(book.top(BID, n)),
                "asks": st.fmt.levels(book.top(ASK, n)),
            }
            self.emit(stream, _Frame(data))

    def _book_ticker(self, st: _Sym) -> None:
        book = self.market.book(st.spec.key)
        b, a = book.best(BID), book.best(ASK)
        if b is None or a is None:
            return
        bbo = (b, book.sides[BID][b], a, book.sides[ASK][a])
        if bbo == st.bbo:
            return
        st.bbo = bbo
        stream = f"{st.name}@bookTicker"
        if not self.has_subscribers(stream):
            return
        f = st.fmt
        data = {
            "u": st.u,
            "s": st.spec.venue_symbol,
            "b": f.price(bbo[0]),
            "B": f.size(bbo[1]),
            "a": f.price(bbo[2]),
            "A": f.size(bbo[3]),
        }
        self.emit(stream, _Frame(data))

    # ---- REST --------------------------------------------------------------------------

    @staticmethod
    def _rest_error(code: int, msg: str, status: int = 400) -> web.Response:
        return web.Response(
            text=dumps({"code": code, "msg": msg}),
            status=status,
            content_type="application/json",
            charset="UTF-8",
        )

    async def _h_depth(self, request: web.Request) -> web.Response:
        q = request.query
        symbol = q.get("symbol", "")
        if not symbol:
            return self._rest_error(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        if not _SYMBOL_RE.match(symbol):
            return self._rest_error(
                -1100,
                "Illegal characters found in parameter 'symbol'; legal range is "
                "'^[A-Z0-9-_.]{1,20}$'.",
            )
        st = self._syms.get(symbol)
        if st is None:
            return self._rest_error(-1121, "Invalid symbol.")
        limit_text = q.get("limit", "100")
        if not limit_text.isdigit() or len(limit_text) > 20:
            return self._rest_error(
                -1100,
                "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
            )
        limit = min(max(int(limit_text), 1), 5000)
        if st.stale:
            last_id, book = st.stale.pop(0)
        else:
            last_id, book = st.u, self.market.book(st.spec.key)
        body = {
            "lastUpdateId": last_id,
            "bids": st.fmt.levels(book.top(BID, limit)),
            "asks": st.fmt.levels(book.top(ASK, limit)),
        }
        return web.Response(text=dumps(body), content_type="application/json", charset="UTF-8")

    def rest_depth_url(self, symbol: str, limit: int = 1000) -> str:
        """URL of the REST snapshot for a symbol."""
        return f"{self.url}/api/v3/depth?symbol={symbol}&limit={limit}"

    # ---- faults and ids ----------------------------------------------------------------

    def _apply_venue_fault(self, fault: Fault) -> bool:
        if fault.kind == "stale_snapshot":
            for st in self._syms.values():
                if fault.matches(st.spec):
                    for _ in range(fault.count):
                        st.stale.append((st.u, self.market.book(st.spec.key).copy()))
            return True
        if fault.kind == "server_shutdown":
            event = {"e": "serverShutdown", "E": time.time_ns() // 1_000_000}
            conns = list(self._matching_conns(fault))
            self.send_frames("!serverShutdown", conns, [_Frame(event)])
            for conn in conns:
                conn.close_soon(1001, delay=fault.seconds)
            return True
        return False

    def _book_ids(self, spec: InstrumentSpec) -> dict[str, Any]:
        return {"lastUpdateId": self._syms[spec.venue_symbol].u}

    def _config(self) -> dict[str, Any]:
        return {
            "ping_interval": self.ping_interval,
            "pong_timeout": self.pong_timeout,
            "max_incoming_per_s": self.max_incoming_per_s,
            "max_connection_age": self.max_connection_age,
            "slow_steps": self.slow_steps,
        }

    def _set_config(self, key: str, value: Any) -> None:
        if key in ("ping_interval", "pong_timeout", "max_connection_age"):
            setattr(self, key, float(value))
        elif key == "max_incoming_per_s":
            self.max_incoming_per_s = None if value is None else int(value)
        elif key == "slow_steps":
            self.slow_steps = max(1, int(value))
        else:
            super()._set_config(key, value)
