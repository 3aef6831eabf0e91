"""Binance spot WebSocket API (``/ws-api/v3``): ``order.place``, ``order.cancel``,
``order.status``, each signed per request with HMAC-SHA256.

Formats (docs/fast-routes.md, from binance-spot-api-docs ``web-socket-api.md``): a request is
``{"id", "method", "params"}``; a SIGNED request carries ``apiKey``, ``timestamp``,
``recvWindow`` and ``signature`` = hex HMAC-SHA256 of every other param as ``k=v`` joined by
``&`` **sorted by name**. Replies are ``{"id", "status", "result"}`` or ``{"id", "status",
"error": {"code", "msg"}}``; status 4xx means refused, 5xx means the outcome is unknown.
``session.logon`` exists only for Ed25519 keys, so with HMAC keys there is no login: every
request is signed (the templates below are already in sorted order, one HMAC per order).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from openclaw.execution.fast.base import (
    FastRoute,
    ReplyLost,
    RouteDown,
    VenueRejected,
    json_str,
    plain,
)
from openclaw.execution.orders import Order, OrderType

__all__ = ["BinanceFastRoute", "binance_unified"]

_STATUS = {
    "NEW": "open",
    "PARTIALLY_FILLED": "open",
    "PENDING_NEW": "open",
    "PENDING_CANCEL": "open",
    "FILLED": "closed",
    "CANCELED": "canceled",
    "REJECTED": "rejected",
    "EXPIRED": "expired",
    "EXPIRED_IN_MATCH": "expired",
}
_SIDE = {"buy": "BUY", "sell": "SELL"}


def binance_unified(result: dict[str, Any]) -> dict[str, Any]:
    """A Binance order record (FULL/RESULT reply, query, cancel) in ccxt's unified shape."""
    oid = result.get("orderId")
    if oid is None:
        raise ReplyLost("binance: reply without an orderId")
    executed = result.get("executedQty")
    avg = None
    if executed is not None and Decimal(executed) > 0:
        cq = result.get("cummulativeQuoteQty")
        if cq is None or Decimal(cq) <= 0:
            raise ReplyLost("binance: filled reply without cummulativeQuoteQty")
        avg = Decimal(cq) / Decimal(executed)
    fee = None
    fills = result.get("fills")
    if fills:
        costs: dict[str, Decimal] = {}
        for f in fills:
            asset = f.get("commissionAsset")
            if asset:
                costs[asset] = costs.get(asset, Decimal(0)) + Decimal(f.get("commission", "0"))
        if len(costs) == 1:
            (asset, cost), = costs.items()
            fee = {"cost": cost, "currency": asset}
        elif len(costs) > 1:
            raise ReplyLost(f"binance: fees in several assets {sorted(costs)} (not supported)")
    status = result.get("status")
    return {"id": str(oid), "clientOrderId": result.get("clientOrderId"),
            "status": _STATUS.get(status, "open") if status else None,
            "filled": executed, "average": avg, "fee": fee}


class BinanceFastRoute(FastRoute):
    """Binance spot order entry over the WebSocket API with per-request HMAC signatures."""

    venue = "binance"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._key_json = json_str(self._key)
        self._symbols: dict[str, str] = {}

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/USDT`` -> ``BTCUSDT`` (cached)."""
        s = self._symbols.get(symbol)
        if s is None:
            base, sep, quote = symbol.partition("/")
            if not (sep and base.isalnum() and quote.isalnum()):
                raise ValueError(f"binance: symbol {symbol!r} is not BASE/QUOTE")
            s = self._symbols[symbol] = base + quote
        return s

    def _reply_id(self, msg: dict[str, Any]) -> str | None:
        rid = msg.get("id")
        return rid if isinstance(rid, str) else None

    def _build_place(self, order: Order) -> tuple[str, bytes]:
        cid = order.client_id
        sym = self._symbols.get(order.symbol) or self.venue_symbol(order.symbol)
        side = _SIDE[order.side]
        qty = plain(order.qty)
        rw = self.config.recv_window_ms
        ts = time.time_ns() // 1_000_000
        if order.order_type is OrderType.LIMIT:
            px = plain(order.price)
            sig = self.sign_hex(
                f"apiKey={self._key}&newClientOrderId={cid}&newOrderRespType=FULL&price={px}"
                f"&quantity={qty}&recvWindow={rw}&side={side}&symbol={sym}&timeInForce=IOC"
                f"&timestamp={ts}&type=LIMIT".encode())
            frame = (f'{{"id":"{cid}","method":"order.place","params":{{"apiKey":{self._key_json},'
                     f'"newClientOrderId":"{cid}","newOrderRespType":"FULL","price":"{px}",'
                     f'"quantity":"{qty}","recvWindow":{rw},"side":"{side}","symbol":"{sym}",'
                     f'"timeInForce":"IOC","timestamp":{ts},"type":"LIMIT",'
                     f'"signature":"{sig}"}}}}')
        else:
            sig = self.sign_hex(
                f"apiKey={self._key}&newClientOrderId={cid}&newOrderRespType=FULL"
                f"&quantity={qty}&recvWindow={rw}&side={side}&symbol={sym}"
                f"&timestamp={ts}&type=MARKET".encode())
            frame = (f'{{"id":"{cid}","method":"order.place","params":{{"apiKey":{self._key_json},'
                     f'"newClientOrderId":"{cid}","newOrderRespType":"FULL",'
                     f'"quantity":"{qty}","recvWindow":{rw},"side":"{side}","symbol":"{sym}",'
                     f'"timestamp":{ts},"type":"MARKET","signature":"{sig}"}}}}')
        return cid, frame.encode()

    def _check(self, msg: dict[str, Any]) -> dict[str, Any]:
        status = msg.get("status")
        if status == 200:
            result = msg.get("result")
            if not isinstance(result, dict):
                raise ReplyLost("binance: status 200 without a result object")
            return result
        err = msg.get("error") or {}
        code, text = str(err.get("code", "")), str(err.get("msg", ""))
        if not isinstance(status, int) or status >= 500:
            # the docs: a 5xx "does not necessarily mean that your request has failed"
            raise ReplyLost(f"binance status {status} {code}: {text}")
        raise VenueRejected("binance", code, text, rate_limited=status in (418, 429))

    def _parse_place(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return binance_unified(self._check(msg))

    def _signed_by_client_id(self, method: str, order: Order, rid: str) -> bytes:
        cid = order.client_id
        sym = self.venue_symbol(order.symbol)
        rw = self.config.recv_window_ms
        ts = time.time_ns() // 1_000_000
        sig = self.sign_hex(f"apiKey={self._key}&origClientOrderId={cid}&recvWindow={rw}"
                            f"&symbol={sym}&timestamp={ts}".encode())
        return (f'{{"id":"{rid}","method":"{method}","params":{{"apiKey":{self._key_json},'
                f'"origClientOrderId":"{cid}","recvWindow":{rw},"symbol":"{sym}",'
                f'"timestamp":{ts},"signature":"{sig}"}}}}').encode()

    def _build_cancel(self, order: Order, rid: str) -> tuple[str, bytes]:
        return rid, self._signed_by_client_id("order.cancel", order, rid)

    def _parse_cancel(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return binance_unified(self._check(msg))

    async def status(self, order: Order) -> dict[str, Any]:
        """``order.status`` by client id: the venue's record in ccxt's unified shape."""
        ws = self._ws
        if not self._up or ws is None:
            raise RouteDown("binance: fast route is down")
        rid = self._next_rid()
        msg = await self._request(ws, rid, self._signed_by_client_id("order.status", order, rid),
                                  0)
        return binance_unified(self._check(msg))
