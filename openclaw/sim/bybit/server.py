"""Bybit v5 public order-book simulator: ``/v5/public/spot|linear`` and the REST order book.

Protocol as in docs/venues/bybit.md §3:

* ``{"op":"subscribe","args":["orderbook.50.BTCUSDT"],"req_id":".."}`` -> one reply per request
  (spot: ``ret_msg:"subscribe"``, ``req_id`` only when sent; linear: ``ret_msg:""`` and
  ``req_id`` always present); a failure reply has ``success:false`` and Bybit's message
  (``Invalid symbol :[topic]``, ``error:handler not found,topic:..``,
  ``error:already subscribed,topic:..``); spot accepts at most 10 args per request;
* ``orderbook.{1,50,200,1000}.{symbol}``: a ``snapshot`` first, then ``delta``s with ``u`` + 1 per
  message per topic, rising ``seq``, ``ts`` and ``cts``; the book is kept at exactly the topic's
  depth (levels entering/leaving the window are sent); key order differs per category (spot
  ``topic,ts,type,data,cts``; linear ``topic,type,ts,data,cts``); prices and sizes are trimmed
  on spot and keep the tick/lot decimals on linear;
* depth 1 is snapshot-only and is re-pushed with the same ``u`` after 3 s without change;
* ``{"op":"ping"}`` -> pong (shape per category); idle connections close after 10 minutes;
* ``GET /v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=200`` whose ``u`` is the ``u`` of
  the 1000-level topic.

Extra fault kinds: ``reset`` (a ``u = 1`` snapshot, as after a Bybit service restart) and
``snapshot`` (an unsolicited fresh snapshot with the next ``u``).
"""

from __future__ import annotations

import asyncio
import random
import re
import string
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from openclaw.sim.bybit.rest import BybitTrading
from openclaw.sim.bybit.wsapi import BybitPrivateWsApi, BybitWsApi
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

__all__ = ["BybitSim"]

DEPTHS: dict[str, tuple[int, ...]] = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 1000)}
CATEGORIES = ("spot", "linear", "inverse")
_TOPIC_RE = re.compile(r"^orderbook\.(\d+)\.([A-Za-z0-9]+)$")
_CONN_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class _Topic:
    spec: InstrumentSpec
    depth: int
    name: str  # "orderbook.50.BTCUSDT"
    stream: str  # "spot|orderbook.50.BTCUSDT"
    view: DepthView | None  # None for depth 1 (snapshot-only)
    u: int
    last_top: tuple[Any, ...] | None = None
    last_push: float = 0.0


@dataclass
class _Book:
    spec: InstrumentSpec
    fmt: Formatter
    seq: int
    cts: int = 0
    topics: dict[int, _Topic] = field(default_factory=dict)


class BybitSim(VenueSim):
    """Bybit v5 public order-book simulator (see module docstring)."""

    venue = "bybit"
    venue_faults = ("reset", "snapshot")

    def __init__(
        self,
        market: SyntheticMarket | None = None,
        clock: MarketClock | None = None,
        *,
        level1_repush_s: float = 3.0,
        idle_timeout: float = 600.0,
        max_args_spot: int = 10,
        trading: dict[str, Any] | bool | None = None,
        wsapi: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(market, clock, **kwargs)
        self.level1_repush_s = level1_repush_s
        self.idle_timeout = idle_timeout
        self.max_args_spot = max_args_spot
        self._rng = random.Random(self.market.seed * 7919 + 3)
        self._books: dict[tuple[str, str], _Book] = {}
        for spec in self.market.instruments(self.venue):
            self._books[(spec.category, spec.venue_symbol)] = _Book(
                spec,
                self.market.formatter(spec.key),
                self._rng.randrange(100_000_000_000, 900_000_000_000),
                time.time_ns() // 1_000_000,
            )
        if trading is not False:  # the spot trading REST API on the same port
            opts = trading if isinstance(trading, dict) else {}
            self._attach_trading(BybitTrading(self, **opts))
            if wsapi is not False:  # the trading WebSocket on the same state
                self._attach_wsapi(BybitWsApi(self, self.trading))
                # the private stream (order/execution topics); its faults are the trading
                # WebSocket's (``drop_stream`` is armed through /_sim/fault like the others)
                self.private_ws = BybitPrivateWsApi(self, self.trading)
                self.private_ws.faults = self.wsapi.faults
                self.private_ws.add_routes(self.app)

    # ---- routes ------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        for cat in CATEGORIES:
            app.router.add_get(f"/v5/public/{cat}", self._h_ws)
        app.router.add_get("/v5/market/orderbook", self._h_orderbook)

    def ws_url(self, category: str = "spot") -> str:
        """URL of the public WebSocket of a category."""
        return f"{self.ws_base}/v5/public/{category}"

    async def _h_ws(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, variant=request.path.rsplit("/", 1)[-1])

    def _on_open(self, conn: Conn, initial: Any) -> None:
        conn.meta["category"] = conn.variant
        rnd = random.Random()
        conn.id = (
            "".join(rnd.choice(_CONN_ALPHABET) for _ in range(20))
            + "-"
            + "".join(rnd.choice(_CONN_ALPHABET) for _ in range(5))
        )

    def _periodic(self, now: float) -> None:
        for conn in list(self.conns):
            if not conn.closed and now - max(conn.last_in, conn.last_out) > self.idle_timeout:
                conn.close_soon(1000)
        for book in self._books.values():
            topic = book.topics.get(1)
            if (
                topic is not None
                and now - topic.last_push >= self.level1_repush_s
                and self.has_subscribers(topic.stream)
            ):
                self.emit(topic.stream, self._snapshot(book, topic))
                topic.last_push = now

    # ---- requests ----------------------------------------------------------------------

    def _reply(self, conn: Conn, op: str, success: bool, ret_msg: str, req_id: Any) -> None:
        out: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn.id}
        if conn.meta["category"] == "spot":
            if req_id is not None:
                out["req_id"] = req_id
        else:
            out["req_id"] = "" if req_id is None else req_id
        out["op"] = op
        self.send_json(conn, out)

    def _on_text(self, conn: Conn, text: str) -> None:
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict):
            self._reply(conn, "", False, "error:request not in json format", None)
            return
        op, req_id = req.get("op"), req.get("req_id")
        if op == "ping":
            self._reply(conn, "ping", True, "pong", req_id)
            return
        if op not in ("subscribe", "unsubscribe"):
            self._reply(conn, str(op or ""), False, f"error:unsupported op: {op}", req_id)
            return
        args = req.get("args")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            self._reply(conn, op, False, "error:args must be a list of strings", req_id)
            return
        category = conn.meta["category"]
        if category == "spot" and len(args) > self.max_args_spot:
            self._reply(conn, op, False, f"args size >{self.max_args_spot}", req_id)
            return
        ok_msg = op if category == "spot" else ""
        if op == "unsubscribe":
            for topic_name in args:
                self.unsubscribe(conn, f"{category}|{topic_name}")
            self._reply(conn, op, True, ok_msg, req_id)
            return
        failure: str | None = None
        new: list[tuple[_Book, _Topic]] = []
        for topic_name in args:
            m = _TOPIC_RE.match(topic_name)
            if m is None or int(m.group(1)) not in DEPTHS.get(category, ()):
                failure = failure or f"error:handler not found,topic:{topic_name}"
                continue
            book = self._books.get((category, m.group(2)))
            if book is None:
                failure = failure or f"Invalid symbol :[{topic_name}]"
                continue
            topic = self._topic(book, int(m.group(1)))
            if not self.subscribe(conn, topic.stream):
                failure = failure or f"error:already subscribed,topic:{topic_name}"
                continue
            new.append((book, topic))
        self._reply(conn, op, failure is None, failure or ok_msg, req_id)
        for book, topic in new:
            self.send_frames(topic.stream, [conn], [self._snapshot(book, topic)])
            topic.last_push = asyncio.get_running_loop().time()

    # ---- topics and messages -----------------------------------------------------------

    def _topic(self, book: _Book, depth: int) -> _Topic:
        topic = book.topics.get(depth)
        if topic is None:
            spec = book.spec
            market_book = self.market.book(spec.key)
            name = f"orderbook.{depth}.{spec.venue_symbol}"
            topic = _Topic(
                spec,
                depth,
                name,
                f"{spec.category}|{name}",
                DepthView(market_book, depth) if depth > 1 else None,
                self._rng.randrange(1_000_000, 50_000_000),
            )
            if depth == 1:
                topic.last_top = (tuple(market_book.top(BID, 1)), tuple(market_book.top(ASK, 1)))
            book.topics[depth] = topic
        return topic

    def streams_of(self, spec: InstrumentSpec) -> Collection[str]:
        return [f"{spec.category}|orderbook.{d}.{spec.venue_symbol}" for d in DEPTHS[spec.category]]

    def _message(
        self,
        book: _Book,
        topic: _Topic,
        kind: str,
        bids: list[list[str]],
        asks: list[list[str]],
    ) -> dict[str, Any]:
        ts = max(time.time_ns() // 1_000_000, book.cts)
        data = {"s": book.spec.venue_symbol, "b": bids, "a": asks, "u": topic.u, "seq": book.seq}
        if book.spec.category == "spot":
            return {"topic": topic.name, "ts": ts, "type": kind, "data": data, "cts": book.cts}
        return {"topic": topic.name, "type": kind, "ts": ts, "data": data, "cts": book.cts}

    def _snapshot(self, book: _Book, topic: _Topic) -> dict[str, Any]:
        mb = self.market.book(book.spec.key)
        return self._message(
            book,
            topic,
            "snapshot",
            book.fmt.levels(mb.top(BID, topic.depth)),
            book.fmt.levels(mb.top(ASK, topic.depth)),
        )

    def _on_step(self, step: MarketStep) -> None:
        now = asyncio.get_running_loop().time()
        for book in self._books.values():
            diff = step.diffs.get(book.spec.key)
            if not diff:
                continue
            book.seq += 1 + self._rng.randrange(0, 4000)
            book.cts = time.time_ns() // 1_000_000 - self._rng.randrange(0, 6)
            if not book.topics:
                continue
            mb = self.market.book(book.spec.key)
            faults = self.take_faults(book.spec, [t.stream for t in book.topics.values()])
            for topic in book.topics.values():
                if topic.view is None:
                    top = (tuple(mb.top(BID, 1)), tuple(mb.top(ASK, 1)))
                    if top == topic.last_top:
                        continue
                    topic.last_top = top
                    topic.u += 1
                    if self.has_subscribers(topic.stream):
                        self.emit(topic.stream, self._snapshot(book, topic), faults)
                        topic.last_push = now
                    continue
                bids, asks = topic.view.sync(mb, diff)
                if not bids and not asks:
                    continue
                topic.u += 1
                if self.has_subscribers(topic.stream):
                    msg = self._message(
                        book,
                        topic,
                        "delta",
                        book.fmt.levels(sorted(bids.items(), reverse=True)),
                        book.fmt.levels(sorted(asks.items())),
                    )
                    self.emit(topic.stream, msg, faults)
                    topic.last_push = now

    # ---- REST --------------------------------------------------------------------------

    @staticmethod
    def _rest(ret_code: int, ret_msg: str, result: dict[str, Any]) -> web.Response:
        body = {
            "retCode": ret_code,
            "retMsg": ret_msg,
            "result": result,
            "retExtInfo": {},
            "time": time.time_ns() // 1_000_000,
        }
        return web.Response(text=dumps(body), content_type="application/json")

    async def _h_orderbook(self, request: web.Request) -> web.Response:
        q = request.query
        category = q.get("category", "")
        if category not in CATEGORIES:
            return self._rest(10001, "params error: Category is invalid", {})
        book = self._books.get((category, q.get("symbol", "")))
        if book is None:
            return self._rest(10001, "params error: symbol invalid", {})
        try:
            limit = int(q.get("limit", "1" if category == "spot" else "25"))
        except ValueError:
            return self._rest(10001, "params error: limit invalid", {})
        limit = min(max(limit, 1), 1000)
        topic = self._topic(book, 1000)
        mb = self.market.book(book.spec.key)
        result = {
            "s": book.spec.venue_symbol,
            "b": book.fmt.levels(mb.top(BID, limit)),
            "a": book.fmt.levels(mb.top(ASK, limit)),
            "ts": time.time_ns() // 1_000_000,
            "u": topic.u,
            "seq": book.seq,
            "cts": book.cts,
        }
        return self._rest(0, "OK", result)

    def rest_orderbook_url(self, symbol: str, category: str = "spot", limit: int = 200) -> str:
        """URL of the REST order book."""
        return f"{self.url}/v5/market/orderbook?category={category}&symbol={symbol}&limit={limit}"

    # ---- faults, ids, config -----------------------------------------------------------

    def _apply_venue_fault(self, fault: Fault) -> bool:
        if fault.kind not in ("reset", "snapshot"):
            return False
        now = asyncio.get_running_loop().time()
        for book in self._books.values():
            if not fault.matches(book.spec):
                continue
            mb = self.market.book(book.spec.key)
            for topic in book.topics.values():
                topic.u = 1 if fault.kind == "reset" else topic.u + 1
                if topic.view is not None:
                    topic.view.reset(mb)
                else:
                    topic.last_top = (tuple(mb.top(BID, 1)), tuple(mb.top(ASK, 1)))
                if self.has_subscribers(topic.stream):
                    self.emit(topic.stream, self._snapshot(book, topic))
                    topic.last_push = now
        return True

    def _book_ids(self, spec: InstrumentSpec) -> dict[str, Any]:
        book = self._books[(spec.category, spec.venue_symbol)]
        return {"seq": book.seq, "u": {str(d): t.u for d, t in sorted(book.topics.items())}}

    def _config(self) -> dict[str, Any]:
        return {
            "level1_repush_s": self.level1_repush_s,
            "idle_timeout": self.idle_timeout,
            "max_args_spot": self.max_args_spot,
        }

    def _set_config(self, key: str, value: Any) -> None:
        if key in ("level1_repush_s", "idle_timeout"):
            setattr(self, key, float(value))
        elif key == "max_args_spot":
            self.max_args_spot = int(value)
        else:
            super()._set_config(key, value)
