"""Private order streams: the venue pushes every change of our orders (state, fills).

A ``PrivateStream`` keeps one authenticated WebSocket per venue open (Binance WS-API user data
``executionReport``, OKX ``orders`` channel, Bybit ``order``/``execution`` topics; the venue
subclasses are ``venues/<v>/private.py``), reconnects with capped backoff, and turns each push
into ``OrderUpdate`` s for its ``sink`` (the ``Router``, which applies them to the same order
state machine as the REST/WS answers: ``apply_venue_state``, one fill per new increment of the
cumulative filled quantity, so a fill seen on the stream and in an answer counts once).

After a reconnect the pushes of the gap are lost: ``on_resync`` callbacks (the Router) then ask
the venue over REST about every order still open. Secrets never appear in logs or reprs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import websockets

from openclaw.execution.venues import Credentials
from openclaw.model.orders import Order

log = logging.getLogger("openclaw.execution.stream")

__all__ = ["OrderUpdate", "PrivateStream", "StreamStats", "StreamLoginError"]

_ZERO = Decimal(0)


class StreamLoginError(RuntimeError):
    """The venue refused the stream's login or subscription (code and message as sent)."""


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One pushed state of one order, in ccxt's unified terms.

    ``filled`` is cumulative; ``fee_cost`` the cumulative fee (None when the push carries only
    the last trade's: then ``last_qty``/``last_fee`` are that trade's)."""

    client_id: str
    venue_order_id: str
    status: str                      # open | closed | canceled | expired | rejected
    filled: Decimal
    average: Decimal | None
    fee_cost: Decimal | None = None
    fee_asset: str | None = None
    last_qty: Decimal = _ZERO
    last_fee: Decimal | None = None

    def as_reply(self, order: Order) -> dict[str, Any] | None:
        """A ccxt-shaped record for ``apply_venue_state``; None when the cumulative fee of the
        new fills cannot be known from this push (a per-trade push after a missed one: the
        caller asks the venue instead)."""
        reply: dict[str, Any] = {"id": self.venue_order_id, "status": self.status,
                                 "filled": str(self.filled),
                                 "average": None if self.average is None else str(self.average)}
        inc = self.filled - order.filled_qty
        if inc <= 0:
            reply["filled"] = None            # nothing new: only the status may say more
            return reply
        if self.fee_cost is not None:
            fee = self.fee_cost
        elif self.last_fee is None or not self.fee_asset:
            fee = None
        elif inc == self.last_qty:
            fee = order.fees.get(self.fee_asset, _ZERO) + self.last_fee
        else:
            return None
        if fee is not None and self.fee_asset:
            reply["fee"] = {"cost": str(fee), "currency": self.fee_asset}
        return reply


@dataclass
class StreamStats:
    connects: int = 0
    drops: int = 0
    pushes: int = 0                  # order updates delivered to the sink
    ignored: int = 0                 # frames that were not order updates


def dec(value: Any) -> Decimal:
    """A venue's number string as a Decimal ("" and None: 0)."""
    if value in (None, ""):
        return _ZERO
    return Decimal(str(value))


class PrivateStream:
    """One venue's private order stream (see the module docstring). Subclasses give the
    handshake (``_handshake``), the keepalive frame and ``parse``."""

    venue = ""
    ping_interval = 15.0

    def __init__(self, url: str, credentials: Credentials, *, backoff_initial: float = 0.05,
                 backoff_max: float = 2.0, open_timeout: float = 5.0) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"{self.venue}: private stream URL must be ws:// or wss://")
        self.url = url
        self._key = credentials.api_key
        self._secret = credentials.secret.encode()
        self._passphrase = credentials.password
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.open_timeout = open_timeout
        self.stats = StreamStats()
        self.sink: Callable[[OrderUpdate], None] | None = None
        self.on_resync: list[Callable[[], None]] = []
        self._ws: websockets.ClientConnection | None = None
        self._up = False
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, {'up' if self._up else 'down'})"

    @property
    def up(self) -> bool:
        """Logged in and subscribed: pushes arrive."""
        return self._up

    async def start(self) -> None:
        """Connect, log in and subscribe (raises ``StreamLoginError``/``OSError``), then keep
        the stream connected until ``close``."""
        if self._task is not None:
            return
        self._closing = False
        ws = await asyncio.wait_for(self._open(), self.open_timeout)
        self._task = asyncio.get_running_loop().create_task(self._run(ws),
                                                            name=f"private-{self.venue}")

    async def close(self) -> None:
        self._closing = True
        self._up = False
        task, self._task = self._task, None
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _open(self) -> websockets.ClientConnection:
        ws = await websockets.connect(self.url, compression=None, max_size=2**22,
                                      ping_interval=20.0, ping_timeout=20.0,
                                      open_timeout=self.open_timeout, proxy=None)
        try:
            await self._handshake(ws)
        except BaseException:
            await ws.close()
            raise
        self.stats.connects += 1
        self._ws = ws
        self._up = True
        return ws

    async def _run(self, ws: websockets.ClientConnection) -> None:
        delay = self.backoff_initial
        while not self._closing:
            pinger = asyncio.get_running_loop().create_task(self._pings(ws))
            try:
                async for raw in ws:
                    self._frame(raw)
            except websockets.ConnectionClosed:
                pass
            finally:
                pinger.cancel()
                self._up = False
            if self._closing:
                return
            self.stats.drops += 1
            log.warning("%s: private stream dropped, reconnecting", self.venue)
            while not self._closing:
                await asyncio.sleep(delay * (0.5 + random.random()))
                try:
                    ws = await asyncio.wait_for(self._open(), self.open_timeout)
                except (OSError, TimeoutError, StreamLoginError,
                        websockets.WebSocketException) as e:
                    delay = min(self.backoff_max, delay * 2)
                    log.warning("%s: private stream reconnect failed: %s", self.venue,
                                type(e).__name__)
                    continue
                delay = self.backoff_initial
                for cb in self.on_resync:          # pushes of the gap are lost: ask the venue
                    cb()
                break

    async def _pings(self, ws: websockets.ClientConnection) -> None:
        frame = self._ping_frame()
        if frame is None:
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(self.ping_interval)
                await ws.send(frame)

    def _frame(self, raw: str | bytes) -> None:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.stats.ignored += 1              # "pong" and the like
            return
        updates = self.parse(msg) if isinstance(msg, dict) else []
        if not updates:
            self.stats.ignored += 1
            return
        sink = self.sink
        for u in updates:
            self.stats.pushes += 1
            if sink is not None:
                try:
                    sink(u)
                except Exception:  # noqa: BLE001 - one bad update never stops the stream
                    log.exception("%s: order update of %s failed", self.venue, u.client_id)

    async def _request(self, ws: websockets.ClientConnection, frame: str,
                       match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Send ``frame`` and return the first message ``match`` accepts (handshake only)."""
        await ws.send(frame)
        while True:
            raw = await asyncio.wait_for(ws.recv(), self.open_timeout)
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(msg, dict) and match(msg):
                return msg

    # ---- what a venue gives ---------------------------------------------------------------

    async def _handshake(self, ws: websockets.ClientConnection) -> None:
        """Log in and subscribe on a fresh connection; raise ``StreamLoginError`` if refused."""
        raise NotImplementedError

    def _ping_frame(self) -> str | None:
        return None

    def parse(self, msg: dict[str, Any]) -> list[OrderUpdate]:
        """The order updates in one pushed message ([] for anything else)."""
        raise NotImplementedError
