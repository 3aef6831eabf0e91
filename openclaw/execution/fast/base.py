"""One persistent, authenticated trading WebSocket per venue: the common machinery.

A ``FastRoute`` opens its socket and logs in at start-up, keeps it alive (protocol pings plus
the venue's own application ping), and after any drop reconnects with capped backoff and logs in
again before it reports itself ``up``. Requests are pre-built byte frames (venue subclasses fill
templates: an order costs at most one HMAC and one frame) and replies are matched to requests by
request id through a dict of futures; a reply timer per request replaces ``asyncio.wait_for``.

What an order's fate is, whatever happens (the Router applies it to the same state machine as the
ccxt route):

* a reply with an order id -> a ccxt-shaped dict (``id``, ``status``, ``filled``, ``average``,
  ``fee``) for ``apply_venue_state``;
* the venue's explicit refusal -> ``VenueRejected`` (code and message as the venue sent them);
* no reply within ``timeout_s`` -> ``TimeoutError``; the socket dropped after the frame was
  written, or a venue answer that does not say whether the order exists -> ``ReplyLost``. Both
  leave the order UNKNOWN until a query by client id answers; nothing is ever re-sent;
* the socket is not up before anything is written -> ``RouteDown``: the caller may send this
  order through ccxt instead (counted and alerted), because nothing left on the fast route.

Secrets never appear in logs, exceptions or reprs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import random
import struct
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import websockets
from websockets.protocol import State

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - the C speedups are normally built
    from websockets.utils import apply_mask

from openclaw.execution.venues import Credentials
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Order

log = logging.getLogger("openclaw.execution.fast")

__all__ = [
    "FastConfig",
    "FastRoute",
    "FastRouteError",
    "FastStats",
    "LoginError",
    "ReplyLost",
    "RouteDown",
    "VenueRejected",
]


class FastRouteError(OpenclawError):
    """Base of the fast routes' errors. ``maybe_executed``: the order may exist at the venue."""

    maybe_executed = False


class RouteDown(FastRouteError):
    """The socket is not up and nothing was written: the order may go through ccxt instead."""


class ReplyLost(FastRouteError):
    """The frame may have reached the venue but no usable answer came back: the order is
    UNKNOWN until a query by client id answers."""

    maybe_executed = True


class VenueRejected(FastRouteError):
    """The venue refused the request; ``code`` and ``msg`` are the venue's own."""

    def __init__(self, venue: str, code: str, msg: str, *, rate_limited: bool = False) -> None:
        self.venue = venue
        self.code = code
        self.msg = msg
        self.rate_limited = rate_limited   # the Router backs the venue's bucket off
        super().__init__(f"{venue} {code}: {msg}")


class LoginError(FastRouteError):
    """The venue refused the login (bad key, signature or passphrase, stale timestamp)."""

    def __init__(self, venue: str, code: str, msg: str) -> None:
        self.venue = venue
        self.code = code
        self.msg = msg
        super().__init__(f"{venue} login refused, {code}: {msg}")


@dataclass
class FastConfig:
    """Timings of one fast route (seconds)."""

    timeout_s: float = 3.0            # reply deadline of one request
    ping_interval: float = 20.0       # application ping (OKX text "ping", Bybit op ping)
    open_timeout: float = 5.0         # connect + login at start-up and on reconnect
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    recv_window_ms: int = 5000        # Binance recvWindow, Bybit X-BAPI-RECV-WINDOW
    timing_capacity: int = 1 << 16    # ring of "approved -> bytes on the socket" samples


@dataclass
class FastStats:
    """Counters of one fast route."""

    sent: int = 0
    acked: int = 0
    rejected: int = 0
    lost: int = 0              # orders left UNKNOWN by a drop or an ambiguous answer
    timeouts: int = 0
    late_replies: int = 0      # replies that came after their request timed out
    fallbacks: int = 0         # orders sent through ccxt because this socket was down
    connects: int = 0
    reconnects: int = 0
    logins: int = 0
    login_failures: int = 0
    relogins: int = 0          # session errors answered by logging in again
    supervisor_errors: int = 0  # unexpected errors in the keep-connected loop (alerted)
    pongs: int = 0             # answers to our application-level pings


class FastRoute:
    """Base class: the connection, login, keepalive, reconnect and request-id matching.

    Subclasses set ``venue``, ``symbol_sep`` (``BTC/USDT`` -> ``BTC`` + sep + ``USDT``) and
    ``reply_id_key`` (the reply field carrying the request id), and implement ``_build_place``,
    ``_parse_place``,
    ``_build_cancel``, ``_parse_cancel``, and where the venue has them ``_login_frame``,
    ``_is_login_reply``, ``_login_error``, ``_ping_frame`` and ``_is_keepalive``.
    """

    venue = ""
    symbol_sep = ""
    reply_id_key = "id"

    def __init__(self, url: str, credentials: Credentials, config: FastConfig | None = None,
                 alerter: Any = None) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"{self.venue}: fast route URL must be ws:// or wss://, not {url!r}")
        self.url = url
        self.config = config or FastConfig()
        self.alerter = alerter
        self.stats = FastStats()
        self._key = credentials.api_key
        self._secret = credentials.secret.encode()
        self._passphrase = credentials.password
        self._mac = hmac.new(self._secret, digestmod="sha256")   # copied per signature
        self._ws: websockets.ClientConnection | None = None
        self._up = False
        self._closing = False
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._symbols: dict[str, str] = {}
        self._login_waiter: asyncio.Future[dict[str, Any]] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seq = 0
        self._outage_alerted = False
        self._relogin_task: asyncio.Task[None] | None = None
        # per order: "risk-approved order -> frame handed to transport.write" (our Python work)
        # and "... -> transport.write returned" (including the kernel's send), ns
        self.py_ns = array("q", bytes(8 * self.config.timing_capacity))
        self.send_ns = array("q", bytes(8 * self.config.timing_capacity))
        self.send_count = 0
        self._masks = b""
        self._mask_at = 0

    def __repr__(self) -> str:
        state = "up" if self._up else "down"
        return f"{type(self).__name__}({self.url!r}, {state})"

    def use_markets(self, markets: dict[str, Any]) -> None:
        """The venue's markets as ccxt loaded them (``VenueRoute.start``): a venue whose frames
        need more than the symbol (OKX ``instIdCode``) takes it from here."""

    # ---- life cycle -----------------------------------------------------------------------

    @property
    def up(self) -> bool:
        """True while the socket is open and logged in (orders go this way)."""
        return self._up

    async def start(self) -> None:
        """Connect and log in; raises ``LoginError`` (refused) or ``OSError``/``TimeoutError``.

        After start-up the route keeps itself connected until ``close``.
        """
        if self._supervisor is not None:
            return
        self._closing = False
        ws = await asyncio.wait_for(self._open(), self.config.open_timeout)
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(ws), name=f"fast-{self.venue}")
        self._supervisor.add_done_callback(self._supervisor_done)

    def _supervisor_done(self, task: asyncio.Task[None]) -> None:
        """The keep-connected task ended: alert unless ``close`` ended it (it never should)."""
        if task.cancelled():
            if not self._closing:
                self._alert("fast route supervisor cancelled; the route no longer reconnects")
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s: fast route supervisor died", self.venue, exc_info=exc)
            self._alert(f"fast route supervisor died ({type(exc).__name__}); "
                        "the route no longer reconnects")

    async def close(self) -> None:
        """Close the socket and stop reconnecting; requests in flight become ``ReplyLost``."""
        self._closing = True
        self._up = False
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        for t in (self._supervisor, self._relogin_task, *self._tasks):
            if t is None:
                continue
            if not t.done():
                t.cancel()
            try:
                await t
            except asyncio.CancelledError:
                pass
            except Exception as e:  # noqa: BLE001 - reported, and closing goes on
                # a task that failed must not vanish in the shutdown: log and alert it
                log.error("%s: %s had failed: %s", self.venue, t.get_name(), e, exc_info=e)
                self._alert(f"{t.get_name()} had failed ({type(e).__name__}: {e})")
        self._supervisor = None
        self._relogin_task = None
        self._fail_pending("route closed")

    async def _open(self) -> websockets.ClientConnection:
        """One connection, logged in. The reader runs while logging in (it delivers the reply)."""
        ws = await websockets.connect(self.url, compression=None, max_size=2**22,
                                      ping_interval=20.0, ping_timeout=20.0,
                                      open_timeout=self.config.open_timeout, proxy=None)
        self.stats.connects += 1
        self._ws = ws
        reader = asyncio.get_running_loop().create_task(self._read(ws))
        self._tasks.add(reader)
        reader.add_done_callback(self._tasks.discard)
        try:
            await self._login(ws)
        except BaseException:
            reader.cancel()
            await ws.close()
            self._ws = None
            raise
        self._up = True
        self._outage_alerted = False
        return ws

    async def _supervise(self, ws: websockets.ClientConnection) -> None:
        """Keep the route connected: ping, and after a drop reconnect and log in again.

        Any unexpected error (a bug, a library surprise) is logged with its traceback, alerted
        and counted; the loop then closes the socket it holds and keeps reconnecting: the route
        never silently stays down."""
        current: websockets.ClientConnection | None = ws
        while not self._closing:
            try:
                if current is not None:
                    await self._watch(current)
                    if self._closing:
                        return
                current = None
                current = await self._reconnect()
            except Exception as e:  # noqa: BLE001 - never end: log, alert, retry
                self._up = False
                self.stats.supervisor_errors += 1
                log.error("%s: fast route supervisor error, retrying: %s", self.venue, e,
                          exc_info=e)
                self._alert(f"fast route error ({type(e).__name__}: {e}); reconnecting")
                bad, current = current or self._ws, None
                if bad is not None:
                    with contextlib.suppress(Exception):
                        await bad.close()
                if not self._closing:
                    await asyncio.sleep(self.config.backoff_max)

    async def _watch(self, ws: websockets.ClientConnection) -> None:
        """Ping ``ws`` until it closes; then fail the requests in flight and alert."""
        pinger = asyncio.get_running_loop().create_task(self._ping_loop(ws))
        try:
            await ws.wait_closed()
        finally:
            pinger.cancel()
        self._up = False
        if self._closing:
            return
        self._fail_pending("socket dropped before the reply")
        self._alert(f"fast route down ({ws.close_reason or 'connection lost'}); "
                    "orders fall back to ccxt")
        log.warning("%s: fast route socket closed: %s", self.venue, ws.close_reason)

    async def _reconnect(self) -> websockets.ClientConnection | None:
        """Connect and log in again with capped, jittered backoff; None once closing."""
        delay = self.config.backoff_initial
        while not self._closing:
            await asyncio.sleep(delay * (0.5 + random.random()))
            try:
                ws = await asyncio.wait_for(self._open(), self.config.open_timeout)
            except (OSError, TimeoutError, websockets.WebSocketException,
                    FastRouteError) as e:
                log.warning("%s: fast route reconnect failed: %s", self.venue, e)
                delay = min(self.config.backoff_max, delay * 2)
                continue
            self.stats.reconnects += 1
            self._alert("fast route up again")
            return ws
        return None

    async def _ping_loop(self, ws: websockets.ClientConnection) -> None:
        frame = self._ping_frame()
        if frame is None:
            return
        while True:
            await asyncio.sleep(self.config.ping_interval)
            try:
                await ws.send(frame)
            except websockets.ConnectionClosed:
                return

    async def _read(self, ws: websockets.ClientConnection) -> None:
        """Deliver every reply to the future waiting for its request id."""
        pending = self._pending
        loads = orjson.loads
        try:
            while True:
                raw = await ws.recv(decode=False)     # bytes: orjson reads them as they are
                if raw == b"pong":
                    self.stats.pongs += 1
                    continue
                try:
                    msg = loads(raw)
                except orjson.JSONDecodeError:
                    log.warning("%s: undecodable frame (%d bytes)", self.venue, len(raw))
                    continue
                if type(msg) is not dict:
                    continue
                rid = self._reply_id(msg)
                fut = pending.pop(rid, None) if rid is not None else None
                if fut is not None:
                    if not fut.done():
                        fut.set_result(msg)
                    continue
                self._other(msg, rid)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001 - a dead reader must not leave the socket open
            log.error("%s: reader error, reconnecting: %s", self.venue, e, exc_info=e)
            self._alert(f"reader error ({type(e).__name__}: {e}); reconnecting")
            self._up = False
            await ws.close()            # the supervisor sees the close and reconnects
        finally:
            self._up = False

    def _other(self, msg: dict[str, Any], rid: str | None) -> None:
        """A frame no request waits for: the login answer, a pong, a late reply."""
        waiter = self._login_waiter
        if waiter is not None and not waiter.done() and self._is_login_reply(msg):
            waiter.set_result(msg)
        elif rid is not None:
            self.stats.late_replies += 1
            log.warning("%s: reply to %s came after its deadline", self.venue, rid)
        elif self._is_keepalive(msg):
            self.stats.pongs += 1
        else:
            self._unsolicited(msg)

    def _unsolicited(self, msg: dict[str, Any]) -> None:
        """A frame that answers no request (a venue may report a lost session this way)."""
        log.info("%s: unsolicited frame: %.200s", self.venue, msg)

    async def _login(self, ws: websockets.ClientConnection) -> None:
        frame = self._login_frame()
        if frame is None:
            return
        self._login_waiter = asyncio.get_running_loop().create_future()
        try:
            await ws.send(frame, text=True)
            reply = await asyncio.wait_for(self._login_waiter, self.config.open_timeout)
        finally:
            self._login_waiter = None
        err = self._login_error(reply)
        if err is not None:
            self.stats.login_failures += 1
            raise LoginError(self.venue, *err)
        self.stats.logins += 1

    def _session_lost(self, code: str) -> None:
        """The venue says this connection is not (or no longer) logged in: go down, log in again
        on the same socket (or reconnect if that fails)."""
        if not self._up or self._closing:
            return
        self._up = False
        self.stats.relogins += 1
        self._alert(f"session error {code}; logging in again")
        self._relogin_task = asyncio.get_running_loop().create_task(self._relogin())

    async def _relogin(self) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await asyncio.wait_for(self._login(ws), self.config.open_timeout)
        except (OSError, TimeoutError, websockets.WebSocketException, FastRouteError) as e:
            log.warning("%s: re-login failed (%s); reconnecting", self.venue, e)
            await ws.close()          # the supervisor reconnects and logs in
            return
        except Exception as e:  # noqa: BLE001 - never leave the route down on an open socket
            log.error("%s: re-login error, reconnecting: %s", self.venue, e, exc_info=e)
            self._alert(f"re-login error ({type(e).__name__}: {e}); reconnecting")
            await ws.close()
            return
        if not self._closing and ws is self._ws:
            self._up = True
            self._alert("logged in again")

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ReplyLost(f"{self.venue}: {why}"))

    def _alert(self, text: str) -> None:
        if self.alerter is not None:
            try:
                self.alerter.disconnect(self.venue, text)
            except Exception:  # noqa: BLE001 - alerting never stops trading
                log.exception("%s: alert failed", self.venue)

    def note_fallback(self, order: Order) -> None:
        """Count an order sent through ccxt because this route was down; alert once per outage."""
        self.stats.fallbacks += 1
        if not self._outage_alerted:
            self._outage_alerted = True
            self._alert(f"fast route down: {order.client_id} and later orders go through ccxt")

    # ---- requests -------------------------------------------------------------------------

    async def place(self, order: Order, on_sent: Callable[[], object] | None = None
                    ) -> dict[str, Any]:
        """Send one order as one frame; returns a ccxt-shaped order dict for
        ``apply_venue_state``. Raises ``RouteDown`` (nothing sent), ``VenueRejected``,
        ``ReplyLost`` or ``TimeoutError`` (see the module docstring). ``on_sent`` (optional) is
        called right after the frame was written to the transport.

        The hot path writes the WebSocket frame itself (RFC 6455 text frame, FIN, masked with a
        random key, no extension negotiated) in one ``transport.write``: the library's
        ``send`` costs about 20 us more per order on this VM and adds nothing for a complete,
        unfragmented frame on an open connection.
        """
        t0 = time.perf_counter_ns()
        ws = self._ws
        if not self._up or ws is None or ws.protocol.state is not State.OPEN:
            raise RouteDown(f"{self.venue}: fast route is down")
        transport = ws.transport
        if transport.is_closing():
            raise RouteDown(f"{self.venue}: fast route socket is closing")
        rid, payload = self._build_place(order)
        pending = self._pending
        if rid in pending:
            raise ValueError(f"{self.venue}: request id {rid} already in flight")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        pending[rid] = fut
        frame = self._frame(payload)
        t1 = time.perf_counter_ns()
        try:
            transport.write(frame)
        except Exception as e:  # noqa: BLE001 - the bytes may have left: the order is UNKNOWN
            pending.pop(rid, None)
            self.stats.lost += 1
            raise ReplyLost(f"{self.venue}: socket write failed ({type(e).__name__})") from None
        t2 = time.perf_counter_ns()
        i = self.send_count % len(self.send_ns)
        self.py_ns[i] = t1 - t0
        self.send_ns[i] = t2 - t0
        self.send_count += 1
        self.stats.sent += 1
        if on_sent is not None:
            on_sent()
        timer = loop.call_later(self.config.timeout_s, self._expire, rid, fut)
        try:
            msg = await fut
        except ReplyLost:
            self.stats.lost += 1          # dropped after the write (timeouts: ``_expire``)
            raise
        except asyncio.CancelledError:
            # the caller gave up: no one waits for this id any more (a reply is "late")
            if pending.get(rid) is fut:
                del pending[rid]
            raise
        finally:
            timer.cancel()
        try:
            reply = self._parse_place(order, msg)
        except ReplyLost as e:
            self.stats.lost += 1
            log.warning("%s: %s left UNKNOWN: %s", self.venue, order.client_id, e)
            raise
        except VenueRejected:
            self.stats.rejected += 1
            raise
        except FastRouteError:
            raise
        except Exception as e:  # noqa: BLE001 - a reply we cannot read never means "refused"
            self.stats.lost += 1
            raise ReplyLost(f"{self.venue}: unreadable reply ({type(e).__name__}: {e})"
                            ) from None
        self.stats.acked += 1
        return reply

    def _frame(self, payload: bytes) -> bytes:
        """One masked client text frame (RFC 6455 5.2) carrying ``payload``."""
        at = self._mask_at
        if at + 4 > len(self._masks):
            self._masks, at = os.urandom(4096), 0
        mask = self._masks[at:at + 4]
        self._mask_at = at + 4
        n = len(payload)
        if n < 126:
            head = bytes((0x81, 0x80 | n))
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0xFE, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0xFF, n)
        return head + mask + apply_mask(payload, mask)

    async def cancel(self, order: Order) -> dict[str, Any]:
        """Cancel one order by client id; returns a ccxt-shaped dict (at least ``id``)."""
        ws = self._ws
        if not self._up or ws is None or ws.protocol.state is not State.OPEN:
            raise RouteDown(f"{self.venue}: fast route is down")
        rid, frame = self._build_cancel(order, self._next_rid())
        msg = await self._request(ws, rid, frame, 0)
        return self._parse_cancel(order, msg)

    def _next_rid(self) -> str:
        """A request id for a non-order request (order requests use the client order id, which
        is ``C...``; these start with ``r`` so the two never collide)."""
        self._seq += 1
        return f"r{self._seq}"

    async def _request(self, ws: websockets.ClientConnection, rid: str, frame: bytes,
                       t0: int = 0) -> dict[str, Any]:
        """A request other than an order (cancel, status) through the library's ``send``."""
        loop = asyncio.get_running_loop()
        if rid in self._pending:
            raise ValueError(f"{self.venue}: request id {rid} already in flight")
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[rid] = fut
        try:
            await ws.send(frame, text=True)
        except websockets.ConnectionClosed as e:
            self._pending.pop(rid, None)
            raise ReplyLost(f"{self.venue}: socket closed while sending ({e})") from None
        timer = loop.call_later(self.config.timeout_s, self._expire, rid, fut)
        try:
            return await fut
        finally:
            timer.cancel()

    def _expire(self, rid: str, fut: asyncio.Future[dict[str, Any]]) -> None:
        if self._pending.get(rid) is fut:
            del self._pending[rid]
        if not fut.done():
            self.stats.timeouts += 1
            fut.set_exception(TimeoutError(f"{self.venue}: no reply to {rid} within "
                                           f"{self.config.timeout_s} s"))

    def sign_hex(self, payload: bytes) -> str:
        """Hex HMAC-SHA256 of ``payload`` with the API secret (precomputed key state)."""
        mac = self._mac.copy()
        mac.update(payload)
        return mac.hexdigest()

    def send_timings_ns(self, kernel: bool = True) -> list[int]:
        """Per order, oldest first (up to the ring's capacity): "approved order -> write()
        returned" (``kernel=True``, includes the kernel's send) or "-> frame handed to write()"
        (our Python work only), ns."""
        ring = self.send_ns if kernel else self.py_ns
        n = len(ring)
        if self.send_count <= n:
            return list(ring[:self.send_count])
        i = self.send_count % n
        return list(ring[i:]) + list(ring[:i])

    # ---- venue specifics ------------------------------------------------------------------

    def _login_frame(self) -> bytes | None:
        """The login request (None: the venue signs every request instead)."""
        return None

    def _is_login_reply(self, msg: dict[str, Any]) -> bool:
        return False

    def _login_error(self, reply: dict[str, Any]) -> tuple[str, str] | None:
        """(code, message) if the login reply is a refusal, else None."""
        return None

    def _is_keepalive(self, msg: dict[str, Any]) -> bool:
        return False

    def _ping_frame(self) -> str | None:
        """The venue's application-level ping (None: protocol pings only)."""
        return None

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/USDT`` -> the venue's instrument name (``BTCUSDT``, ``BTC-USDT``; cached)."""
        s = self._symbols.get(symbol)
        if s is None:
            base, sep, quote = symbol.partition("/")
            if not (sep and base.isalnum() and quote.isalnum()):
                raise ValueError(f"{self.venue}: symbol {symbol!r} is not BASE/QUOTE")
            s = self._symbols[symbol] = f"{base}{self.symbol_sep}{quote}"
        return s

    def _reply_id(self, msg: dict[str, Any]) -> str | None:
        """The request id a reply answers (``reply_id_key``), None if it carries none."""
        rid = msg.get(self.reply_id_key)
        return rid if isinstance(rid, str) else None

    def _build_place(self, order: Order) -> tuple[str, bytes]:
        raise NotImplementedError

    def _parse_place(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _build_cancel(self, order: Order, rid: str) -> tuple[str, bytes]:
        raise NotImplementedError

    def _parse_cancel(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


def plain(value: Any) -> str:
    """A Decimal (or str/int) as the venues want numbers: plain notation, never exponent."""
    return format(value, "f") if not isinstance(value, str) else value


def json_str(value: str) -> str:
    """``value`` as a JSON string literal (for the constant parts of templates)."""
    return orjson.dumps(value).decode()
