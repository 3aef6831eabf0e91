"""Helpers for the trading WebSocket API tests: a third-party client written from the venues'
documentation (the ``websockets`` library, hand-computed signatures), plus ccxt for the REST
side.  Nothing here imports the simulators' signing or matching code, nor openclaw.execution.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any, TypeVar

import websockets

from openclaw.sim.okx.rest import inst_id_code
from support.aio import deadline
from support.ccxtclient import (  # noqa: F401 (VENUES: for the tests)
    API_KEY,
    PASSPHRASE,
    SECRET,
    VENUES,
    make_client,
    sim_get,
    sim_post,
)

T = TypeVar("T")

WS_KEY = {"binance": "ws_api", "okx": "ws_private", "bybit": "ws_trade"}
SYMBOL = {"binance": "BTCUSDT", "okx": "BTC-USDT", "bybit": "BTCUSDT"}


run = deadline(30.0)


def now_ms() -> int:
    """Wall clock in ms."""
    return time.time_ns() // 1_000_000


# ---- signatures, as the venues document them ---------------------------------------------


def binance_signed(params: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """Add ``signature``: HMAC-SHA256 hex of ``k=v`` pairs sorted by name, joined by ``&``."""
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return {**params, "signature": sig}


def okx_login_args(
    key: str = API_KEY,
    secret: str = SECRET,
    passphrase: str = PASSPHRASE,
    ts: str | None = None,
) -> dict[str, str]:
    """OKX login arg: sign = Base64(HMAC-SHA256(timestamp + 'GET' + '/users/self/verify'))."""
    ts = ts if ts is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), (ts + "GET/users/self/verify").encode(), hashlib.sha256)
    sign = base64.b64encode(digest.digest()).decode()
    return {"apiKey": key, "passphrase": passphrase, "timestamp": ts, "sign": sign}


def bybit_auth_args(
    key: str = API_KEY, secret: str = SECRET, expires: int | None = None
) -> list[Any]:
    """Bybit auth args: [key, expires, hex HMAC-SHA256('GET/realtime' + expires)]."""
    expires = expires if expires is not None else now_ms() + 10_000
    sig = hmac.new(secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    return [key, expires, sig]


# ---- a minimal WebSocket request/response client ------------------------------------------


class WsClient:
    """One WebSocket: send JSON, collect replies by id, keep pushes apart."""

    def __init__(self, ws: Any, id_field: str) -> None:
        self.ws = ws
        self.id_field = id_field
        self.pushes: list[Any] = []
        self.replies: list[Any] = []

    @classmethod
    async def open(cls, url: str, id_field: str) -> WsClient:
        """Connect (no compression, as a latency-minded client would)."""
        ws = await websockets.connect(url, compression=None, open_timeout=10)
        return cls(ws, id_field)

    async def close(self) -> None:
        """Close the socket."""
        await self.ws.close()

    async def send(self, obj: Any) -> None:
        """Send one JSON (or raw text) frame."""
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def recv(self, timeout: float = 10.0) -> Any:
        """The next frame, JSON-decoded when it is JSON."""
        text = await asyncio.wait_for(self.ws.recv(), timeout)
        try:
            return json.loads(text)
        except ValueError:
            return text

    async def reply_to(self, rid: Any, timeout: float = 10.0) -> Any:
        """The next frame carrying ``rid`` in the id field; other frames are kept as pushes."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no reply to {rid!r}")
            msg = await self.recv(left)
            if isinstance(msg, dict) and msg.get(self.id_field) == rid:
                self.replies.append(msg)
                return msg
            self.pushes.append(msg)

    async def request(self, obj: dict[str, Any], timeout: float = 10.0) -> Any:
        """Send a request and wait for the reply with its id."""
        await self.send(obj)
        return await self.reply_to(obj.get(self.id_field), timeout)

    async def silent_for(self, seconds: float) -> bool:
        """True if nothing arrives for ``seconds`` (used for withheld replies)."""
        try:
            msg = await self.recv(seconds)
        except TimeoutError:
            return True
        self.pushes.append(msg)
        return False


# ---- REST: control endpoints and ccxt -----------------------------------------------------


async def fault(base: str, kind: str, **params: Any) -> dict[str, Any]:
    """``POST /_sim/fault``; asserts it was accepted."""
    status, body = await sim_post(base, "/_sim/fault", {"kind": kind, **params})
    assert status == 200, body
    return body


async def balances(base: str) -> dict[str, dict[str, Decimal]]:
    """``GET /_sim/balances`` as Decimals."""
    raw = (await sim_get(base, "/_sim/balances"))["balances"]
    return {a: {k: Decimal(v) for k, v in b.items()} for a, b in raw.items()}


async def orders(base: str) -> list[dict[str, Any]]:
    """``GET /_sim/orders``."""
    return (await sim_get(base, "/_sim/orders"))["orders"]


async def best(base: str, symbol: str) -> tuple[Decimal, Decimal]:
    """Best bid and ask of the true book."""
    book = await sim_get(base, f"/_sim/book?symbol={symbol}&depth=1")
    return Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])


def make_ccxt(venue: str, base: str) -> Any:
    """A ccxt async client pointed at the simulator (as docs/venues/ccxt.md §1 describes)."""
    return make_client(venue, base)


async def fetch_by_client_id(ex: Any, venue: str, cid: str) -> dict[str, Any]:
    """ccxt ``fetch_order`` by client order id over REST."""
    params = {"orderLinkId": cid} if venue == "bybit" else {"clientOrderId": cid}
    return await ex.fetch_order(None, "BTC/USDT", params)


# ---- per-venue WebSocket sessions -----------------------------------------------------------


class VenueWs:
    """A logged-in trading WebSocket of one venue with place / cancel in its own dialect."""

    def __init__(self, venue: str, client: WsClient) -> None:
        self.venue = venue
        self.client = client
        self._n = 0

    def next_id(self) -> str:
        """A fresh request id."""
        self._n += 1
        return f"r{self._n}"

    @classmethod
    async def connect(cls, sims: Any, venue: str, login: bool = True) -> VenueWs:
        """Open the venue's trading socket (and log in unless ``login=False``)."""
        url = sims.urls[venue][WS_KEY[venue]]
        field = {"binance": "id", "okx": "id", "bybit": "reqId"}[venue]
        self = cls(venue, await WsClient.open(url, field))
        if login:
            await self.login()
        return self

    async def login(self) -> Any:
        """OKX login / Bybit auth; Binance signs every request instead."""
        c = self.client
        if self.venue == "okx":
            await c.send({"op": "login", "args": [okx_login_args()]})
            msg = await c.recv()
            assert msg.get("event") == "login" and msg.get("code") == "0", msg
            return msg
        if self.venue == "bybit":
            msg = await c.request(
                {"reqId": self.next_id(), "op": "auth", "args": bybit_auth_args()}
            )
            assert msg["retCode"] == 0, msg
            return msg
        return None

    async def place(self, side: str, qty: str, price: str | None, cid: str, **extra: Any) -> Any:
        """Place a spot BTC/USDT order (limit GTC with ``price``, else market sized in base)."""
        rid = self.next_id()
        if self.venue == "binance":
            params: dict[str, Any] = {
                "symbol": "BTCUSDT",
                "side": side.upper(),
                "type": "LIMIT" if price else "MARKET",
                "quantity": qty,
                "newClientOrderId": cid,
                "apiKey": API_KEY,
                "timestamp": now_ms(),
            }
            if price:
                params.update({"price": price, "timeInForce": "GTC"})
            params.update(extra)
            req = {"id": rid, "method": "order.place", "params": binance_signed(params)}
        elif self.venue == "okx":
            arg: dict[str, Any] = {
                "instIdCode": inst_id_code("BTC-USDT"),
                "tdMode": "cash",
                "clOrdId": cid,
                "side": side,
                "ordType": "limit" if price else "market",
                "sz": qty,
            }
            if price:
                arg["px"] = price
            else:
                arg["tgtCcy"] = "base_ccy"
            arg.update(extra)
            req = {"id": rid, "op": "order", "args": [arg]}
        else:
            arg = {
                "category": "spot",
                "symbol": "BTCUSDT",
                "side": side.capitalize(),
                "orderType": "Limit" if price else "Market",
                "qty": qty,
                "orderLinkId": cid,
            }
            if price:
                arg.update({"price": price, "timeInForce": "GTC"})
            else:
                arg["marketUnit"] = "baseCoin"
            arg.update(extra)
            req = {
                "reqId": rid,
                "header": {"X-BAPI-TIMESTAMP": str(now_ms()), "X-BAPI-RECV-WINDOW": "5000"},
                "op": "order.create",
                "args": [arg],
            }
        await self.client.send(req)
        return rid

    async def place_wait(self, *args: Any, **kw: Any) -> Any:
        """``place`` and wait for its reply."""
        rid = await self.place(*args, **kw)
        return await self.client.reply_to(rid)

    async def cancel(self, cid: str) -> Any:
        """Cancel by client order id; the reply."""
        rid = self.next_id()
        if self.venue == "binance":
            params = {
                "symbol": "BTCUSDT",
                "origClientOrderId": cid,
                "apiKey": API_KEY,
                "timestamp": now_ms(),
            }
            req = {"id": rid, "method": "order.cancel", "params": binance_signed(params)}
        elif self.venue == "okx":
            req = {
                "id": rid,
                "op": "cancel-order",
                "args": [{"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": cid}],
            }
        else:
            req = {
                "reqId": rid,
                "header": {"X-BAPI-TIMESTAMP": str(now_ms())},
                "op": "order.cancel",
                "args": [{"category": "spot", "symbol": "BTCUSDT", "orderLinkId": cid}],
            }
        return await self.client.request(req)

    def accepted(self, reply: Any) -> bool:
        """True if a place/cancel reply says the venue accepted it."""
        if self.venue == "binance":
            return reply.get("status") == 200
        if self.venue == "okx":
            return reply.get("code") == "0" and reply["data"][0]["sCode"] == "0"
        return reply.get("retCode") == 0

    def error_code(self, reply: Any) -> str:
        """The venue error code of a refused request, as a string."""
        if self.venue == "binance":
            return str(reply["error"]["code"])
        if self.venue == "okx":
            if reply.get("code") in ("1", "2") and reply.get("data"):
                return str(reply["data"][0]["sCode"])
            return str(reply["code"])
        return str(reply["retCode"])

    def order_id(self, reply: Any) -> str:
        """The venue order id of an accepted placement."""
        if self.venue == "binance":
            return str(reply["result"]["orderId"])
        if self.venue == "okx":
            return str(reply["data"][0]["ordId"])
        return str(reply["data"]["orderId"])


async def start(**kw: Any) -> Any:
    """Paused simulators on ephemeral ports."""
    from openclaw.sim import start_simulators

    return await start_simulators(seed=11, paused=True, **kw)
