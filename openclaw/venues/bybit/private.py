"""Bybit private stream (``/v5/private``): ``auth`` as on ``/v5/trade``, then
``{"op":"subscribe","args":["order","execution"]}``. The ``order`` topic carries the order's
cumulative state (``orderStatus``, ``cumExecQty``, ``cumExecValue``, ``cumExecFee``); the
``execution`` topic each trade (``execId``), pushed just before it (docs/venues/bybit.md).
State is taken from ``order`` (cumulative, so any gap heals); executions are counted."""

from __future__ import annotations

import hmac
import time
from typing import Any

import orjson
import websockets

from openclaw.execution.stream import OrderUpdate, PrivateStream, StreamLoginError, dec

__all__ = ["BybitPrivateStream"]

_STATUS = {"New": "open", "PartiallyFilled": "open", "Untriggered": "open", "Filled": "closed",
           "Cancelled": "canceled", "PartiallyFilledCanceled": "canceled",
           "Deactivated": "canceled", "Rejected": "rejected"}


class BybitPrivateStream(PrivateStream):
    """Order updates of the account from the ``order`` topic (``execution`` counted)."""

    venue = "bybit"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executions = 0

    def _ping_frame(self) -> str | None:
        return '{"op":"ping"}'

    async def _handshake(self, ws: websockets.ClientConnection) -> None:
        expires = str(int(time.time() * 1000) + 10_000)
        sign = hmac.new(self._secret, f"GET/realtime{expires}".encode(), "sha256").hexdigest()
        auth = {"req_id": "auth", "op": "auth", "args": [self._key, expires, sign]}
        reply = await self._request(ws, orjson.dumps(auth).decode(),
                                    lambda m: m.get("op") == "auth")
        if not reply.get("success"):
            raise StreamLoginError(f"bybit auth: {reply.get('ret_msg')}")
        sub = {"req_id": "sub", "op": "subscribe", "args": ["order", "execution"]}
        reply = await self._request(ws, orjson.dumps(sub).decode(),
                                    lambda m: m.get("op") == "subscribe")
        if not reply.get("success"):
            raise StreamLoginError(f"bybit subscribe: {reply.get('ret_msg')}")

    def parse(self, msg: dict[str, Any]) -> list[OrderUpdate]:
        topic = msg.get("topic")
        data = msg.get("data")
        if not isinstance(data, list):
            return []
        if topic == "execution":
            self.executions += len(data)
            return []
        if topic != "order":
            return []
        out = []
        for d in data:
            if not isinstance(d, dict) or not d.get("orderLinkId") or d.get(
                    "category", "spot") != "spot":
                continue
            filled = dec(d.get("cumExecQty"))
            value = dec(d.get("cumExecValue"))
            fee_ccy = next(iter(d.get("cumFeeDetail") or {}), None) or d.get("feeCurrency")
            out.append(OrderUpdate(
                client_id=str(d["orderLinkId"]), venue_order_id=str(d.get("orderId")),
                status=_STATUS.get(str(d.get("orderStatus")), "open"), filled=filled,
                average=value / filled if filled else None,
                fee_cost=dec(d.get("cumExecFee")) if fee_ccy else None,
                fee_asset=fee_ccy or None))
        return out
