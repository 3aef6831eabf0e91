"""OKX v5 public order-book simulator: ``/ws/v5/public`` and ``GET /api/v5/market/books``.

Protocol as in docs/venues/okx.md §2:

* JSON ``{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`` -> one
  ``{"event":"subscribe","arg":..,"connId":..}`` ack per arg (``id`` echoed when sent), errors
  ``{"event":"error","code":..,"msg":..,"connId":..}`` (60012 bad request, 60018 unknown
  channel/instId, 64003 tick-by-tick channel without entitlement);
* ``books`` (400 levels): an ``action:"snapshot"`` push (``prevSeqId:-1``), then ``update`` pushes
  chained by ``prevSeqId`` with non-contiguous ``seqId``; levels ``[px, sz, "0", numOrders]``;
  ``ts`` a string; ``checksum`` 0 (live behaviour since June 2026, ``checksum="zero"``) or the
  real signed CRC32 of the top 25 levels (``checksum="real"``, §2.6); an empty heartbeat update
  (``seqId == prevSeqId``) after ``heartbeat_s`` without changes;
* ``initial_snapshot=False`` models the announced flow without the WS snapshot (§2.7/§2.8): the
  client seeds its book from REST ``GET /api/v5/market/books?instId=..&sz=400`` (with ``seqId``);
* ``books5`` and ``bbo-tbt`` as full snapshots without ``action``;
* text ``ping`` -> ``pong``; the connection closes after 30 s without anything pushed.

Extra fault kinds: ``bad_checksum`` (next update carries a wrong non-zero checksum),
``seq_reset`` (next update restarts the sequence: ``seqId < prevSeqId``), ``heartbeat`` (push an
empty update now).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from openclaw.sim.engine.base import Conn, Fault, VenueSim, dumps
from openclaw.sim.engine.clock import MarketClock
from openclaw.sim.engine.market import (
    ASK,
    BID,
    DepthView,
    Formatter,
    InstrumentSpec,
    MarketStep,
    SyntheticMarket,
)
from openclaw.sim.okx.rest import OkxTrading
from openclaw.sim.okx.wsapi import OkxWsApi

__all__ = ["OkxSim", "okx_checksum"]

_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
_CHANNELS = ("books", "books5", "bbo-tbt")
_TBT = ("books-l2-tbt", "books50-l2-tbt")
BOOKS_DEPTH = 400


def okx_checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """Signed CRC32 of the top 25 levels, bid/ask interleaved, strings as sent (§2.6)."""
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _orders(price: int, size: int) -> str:
    """A stable synthetic order count for a level (OKX's 4th field)."""
    if size == 0:
        return "0"
    return str(1 + (price * 31 + size * 17) % 12)


@dataclass
class _Inst:
    spec: InstrumentSpec
    fmt: Formatter
    view: DepthView
    seq: int
    last_push: float  # loop time of the last books push (for heartbeats)
    top5: tuple[tuple[tuple[int, int], ...], ...] | None = None
    bbo: tuple[tuple[tuple[int, int], ...], ...] | None = None


class OkxSim(VenueSim):
    """OKX v5 public order-book simulator (see module docstring)."""

    venue = "okx"
    venue_faults = ("bad_checksum", "seq_reset", "heartbeat")

    def __init__(
        self,
        market: SyntheticMarket | None = None,
        clock: MarketClock | None = None,
        *,
        checksum: str = "zero",
        initial_snapshot: bool = True,
        heartbeat_s: float = 60.0,
        idle_timeout: float = 30.0,
        trading: dict[str, Any] | bool | None = None,
        wsapi: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(market, clock, **kwargs)
        if checksum not in ("zero", "real"):
            raise ValueError("checksum must be 'zero' or 'real'")
        self.checksum = checksum
        self.initial_snapshot = initial_snapshot
        self.heartbeat_s = heartbeat_s
        self.idle_timeout = idle_timeout
        self._rng = random.Random(self.market.seed * 7919 + 2)
        self._insts: dict[str, _Inst] = {}
        for spec in self.market.instruments(self.venue):
            self._insts[spec.venue_symbol] = _Inst(
                spec,
                self.market.formatter(spec.key),
                DepthView(self.market.book(spec.key), BOOKS_DEPTH),
                self._rng.randrange(1_000_000_000, 20_000_000_000),
                0.0,
            )
        if trading is not False:  # the spot trading REST API on the same port
            opts = trading if isinstance(trading, dict) else {}
            self._attach_trading(OkxTrading(self, **opts))
            if wsapi is not False:  # the trading WebSocket on the same state
                self._attach_wsapi(OkxWsApi(self, self.trading))

    # ---- routes ------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws/v5/public", self._h_ws)
        app.router.add_get("/api/v5/market/books", self._h_books)

    @property
    def ws_url(self) -> str:
        """URL of the public WebSocket."""
        return f"{self.ws_base}/ws/v5/public"

    async def _h_ws(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request)

    def _periodic(self, now: float) -> None:
        for conn in list(self.conns):
            if not conn.closed and now - conn.last_out > self.idle_timeout and not conn.stalled:
                conn.close_soon(4004)  # OKX closes idle connections
        for inst in self._insts.values():
            if now - inst.last_push >= self.heartbeat_s and self.has_subscribers(
                self._stream("books", inst)
            ):
                self._heartbeat(inst)

    # ---- requests ----------------------------------------------------------------------

    @staticmethod
    def _stream(channel: str, inst: _Inst | str) -> str:
        inst_id = inst if isinstance(inst, str) else inst.spec.venue_symbol
        return f"{channel}:{inst_id}"

    def _error(self, conn: Conn, code: str, msg: str, req_id: str | None) -> None:
        out: dict[str, Any] = {}
        if req_id is not None:
            out["id"] = req_id
        out.update({"event": "error", "code": code, "msg": msg, "connId": conn.id})
        self.send_json(conn, out)

    def _on_text(self, conn: Conn, text: str) -> None:
        if text == "ping":
            conn.send("pong")
            return
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict) or "op" not in req:
            self._error(conn, "60012", f"Invalid request: {text}", None)
            return
        req_id = req.get("id")
        if req_id is not None and (not isinstance(req_id, str) or not _ID_RE.match(req_id)):
            self._error(conn, "60012", f"Invalid request: {text}", None)
            return
        op = req.get("op")
        if op not in ("subscribe", "unsubscribe"):
            self._error(conn, "60019", f"Invalid op: {op}", req_id)
            return
        args = req.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            self._error(conn, "60012", f"Invalid request: {text}", req_id)
            return
        for arg in args:
            self._one_arg(conn, op, arg, req_id)

    def _one_arg(self, conn: Conn, op: str, arg: dict[str, Any], req_id: str | None) -> None:
        channel, inst_id = arg.get("channel"), arg.get("instId")
        if not isinstance(channel, str) or not channel:
            self._error(conn, "60012", f"Invalid request: {dumps(arg)}", req_id)
            return
        if channel in _TBT:
            self._error(
                conn,
                "64003",
                "Your trading fee tier doesn't meet the requirement to access this channel",
                req_id,
            )
            return
        inst = self._insts.get(inst_id) if isinstance(inst_id, str) else None
        if channel not in _CHANNELS or inst is None:
            self._error(
                conn,
                "60018",
                f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist. Please use the "
                "correct URL, channel and parameters referring to API document.",
                req_id,
            )
            return
        ack: dict[str, Any] = {}
        if req_id is not None:
            ack["id"] = req_id
        ack.update({"event": op, "arg": {"channel": channel, "instId": inst_id}, "connId": conn.id})
        stream = self._stream(channel, inst)
        if op == "unsubscribe":
            self.unsubscribe(conn, stream)
            self.send_json(conn, ack)
            return
        self.subscribe(conn, stream)
        self.send_json(conn, ack)
        if channel == "books":
            if self.initial_snapshot:
                self.send_frames(stream, [conn], [self._snapshot(inst)])
            inst.last_push = asyncio.get_running_loop().time()
        else:
            book = self.market.book(inst.spec.key)
            n = 5 if channel == "books5" else 1
            setattr(
                inst,
                "top5" if n == 5 else "bbo",
                (tuple(book.top(BID, n)), tuple(book.top(ASK, n))),
            )
            self.send_frames(stream, [conn], [self._top_push(inst, channel)])

    # ---- pushes ------------------------------------------------------------------------

    def _levels(self, fmt: Formatter, pairs: Iterable[tuple[int, int]]) -> list[list[str]]:
        p, s = fmt.price, fmt.size
        return [[p(px), s(sz), "0", _orders(px, sz)] for px, sz in pairs]

    def _top(self, inst: _Inst, side: int, n: int = BOOKS_DEPTH) -> list[tuple[int, int]]:
        # The 400-level view always equals the book's top 400, and the book keeps sorted lists.
        return self.market.book(inst.spec.key).top(side, min(n, BOOKS_DEPTH))

    def _crc(self, inst: _Inst) -> int:
        f = inst.fmt
        return okx_checksum(f.levels(self._top(inst, BID, 25)), f.levels(self._top(inst, ASK, 25)))

    def _snapshot(self, inst: _Inst) -> dict[str, Any]:
        data = {
            "asks": self._levels(inst.fmt, self._top(inst, ASK)),
            "bids": self._levels(inst.fmt, self._top(inst, BID)),
            "ts": str(time.time_ns() // 1_000_000),
            "checksum": self._crc(inst) if self.checksum == "real" else 0,
            "prevSeqId": -1,
            "seqId": inst.seq,
        }
        return {
            "arg": {"channel": "books", "instId": inst.spec.venue_symbol},
            "action": "snapshot",
            "data": [data],
        }

    def _top_push(self, inst: _Inst, channel: str) -> dict[str, Any]:
        n = 5 if channel == "books5" else 1
        data = {
            "asks": self._levels(inst.fmt, self._top(inst, ASK, n)),
            "bids": self._levels(inst.fmt, self._top(inst, BID, n)),
            "instId": inst.spec.venue_symbol,
            "ts": str(time.time_ns() // 1_000_000),
            "seqId": inst.seq,
        }
        return {"arg": {"channel": channel, "instId": inst.spec.venue_symbol}, "data": [data]}

    def streams_of(self, spec: InstrumentSpec) -> Collection[str]:
        return [f"{c}:{spec.venue_symbol}" for c in _CHANNELS]

    def _next_seq(self, inst: _Inst, reset: bool) -> int:
        if reset:
            return self._rng.randrange(0, 10)
        return inst.seq + 1 + self._rng.randrange(0, 12)  # non-contiguous, like live OKX

    def _on_step(self, step: MarketStep) -> None:
        loop_time = asyncio.get_running_loop().time()
        for inst in self._insts.values():
            diff = step.diffs.get(inst.spec.key)
            if not diff:
                continue
            book = self.market.book(inst.spec.key)
            bids, asks = inst.view.sync(book, diff, keep_ghosts=inst.spec.ghost_deletes)
            if not bids and not asks:
                continue
            stream = self._stream("books", inst)
            faults = self.take_faults(inst.spec, (stream,))
            prev, inst.seq = inst.seq, self._next_seq(inst, "seq_reset" in faults)
            if self.has_subscribers(stream):
                if self.checksum == "real" or "bad_checksum" in faults:
                    crc = self._crc(inst)
                else:
                    crc = 0
                if "bad_checksum" in faults:
                    crc = (crc ^ 0x5A5A5A5A) or 1
                    crc = crc - (1 << 32) if crc >= 1 << 31 else crc
                data = {
                    "asks": self._levels(inst.fmt, sorted(asks.items())),
                    "bids": self._levels(inst.fmt, sorted(bids.items(), reverse=True)),
                    "ts": str(time.time_ns() // 1_000_000),
                    "checksum": crc,
                    "prevSeqId": prev,
                    "seqId": inst.seq,
                }
                msg = {
                    "arg": {"channel": "books", "instId": inst.spec.venue_symbol},
                    "action": "update",
                    "data": [data],
                }
                self.emit(stream, msg, faults)
                inst.last_push = loop_time
            for channel, attr, n in (("books5", "top5", 5), ("bbo-tbt", "bbo", 1)):
                s = self._stream(channel, inst)
                if not self.has_subscribers(s):
                    continue
                sig = (tuple(book.top(BID, n)), tuple(book.top(ASK, n)))
                if sig != getattr(inst, attr):
                    setattr(inst, attr, sig)
                    self.emit(s, self._top_push(inst, channel))

    def _heartbeat(self, inst: _Inst) -> None:
        stream = self._stream("books", inst)
        data = {
            "asks": [],
            "bids": [],
            "ts": str(time.time_ns() // 1_000_000),
            "checksum": self._crc(inst) if self.checksum == "real" else 0,
            "prevSeqId": inst.seq,
            "seqId": inst.seq,
        }
        msg = {
            "arg": {"channel": "books", "instId": inst.spec.venue_symbol},
            "action": "update",
            "data": [data],
        }
        self.emit(stream, msg)
        inst.last_push = asyncio.get_running_loop().time()

    # ---- REST --------------------------------------------------------------------------

    async def _h_books(self, request: web.Request) -> web.Response:
        q = request.query
        inst_id = q.get("instId", "")
        if not inst_id:
            body = {"code": "50014", "msg": "Parameter instId can not be empty", "data": []}
            return web.Response(text=dumps(body), status=400, content_type="application/json")
        inst = self._insts.get(inst_id)
        if inst is None:
            body = {
                "code": "51001",
                "msg": "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
                "data": [],
            }
            return web.Response(text=dumps(body), content_type="application/json")
        try:
            sz = min(max(int(q.get("sz", "1")), 1), BOOKS_DEPTH)
        except ValueError:
            body = {"code": "50024", "msg": "Parameter sz error", "data": []}
            return web.Response(text=dumps(body), status=400, content_type="application/json")
        data = {
            "asks": self._levels(inst.fmt, self._top(inst, ASK, sz)),
            "bids": self._levels(inst.fmt, self._top(inst, BID, sz)),
            "ts": str(time.time_ns() // 1_000_000),
            "seqId": inst.seq,
        }
        reply: dict[str, Any] = {"code": "0", "msg": "", "data": [data]}
        return web.Response(text=dumps(reply), content_type="application/json")

    def rest_books_url(self, inst_id: str, sz: int = 400) -> str:
        """URL of the REST order book."""
        return f"{self.url}/api/v5/market/books?instId={inst_id}&sz={sz}"

    # ---- faults, ids, config -----------------------------------------------------------

    def _apply_venue_fault(self, fault: Fault) -> bool:
        if fault.kind == "heartbeat":
            for inst in self._insts.values():
                if fault.matches(inst.spec):
                    self._heartbeat(inst)
            return True
        return False

    def true_book(
        self, symbol: str, category: str | None = None, depth: int | None = None
    ) -> dict[str, Any]:
        """The true book (all levels) plus the checksum of its top 25, as OKX computes it."""
        out = super().true_book(symbol, category, depth)
        inst = self._insts[self.resolve(symbol, category).venue_symbol]
        out["checksum"] = self._crc(inst)
        return out

    def _book_ids(self, spec: InstrumentSpec) -> dict[str, Any]:
        return {"seqId": self._insts[spec.venue_symbol].seq}

    def _config(self) -> dict[str, Any]:
        return {
            "checksum": self.checksum,
            "initial_snapshot": self.initial_snapshot,
            "heartbeat_s": self.heartbeat_s,
            "idle_timeout": self.idle_timeout,
        }

    def _set_config(self, key: str, value: Any) -> None:
        if key == "checksum":
            if value not in ("zero", "real"):
                raise ValueError("checksum must be 'zero' or 'real'")
            self.checksum = value
        elif key == "initial_snapshot":
            self.initial_snapshot = bool(value)
        elif key in ("heartbeat_s", "idle_timeout"):
            setattr(self, key, float(value))
        else:
            super()._set_config(key, value)
