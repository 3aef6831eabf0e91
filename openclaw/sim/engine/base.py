"""Shared machinery of the venue simulators: aiohttp server, connections, faults, control API.

Each venue server (``binance.py``, ``okx.py``, ``bybit.py``) subclasses ``VenueSim`` and adds its
WebSocket protocol and REST snapshot.  The base provides:

* one aiohttp application on 127.0.0.1 (port 0 = ephemeral) with a writer task and an outbound
  queue per WebSocket connection, so a slow client never blocks the market clock;
* fault injection (``inject_fault`` / ``POST /_sim/fault``): message faults (gap, duplicate,
  reorder, malformed) armed for the next depth message of a symbol, connection faults (drop,
  close, stall) applied at once, plus venue-specific kinds;
* the control API: ``GET /_sim/book`` (the true current book), ``GET /_sim/status``,
  ``POST /_sim/pause|resume|step|rate|dislocate|config``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import orjson
from aiohttp import WSMsgType, web

from openclaw.sim.engine.clock import MarketClock
from openclaw.sim.engine.market import (
    ASK,
    BID,
    BookDiff,
    InstrumentSpec,
    MarketStep,
    SyntheticMarket,
    normalize_symbol,
)

__all__ = ["COMMON_FAULTS", "Conn", "Fault", "FaultError", "VenueSim", "dumps", "now_ms"]

log = logging.getLogger("openclaw.sim")

#: Fault kinds every venue supports.
COMMON_FAULTS: tuple[str, ...] = (
    "drop",  # abort every (matching) client TCP connection, no close frame
    "close",  # close every (matching) client connection with a close frame (1001)
    "stall",  # stop writing to (matching) clients for `seconds`, then flush what queued up
    "gap",  # withhold the next depth message of the symbol (a sequence gap)
    "duplicate",  # send the next depth message twice
    "reorder",  # swap the next two depth messages of the symbol
    "malformed",  # send a truncated (invalid JSON) frame before the next depth message
)
MESSAGE_FAULTS = frozenset({"gap", "duplicate", "reorder", "malformed"})


class FaultError(ValueError):
    """A fault request that cannot be applied (unknown kind or symbol)."""


def dumps(obj: Any) -> str:
    """Compact JSON text, keys in insertion order (as the venues send them)."""
    return orjson.dumps(obj).decode()


def now_ms() -> int:
    """Wall-clock milliseconds (venue timestamps)."""
    return time.time_ns() // 1_000_000


@dataclass
class Fault:
    """One armed fault: applies to the next ``count`` depth messages of the matching symbol."""

    kind: str
    symbol: str | None = None  # normalized ("BTCUSDT"), None = any
    category: str | None = None
    seconds: float = 1.0
    count: int = 1

    def matches(self, spec: InstrumentSpec) -> bool:
        """True if this fault targets the instrument."""
        if self.category is not None and self.category != spec.category:
            return False
        if self.symbol is None:
            return True
        return self.symbol in (normalize_symbol(spec.venue_symbol), normalize_symbol(spec.symbol))


@dataclass(frozen=True)
class _CloseCmd:
    """Queue marker: close the socket once everything before it has been written."""

    code: int
    delay: float


class Conn:
    """One client WebSocket: an outbound queue drained by its own writer task."""

    def __init__(
        self,
        server: VenueSim,
        ws: web.WebSocketResponse,
        request: web.Request,
        variant: Any = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.server = server
        self.ws = ws
        self.request = request
        self.variant = variant  # encoding variant (Binance: combined / time unit)
        self.id = os.urandom(4).hex()
        self.subs: set[str] = set()
        self.meta: dict[str, Any] = {}
        self.created = loop.time()
        self.last_in = self.created
        self.last_out = self.created
        self.last_pong = self.created
        self.stalled_until = 0.0
        self.closed = False
        self._closing = False
        self.sent = 0
        self._queue: asyncio.Queue[str | _CloseCmd | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name=f"sim-writer-{self.id}")

    @property
    def queued(self) -> int:
        """Frames waiting to be written."""
        return self._queue.qsize()

    def send(self, text: str) -> None:
        """Queue one text frame (never blocks)."""
        if self.closed:
            return
        self._queue.put_nowait(text)
        if self._queue.qsize() > self.server.max_queue:
            log.warning(
                "%s: client %s too slow (%d queued), dropping",
                self.server.venue,
                self.id,
                self._queue.qsize(),
            )
            self.abort()

    def stall(self, seconds: float) -> None:
        """Write nothing for ``seconds`` (frames keep queueing and are flushed afterwards)."""
        loop = asyncio.get_running_loop()
        self.stalled_until = max(self.stalled_until, loop.time() + seconds)

    @property
    def stalled(self) -> bool:
        """True while a stall is in effect."""
        return asyncio.get_running_loop().time() < self.stalled_until

    def abort(self) -> None:
        """Cut the TCP connection without a close frame (what a network drop looks like)."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        self._queue.put_nowait(None)

    async def close(self, code: int = 1001, message: bytes = b"") -> None:
        """Flush nothing more and close with a close frame."""
        self.closed = True
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code, message=message), 2.0)

    def close_soon(self, code: int = 1001, delay: float = 0.0) -> None:
        """Close after the frames already queued have been written (and ``delay``); once."""
        if not self._closing and not self.closed:
            self._closing = True
            self._queue.put_nowait(_CloseCmd(code, delay))

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        ws = self.ws
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    break
                while (wait := self.stalled_until - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if isinstance(item, _CloseCmd):
                    if item.delay > 0:
                        await asyncio.sleep(item.delay)
                    self.closed = True
                    await asyncio.wait_for(ws.close(code=item.code), 2.0)
                    break
                await ws.send_str(item)
                self.sent += 1
                self.last_out = loop.time()
        except (ConnectionError, RuntimeError, TimeoutError):
            self.closed = True
        except asyncio.CancelledError:
            self.closed = True
            raise

    async def finish(self) -> None:
        """Stop the writer task."""
        self.closed = True
        if not self._writer.done():
            self._queue.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), 1.0)
            except (TimeoutError, asyncio.CancelledError, Exception):
                self._writer.cancel()


class VenueSim:
    """Base class of a venue simulator server (see module docstring)."""

    venue: ClassVar[str] = ""
    venue_faults: ClassVar[tuple[str, ...]] = ()
    housekeeping_interval: ClassVar[float] = 0.1

    def __init__(
        self,
        market: SyntheticMarket | None = None,
        clock: MarketClock | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        rate: float = 10.0,
        max_queue: int = 200_000,
    ) -> None:
        if clock is None:
            clock = MarketClock(market or SyntheticMarket(seed), rate)
            self._own_clock = True
        else:
            if market is not None and market is not clock.market:
                raise ValueError("market and clock.market differ")
            self._own_clock = False
        self.clock = clock
        self.market = clock.market
        self.host = host
        self.port = port
        self.max_queue = max_queue
        self.conns: set[Conn] = set()
        self._subs: dict[str, set[Conn]] = {}
        self._held: dict[str, Any] = {}
        self._armed: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._housekeeper: asyncio.Task[None] | None = None
        self.faults_applied: list[dict[str, Any]] = []
        self.trading: Any = None  # the venue's trading REST API (openclaw.sim.engine.trading)
        self.wsapi: Any = None  # the venue's trading WebSocket API (openclaw.sim.engine.wsapi)
        self.private_ws: Any = None  # a private stream on its own path (Bybit /v5/private)
        self.app = web.Application()
        self.app.router.add_post("/_sim/fault", self._h_fault)
        self.app.router.add_get("/_sim/book", self._h_book)
        self.app.router.add_get("/_sim/status", self._h_status)
        self.app.router.add_post("/_sim/pause", self._h_pause)
        self.app.router.add_post("/_sim/resume", self._h_resume)
        self.app.router.add_post("/_sim/step", self._h_step)
        self.app.router.add_post("/_sim/rate", self._h_rate)
        self.app.router.add_post("/_sim/dislocate", self._h_dislocate)
        self.app.router.add_post("/_sim/config", self._h_config)
        self._add_routes(self.app)

    # ---- subclass hooks ----------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        """Register the venue's WebSocket and REST routes."""
        raise NotImplementedError

    def _on_step(self, step: MarketStep) -> None:
        """Turn one market step into venue messages."""
        raise NotImplementedError

    def _on_text(self, conn: Conn, text: str) -> None:
        """Handle one text frame from a client."""
        raise NotImplementedError

    def _book_ids(self, spec: InstrumentSpec) -> dict[str, Any]:
        """Venue sequence ids describing the current true book (for ``/_sim/book``)."""
        return {}

    def _apply_venue_fault(self, fault: Fault) -> bool:
        """Apply a venue-specific fault now; return False to arm it as a message fault."""
        return False

    def _periodic(self, now: float) -> None:
        """Keepalive and timers, called every ``housekeeping_interval`` seconds."""

    def _set_config(self, key: str, value: Any) -> None:
        """Change one venue setting at run time (``POST /_sim/config``)."""
        if self.trading is not None and key in self.trading.config_keys:
            self.trading.set_config(key, value)
            return
        raise FaultError(f"unknown config key {key!r}")

    def _config(self) -> dict[str, Any]:
        """Current venue settings (shown by ``/_sim/status``)."""
        return {}

    def _encode(self, stream: str, payload: Any, variant: Any) -> str:
        """Encode one outbound payload for a connection variant."""
        return dumps(payload)

    def _attach_trading(self, api: Any) -> None:
        """Mount a trading REST API (``openclaw.sim.engine.trading.TradingApi``) on this server."""
        self.trading = api
        api.add_routes(self.app)

    def _attach_wsapi(self, api: Any) -> None:
        """Mount a trading WebSocket API (``openclaw.sim.engine.wsapi.WsApi``)."""
        self.wsapi = api
        api.add_routes(self.app)

    def publish_book_change(self, diff: BookDiff) -> None:
        """Publish a change the trading API made to this venue's book (liquidity an order
        took) as a depth update now, between clock steps (``MarketStep.trade``)."""
        self._on_step(MarketStep(self.market.step_index, {diff.key: diff}, trade=True))

    # ---- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` (REST and control)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_base(self) -> str:
        """``ws://host:port``."""
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> VenueSim:
        """Bind, serve, and start listening to the market clock."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.clock.add_listener(self._on_step)
        if self.trading is not None:
            self.trading.attach()
        self._housekeeper = asyncio.create_task(self._housekeeping(), name=f"sim-{self.venue}")
        if self._own_clock:
            await self.clock.start()
        log.info("%s simulator on %s", self.venue, self.url)
        return self

    async def stop(self) -> None:
        """Close every client, stop serving (and the clock if this server owns it)."""
        self.clock.remove_listener(self._on_step)
        if self.wsapi is not None:
            await self.wsapi.close()
        if self.private_ws is not None:
            await self.private_ws.close()
        if self.trading is not None:
            await self.trading.close()
        if self._own_clock:
            await self.clock.stop()
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeper
            self._housekeeper = None
        conns = list(self.conns)
        await asyncio.gather(*(c.close(1001) for c in conns), return_exceptions=True)
        await asyncio.gather(*(c.finish() for c in conns), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> VenueSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.housekeeping_interval)
            try:
                self._periodic(loop.time())
            except Exception:
                log.exception("%s housekeeping failed", self.venue)

    # ---- connections and subscriptions -------------------------------------------------

    async def _serve_ws(
        self,
        request: web.Request,
        *,
        variant: Any = None,
        autoping: bool = True,
        initial: Iterable[str] = (),
    ) -> web.WebSocketResponse:
        """Run one client WebSocket until it closes."""
        ws = web.WebSocketResponse(autoping=autoping, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(self, ws, request, variant)
        self.conns.add(conn)
        loop = asyncio.get_running_loop()
        try:
            self._on_open(conn, initial)
            async for msg in ws:
                conn.last_in = loop.time()
                if not self._on_frame_in(conn):
                    continue
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._on_binary(conn, msg.data)
                elif msg.type == WSMsgType.PING:
                    self._on_ping(conn, msg.data)
                elif msg.type == WSMsgType.PONG:
                    self._on_pong(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._forget(conn)
            await conn.finish()
        return ws

    def _on_open(self, conn: Conn, initial: Iterable[str]) -> None:
        """A client connected (subclasses subscribe URL streams here)."""

    def _on_binary(self, conn: Conn, data: bytes) -> None:
        """Binary frames are not part of these protocols: ignored."""

    def _on_ping(self, conn: Conn, payload: bytes) -> None:
        """Only called with autoping off: answer like any server does."""
        if not conn.closed and not conn.stalled:
            asyncio.ensure_future(self._safe_pong(conn, payload))

    def _on_pong(self, conn: Conn, payload: bytes) -> None:
        """A pong frame arrived (only seen with autoping off)."""
        conn.last_pong = asyncio.get_running_loop().time()

    def _on_frame_in(self, conn: Conn) -> bool:
        """Every incoming frame passes here first; False drops it (rate limits)."""
        return True

    @staticmethod
    async def _safe_pong(conn: Conn, payload: bytes) -> None:
        with contextlib.suppress(Exception):
            await conn.ws.pong(payload)

    def _forget(self, conn: Conn) -> None:
        self.conns.discard(conn)
        for stream in conn.subs:
            subs = self._subs.get(stream)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self._subs[stream]
        conn.subs.clear()

    def subscribe(self, conn: Conn, stream: str) -> bool:
        """Add a stream to a connection; False if it was already there."""
        if stream in conn.subs:
            return False
        conn.subs.add(stream)
        self._subs.setdefault(stream, set()).add(conn)
        return True

    def unsubscribe(self, conn: Conn, stream: str) -> bool:
        """Remove a stream from a connection; False if it was not there."""
        if stream not in conn.subs:
            return False
        conn.subs.discard(stream)
        subs = self._subs.get(stream)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self._subs[stream]
        return True

    def has_subscribers(self, stream: str) -> bool:
        """True if any connection listens to the stream."""
        return bool(self._subs.get(stream))

    # ---- sending with faults -----------------------------------------------------------

    def take_faults(self, spec: InstrumentSpec, streams: Iterable[str]) -> frozenset[str]:
        """Consume the message faults armed for this instrument, if anyone will see them."""
        if not self._armed or not any(self._subs.get(s) for s in streams):
            return frozenset()
        kinds: set[str] = set()
        for fault in list(self._armed):
            if fault.kind not in kinds and fault.matches(spec):
                kinds.add(fault.kind)
                fault.count -= 1
                if fault.count <= 0:
                    self._armed.remove(fault)
                self.faults_applied.append(
                    {
                        "kind": fault.kind,
                        "symbol": spec.venue_symbol,
                        "category": spec.category,
                        "step": self.market.step_index,
                    }
                )
        return frozenset(kinds)

    def emit(self, stream: str, payload: Any, faults: Collection[str] = ()) -> None:
        """Send one payload to every subscriber of a stream, applying message faults."""
        conns = self._subs.get(stream)
        if not conns:
            return
        if "gap" in faults:
            return
        held = self._held.pop(stream, None)
        if "reorder" in faults and held is None:
            self._held[stream] = payload
            return
        frames = [payload]
        if "duplicate" in faults:
            frames.append(payload)
        if held is not None:
            frames.append(held)
        self.send_frames(stream, conns, frames, malformed="malformed" in faults)

    def send_frames(
        self, stream: str, conns: Iterable[Conn], frames: list[Any], malformed: bool = False
    ) -> None:
        """Encode frames once per connection variant and queue them."""
        cache: dict[Any, list[str]] = {}
        for conn in conns:
            texts = cache.get(conn.variant)
            if texts is None:
                texts = [self._encode(stream, f, conn.variant) for f in frames]
                if malformed:
                    texts.insert(0, texts[0][: max(1, len(texts[0]) // 2)])
                cache[conn.variant] = texts
            for t in texts:
                conn.send(t)

    def send_json(self, conn: Conn, obj: Any) -> None:
        """Queue one JSON reply on a single connection."""
        conn.send(dumps(obj))

    # ---- faults ------------------------------------------------------------------------

    @property
    def fault_kinds(self) -> tuple[str, ...]:
        """Every fault kind this venue accepts (trading REST faults included)."""
        trading = self.trading.fault_kinds if self.trading is not None else ()
        wsapi = self.wsapi.fault_kinds if self.wsapi is not None else ()
        return COMMON_FAULTS + self.venue_faults + tuple(trading) + tuple(wsapi)

    def resolve(self, symbol: str, category: str | None = None) -> InstrumentSpec:
        """Find one of this venue's instruments by any spelling; raise FaultError if unknown."""
        spec = self.market.find(self.venue, symbol, category)
        if spec is None:
            raise FaultError(f"unknown {self.venue} symbol {symbol!r} (category {category})")
        return spec

    def inject_fault(
        self,
        kind: str,
        symbol: str | None = None,
        *,
        category: str | None = None,
        seconds: float | None = None,
        count: int = 1,
        **params: Any,
    ) -> Any:
        """Inject a fault (see ``fault_kinds``); connection faults act now, others are armed.

        Trading faults (``openclaw.sim.engine.trading.REST_FAULTS``) go to the trading API and take
        extra ``params`` (``status``, ``scope``, ``ratio``, ``code``, ``msg``).
        """
        if self.wsapi is not None and kind in self.wsapi.fault_kinds:
            return self.wsapi.inject_fault(kind, symbol, category=category, count=count, **params)
        if self.trading is not None and kind in self.trading.fault_kinds:
            return self.trading.inject_fault(
                kind, symbol, category=category, seconds=seconds, count=count, **params
            )
        if params:
            raise FaultError(f"unknown fault parameters {sorted(params)}")
        seconds = 1.0 if seconds is None else seconds
        if kind not in self.fault_kinds:
            raise FaultError(f"unknown fault kind {kind!r}; expected one of {self.fault_kinds}")
        norm = None
        if symbol:
            norm = normalize_symbol(self.resolve(symbol, category).venue_symbol)
        fault = Fault(kind, norm, category, float(seconds), max(1, int(count)))
        if kind in ("drop", "close", "stall"):
            for conn in list(self._matching_conns(fault)):
                if kind == "drop":
                    conn.abort()
                elif kind == "close":
                    conn.close_soon(1001)
                else:
                    conn.stall(fault.seconds)
            self.faults_applied.append({**asdict(fault), "step": self.market.step_index})
            return fault
        if self._apply_venue_fault(fault):
            self.faults_applied.append({**asdict(fault), "step": self.market.step_index})
            return fault
        self._armed.append(fault)
        return fault

    def _matching_conns(self, fault: Fault) -> Iterable[Conn]:
        if fault.symbol is None and fault.category is None:
            return list(self.conns)
        wanted = {
            s
            for spec in self.market.instruments(self.venue)
            if fault.matches(spec)
            for s in self.streams_of(spec)
        }
        return [c for c in self.conns if c.subs & wanted]

    def streams_of(self, spec: InstrumentSpec) -> Collection[str]:
        """Every stream name of an instrument that a client may hold (for targeting faults)."""
        return ()

    @property
    def armed_faults(self) -> list[Fault]:
        """Faults waiting for their message."""
        return list(self._armed)

    # ---- true book ---------------------------------------------------------------------

    def true_book(
        self, symbol: str, category: str | None = None, depth: int | None = None
    ) -> dict[str, Any]:
        """The simulator's true current book, all levels (or ``depth``), as venue strings."""
        spec = self.resolve(symbol, category)
        book = self.market.book(spec.key)
        fmt = self.market.formatter(spec.key)
        return {
            "venue": self.venue,
            "category": spec.category,
            "symbol": spec.venue_symbol,
            "step": self.market.step_index,
            "paused": self.clock.paused,
            **self._book_ids(spec),
            "bids": fmt.levels(book.top(BID, depth)),
            "asks": fmt.levels(book.top(ASK, depth)),
        }

    def status(self) -> dict[str, Any]:
        """Server state for ``GET /_sim/status``."""
        return {
            "venue": self.venue,
            "url": self.url,
            "step": self.market.step_index,
            "paused": self.clock.paused,
            "rate": self.clock.rate,
            "connections": len(self.conns),
            "queued": sum(c.queued for c in self.conns),
            "streams": sorted(self._subs),
            "armed_faults": [asdict(f) for f in self._armed],
            "faults_applied": len(self.faults_applied),
            "fault_kinds": list(self.fault_kinds),
            "config": self._config(),
            **({"trading": self.trading.status()} if self.trading is not None else {}),
            **({"wsapi": self.wsapi.status()} if self.wsapi is not None else {}),
        }

    # ---- control HTTP ------------------------------------------------------------------

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json(loads=orjson.loads)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=dumps({"error": f"bad JSON: {exc}"})) from exc
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text=dumps({"error": "expected a JSON object"}))
        return data

    @staticmethod
    def _json(obj: Any, status: int = 200) -> web.Response:
        return web.Response(text=dumps(obj), status=status, content_type="application/json")

    async def _h_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            extra = {
                k: v
                for k, v in body.items()
                if k not in ("kind", "symbol", "category", "seconds", "count")
            }
            fault = self.inject_fault(
                str(body.get("kind", "")),
                body.get("symbol"),
                category=body.get("category"),
                seconds=float(body["seconds"]) if "seconds" in body else None,
                count=int(body.get("count", 1)),
                **extra,
            )
        except (FaultError, TypeError, ValueError) as exc:
            return self._json({"ok": False, "error": str(exc)}, 400)
        return self._json({"ok": True, "fault": asdict(fault)})

    async def _h_book(self, request: web.Request) -> web.Response:
        q = request.query
        symbol = q.get("symbol") or q.get("instId")
        if not symbol:
            return self._json({"error": "symbol is required"}, 400)
        try:
            depth = int(q["depth"]) if "depth" in q else None
            return self._json(self.true_book(symbol, q.get("category"), depth))
        except FaultError as exc:
            return self._json({"error": str(exc)}, 404)
        except ValueError as exc:
            return self._json({"error": str(exc)}, 400)

    async def _h_status(self, request: web.Request) -> web.Response:
        return self._json(self.status())

    async def _h_pause(self, request: web.Request) -> web.Response:
        self.clock.pause()
        return self._json({"paused": True, "step": self.market.step_index})

    async def _h_resume(self, request: web.Request) -> web.Response:
        self.clock.resume()
        return self._json({"paused": False, "step": self.market.step_index})

    async def _h_step(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            n = int(body.get("n", request.query.get("n", 1)))
        except (TypeError, ValueError):
            return self._json({"error": "n must be an integer"}, 400)
        step = self.clock.step(n)
        return self._json({"step": step, "paused": self.clock.paused})

    async def _h_rate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            self.clock.set_rate(float(body.get("rate", request.query.get("rate", 0))))
        except (TypeError, ValueError) as exc:
            return self._json({"error": str(exc)}, 400)
        return self._json({"rate": self.clock.rate})

    async def _h_dislocate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            spec = self.resolve(str(body.get("symbol", "")), body.get("category"))
            self.market.dislocate(
                self.venue, spec.symbol, float(body.get("bps", 5.0)), spec.category
            )
        except (FaultError, KeyError, TypeError, ValueError) as exc:
            return self._json({"error": str(exc)}, 400)
        return self._json({"ok": True})

    async def _h_config(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            for key, value in body.items():
                self._set_config(key, value)
        except (FaultError, TypeError, ValueError, ArithmeticError) as exc:
            return self._json({"error": str(exc)}, 400)
        if self.trading is not None:
            return self._json({**self._config(), "trading": self.trading.config()})
        return self._json(self._config())
